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
    for case in cases().expect("the catalogue finds every scenario") {
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

/// A `gpt-realtime-2.1` turn with a preamble and an answer (synthesized from
/// the item shapes the model sends): the reviewed form shows
/// each message's phase, so a change that drops it shows up here.
#[test]
fn a_preamble_and_its_answer_show_their_phase() {
    use serde_json::json;
    let item = |id: &str, phase: &str| {
        json!({"type": "response.output_item.added", "event_id": "e", "response_id": "resp_1",
               "output_index": 0, "item": {"id": id, "type": "message", "role": "assistant",
               "status": "in_progress", "phase": phase, "content": []}})
    };
    let scoped = |kind: &str, id: &str, field: &str, text: &str| {
        json!({"type": kind, "event_id": "e", "response_id": "resp_1", "item_id": id,
               "output_index": 0, "content_index": 0, field: text})
    };
    let frames = [
        json!({"type": "response.created", "event_id": "e", "response": {"id": "resp_1", "status": "in_progress"}}),
        item("item_P", "commentary"),
        scoped(
            "response.output_audio_transcript.delta",
            "item_P",
            "delta",
            "I'll check the weather for you.",
        ),
        scoped(
            "response.output_audio_transcript.done",
            "item_P",
            "transcript",
            "I'll check the weather for you.",
        ),
        item("item_A", "final_answer"),
        scoped(
            "response.output_audio_transcript.delta",
            "item_A",
            "delta",
            "It is sunny in Paris.",
        ),
        scoped(
            "response.output_audio_transcript.done",
            "item_A",
            "transcript",
            "It is sunny in Paris.",
        ),
        json!({"type": "response.done", "event_id": "e", "response": {"id": "resp_1", "status": "completed"}}),
    ];
    let mut decoder = understudy_adapters::openai::Decoder::new();
    let events: Vec<_> = frames
        .iter()
        .flat_map(|f| decoder.decode_text(&f.to_string()).unwrap())
        .collect();
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        description => "synthesized: a preamble (commentary) then the answer (final_answer)",
    }, {
        insta::assert_json_snapshot!(
            "openai.ga.phase.preamble",
            understudy_conformance::normalize::normalise(&events)
        );
    });
}
