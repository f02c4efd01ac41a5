//! Faults made for real while doctor runs, as a user meets them: Ctrl-C (SIGINT) or a service
//! manager's SIGTERM during the window; a database server that hangs (stopped with SIGSTOP
//! after doctor's account was made) under an overall `--timeout`; a server killed in the window,
//! left dead or restarted, or doctor's connection killed; a run as an ordinary user; logs
//! rotated and truncated; processes exiting while `/proc` is read. In each, what was read is
//! reported, said to be partial or naming the source that did not answer and why, and the exit
//! status is the documented one.
//!
//! Ports 33142 and 33144 (MariaDB).

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

/// The report's entry for collector `name` (its `status` and `message`).
fn collector<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["collectors"]
        .as_array()
        .expect("the report lists its collectors")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} collector: {report}"))
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
    let cpu = collector(&r, "cpu");
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
    let status = |name: &str| collector(&r, name).clone();
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
    let of = |name: &str| collector(&r, name);
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

/// The MySQL section of a JSON report: (status, message).
fn mysql_section(out: &str) -> (String, String) {
    let r: Value = serde_json::from_str(out).expect("the JSON report");
    let c = collector(&r, "mysql");
    let host_ok = ["cpu", "tcp", "memory"]
        .iter()
        .all(|name| collector(&r, name)["status"] == "ok");
    assert!(host_ok, "the host's sections are intact: {r}");
    (
        c["status"].as_str().unwrap_or("").to_owned(),
        c["message"].as_str().unwrap_or("").to_owned(),
    )
}

fn check_mysql(interval: &str, url: &str) -> Child {
    doctor(&[
        "check",
        "--interval",
        interval,
        "--no-docker",
        "--mysql",
        url,
        "--format",
        "json",
        "--fail-on",
        "never",
    ])
}

/// mysqld killed with SIGKILL in the window (as the OOM killer does), then: left dead; started
/// again (systemd's `Restart=`) before the window ends; and, the server staying up, doctor's
/// connection killed by an administrator. Each is told apart by one reconnection and said so,
/// the host's sections intact.
#[test]
fn a_server_killed_or_restarted_in_the_window_is_said_to_be() {
    let mut db = mariadb::MariaDb::start(33144, &[]);
    db.create_user("doctor", "doctor", &["PROCESS ON *.*"]);
    let url = "mysql://doctor:doctor@127.0.0.1:33144";

    // Killed, not restarted.
    let seen = db.global_status_quiet("Com_show_status");
    let child = check_mysql("3s", url);
    db.wait_for_status_read(seen);
    db.crash();
    let (code, out, _) = finish(child, Duration::from_secs(30));
    assert_eq!(code, 0);
    let (status, message) = mysql_section(&out);
    assert_eq!(status, "error", "{message}");
    assert!(
        message.contains("went away during the window")
            && message.contains("does not accept connections now"),
        "{message}"
    );

    // Killed and restarted within the window. The window is long enough for the restart
    // (measured below; InnoDB recovers this small datadir in a second or two).
    db.restart();
    // Up for a few seconds before the window: a restart then shows as an Uptime shorter than
    // the time since doctor's start reading by more than whole-second readings can blur.
    while db.global_status_quiet("Uptime") < 4 {
        std::thread::sleep(Duration::from_millis(200));
    }
    let window = Duration::from_secs(12);
    let seen = db.global_status_quiet("Com_show_status");
    let child = check_mysql("12s", url);
    db.wait_for_status_read(seen);
    let began = Instant::now();
    let uptime_before = db.global_status_quiet("Uptime");
    db.crash();
    db.restart();
    let restarted_in = began.elapsed();
    let uptime_after = db.global_status_quiet("Uptime");
    assert!(
        uptime_after < uptime_before.max(1) + 5 && restarted_in + Duration::from_secs(2) < window,
        "the server restarted (Uptime {uptime_before} s -> {uptime_after} s) within the \
         window: took {restarted_in:?} of {window:?}"
    );
    let (code, out, _) = finish(child, Duration::from_secs(40));
    assert_eq!(code, 0);
    let (status, message) = mysql_section(&out);
    assert_eq!(status, "error", "{message}");
    assert!(message.contains("restarted during the window"), "{message}");
    assert!(message.contains("error log"), "{message}");

    // Still up; only doctor's connection killed.
    let seen = db.global_status_quiet("Com_show_status");
    let child = check_mysql("3s", url);
    db.wait_for_status_read(seen);
    let id = db.sql("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'doctor'");
    let id = id.trim();
    assert!(!id.is_empty(), "doctor's connection is in the processlist");
    db.sql(&format!("KILL CONNECTION {id}"));
    let (code, out, _) = finish(child, Duration::from_secs(30));
    assert_eq!(code, 0);
    let (status, message) = mysql_section(&out);
    assert_eq!(status, "error", "{message}");
    assert!(
        message.contains("closed doctor's connection") && message.contains("no restart"),
        "{message}"
    );
}

/// Forks since boot, as `vmstat -f` prints them.
fn forks() -> u64 {
    let out = Command::new("vmstat")
        .arg("-f")
        .output()
        .expect("vmstat (Debian's procps)");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("vmstat -f prints a count")
}

/// Thousands of short-lived processes start and exit during the window, so that some exit
/// between doctor listing `/proc` and reading their `stat`, `fd/` or `status`: every section is
/// still `ok` and nothing panics. (Whether a given run hits that instant is up to the
/// scheduler; with a process exiting every few milliseconds through both readings, and the
/// readings counted below, it is hit in practice. The fork count proves the churn happened.)
#[test]
fn processes_exiting_while_proc_is_read_lose_nothing() {
    let before = forks();
    // Bounded in count (4000 processes) and time (the loop stops after 8 s).
    let mut churn = Command::new("bash")
        .args([
            "-c",
            "end=$((SECONDS+8)); for i in $(seq 4000); do \
               [ $SECONDS -ge $end ] && break; \
               (exec sleep 0.0$((i % 9 + 1))) & \
               (( i % 40 == 0 )) && wait; \
             done; wait",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("bash");
    // The churn is under way before doctor starts.
    let t = Instant::now();
    while forks() < before + 200 {
        assert!(t.elapsed() < Duration::from_secs(10), "no churn");
        std::thread::sleep(Duration::from_millis(20));
    }
    let at_start = forks();
    let child = doctor(&[
        "check",
        "--interval",
        "3s",
        "--no-docker",
        "--no-mysql",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let (code, out, _) = finish(child, Duration::from_secs(30));
    let during = forks() - at_start;
    let _ = churn.kill();
    let _ = churn.wait();
    assert_eq!(code, 0);
    assert!(
        during >= 500,
        "only {during} processes started during the run"
    );
    let r: Value = serde_json::from_str(&out).expect("the JSON report");
    let collectors = r["collectors"].as_array().unwrap();
    for c in collectors {
        assert_ne!(c["status"], "error", "{c}");
    }
    for name in ["processes", "listeners", "cpu", "memory"] {
        assert_eq!(collector(&r, name)["status"], "ok", "{name}");
    }
}
