//! Playback accounting and barge-in.
//!
//! The agent keeps a ledger of the audio it forwarded (per item: how much was
//! delivered, how much the front end says it played). When the user talks
//! over the agent — provider VAD, the provider's own `Interrupted`, the stop
//! button or a typed message — it cancels the response where the provider
//! will not, truncates the model's memory to what was heard where the dialect
//! can, cuts the transcript the same way and tells the front end to stop.

use super::runner::Runner;
use crate::realtime::events::AgentEvent;
use crate::realtime::resample::Resampler;
use std::collections::HashMap;
use understudy_adapters::{ClientInput, Pcm, TurnDetection};

/// One response in progress.
#[derive(Debug)]
pub(super) struct Response {
    /// The provider's response id.
    pub(super) id: String,
    /// Barge-in already cut it.
    pub(super) interrupted: bool,
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

impl Runner {
    /// Forwards model audio to the front end, at its rate, unless the
    /// response or item was cut.
    pub(super) fn on_audio(
        &mut self,
        response_id: String,
        item_id: String,
        pcm: Pcm,
        sample_rate: u32,
    ) {
        if self.suppressed.contains(&response_id) {
            return; // late audio of a response the user cut off
        }
        if !self
            .playback
            .delivered(&response_id, &item_id, pcm.duration_ms(sample_rate))
        {
            return;
        }
        let target = self.config.output_sample_rate.unwrap_or(sample_rate);
        let resampler = match &mut self.out_resampler {
            Some((item, r)) if *item == item_id && r.from_rate() == sample_rate => r,
            slot => {
                &mut slot
                    .insert((item_id.clone(), Resampler::new(sample_rate, target)))
                    .1
            }
        };
        let pcm = resampler.process(&pcm.0);
        let sample_rate = resampler.to_rate();
        self.emit(AgentEvent::Audio {
            response_id,
            item_id,
            pcm: Pcm(pcm),
            sample_rate,
        });
    }

    /// The front end's playback report.
    pub(super) fn on_played(&mut self, item_id: &str, played_ms: u64) {
        self.playback.played(item_id, played_ms);
    }

    /// Whether the provider cancels the response by itself when its VAD hears
    /// the user (all three providers do by default).
    fn provider_interrupts(&self) -> bool {
        match &self.config.session.turn_detection {
            None => self.caps.server_vad,
            Some(TurnDetection::Manual) => false,
            Some(TurnDetection::ServerVad {
                interrupt_response, ..
            })
            | Some(TurnDetection::SemanticVad {
                interrupt_response, ..
            }) => interrupt_response.unwrap_or(true),
        }
    }

    /// Cuts the agent off: cancel the response where the provider will not,
    /// truncate the model's memory to what was heard where it can, cut the
    /// transcript the same way, tell the front end to stop playing.
    pub(super) async fn barge_in(&mut self, trigger: Trigger) {
        let active = self
            .response
            .as_ref()
            .filter(|r| !r.interrupted)
            .map(|r| r.id.clone());
        let item_id = self.playback.to_cut(active.as_ref());
        if active.is_none() && item_id.is_none() {
            return;
        }
        if let Some(id) = &active {
            if let Some(response) = self.response.as_mut() {
                response.interrupted = true;
            }
            self.suppressed.insert(id.clone());
            let provider_cancels = match trigger {
                Trigger::Speech => self.provider_interrupts(),
                Trigger::Provider => true,
                Trigger::FrontEnd => false,
            };
            if !provider_cancels {
                self.deliver_quietly(ClientInput::CancelResponse {
                    response_id: Some(id.clone()),
                })
                .await;
            }
        }
        let mut played_ms = None;
        let mut response_id = active;
        if let Some(item_id) = &item_id {
            if let Some((heard, item_response)) = self.playback.cut(item_id) {
                played_ms = Some(heard);
                response_id = response_id.or_else(|| Some(item_response.clone()));
                self.suppressed.insert(item_response);
            }
            self.transcript().agent_interrupted(item_id, played_ms);
            if let (true, Some(heard)) = (self.caps.truncation, played_ms) {
                self.deliver_quietly(ClientInput::Truncate {
                    item_id: item_id.clone(),
                    content_index: 0,
                    audio_end_ms: heard,
                })
                .await;
            }
        }
        self.calls.block_follow_up();
        tracing::info!(?trigger, ?response_id, ?played_ms, "barge-in");
        self.emit(AgentEvent::Interrupted {
            response_id,
            item_id,
            played_ms,
        });
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
}
