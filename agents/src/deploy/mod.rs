//! The deployment server: a WebSocket server that speaks the JSON event
//! vocabulary of AgentScope's realtime front end (its first voice
//! generation, AgentScope 1.0.x) and runs one
//! [`crate::realtime::RealtimeAgent`] per session.
//!
//! - Route: `WS /ws/{user_id}/{session_id}`, as AgentScope's example server.
//!   `GET /api/check-models` says which providers are configured.
//! - The first event is `client_session_create` with `config {instructions,
//!   agent_name, model_provider}` (plus optional `voice`, `model`). The server
//!   picks the provider ([`Providers`]), starts the agent, and answers
//!   `server_session_created`; `agent_ready` follows when the provider
//!   session is configured.
//! - Then `client_audio_append`, `client_text_append`, `client_image_append`,
//!   `client_audio_commit`, `client_response_create`,
//!   `client_response_cancel` and `client_session_end` drive the agent, and
//!   the agent's events come back as `agent_*` events (each with `agent_id`,
//!   `agent_name`). `client_session_end` is answered by `agent_ended` then
//!   `server_session_ended`; the socket stays open for a new session.
//! - Many sessions run at once, each with its own agent and provider
//!   connection ([`SessionRegistry`]; one live session per
//!   `{user_id}/{session_id}`).
//!
//! # Errors never close the connection (bad frames do)
//!
//! An event before `client_session_create`, an unknown `type`, malformed
//! JSON, a frame without `type`, a payload that does not fit its event, a
//! binary frame, an unknown or unconfigured `model_provider`, or a provider
//! that cannot be reached: each is answered with a `server_error` event
//! (`error_type`, `code`, `message`, `event_type`) and the connection — and
//! the session, if one is live — carries on. `server_error` is an Understudy
//! extension: AgentScope's server has no error event of its own (it crashes
//! on an event before creation, and raises on unknown types).
//!
//! Only frames the WebSocket layer cannot read end the connection, with the
//! close RFC 6455 names: a text frame that is not UTF-8 (1007), a frame over
//! the socket's limit (a `server_error` `message_too_large`, then 1009). A
//! client's own close is answered with a close.
//!
//! # Where AgentScope's front end and server disagree
//!
//! Both sides are accepted:
//!
//! - **Image payload key.** The schema's `client_image_append` carries the
//!   picture under `image`; AgentScope's own front end sends it under `data`
//!   (so AgentScope's server rejects every camera frame). Either key is
//!   taken here.
//! - **Input audio rate.** The front end records 16 kHz and says so in
//!   `format.rate`; AgentScope's server ignores the format and hands the
//!   bytes to the provider as they are (OpenAI then hears 16 kHz audio as
//!   24 kHz). Here `format.rate` is honoured and the agent resamples to the
//!   provider's rate; without a `format`, 16 kHz (the front end's rate) is
//!   assumed ([`DeployConfig::default_input_rate`]).
//! - **Output audio rate.** The front end plays `agent_response_audio_delta`
//!   at a fixed 24 kHz whatever `format.rate` says; AgentScope's DashScope
//!   models other than `qwen3-omni-flash` produce 16 kHz. Here all output is
//!   resampled to [`DeployConfig::output_sample_rate`] (24 kHz) and
//!   `format.rate` states it.
//! - **`session_id` on client events.** The schema requires it on every
//!   event after creation; the server never reads it. Here it is optional
//!   and ignored (the socket is the session).
//! - **Events the server ignored.** AgentScope's agent silently drops
//!   `client_audio_commit`, `client_response_create`,
//!   `client_response_cancel` and `client_tool_result`. Here commit and
//!   response-create end the user's turn and ask for an answer, cancel stops
//!   the agent (barge-in), and a front-end tool result is refused with a
//!   `server_error` (`unsupported_event`), since tools run in the agent.
//!   A text is answered by itself, so the `client_response_create` AgentScope's
//!   front end sends after `client_text_append` asks for nothing more (no
//!   empty audio commit, no second response). Where the provider takes no
//!   text (its dialect's capabilities say so: Qwen-Omni), the text gets one
//!   `server_error` (`unsupported_input`) and the request after it is a no-op.
//!
//! # Extensions
//!
//! Besides `server_error`: `agent_interrupted` (stop playback; the user
//! talked over the agent), `agent_reconnecting` / `agent_reconnected`
//! (provider connection lost and re-opened), `agent_response_tool_cancelled`.
//! Added fields: `model_provider` on `server_session_created`, `reason` on
//! `agent_ended`, `transcript` on `agent_response_audio_transcript_done`,
//! `is_error` on tool results, `metadata.status` on `agent_response_done`.
//! Token counts and `audio_start_ms`/`audio_end_ms` are 0: the agent layer
//! does not carry them.

mod bridge;
mod error;
pub mod gate;
mod provider;
mod registry;
mod server;
pub mod trim;
pub mod wire;

pub use bridge::{translate, DEFAULT_AGENT_NAME};
pub use error::{ClientFault, DeployError};
pub use gate::Gate;
pub use provider::{ProviderChoice, ProviderEndpoint, Providers};
pub use registry::{Registration, SessionInfo, SessionRegistry};
pub use server::{router, DeployConfig, DeployServer, TIMEOUT_CLOSE};
