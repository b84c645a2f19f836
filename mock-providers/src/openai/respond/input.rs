//! The input side: the audio buffer, image frames, server VAD and commits.
//!
//! [`InputBuffer`] owns what the client has appended since the last commit
//! and the energy VAD that runs over all of it. The VAD runs whatever the
//! session says, so its clock counts from the session start; its events only
//! act while turn detection is on. Then speech start opens a user item (and
//! barges in on an active response when `interrupt_response` allows), and
//! speech stop commits the buffer and, when `create_response` allows and no
//! response is running, starts one. With turn detection off the client
//! commits, and a commit of less than 100 ms is refused as the service
//! refuses it.
//!
//! A commit becomes a user item (image parts first, then the audio part) and,
//! when the session asks for transcription and the audio is a bundled
//! utterance, an `input_audio_transcription.completed` 50 ms later.

use super::Responder;
use crate::engine::Note;
use crate::speech::KnownSpeech;
use crate::vad::{EnergyVad, VadConfig, VadEvent};
use serde_json::json;
use tokio::time::Instant;
use understudy_adapters::audio::{pcm16_duration_ms, Pcm};
use understudy_adapters::openai::wire::objects::{ContentPart, Item, TurnDetection};
use understudy_adapters::openai::wire::server::{
    BufferCommitted, InputTranscriptionCompleted, Opaque, SpeechStarted, SpeechStopped,
};
use understudy_adapters::openai::wire::ServerEvent;

/// Shortest buffer a commit accepts.
const MIN_COMMIT_MS: f64 = 100.0;

/// Audio and images appended since the last commit, and the VAD over them.
#[derive(Debug)]
pub(super) struct InputBuffer {
    audio: Vec<u8>,
    /// Rate of the audio the client appends (24 kHz OpenAI, 16 kHz DashScope).
    rate: u32,
    /// Image frames received since the last commit; they join the next user item.
    pending_images: usize,
    /// Runs over all appended audio so its clock counts from the session start.
    vad: EnergyVad,
    /// The user item speech start announced, until the commit that closes it.
    speech_item: Option<String>,
}

/// One commit's worth of input, taken out of the buffer.
#[derive(Debug)]
pub(super) struct Committed {
    /// The PCM16 bytes.
    pub(super) audio: Vec<u8>,
    /// Their length in milliseconds.
    pub(super) ms: f64,
    /// How many image frames join the item.
    pub(super) images: usize,
}

impl InputBuffer {
    /// An empty buffer for audio at `rate`.
    pub(super) fn new(rate: u32) -> Self {
        InputBuffer {
            audio: Vec::new(),
            rate,
            pending_images: 0,
            vad: EnergyVad::new(VadConfig::default(), rate),
            speech_item: None,
        }
    }

    /// The rate appended audio is at.
    pub(super) fn rate(&self) -> u32 {
        self.rate
    }

    /// New VAD settings from the session.
    pub(super) fn reconfigure(&mut self, config: VadConfig) {
        self.vad.reconfigure(config);
    }

    /// Adds appended audio; what the VAD heard in it.
    pub(super) fn append(&mut self, pcm: &Pcm) -> Vec<VadEvent> {
        self.audio.extend_from_slice(&pcm.0);
        let samples: Vec<i16> = pcm.samples().collect();
        self.vad.push(&samples)
    }

    /// An image frame arrived.
    pub(super) fn attach_image(&mut self) {
        self.pending_images += 1;
    }

    /// Speech started: `item_id` is the user item it will become.
    pub(super) fn speech_started(&mut self, item_id: String) {
        self.speech_item = Some(item_id);
    }

    /// The item id speech start announced, if any (taken).
    pub(super) fn take_speech_item(&mut self) -> Option<String> {
        self.speech_item.take()
    }

    /// A client commit: `Err(ms)` with the buffered milliseconds when there
    /// is too little audio, else the VAD restarts its turn and the buffer is
    /// left for [`take`](Self::take).
    pub(super) fn check_client_commit(&mut self) -> Result<(), f64> {
        let ms = pcm16_duration_ms(self.audio.len(), self.rate);
        if ms < MIN_COMMIT_MS {
            return Err(ms);
        }
        self.vad.reset();
        Ok(())
    }

    /// Empties the buffer into one commit.
    pub(super) fn take(&mut self) -> Committed {
        let audio = std::mem::take(&mut self.audio);
        let ms = pcm16_duration_ms(audio.len(), self.rate);
        Committed {
            audio,
            ms,
            images: std::mem::take(&mut self.pending_images),
        }
    }

    /// `input_audio_buffer.clear`: drops the audio and the open speech item.
    pub(super) fn clear(&mut self) {
        self.audio.clear();
        self.speech_item = None;
        self.vad.reset();
    }
}

impl Responder {
    pub(super) fn on_append(&mut self, audio: &str, now: Instant) {
        let Ok(pcm) = Pcm::from_base64(audio) else {
            return; // validated by the transport; unreachable in practice
        };
        let events = self.input.append(&pcm);
        let Some(td) = self.turn_detection() else {
            return; // manual turns: the client commits
        };
        self.on_vad(events, td, now);
    }

    /// Acts on what the VAD heard. The end of a turn (committing and
    /// recognising the audio, starting the answer) and whatever follows it
    /// are set aside for the transport to run off the session task.
    fn on_vad(&mut self, events: Vec<VadEvent>, td: TurnDetection, now: Instant) {
        let mut events = events.into_iter();
        while let Some(event) = events.next() {
            match event {
                VadEvent::SpeechStarted { at_ms } => self.on_speech_started(at_ms, &td, now),
                VadEvent::SpeechStopped { at_ms } => {
                    let rest: Vec<VadEvent> = events.collect();
                    self.set_aside.push(now, move |me: &mut Responder| {
                        me.on_speech_stopped(at_ms, &td, now);
                        if !rest.is_empty() {
                            me.on_vad(rest, td, now);
                        }
                    });
                    return;
                }
            }
        }
    }

    fn on_speech_started(&mut self, at_ms: u64, td: &TurnDetection, now: Instant) {
        let item_id = self.ids.next("item");
        self.input.speech_started(item_id.clone());
        self.notes
            .push(Note::new("vad", format!("speech started at {at_ms} ms")));
        let started = ServerEvent::SpeechStarted(SpeechStarted {
            audio_start_ms: at_ms,
            item_id,
            ..Default::default()
        });
        self.emit(now, started, None);
        if td.interrupt_response.unwrap_or(true) && self.active.is_some() {
            self.notes
                .push(Note::new("barge_in", "user speech cancels the response"));
            self.cancel(now, "turn_detected");
        }
    }

    fn on_speech_stopped(&mut self, at_ms: u64, td: &TurnDetection, now: Instant) {
        let item_id = self
            .input
            .take_speech_item()
            .unwrap_or_else(|| self.ids.next("item"));
        self.notes
            .push(Note::new("vad", format!("speech stopped at {at_ms} ms")));
        let stopped = ServerEvent::SpeechStopped(SpeechStopped {
            audio_end_ms: at_ms,
            item_id: item_id.clone(),
            ..Default::default()
        });
        self.emit(now, stopped, None);
        self.commit(item_id, now);
        if td.create_response.unwrap_or(true) {
            if self.active.is_some() {
                self.notes.push(Note::new(
                    "vad",
                    "turn ended while a response is active; no new response",
                ));
            } else {
                self.start_response(now, None);
            }
        }
    }

    /// `input_audio_buffer.commit`.
    pub(super) fn on_commit(&mut self, event_id: Option<&str>, now: Instant) {
        if let Err(ms) = self.input.check_client_commit() {
            return self.error(
                now,
                "input_audio_buffer_commit_empty",
                format!("Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has {ms:.2}ms of audio."),
                None,
                event_id,
            );
        }
        let item_id = self
            .input
            .take_speech_item()
            .unwrap_or_else(|| self.ids.next("item"));
        // Recognising the audio is the costly part: set aside like a VAD turn.
        self.set_aside
            .push(now, move |me: &mut Responder| me.commit(item_id, now));
    }

    /// `input_audio_buffer.clear`.
    pub(super) fn on_clear(&mut self, now: Instant) {
        self.input.clear();
        self.emit(
            now,
            ServerEvent::InputAudioBufferCleared(Opaque::default()),
            None,
        );
    }

    fn commit(&mut self, item_id: String, now: Instant) {
        let Committed { audio, ms, images } = self.input.take();
        self.config.before_recognition();
        let heard = KnownSpeech::bundled().transcribe(&audio, self.input.rate());
        self.conversation.set_audio_ms(&item_id, ms);
        let previous = self.conversation.last_id();
        let committed = ServerEvent::InputAudioBufferCommitted(BufferCommitted {
            previous_item_id: Some(previous.clone()),
            item_id: item_id.clone(),
            ..Default::default()
        });
        self.emit(now, committed, None);
        let item = Item {
            id: Some(item_id.clone()),
            object: Some("realtime.item".into()),
            kind: "message".into(),
            role: Some("user".into()),
            status: Some("completed".into()),
            content: Some(
                std::iter::repeat_with(|| ContentPart {
                    kind: "input_image".into(),
                    ..Default::default()
                })
                .take(images)
                .chain(std::iter::once(ContentPart {
                    kind: "input_audio".into(),
                    transcript: Some(None),
                    ..Default::default()
                }))
                .collect(),
            ),
            ..Default::default()
        };
        self.add_item(item, previous, now);
        self.transcribe(&item_id, heard, ms, now);
    }

    /// Emits the input transcription of a committed item (when the session
    /// asks for one) and records what was said for the reply rule.
    fn transcribe(&mut self, item_id: &str, heard: Option<&'static str>, ms: f64, now: Instant) {
        let Some(transcript) = heard else {
            self.notes.push(Note::new(
                "speech",
                format!("{ms:.0} ms of audio that is not a bundled utterance; answered by length"),
            ));
            return;
        };
        self.notes
            .push(Note::new("speech", format!("recognised: {transcript:?}")));
        self.conversation.set_input_transcript(item_id, transcript);
        if self.transcription_enabled() {
            let event = ServerEvent::InputTranscriptionCompleted(InputTranscriptionCompleted {
                item_id: item_id.to_owned(),
                content_index: 0,
                transcript: transcript.to_owned(),
                usage: Some(
                    json!({"type": "duration", "seconds": (ms / 1000.0 * 10.0).round() / 10.0}),
                ),
                ..Default::default()
            });
            self.emit(now + self.config.delay(50.0), event, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::RATE;
    use super::*;

    fn silence(ms: usize) -> Pcm {
        Pcm::from_samples(&vec![0i16; RATE as usize * ms / 1000])
    }

    #[test]
    fn a_client_commit_needs_100_ms_of_audio() {
        let mut input = InputBuffer::new(RATE);
        input.append(&silence(60));
        let short = input
            .check_client_commit()
            .expect_err("60 ms is too little");
        assert!((short - 60.0).abs() < 0.01, "{short}");
        input.append(&silence(60));
        assert!(input.check_client_commit().is_ok());
        let taken = input.take();
        assert!((taken.ms - 120.0).abs() < 0.01);
        assert_eq!(input.take().ms, 0.0);
    }

    #[test]
    fn images_join_the_next_commit_only_and_clear_drops_the_speech_item() {
        let mut input = InputBuffer::new(RATE);
        input.attach_image();
        input.attach_image();
        input.speech_started("item_a".into());
        assert_eq!(input.take().images, 2);
        assert_eq!(input.take().images, 0);
        input.clear();
        assert_eq!(input.take_speech_item(), None);
    }
}
