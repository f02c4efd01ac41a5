//! A server that cannot be read must cost at most the deadline and become a clear `error`
//! mysql section, with the host sections and the report still coming out: a wrong password, a
//! refused port, an unknown host, a server that requires TLS, and a server stopped with
//! SIGSTOP (mid-window and before doctor connects).
//!
//! Ports 33110–33113 (33112 is the refused one: nothing may listen there).

#[path = "support/mariadb.rs"]
mod mariadb;

#[path = "support/doctor_mysql.rs"]
mod run;

use mariadb::MariaDb;
use run::{assert_host_sections_ok, doctor, snapshot, wait_until};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// doctor's default grace after the window for a remote collector (`collect::Options`).
const GRACE: Duration = Duration::from_secs(5);

fn message(r: &run::Run) -> String {
    let m = r.mysql();
    assert_eq!(m["status"], "error", "{m:#}");
    m["message"]
        .as_str()
        .expect("an error has a message")
        .to_owned()
}

/// A CA and a server certificate for 127.0.0.1 made with the `openssl` tool, and a second CA
/// that signed nothing.
fn make_certs(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("`openssl` is missing: install the `openssl` package (bash tests/run.sh installs it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for ca in ["ca", "other-ca"] {
        run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN=doctor test {ca}"),
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
        ]);
    }
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
}

/// Fails on any `null` in `v`: doctor leaves a figure out rather than writing NaN (which
/// `serde_json` turns into null).
fn assert_no_nulls(v: &serde_json::Value, at: &str) {
    match v {
        serde_json::Value::Null => panic!("{at} is null"),
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                assert_no_nulls(x, &format!("{at}[{i}]"));
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                assert_no_nulls(x, &format!("{at}.{k}"));
            }
        }
        _ => {}
    }
}

/// `doctor snapshot --interval 1s --mysql URL`, plus extra arguments.
fn snapshot_of(db: &MariaDb, url: &str) -> run::Run {
    snapshot(doctor(db.dir()), &["--interval", "1s", "--mysql", url])
}

#[test]
fn bad_credentials_refused_port_unknown_host() {
    let db = MariaDb::start(33110, &[]);

    // A server started a moment ago, read over the shortest window: counters near zero, no
    // reads in the window. No figure may be NaN or infinite (serde_json would write them as
    // null); figures without data are absent.
    let r = snapshot(
        doctor(db.dir()),
        &["--interval", "100ms", "--mysql", &db.root_url()],
    );
    let m = r.mysql();
    assert_eq!(m["status"], "ok", "{m:#}");
    assert!(run::int(m, "/uptime_s") < 120, "a fresh server");
    assert_no_nulls(m, "mysql");

    db.create_user("app", "Corr3ct-Horse", &["PROCESS ON *.*"]);

    // A wrong password: the server's message, and the server counted one denied login.
    let denied = db.global_status("Access_denied_errors");
    let r = snapshot_of(&db, &db.url("app", Some("Wr0ng-Battery")));
    let msg = message(&r);
    assert!(
        msg.contains("ERROR 1045") && msg.contains("Access denied for user 'app'"),
        "{msg}"
    );
    assert!(!r.all_text().contains("Wr0ng-Battery"));
    assert_eq!(db.global_status("Access_denied_errors") - denied, 1);
    assert_host_sections_ok(&r.snapshot);
    assert!(r.wall < Duration::from_secs(1) + GRACE);

    // Nothing listens on 33112.
    assert!(std::net::TcpStream::connect(("127.0.0.1", 33112)).is_err());
    let r = snapshot_of(&db, "mysql://app@127.0.0.1:33112");
    let msg = message(&r);
    assert!(
        msg.contains("127.0.0.1:33112") && msg.contains("refused"),
        "{msg}"
    );
    assert_host_sections_ok(&r.snapshot);

    // A host name that does not resolve (.invalid is reserved, RFC 2606).
    let r = snapshot_of(&db, "mysql://app@doctor-test.invalid:3306");
    let msg = message(&r);
    assert!(
        msg.contains("doctor-test.invalid") || msg.contains("did not answer"),
        "{msg}"
    );
    assert!(r.wall < Duration::from_secs(1) + GRACE + Duration::from_secs(2));
    assert_host_sections_ok(&r.snapshot);
}

#[test]
fn server_that_requires_tls() {
    let certs = tempfile::tempdir().unwrap();
    make_certs(certs.path());
    let cert = |f: &str| certs.path().join(f).display().to_string();
    let db = MariaDb::start(
        33113,
        &[
            ("ssl_cert", &cert("server.pem")),
            ("ssl_key", &cert("server.key")),
            ("ssl_ca", &cert("ca.pem")),
            ("require_secure_transport", "ON"),
        ],
    );
    db.create_user("app", "Corr3ct-Horse", &["PROCESS ON *.*"]);
    let url = db.url("app", Some("Corr3ct-Horse"));

    // Refused without TLS, with the server's message and what to do.
    let r = snapshot_of(&db, &url);
    let msg = message(&r);
    assert!(msg.contains("the server said: ERROR"), "{msg}");
    assert!(
        msg.contains("ssl-mode=REQUIRED"),
        "the message says what to do: {msg}"
    );
    assert_host_sections_ok(&r.snapshot);

    // Read with TLS; the server saw one TLS login.
    let accepts = db.global_status("Ssl_accepts");
    let r = snapshot_of(&db, &format!("{url}?ssl-mode=REQUIRED"));
    assert_eq!(r.mysql()["status"], "ok", "{:#}", r.mysql());
    assert_eq!(r.mysql()["connection"]["tls"], true);
    assert_eq!(db.global_status("Ssl_accepts") - accepts, 1);

    // The certificate checked against the right CA passes, against another CA fails.
    let verify = format!("{url}?ssl-mode=VERIFY_IDENTITY&ssl-ca={}", cert("ca.pem"));
    let r = snapshot_of(&db, &verify);
    assert_eq!(r.mysql()["status"], "ok", "{:#}", r.mysql());
    let wrong_ca = format!("{url}?ssl-mode=VERIFY_CA&ssl-ca={}", cert("other-ca.pem"));
    let r = snapshot_of(&db, &wrong_ca);
    let msg = message(&r);
    assert!(msg.contains("TLS") && msg.contains("certificate"), "{msg}");
    assert!(!r.all_text().contains("Corr3ct-Horse"));
}

#[test]
fn server_stopped_with_sigstop() {
    let db = MariaDb::start(33111, &[]);
    db.create_user("app", "pw", &["PROCESS ON *.*"]);
    let url = db.url("app", Some("pw"));

    // Stopped mid-window: the end reading hangs. With a read timeout shorter than the grace,
    // doctor's own timeout names the problem; with a longer one, the deadline does.
    for (read_timeout, expect, limit) in [
        ("2s", "no answer within 2s", Duration::from_secs(2 + 2 + 1)),
        (
            "30s",
            "did not answer within",
            Duration::from_secs(2) + GRACE + Duration::from_secs(1),
        ),
    ] {
        let home = db.dir().to_path_buf();
        let args: Vec<String> = [
            "--interval",
            "2s",
            "--mysql",
            &url,
            "--mysql-read-timeout",
            read_timeout,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        let reads = db.global_status_quiet("Com_show_status");
        let doctor_run = std::thread::spawn(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            snapshot(doctor(&home), &args)
        });
        // Stopped once doctor has read the window's start: its end reading hangs.
        db.wait_for_status_read(reads);
        db.pause();
        let r = doctor_run.join().expect("doctor thread");
        db.resume();
        let msg = message(&r);
        assert!(msg.contains(expect), "{msg}");
        assert!(r.wall < limit, "took {:?}, limit {limit:?}", r.wall);
        assert_host_sections_ok(&r.snapshot);
        wait_until("doctor's connection to go", Duration::from_secs(10), || {
            db.sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'app'")
                .trim()
                == "0"
        });
    }

    // Stopped before doctor connects: the kernel still accepts the TCP connection, the
    // server's greeting never comes.
    db.pause();
    let r = snapshot(
        doctor(db.dir()),
        &[
            "--interval",
            "1s",
            "--mysql",
            &url,
            "--mysql-read-timeout",
            "1s",
        ],
    );
    db.resume();
    let msg = message(&r);
    assert!(msg.contains("no answer within 1s"), "{msg}");
    assert!(r.wall < Duration::from_secs(1) + GRACE);
    assert_host_sections_ok(&r.snapshot);
    // What the kernel still shows of a hung server: its process (holding the port), and the
    // login that timed out.
    let server = &r.snapshot["mysql_server"];
    assert_eq!(server["status"], "ok", "{server}");
    assert_eq!(server["login"]["outcome"], "timeout", "{server}");
    assert_eq!(server["process"]["pid"], db.pid(), "{server}");
    assert_eq!(server["process"]["found_by"], "listener", "{server}");

    // The report (`check`) comes out too, naming the failure.
    db.pause();
    let out = doctor(db.dir())
        .args([
            "check",
            "--quiet",
            "--fail-on",
            "never",
            "--interval",
            "500ms",
            "--mysql",
            &url,
        ])
        .args(["--mysql-read-timeout", "500ms"])
        .output()
        .expect("doctor check runs");
    db.resume();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("mysql      error"), "{text}");
    assert!(text.contains("cpu        ok"), "{text}");
}
