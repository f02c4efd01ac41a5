//! `doctor diff A B` on the recorded fixtures: a finding that holds on one side only is named
//! with its fix, a configuration value that truly differs between the files is listed (the
//! values checked with `jq` on the files), load is compared rate for rate, identical files say
//! "no difference", and the exit status is the documented one.

use assert_cmd::Command;
use doctor::diff::{Diff, Holds, Reading};
use doctor::engine::Catalogue;
use doctor::snapshot::Snapshot;
use predicates::prelude::*;
use std::path::PathBuf;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format!("{name}.json"))
}

fn fixture(name: &str) -> Snapshot {
    doctor::snapshot::load(&path(name)).expect("the fixture loads")
}

fn diff(a: &str, b: &str) -> Diff {
    let rules = Catalogue::load(None).expect("the built-in rules compile");
    Diff::new(
        (&format!("fixtures/{a}.json"), &fixture(a)),
        (&format!("fixtures/{b}.json"), &fixture(b)),
        &rules,
        false,
    )
}

fn doctor() -> Command {
    Command::cargo_bin("doctor").unwrap()
}

#[test]
fn the_accept_queue_overflow_holds_on_one_side_only_with_its_fix() {
    let d = diff("healthy", "accept-queue-overflow");
    let f = &d.findings[0];
    assert_eq!(f.id, "tcp-accept-queue-overflow");
    assert_eq!(f.holds, Holds::OnlyB);
    assert!(f.fix.contains("backlog"), "{}", f.fix);
    assert!(d.findings_differ());
    // jq '.tcp.counters.TcpExtListenOverflows': healthy {"total":5334,"delta":0,"per_s":0},
    // accept-queue-overflow {"total":5094,"delta":192,"per_s":38.4}: rates compared, not totals.
    let overflows = d
        .load
        .iter()
        .find(|l| l.name == "tcp TcpExtListenOverflows")
        .expect("the overflow rate differs");
    assert_eq!(overflows.a, Reading::Value { value: 0.0 });
    assert_eq!(overflows.b, Reading::Value { value: 38.4 });
    // jq '.mysql.status': "ok" and "skipped": one line for the section, not one per variable.
    assert!(d.config.iter().any(|c| c.name == "mysql section"));
    assert!(
        !d.config
            .iter()
            .any(|c| c.name.starts_with("mysql ") && c.name != "mysql section")
    );
}

#[test]
fn a_smaller_buffer_pool_is_listed_and_tied_to_its_finding() {
    let d = diff("healthy", "mysql-small-buffer-pool");
    let f = &d.findings[0];
    assert_eq!(f.id, "mysql-buffer-pool-too-small");
    assert_eq!(f.holds, Holds::OnlyB);
    // jq '.mysql.variables.innodb_buffer_pool_size': 134217728 and 6291456.
    let pool = &d.config[0];
    assert_eq!(pool.name, "mysql innodb_buffer_pool_size");
    assert_eq!(pool.a.as_deref(), Some("128 MiB"));
    assert_eq!(pool.b.as_deref(), Some("6 MiB"));
    assert_eq!(pool.explains, ["mysql-buffer-pool-too-small"]);
    // Settings equal on both sides are not listed: jq '.tcp.sysctls' is the same in both.
    assert!(!d.config.iter().any(|c| c.name == "net.core.somaxconn"));
}

#[test]
fn max_connections_that_differ_are_listed() {
    let d = diff("healthy", "mysql-too-many-connections");
    // jq '.mysql.variables.max_connections': 151 and 10.
    let c = d
        .config
        .iter()
        .find(|c| c.name == "mysql max_connections")
        .expect("max_connections differs");
    assert_eq!((c.a.as_deref(), c.b.as_deref()), (Some("151"), Some("10")));
}

#[test]
fn a_counter_with_no_rate_on_one_side_is_never_compared_with_a_rate() {
    let mut one_sample = fixture("accept-queue-overflow");
    if let Some(t) = one_sample.tcp.data.as_mut() {
        for c in t.counters.values_mut() {
            *c = doctor::snapshot::Counter::gauge(c.total);
        }
    }
    let rules = Catalogue::load(None).unwrap();
    let d = Diff::new(
        ("healthy", &fixture("healthy")),
        ("one sample", &one_sample),
        &rules,
        false,
    );
    for l in d.load.iter().filter(|l| l.name.starts_with("tcp Tcp")) {
        assert!(
            matches!(l.b, Reading::TotalOnly { .. }),
            "{}: {:?}",
            l.name,
            l.b
        );
        assert_eq!(l.ratio, None, "{}", l.name);
    }
}

#[test]
fn identical_files_say_no_difference_and_exit_0() {
    for format in ["table", "markdown", "json"] {
        doctor()
            .arg("diff")
            .arg(path("accept-queue-overflow"))
            .arg(path("accept-queue-overflow"))
            .args(["--format", format])
            .assert()
            .code(0)
            .stdout(predicate::str::contains("tcp-accept-queue-overflow").not());
    }
    doctor()
        .arg("diff")
        .arg(path("healthy"))
        .arg(path("healthy"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("no difference"));
}

#[test]
fn a_finding_on_one_side_only_exits_1_and_stdin_is_one_side() {
    let text = std::fs::read(path("accept-queue-overflow")).unwrap();
    doctor()
        .arg("diff")
        .arg(path("healthy"))
        .arg("-")
        .write_stdin(text)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("only in B"))
        .stdout(predicate::str::contains("<stdin>"));
}

#[test]
fn a_file_that_cannot_be_read_or_parsed_is_named_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("truncated.json");
    std::fs::write(&bad, "{\"schema\": 1,").unwrap();
    doctor()
        .arg("diff")
        .arg(path("healthy"))
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("truncated.json"));
    doctor()
        .args(["diff", "no-such-file.json"])
        .arg(path("healthy"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-file.json"));
    doctor()
        .args(["diff", "-", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("only one side"));
}

#[test]
fn the_json_has_the_documented_shape() {
    let out = doctor()
        .args(["diff", "--json"])
        .arg(path("healthy"))
        .arg(path("mysql-small-buffer-pool"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["a", "b", "findings", "config", "load", "equal"] {
        assert!(v.get(key).is_some(), "{key} missing");
    }
    assert_eq!(v["findings"][0]["holds"], "only_b");
    assert_eq!(v["config"][0]["b"], "6 MiB");
}

#[test]
fn the_table_and_markdown_of_one_pair() {
    let d = diff("healthy", "mysql-small-buffer-pool");
    let mut table = Vec::new();
    doctor::diff::table(&d, &mut table).unwrap();
    let mut md = Vec::new();
    doctor::diff::markdown(&d, &mut md).unwrap();
    insta::assert_snapshot!(
        "diff.healthy-vs-mysql-small-buffer-pool.table",
        String::from_utf8(table).unwrap()
    );
    insta::assert_snapshot!(
        "diff.healthy-vs-mysql-small-buffer-pool.md",
        String::from_utf8(md).unwrap()
    );
}

/// The diary's own paste (one `netstat -s` sample: totals since boot, no rate) against a
/// recorded window: the overflows are shown as a total on the diary's side and never divided
/// into, or set against, the other side's rate.
#[test]
fn the_diary_import_against_a_recorded_window_keeps_its_totals_as_totals() {
    let dir = tempfile::tempdir().unwrap();
    let diary = dir.path().join("diary.json");
    doctor()
        .args(["import", "--fail-on", "never", "--out"])
        .arg(&diary)
        .arg(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/import/samples/diary-mokakbab-issue.md"),
        )
        .assert()
        .code(0);
    let out = doctor()
        .args(["diff", "--json"])
        .arg(&diary)
        .arg(path("accept-queue-overflow"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let overflows = v["load"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "tcp TcpExtListenOverflows")
        .expect("the overflows are compared");
    // The diary's "3008 times the listen queue of a socket overflowed"; the fixture's
    // jq '.tcp.counters.TcpExtListenOverflows.per_s' is 38.4.
    assert_eq!(overflows["a"]["state"], "total_only");
    assert_eq!(overflows["a"]["total"], 3008);
    assert_eq!(overflows["b"]["value"], 38.4);
    assert!(overflows.get("ratio").is_none());
    // The pool errors are the diary's alone, and the fixture could not check them (no log).
    let pool = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "db-pool-exhausted")
        .expect("the pool finding is listed");
    assert_eq!(pool["holds"], "only_a");
    assert!(pool["other_side_not_checked"].is_string());
    // On both sides with its score change: `doctor analyze --json` gives 34 for the diary's
    // totals and 95 for the fixture's rate.
    let overflow = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "tcp-accept-queue-overflow")
        .expect("the overflow finding is listed");
    assert_eq!(overflow["holds"], "both");
    assert_eq!(
        (overflow["score_a"].as_f64(), overflow["score_b"].as_f64()),
        (Some(34.0), Some(95.0))
    );
    // A one-sided finding ranks before a changed score.
    assert_eq!(v["findings"][0]["id"], "db-pool-exhausted");
}

#[test]
fn the_schema_of_the_json_is_printed() {
    let out = doctor().args(["schema", "--diff"]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["title"], "Diff");
}
