//! Logging in the way the mysql client does — URL, `MYSQL_PWD`, `~/.my.cnf` `[client]`,
//! `--defaults-file`, the environment — with the real binary, and the password never in its
//! output (stdout, stderr, the saved snapshot), on success and on the wrong-password path.
//! Also: an account without privileges degrades parts, not the section, and the
//! `performance_schema` top lists show a statement the test ran.
//!
//! Port 33120.

#[path = "support/mariadb.rs"]
mod mariadb;

#[path = "support/doctor_mysql.rs"]
mod run;

use mariadb::MariaDb;
use run::{doctor, int, num};
use std::path::Path;
use std::process::{Command, Output};

const PASSWORD: &str = "Pw-5ecret-Zebra";
const WRONG: &str = "Not-The-Pw-42";

/// Runs `doctor check --json --out <file>` and returns the output and the saved snapshot's
/// text, failing if either contains a secret.
fn run_and_grep(
    mut cmd: Command,
    dir: &Path,
    args: &[&str],
    secrets: &[&str],
) -> (Output, serde_json::Value) {
    let out_file = dir.join("snapshot.json");
    let _ = std::fs::remove_file(&out_file);
    let output = cmd
        .args([
            "check",
            "--quiet",
            "--fail-on",
            "never",
            "--json",
            "--interval",
            "500ms",
            "--out",
        ])
        .arg(&out_file)
        .args(args)
        .output()
        .expect("doctor runs");
    let saved = std::fs::read_to_string(&out_file).unwrap_or_default();
    for secret in secrets {
        for (what, text) in [
            (
                "stdout",
                String::from_utf8_lossy(&output.stdout).into_owned(),
            ),
            (
                "stderr",
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ),
            ("the saved snapshot", saved.clone()),
        ] {
            assert!(
                !text.contains(secret),
                "the password appears in {what} of doctor {args:?}"
            );
        }
    }
    let snapshot = if saved.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&saved).expect("the saved snapshot is JSON")
    };
    (output, snapshot)
}

fn assert_ok(s: &serde_json::Value, source: &str, via: &str) {
    let m = &s["mysql"];
    assert_eq!(m["status"], "ok", "{m:#}");
    assert_eq!(m["connection"]["source"], source, "{:#}", m["connection"]);
    assert_eq!(m["connection"]["via"], via, "{:#}", m["connection"]);
    assert_eq!(m["connection"]["user"], "app");
}

fn assert_denied(s: &serde_json::Value) {
    let m = &s["mysql"];
    assert_eq!(m["status"], "error", "{m:#}");
    assert!(
        m["message"]
            .as_str()
            .unwrap()
            .contains("Access denied for user 'app'"),
        "{m:#}"
    );
}

/// `doctor` with extra environment variables.
fn doctor_env(home: &Path, vars: &[(&str, &str)]) -> Command {
    let mut c = doctor(home);
    for (k, v) in vars {
        c.env(k, v);
    }
    c
}

fn write_cnf(path: &Path, body: &str) {
    std::fs::write(path, body).unwrap();
}

#[test]
fn every_way_to_log_in_and_the_password_never_shows() {
    let db = MariaDb::start(33120, &[("performance_schema", "ON")]);
    db.create_user("app", PASSWORD, &["PROCESS ON *.*"]);
    let home = db.dir().join("home");
    std::fs::create_dir(&home).unwrap();
    let dir = db.dir();
    let port = db.port().to_string();
    let secrets = [PASSWORD, WRONG];

    // --mysql URL with the password.
    let (_, s) = run_and_grep(
        doctor(&home),
        dir,
        &["--mysql", &db.url("app", Some(PASSWORD))],
        &secrets,
    );
    assert_ok(&s, "url", "tcp");
    let (_, s) = run_and_grep(
        doctor(&home),
        dir,
        &["--mysql", &db.url("app", Some(WRONG))],
        &secrets,
    );
    assert_denied(&s);

    // MYSQL_PWD with a URL that has none.
    for (pw, ok) in [(PASSWORD, true), (WRONG, false)] {
        let cmd = doctor_env(&home, &[("MYSQL_PWD", pw)]);
        let (_, s) = run_and_grep(cmd, dir, &["--mysql", &db.url("app", None)], &secrets);
        if ok {
            assert_ok(&s, "url", "tcp");
        } else {
            assert_denied(&s);
        }
    }

    // The environment alone: MYSQL_HOST, MYSQL_TCP_PORT, USER, MYSQL_PWD.
    let env_only = |pw: &str| {
        doctor_env(
            &home,
            &[
                ("MYSQL_HOST", "127.0.0.1"),
                ("MYSQL_TCP_PORT", &port),
                ("USER", "app"),
                ("MYSQL_PWD", pw),
            ],
        )
    };
    let (_, s) = run_and_grep(env_only(PASSWORD), dir, &[], &secrets);
    assert_ok(&s, "environment", "tcp");

    // ~/.my.cnf [client], beating MYSQL_PWD as in the client.
    let cnf = home.join(".my.cnf");
    write_cnf(
        &cnf,
        &format!(
            "[mysqld]\nport = 1\n\n[client]\nuser = app\npassword = \"{PASSWORD}\"  # quoted\nhost = 127.0.0.1\nport = {port}\n"
        ),
    );
    let (_, s) = run_and_grep(env_only(WRONG), dir, &[], &secrets);
    assert_ok(&s, "my.cnf", "tcp");
    write_cnf(
        &cnf,
        &format!("[client]\nuser=app\npassword={WRONG}\nhost=127.0.0.1\nport={port}\n"),
    );
    let (_, s) = run_and_grep(doctor(&home), dir, &[], &secrets);
    assert_denied(&s);

    std::fs::remove_file(&cnf).unwrap();

    // --defaults-file instead of ~/.my.cnf, over the socket.
    let defaults = dir.join("doctor.cnf");
    write_cnf(
        &defaults,
        &format!(
            "[client]\nuser=app\npassword='{PASSWORD}'\nsocket={}\n",
            db.socket().display()
        ),
    );
    let (_, s) = run_and_grep(
        doctor(&home),
        dir,
        &["--defaults-file", defaults.to_str().unwrap()],
        &secrets,
    );
    assert_ok(&s, "defaults-file", "socket");
}

/// Bad input needs no server: it is reported, naming the file and line, without the secret.
#[test]
fn bad_input_is_reported_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let dir = dir.path();
    let secrets = [PASSWORD];
    let cnf = home.join(".my.cnf");

    // A broken ~/.my.cnf: an error naming the file and the line, not the line's text.
    write_cnf(
        &cnf,
        &format!("[client]\nuser=app\npassword=\"{PASSWORD}\n"),
    );
    let (_, s) = run_and_grep(doctor(&home), dir, &[], &secrets);
    let m = &s["mysql"];
    assert_eq!(m["status"], "error");
    let msg = m["message"].as_str().unwrap();
    assert!(msg.contains(".my.cnf:3:"), "{msg}");
    std::fs::remove_file(&cnf).unwrap();

    // A malformed URL is a usage error that does not echo the URL.
    let (out, _) = run_and_grep(
        doctor(&home),
        dir,
        &[
            "--mysql",
            &format!("mysql://app:{PASSWORD}@127.0.0.1:99999"),
        ],
        &secrets,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--mysql is not a valid URL"));

    // Nothing configured: the default socket and port. Where no server is there (the test
    // machine), the section is skipped and says how to point doctor at one.
    let server_here = [
        "/run/mysqld/mysqld.sock",
        "/var/run/mysqld/mysqld.sock",
        "/var/lib/mysql/mysql.sock",
        "/tmp/mysql.sock",
    ]
    .iter()
    .any(|p| Path::new(p).exists())
        || std::net::TcpStream::connect(("127.0.0.1", 3306)).is_ok();
    let (_, s) = run_and_grep(doctor(&home), dir, &[], &secrets);
    if server_here {
        assert_ne!(s["mysql"]["status"], "skipped", "{:#}", s["mysql"]);
    } else {
        assert_eq!(s["mysql"]["status"], "skipped", "{:#}", s["mysql"]);
        let msg = s["mysql"]["message"].as_str().unwrap();
        assert!(
            msg.contains("127.0.0.1:3306") && msg.contains("--mysql"),
            "{msg}"
        );
    }

    // --no-mysql: skipped, and says so.
    let (_, s) = run_and_grep(doctor(&home), dir, &["--no-mysql"], &secrets);
    assert_eq!(s["mysql"]["status"], "skipped");
    assert!(
        s["mysql"]["message"]
            .as_str()
            .unwrap()
            .contains("--no-mysql")
    );
}

/// A server that wrote nothing while doctor looked: the file waits and the files behind them
/// are not read, and the notes say why (the live slow-disk scenario checks they are read when it
/// writes). InnoDB may flush in the background after start-up: then they may be.
fn file_waits_only_when_written(m: &serde_json::Value, wrote: bool) {
    let notes = m["notes"].to_string();
    let read = m["storage"]["files_window_s"].as_f64().is_some();
    // Read, or not read and said so: never both, never neither.
    assert_ne!(
        read,
        notes.contains("file_summary_by_event_name) were not read"),
        "{m:#}"
    );
    if !wrote {
        assert!(!read, "a server that wrote nothing: {m:#}");
        assert!(
            m["performance_schema"]
                .get("top_files_by_io_wait")
                .is_none()
                && notes.contains("top_files_by_io_wait was not read"),
            "{notes}"
        );
    }
}

#[test]
fn missing_privileges_degrade_parts_and_performance_schema_lists() {
    // Reuses nothing from the test above: its own server, port 33121.
    let db = MariaDb::start(33121, &[("performance_schema", "ON")]);
    db.create_user("nobody", "pw", &[]);
    db.create_user(
        "doctor",
        "pw",
        &[
            "PROCESS, SLAVE MONITOR ON *.*",
            "SELECT ON performance_schema.*",
            "SELECT ON mysql.innodb_table_stats",
        ],
    );
    let home = db.dir();

    // A statement the top lists must show: three runs of a 200 ms sleep.
    for _ in 0..3 {
        db.sql("SELECT SLEEP(0.2)");
    }
    let written_before = db.global_status("Innodb_data_written");
    let r = run::snapshot(
        doctor(home),
        &[
            "--interval",
            "500ms",
            "--mysql",
            &db.url("doctor", Some("pw")),
        ],
    );
    let m = r.mysql();
    assert_eq!(m["status"], "ok", "{m:#}");
    assert_eq!(m["performance_schema"]["enabled"], true);
    let digests = m["performance_schema"]["top_digests_by_time"]
        .as_array()
        .expect("digests read");
    let sleep = digests
        .iter()
        .find(|d| d["text"].as_str().unwrap().to_uppercase().contains("SLEEP"))
        .unwrap_or_else(|| panic!("the sleeps are among the top statements: {digests:#?}"));
    assert_eq!(int(sleep, "/count"), 3);
    assert!(num(sleep, "/total_ms") >= 600.0, "{sleep}");
    let wrote = db.global_status("Innodb_data_written") != written_before;
    file_waits_only_when_written(m, wrote);
    assert!(m.get("missing_privileges").is_none(), "{m:#}");
    // The digests' total time holds the sleeps; with PROCESS the open transactions are read
    // (none is open: the harness's client commits each statement).
    assert!(num(m, "/performance_schema/digests_total_ms") >= num(sleep, "/total_ms"));
    assert_eq!(int(m, "/transactions/open"), 0, "{m:#}");

    // An account with no privileges: the section is ok, the parts it may not read are out
    // and named.
    let r = run::snapshot(
        doctor(home),
        &[
            "--interval",
            "500ms",
            "--mysql",
            &db.url("nobody", Some("pw")),
        ],
    );
    let m = r.mysql();
    assert_eq!(m["status"], "ok", "{m:#}");
    let missing: Vec<&str> = m["missing_privileges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        missing,
        [
            "PROCESS",
            "SELECT on mysql.innodb_table_stats",
            "SELECT on performance_schema",
            "SLAVE MONITOR"
        ]
    );
    assert!(m.get("processlist").is_none());
    assert!(m.get("transactions").is_none(), "INNODB_TRX needs PROCESS");
    assert!(m["performance_schema"].get("top_digests_by_time").is_none());
    assert!(m.get("replica").is_none());
    // What needs no privilege is still there.
    assert!(int(m, "/global_status/Uptime/total") > 0);
    assert!(num(m, "/select1_rtt_ms") > 0.0);
    let notes = m["notes"].as_array().unwrap();
    let (left_out, others): (Vec<_>, Vec<_>) = notes
        .iter()
        .map(|n| n.as_str().unwrap())
        .partition(|n| n.contains("left out"));
    assert_eq!(
        left_out.len(),
        4,
        "one note per missing privilege: {notes:#?}"
    );
    // Besides them only the notes of what a quiet server is not asked (the file waits).
    assert!(
        others
            .iter()
            .all(|n| n.contains("was not read") || n.contains("were not read")),
        "{notes:#?}"
    );
}
