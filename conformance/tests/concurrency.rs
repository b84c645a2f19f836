//! The suite run side by side: results in catalogue order whatever order the
//! cases finish in, and long conversations that hold at `--speed 4`.

use understudy_conformance::schedule::run_jobs_paced;
use understudy_conformance::suite::{case_list, jobs, pacing};
use understudy_conformance::{cases, run_suite, Grade, RunOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_come_back_in_catalogue_order_with_every_case_at_once() {
    // `round-trip` selects cassette cases, the equivalences over them and
    // agent cases: three families, finishing in another order.
    let options = RunOptions {
        speed: 1.0,
        filter: Some("round-trip".into()),
    };
    let catalogue = cases().expect("the catalogue finds every scenario");
    let mut finished = Vec::new();
    let results = run_suite(&catalogue, &options, None, |r, _| {
        finished.push(r.id.clone())
    })
    .await;
    let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
    let listed: Vec<String> = case_list(&catalogue)
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| options.selects(id))
        .collect();
    assert_eq!(ids, listed, "results are not in catalogue order");
    for prefix in ["openai.", "cross.", "agent."] {
        assert!(
            ids.iter().any(|id| id.starts_with(prefix)),
            "no {prefix} case in {ids:?}"
        );
    }
    finished.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(
        finished, sorted,
        "each case is reported once as it finishes"
    );
    for r in &results {
        assert_ne!(r.grade, Grade::Failed, "{}: {:?}", r.id, r.reason);
    }
    // The equivalences compared the cassette cases that ran alongside them.
    let cross = results.iter().find(|r| r.id == "cross.tool.round-trip");
    let detail = &cross.expect("the equivalence ran").checks[0].detail;
    assert!(detail.contains("events agree"), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_conversations_pass_at_speed_four() {
    let catalogue = cases().expect("the catalogue finds every scenario");
    let handover = RunOptions {
        speed: 4.0,
        filter: Some("handover.".into()),
    };
    let compaction = RunOptions {
        filter: Some("compaction.".into()),
        ..handover.clone()
    };
    let mut all = jobs(&catalogue, &handover);
    all.extend(jobs(&catalogue, &compaction));
    assert_eq!(
        all.len(),
        7,
        "three providers, two triggers; and GPT-Live's session limit"
    );
    let pacing = pacing(&all);
    let concurrency = std::num::NonZeroUsize::new(all.len()).unwrap();
    let results = run_jobs_paced(all, concurrency, &pacing, |_, _| {}).await;
    for r in &results {
        assert_eq!(r.grade, Grade::Ok, "{} at speed 4: {:?}", r.id, r.reason);
    }
}
