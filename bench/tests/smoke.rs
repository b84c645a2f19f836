//! Each subcommand runs with tiny numbers against the in-process mock and
//! prints its tables; the counts in them add up. No timing is asserted:
//! these check that the benchmark measures what it says, not how fast.

use serde_json::Value;
use std::process::Command;

/// Runs the bench with `args` and `--json`, returning the document.
fn bench(args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_understudy-bench"))
        .args(args)
        .arg("--json")
        .output()
        .expect("the bench binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bench {args:?} failed: {stderr}");
    assert!(
        stderr.contains("[bench]"),
        "no progress on stderr: {stderr}"
    );
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

/// The table whose title starts with `title`.
fn table<'a>(doc: &'a Value, title: &str) -> &'a Value {
    doc["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["title"].as_str().is_some_and(|s| s.starts_with(title)))
        .unwrap_or_else(|| panic!("no table `{title}` in {doc:#}"))
}

fn columns(table: &Value) -> Vec<&str> {
    table["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c.as_str().expect("column name"))
        .collect()
}

fn rows(table: &Value) -> &Vec<Value> {
    table["rows"].as_array().expect("rows")
}

fn num(row: &Value, column: &str) -> f64 {
    row[column]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("`{column}` is not a number in {row}"))
}

#[test]
fn journal_memory_reads_memory_twice_and_the_journal_counts_add_up() {
    let doc = bench(&[
        "journal-memory",
        "--sessions",
        "6",
        "--checkpoint",
        "2",
        "--concurrency",
        "3",
        "--speed",
        "50",
        "--journal-max-sessions",
        "4",
    ]);
    assert_eq!(doc["command"], "journal-memory");
    let readings = table(&doc, "server memory");
    assert_eq!(
        columns(readings),
        [
            "point",
            "sessions_run",
            "failed",
            "rss_mib",
            "journal_sessions",
            "journal_mib",
            "evicted",
            "opened"
        ]
    );
    let points = rows(readings);
    assert_eq!(points.len(), 2);
    for (row, run) in points.iter().zip([2.0, 6.0]) {
        assert_eq!(num(row, "sessions_run"), run);
        assert_eq!(num(row, "failed"), 0.0);
        assert_eq!(num(row, "opened"), run, "every session reached the server");
        assert_eq!(num(row, "journal_sessions") + num(row, "evicted"), run);
        assert!(num(row, "rss_mib") > 0.0);
    }
    // The cap of 4 sessions evicted the 2 oldest.
    assert_eq!(num(&points[1], "journal_sessions"), 4.0);
    assert_eq!(num(&points[1], "evicted"), 2.0);
    let caps = table(&doc, "journal caps");
    assert_eq!(rows(caps)[0]["max_sessions"], "4");
    let verdict = &rows(table(&doc, "RSS growth"))[0];
    let growth = num(&points[1], "rss_mib") - num(&points[0], "rss_mib");
    assert!(
        (num(verdict, "growth_mib") - growth).abs() < 0.15,
        "{verdict}"
    );
}

#[test]
fn journal_reads_can_run_its_readers_on_a_niced_runtime() {
    let doc = bench(&[
        "journal-reads",
        "--journalled",
        "3",
        "--live",
        "2",
        "--turns",
        "2",
        "--readers",
        "2",
        "--speed",
        "20",
        "--readers-nice",
        "19",
    ]);
    let phases = rows(table(&doc, "TTFA of live text sessions"));
    assert_eq!(num(&phases[1], "samples"), 4.0);
    assert!(num(&phases[1], "reads_ok") > 0.0, "the niced readers read");
    assert_eq!(num(&phases[1], "reads_failed"), 0.0);
}

#[test]
fn journal_reads_measures_both_phases_and_the_difference() {
    let doc = bench(&[
        "journal-reads",
        "--journalled",
        "3",
        "--live",
        "2",
        "--turns",
        "2",
        "--readers",
        "2",
        "--speed",
        "20",
    ]);
    let main = table(&doc, "TTFA of live text sessions");
    assert_eq!(
        &columns(main)[..5],
        ["phase", "samples", "failed", "ttfa_p50_ms", "ttfa_p99_ms"]
    );
    let phases = rows(main);
    assert_eq!(phases[0]["phase"], "alone");
    assert_eq!(phases[1]["phase"], "with_reads");
    for phase in phases {
        assert_eq!(num(phase, "samples"), 4.0, "2 live × 2 turns");
        assert_eq!(num(phase, "failed"), 0.0);
        assert!(num(phase, "ttfa_p50_ms") <= num(phase, "ttfa_p99_ms"));
        assert!(num(phase, "ttfa_p99_ms") <= num(phase, "ttfa_max_ms"));
    }
    assert_eq!(
        &columns(main)[14..],
        ["server_cores", "bench_process_cores"]
    );
    for phase in phases {
        // The whole process includes the server's threads (give or take a
        // 10 ms clock tick of /proc/self/stat over a short phase).
        assert!(num(phase, "bench_process_cores") + 0.2 >= num(phase, "server_cores"));
    }
    assert_eq!(num(&phases[0], "reads_ok"), 0.0, "no readers in phase 1");
    assert!(
        num(&phases[1], "reads_ok") > 0.0,
        "the readers read in phase 2"
    );
    assert_eq!(num(&phases[1], "reads_failed"), 0.0);
    let verdict = &rows(table(&doc, "TTFA p99 moved"))[0];
    let diff = num(&phases[1], "ttfa_p99_ms") - num(&phases[0], "ttfa_p99_ms");
    assert!(
        (num(verdict, "difference_ms") - diff).abs() < 0.15,
        "{verdict}"
    );
    let journal = rows(table(&doc, "journal"));
    assert_eq!(
        num(&journal[0], "kept"),
        3.0,
        "the fill sessions are journalled"
    );
    // Each phase opened 2 live sessions.
    assert_eq!(num(&journal[1], "opened"), 3.0 + 4.0);
}

#[test]
fn replay_throughput_counts_every_frame_of_both_servers_per_run() {
    let doc = bench(&[
        "replay-throughput",
        "--sessions",
        "1,3",
        "--repeat",
        "2",
        "--deltas",
        "20",
    ]);
    let each = table(&doc, "every run");
    assert_eq!(
        columns(each),
        [
            "server",
            "sessions",
            "run",
            "failed",
            "frames",
            "deltas",
            "secs",
            "frames_per_s",
            "cpu_us_per_frame"
        ]
    );
    let runs = rows(each);
    // 2 loads × 2 servers × 2 runs.
    assert_eq!(runs.len(), 8);
    for run in runs {
        let sessions = num(run, "sessions");
        assert_eq!(num(run, "failed"), 0.0);
        assert_eq!(num(run, "deltas"), 20.0 * sessions);
        assert_eq!(
            num(run, "frames"),
            22.0 * sessions,
            "response.created + deltas + done"
        );
        assert!(num(run, "frames_per_s") > 0.0);
        assert!(num(run, "cpu_us_per_frame") >= 0.0);
    }
    let servers: Vec<&str> = runs.iter().map(|r| r["server"].as_str().unwrap()).collect();
    assert_eq!(servers.iter().filter(|s| **s == "replay").count(), 4);
    assert_eq!(servers.iter().filter(|s| **s == "baseline").count(), 4);
    let ratio = rows(table(&doc, "replay against"));
    assert_eq!(ratio.len(), 2);
    for row in ratio {
        let expected = num(row, "replay_fps") / num(row, "baseline_fps");
        // The table prints rounded rates; the ratio is of the unrounded ones.
        assert!(
            (num(row, "fps_ratio") - expected).abs() <= 0.005 * expected.max(1.0),
            "{row}"
        );
    }
    let repeat = rows(table(&doc, "the same load repeated"));
    assert_eq!(repeat.len(), 4);
    for row in repeat {
        assert_eq!(
            row["frames_per_s_by_run"]
                .as_str()
                .unwrap()
                .split(" / ")
                .count(),
            2
        );
    }
}

#[test]
fn write_cassette_writes_a_synthesized_cassette_the_fixtures_crate_reads() {
    let dir = std::env::temp_dir().join(format!("understudy-bench-{}", std::process::id()));
    let doc = bench(&[
        "write-cassette",
        "--out",
        dir.to_str().unwrap(),
        "--deltas",
        "5",
    ]);
    let path = dir.join("bench-throughput.jsonl");
    assert_eq!(rows(table(&doc, "cassette written"))[0]["frames"], "9");
    let cassette = understudy_fixtures::Cassette::read(&path).expect("the cassette reads back");
    assert_eq!(cassette.frames.len(), 9);
    assert_eq!(
        cassette.header.origin,
        understudy_fixtures::Origin::Synthesized
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_names_every_subcommand() {
    let output = Command::new(env!("CARGO_BIN_EXE_understudy-bench"))
        .arg("--help")
        .output()
        .expect("runs");
    let help = String::from_utf8_lossy(&output.stdout);
    for name in [
        "journal-memory",
        "journal-reads",
        "replay-throughput",
        "paced-replay",
        "respond-capacity",
        "write-cassette",
    ] {
        assert!(help.contains(name), "{name} missing from --help:\n{help}");
    }
}

#[test]
fn overload_serves_up_to_the_cap_and_refuses_the_rest_with_429() {
    let doc = bench(&[
        "overload",
        "--connects",
        "40",
        "--over-ms",
        "100",
        "--max-sessions",
        "10",
    ]);
    let table = table(&doc, "40 connects over 100 ms");
    let row = &rows(table)[0];
    assert_eq!(num(row, "connects"), 40.0);
    // Served sessions are held until every connect is answered: the cap fills.
    assert_eq!(num(row, "served"), 10.0, "{row}");
    assert_eq!(num(row, "refused 429"), 30.0, "{row}");
    assert_eq!(num(row, "timed out") + num(row, "reset"), 0.0, "{row}");
    assert!(num(row, "max ms") > 0.0);
}

#[test]
fn paced_replay_times_every_delta_of_both_servers() {
    let doc = bench(&[
        "paced-replay",
        "--sessions",
        "1,3",
        "--deltas",
        "6",
        "--interval-ms",
        "5",
    ]);
    assert_eq!(doc["command"], "paced-replay");
    let each = table(&doc, "delta lateness");
    assert_eq!(
        columns(each),
        [
            "server",
            "sessions",
            "failed",
            "deltas",
            "late_p50_ms",
            "late_p99_ms",
            "late_max_ms"
        ]
    );
    let loads = rows(each);
    // 2 loads × 2 servers, replay first.
    assert_eq!(loads.len(), 4);
    for (load, (server, sessions)) in loads.iter().zip([
        ("replay", 1.0),
        ("baseline", 1.0),
        ("replay", 3.0),
        ("baseline", 3.0),
    ]) {
        assert_eq!(load["server"], server);
        assert_eq!(num(load, "sessions"), sessions);
        assert_eq!(num(load, "failed"), 0.0, "{load}");
        assert_eq!(num(load, "deltas"), 6.0 * sessions, "every delta timed");
        assert!(num(load, "late_p50_ms") >= 0.0);
        assert!(num(load, "late_p50_ms") <= num(load, "late_p99_ms"));
        assert!(num(load, "late_p99_ms") <= num(load, "late_max_ms"));
    }
    let side = rows(table(&doc, "replay against the no-logic baseline"));
    assert_eq!(side.len(), 2);
    for (row, pair) in side.iter().zip(loads.chunks(2)) {
        assert_eq!(row["replay_p99_ms"], pair[0]["late_p99_ms"]);
        assert_eq!(row["baseline_p99_ms"], pair[1]["late_p99_ms"]);
        let diff = num(row, "replay_p99_ms") - num(row, "baseline_p99_ms");
        assert!((num(row, "difference_ms") - diff).abs() < 0.002, "{row}");
    }
}

#[test]
fn paced_replay_paces_the_deltas() {
    // 4 deltas 150 ms apart: the answer takes at least 450 ms, so a server
    // that ignored the schedule could not make the run take that long.
    let started = std::time::Instant::now();
    let doc = bench(&[
        "paced-replay",
        "--sessions",
        "1",
        "--deltas",
        "4",
        "--interval-ms",
        "150",
        "--no-baseline",
    ]);
    assert!(started.elapsed() >= std::time::Duration::from_millis(450));
    let load = &rows(table(&doc, "delta lateness"))[0];
    assert_eq!(num(load, "deltas"), 4.0);
}

#[test]
fn respond_capacity_streams_voice_turns_and_times_every_answer() {
    // Two steps, both run (--keep-going), answers at 5× real time so the
    // turns end soon after the clip.
    let doc = bench(&[
        "respond-capacity",
        "--sessions",
        "1,3",
        "--keep-going",
        "--pace",
        "0.2",
    ]);
    assert_eq!(doc["command"], "respond-capacity");
    let each = table(&doc, "audio delta lateness per step");
    assert_eq!(
        columns(each),
        [
            "sessions",
            "turns",
            "failed",
            "deltas",
            "late_p50_ms",
            "late_p99_ms",
            "late_max_ms",
            "send_late_p50_ms",
            "send_late_p99_ms",
            "server_cores",
            "client_cores"
        ]
    );
    let steps = rows(each);
    assert_eq!(steps.len(), 2);
    for (step, n) in steps.iter().zip([1.0, 3.0]) {
        assert_eq!(num(step, "sessions"), n);
        assert_eq!(num(step, "turns") + num(step, "failed"), n);
        assert_eq!(num(step, "failed"), 0.0, "VAD ended every turn: {step}");
        // Every answer is spoken: at least one delta per turn.
        assert!(num(step, "deltas") >= n, "{step}");
        assert!(num(step, "late_p50_ms") <= num(step, "late_p99_ms"));
        assert!(num(step, "late_p99_ms") <= num(step, "late_max_ms"));
        assert!(num(step, "send_late_p50_ms") <= num(step, "send_late_p99_ms"));
        assert!(num(step, "server_cores") > 0.0, "the server worked");
    }
    let verdict = &rows(table(&doc, "capacity"))[0];
    assert_eq!(num(verdict, "steps_run"), 2.0);
    assert_eq!(num(verdict, "limit_ms"), 20.0);
    // The largest N is one of the steps within the limit, or n/a.
    let within: Vec<f64> = steps
        .iter()
        .filter(|s| num(s, "failed") == 0.0 && num(s, "late_p99_ms") <= 20.0)
        .map(|s| num(s, "sessions"))
        .collect();
    match within.iter().copied().reduce(f64::max) {
        Some(n) => assert_eq!(num(verdict, "largest_sessions"), n),
        None => assert_eq!(verdict["largest_sessions"], "n/a"),
    }
}

#[test]
fn respond_capacity_stops_the_ramp_after_a_step_over_the_limit() {
    // A limit no step can meet (lateness is never negative): the ramp stops
    // after its first step.
    let doc = bench(&[
        "respond-capacity",
        "--sessions",
        "1,2",
        "--limit-ms=-1",
        "--pace",
        "0.2",
    ]);
    let steps = rows(table(&doc, "audio delta lateness per step"));
    assert_eq!(steps.len(), 1);
    let verdict = &rows(table(&doc, "capacity"))[0];
    assert_eq!(verdict["largest_sessions"], "n/a");
    assert_eq!(num(verdict, "steps_run"), 1.0);
}

#[test]
fn agent_memory_reads_the_server_process_before_while_open_and_after() {
    let doc = bench(&[
        "agent-memory",
        "--sessions",
        "4",
        "--concurrency",
        "2",
        "--settle",
        "1",
    ]);
    assert_eq!(doc["command"], "agent-memory");
    let readings = rows(table(&doc, "agent server process"));
    let points: Vec<&str> = readings
        .iter()
        .map(|r| r["point"].as_str().unwrap())
        .collect();
    assert_eq!(
        points,
        ["before", "all open", "closed +1s", "closed +settle"]
    );
    assert_eq!(num(&readings[1], "open_sessions"), 4.0);
    assert!(num(&readings[0], "rss_mib") > 0.0);
    // Each open session holds its front-end socket and its provider one.
    assert!(
        num(&readings[1], "fds") >= num(&readings[0], "fds") + 8.0,
        "{readings:?}"
    );
    assert!(
        num(&readings[3], "fds") < num(&readings[1], "fds"),
        "descriptors came back: {readings:?}"
    );
    let verdict = rows(table(&doc, "memory returned after the sessions closed"));
    assert_eq!(num(&verdict[0], "sessions"), 4.0);
    assert_eq!(num(&verdict[0], "failed"), 0.0);
}
