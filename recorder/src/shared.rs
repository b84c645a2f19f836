//! State every session of one recorder shares.

use crate::report::{RecordingReport, SessionSummary};
use crate::upstream::Upstream;
use crate::write_queue::{self, QueueCounters, QueueReceiver, QueueSender, WriteQueueLimits};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use understudy_adapters::registry::ProviderSpec;
use understudy_fixtures::Scrubber;

/// Called with each session's summary when its cassette is written.
pub type SessionHook = Arc<dyn Fn(&SessionSummary) + Send + Sync>;

/// Called, before anything of a session is forwarded, with a scrubber that
/// also knows the credentials the session carries (so logs can drop them).
pub type CredentialHook = Arc<dyn Fn(&Scrubber) + Send + Sync>;

pub(crate) struct Shared {
    pub(crate) provider: &'static ProviderSpec,
    pub(crate) upstream: Upstream,
    pub(crate) out: PathBuf,
    pub(crate) scrubber: Scrubber,
    pub(crate) stop: watch::Receiver<bool>,
    names: Mutex<HashSet<String>>,
    report: Mutex<RecordingReport>,
    writers: Mutex<Vec<JoinHandle<()>>>,
    hook: Option<SessionHook>,
    credential_hook: Option<CredentialHook>,
    queue: QueueSettings,
}

/// How each session's write queue is made.
#[derive(Default)]
pub(crate) struct QueueSettings {
    /// Its bounds.
    pub(crate) limits: WriteQueueLimits,
    /// While `true`, writers take nothing (a stalled disk, for tests and
    /// measurements).
    pub(crate) pause: Option<watch::Receiver<bool>>,
    /// What every queue adds to.
    pub(crate) counters: Arc<QueueCounters>,
}

impl Shared {
    pub(crate) fn new(
        provider: &'static ProviderSpec,
        upstream: Upstream,
        out: PathBuf,
        scrubber: Scrubber,
        stop: watch::Receiver<bool>,
        hooks: (Option<SessionHook>, Option<CredentialHook>),
        queue: QueueSettings,
    ) -> Self {
        let (hook, credential_hook) = hooks;
        let report = RecordingReport {
            toolkit_version: env!("CARGO_PKG_VERSION").to_owned(),
            provider: provider.name.to_owned(),
            upstream: upstream.host(),
            sessions: Vec::new(),
            write_queue: queue.counters.stats(queue.limits),
        };
        Shared {
            provider,
            upstream,
            out,
            scrubber,
            stop,
            names: Mutex::new(HashSet::new()),
            report: Mutex::new(report),
            writers: Mutex::new(Vec::new()),
            hook,
            credential_hook,
            queue,
        }
    }

    /// A new session's write queue.
    pub(crate) fn write_queue<T>(&self) -> (QueueSender<T>, QueueReceiver<T>) {
        write_queue::queue(
            self.queue.limits,
            Arc::clone(&self.queue.counters),
            self.queue.pause.clone(),
        )
    }

    /// A cassette stem `<dialect>-NNN` free in the output folder and not
    /// promised to another session.
    pub(crate) fn allocate_name(&self, dialect: &str) -> String {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        let safe: String = dialect
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        (1..)
            .map(|n| format!("{safe}-{n:03}"))
            .find(|stem| {
                // A `.partial` left by a recorder that was killed is not overwritten.
                !names.contains(stem)
                    && !self.out.join(format!("{stem}.jsonl")).exists()
                    && !self.out.join(format!("{stem}.jsonl.partial")).exists()
            })
            .inspect(|stem| {
                names.insert(stem.clone());
            })
            .unwrap_or_else(|| safe.clone())
    }

    /// Tells the credential hook about a session's scrubber when it learned
    /// secrets the recorder's own scrubber does not name.
    pub(crate) fn learned(&self, session: &Scrubber) {
        if let Some(hook) = &self.credential_hook {
            if session.labels().count() > self.scrubber.labels().count() {
                hook(session);
            }
        }
    }

    /// Keeps a session writer so that shutdown can wait for it.
    pub(crate) fn track(&self, task: JoinHandle<()>) {
        let mut writers = self.writers.lock().unwrap_or_else(|e| e.into_inner());
        writers.retain(|t| !t.is_finished());
        writers.push(task);
    }

    /// The writers still running.
    pub(crate) fn take_writers(&self) -> Vec<JoinHandle<()>> {
        std::mem::take(&mut *self.writers.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Adds a finished session to the report (and its file), then tells the hook.
    pub(crate) fn finish(&self, summary: SessionSummary) {
        tracing::info!("{}", summary.line());
        let report = {
            let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
            report.sessions.push(summary.clone());
            report.write_queue = self.queue.counters.stats(self.queue.limits);
            report.clone()
        };
        if let Err(error) = report.write_into(&self.out) {
            tracing::warn!(%error, "cannot write the recording report");
        }
        if let Some(hook) = &self.hook {
            hook(&summary);
        }
    }

    /// The report so far.
    pub(crate) fn report(&self) -> RecordingReport {
        let mut report = self
            .report
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        report.write_queue = self.queue.counters.stats(self.queue.limits);
        report
    }
}
