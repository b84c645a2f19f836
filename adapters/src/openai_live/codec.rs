//! The sans-IO GPT-Live codec: [`LiveCodec`] implements
//! [`RealtimeCodec`] over the [`Decoder`] and [`Encoder`], and passes
//! between them what one side learns for the other (which call ids are
//! backend function calls; which appends carry a delegation's result;
//! whether the service already started the session, as on a sideband).
//!
//! # Inferred boundaries
//!
//! GPT-Live sends no response objects, no done events and no barge-in
//! event: the output is one continuous 24 kHz (or session-format) track with
//! silence between replies, plus timed transcript fragments both ways. The
//! adapter infers turns and replies with these rules; every threshold is a
//! [`LiveSettings`] field, and every inferred `ResponseDone` says so in its
//! `reason`. Time is the **session timeline** (ms from session start): the
//! `start_ms`/`end_ms`/`offset_ms` the events carry, the output track's
//! position (the sum of its chunks' durations, or their `start_ms`/`end_ms`
//! on a sideband) and whatever a caller passes to [`LiveCodec::advance_to`].
//! No clock is read.
//!
//! 1. **Silence is not speech.** An output chunk whose peak |sample| is at
//!    most `silence_peak` (64; G.711 is expanded to PCM16 first) is silent.
//!    Outside a reply the track gives no event at all.
//! 2. **A reply starts** (`ResponseCreated`) at the first voiced output chunk
//!    or the first output transcript fragment, whichever comes first. Its
//!    audio starts there too, so silent chunks between a transcript-opened
//!    reply's start and its first voice are the reply's leading silence:
//!    TTFB counts from the first `AudioDelta`, TTFA from the first audible
//!    sample after it.
//! 3. **Pauses inside a reply** are reported as audio for up to
//!    `kept_pause_ms` (500) after the last voiced chunk; longer silence is
//!    held back, sent before the next voiced chunk of the same reply, and
//!    dropped if the reply ends.
//! 4. **A reply ends** (`AudioDone`, `TranscriptDone`, `ResponseDone
//!    {completed}`) once the timeline is `reply_end_silence_ms` (2,000)
//!    past the model's last speech (voiced audio or output fragment), or at
//!    once when a user fragment starts after that last speech (the model had
//!    finished before the user spoke).
//! 5. **Barge-in**: a user fragment that starts before the model's last
//!    speech marks an overlap. If the model's voice stops within
//!    `barge_in_stop_ms` (1,000) of the user's start and stays quiet for
//!    `barge_in_quiet_ms` (300), the reply was interrupted: `Interrupted`,
//!    then `ResponseDone{cancelled}`. A model that talks on past
//!    `barge_in_stop_ms` heard a backchannel; the reply goes on. The
//!    client's own microphone marks the overlap too, sooner than the
//!    transcript can: input audio the codec encodes whose peak exceeds
//!    `input_voice_peak` (1,000) overlaps the reply from its place on the
//!    timeline — unless, once the track gets there, the model was not
//!    speaking at that point (then it is no overlap). Where the reply has
//!    voiced audio, "the model's voice" is its last voiced chunk, not its
//!    transcript: a fragment's `end_ms` can run past the point where the
//!    voice was cut.
//! 6. **The user's turn** starts (`SpeechStarted`, from the fragment's
//!    `start_ms`) at the first input fragment after quiet, and ends
//!    (`SpeechStopped`, `InputCommitted`, `InputTranscriptDone`) when a
//!    reply starts, when a delegation is created (its request), or once the
//!    timeline is `user_turn_end_ms` (800) past its last fragment — past
//!    the fragment's `end_ms` and past the point where it arrived, so that
//!    fragments released together after the utterance stay one turn — with
//!    no reply. A fragment starting before the point where the last turn closed
//!    is a late part of it (punctuation transcribed after the reply began):
//!    an `InputTranscriptDelta` of that turn. Fragments are joined as sent
//!    (they carry their own spaces) plus a space between a sentence end and
//!    a capital, which the service sometimes omits; the delta reported
//!    carries that space, so a turn's deltas join to its transcript.
//! 7. **Delegations.** `session.delegation.created` gives
//!    `DelegationCreated`. A `client` delegation is also a `ToolCall`: call
//!    id = delegation id, name `delegation_tool_name` (`delegate`),
//!    arguments `{"request": <the user's turn>, "offset_ms": N}` — the
//!    service sends no task text or arguments — inside the reply in
//!    progress or a new one opened for the model's acknowledgement. A
//!    `responses` delegation's function calls (nested
//!    `response.output_item.done`) become `ToolCall`s when their backend
//!    response ends (`response.completed|incomplete`; dropped with a
//!    warning on `failed`), followed by `DelegationResult` and the backend's
//!    token `Usage`. A client delegation's `DelegationResult` comes when
//!    the service acknowledges the append carrying the application's result
//!    (`failed` if it answers that append with an `error`); a `decisions`
//!    delegation's when its `decision.event` arrives.
//! 8. **Commentary vs answer.** A reply that starts while a delegation is
//!    outstanding is the model's acknowledgement (`phase: commentary`);
//!    any other reply is an answer (`phase: final_answer`).
//! 9. **The end.** `session.closed` ends any open reply (`completed` for
//!    `close_requested`/`remote_hangup`, `incomplete` otherwise) and user
//!    turn, then gives the final `SessionUsage` and `SessionEnded`; a close
//!    frame after it gives nothing more. A socket that ends without it ends
//!    the reply as `incomplete` ("unfinalised").
//!
//! Other mappings: `session.started`/`updated` → `SessionCreated` /
//! `SessionUpdated` (one format both ways); `session.usage.updated` →
//! `SessionUsage` (cumulative seconds, never summed);
//! `session.paused`/`resumed` → `SessionPaused`/`SessionResumed`; `error` →
//! `Error` (fatal before `session.started` when `pre_start_error_fatal`,
//! **unconfirmed**); an audio fixture interrupts a reply (`cancelled`) and
//! its clip on the output track is not model speech. Acknowledgements
//! (mute, unmute, fixture, appends not carrying a result), `info`, Decision
//! items, SIP transport events and the sideband's reflected input audio
//! give no event and are logged with `tracing`. Unknown types give
//! `Unrecognized`.

use super::decoder::Decoder;
use super::encoder::Encoder;
use super::settings::{DelegationMode, LiveSettings};
use super::wire::ClientEvent;
use crate::capabilities::Capabilities;
use crate::codec::{
    decode_json_frame, json_text_frames, DecodeError, EncodeError, RealtimeCodec, WireFrame,
};
use crate::event::ModelEvent;
use crate::input::ClientInput;

/// The GPT-Live protocol as a sans-IO state machine.
#[derive(Debug, Clone)]
pub struct LiveCodec {
    model: String,
    settings: LiveSettings,
    encoder: Encoder,
    decoder: Decoder,
    /// Events inferred while encoding (the microphone's voice confirming a
    /// barge-in), delivered before the next decoded frame's.
    pending: Vec<ModelEvent>,
}

impl LiveCodec {
    /// A codec for `model` with the default settings.
    pub fn new(model: impl Into<String>) -> Self {
        Self::with_settings(model, LiveSettings::default())
    }

    /// A codec for `model` with these inference settings and choices.
    pub fn with_settings(model: impl Into<String>, settings: LiveSettings) -> Self {
        let model = model.into();
        LiveCodec {
            encoder: Encoder::new(model.clone(), settings.clone()),
            decoder: Decoder::new(settings.clone()),
            pending: Vec::new(),
            model,
            settings,
        }
    }

    /// Moves the session timeline to `timeline_ms` and returns what the time
    /// rules infer (a reply or user turn that has ended). A transport calls
    /// this when the server is quiet — a track that only carries voiced
    /// chunks, say — with its own estimate of the timeline (for example the
    /// duration of the input audio it has sent, which is what advances the
    /// service's timeline).
    pub fn advance_to(&mut self, timeline_ms: u64) -> Vec<ModelEvent> {
        self.decoder.advance_to(timeline_ms)
    }

    /// Turns one input into client commands (the typed form of
    /// [`RealtimeCodec::encode`]).
    pub fn encode_events(&mut self, input: &ClientInput) -> Result<Vec<ClientEvent>, EncodeError> {
        let decoder = &self.decoder;
        let events = self
            .encoder
            .encode(input, |call_id| decoder.is_backend_call(call_id))?;
        for (event_id, delegation_id) in self.encoder.take_result_appends() {
            self.decoder.expect_result(&event_id, &delegation_id);
        }
        for at_ms in self.encoder.take_voiced_input() {
            // Events it infers (none until the track reaches `at_ms`, in
            // practice) come with the next decoded frame's time rules.
            let early = self.decoder.user_voice(at_ms);
            if !early.is_empty() {
                tracing::debug!(
                    events = early.len(),
                    "inferred from the microphone before the next frame"
                );
                self.pending.extend(early);
            }
        }
        Ok(events)
    }

    /// The decoder (for decoding already-parsed events).
    pub fn decoder_mut(&mut self) -> &mut Decoder {
        &mut self.decoder
    }
}

impl RealtimeCodec for LiveCodec {
    fn capabilities(&self) -> Capabilities {
        let mut caps = super::capabilities(&self.model);
        let backend = matches!(self.settings.delegation, DelegationMode::Responses { .. });
        caps.response_after_tool_result = backend;
        // A Responses backend calls the session's function tools by name,
        // with arguments; only client delegation hands over bare requests.
        caps.delegated_tools = !backend;
        let format = self.encoder.format();
        caps.input_sample_rate = format.sample_rate;
        caps.output_sample_rate = format.sample_rate;
        caps
    }

    fn encode(&mut self, input: &ClientInput) -> Result<Vec<WireFrame>, EncodeError> {
        json_text_frames(&self.encode_events(input)?)
    }

    fn decode(&mut self, frame: &WireFrame) -> Result<Vec<ModelEvent>, DecodeError> {
        let decoded = decode_json_frame(
            &mut self.decoder,
            frame,
            Decoder::decode_text,
            Decoder::decode_close,
        )?;
        let mut events = std::mem::take(&mut self.pending);
        events.extend(decoded);
        if self.decoder.started() && !self.encoder.started() {
            // The service started the session without our `session.start`
            // (a sideband attach replays `session.started`).
            self.encoder.already_started(self.decoder.format());
        }
        Ok(events)
    }
}
