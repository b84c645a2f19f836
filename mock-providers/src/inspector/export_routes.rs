//! `GET /__understudy/sessions/{id}/audio/{in,out}.wav` and
//! `GET /__understudy/sessions/{id}/cassette`: a kept session's audio and
//! the session itself, built on a blocking thread from its frames (see
//! [`crate::journal::Journal::audio`] and [`crate::journal::Journal::cassette`]).

use crate::journal::{ExportError, Journal, SessionCopy};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use understudy_fixtures::Direction;

/// Why a request got no export: a status and a sentence.
struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

/// A session number from the path, or the answer to a bad one.
fn session_number(id: &str) -> Result<u64, Refused> {
    id.parse::<u64>().map_err(|_| {
        Refused(
            StatusCode::BAD_REQUEST,
            format!("`{id}` is not a session number"),
        )
    })
}

/// The answer to an export that could not be made.
fn refusal(error: ExportError) -> Refused {
    let status = match error {
        ExportError::NotKept(_) | ExportError::AudioNotKept(_) | ExportError::NoAudio { .. } => {
            StatusCode::NOT_FOUND
        }
        ExportError::NotRealtime { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        ExportError::Wav(_) | ExportError::Cassette(_) => {
            tracing::error!(error = %error, cause = ?std::error::Error::source(&error), "a journal export failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    Refused(status, error.to_string())
}

/// Copies session `session` out and runs an export of it on the journal's
/// reader thread (low priority, bounded queue, no lock held there: see
/// `Journal::read`), answering a refusal the routes' way.
async fn exported<T: Send + 'static>(
    journal: &Journal,
    session: u64,
    work: impl FnOnce(SessionCopy) -> Result<T, ExportError> + Send + 'static,
) -> Result<T, Response> {
    let read = journal
        .read(
            move |journal| journal.copy_session(session, 0),
            move |copy| work(copy.ok_or(ExportError::NotKept(session))?),
        )
        .await;
    match read {
        Ok(result) => result.map_err(|error| refusal(error).into_response()),
        Err(refused) => Err(crate::journal_routes::unread(refused)),
    }
}

/// `GET /__understudy/sessions/{id}/audio/{in|out}.wav`.
pub(super) async fn audio(
    State(state): State<AppState>,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    let session = match session_number(&id) {
        Ok(session) => session,
        Err(refused) => return refused.into_response(),
    };
    let direction = match file.as_str() {
        "in.wav" => Direction::ClientToServer,
        "out.wav" => Direction::ServerToClient,
        _ => {
            return (
                StatusCode::NOT_FOUND,
                format!("no `{file}`: a session's audio is `in.wav` (what the client sent) or `out.wav` (what the mock sent)"),
            )
                .into_response()
        }
    };
    match exported(&state.journal, session, move |copy| copy.audio(direction)).await {
        Ok(audio) => (
            [
                (header::CONTENT_TYPE, "audio/wav".to_owned()),
                (
                    header::HeaderName::from_static("x-understudy-sample-rate"),
                    audio.sample_rate.to_string(),
                ),
            ],
            audio.wav,
        )
            .into_response(),
        Err(response) => response,
    }
}

/// `GET /__understudy/sessions/{id}/cassette`: a `.jsonl` download.
pub(super) async fn cassette(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let session = match session_number(&id) {
        Ok(session) => session,
        Err(refused) => return refused.into_response(),
    };
    let built = exported(&state.journal, session, |copy| {
        Ok(copy.cassette()?.to_jsonl_inline()?)
    })
    .await;
    match built {
        Ok(jsonl) => (
            [
                (header::CONTENT_TYPE, "application/x-ndjson".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"session-{session}.jsonl\""),
                ),
            ],
            jsonl,
        )
            .into_response(),
        Err(response) => response,
    }
}
