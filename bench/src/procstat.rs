//! What the server costs, read from `/proc`: resident memory and CPU time.
//!
//! In-process the server's runtime threads are named (see `target`), so its
//! CPU is the sum of those threads' run time (`/proc/self/task/*/schedstat`,
//! nanoseconds), leaving out the benchmark's own client threads. An external
//! server is a process of its own: its whole CPU (`/proc/<pid>/stat`, in
//! clock ticks) and its `VmRSS`.

use crate::error::{BenchError, Result};
use std::fs;

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

fn read(path: &str) -> Result<String> {
    fs::read_to_string(path).map_err(|source| BenchError::Io {
        what: format!("reading {path}"),
        source,
    })
}

/// `/proc/self` or `/proc/<pid>`.
fn proc_dir(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("/proc/{pid}"),
        None => "/proc/self".to_owned(),
    }
}

/// Resident set size in bytes of `pid` (this process when `None`), from the
/// `VmRSS:` line of its `status`.
pub fn rss_bytes(pid: Option<u32>) -> Result<u64> {
    let path = format!("{}/status", proc_dir(pid));
    let status = read(&path)?;
    parse_vm_rss(&status).ok_or_else(|| BenchError::Protocol(format!("no VmRSS line in {path}")))
}

/// The `VmRSS:` value of a `status` text, in bytes.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// CPU nanoseconds spent so far by this process's threads whose name starts
/// with `prefix` (threads that have exited are no longer counted).
pub fn threads_cpu_ns(prefix: &str) -> Result<u64> {
    let tasks = fs::read_dir("/proc/self/task").map_err(|source| BenchError::Io {
        what: "listing /proc/self/task".into(),
        source,
    })?;
    let mut total = 0;
    for task in tasks.flatten() {
        let dir = task.path();
        // A thread may end between the listing and the reads: skip it.
        let Ok(comm) = fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        if let Ok(schedstat) = fs::read_to_string(dir.join("schedstat")) {
            total += parse_schedstat(&schedstat).unwrap_or(0);
        }
    }
    Ok(total)
}

/// The first field of a `schedstat` line: nanoseconds on a CPU.
fn parse_schedstat(line: &str) -> Option<u64> {
    line.split_whitespace().next()?.parse().ok()
}

/// CPU nanoseconds (user + system) spent so far by process `pid`, all threads.
pub fn process_cpu_ns(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let stat = read(&path)?;
    parse_stat_cpu_ticks(&stat)
        .map(|ticks| ticks * (1_000_000_000 / TICKS_PER_SECOND))
        .ok_or_else(|| BenchError::Protocol(format!("unreadable {path}")))
}

/// `utime + stime` (fields 14 and 15) of a `stat` line; the command name in
/// parentheses may hold spaces, so fields are counted after its `)`.
fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state): utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rss_from_a_status_text() {
        let status = "Name:\tx\nVmPeak:\t  9 kB\nVmRSS:\t   2048 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(2048 * 1024));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }

    #[test]
    fn reads_cpu_ticks_past_a_name_with_spaces() {
        let stat = "42 (tokio (w) 1) S 1 42 42 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 3 0";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(12));
        assert_eq!(
            parse_schedstat("65925441 291043919 242\n"),
            Some(65_925_441)
        );
    }

    #[test]
    fn this_process_has_memory_and_cpu() {
        assert!(rss_bytes(None).unwrap() > 0);
        let me = std::process::id();
        // Burn a little CPU so the counter cannot be zero by luck.
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        assert!(process_cpu_ns(me).unwrap() > 0);
    }
}
