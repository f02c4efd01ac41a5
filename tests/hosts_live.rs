//! Several hosts, live: the app host's view and the database host's view of one real incident
//! (an application's pool exhausted while its queries wait for a row lock), and two hosts'
//! clocks compared through the MySQL server both read. A real private MariaDB, the real mysql2
//! pool app, the real binary, doctor logging in as the ordinary monitoring account.
//!
//! The two views are taken on one machine, as the operators of two hosts would take them: the
//! app host's doctor cannot log in to the database (`--no-mysql`) and reads the app's log; the
//! database host's doctor logs in and reads no app log. `DOCTOR_RECORD_HOSTS=1` also writes
//! them to `fixtures/hosts-lock-wait-{app,db}.json` (how those fixtures were recorded).
//!
//! One host's clock is wrong by 30 s: `faketime` (libfaketime, preloaded into that doctor only)
//! makes it so. This is the one fake here, and it is a fault no test can make for real on one
//! machine without moving the clock of everything running on it; the server, the kernel and
//! the other doctor keep the true time. The skew is checked against what `faketime` really did
//! (the two clocks read side by side with `date`), not against doctor's own figure.
//!
//! Ports: MariaDB 33140-33141, the pool app 34060.

#[path = "support/mariadb.rs"]
mod mariadb;

mod support;

use mariadb::MariaDb;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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
    doctor_snapshot(home, &["--mysql", url], out, fake)
}

/// `doctor snapshot --quiet --no-docker --interval 2s ARGS --out OUT`, not waited for.
fn doctor_snapshot(home: &Path, args: &[&str], out: &Path, fake: bool) -> std::process::Child {
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
        .args(["snapshot", "--quiet", "--no-docker", "--interval", "2s"])
        .args(args)
        .arg("--out")
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

/// Waits until `cond` holds (checked with the standard tools), failing with its last word.
fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + limit;
    loop {
        match cond() {
            Ok(()) => return,
            Err(e) if Instant::now() > deadline => panic!("{what} did not hold in {limit:?}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// One HTTP request to the app; whatever it answers (200 or 503) or a timeout.
fn request(port: u16) {
    if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n");
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
    }
}

fn count(path: &Path, needle: &str) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.matches(needle).count())
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

/// Kills the pool app and stops the load, whatever the test's outcome.
struct Teardown {
    app: std::process::Child,
    stop: Arc<AtomicBool>,
    load: Vec<std::thread::JoinHandle<()>>,
}

impl Drop for Teardown {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.app.kill();
        let _ = self.app.wait();
        for t in self.load.drain(..) {
            let _ = t.join();
        }
    }
}

#[test]
fn the_database_hosts_lock_explains_the_app_hosts_pool() {
    support::require("node", "nodejs");
    // Long enough that the waits outlast doctor's 2 s window (the default is 50 s).
    let db = MariaDb::start(33141, &[("innodb_lock_wait_timeout", "15")]);
    db.sql(
        "CREATE DATABASE shop; \
         CREATE TABLE shop.stock (id INT PRIMARY KEY, qty INT NOT NULL) ENGINE=InnoDB; \
         INSERT INTO shop.stock SELECT seq, 100 FROM shop.seq_1_to_10",
    );
    db.create_user("app", "app", &["SELECT, UPDATE ON shop.*"]);
    db.create_user(
        "doctor",
        "doctor",
        &["PROCESS ON *.*", "SELECT ON performance_schema.*"],
    );
    // A session that updated the row and went idle without committing.
    let mut blocker = db.connect("app", Some("app")).expect("app connects");
    mysql::prelude::Queryable::query_drop(&mut blocker, "BEGIN").unwrap();
    mysql::prelude::Queryable::query_drop(
        &mut blocker,
        "UPDATE shop.stock SET qty = qty - 1 WHERE id = 1",
    )
    .unwrap();

    let logs = tempfile::tempdir().unwrap();
    let log_path = logs.path().join("app.log");
    let guard = pool_app_on_the_locked_row(&log_path);
    incident_holds(&db, &log_path);

    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (app_view, db_view) = (dir.path().join("app.json"), dir.path().join("db.json"));
    let log_arg = log_path.display().to_string();
    let a = doctor_snapshot(
        home.path(),
        &["--no-mysql", "--log", &log_arg],
        &app_view,
        false,
    );
    let d = doctor_snapshot(
        home.path(),
        &["--mysql", "mysql://doctor:doctor@127.0.0.1:33141"],
        &db_view,
        false,
    );
    finish(a, "the app host's doctor");
    finish(d, "the database host's doctor");
    drop(guard);
    drop(blocker);

    let r = analyze(&app_view, &db_view);
    let summary = || {
        let ids: Vec<String> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} on {} ({}): {}",
                    f["id"], f["host"], f["score"], f["summary"]
                )
            })
            .collect();
        format!(
            "findings: {ids:#?}\nnot checked: {}\npartly: {}\npassed: {}",
            r["not_checked"], r["partly_checked"], r["passed"]
        )
    };
    assert_eq!(
        r["databases"][0]["app"],
        format!("{} (app)", hostname()),
        "{}",
        r["databases"]
    );
    let db_name = format!("{} (db)", hostname());
    let pool = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "db-pool-exhausted")
        .unwrap_or_else(|| panic!("no pool finding: {}", summary()));
    assert_eq!(
        pool["explained_by"],
        format!("mysql-lock-contention@{db_name}"),
        "{}",
        summary()
    );
    assert_eq!(
        r["findings"][0]["id"],
        "mysql-lock-contention",
        "{}",
        summary()
    );
    assert_eq!(r["findings"][0]["host"], db_name.as_str());

    if std::env::var_os("DOCTOR_RECORD_HOSTS").is_some() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        std::fs::copy(&app_view, fixtures.join("hosts-lock-wait-app.json")).unwrap();
        std::fs::copy(&db_view, fixtures.join("hosts-lock-wait-db.json")).unwrap();
    }
}

/// The pool app (mysql2, 4 connections, 8 queue places) updating the row the blocker holds,
/// its output in `log_path`, under a bounded load; stopped when the guard drops.
fn pool_app_on_the_locked_row(log_path: &Path) -> Teardown {
    let log = std::fs::File::create(log_path).unwrap();
    let port = 34060;
    let app = Command::new("node")
        .arg("server.js")
        .current_dir(support::pool_app())
        .env("PORT", port.to_string())
        .env("DB_PORT", "33141")
        .env("DB_USER", "app")
        .env("DB_PASSWORD", "app")
        .env("QUERY", "UPDATE shop.stock SET qty = qty - 1 WHERE id = 1")
        .env("MAX_LIFE_S", "90")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("node runs");
    let stop = Arc::new(AtomicBool::new(false));
    let mut guard = Teardown {
        app,
        stop: Arc::clone(&stop),
        load: Vec::new(),
    };
    wait_until("the pool app listening", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .map(drop)
            .map_err(|e| e.to_string())
    });
    // Bounded load: 20 clients (more than the pool's 4 connections and 8 queue places), one
    // request each every 100 ms at most, for 60 s at most.
    let deadline = Instant::now() + Duration::from_secs(60);
    for _ in 0..20 {
        let stop = Arc::clone(&stop);
        guard.load.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                request(port);
                std::thread::sleep(Duration::from_millis(100));
            }
        }));
    }
    guard
}

/// Waits until the pool refuses requests while its connections wait on the row lock, each
/// checked with the standard tools (the app's log, `INNODB_TRX`, the server's counters).
fn incident_holds(db: &MariaDb, log_path: &Path) {
    wait_until(
        "the pool refusing while its connections wait for the row lock",
        Duration::from_secs(30),
        || {
            let refused = count(log_path, "Queue limit reached.");
            // Sessions waiting 6 s or more: past the rule's 5 s, and 9 s short of the timeout.
            let waiting: u32 = db
                .sql(
                    "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = \
                     'LOCK WAIT' AND TIMESTAMPDIFF(SECOND, trx_wait_started, NOW()) >= 6",
                )
                .trim()
                .parse()
                .unwrap_or(0);
            let waits = db.global_status_quiet("Innodb_row_lock_waits");
            if refused >= 10 && waiting >= 3 && waits >= 3 {
                Ok(())
            } else {
                Err(format!(
                    "grep -c 'Queue limit reached.' app.log: {refused}; INNODB_TRX in LOCK WAIT \
                     for 6 s or more: {waiting}; Innodb_row_lock_waits {waits}"
                ))
            }
        },
    );
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned()
}
