//! The HTTP face of the mock: one axum [`Router`] made of each family's
//! routes, and how a request finds its family.
//!
//! Three families serve requests, each from its own module, each owning its
//! paths:
//!
//! | family | module | paths |
//! | --- | --- | --- |
//! | HTTP text-to-speech | [`crate::http_tts`] | `POST …/audio/speech`, `POST …/{version}/models/{model}:generateContent` (and `:streamGenerateContent`) |
//! | chat completions | [`crate::chat`] | `…/chat/completions` |
//! | realtime WebSocket | [`crate::realtime`] | `…/realtime`, `…/api-ws/v1/realtime`, Gemini Live's `…/ws/…BidiGenerateContent` |
//!
//! plus the mock's own `GET /__understudy/health` and the journal's routes
//! ([`crate::journal_routes`]: read, clear, stats; keyed like the providers').
//!
//! Providers put their paths under any prefix (a gateway's, a deployment's)
//! and Google puts the method inside a path segment (`model:generateContent`),
//! which axum's path patterns cannot express. So each family says which paths
//! are its own with a `claim` function and serves them from `routes()` at
//! fixed paths under `/__understudy/mount/`; [`mount`] runs before routing and
//! sends each request to the route of the first family that claims it (in the
//! table's order). Handlers read the path the client sent from axum's
//! `OriginalUri`. A path no family claims gets `404 understudy has no route
//! for {path}`.

use crate::limits::ErrorShape;
use crate::state::AppState;
use axum::extract::{OriginalUri, Request};
use axum::http::uri::PathAndQuery;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// One family of endpoints: the paths it claims, and the routes serving them.
struct Family {
    /// The mounted route serving a request with this method and path, if the
    /// family claims it.
    claim: fn(&Method, &str) -> Option<&'static Mount>,
    /// The family's routes, at the paths `claim` returns.
    routes: fn() -> Router<AppState>,
}

/// Every family, in the order their claims are tried.
const FAMILIES: &[Family] = &[
    Family {
        claim: crate::http_tts::claim,
        routes: crate::http_tts::routes,
    },
    Family {
        claim: crate::chat::claim,
        routes: crate::chat::routes,
    },
    Family {
        claim: crate::realtime::claim,
        routes: crate::realtime::routes,
    },
];

/// Where the families' routes live; a request reaches them only through [`mount`].
pub(crate) const MOUNTS: &str = "/__understudy/mount/";

/// A family's route under [`MOUNTS`], and whose error body the mock's own
/// refusals of requests routed there take (the `429` past `--max-sessions`,
/// the `408` of a late body): the family says so where it names the route,
/// and [`mount`] hands it on as a request extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mount {
    /// The route's path.
    pub(crate) path: &'static str,
    /// The error shape of the provider it speaks for.
    pub(crate) shape: ErrorShape,
}

impl Mount {
    /// The route at `path`, refusing in `shape`.
    pub(crate) const fn new(path: &'static str, shape: ErrorShape) -> Self {
        Mount { path, shape }
    }
}

/// Where a path under [`MOUNTS`] that no family claims goes: no route (a
/// `404`; OpenAI's shape for anything the mock refuses on the way).
const NO_ROUTE: Mount = Mount::new("/__understudy/no-route", ErrorShape::OpenAi);

/// Builds the app serving every family this build knows.
pub(crate) fn router(state: AppState) -> Router {
    let families = FAMILIES
        .iter()
        .fold(Router::new(), |router, family| {
            router.merge((family.routes)())
        })
        .route("/__understudy/health", get(|| async { "ok" }))
        .merge(crate::journal_routes::routes(state.clone()))
        .fallback(no_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::limits::body_deadline,
        ))
        .with_state(state);
    // `mount` must run before routing, so it wraps the whole family router.
    Router::new()
        .fallback_service(families)
        .layer(axum::middleware::map_request(mount))
}

async fn no_route(OriginalUri(uri): OriginalUri) -> Response {
    let path = uri.path().trim_end_matches('/');
    (
        StatusCode::NOT_FOUND,
        format!("understudy has no route for {path}"),
    )
        .into_response()
}

/// Sends a request to the route of the first family that claims its path
/// (the query stays), with the mount's [`ErrorShape`] as an extension; any
/// other path under [`MOUNTS`] to no route at all.
async fn mount(mut request: Request) -> Request {
    if let Some(target) = mounted(request.method(), request.uri().path()) {
        if let Some(uri) = with_path(request.uri(), target.path) {
            *request.uri_mut() = uri;
            request.extensions_mut().insert(target.shape);
        }
    }
    request
}

/// Where a request with this method and path is routed, if not at its own path.
fn mounted(method: &Method, path: &str) -> Option<&'static Mount> {
    FAMILIES
        .iter()
        .find_map(|family| (family.claim)(method, path))
        .or_else(|| path.starts_with(MOUNTS).then_some(&NO_ROUTE))
}

/// `uri` with its path replaced (scheme, authority and query kept).
fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_claim_in_order_and_mounts_are_closed() {
        let post = Method::POST;
        let get = Method::GET;
        assert_eq!(
            mounted(&post, "/v1/audio/speech"),
            crate::http_tts::claim(&post, "/v1/audio/speech")
        );
        assert!(mounted(&get, "/v1/audio/speech").is_none());
        assert_eq!(
            mounted(&get, "/v1/chat/completions"),
            crate::chat::claim(&get, "/v1/chat/completions")
        );
        assert!(mounted(&get, "/v1/realtime").is_some());
        assert!(mounted(&get, "/__understudy/health").is_none());
        assert!(mounted(&get, "/nothing/here").is_none());
        assert_eq!(
            mounted(&get, "/__understudy/mount/realtime/openai/x"),
            Some(&NO_ROUTE)
        );
    }

    #[test]
    fn mounts_carry_their_providers_error_shape() {
        let post = Method::POST;
        let get = Method::GET;
        let shape = |method: &Method, path: &str| mounted(method, path).map(|m| m.shape);
        let gemini_tts = "/v1beta/models/gemini-2.5-flash-preview-tts:generateContent";
        assert_eq!(shape(&post, gemini_tts), Some(ErrorShape::Gemini));
        assert_eq!(shape(&post, "/v1/audio/speech"), Some(ErrorShape::OpenAi));
        assert_eq!(
            shape(&post, "/compatible-mode/v1/chat/completions"),
            Some(ErrorShape::OpenAi)
        );
        assert_eq!(
            shape(&get, "/api-ws/v1/realtime"),
            Some(ErrorShape::DashScope)
        );
        assert_eq!(shape(&get, "/nothing/here"), None);
    }

    #[tokio::test]
    async fn the_mount_hands_its_shape_to_the_route() {
        let request = axum::http::Request::builder()
            .method(Method::POST)
            .uri("/v1beta/models/gemini-2.5-flash-preview-tts:generateContent?x=1")
            .body(axum::body::Body::empty())
            .unwrap();
        let mounted = mount(request).await;
        assert_eq!(mounted.uri().path(), "/__understudy/mount/tts/gemini");
        assert_eq!(
            mounted.extensions().get::<ErrorShape>(),
            Some(&ErrorShape::Gemini)
        );
        let own = axum::http::Request::builder()
            .uri("/__understudy/health")
            .body(axum::body::Body::empty())
            .unwrap();
        assert!(mount(own).await.extensions().get::<ErrorShape>().is_none());
    }

    #[test]
    fn rewriting_keeps_the_query() {
        let uri: Uri = "/a/b/realtime?model=m&cassette=c".parse().unwrap();
        let moved = with_path(&uri, "/__understudy/mount/x").unwrap();
        assert_eq!(moved.path(), "/__understudy/mount/x");
        assert_eq!(moved.query(), Some("model=m&cassette=c"));
    }
}
