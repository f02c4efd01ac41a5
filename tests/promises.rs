//! The README's "What doctor does to your server", checked against the server's own record: a
//! private MariaDB with its general query log on logs every connection and statement doctor
//! sends during a real `doctor check`, as the ordinary monitoring account. Every statement is a
//! read (`SELECT`, `SHOW`, or a `SET` of the session's own settings), doctor opens at most two
//! connections and sends a bounded number of statements, and it leaves no session behind.
//!
//! Port 33143.

#[path = "support/mariadb.rs"]
mod mariadb;

use std::collections::BTreeMap;
use std::process::Command;

/// The statements most a quiet server is sent in one `check` (README: 17 on a quiet server,
/// 2-3 more when it writes; the general log adds the driver's own).
const MOST_STATEMENTS: usize = 30;

/// (connection id, command, text) of the general log's lines, continuation lines joined.
fn general_log(text: &str) -> Vec<(u64, String, String)> {
    let mut out: Vec<(u64, String, String)> = Vec::new();
    for line in text.lines() {
        // `YYMMDD HH:MM:SS\t    12 Query\tSHOW ...` or `\t\t    12 Query\tSHOW ...`
        let body = line.rsplit_once('\t');
        let parsed = body.and_then(|(head, tail)| {
            let mut words = head.split_whitespace().rev();
            let command = words.next()?.to_owned();
            let id: u64 = words.next()?.parse().ok()?;
            Some((id, command, tail.to_owned()))
        });
        match parsed {
            Some(entry) => out.push(entry),
            None => {
                if let Some(last) = out.last_mut() {
                    last.2.push(' ');
                    last.2.push_str(line.trim());
                }
            }
        }
    }
    out
}

fn is_read(statement: &str) -> bool {
    let s = statement.trim_start().to_ascii_uppercase();
    let set_session = s.starts_with("SET ")
        && !s.contains("GLOBAL")
        && !s.contains("PASSWORD")
        && !s.starts_with("SET ROLE");
    s.starts_with("SELECT ") || s.starts_with("SHOW ") || set_session
}

#[test]
fn doctor_only_reads_with_few_statements_and_connections() {
    let db = mariadb::MariaDb::start(33143, &[]);
    db.create_user(
        "doctor",
        "doctor",
        &["PROCESS ON *.*", "SELECT ON performance_schema.*"],
    );
    let log = db.dir().join("general.log");
    db.sql(&format!(
        "SET GLOBAL log_output = 'FILE'; SET GLOBAL general_log_file = '{}'; \
         SET GLOBAL general_log = ON",
        log.display()
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_doctor"))
        .env("HOME", std::env::temp_dir())
        .env_remove("MYSQL_PWD")
        .args([
            "check",
            "--interval",
            "2s",
            "--no-docker",
            "--mysql",
            "mysql://doctor:doctor@127.0.0.1:33143",
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mysql = report["collectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "mysql")
        .unwrap();
    assert_eq!(mysql["status"], "ok", "{mysql}");
    db.sql("SET GLOBAL general_log = OFF");

    let entries = general_log(&std::fs::read_to_string(&log).unwrap());
    let doctors: Vec<u64> = entries
        .iter()
        .filter(|(_, cmd, text)| cmd == "Connect" && text.starts_with("doctor@"))
        .map(|(id, _, _)| *id)
        .collect();
    assert!(
        !doctors.is_empty(),
        "no doctor connection in the general log"
    );
    assert!(
        doctors.len() <= 2,
        "doctor opened {} connections",
        doctors.len()
    );
    let mut statements: BTreeMap<String, usize> = BTreeMap::new();
    let mut quits = 0;
    for (id, cmd, text) in entries.iter().filter(|(id, _, _)| doctors.contains(id)) {
        match cmd.as_str() {
            "Query" => {
                assert!(
                    is_read(text),
                    "connection {id} sent a statement that is not a read: {text}"
                );
                *statements
                    .entry(
                        text.split_whitespace()
                            .take(3)
                            .collect::<Vec<_>>()
                            .join(" "),
                    )
                    .or_default() += 1;
            }
            "Quit" => quits += 1,
            _ => {}
        }
    }
    let total: usize = statements.values().sum();
    eprintln!(
        "{} connections, {total} statements: {statements:#?}",
        doctors.len()
    );
    assert!(
        (5..=MOST_STATEMENTS).contains(&total),
        "{total} statements: {statements:#?}"
    );
    // Every connection said goodbye: none is left open on the server.
    assert_eq!(quits, doctors.len(), "connections closed");
    let left: u32 = db
        .sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'doctor'")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(left, 0, "a doctor session is still open");
}

#[test]
fn the_log_reader_reads_what_mariadb_writes() {
    let text = "/usr/sbin/mariadbd, Version: 10.11.6 started with:\n\
                Time\t\t    Id Command\tArgument\n\
                261206 16:50:01\t     5 Connect\tdoctor@localhost on  using TCP/IP\n\
                \t\t     5 Query\tSELECT a,\n  b FROM t\n\
                \t\t     5 Quit\t\n";
    let e = general_log(text);
    assert_eq!(e.len(), 3, "{e:?}");
    assert_eq!(
        e[0],
        (
            5,
            "Connect".into(),
            "doctor@localhost on  using TCP/IP".into()
        )
    );
    assert_eq!(e[1].2, "SELECT a, b FROM t");
    assert!(is_read("SELECT 1") && is_read("SHOW GLOBAL STATUS") && is_read("SET NAMES utf8mb4"));
    assert!(
        !is_read("SET GLOBAL general_log = ON")
            && !is_read("KILL 5")
            && !is_read("UPDATE t SET a = 1")
    );
}
