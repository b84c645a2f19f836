//! Embeds the reviewed snapshots (`snapshots/*.snap`, written by insta) so the
//! `conform` command can compare against them from any directory.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut entries: Vec<(String, String)> = Vec::new();
    if let Ok(read) = std::fs::read_dir(&dir) {
        for entry in read.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "snap") {
                println!("cargo:rerun-if-changed={}", path.display());
                let id = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                entries.push((id, path.display().to_string()));
            }
        }
    }
    entries.sort();
    let mut code = String::from("/// Reviewed snapshots by case id (insta `.snap` text).\npub static SNAPSHOTS: &[(&str, &str)] = &[\n");
    for (id, path) in entries {
        let _ = writeln!(code, "    ({id:?}, include_str!({path:?})),");
    }
    code.push_str("];\n");
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("snapshots.rs");
    std::fs::write(out, code).expect("write generated snapshots table");
}
