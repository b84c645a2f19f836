//! Response scheduling: what a response says and when each of its frames
//! goes out.
//!
//! [`Responder::start_response`] settles the response's plan (the session's
//! settings under the `response.create` overrides), asks the reply rule what
//! to do (speak or call a tool), and lays the whole response out on the
//! timeline at once: `response.created`, the output item 20 ms later, the
//! first delta after `first_audio_ms`, one delta per chunk at `pace`, then the
//! closing events. Nothing is generated later: what went out by a given
//! instant is known from the schedule kept in [`Active`], which is what
//! cancellation (in `cancel.rs`) reads. A `max_output_tokens` cut shortens the
//! words and ends the response `incomplete`.
//!
//! The pure pieces ([`cut_to_words`], [`words_per_chunk`], [`split_arguments`])
//! decide the text; the methods only place events.

use super::{Responder, RATE};
use crate::openai::plan::ResponsePlan;
use crate::openai::reply::{decide, Reply};
use crate::responder_config::ANSWER_MS;
use serde_json::Value;
use std::sync::Arc;
use tokio::time::Instant;
use understudy_adapters::audio::Pcm;
use understudy_adapters::openai::wire::client::ResponseCreate;
use understudy_adapters::openai::wire::objects::{ContentPart, Item, Tool};
use understudy_adapters::openai::wire::server::{
    ContentDelta, FunctionCallArgumentsDelta, FunctionCallArgumentsDone, ItemEvent,
    OutputItemEvent, ResponseEvent,
};
use understudy_adapters::openai::wire::ServerEvent;
use understudy_adapters::openai::Dialect;

/// What an in-progress response is producing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Output {
    Audio,
    Text,
    Call,
}

/// How a response that ran to its end finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// Said everything.
    Completed,
    /// Stopped at the response's `max_output_tokens`.
    MaxOutputTokens,
}

impl Ending {
    /// The response's status and `status_details.reason`.
    fn status(self) -> (&'static str, Option<&'static str>) {
        match self {
            Ending::Completed => ("completed", None),
            Ending::MaxOutputTokens => ("incomplete", Some("max_output_tokens")),
        }
    }

    /// The output item's status.
    fn item_status(self) -> &'static str {
        match self {
            Ending::Completed => "completed",
            Ending::MaxOutputTokens => "incomplete",
        }
    }
}

/// The response being generated, with the schedule needed to know what went out.
#[derive(Debug)]
pub(super) struct Active {
    pub(super) id: String,
    pub(super) item_id: String,
    pub(super) output: Output,
    /// Deadline of each audio (or text) chunk, and the transcript words it carries.
    pub(super) chunks: Vec<(Instant, String)>,
    pub(super) item_announced_at: Instant,
    pub(super) done_at: Instant,
    /// The output item as it will be when complete (out-of-band responses
    /// keep it only here, not in the conversation).
    pub(super) item: Item,
}

/// The first `words` words of `text` (each with its trailing space), trimmed.
pub(super) fn cut_to_words(text: &str, words: usize) -> String {
    text.split_inclusive(' ')
        .take(words)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// The words each of `n_chunks` chunks carries: the words spread evenly,
/// in order (a chunk may carry none).
pub(super) fn words_per_chunk(text: &str, n_chunks: usize) -> Vec<String> {
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    (0..n_chunks)
        .map(|i| {
            words
                .iter()
                .enumerate()
                .filter(|(w, _)| w * n_chunks / words.len().max(1) == i)
                .map(|(_, w)| *w)
                .collect()
        })
        .collect()
}

/// A call's arguments in two deltas, split at the middle character.
pub(super) fn split_arguments(arguments: &str) -> [&str; 2] {
    let split = arguments
        .char_indices()
        .nth(arguments.chars().count() / 2)
        .map_or(0, |(i, _)| i);
    [&arguments[..split], &arguments[split..]]
}

impl Responder {
    /// The tools a response may call: its own, else the session's; none under
    /// `tool_choice: "none"` (its own, else the session's).
    fn tools(&self, overrides: Option<&ResponseCreate>) -> Vec<Tool> {
        let params = overrides.and_then(|c| c.response.as_ref());
        let choice = params
            .and_then(|r| r.tool_choice.as_ref())
            .or(self.session.tool_choice.as_ref());
        if choice.and_then(Value::as_str) == Some("none") {
            return Vec::new();
        }
        params
            .and_then(|r| r.tools.clone())
            .or_else(|| self.session.tools.clone())
            .unwrap_or_default()
    }

    /// The instructions a response runs under: its own, else the session's.
    fn instructions<'a>(&'a self, overrides: Option<&'a ResponseCreate>) -> Option<&'a str> {
        overrides
            .and_then(|c| c.response.as_ref())
            .and_then(|r| r.instructions.as_deref())
            .or(self.session.instructions.as_deref())
    }

    /// Starts a response (from `response.create`, or VAD with no overrides)
    /// and schedules all of it.
    pub(super) fn start_response(&mut self, now: Instant, overrides: Option<&ResponseCreate>) {
        self.plan = ResponsePlan::new(
            self.dialect,
            &self.session,
            overrides.and_then(|c| c.response.as_ref()),
        );
        let tools = self.tools(overrides);
        let reply = {
            let conversation = &self.conversation;
            let instructions = self.instructions(overrides);
            decide(conversation.items(), &tools, instructions, |item| {
                conversation.audio_ms(item)
            })
        };
        let output = match (&reply, self.plan.audio) {
            (Reply::Call { .. }, _) => Output::Call,
            (Reply::Speak(_), true) => Output::Audio,
            (Reply::Speak(_), false) => Output::Text,
        };
        let response_id = self.ids.next("resp");
        let item_id = self.ids.next("item");
        let tag: Arc<str> = Arc::from(response_id.as_str());
        let created = ServerEvent::ResponseCreated(ResponseEvent {
            response: self.response_object(&response_id, "in_progress", None, vec![], false),
            ..Default::default()
        });
        self.emit(now, created, Some(&tag));
        let announce_at = now + self.config.delay(20.0);
        let active = match reply {
            Reply::Call { name, arguments } => {
                self.schedule_call(&tag, &item_id, announce_at, name, arguments)
            }
            Reply::Speak(text) => {
                // Under `max_output_tokens` the answer stops early and the
                // response ends incomplete, as the service reports it.
                let (text, ending) = match self.plan.word_limit(&text) {
                    Some(words) => (cut_to_words(&text, words), Ending::MaxOutputTokens),
                    None => (text, Ending::Completed),
                };
                self.schedule_speech(&tag, &item_id, announce_at, output, text, ending)
            }
        };
        self.active = Some(active);
    }

    fn announce_item(&mut self, tag: &Arc<str>, at: Instant, item: Item) {
        let added = ServerEvent::ResponseOutputItemAdded(OutputItemEvent {
            response_id: tag.to_string(),
            output_index: 0,
            item: item.clone(),
            ..Default::default()
        });
        self.emit(at, added, Some(tag));
        if self.plan.out_of_band {
            // Not added to the conversation: no item acknowledgement.
            return;
        }
        let previous = self.conversation.last_id();
        let ack = ItemEvent {
            previous_item_id: Some(previous),
            item,
            ..Default::default()
        };
        let ack = ServerEvent::item_added(self.dialect, ack);
        self.emit(at, ack, Some(tag));
    }

    fn schedule_call(
        &mut self,
        tag: &Arc<str>,
        item_id: &str,
        at: Instant,
        name: String,
        arguments: String,
    ) -> Active {
        let call_id = self.ids.next("call");
        let mut item = Item {
            id: Some(item_id.into()),
            object: Some("realtime.item".into()),
            kind: "function_call".into(),
            status: Some("in_progress".into()),
            call_id: Some(call_id.clone()),
            name: Some(name.clone()),
            arguments: Some(String::new()),
            ..Default::default()
        };
        self.announce_item(tag, at, item.clone());
        let mut t = at + self.config.delay(self.config.first_audio_ms as f64);
        for piece in split_arguments(&arguments) {
            if piece.is_empty() {
                continue;
            }
            let delta = ServerEvent::FunctionCallArgumentsDelta(FunctionCallArgumentsDelta {
                response_id: tag.to_string(),
                item_id: item_id.into(),
                output_index: 0,
                call_id: call_id.clone(),
                delta: piece.into(),
                ..Default::default()
            });
            self.emit(t, delta, Some(tag));
            t += self.config.delay(30.0);
        }
        let done = ServerEvent::FunctionCallArgumentsDone(FunctionCallArgumentsDone {
            response_id: tag.to_string(),
            item_id: item_id.into(),
            output_index: 0,
            call_id,
            // The beta event has no `name` (its SDK schema rejects one).
            name: (self.dialect == Dialect::Ga).then(|| name.clone()),
            arguments: arguments.clone(),
            ..Default::default()
        });
        self.emit(t, done, Some(tag));
        item.status = Some("completed".into());
        item.arguments = Some(arguments);
        self.finish_item(tag, t, item.clone(), "completed", None);
        self.remember(item.clone());
        Active {
            id: tag.to_string(),
            item_id: item_id.into(),
            output: Output::Call,
            chunks: vec![],
            item_announced_at: at,
            done_at: t,
            item,
        }
    }

    fn schedule_speech(
        &mut self,
        tag: &Arc<str>,
        item_id: &str,
        at: Instant,
        output: Output,
        text: String,
        ending: Ending,
    ) -> Active {
        let audio = output == Output::Audio;
        let mut item = Item {
            id: Some(item_id.into()),
            object: Some("realtime.item".into()),
            kind: "message".into(),
            role: Some("assistant".into()),
            status: Some("in_progress".into()),
            content: Some(vec![]),
            ..Default::default()
        };
        self.announce_item(tag, at, item.clone());
        let part = |transcript: &str| ContentPart {
            kind: if audio { "audio" } else { "text" }.into(),
            transcript: audio.then(|| Some(transcript.to_owned())),
            text: (!audio).then(|| transcript.to_owned()),
            ..Default::default()
        };
        self.emit(
            at,
            super::output::content_part(true, tag, item_id, part("")),
            Some(tag),
        );

        let pcm = if audio {
            self.voice_for(&text)
        } else {
            Vec::new()
        };
        let chunk_samples = (RATE as u64 * self.config.chunk_ms / 1000) as usize;
        let n_chunks = if audio {
            pcm.len().div_ceil(chunk_samples.max(1)).max(1)
        } else {
            text.split_inclusive(' ').count().max(1)
        };
        let first = at + self.config.delay(self.config.first_audio_ms as f64);
        let step = if audio {
            self.config.chunk_ms as f64 * self.config.pace
        } else {
            40.0 * self.config.pace
        };
        let mut chunks = Vec::with_capacity(n_chunks);
        for (i, said) in words_per_chunk(&text, n_chunks).into_iter().enumerate() {
            let t = first + self.config.delay(step * i as f64);
            let scope = |delta: String| ContentDelta {
                response_id: tag.to_string(),
                item_id: item_id.into(),
                output_index: 0,
                content_index: 0,
                delta,
                ..Default::default()
            };
            if !said.is_empty() {
                let event = if audio {
                    ServerEvent::audio_transcript_delta(self.dialect, scope(said.clone()))
                } else {
                    ServerEvent::text_delta(self.dialect, scope(said.clone()))
                };
                self.emit(t, event, Some(tag));
            }
            if audio {
                let end = ((i + 1) * chunk_samples).min(pcm.len());
                let bytes = Pcm::from_samples(&pcm[i * chunk_samples..end]).to_base64();
                let event = ServerEvent::audio_delta(self.dialect, scope(bytes));
                self.emit(t, event, Some(tag));
            }
            chunks.push((t, said));
        }
        let end = first + self.config.delay(step * n_chunks as f64);
        self.close_content(tag, item_id, end, audio, &text);
        let (status, reason) = ending.status();
        item.status = Some(ending.item_status().into());
        item.content = Some(vec![super::output::assistant_part(
            self.dialect,
            audio,
            &text,
        )]);
        self.finish_item(tag, end, item.clone(), status, reason);
        self.conversation
            .set_audio_ms(item_id, pcm.len() as f64 * 1000.0 / RATE as f64);
        self.remember(item.clone());
        Active {
            id: tag.to_string(),
            item_id: item_id.into(),
            output,
            chunks,
            item_announced_at: at,
            done_at: end,
            item,
        }
    }

    /// Adds a response's output item to the conversation, unless the
    /// response is out of band (`conversation: "none"`).
    fn remember(&mut self, item: Item) {
        if !self.plan.out_of_band {
            self.conversation.push(item);
        }
    }

    /// The answer's audio: the bundled voice, long enough for the words.
    fn voice_for(&self, text: &str) -> Vec<i16> {
        crate::voice::speak(&self.config.voice, text, RATE, ANSWER_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_limit_keeps_whole_words() {
        assert_eq!(cut_to_words("one two three four", 2), "one two");
        assert_eq!(cut_to_words("one two", 5), "one two");
        assert_eq!(cut_to_words("one", 0), "");
    }

    #[test]
    fn words_spread_evenly_over_chunks_in_order() {
        let chunks = words_per_chunk("a b c d", 2);
        assert_eq!(chunks, vec!["a b ", "c d"]);
        // More chunks than words: some chunks carry none.
        let chunks = words_per_chunk("a b", 4);
        assert_eq!(chunks, vec!["a ", "", "b", ""]);
        assert_eq!(words_per_chunk("a b c", 1), vec!["a b c"]);
        assert_eq!(words_per_chunk("", 1), vec![""]);
        assert_eq!(chunks.concat(), "a b");
    }

    #[test]
    fn arguments_split_at_the_middle_character() {
        assert_eq!(split_arguments(r#"{"a":1}"#), [r#"{"a"#, r#"":1}"#]);
        assert_eq!(split_arguments("ééé"), ["é", "éé"]);
        assert_eq!(split_arguments(""), ["", ""]);
    }
}
