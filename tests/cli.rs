//! The command line as a user meets it: replay of saved snapshots, bad input, help, exit codes.

mod support;

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;
use support::snapshot_json;

fn doctor() -> Command {
    Command::cargo_bin("doctor").unwrap()
}

/// A snapshot taken live once, shared by the tests that only need some real snapshot.
fn real_snapshot(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("snap.json");
    doctor()
        .args(["snapshot", "-i", "200ms", "-q", "-o"])
        .arg(&path)
        .assert()
        .success()
        .stdout("");
    path
}

#[test]
fn analyze_replays_what_check_printed() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("saved.json");
    for format in ["json", "table", "markdown"] {
        let live = doctor()
            .args(["check", "-i", "300ms", "-q", "--fail-on", "never"])
            .args(["--format", format, "--out"])
            .arg(&saved)
            .output()
            .unwrap();
        assert!(
            live.status.success(),
            "{}",
            String::from_utf8_lossy(&live.stderr)
        );
        let replay = doctor()
            .args(["analyze", "--fail-on", "never", "--format", format])
            .arg(&saved)
            .output()
            .unwrap();
        assert!(replay.status.success());
        assert_eq!(
            String::from_utf8_lossy(&replay.stdout),
            String::from_utf8_lossy(&live.stdout),
            "{format}"
        );
        assert!(!live.stdout.is_empty());
    }
    // The headline carries real figures, not placeholders.
    let report: serde_json::Value = serde_json::from_slice(
        &doctor()
            .args(["analyze", "--json"])
            .arg(&saved)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let names: Vec<&str> = report["headline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"busy / iowait / steal")
            && names.contains(&"listen queue overflows / drops"),
        "{names:?}"
    );
}

#[test]
fn snapshot_round_trips_through_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let path = real_snapshot(dir.path());
    let text = std::fs::read(&path).unwrap();
    let from_file = doctor()
        .args(["analyze", "--json"])
        .arg(&path)
        .output()
        .unwrap()
        .stdout;
    let from_stdin = doctor()
        .args(["analyze", "--json", "-"])
        .write_stdin(text)
        .output()
        .unwrap()
        .stdout;
    assert_eq!(from_file, from_stdin);
}

/// Each kind of bad file: exit code 2, exactly one line on stderr naming the file and the
/// problem, nothing on stdout.
#[test]
fn bad_snapshot_files_give_one_clear_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(real_snapshot(dir.path())).unwrap();
    let truncated = &good[..good.len() / 2];
    let wrong_version = good.replacen("\"schema\": 1", "\"schema\": 3", 1);
    let bundle_version = good.replacen("\"schema\": 1", "\"schema\": 2", 1);
    let wrong_type = good.replacen("\"busy_pct\":", "\"busy_pct\": \"high\", \"x\":", 1);
    let mut no_idle: serde_json::Value = serde_json::from_str(&good).unwrap();
    no_idle["cpu"].as_object_mut().unwrap().remove("idle_pct");
    let cases: Vec<(&str, String, &str)> = vec![
        ("empty.json", String::new(), "is empty"),
        (
            "garbage.json",
            "<html>oops".into(),
            "line 1, column 1: expected value",
        ),
        (
            "truncated.json",
            truncated.into(),
            "(the file is truncated)",
        ),
        (
            "version.json",
            wrong_version,
            "schema version 3 is not supported",
        ),
        (
            "bundle.json",
            bundle_version,
            "schema 2 is a bundle of several hosts' snapshots and needs `hosts`",
        ),
        ("array.json", "[1, 2]".into(), "not a doctor snapshot"),
        (
            "type.json",
            wrong_type,
            "at `cpu`: busy_pct: invalid type: string \"high\"",
        ),
        (
            "missing.json",
            no_idle.to_string(),
            "at `cpu`: missing field `idle_pct`",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = doctor().arg("analyze").arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(
            stderr.contains(&path.display().to_string()),
            "{name}: {stderr}"
        );
        assert!(
            stderr.contains(expected),
            "{name}: expected {expected:?} in {stderr}"
        );
    }
    doctor()
        .args(["analyze", "/nonexistent/snap.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read /nonexistent/snap.json: No such file or directory",
        ));
}

/// No value in any field of a real snapshot makes doctor panic: every leaf replaced by values of
/// other types either loads and renders, or is refused with a `LoadError`.
#[test]
fn no_field_value_makes_doctor_panic() {
    let snap = snapshot_json("100ms");
    let mut paths = Vec::new();
    leaves(&snap, &mut Vec::new(), &mut paths);
    assert!(paths.len() > 200, "only {} leaves", paths.len());
    let replacements = [
        serde_json::json!(null),
        serde_json::json!(-1),
        serde_json::json!(1e308),
        serde_json::json!("x"),
        serde_json::json!([]),
        serde_json::json!({}),
    ];
    let rules = doctor::engine::Catalogue::load(None).unwrap();
    let mut refused = 0;
    for path in &paths {
        for r in &replacements {
            let mut v = snap.clone();
            *pointer(&mut v, path) = r.clone();
            let text = serde_json::to_vec(&v).unwrap();
            match doctor::snapshot::from_json(&text, Path::new("mutated.json")) {
                Ok(s) => {
                    let report = doctor::report::Report::new(&s, &rules);
                    let mut out = Vec::new();
                    doctor::report::render_table(
                        &report,
                        doctor::report::Color::Never,
                        Some(80),
                        &mut out,
                    )
                    .unwrap();
                    doctor::report::render_json(&report, &mut out).unwrap();
                    doctor::report::render_markdown(&report, &mut out).unwrap();
                }
                Err(e) => {
                    refused += 1;
                    assert!(e.to_string().starts_with("mutated.json"), "{e}");
                }
            }
        }
    }
    assert!(refused > 0);
}

fn leaves(v: &serde_json::Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                at.push(k.clone());
                leaves(v, at, out);
                at.pop();
            }
        }
        serde_json::Value::Array(a) => {
            for (i, v) in a.iter().enumerate().take(2) {
                at.push(i.to_string());
                leaves(v, at, out);
                at.pop();
            }
        }
        _ => out.push(at.clone()),
    }
}

fn pointer<'a>(v: &'a mut serde_json::Value, path: &[String]) -> &'a mut serde_json::Value {
    path.iter().fold(v, |v, k| match v {
        serde_json::Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
        other => &mut other[k.as_str()],
    })
}

#[test]
fn help_version_and_usage_errors() {
    for cmd in [
        &["--help"][..],
        &["check", "--help"],
        &["snapshot", "--help"],
        &["analyze", "--help"],
        &["schema", "--help"],
    ] {
        doctor()
            .args(cmd)
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage:"));
    }
    // The commit's part is tested in tests/install.rs.
    doctor()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(format!(
            "doctor {}",
            env!("CARGO_PKG_VERSION")
        )));
    doctor()
        .args(["--interval", "0s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("between 100ms and 1h"));
    doctor().args(["--format", "yaml"]).assert().code(2);
    doctor().args(["analyze"]).assert().code(2);
}

#[test]
fn piped_output_has_no_colour_and_closed_pipe_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = real_snapshot(dir.path());
    let out = doctor()
        .args(["analyze", "--fail-on", "never"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!out.stdout.contains(&0x1b), "escape codes in piped output");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("collectors:") && text.contains("cpu") && text.contains("ok"),
        "{text}"
    );

    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} analyze --fail-on never --format json {} | head -c 1 >/dev/null",
            env!("CARGO_BIN_EXE_doctor"),
            path.display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
}

/// `doctor schema` is a JSON Schema that the snapshot doctor writes validates against, in the
/// sense that every top-level section is described.
#[test]
fn schema_describes_every_section() {
    let out = doctor().arg("schema").output().unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let snap = snapshot_json("100ms");
    for key in snap.as_object().unwrap().keys() {
        assert!(
            schema["properties"].get(key).is_some(),
            "schema lacks {key}"
        );
    }
}

/// On a terminal (a pty from `script`): a progress indicator on stderr and coloured statuses;
/// with `NO_COLOR` set, no colour.
#[test]
fn terminal_gets_progress_and_colour_unless_no_color() {
    support::require("script", "bsdutils");
    let on_tty = |no_color: bool| {
        let mut cmd = std::process::Command::new("script");
        cmd.args([
            "-q",
            "-e",
            "-c",
            &format!(
                "{} check -i 600ms --fail-on never",
                env!("CARGO_BIN_EXE_doctor")
            ),
            "/dev/null",
        ]);
        cmd.env_remove("NO_COLOR");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = on_tty(false);
    assert!(
        coloured.contains("sampling 600ms window"),
        "no progress indicator: {coloured}"
    );
    assert!(
        coloured.contains("\x1b[32mok\x1b[39m"),
        "no colour on a terminal: {coloured}"
    );
    let plain = on_tty(true);
    assert!(
        !plain.contains("\x1b[32m"),
        "colour despite NO_COLOR: {plain}"
    );
    assert!(plain.contains("collectors:"));
}

/// `--under-load` is recorded in the snapshot. Without it the `load_test` section is skipped
/// with how to declare a load test; with a port that nothing listens on, the port is followed
/// (no connection, nothing received) and a note says that nothing listens there.
#[test]
fn under_load_is_recorded_in_the_snapshot() {
    let snapshot = |args: &[&str]| -> serde_json::Value {
        let out = doctor()
            .args(["snapshot", "-i", "200ms", "-q", "--no-mysql", "--no-docker"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let undeclared = snapshot(&[])["load_test"].clone();
    assert_eq!(undeclared["status"], "skipped");
    assert!(
        undeclared["message"]
            .as_str()
            .unwrap()
            .contains("--under-load"),
        "{undeclared}"
    );
    let declared = snapshot(&["--under-load"])["load_test"].clone();
    assert_eq!(declared["status"], "ok", "{declared}");
    assert!(declared.get("port").is_none() && declared.get("target").is_none());

    // A port the kernel just handed out and that is closed again: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let named = snapshot(&["--under-load", &port.to_string()])["load_test"].clone();
    assert_eq!(named["port"], port, "{named}");
    let target = &named["target"];
    assert_eq!(target["listeners"], 0, "{named}");
    assert_eq!(target["connections_max"], 0, "{named}");
    assert_eq!(target["data_segs_in_per_s"], 0.0, "{named}");
    assert!(target["samples"].as_u64().unwrap() >= 2, "{named}");
    assert!(
        named["notes"][0]
            .as_str()
            .unwrap()
            .contains(&format!("nothing listens on port {port}")),
        "{named}"
    );
}
