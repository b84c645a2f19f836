//! Lowering a thread's scheduling priority, for work that must not take CPU
//! from live sessions (journal reads, the inspector's runtime).

/// The nice value asked for: the lowest priority.
pub(crate) const LOWEST: i32 = 19;

/// Asks the OS to run the calling thread at nice [`LOWEST`]; where it
/// refuses, `what` (named in a debug log) runs at normal priority.
#[cfg(target_os = "linux")]
pub(crate) fn lower(what: &str) {
    // SAFETY: setpriority takes plain integers and touches no memory of
    // ours. On Linux, PRIO_PROCESS with who = 0 sets the nice value of the
    // calling thread only (threads are scheduled as tasks of their own).
    let status = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, LOWEST) };
    if status != 0 {
        tracing::debug!(
            error = %std::io::Error::last_os_error(),
            "{what} runs at normal priority"
        );
    }
}

/// Elsewhere the thread runs at normal priority (still a thread of its own).
#[cfg(not(target_os = "linux"))]
pub(crate) fn lower(_what: &str) {}
