//! `doctor watch` as a CI job sees it: the exit status rule, a command that cannot start, and
//! SIGTERM ending the run with the partial report (host sources only: no MySQL, no Docker).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn doctor() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_doctor"));
    c.args(["watch", "--no-docker", "--no-mysql", "--every", "500ms"])
        .env("NO_COLOR", "1");
    c
}

#[test]
fn the_commands_status_passes_through_when_doctor_finds_nothing_to_fail_on() {
    let out = doctor()
        .args(["--fail-on", "never", "--", "sh", "-c", "sleep 1.5; exit 3"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("ended when the command `sh -c sleep 1.5; exit 3` exited with status 3"),
        "{text}"
    );
}

#[test]
fn a_command_that_cannot_start_is_a_usage_error() {
    let out = doctor()
        .args(["--", "doctor-no-such-program-here", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot run `doctor-no-such-program-here`"),
        "{err}"
    );
}

#[test]
fn duration_ends_the_run_and_stops_the_command() {
    let t = Instant::now();
    let out = doctor()
        .args([
            "--fail-on",
            "never",
            "--duration",
            "2s",
            "--format",
            "json",
            "--",
            "sleep",
            "30",
        ])
        .output()
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["run"]["ended_by"], "duration");
    // sleep was stopped with SIGTERM: 128 + 15, its status, passes through.
    assert_eq!(report["run"]["command"]["exit_status"], 143);
    assert_eq!(out.status.code(), Some(143));
}

#[test]
fn sigterm_prints_the_partial_report_and_exits_143() {
    let child = doctor()
        .args(["--fail-on", "never", "--", "sleep", "30"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let t = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(143), "{text}");
    assert!(text.contains("PARTIAL: interrupted"), "{text}");
    assert!(text.contains("ended by a signal"), "{text}");
}

#[test]
fn chart_draws_the_run_beside_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("run.svg");
    let out = doctor()
        .args(["--fail-on", "never", "--chart"])
        .arg(&chart)
        .args(["--", "sleep", "1.2"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains("seconds from the start of the run"), "{svg}");
    // Only the chart: the temporary file it was written through is gone.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_chart_into_a_missing_directory_fails_before_the_command_runs() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let out = doctor()
        .arg("--chart")
        .arg(dir.path().join("no/such/run.svg"))
        .args(["--", "touch"])
        .arg(&marker)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot write the chart to"), "{err}");
    assert!(err.contains("no/such/run.svg"), "{err}");
    assert!(!marker.exists(), "the command ran");
}
