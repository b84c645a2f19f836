//! Reviewed snapshots: every runnable case's normalised events, reviewed with
//! insta (`cargo insta review`, or `INSTA_UPDATE=always` then `git diff`).
//! The `conform` command compares against these same files at run time.

use understudy_conformance::{cases, run_case, Grade, RunOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_matches_its_reviewed_snapshot() {
    let options = RunOptions {
        speed: 4.0,
        filter: None,
    };
    for case in cases() {
        let result = run_case(&case, &options).await;
        if result.grade == Grade::Unimplemented {
            continue;
        }
        let evidence = result
            .evidence
            .as_ref()
            .unwrap_or_else(|| panic!("{} did not run: {:?}", case.id, result.reason));
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            description => case.description,
        }, {
            insta::assert_json_snapshot!(case.id.clone(), evidence.events);
        });
    }
}
