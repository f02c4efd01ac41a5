//! Two hosts' clocks compared through the MySQL server both read, with a real private MariaDB
//! and the real binary, both runs as the ordinary monitoring account.
//!
//! One host's clock is wrong by 30 s: `faketime` (libfaketime, preloaded into that doctor only)
//! makes it so. This is the one fake here, and it is a fault no test can make for real on one
//! machine without moving the clock of everything running on it; the server, the kernel and
//! the other doctor keep the true time. The skew is checked against what `faketime` really did
//! (the two clocks read side by side with `date`), not against doctor's own figure.
//!
//! Port 33140.

#[path = "support/mariadb.rs"]
mod mariadb;

#[path = "support/doctor_mysql.rs"]
mod run;

use mariadb::MariaDb;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

const SKEW: &str = "+30s";

fn require_faketime() {
    let ok = Command::new("faketime")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        ok,
        "this test needs faketime: apt-get install faketime (bash tests/run.sh installs it)"
    );
}

/// Seconds since the epoch by the real clock and by `faketime SKEW`'s.
fn clocks_apart() -> i64 {
    let read = |cmd: &mut Command| -> i64 {
        let out = cmd.output().expect("date runs");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("date +%s")
    };
    let real = read(Command::new("date").arg("+%s"));
    let fake = read(Command::new("faketime").args(["-f", SKEW, "date", "+%s"]));
    fake - real
}

/// `doctor snapshot` of the server, optionally under `faketime`, started now (not waited for).
fn snapshot(home: &Path, url: &str, out: &Path, fake: bool) -> std::process::Child {
    let doctor = env!("CARGO_BIN_EXE_doctor");
    let mut cmd = if fake {
        let mut c = Command::new("faketime");
        // Only the wall clock: a faked monotonic clock would move every absolute timeout the
        // kernel waits on (futex deadlines) by the skew, and hang the run.
        c.env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .args(["-f", SKEW, doctor]);
        c
    } else {
        Command::new(doctor)
    };
    for v in [
        "MYSQL_HOST",
        "MYSQL_TCP_PORT",
        "MYSQL_UNIX_PORT",
        "MYSQL_PWD",
    ] {
        cmd.env_remove(v);
    }
    cmd.env("HOME", home)
        .args([
            "snapshot",
            "--quiet",
            "--no-docker",
            "--interval",
            "2s",
            "--mysql",
            url,
            "--out",
        ])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("doctor starts")
}

/// Waits for a run (a 2 s window: 60 s is a hang), failing the test with its stderr.
fn finish(mut child: std::process::Child, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().expect("doctor runs").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("doctor stops");
            panic!("{what} hung: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("doctor runs");
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn analyze(a: &Path, b: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_doctor"))
        .args(["analyze", "--format", "json", "--fail-on", "never"])
        .args([a, b])
        .output()
        .expect("doctor runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn a_host_whose_clock_is_30_s_ahead_is_said_to_be() {
    require_faketime();
    let apart = clocks_apart();
    assert!(
        (29..=31).contains(&apart),
        "faketime moved the clock by {apart} s"
    );

    let db = MariaDb::start(33140, &[]);
    db.create_user(
        "doctor",
        "doctor",
        &["PROCESS ON *.*", "SELECT ON performance_schema.*"],
    );
    let url = "mysql://doctor:doctor@127.0.0.1:33140";
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ahead, right, right2) = (
        dir.path().join("ahead.json"),
        dir.path().join("right.json"),
        dir.path().join("right2.json"),
    );

    // The same moment read by a host with the wrong clock and one with the right one.
    let a = snapshot(home.path(), url, &ahead, true);
    let b = snapshot(home.path(), url, &right, false);
    finish(a, "doctor under faketime");
    finish(b, "doctor");
    let r = analyze(&ahead, &right);
    let clock = &r["clocks"][0];
    let skew = clock["skew_s"].as_f64().expect("the skew is measured");
    eprintln!("faketime {apart} s, measured {skew} s");
    assert!(
        (skew - apart as f64).abs() <= 2.0,
        "skew {skew} s, faketime's {apart} s: {clock}"
    );
    assert!(
        clock["text"].as_str().unwrap().contains("s ahead of"),
        "{clock}"
    );
    // Run side by side: once the skew is taken out, their windows overlap.
    assert_eq!(clock["gap_s"], 0.0, "{clock}");

    // Two right clocks agree.
    let c = snapshot(home.path(), url, &right2, false);
    finish(c, "doctor");
    let r = analyze(&right, &right2);
    let clock = &r["clocks"][0];
    assert!(
        clock["skew_s"].as_f64().expect("measured").abs() <= 2.0,
        "{clock}"
    );
    assert!(
        clock["text"]
            .as_str()
            .unwrap()
            .contains("agree on the time"),
        "{clock}"
    );
}
