//! Sending to the model: now when the session is ready, into the
//! [`super::input_buffer::InputBuffer`] when it is not. A send that fails on
//! the socket keeps the input and treats the session as lost; an input the
//! dialect cannot encode is reported and dropped.

use super::runner::Runner;
use crate::realtime::events::AgentEvent;
use understudy_adapters::{ClientError, ClientInput, EncodeError};

impl Runner {
    /// Sends now if the session is ready, else buffers. A send that fails on
    /// the socket buffers the input and treats the session as lost; one the
    /// dialect cannot encode is reported and dropped.
    pub(super) async fn deliver(&mut self, input: ClientInput) {
        if !self.ready {
            self.buffer_input(input);
            return;
        }
        let Some(client) = self.client.as_mut() else {
            self.buffer_input(input);
            return;
        };
        match client.send(&input).await {
            // Kept until answered: a session lost before the answer gets it again.
            Ok(()) => self.handover.on_sent(input),
            Err(ClientError::Encode(error)) => self.report_unsendable(&input, &error),
            Err(error) => {
                self.buffer_input(input);
                self.on_session_ended(format!("send failed: {error}")).await;
            }
        }
    }

    /// Like [`Runner::deliver`], but an input the dialect cannot encode is
    /// only logged, and nothing is kept for a lost session: the agent asked
    /// for it on its own (a cancel, a truncate), not the front end.
    pub(super) async fn deliver_quietly(&mut self, input: ClientInput) {
        if !self.ready {
            return; // a cancel or truncate for a lost session means nothing
        }
        let Some(client) = self.client.as_mut() else {
            return;
        };
        match client.send(&input).await {
            Ok(()) => {}
            Err(ClientError::Encode(error)) => {
                tracing::debug!(%error, "the dialect does not take this; skipped")
            }
            Err(error) => self.on_session_ended(format!("send failed: {error}")).await,
        }
    }

    /// Tells the front end an input of its was refused by the dialect.
    fn report_unsendable(&self, input: &ClientInput, error: &EncodeError) {
        tracing::warn!(%error, "input not sent");
        let kind = serde_json::to_value(input)
            .ok()
            .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
            .unwrap_or_default();
        self.emit(AgentEvent::Error {
            code: "unsupported_input".into(),
            message: format!("{kind}: {error}"),
            fatal: false,
        });
    }

    /// Keeps an input for the next ready session, warning the front end the
    /// first time audio has to be dropped.
    pub(super) fn buffer_input(&mut self, input: ClientInput) {
        if let Some(audio_ms) = self.buffer.push(input) {
            tracing::warn!("input buffer full while the session is down; dropping oldest audio");
            self.emit(AgentEvent::InputDropped { audio_ms });
        }
    }
}
