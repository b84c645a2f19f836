//! The output folder: created private (`0700`) when the recorder makes it; a
//! folder the user made is left as it is, with a warning when others can read it.

use std::path::Path;

/// Creates `dir` (and missing parents) `0700`, or checks an existing one.
/// Returns a warning to show when an existing folder is readable by group or
/// others (recordings hold conversations); its mode is not changed.
pub(crate) fn prepare(dir: &Path) -> std::io::Result<Option<String>> {
    if dir.is_dir() {
        return Ok(exposure(dir));
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    Ok(None)
}

#[cfg(unix)]
fn exposure(dir: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(dir).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| {
        format!(
            "the output folder {} is readable by others (mode {mode:03o}); cassettes are \
             written 0600, but consider `chmod 700` on the folder",
            dir.display()
        )
    })
}

#[cfg(not(unix))]
fn exposure(_dir: &Path) -> Option<String> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_folder_is_0700_and_an_existing_one_is_left_alone_with_a_warning() {
        let root = tempfile::tempdir().unwrap();
        let made = root.path().join("a/b");
        assert_eq!(prepare(&made).unwrap(), None);
        assert_eq!(mode(&made), 0o700);
        let users = root.path().join("users");
        std::fs::create_dir(&users).unwrap();
        std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o755)).unwrap();
        let warning = prepare(&users).unwrap().expect("a warning");
        assert!(warning.contains("755"), "{warning}");
        assert_eq!(mode(&users), 0o755, "not chmodded");
        std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(prepare(&users).unwrap(), None);
    }
}
