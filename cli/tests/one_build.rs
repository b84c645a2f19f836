//! The README's quick start is `cargo run -p understudy -- conform`, then
//! `cargo test --workspace`. Cargo builds a dependency once per feature set,
//! so if the tests' graph turns on a feature of a crate the binary's graph
//! also uses, the second command rebuilds that crate and everything above it
//! (it did: ~90 crates, tokio, hyper and syn among them). This test asks
//! cargo for both graphs and fails, naming the crate and the features, when
//! they disagree; the fix is the feature-unification list in
//! `cli/Cargo.toml`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// Each package of a graph (`name vX.Y.Z`, or with its path for ours) and
/// its features, as `cargo tree` resolves them.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn graph(args: &[&str]) -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args(["tree", "--locked", "--offline", "--prefix", "none"])
        .args(["--format", "{p}|{f}"])
        .args(args)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut graph = Graph::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let line = line.trim_end_matches(" (*)");
        let Some((package, features)) = line.split_once('|') else {
            continue;
        };
        graph.entry(package.to_owned()).or_default().extend(
            features
                .split(',')
                .filter(|f| !f.is_empty())
                .map(str::to_owned),
        );
    }
    graph
}

#[test]
fn the_test_suite_builds_no_dependency_of_the_binary_with_other_features() {
    let binary = graph(&["-p", "understudy", "--edges", "normal,build"]);
    let tests = graph(&["--workspace", "--edges", "normal,build,dev"]);
    assert!(
        binary.len() > 50,
        "the binary's graph was read ({} packages)",
        binary.len()
    );
    let differing: Vec<String> = binary
        .iter()
        .filter_map(|(package, features)| {
            let more: Vec<&String> = tests.get(package)?.difference(features).collect();
            (!more.is_empty()).then(|| format!("{package}: tests add {more:?}"))
        })
        .collect();
    assert!(
        differing.is_empty(),
        "`cargo test --workspace` would rebuild these after `cargo run -p understudy` \
         (add the features to the unification list in cli/Cargo.toml):\n{}",
        differing.join("\n")
    );
}
