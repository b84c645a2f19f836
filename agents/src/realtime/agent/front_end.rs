//! What each front-end command becomes: model input (resampled audio, text,
//! images, a commit), a playback report for the ledger, a barge-in, or the
//! end of the session. Input the dialect cannot take is refused with an
//! `Error` event rather than sent to fail at the provider.

use super::barge_in::Trigger;
use super::input::Command;
use super::runner::Runner;
use crate::realtime::events::AgentEvent;
use crate::realtime::resample::Resampler;
use crate::realtime::transcript::TranscriptEntry;
use understudy_adapters::{ClientInput, Pcm, ResponseOptions};

impl Runner {
    /// Handles one command from [`super::AgentInput`].
    pub(super) async fn on_command(&mut self, command: Command) {
        match command {
            Command::Audio { pcm, sample_rate } => self.on_user_audio(&pcm, sample_rate).await,
            Command::Text(text) => self.on_user_text(text).await,
            Command::Image { mime_type, data } => {
                if !self.caps.image_input {
                    self.refuse(format!("{} takes no images", self.caps.dialect));
                    return;
                }
                self.deliver(ClientInput::Image {
                    mime_type,
                    data: Pcm(data),
                })
                .await;
            }
            Command::Commit => {
                self.calls.block_follow_up();
                self.deliver(ClientInput::CommitAudio).await;
                self.deliver(ClientInput::CreateResponse(ResponseOptions::default()))
                    .await;
            }
            Command::Playback { item_id, played_ms } => self.on_played(&item_id, played_ms),
            Command::Interrupt => self.barge_in(Trigger::FrontEnd).await,
            Command::Close => self.close("closed by the front end").await,
        }
    }

    /// User audio, resampled to the model's input rate.
    async fn on_user_audio(&mut self, pcm: &[u8], sample_rate: u32) {
        let target = self.caps.input_sample_rate;
        let resampler = match &mut self.in_resampler {
            Some(r) if r.from_rate() == sample_rate && r.to_rate() == target => r,
            slot => slot.insert(Resampler::new(sample_rate, target)),
        };
        let pcm = resampler.process(pcm);
        if !pcm.is_empty() {
            self.deliver(ClientInput::Audio {
                pcm: Pcm(pcm),
                sample_rate: target,
            })
            .await;
        }
    }

    /// A typed message: the agent stops talking and answers it.
    async fn on_user_text(&mut self, text: String) {
        if !self.caps.text_input {
            self.refuse(format!("{} takes no text input", self.caps.dialect));
            return;
        }
        self.barge_in(Trigger::FrontEnd).await;
        self.calls.block_follow_up();
        self.transcript().push(TranscriptEntry::User {
            item_id: None,
            text: Some(text.clone()),
        });
        self.deliver(ClientInput::Text { text }).await;
        self.deliver(ClientInput::CreateResponse(ResponseOptions::default()))
            .await;
    }

    /// Tells the front end its input cannot go to this dialect.
    fn refuse(&self, message: String) {
        self.emit(AgentEvent::Error {
            code: "unsupported_input".into(),
            message,
            fatal: false,
        });
    }
}
