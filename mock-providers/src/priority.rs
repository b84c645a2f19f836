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

/// Asks the OS to run the calling thread `steps` nice levels below where it
/// runs now (at most [`LOWEST`]); where it refuses, `what` (named in a debug
/// log) keeps its priority. Relative, so a server started under `nice`
/// keeps its turn work below its own sessions either way.
#[cfg(target_os = "linux")]
pub(crate) fn lower_by(what: &str, steps: i32) {
    // SAFETY: getpriority and setpriority take plain integers and touch no
    // memory of ours; as in `lower`, PRIO_PROCESS with who = 0 is the
    // calling thread. getpriority may return -1 as a value: errno tells.
    let current = unsafe {
        *libc::__errno_location() = 0;
        libc::getpriority(libc::PRIO_PROCESS, 0)
    };
    let failed = current == -1 && std::io::Error::last_os_error().raw_os_error() != Some(0);
    let wanted = if failed { 0 } else { current }
        .saturating_add(steps)
        .min(LOWEST);
    // SAFETY: as above, plain integers, the calling thread.
    let status = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, wanted) };
    if status != 0 {
        tracing::debug!(
            error = %std::io::Error::last_os_error(),
            "{what} keeps its priority"
        );
    }
}

/// Elsewhere the thread keeps its priority.
#[cfg(not(target_os = "linux"))]
pub(crate) fn lower_by(_what: &str, _steps: i32) {}
