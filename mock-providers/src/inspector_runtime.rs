//! The inspector's runtime: journal and inspector routes served on a
//! low-priority thread of their own, away from the live sessions.
//!
//! Reading the journal is already rendered on a nice-19 thread
//! ([`crate::journal`]'s reader), but the reads' HTTP handling and their
//! large body writes would still run on the main runtime's workers, at
//! normal priority, next to the live sessions: 40 readers moved live TTFA
//! p99 by 7–26 ms (`understudy-bench journal-reads`). So the accept loop
//! ([`GatedAccept::split`](understudy_adapters::serve_limits::GatedAccept::split))
//! hands every connection whose first request targets `/__understudy/` —
//! except the provider mounts under [`MOUNTS`] and the health check, which
//! belong to the main traffic — to a second `axum` server running the same
//! router on a current-thread runtime in the thread [`THREAD`], at nice 19
//! where the OS allows it. Everything else stays on the main runtime.
//!
//! The TLS listener ([`crate::tls`]) keeps everything on the main runtime.
//! A connection is placed by its first request; later requests on a
//! kept-alive connection are served where the first was. The thread ends
//! when the server is told to stop: at once if no connection is open, else
//! after at most [`GRACE`] (open live feeds are then cut).

use crate::server::MOUNTS;
use axum::Router;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::watch;
use understudy_adapters::serve_limits::{self, request_target, SideAccept};

/// The name of the inspector's thread (15 bytes at most: Linux's limit).
pub(crate) const THREAD: &str = "inspector-rt";

/// How long open connections may finish after the server is told to stop.
pub(crate) const GRACE: Duration = Duration::from_secs(2);

/// The health check, answered with the main traffic (a probe of it).
const HEALTH: &str = "/__understudy/health";

/// Whether a request head goes to the inspector's runtime.
pub(crate) fn wants(head: &[u8]) -> bool {
    request_target(head).is_some_and(|target| {
        let path = target.split('?').next().unwrap_or(target);
        path.starts_with("/__understudy/") && !path.starts_with(MOUNTS) && path != HEALTH
    })
}

/// Serves `app` on `listener` on the inspector's thread until `stop` turns
/// true (or its sender goes), then waits [`GRACE`] at most. `header` bounds
/// every later request head on a kept-alive connection (the first one was
/// read under it by the accept loop). If the OS will
/// not give a runtime or a thread, the side is served on the calling
/// runtime instead (logged), so the routes keep working; `None` then.
pub(crate) fn start(
    listener: SideAccept,
    app: Router,
    stop: watch::Receiver<bool>,
    header: Option<Duration>,
) -> Option<JoinHandle<()>> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::warn!(%error, "no inspector runtime: inspector routes share the main one");
            tokio::spawn(serve(listener, app, stop, header));
            return None;
        }
    };
    // Taken back if the thread cannot start.
    let handed = Arc::new(Mutex::new(Some((listener, app, stop, header))));
    let taken = Arc::clone(&handed);
    let spawned = std::thread::Builder::new()
        .name(THREAD.into())
        .spawn(move || {
            crate::priority::lower("the inspector runtime");
            let parts = taken.lock().ok().and_then(|mut parts| parts.take());
            if let Some((listener, app, stop, header)) = parts {
                runtime.block_on(serve(listener, app, stop, header));
            }
        });
    match spawned {
        Ok(thread) => Some(thread),
        Err(error) => {
            tracing::warn!(%error, "no inspector thread: inspector routes share the main runtime");
            let parts = handed.lock().ok().and_then(|mut parts| parts.take());
            if let Some((listener, app, stop, header)) = parts {
                tokio::spawn(serve(listener, app, stop, header));
            }
            None
        }
    }
}

/// Serves until told to stop, then [`GRACE`] at most.
async fn serve(
    listener: SideAccept,
    app: Router,
    stop: watch::Receiver<bool>,
    header: Option<Duration>,
) {
    let mut told = stop.clone();
    let mut graceful = stop;
    let serve = serve_limits::serve(listener, app, header, async move {
        let _ = graceful.wait_for(|stop| *stop).await;
    });
    let deadline = async move {
        let _ = told.wait_for(|stop| *stop).await;
        tokio::time::sleep(GRACE).await;
    };
    tokio::select! {
        () = serve => tracing::debug!("mock inspector server stopped"),
        () = deadline => tracing::debug!("inspector connections cut after the grace period"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(target: &str) -> Vec<u8> {
        format!("GET {target} HTTP/1.1\r\nhost: x\r\n\r\n").into_bytes()
    }

    #[test]
    fn journal_and_inspector_routes_go_aside() {
        for target in [
            "/__understudy/",
            "/__understudy/inspector",
            "/__understudy/sessions?limit=1000",
            "/__understudy/sessions/abc",
            "/__understudy/sessions/abc/audio/in.wav",
            "/__understudy/journal",
            "/__understudy/journal/stats",
            "/__understudy/stream",
        ] {
            assert!(
                wants(&head(target)),
                "{target} goes to the inspector runtime"
            );
        }
    }

    #[test]
    fn provider_routes_mounts_and_health_stay_on_the_main_runtime() {
        for target in [
            "/v1/realtime?model=gpt-realtime",
            "/api-ws/v1/realtime",
            "/__understudy/mount/realtime/openai",
            "/__understudy/mount/chat/completions",
            "/__understudy/health",
            "/__understudy/health?x=1",
            "/__understudy",
            "/",
        ] {
            assert!(!wants(&head(target)), "{target} stays on the main runtime");
        }
        assert!(!wants(b"not http\r\n\r\n"));
    }
}
