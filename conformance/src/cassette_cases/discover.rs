//! Finding the cassettes `conform --cassettes DIR|FILE…` names, and the
//! stable name each one's cases carry.
//!
//! A file is taken as given (whatever its extension: a file the user named
//! that is not a cassette becomes a FAILED case that says so); a directory
//! is searched recursively for `*.jsonl` files. Each cassette is named by
//! its path below the directory it was found in, without the extension,
//! `/` turned into `.` (`sessions/openai-ga-1.jsonl` → `openai-ga-1`,
//! `day2/a.jsonl` under the directory → `day2.a`), so case ids stay stable
//! wherever the directory lives.

use std::path::{Path, PathBuf};

/// A cassette to grade: where it is and the name its case ids carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The cassette file.
    pub path: PathBuf,
    /// The name in its case ids (`cassette.<name>.<check>`).
    pub name: String,
}

/// Why the paths could not be searched.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// A path given does not exist or cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The file system's complaint.
        #[source]
        source: std::io::Error,
    },
    /// The paths hold no cassette at all.
    #[error("no cassette (*.jsonl) found in {0}")]
    Empty(String),
}

/// The cassettes `paths` name, in the order given (each directory's in path
/// order), each with a name unique in the run.
pub fn find_cassettes(paths: &[PathBuf]) -> Result<Vec<Found>, DiscoverError> {
    let mut found = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| DiscoverError::Read {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files)?;
            files.sort();
            found.extend(files.into_iter().map(|file| {
                let name = name_below(path, &file);
                Found { path: file, name }
            }));
        } else {
            found.push(Found {
                name: stem(path),
                path: path.clone(),
            });
        }
    }
    if found.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(DiscoverError::Empty(shown.join(", ")));
    }
    make_unique(&mut found);
    Ok(found)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DiscoverError> {
    let read = |source| DiscoverError::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let path = entry.map_err(read)?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            out.push(path);
        }
    }
    Ok(())
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cassette".into())
}

fn name_below(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap_or(file).with_extension("");
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(".")
}

/// Suffixes `-2`, `-3`, … to names already taken, so no two cassettes share ids.
fn make_unique(found: &mut [Found]) {
    let mut taken = std::collections::HashSet::new();
    for item in found.iter_mut() {
        let base = item.name.clone();
        let mut n = 1;
        while !taken.insert(item.name.clone()) {
            n += 1;
            item.name = format!("{base}-{n}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{find_cassettes, DiscoverError};

    #[test]
    fn directories_are_searched_and_names_are_unique() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("day2")).unwrap();
        for file in [
            "b.jsonl",
            "a.jsonl",
            "day2/a.jsonl",
            "notes.txt",
            "a.snap.json",
        ] {
            std::fs::write(root.join(file), "").unwrap();
        }
        let found = find_cassettes(&[root.to_path_buf(), root.join("a.jsonl")]).unwrap();
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "day2.a", "a-2"]);
    }

    #[test]
    fn a_missing_path_or_an_empty_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = find_cassettes(&[dir.path().join("nope")]).unwrap_err();
        assert!(matches!(missing, DiscoverError::Read { .. }), "{missing}");
        let empty = find_cassettes(&[dir.path().to_path_buf()]).unwrap_err();
        assert!(empty.to_string().starts_with("no cassette"), "{empty}");
    }
}
