//! Which GPT-Live socket a path asks for: the primary `…/live/sessions`
//! (recognised by the adapters' registry), or the per-session sockets
//! `…/live/sessions/{id}/fork` and `…/live/sessions/{id}/attach` (the
//! sideband), read here from the path the client sent.

/// What a `…/live/sessions…` path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LivePath {
    /// A new session.
    Primary,
    /// A fork of the stored session with this id.
    Fork(String),
    /// A sideband on the session with this id.
    Attach(String),
}

/// Reads a path (any prefix, trailing `/` ignored); `None` when it is not a
/// GPT-Live socket.
pub fn live_path(path: &str) -> Option<LivePath> {
    let path = path.trim_end_matches('/');
    if path.ends_with("/live/sessions") {
        return Some(LivePath::Primary);
    }
    let (rest, action) = path.rsplit_once('/')?;
    let (rest, id) = rest.rsplit_once('/')?;
    if !rest.ends_with("/live/sessions") || id.is_empty() {
        return None;
    }
    match action {
        "fork" => Some(LivePath::Fork(id.to_owned())),
        "attach" => Some(LivePath::Attach(id.to_owned())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_any_prefix() {
        assert_eq!(live_path("/v1/live/sessions"), Some(LivePath::Primary));
        assert_eq!(live_path("/live/sessions/"), Some(LivePath::Primary));
        assert_eq!(
            live_path("/openai/v1/live/sessions/live_1/fork"),
            Some(LivePath::Fork("live_1".into()))
        );
        assert_eq!(
            live_path("/v1/live/sessions/live_1/attach/"),
            Some(LivePath::Attach("live_1".into()))
        );
        assert_eq!(live_path("/v1/live/sessions/live_1/hangup"), None);
        assert_eq!(live_path("/v1/live/sessionsx"), None);
        assert_eq!(live_path("/v1/realtime"), None);
    }
}
