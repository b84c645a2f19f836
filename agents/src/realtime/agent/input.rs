//! The front end's way in: [`AgentInput`] and the [`Command`]s it queues for
//! the agent task.

use super::RealtimeAgentError;
use tokio::sync::mpsc;

/// How many front-end inputs may wait for the agent task.
const INPUT_QUEUE: usize = 1024;

/// An input from the front end, as the agent task receives it.
#[derive(Debug)]
pub(super) enum Command {
    /// User audio at its own rate.
    Audio { pcm: Vec<u8>, sample_rate: u32 },
    /// A typed user message.
    Text(String),
    /// An image for the model to see.
    Image { mime_type: String, data: Vec<u8> },
    /// The user's turn ends by hand.
    Commit,
    /// How much of an audio item the front end has played.
    Playback { item_id: String, played_ms: u64 },
    /// The stop button.
    Interrupt,
    /// End the session.
    Close,
}

/// The front end's side of the agent's input: cheap to clone, usable from
/// any task.
#[derive(Debug, Clone)]
pub struct AgentInput {
    tx: mpsc::Sender<Command>,
}

impl AgentInput {
    /// A new input handle and the queue the agent task reads.
    pub(super) fn channel() -> (AgentInput, mpsc::Receiver<Command>) {
        let (tx, rx) = mpsc::channel(INPUT_QUEUE);
        (AgentInput { tx }, rx)
    }

    async fn send(&self, command: Command) -> Result<(), RealtimeAgentError> {
        self.tx
            .send(command)
            .await
            .map_err(|_| RealtimeAgentError::Stopped)
    }

    /// User audio, PCM16 mono at `sample_rate` (resampled to the model's rate).
    pub async fn audio(&self, pcm: Vec<u8>, sample_rate: u32) -> Result<(), RealtimeAgentError> {
        self.send(Command::Audio { pcm, sample_rate }).await
    }

    /// A typed user message; the agent stops talking and answers it. Refused
    /// with an `Error` event where the dialect takes no text.
    pub async fn text(&self, text: impl Into<String>) -> Result<(), RealtimeAgentError> {
        self.send(Command::Text(text.into())).await
    }

    /// An image (camera frame, screenshot) for the model to see.
    pub async fn image(
        &self,
        mime_type: impl Into<String>,
        data: Vec<u8>,
    ) -> Result<(), RealtimeAgentError> {
        self.send(Command::Image {
            mime_type: mime_type.into(),
            data,
        })
        .await
    }

    /// Ends the user's turn by hand (push-to-talk, manual turn detection) and
    /// asks for an answer.
    pub async fn commit(&self) -> Result<(), RealtimeAgentError> {
        self.send(Command::Commit).await
    }

    /// How much of an audio item the front end has actually played, in
    /// milliseconds. Barge-in truncates to this; report the final position
    /// when an item finishes playing.
    pub async fn played(
        &self,
        item_id: impl Into<String>,
        played_ms: u64,
    ) -> Result<(), RealtimeAgentError> {
        self.send(Command::Playback {
            item_id: item_id.into(),
            played_ms,
        })
        .await
    }

    /// The stop button: cut the agent off as if the user had spoken.
    pub async fn interrupt(&self) -> Result<(), RealtimeAgentError> {
        self.send(Command::Interrupt).await
    }

    /// Ends the session; the event stream ends after `Closed`.
    pub async fn close(&self) -> Result<(), RealtimeAgentError> {
        self.send(Command::Close).await
    }
}
