//! Cancellation: `response.cancel` and barge-in.
//!
//! A response is laid out on the timeline in full when it starts, so
//! cancelling it withdraws its frames that have not gone out and then
//! reports exactly what had: [`progress`] reads, from the response's
//! schedule and the last instant frames were popped, which chunks reached
//! the client. If not even the output item had, the response ends empty and
//! the item leaves the conversation; otherwise the content closes with the
//! words already sent, the item ends `incomplete` with the audio actually
//! played (what a later truncate is checked against), and `response.done`
//! says `cancelled` with the reason (`client_cancelled`, `turn_detected`).

use super::output::assistant_part;
use super::schedule::{Active, Output};
use super::Responder;
use crate::engine::Note;
use std::sync::Arc;
use tokio::time::Instant;

/// What of a response had gone out when it was cancelled.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Progress {
    /// Whether the output item had been announced.
    pub(super) item_seen: bool,
    /// How many chunks had gone out.
    pub(super) chunks_sent: usize,
    /// The words those chunks carried.
    pub(super) said: String,
}

/// What of `active` had gone out if frames were last popped at `sent_until`.
pub(super) fn progress(active: &Active, sent_until: Option<Instant>) -> Progress {
    let was_sent = |t: Instant| sent_until.is_some_and(|s| t <= s);
    let sent: Vec<&(Instant, String)> =
        active.chunks.iter().filter(|(t, _)| was_sent(*t)).collect();
    Progress {
        item_seen: was_sent(active.item_announced_at),
        chunks_sent: sent.len(),
        said: sent.iter().map(|(_, w)| w.as_str()).collect(),
    }
}

impl Responder {
    /// Cancels the active response, if any, for `reason`.
    pub(super) fn cancel(&mut self, now: Instant, reason: &str) {
        let Some(active) = self.active.take() else {
            return;
        };
        let withdrawn = self.timeline.withdraw(&active.id);
        let Progress {
            item_seen,
            chunks_sent,
            said,
        } = progress(&active, self.last_pop);
        self.notes.push(Note::new(
            "cancel",
            format!(
                "response {} cancelled ({reason}) after {} of {} chunks; {withdrawn} frames withdrawn",
                active.id,
                chunks_sent,
                active.chunks.len()
            ),
        ));
        let tag: Arc<str> = Arc::from(active.id.as_str());
        if !item_seen {
            // Nothing of the item reached the client: the response ends empty.
            self.conversation.remove(&active.item_id);
            self.finish_response(&tag, now, "cancelled", Some(reason), vec![]);
            return;
        }
        let audio = active.output == Output::Audio;
        if active.output != Output::Call {
            self.close_content(&tag, &active.item_id, now, audio, &said);
        }
        let mut item = self
            .conversation
            .find(&active.item_id)
            .cloned()
            .unwrap_or_else(|| active.item.clone());
        item.status = Some("incomplete".into());
        if active.output != Output::Call {
            item.content = Some(vec![assistant_part(self.dialect, audio, &said)]);
            let played_ms = (chunks_sent as u64 * self.config.chunk_ms) as f64;
            self.conversation.set_audio_ms(&active.item_id, played_ms);
        }
        self.conversation.replace(&item);
        self.finish_item(&tag, now, item, "cancelled", Some(reason));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use understudy_adapters::openai::wire::objects::Item;

    fn active(start: Instant) -> Active {
        let ms = |n| start + Duration::from_millis(n);
        Active {
            id: "resp_1".into(),
            item_id: "item_1".into(),
            output: Output::Audio,
            chunks: vec![
                (ms(200), "one ".into()),
                (ms(250), "two ".into()),
                (ms(300), "three".into()),
            ],
            item_announced_at: ms(20),
            done_at: ms(350),
            item: Item::default(),
        }
    }

    #[test]
    fn progress_counts_the_chunks_due_by_the_last_pop() {
        let start = Instant::now();
        let a = active(start);
        let none = progress(&a, None);
        assert_eq!(
            (none.item_seen, none.chunks_sent, none.said.as_str()),
            (false, 0, "")
        );
        let early = progress(&a, Some(start + Duration::from_millis(100)));
        assert_eq!((early.item_seen, early.chunks_sent), (true, 0));
        // A chunk due exactly at the pop went out.
        let mid = progress(&a, Some(start + Duration::from_millis(250)));
        assert_eq!((mid.chunks_sent, mid.said.as_str()), (2, "one two "));
        let all = progress(&a, Some(start + Duration::from_secs(1)));
        assert_eq!(all.said, "one two three");
    }
}
