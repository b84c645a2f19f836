//! The live session inspector: a page at `GET /__understudy/` (and
//! `/__understudy/inspector`) that shows the journal as it fills, and the
//! routes only it needs — the live feed `GET /__understudy/stream` (SSE),
//! a session's audio `GET /__understudy/sessions/{id}/audio/{in,out}.wav` and
//! the session as a cassette `GET /__understudy/sessions/{id}/cassette`.
//!
//! The page is one hand-written HTML file with its script and style inline,
//! built into the binary: no external assets, no CDN. It holds no data, so it
//! loads without a key; every data route sits behind the journal's key check
//! ([`crate::journal_routes`]), and the page sends the key it was given
//! (`?key=`) with each of its requests.

mod export_routes;
mod stream;

use crate::state::AppState;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// The page, built in.
const PAGE: &str = include_str!("page.html");

/// The inspector's data routes (to be put behind the journal's key check).
pub(crate) fn data_routes() -> Router<AppState> {
    Router::new()
        .route("/__understudy/stream", get(stream::stream))
        .route(
            "/__understudy/sessions/{id}/audio/{file}",
            get(export_routes::audio),
        )
        .route(
            "/__understudy/sessions/{id}/cassette",
            get(export_routes::cassette),
        )
}

/// The page's own routes: open, since the page holds no data.
pub(crate) fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/__understudy/", get(page))
        .route("/__understudy/inspector", get(page))
}

async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        PAGE,
    )
}
