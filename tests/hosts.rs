//! `doctor analyze a.json b.json`: several hosts in one report, on the recorded fixtures. Each
//! host's findings are those `doctor analyze` finds on its file alone (checked by running it on
//! each file), ranked together and named by host; a bundle saved with `--out` reads back as
//! the same report; a one-host command refuses a bundle saying what it is.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format!("{name}.json"))
}

fn doctor() -> Command {
    Command::cargo_bin("doctor").unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = doctor()
        .args(["analyze", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    // 1: a critical finding (the default --fail-on).
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn p(name: &str) -> String {
    path(name).display().to_string()
}

/// (id, score) of a one-host report's findings.
fn alone(name: &str) -> BTreeSet<(String, String)> {
    json(&[&p(name)])["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f["score"].to_string()))
        .collect()
}

#[test]
fn each_hosts_findings_are_its_own_ranked_together_and_named() {
    let r = json(&[&p("pool-queue-limit"), &p("mysql-slow-disk")]);
    let names: Vec<&str> = r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    // Both recorded on the machine called `vm`: the file names tell them apart.
    assert_eq!(names, ["vm (pool-queue-limit)", "vm (mysql-slow-disk)"]);
    let findings = r["findings"].as_array().unwrap();
    for (name, host) in [
        ("pool-queue-limit", names[0]),
        ("mysql-slow-disk", names[1]),
    ] {
        let here: BTreeSet<(String, String)> = findings
            .iter()
            .filter(|f| f["host"] == host)
            .map(|f| (f["id"].as_str().unwrap().to_owned(), f["score"].to_string()))
            .collect();
        assert_eq!(here, alone(name), "{host}");
    }
    for f in findings {
        for e in f["evidence"].as_array().unwrap() {
            assert_eq!(e["host"], f["host"], "{}", f["id"]);
        }
    }
    let scores: Vec<f64> = findings
        .iter()
        .filter(|f| f["explained_by"].is_null())
        .map(|f| f["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // Within a host, explanations as before, now qualified by the host.
    let storage = findings
        .iter()
        .find(|f| f["id"] == "mysql-slow-storage")
        .unwrap();
    assert_eq!(
        storage["explained_by"],
        "disk-io-saturation@vm (mysql-slow-disk)"
    );
    // The pool app ran against its own server: nothing links it to the other host's.
    assert_eq!(r["databases"], serde_json::json!([]));
    let pool = findings
        .iter()
        .find(|f| f["id"] == "db-pool-exhausted")
        .unwrap();
    assert!(pool["explained_by"].is_null());
    // Recorded apart: windows from 11:01:51.984 and 11:03:09.749, 5.003 s long, so 72.8 s
    // between the end of one and the start of the other. Said.
    let gap = r["clocks"][0]["gap_s"].as_f64().unwrap();
    assert!((72.0..73.5).contains(&gap), "{gap}");
    assert!(r["clocks"][0]["skew_s"].is_null());
}

/// The two views of one incident, recorded by `tests/hosts_live.rs` (`DOCTOR_RECORD_HOSTS=1`):
/// the app host's doctor without database access (`--no-mysql`, the app's log) and the
/// database host's (logged in as the monitoring account) while the app's mysql2 pool refused
/// requests, its four connections waiting on a row lock an idle transaction held.
#[test]
fn the_database_hosts_lock_explains_the_app_hosts_pool() {
    let r = json(&[&p("hosts-lock-wait-app"), &p("hosts-lock-wait-db")]);
    let (app, db) = ("vm (hosts-lock-wait-app)", "vm (hosts-lock-wait-db)");
    assert_eq!(r["databases"][0]["app"], app);
    assert_eq!(r["databases"][0]["database"], db);
    let ids: Vec<(String, String, Value)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["host"].as_str().unwrap().to_owned(),
                f["explained_by"].clone(),
            )
        })
        .collect();
    assert_eq!(
        ids[..2],
        [
            ("mysql-lock-contention".into(), db.into(), Value::Null),
            (
                "db-pool-exhausted".into(),
                app.into(),
                format!("mysql-lock-contention@{db}").into()
            ),
        ]
    );
    // Alone, neither file connects the two: the app's file cannot see the lock, the
    // database's has no pool errors.
    assert!(
        alone("hosts-lock-wait-app")
            .iter()
            .all(|(id, _)| id != "mysql-lock-contention")
    );
    assert!(
        alone("hosts-lock-wait-db")
            .iter()
            .all(|(id, _)| id != "db-pool-exhausted")
    );
    assert_eq!(r["clocks"][0]["gap_s"], 0.0, "taken side by side");
    let table = doctor()
        .args([
            "analyze",
            &p("hosts-lock-wait-app"),
            &p("hosts-lock-wait-db"),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.contains(&format!("{app} uses the database on {db}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("↳ db-pool-exhausted ({app})")),
        "{text}"
    );
    assert!(
        text.contains(&format!("explained by mysql-lock-contention@{db}")),
        "{text}"
    );
}

#[test]
fn a_bundle_saved_with_out_reads_back_as_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("both.json");
    let first = json(&[
        &p("pool-queue-limit"),
        &p("mysql-slow-disk"),
        "--out",
        bundle.to_str().unwrap(),
    ]);
    let saved: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    assert_eq!(saved["schema"], 2);
    assert_eq!(saved["hosts"].as_array().unwrap().len(), 2);
    assert_eq!(saved["hosts"][0]["snapshot"]["schema"], 1);
    let again = json(&[bundle.to_str().unwrap()]);
    assert_eq!(first["findings"], again["findings"]);
    assert_eq!(first["hosts"], again["hosts"]);
    // Compared with itself, host by host: paired by name, nothing differs.
    let out = doctor()
        .args([
            "diff",
            "--format",
            "json",
            bundle.to_str().unwrap(),
            bundle.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let pairs = d["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 2);
    for p in pairs {
        assert_eq!(p["a"], p["b"]);
        assert_eq!(p["paired_by"], "name");
        assert_eq!(p["diff"]["findings"], serde_json::json!([]), "{}", p["a"]);
    }
    // Against one host named otherwise: never compared with a stranger; said, exit 1.
    doctor()
        .args(["diff", bundle.to_str().unwrap(), &p("healthy")])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("only in A: vm (pool-queue-limit)"))
        .stdout(predicate::str::contains("only in B: vm"));
}

#[test]
fn standard_input_is_read_once() {
    doctor()
        .args(["analyze", "-", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("can be read only once"));
}

#[test]
fn the_markdown_report_names_each_host() {
    let out = doctor()
        .args([
            "analyze",
            "--format",
            "markdown",
            &p("pool-queue-limit"),
            &p("mysql-slow-disk"),
        ])
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("### doctor report: vm (pool-queue-limit), vm (mysql-slow-disk)"));
    assert!(
        md.contains("`db-pool-exhausted` (vm (pool-queue-limit))"),
        "{md}"
    );
    assert!(md.contains("### vm (mysql-slow-disk)"), "{md}");
}

/// `doctor import NAME=FILE…`: pasted outputs of two hosts, analysed together. The samples are
/// real outputs (tests/import/samples/VERSIONS.txt says from which tools).
#[test]
fn import_puts_named_inputs_on_their_hosts() {
    let sample = |f: &str| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/import/samples")
            .join(f)
            .display()
            .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("pasted.json");
    let out = doctor()
        .args(["import", "--format", "json", "--fail-on", "never", "--out"])
        .arg(&bundle)
        .arg(format!("app1={}", sample("netstat-s.txt")))
        .arg(format!("db1={}", sample("mariadb-status-tab.txt")))
        .arg(format!("db1={}", sample("mariadb-variables-tab.txt")))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hosts: Vec<&str> = r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["app1", "db1"]);
    let collectors = |i: usize, name: &str| {
        r["hosts"][i]["collectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(collectors(0, "tcp"), "ok");
    assert_eq!(collectors(0, "mysql"), "skipped");
    assert_eq!(collectors(1, "mysql"), "ok");
    assert_eq!(r["databases"][0]["app"], "app1");
    assert_eq!(r["databases"][0]["database"], "db1");
    assert!(
        r["clocks"][0]["text"]
            .as_str()
            .unwrap()
            .contains("imported from pasted text"),
        "{}",
        r["clocks"][0]
    );
    let saved: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    assert_eq!(saved["schema"], 2);
    assert_eq!(saved["hosts"][1]["name"], "db1");

    // A plain file beside named ones belongs to no host: refused, naming it.
    doctor()
        .arg("import")
        .arg(format!("app1={}", sample("netstat-s.txt")))
        .arg(sample("ss-s.txt"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ss-s.txt has no host name"));
}
