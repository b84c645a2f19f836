//! Who and how many the deployment server lets in, and how long a quiet
//! client may stay: optional key auth, the session cap, the listener that
//! times request heads (see [`understudy_adapters::serve_limits`]).
//!
//! # Auth
//!
//! Off unless keys are configured ([`Gate::keys`], `agent --api-key` or
//! `UNDERSTUDY_AGENT_KEY`). A key is accepted from any of the places a
//! client can put it:
//!
//! - `Authorization: Bearer KEY` (servers, scripts);
//! - `?token=KEY` in the socket URL (a browser's `new WebSocket(url)` can
//!   set nothing else);
//! - the subprotocol `understudy-key.KEY`, offered next to `understudy`
//!   (`new WebSocket(url, ["understudy", "understudy-key." + key])`, which
//!   keeps the key out of URLs and logs); the server selects `understudy`.
//!
//! A missing or wrong key gets `401` at the upgrade, a socket past the cap
//! `429`, both with the body of a `server_error` event (the vocabulary's
//! only error shape).

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use understudy_adapters::serve_limits::{ServeTimeouts, SessionSlots};

/// The subprotocol a browser offers with its key, and the server selects.
pub const SUBPROTOCOL: &str = "understudy";
/// The prefix of the subprotocol carrying the key.
pub const KEY_SUBPROTOCOL_PREFIX: &str = "understudy-key.";

/// What the server checks before a socket is served.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    /// Keys accepted; empty: no auth.
    pub keys: Vec<String>,
    /// One slot per open front-end socket.
    pub slots: SessionSlots,
    /// Head, first-frame and idle timeouts (the server reads no bodies).
    pub timeouts: ServeTimeouts,
}

impl Gate {
    /// Whether the request carries an accepted key (always, without keys).
    pub fn admits(&self, headers: &HeaderMap, query: Option<&str>) -> bool {
        if self.keys.is_empty() {
            return true;
        }
        offered_keys(headers, query).any(|key| self.keys.iter().any(|k| same(k, &key)))
    }
}

/// Every key the request offers, wherever it is.
fn offered_keys<'a>(
    headers: &'a HeaderMap,
    query: Option<&'a str>,
) -> impl Iterator<Item = String> + 'a {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|k| k.trim().to_owned());
    let token = query.into_iter().flat_map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .filter(|(name, _)| name == "token")
            .map(|(_, value)| value.into_owned())
    });
    let subprotocol = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|p| p.trim().strip_prefix(KEY_SUBPROTOCOL_PREFIX))
        .map(str::to_owned);
    bearer.into_iter().chain(token).chain(subprotocol)
}

/// Compares keys in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Whether the client offered the `understudy` subprotocol (then the server
/// must select it, or a browser fails the handshake).
pub fn offers_subprotocol(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == SUBPROTOCOL)
}

/// An HTTP refusal with a `server_error` body.
pub fn refusal(status: StatusCode, error_type: &str, code: &str, message: String) -> Response {
    let body = json!({"type": "server_error", "error_type": error_type, "code": code,
        "message": message});
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn a_key_is_taken_from_each_place_and_only_a_right_one() {
        let gate = Gate {
            keys: vec!["s3cret".into()],
            ..Gate::default()
        };
        assert!(!gate.admits(&HeaderMap::new(), None));
        assert!(gate.admits(&headers(&[("authorization", "Bearer s3cret")]), None));
        assert!(!gate.admits(&headers(&[("authorization", "Bearer s3cre")]), None));
        assert!(gate.admits(&HeaderMap::new(), Some("a=1&token=s3cret")));
        assert!(!gate.admits(&HeaderMap::new(), Some("token=nope")));
        let offered = headers(&[(
            "sec-websocket-protocol",
            "understudy, understudy-key.s3cret",
        )]);
        assert!(gate.admits(&offered, None));
        assert!(offers_subprotocol(&offered));
        assert!(
            Gate::default().admits(&HeaderMap::new(), None),
            "no keys: open"
        );
    }
}
