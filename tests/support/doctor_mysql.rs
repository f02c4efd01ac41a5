//! Running the real `doctor` binary against a private MariaDB in a clean environment: no
//! `MYSQL_*` variables from the developer's shell, and `HOME` pointing at a directory the test
//! controls, so a real `~/.my.cnf` is never read.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// `doctor` with a clean MySQL environment and `HOME` = `home`.
pub fn doctor(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_doctor"));
    for v in [
        "MYSQL_HOST",
        "MYSQL_TCP_PORT",
        "MYSQL_UNIX_PORT",
        "MYSQL_PWD",
        "DOCTOR_INTERVAL",
    ] {
        c.env_remove(v);
    }
    c.env("HOME", home).env("NO_COLOR", "1");
    c
}

/// One run: the parsed snapshot, the raw output and how long it took.
pub struct Run {
    pub snapshot: serde_json::Value,
    pub output: Output,
    pub wall: Duration,
}

impl Run {
    pub fn mysql(&self) -> &serde_json::Value {
        &self.snapshot["mysql"]
    }

    /// Everything the user could see: stdout and stderr.
    pub fn all_text(&self) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&self.output.stdout),
            String::from_utf8_lossy(&self.output.stderr)
        )
    }
}

/// `doctor snapshot --quiet` with `args`, failing the test unless it exits 0 with JSON.
pub fn snapshot(mut cmd: Command, args: &[&str]) -> Run {
    let t = Instant::now();
    let output = cmd
        .args(["snapshot", "--quiet"])
        .args(args)
        .output()
        .expect("doctor runs");
    let wall = t.elapsed();
    assert!(
        output.status.success(),
        "doctor snapshot {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let snapshot = serde_json::from_slice(&output.stdout).expect("the snapshot is JSON");
    Run {
        snapshot,
        output,
        wall,
    }
}

/// A number from the snapshot at a JSON pointer, failing with the section if it is missing.
pub fn num(v: &serde_json::Value, pointer: &str) -> f64 {
    v.pointer(pointer)
        .and_then(serde_json::Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} is not a number in {v:#}"))
}

/// An integer from the snapshot at a JSON pointer (counts, counter totals and deltas).
pub fn int(v: &serde_json::Value, pointer: &str) -> i64 {
    v.pointer(pointer)
        .and_then(serde_json::Value::as_i64)
        .unwrap_or_else(|| panic!("{pointer} is not an integer in {v:#}"))
}

/// Asserts two figures agree to a hundredth (doctor rounds to two decimals).
#[track_caller]
pub fn assert_close(ours: f64, expected: f64) {
    assert!(
        (ours - expected).abs() < 0.006,
        "doctor says {ours}, expected {expected}"
    );
}

/// Polls `cond` every 50 ms until it holds, failing with `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The host sections a MySQL failure must leave intact.
pub fn assert_host_sections_ok(snapshot: &serde_json::Value) {
    for s in ["cpu", "memory", "disks", "tcp"] {
        assert_eq!(
            snapshot[s]["status"], "ok",
            "the {s} section must still come out: {:#}",
            snapshot[s]
        );
    }
}
