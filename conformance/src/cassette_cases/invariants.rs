//! Check 2: the invariants every normalised event stream holds, whatever the
//! provider.
//!
//! Each invariant reads the events with the index of the frame each came
//! from ([`Located`]) and, when broken, names that frame:
//!
//! - **responses in pairs**: every `response_created` is ended by one
//!   `response_done` for the same response (a recording marked incomplete
//!   may stop mid-response), and no response is done that was not created
//!   or done twice;
//! - **no output after done**: no audio, transcript, text or tool call for a
//!   response after its `response_done`;
//! - **whole PCM16 at a declared rate**: audio is a whole number of 16-bit
//!   samples, at the rate the session declared (or the dialect's output rate);
//! - **transcripts add up**: a `*_done` text equals its item's deltas joined
//!   (where the provider sent deltas at all);
//! - **tool-call arguments are complete JSON**, and equal their deltas joined.

use super::decode_check::Located;
use std::collections::{HashMap, HashSet};
use understudy_adapters::ModelEvent;

/// What the invariants need besides the events.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The dialect's output sample rate (what audio is at unless the
    /// session declares otherwise).
    pub output_rate: u32,
    /// Whether the recording says it stopped early (a response may be open at the end).
    pub incomplete: bool,
}

/// One invariant: its name and its check.
pub type Invariant = (&'static str, fn(&[Located], &Context) -> Result<(), Broken>);

/// Where and how an invariant broke: the index of the frame whose event broke
/// it, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The cassette frame the offending event came from.
    pub frame: usize,
    /// What is wrong.
    pub why: String,
}

fn broken(frame: usize, why: String) -> Broken {
    Broken { frame, why }
}

/// Every invariant, in report order.
pub const INVARIANTS: &[Invariant] = &[
    ("responses created and done in pairs", paired),
    ("no output after done", no_output_after_done),
    (
        "audio is whole PCM16 samples at a declared rate",
        whole_pcm16,
    ),
    ("transcripts equal their deltas joined", transcripts_add_up),
    (
        "tool-call arguments are complete JSON",
        tool_arguments_complete,
    ),
];

/// Checks every invariant; the first broken one, with its name.
pub fn check_all(events: &[Located], context: &Context) -> Result<(), (&'static str, Broken)> {
    for (name, check) in INVARIANTS {
        check(events, context).map_err(|b| (*name, b))?;
    }
    Ok(())
}

fn paired(events: &[Located], context: &Context) -> Result<(), Broken> {
    let mut open: HashMap<&str, usize> = HashMap::new();
    let mut done: HashSet<&str> = HashSet::new();
    for (frame, event) in events {
        match event {
            ModelEvent::ResponseCreated { response_id } => {
                let again = done.contains(response_id.as_str())
                    || open.insert(response_id, *frame).is_some();
                if again {
                    return Err(broken(
                        *frame,
                        format!("response {response_id} created twice"),
                    ));
                }
            }
            ModelEvent::ResponseDone { response_id, .. } => {
                if open.remove(response_id.as_str()).is_none() {
                    let why = if done.contains(response_id.as_str()) {
                        "done twice"
                    } else {
                        "done but never created"
                    };
                    return Err(broken(*frame, format!("response {response_id} {why}")));
                }
                done.insert(response_id);
            }
            _ => {}
        }
    }
    match open.iter().min_by_key(|(_, frame)| **frame) {
        Some((id, frame)) if !context.incomplete => Err(broken(
            *frame,
            format!("response {id} was created and never done"),
        )),
        _ => Ok(()),
    }
}

/// The response an output event belongs to.
fn output_of(event: &ModelEvent) -> Option<&str> {
    match event {
        ModelEvent::AudioDelta { response_id, .. }
        | ModelEvent::TranscriptDelta { response_id, .. }
        | ModelEvent::TextDelta { response_id, .. }
        | ModelEvent::ToolCallDelta { response_id, .. }
        | ModelEvent::ToolCall { response_id, .. } => Some(response_id),
        _ => None,
    }
}

fn no_output_after_done(events: &[Located], _: &Context) -> Result<(), Broken> {
    let mut finished: HashSet<&str> = HashSet::new();
    for (frame, event) in events {
        if let ModelEvent::ResponseDone { response_id, .. } = event {
            finished.insert(response_id);
        } else if let Some(id) = output_of(event).filter(|id| finished.contains(id)) {
            return Err(broken(
                *frame,
                format!("{} for response {id} after its response_done", event.kind()),
            ));
        }
    }
    Ok(())
}

fn whole_pcm16(events: &[Located], context: &Context) -> Result<(), Broken> {
    let mut declared: HashSet<u32> = HashSet::from([context.output_rate]);
    for (frame, event) in events {
        match event {
            ModelEvent::SessionCreated { output_format, .. }
            | ModelEvent::SessionUpdated { output_format, .. } => {
                declared.extend(output_format.as_ref().map(|f| f.sample_rate));
            }
            ModelEvent::AudioDelta {
                pcm, sample_rate, ..
            } => {
                if pcm.len() % 2 != 0 {
                    return Err(broken(
                        *frame,
                        format!(
                            "{} bytes of audio is not a whole number of 16-bit samples",
                            pcm.len()
                        ),
                    ));
                }
                if !declared.contains(sample_rate) {
                    let mut rates: Vec<&u32> = declared.iter().collect();
                    rates.sort();
                    return Err(broken(
                        *frame,
                        format!("audio at {sample_rate} Hz, but the session declared {rates:?}"),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn transcripts_add_up(events: &[Located], _: &Context) -> Result<(), Broken> {
    // (kind, item) → the deltas joined so far.
    let mut joined: HashMap<(&str, &str), String> = HashMap::new();
    for (frame, event) in events {
        let (kind, item, delta, done) = match event {
            ModelEvent::TranscriptDelta { item_id, delta, .. } => {
                ("transcript", item_id, Some(delta), None)
            }
            ModelEvent::TranscriptDone {
                item_id,
                transcript,
                ..
            } => ("transcript", item_id, None, Some(transcript)),
            ModelEvent::TextDelta { item_id, delta, .. } => ("text", item_id, Some(delta), None),
            ModelEvent::TextDone { item_id, text, .. } => ("text", item_id, None, Some(text)),
            ModelEvent::InputTranscriptDelta { item_id, delta } => {
                ("input transcript", item_id, Some(delta), None)
            }
            ModelEvent::InputTranscriptDone {
                item_id,
                transcript,
                ..
            } => ("input transcript", item_id, None, Some(transcript)),
            _ => continue,
        };
        let key = (kind, item.as_str());
        if let Some(delta) = delta {
            joined.entry(key).or_default().push_str(delta);
        }
        if let Some(done) = done {
            match joined.remove(&key) {
                Some(deltas) if deltas != *done => {
                    return Err(broken(
                        *frame,
                        format!(
                        "the {kind} of item {item} is {done:?} but its deltas join to {deltas:?}"
                    ),
                    ))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn tool_arguments_complete(events: &[Located], _: &Context) -> Result<(), Broken> {
    let mut joined: HashMap<&str, String> = HashMap::new();
    for (frame, event) in events {
        match event {
            ModelEvent::ToolCallDelta {
                call_id,
                arguments_delta,
                ..
            } => joined.entry(call_id).or_default().push_str(arguments_delta),
            ModelEvent::ToolCall {
                call_id, arguments, ..
            } => {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(arguments) {
                    return Err(broken(*frame, format!("tool call {call_id} has arguments that are not complete JSON ({e}): {arguments:?}"
                    )));
                }
                match joined.remove(call_id.as_str()) {
                    Some(deltas) if deltas != *arguments => {
                        return Err(broken(*frame, format!("tool call {call_id} has arguments {arguments:?} but its deltas join to {deltas:?}"
                        )))
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_adapters::{Pcm, ResponseStatus};

    const CONTEXT: Context = Context {
        output_rate: 24_000,
        incomplete: false,
    };

    fn created(id: &str) -> ModelEvent {
        ModelEvent::ResponseCreated {
            response_id: id.into(),
        }
    }

    fn done(id: &str) -> ModelEvent {
        ModelEvent::ResponseDone {
            response_id: id.into(),
            status: ResponseStatus::Completed,
            reason: None,
            error: None,
        }
    }

    fn audio(bytes: usize, rate: u32) -> ModelEvent {
        ModelEvent::AudioDelta {
            response_id: "r".into(),
            item_id: "i".into(),
            pcm: Pcm(vec![0; bytes]),
            sample_rate: rate,
        }
    }

    fn delta(text: &str) -> ModelEvent {
        ModelEvent::TranscriptDelta {
            response_id: "r".into(),
            item_id: "i".into(),
            delta: text.into(),
            phase: None,
        }
    }

    fn transcript(text: &str) -> ModelEvent {
        ModelEvent::TranscriptDone {
            response_id: "r".into(),
            item_id: "i".into(),
            transcript: text.into(),
            phase: None,
        }
    }

    fn call(arguments: &str) -> ModelEvent {
        ModelEvent::ToolCall {
            response_id: "r".into(),
            item_id: "i".into(),
            call_id: "c".into(),
            name: "f".into(),
            arguments: arguments.into(),
        }
    }

    fn located(events: Vec<ModelEvent>) -> Vec<Located> {
        events.into_iter().enumerate().collect()
    }

    #[test]
    fn a_clean_stream_holds_every_invariant() {
        let events = located(vec![
            created("r"),
            audio(480, 24_000),
            delta("Hel"),
            delta("lo"),
            transcript("Hello"),
            call(r#"{"city":"Paris"}"#),
            done("r"),
        ]);
        check_all(&events, &CONTEXT).unwrap();
    }

    #[test]
    fn responses_must_pair() {
        let unfinished = located(vec![created("r"), delta("x")]);
        let why = paired(&unfinished, &CONTEXT).unwrap_err();
        assert_eq!(
            why,
            broken(0, "response r was created and never done".into())
        );
        let incomplete = Context {
            incomplete: true,
            ..CONTEXT
        };
        paired(&unfinished, &incomplete).unwrap();
        let twice = located(vec![created("r"), done("r"), done("r")]);
        assert_eq!(
            paired(&twice, &CONTEXT).unwrap_err(),
            broken(2, "response r done twice".into())
        );
        let orphan = located(vec![done("q")]);
        assert!(paired(&orphan, &CONTEXT)
            .unwrap_err()
            .why
            .contains("never created"));
    }

    #[test]
    fn output_after_done_is_named() {
        let events = located(vec![created("r"), done("r"), delta("late")]);
        let why = no_output_after_done(&events, &CONTEXT).unwrap_err();
        assert_eq!(
            why,
            broken(
                2,
                "transcript_delta for response r after its response_done".into()
            )
        );
    }

    #[test]
    fn audio_must_be_whole_samples_at_a_declared_rate() {
        let odd = located(vec![audio(481, 24_000)]);
        let why = whole_pcm16(&odd, &CONTEXT).unwrap_err();
        assert_eq!(why.frame, 0);
        assert!(why.why.starts_with("481 bytes"), "{why:?}");
        let other_rate = located(vec![audio(480, 16_000)]);
        assert!(whole_pcm16(&other_rate, &CONTEXT)
            .unwrap_err()
            .why
            .contains("audio at 16000 Hz"));
    }

    #[test]
    fn a_missing_delta_breaks_the_transcript() {
        let events = located(vec![delta("Hel"), transcript("Hello")]);
        let why = transcripts_add_up(&events, &CONTEXT).unwrap_err();
        assert_eq!(why.frame, 1);
        assert!(why.why.starts_with("the transcript of item i"), "{why:?}");
        // A provider that sends no deltas at all is not held to them.
        transcripts_add_up(&located(vec![transcript("Hello")]), &CONTEXT).unwrap();
    }

    #[test]
    fn tool_arguments_must_be_complete_json() {
        let cut = located(vec![call(r#"{"city":"Par"#)]);
        let why = tool_arguments_complete(&cut, &CONTEXT).unwrap_err();
        assert_eq!(why.frame, 0);
        assert!(why
            .why
            .starts_with("tool call c has arguments that are not complete JSON"));
    }
}
