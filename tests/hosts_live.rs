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

/// An application host and its database host as two network namespaces joined by a veth pair,
/// as two machines on one network: the app's namespace has 10.231.77.1, the database host (this
/// machine's own namespace) 10.231.77.2 beside its other addresses. Removed when dropped.
struct TwoHostNetwork {
    netns: String,
    link: String,
}

const APP_ADDRESS: &str = "10.231.77.1";
const DB_ADDRESS: &str = "10.231.77.2";

impl TwoHostNetwork {
    fn new() -> TwoHostNetwork {
        support::require("ip", "iproute2");
        let pid = std::process::id();
        let net = TwoHostNetwork {
            netns: format!("doctor-hosts-app-{pid}"),
            link: format!("dhdb{}", pid % 100_000),
        };
        let peer = format!("dhap{}", pid % 100_000);
        let _ = Command::new("ip")
            .args(["netns", "del", &net.netns])
            .output();
        let _ = Command::new("ip").args(["link", "del", &net.link]).output();
        support::run("ip", &["netns", "add", &net.netns]);
        support::run(
            "ip",
            &[
                "link", "add", &net.link, "type", "veth", "peer", "name", &peer,
            ],
        );
        support::run("ip", &["link", "set", &peer, "netns", &net.netns]);
        support::run(
            "ip",
            &["addr", "add", &format!("{DB_ADDRESS}/24"), "dev", &net.link],
        );
        support::run("ip", &["link", "set", &net.link, "up"]);
        for args in [
            vec!["addr", "add", &format!("{APP_ADDRESS}/24"), "dev", &peer],
            vec!["link", "set", &peer, "up"],
            vec!["link", "set", "lo", "up"],
        ] {
            let mut all = vec!["netns", "exec", &net.netns, "ip"];
            all.extend(args.iter().copied());
            support::run("ip", &all);
        }
        net
    }

    /// A command run in the app host's namespace.
    fn app(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.netns, program]);
        c
    }
}

impl Drop for TwoHostNetwork {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.link])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.netns])
            .output();
    }
}

/// The global addresses `ip -o addr` lists (loopback and link-local left out), run by `ip`.
fn ip_addresses(ip: &mut Command) -> Vec<String> {
    let out = ip
        .args(["-o", "addr", "show", "scope", "global"])
        .output()
        .expect("ip runs");
    let mut all: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let i = f.iter().position(|w| *w == "inet" || *w == "inet6")?;
            Some(f.get(i + 1)?.split('/').next()?.to_owned())
        })
        .collect();
    all.sort();
    all
}

/// Sessions that connected from the app host to the database host's address and sleep there.
struct Sessions(Vec<std::process::Child>);

impl Drop for Sessions {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `doctor import app=… db=…` of the two pastes, its JSON report.
fn import_two(dir: &Path, app_paste: &str, db_paste: &str) -> Value {
    let (app_txt, db_txt) = (dir.join("app.txt"), dir.join("db.txt"));
    std::fs::write(&app_txt, app_paste).unwrap();
    std::fs::write(&db_txt, db_paste).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_doctor"))
        .args(["import", "--format", "json", "--fail-on", "never"])
        .arg(format!("app={}", app_txt.display()))
        .arg(format!("db={}", db_txt.display()))
        .output()
        .expect("doctor runs");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// `n` sessions from the app host's namespace to the database host's address, each asleep in
/// `SELECT SLEEP(60)`, once `ss` (the app's side) and the processlist (the server's) show them.
fn sessions_from_the_app(net: &TwoHostNetwork, db: &MariaDb, n: usize) -> Sessions {
    let port = db.port();
    let mut sessions = Sessions(Vec::new());
    for _ in 0..n {
        let child = net
            .app("mariadb")
            .args(["--no-defaults", "-h", DB_ADDRESS, "-P", &port.to_string()])
            .args(["-u", "app", "-papp", "-e", "SELECT SLEEP(60)"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mariadb client runs (mariadb-client)");
        sessions.0.push(child);
    }
    // Both ends, by their own tools: the app host's sockets, the server's sessions.
    wait_until("the app's sessions", Duration::from_secs(20), || {
        let out = net
            .app("ss")
            .args([
                "-Htn",
                "state",
                "established",
                "dst",
                &format!("{DB_ADDRESS}:{port}"),
            ])
            .output()
            .expect("ss runs");
        let sockets = String::from_utf8_lossy(&out.stdout).lines().count();
        let asleep = db.sql(&format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'app' AND HOST LIKE '{APP_ADDRESS}:%' AND INFO LIKE 'SELECT SLEEP%'"
        ));
        if sockets == n && asleep.trim() == n.to_string() {
            Ok(())
        } else {
            Err(format!("ss: {sockets} established, processlist: {asleep}"))
        }
    });
    sessions
}

/// The app host's doctor cannot log in to the database and reads none; its connections go to
/// an address of the database host, on the port its MySQL server listens on. `doctor analyze`
/// of the two snapshots ties them by that, and says so with the figures `ss` shows; so does
/// `doctor import` of what the two operators paste instead (`ss -tn` on the app host; `ip
/// addr` and the server's `port` on the database host).
#[test]
fn the_app_hosts_connections_to_an_address_name_its_database_host() {
    const PORT: u16 = 33145;
    const SESSIONS: usize = 4;
    let net = TwoHostNetwork::new();
    let db = MariaDb::start(
        PORT,
        &[("bind-address", &format!("127.0.0.1,{DB_ADDRESS}"))],
    );
    db.create_user("app", "app", &[]);
    db.create_user("doctor", "doctor", &["PROCESS ON *.*"]);
    let sessions = sessions_from_the_app(&net, &db, SESSIONS);
    let dir = tempfile::tempdir().unwrap();
    let (app_json, db_json) = (dir.path().join("app.json"), dir.path().join("db.json"));
    let doctor = env!("CARGO_BIN_EXE_doctor");
    let app_run = net
        .app(doctor)
        .env("HOME", dir.path())
        .args([
            "snapshot",
            "--quiet",
            "--no-docker",
            "--no-mysql",
            "--interval",
            "2s",
            "--out",
        ])
        .arg(&app_json)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("doctor starts");
    let db_run = snapshot(
        dir.path(),
        &db.url("doctor", Some("doctor")),
        &db_json,
        false,
    );
    finish(app_run, "the app host's doctor");
    finish(db_run, "the database host's doctor");
    let app_ips = ip_addresses(&mut net.app("ip"));
    let db_ips = ip_addresses(&mut Command::new("ip"));
    // What each host's operator pastes instead: the app host's connections, the database host's
    // addresses and its server's port.
    let typed = |command: &str, out: std::process::Output| {
        assert!(out.status.success(), "{command}");
        format!("$ {command}\n{}\n", String::from_utf8_lossy(&out.stdout))
    };
    let app_paste = typed("ss -tn", net.app("ss").arg("-tn").output().unwrap());
    let db_paste = typed("ip addr", Command::new("ip").arg("addr").output().unwrap())
        + &typed(
            "mariadb -t -e \"SHOW GLOBAL VARIABLES LIKE 'port'\"",
            Command::new("mariadb")
                .args(["--no-defaults", "-uroot", "-S"])
                .arg(db.socket())
                .args(["-t", "-e", "SHOW GLOBAL VARIABLES LIKE 'port'"])
                .output()
                .unwrap(),
        );
    drop(sessions);
    let imported = import_two(dir.path(), &app_paste, &db_paste);
    let links = imported["databases"].as_array().expect("databases[]");
    assert_eq!(links.len(), 1, "{imported}\n{app_paste}\n{db_paste}");
    assert_eq!(
        (links[0]["app"].as_str(), links[0]["database"].as_str()),
        (Some("app"), Some("db"))
    );
    let how = links[0]["how"].as_str().unwrap();
    assert!(
        how.contains(&format!(
            "has {SESSIONS} connections to {DB_ADDRESS}:{PORT}"
        )),
        "{how}"
    );

    let read = |p: &Path| -> Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };
    let (app_snap, db_snap) = (read(&app_json), read(&db_json));
    assert_eq!(app_snap["host"]["addresses"], serde_json::json!(app_ips));
    assert_eq!(app_ips, [APP_ADDRESS]);
    assert!(db_ips.contains(&DB_ADDRESS.to_owned()), "{db_ips:?}");
    assert_eq!(db_snap["host"]["addresses"], serde_json::json!(db_ips));

    let report = analyze(&app_json, &db_json);
    let links = report["databases"].as_array().expect("databases[]");
    assert_eq!(links.len(), 1, "{links:?}");
    let how = links[0]["how"].as_str().unwrap();
    assert!(
        how.contains(&format!(
            "has {SESSIONS} connections to {DB_ADDRESS}:{PORT}"
        )),
        "{how}"
    );
    assert_eq!(links[0]["app"], report["hosts"][0]["name"], "{report}");
}
