//! Answers and barge-in. [`Answers`] owns the response in progress, the
//! responses whose late deltas are dropped (cut by a barge-in or lost with
//! their session), the ledger of forwarded audio ([`Playback`]: per item,
//! how much was delivered and how much the front end says it played) and the
//! resampler for the front end's rate; it decides what a barge-in cuts.
//!
//! When the user talks over the agent — provider VAD, the provider's own
//! `Interrupted`, the stop button or a typed message — the runner carries
//! out the [`Cut`]: it cancels the response where the provider will not
//! ([`provider_cancels`]), truncates the model's memory to what was heard
//! where the dialect can, cuts the transcript the same way and tells the
//! front end to stop.

use crate::realtime::resample::Resampler;
use std::collections::{HashMap, HashSet};
use understudy_adapters::{Pcm, TurnDetection};

/// One response in progress.
#[derive(Debug)]
struct Response {
    /// The provider's response id.
    id: String,
    /// Barge-in already cut it.
    interrupted: bool,
}

/// Why the agent cuts its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trigger {
    /// Provider VAD heard the user.
    Speech,
    /// The provider says it interrupted the response itself.
    Provider,
    /// The front end asked (stop button, typed message).
    FrontEnd,
}

/// What the agent knows about one audio item it forwarded.
#[derive(Debug)]
struct ItemAudio {
    response_id: String,
    /// Audio delivered to the front end, in milliseconds of model audio.
    delivered_ms: f64,
    /// The front end's last playback report.
    played_ms: Option<u64>,
    /// Barge-in already dealt with it.
    cut: bool,
}

impl ItemAudio {
    /// Still playing on the front end, as far as its reports say.
    fn playing(&self) -> bool {
        !self.cut
            && self
                .played_ms
                .is_some_and(|p| (p as f64) + 1.0 < self.delivered_ms)
    }

    /// What was heard: the last report, or everything delivered.
    fn heard_ms(&self) -> u64 {
        let delivered = self.delivered_ms.floor() as u64;
        self.played_ms.map_or(delivered, |p| p.min(delivered))
    }
}

/// The ledger of forwarded audio items.
#[derive(Debug, Default)]
pub(super) struct Playback {
    items: HashMap<String, ItemAudio>,
    /// The item audio was last forwarded for.
    last_item: Option<String>,
}

impl Playback {
    /// Counts `ms` of audio of `item_id` as delivered; `false` (nothing
    /// counted) when the item was already cut.
    fn delivered(&mut self, response_id: &str, item_id: &str, ms: f64) -> bool {
        let item = self
            .items
            .entry(item_id.to_owned())
            .or_insert_with(|| ItemAudio {
                response_id: response_id.to_owned(),
                delivered_ms: 0.0,
                played_ms: None,
                cut: false,
            });
        if item.cut {
            return false;
        }
        item.delivered_ms += ms;
        self.last_item = Some(item_id.to_owned());
        true
    }

    /// The front end played `played_ms` of `item_id` (reports only move
    /// forward).
    fn played(&mut self, item_id: &str, played_ms: u64) {
        if let Some(item) = self.items.get_mut(item_id) {
            item.played_ms = Some(item.played_ms.map_or(played_ms, |p| p.max(played_ms)));
        }
    }

    /// Audio of `item_id` delivered so far, whole milliseconds (0 if none).
    pub(super) fn delivered_ms(&self, item_id: &str) -> u64 {
        self.items
            .get(item_id)
            .map_or(0, |i| i.delivered_ms.floor() as u64)
    }

    /// The item a barge-in would cut: the last one forwarded, if it belongs to
    /// the `active` response or is still playing.
    fn to_cut(&self, active: Option<&String>) -> Option<String> {
        self.last_item.clone().filter(|id| {
            self.items.get(id).is_some_and(|item| {
                !item.cut && (Some(&item.response_id) == active || item.playing())
            })
        })
    }

    /// Marks `item_id` cut; returns what was heard of it and its response.
    fn cut(&mut self, item_id: &str) -> Option<(u64, String)> {
        let item = self.items.get_mut(item_id)?;
        item.cut = true;
        Some((item.heard_ms(), item.response_id.clone()))
    }
}

/// What a barge-in cuts, for the runner to carry out.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Cut {
    /// The response to cancel at the provider (it will not cancel it itself).
    pub(super) cancel: Option<String>,
    /// The audio item cut, if one was playing or belonged to the response.
    pub(super) item_id: Option<String>,
    /// What was heard of that item, in milliseconds.
    pub(super) played_ms: Option<u64>,
    /// The response cut (the active one, else the cut item's).
    pub(super) response_id: Option<String>,
}

/// Whether the provider cancels the response by itself on `trigger`: it does
/// when it says it interrupted, never for the front end's stop, and for its
/// own VAD as the session's turn detection says (`None`: the dialect's
/// default, which cancels where it has server VAD).
pub(super) fn provider_cancels(
    trigger: Trigger,
    turn_detection: Option<&TurnDetection>,
    server_vad: bool,
) -> bool {
    match trigger {
        Trigger::Provider => true,
        Trigger::FrontEnd => false,
        Trigger::Speech => match turn_detection {
            None => server_vad,
            Some(TurnDetection::Manual) => false,
            Some(TurnDetection::ServerVad {
                interrupt_response, ..
            })
            | Some(TurnDetection::SemanticVad {
                interrupt_response, ..
            }) => interrupt_response.unwrap_or(true),
        },
    }
}

/// The agent's answers on the current connection: the response in
/// progress, the responses cut, the audio ledger and the output resampler.
#[derive(Default)]
pub(super) struct Answers {
    response: Option<Response>,
    suppressed: HashSet<String>,
    playback: Playback,
    /// Resamples model audio to the front end's rate, per item.
    out_resampler: Option<(String, Resampler)>,
}

impl Answers {
    /// The provider started `response_id`.
    pub(super) fn started(&mut self, response_id: &str) {
        self.response = Some(Response {
            id: response_id.to_owned(),
            interrupted: false,
        });
    }

    /// The provider finished `response_id`.
    pub(super) fn done(&mut self, response_id: &str) {
        if self.response.as_ref().is_some_and(|r| r.id == response_id) {
            self.response = None;
        }
    }

    /// Whether a response is in progress.
    pub(super) fn running(&self) -> bool {
        self.response.is_some()
    }

    /// Whether `response_id` was cut: its late deltas are dropped.
    pub(super) fn suppressed(&self, response_id: &str) -> bool {
        self.suppressed.contains(response_id)
    }

    /// The session is gone or being left: the response in progress will not
    /// finish, and whatever of it still arrives is dropped.
    pub(super) fn abandon(&mut self) {
        if let Some(response) = self.response.take() {
            self.suppressed.insert(response.id);
        }
    }

    /// A new connection may mint the old one's ids again: forget them.
    pub(super) fn new_id_space(&mut self) {
        self.suppressed.clear();
        self.playback = Playback::default();
        self.out_resampler = None;
    }

    /// Model audio to forward to the front end, at `target` Hz (`None`: as
    /// it came), with its rate; `None` when the response or item was cut.
    pub(super) fn audio(
        &mut self,
        response_id: &str,
        item_id: &str,
        pcm: &Pcm,
        sample_rate: u32,
        target: Option<u32>,
    ) -> Option<(Pcm, u32)> {
        if self.suppressed.contains(response_id) {
            return None; // late audio of a response the user cut off
        }
        if !self
            .playback
            .delivered(response_id, item_id, pcm.duration_ms(sample_rate))
        {
            return None;
        }
        let target = target.unwrap_or(sample_rate);
        let resampler = match &mut self.out_resampler {
            Some((item, r)) if *item == item_id && r.from_rate() == sample_rate => r,
            slot => {
                &mut slot
                    .insert((item_id.to_owned(), Resampler::new(sample_rate, target)))
                    .1
            }
        };
        let pcm = resampler.process(&pcm.0);
        Some((Pcm(pcm), resampler.to_rate()))
    }

    /// The front end's playback report.
    pub(super) fn played(&mut self, item_id: &str, played_ms: u64) {
        self.playback.played(item_id, played_ms);
    }

    /// Audio of `item_id` delivered so far, whole milliseconds (0 if none).
    pub(super) fn delivered_ms(&self, item_id: &str) -> u64 {
        self.playback.delivered_ms(item_id)
    }

    /// Cuts the agent off: the active response is marked interrupted and
    /// suppressed, the item being heard is cut at what was heard. `None`
    /// when there is nothing to cut. `provider_cancels`: the provider
    /// cancels the response itself, so the cut asks for no cancel.
    pub(super) fn cut(&mut self, provider_cancels: bool) -> Option<Cut> {
        let active = self
            .response
            .as_ref()
            .filter(|r| !r.interrupted)
            .map(|r| r.id.clone());
        let item_id = self.playback.to_cut(active.as_ref());
        if active.is_none() && item_id.is_none() {
            return None;
        }
        let mut cut = Cut::default();
        if let Some(id) = &active {
            if let Some(response) = self.response.as_mut() {
                response.interrupted = true;
            }
            self.suppressed.insert(id.clone());
            if !provider_cancels {
                cut.cancel = Some(id.clone());
            }
        }
        cut.response_id = active;
        if let Some(item_id) = &item_id {
            if let Some((heard, item_response)) = self.playback.cut(item_id) {
                cut.played_ms = Some(heard);
                cut.response_id = cut.response_id.or_else(|| Some(item_response.clone()));
                self.suppressed.insert(item_response);
            }
        }
        cut.item_id = item_id;
        Some(cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heard_is_the_last_report_within_what_was_delivered() {
        let mut ledger = Playback::default();
        assert!(ledger.delivered("r1", "i1", 300.0));
        // No report: everything delivered counts as heard, and it is not
        // "playing" (nothing says so), so only the active response cuts it.
        assert_eq!(ledger.to_cut(None), None);
        assert_eq!(ledger.to_cut(Some(&"r1".to_owned())), Some("i1".into()));
        ledger.played("i1", 120);
        ledger.played("i1", 80); // reports never move back
        assert_eq!(ledger.to_cut(None), Some("i1".into()), "still playing");
        assert_eq!(ledger.cut("i1"), Some((120, "r1".into())));
        assert!(
            !ledger.delivered("r1", "i1", 100.0),
            "a cut item takes no more"
        );
        assert_eq!(ledger.to_cut(Some(&"r1".to_owned())), None);
        assert_eq!(ledger.delivered_ms("i1"), 300);
    }

    #[test]
    fn a_cut_suppresses_the_response_and_cancels_only_where_the_provider_will_not() {
        let mut answers = Answers::default();
        assert_eq!(answers.cut(false), None, "nothing to cut");
        answers.started("r1");
        let audio = Pcm(vec![0; 3200]); // 100 ms at 16 kHz
        assert!(answers.audio("r1", "i1", &audio, 16_000, None).is_some());
        answers.played("i1", 40);
        let cut = answers.cut(false);
        assert_eq!(
            cut,
            Some(Cut {
                cancel: Some("r1".into()),
                item_id: Some("i1".into()),
                played_ms: Some(40),
                response_id: Some("r1".into()),
            })
        );
        assert!(answers.suppressed("r1"));
        assert!(answers.running(), "running until the provider says done");
        assert_eq!(answers.cut(false), None, "cut once");
        assert!(answers.audio("r1", "i1", &audio, 16_000, None).is_none());
        answers.done("r1");
        assert!(!answers.running());
        answers.new_id_space();
        assert!(!answers.suppressed("r1"));
    }

    #[test]
    fn a_lost_session_drops_the_rest_of_its_answer() {
        let mut answers = Answers::default();
        answers.started("r1");
        answers.abandon();
        assert!(!answers.running());
        assert!(answers.suppressed("r1"));
        answers.started("r2");
        assert_eq!(answers.cut(true).and_then(|c| c.cancel), None);
    }

    #[test]
    fn the_provider_cancels_on_its_own_vad_unless_told_not_to() {
        assert!(provider_cancels(Trigger::Provider, None, false));
        assert!(!provider_cancels(Trigger::FrontEnd, None, true));
        assert!(provider_cancels(Trigger::Speech, None, true));
        assert!(!provider_cancels(Trigger::Speech, None, false));
        let manual = TurnDetection::Manual;
        assert!(!provider_cancels(Trigger::Speech, Some(&manual), true));
    }
}
