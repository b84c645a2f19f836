//! Embeds the reviewed snapshots (`snapshots/*.snap`, written by insta) so the
//! `conform` command can compare against them from any directory.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    // Relative to the package (and the generated code names no absolute path),
    // so a build directory made from another checkout still reads this one's.
    println!("cargo:rerun-if-changed=snapshots");
    let mut entries: Vec<(String, String)> = Vec::new();
    if let Ok(read) = std::fs::read_dir(&dir) {
        for entry in read.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "snap") {
                let id = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let file = entry.file_name().to_string_lossy().into_owned();
                println!("cargo:rerun-if-changed=snapshots/{file}");
                entries.push((id, format!("/snapshots/{file}")));
            }
        }
    }
    entries.sort();
    let mut code = String::from("/// Reviewed snapshots by case id (insta `.snap` text).\npub static SNAPSHOTS: &[(&str, &str)] = &[\n");
    for (id, path) in entries {
        let _ = writeln!(
            code,
            "    ({id:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {path:?}))),"
        );
    }
    code.push_str("];\n");
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("snapshots.rs");
    std::fs::write(out, code).expect("write generated snapshots table");
}
