//! Faults made for real while doctor runs, as a user meets them: Ctrl-C (SIGINT) or a service
//! manager's SIGTERM during the window, and a database server that hangs (stopped with SIGSTOP
//! after doctor's account was made) under an overall `--timeout`. In each, what was read is
//! reported, said to be partial or naming the source that did not answer, and the exit status is
//! the documented one.
//!
//! Port 33142 (MariaDB).

#[path = "support/mariadb.rs"]
mod mariadb;

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn doctor(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_doctor"))
        .env("HOME", std::env::temp_dir())
        .env_remove("MYSQL_PWD")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("doctor starts")
}

/// Waits for the run to end, at most `limit`; its exit code, stdout, and how long it took.
fn finish(mut child: Child, limit: Duration) -> (i32, String, Duration) {
    let t = Instant::now();
    while child.try_wait().expect("doctor runs").is_none() {
        if t.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "doctor still running after {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = t.elapsed();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        took,
    )
}

/// Waits until doctor's collector threads run (its window has begun), at most 10 s.
fn in_window(child: &Child) {
    let dir = format!("/proc/{}/task", child.id());
    let t = Instant::now();
    while std::fs::read_dir(&dir).map_or(0, Iterator::count) < 2 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "doctor never started its window"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(700));
}

fn kill(child: &Child, signal: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{signal}");
}

#[test]
fn sigint_in_the_window_reports_what_was_read_and_exits_130() {
    let child = doctor(&[
        "check",
        "--interval",
        "20s",
        "--no-docker",
        "--no-mysql",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    in_window(&child);
    kill(&child, "INT");
    let (code, out, took) = finish(child, Duration::from_secs(10));
    eprintln!("report out {took:?} after SIGINT");
    assert_eq!(code, 130);
    // Not the 20 s window, nor a hung wait: what the collectors had, at once.
    assert!(took < Duration::from_secs(3), "{took:?}");
    let r: Value = serde_json::from_str(&out).expect("the JSON report");
    assert_eq!(r["window"]["interrupted"], "SIGINT");
    let elapsed = r["window"]["elapsed_ms"].as_f64().unwrap();
    assert!((500.0..15_000.0).contains(&elapsed), "{elapsed}");
    let cpu = r["collectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "cpu")
        .unwrap();
    assert_eq!(cpu["status"], "ok", "the window's readings are kept");
}

#[test]
fn sigterm_ends_a_snapshot_with_the_partial_window_and_exits_143() {
    let child = doctor(&["snapshot", "--interval", "20s", "--no-docker", "--no-mysql"]);
    in_window(&child);
    kill(&child, "TERM");
    let (code, out, took) = finish(child, Duration::from_secs(10));
    assert_eq!(code, 143);
    assert!(took < Duration::from_secs(3), "{took:?}");
    let s: Value = serde_json::from_str(&out).expect("the snapshot");
    assert_eq!(s["window"]["interrupted"], "SIGTERM");
    assert!(s["window"]["elapsed_ms"].as_f64().unwrap() < 15_000.0);
    // The table says it is partial.
    let child = doctor(&[
        "check",
        "--interval",
        "20s",
        "--no-docker",
        "--no-mysql",
        "--fail-on",
        "never",
    ]);
    in_window(&child);
    kill(&child, "TERM");
    let (code, out, _) = finish(child, Duration::from_secs(10));
    assert_eq!(code, 143);
    assert!(
        out.lines()
            .next()
            .unwrap_or("")
            .contains("interrupted by SIGTERM after"),
        "{out}"
    );
}

#[test]
fn a_timeout_shorter_than_the_window_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_doctor"))
        .args([
            "check",
            "--interval",
            "5s",
            "--timeout",
            "3s",
            "--no-docker",
            "--no-mysql",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--timeout 3s must be longer than the window (5s)"),
        "{err}"
    );
}

/// A server that stops answering after doctor's account was made: the whole run ends by
/// `--timeout` with the MySQL section naming what happened, the host's sections intact.
#[test]
fn a_hung_server_is_reported_within_the_timeout() {
    let db = mariadb::MariaDb::start(33142, &[]);
    db.create_user("doctor", "doctor", &["PROCESS ON *.*"]);
    db.pause();
    let state = std::fs::read_to_string(format!("/proc/{}/stat", db.pid())).unwrap();
    assert!(
        state.split_whitespace().nth(2) == Some("T"),
        "mariadbd is stopped: {state}"
    );
    let child = doctor(&[
        "check",
        "--interval",
        "1s",
        "--timeout",
        "3s",
        "--no-docker",
        "--mysql",
        "mysql://doctor:doctor@127.0.0.1:33142",
        "--mysql-connect-timeout",
        "10",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let (code, out, took) = finish(child, Duration::from_secs(20));
    db.resume();
    eprintln!("report out after {took:?} (--timeout 3s)");
    assert_eq!(code, 0);
    // The timeout bounds the run (some slack for the process's own start and the report).
    assert!(took < Duration::from_millis(4500), "{took:?}");
    let r: Value = serde_json::from_str(&out).expect("the JSON report");
    let status = |name: &str| {
        r["collectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(status("cpu")["status"], "ok");
    assert_eq!(status("tcp")["status"], "ok");
    let mysql = status("mysql");
    assert_eq!(mysql["status"], "error", "{mysql}");
    assert!(
        !mysql["message"].as_str().unwrap_or("").is_empty(),
        "{mysql}"
    );
}

/// doctor run as an ordinary user (`nobody`, through `setpriv`) on a host whose Docker engine
/// only root and the docker group may reach: the containers section says why it is missing and
/// what to do; every host section is still read.
#[test]
fn a_run_as_an_ordinary_user_says_what_it_could_not_see() {
    let engine = Command::new("docker").arg("info").output();
    assert!(
        engine.is_ok_and(|o| o.status.success()),
        "this test needs a running Docker engine (bash tests/run.sh starts dockerd)"
    );
    let setpriv = Command::new("setpriv").arg("--version").output();
    assert!(
        setpriv.is_ok(),
        "this test needs setpriv: apt-get install util-linux"
    );
    // The binary where `nobody` may run it (a checkout under /root is not).
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("doctor");
    std::fs::copy(env!("CARGO_BIN_EXE_doctor"), &bin).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let socket = std::fs::metadata("/var/run/docker.sock").expect("the engine's socket");
    assert_eq!(
        socket.permissions().mode() & 0o007,
        0,
        "the socket is not open to others here: nothing to test"
    );
    let out = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(&bin)
        .args([
            "check",
            "--interval",
            "1s",
            "--no-mysql",
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let collectors = r["collectors"].as_array().unwrap();
    let of = |name: &str| collectors.iter().find(|c| c["name"] == name).unwrap();
    for host in ["cpu", "memory", "disks", "tcp", "listeners", "processes"] {
        assert_eq!(of(host)["status"], "ok", "{host}: {}", of(host));
    }
    let containers = of("containers");
    assert_eq!(containers["status"], "error", "{containers}");
    let message = containers["message"].as_str().unwrap();
    assert!(
        message.contains("permission denied") && message.contains("docker group"),
        "{message}"
    );
    // The rules that needed it say so, rather than passing.
    let throttled = r["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "container-cpu-throttled")
        .expect("container-cpu-throttled not checked");
    assert!(
        throttled["reason"]
            .as_str()
            .unwrap()
            .contains("permission denied"),
        "{throttled}"
    );
}

/// One log rotated (renamed, a new file created) and another truncated while doctor reads them:
/// the lines written in the window are counted in the new and the truncated file, none twice,
/// none lost, and the section is read.
#[test]
fn a_log_rotated_and_another_truncated_in_the_window_count_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let line = "2026-12-06T10:00:00Z ERROR [ExceptionsHandler] Error: Queue limit reached.\n";
    std::fs::write(&a, line.repeat(10)).unwrap();
    std::fs::write(&b, line.repeat(10)).unwrap();
    let child = doctor(&[
        "snapshot",
        "--interval",
        "4s",
        "--no-docker",
        "--no-mysql",
        "--log",
        a.to_str().unwrap(),
        "--log",
        b.to_str().unwrap(),
    ]);
    in_window(&child);
    // logrotate's default: rename, then the application opens a new file.
    std::fs::rename(&a, dir.path().join("a.log.1")).unwrap();
    std::fs::write(&a, line.repeat(5)).unwrap();
    // copytruncate: the file emptied in place, then written again.
    std::fs::write(&b, "").unwrap();
    std::fs::write(&b, line.repeat(3)).unwrap();
    let (code, out, _) = finish(child, Duration::from_secs(20));
    assert_eq!(code, 0);
    let s: Value = serde_json::from_str(&out).expect("the snapshot");
    let logs = &s["logs"];
    assert_eq!(logs["status"], "ok", "{logs}");
    let pool = logs["categories"]["db-pool-exhausted"].clone();
    assert_eq!(
        pool["in_window"], 8,
        "5 in the new a.log, 3 in the truncated b.log: {logs:#}"
    );
}
