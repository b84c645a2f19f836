//! The events that close a response's content, item and the response
//! itself, and the response object they report.
//!
//! A response that runs to its end and one that is cancelled close the same
//! way, only with different words and status: the content part's `*.done`
//! events (audio and transcript, or text), `content_part.done`,
//! `output_item.done` (and GA's `conversation.item.done` unless out of band),
//! then `response.done` with usage. The content part is named per dialect:
//! GA `output_audio`/`output_text`, beta `audio`/`text`.

use super::Responder;
use std::sync::Arc;
use tokio::time::Instant;
use understudy_adapters::openai::wire::objects::{ContentPart, Item, Response, StatusDetails};
use understudy_adapters::openai::wire::server::{
    ContentPartEvent, ContentRef, ItemEvent, OutputItemEvent, ResponseEvent, TextDone,
    TranscriptDone,
};
use understudy_adapters::openai::wire::ServerEvent;
use understudy_adapters::openai::Dialect;

/// `response.content_part.added` (or `.done`) for the response tagged `tag`.
pub(super) fn content_part(
    added: bool,
    tag: &Arc<str>,
    item_id: &str,
    part: ContentPart,
) -> ServerEvent {
    let event = ContentPartEvent {
        response_id: tag.to_string(),
        item_id: item_id.into(),
        output_index: 0,
        content_index: 0,
        part,
        ..Default::default()
    };
    if added {
        ServerEvent::ResponseContentPartAdded(event)
    } else {
        ServerEvent::ResponseContentPartDone(event)
    }
}

/// The content part of an assistant item: GA `output_audio`/`output_text`, beta `audio`/`text`.
pub(super) fn assistant_part(dialect: Dialect, audio: bool, said: &str) -> ContentPart {
    let kind = match (dialect, audio) {
        (Dialect::Ga, true) => "output_audio",
        (Dialect::Ga, false) => "output_text",
        (Dialect::Beta, true) => "audio",
        (Dialect::Beta, false) => "text",
    };
    ContentPart {
        kind: kind.into(),
        transcript: audio.then(|| Some(said.to_owned())),
        text: (!audio).then(|| said.to_owned()),
        ..Default::default()
    }
}

/// `status_details` of a response: none while it runs or when it completed.
fn status_details(done: bool, status: &str, reason: Option<&str>) -> Option<StatusDetails> {
    match (done, status) {
        (true, "completed") | (false, _) => None,
        (true, other) => Some(StatusDetails {
            kind: Some(other.into()),
            reason: reason.map(str::to_owned),
            ..Default::default()
        }),
    }
}

impl Responder {
    /// `*.done` events closing an audio or text part.
    pub(super) fn close_content(
        &mut self,
        tag: &Arc<str>,
        item_id: &str,
        at: Instant,
        audio: bool,
        said: &str,
    ) {
        let scope = ContentRef {
            response_id: tag.to_string(),
            item_id: item_id.into(),
            output_index: 0,
            content_index: 0,
            ..Default::default()
        };
        if audio {
            let done = ServerEvent::audio_done(self.dialect, scope.clone());
            self.emit(at, done, Some(tag));
            let transcript = TranscriptDone {
                response_id: scope.response_id.clone(),
                item_id: scope.item_id.clone(),
                transcript: said.into(),
                ..Default::default()
            };
            let done = ServerEvent::audio_transcript_done(self.dialect, transcript);
            self.emit(at, done, Some(tag));
        } else {
            let text = TextDone {
                response_id: scope.response_id.clone(),
                item_id: scope.item_id.clone(),
                text: said.into(),
                ..Default::default()
            };
            let done = ServerEvent::text_done(self.dialect, text);
            self.emit(at, done, Some(tag));
        }
        let part = ContentPart {
            kind: if audio { "audio" } else { "text" }.into(),
            transcript: audio.then(|| Some(said.to_owned())),
            text: (!audio).then(|| said.to_owned()),
            ..Default::default()
        };
        self.emit(at, content_part(false, tag, item_id, part), Some(tag));
    }

    /// `response.output_item.done`, the GA item `done`, and `response.done`.
    pub(super) fn finish_item(
        &mut self,
        tag: &Arc<str>,
        at: Instant,
        item: Item,
        status: &str,
        reason: Option<&str>,
    ) {
        let done = ServerEvent::ResponseOutputItemDone(OutputItemEvent {
            response_id: tag.to_string(),
            output_index: 0,
            item: item.clone(),
            ..Default::default()
        });
        self.emit(at, done, Some(tag));
        if self.dialect == Dialect::Ga && !self.plan.out_of_band {
            let previous = self.conversation.last_id_except(item.id.as_ref());
            let done = ServerEvent::ConversationItemDone(ItemEvent {
                previous_item_id: Some(previous),
                item: item.clone(),
                ..Default::default()
            });
            self.emit(at, done, Some(tag));
        }
        self.finish_response(tag, at, status, reason, vec![item]);
    }

    /// `response.done` with `output`.
    pub(super) fn finish_response(
        &mut self,
        tag: &Arc<str>,
        at: Instant,
        status: &str,
        reason: Option<&str>,
        output: Vec<Item>,
    ) {
        let response = self.response_object(tag, status, reason, output, true);
        let done = ServerEvent::ResponseDone(ResponseEvent {
            response,
            ..Default::default()
        });
        self.emit(at, done, Some(tag));
    }

    /// The response object of `response.created` (`done` false) or `response.done`.
    pub(super) fn response_object(
        &self,
        id: &str,
        status: &str,
        reason: Option<&str>,
        output: Vec<Item>,
        done: bool,
    ) -> Response {
        let usage = done.then(|| self.conversation.usage(&output));
        let mut response = Response {
            id: Some(id.into()),
            object: Some("realtime.response".into()),
            status: Some(status.into()),
            status_details: Some(status_details(done, status, reason)),
            output: Some(output),
            usage: Some(usage),
            ..Default::default()
        };
        let conversation_id = format!("conv_{}", &self.ids_suffix());
        self.plan
            .report(self.dialect, &mut response, conversation_id);
        response
    }

    fn ids_suffix(&self) -> String {
        self.session
            .id
            .as_deref()
            .and_then(|id| id.strip_prefix("sess_"))
            .unwrap_or("0")
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assistant_parts_are_named_per_dialect() {
        assert_eq!(assistant_part(Dialect::Ga, true, "hi").kind, "output_audio");
        assert_eq!(assistant_part(Dialect::Ga, false, "hi").kind, "output_text");
        assert_eq!(assistant_part(Dialect::Beta, true, "hi").kind, "audio");
        let text = assistant_part(Dialect::Beta, false, "hi");
        assert_eq!(
            (text.kind.as_str(), text.text.as_deref()),
            ("text", Some("hi"))
        );
        assert_eq!(text.transcript, None);
    }

    #[test]
    fn only_a_finished_response_that_did_not_complete_has_status_details() {
        assert!(status_details(false, "in_progress", None).is_none());
        assert!(status_details(true, "completed", None).is_none());
        let cancelled = status_details(true, "cancelled", Some("turn_detected")).unwrap();
        assert_eq!(cancelled.kind.as_deref(), Some("cancelled"));
        assert_eq!(cancelled.reason.as_deref(), Some("turn_detected"));
    }
}
