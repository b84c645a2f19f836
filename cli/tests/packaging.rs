//! `scripts/package-check.sh`: `cargo package` for every publishable crate,
//! in dependency order, without verification (building every crate again from
//! its tarball costs minutes; `scripts/package-check.sh --verify` does it by
//! hand), then the checks on what crates.io would receive (size limit,
//! README and LICENSE inside, versions on the inter-crate dependencies).

mod support;

use std::process::Command;

use support::repo;

/// The workspace members that may be published.
fn publishable() -> Vec<String> {
    let root = std::fs::read_to_string(repo().join("Cargo.toml")).expect("Cargo.toml");
    let start = root.find("members = [").expect("members") + 11;
    let len = root[start..].find(']').expect("the list's end");
    root[start..start + len]
        .split(',')
        .map(|m| m.trim().trim_matches('"'))
        .filter(|m| !m.is_empty())
        .filter_map(|dir| {
            let manifest =
                std::fs::read_to_string(repo().join(dir).join("Cargo.toml")).expect("a manifest");
            if manifest.contains("\npublish = false") {
                return None;
            }
            let name = manifest
                .lines()
                .find_map(|l| l.strip_prefix("name = \""))
                .expect("a name");
            Some(name.trim_end_matches('"').to_owned())
        })
        .collect()
}

#[test]
fn every_publishable_crate_packages_with_its_readme_and_license() {
    let crates = publishable();
    assert_eq!(crates.len(), 7, "{crates:?}");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let cargo_dir = std::path::Path::new(&cargo)
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let path = format!("{cargo_dir}:{}", std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .arg(repo().join("scripts/package-check.sh"))
        .arg("--allow-dirty")
        .env("PATH", path)
        .output()
        .expect("run scripts/package-check.sh");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "package-check failed:\n{log}");
    for name in &crates {
        assert!(
            log.contains(&format!(
                "package-check: {name} {}: ",
                env!("CARGO_PKG_VERSION")
            )) && !log.contains(&format!("package-check: {name}: ")),
            "{name} was not packaged cleanly:\n{log}"
        );
    }
}
