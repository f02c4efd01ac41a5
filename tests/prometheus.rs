//! `--format prometheus` and `--textfile DIR` checked with the real parts from Debian's
//! packages: `promtool check metrics` (package `prometheus`) on the output, `promtool check
//! rules` and `promtool test rules` on the example alerting rules, and
//! `prometheus-node-exporter` serving a textfile directory doctor wrote, scraped with `curl`.
//! The series agree with the JSON report of the same snapshot.
//!
//! Ports: `node_exporter` 34048 (noted with the others in tests/live.rs).

// Values are compared exactly: doctor prints a float's shortest round-trip form, so what the
// JSON report says is what the metrics parse back to.
#![allow(clippy::float_cmp)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{doctor, require};

const NODE_EXPORTER_PORT: u16 = 34048;

/// Fixtures with findings at each severity, rules not checked and checked in part, and a
/// healthy one.
const FIXTURES: &[&str] = &[
    "healthy",
    "mysql-slow-disk",
    "mysql-locked-out-burst",
    "accept-queue-overflow",
    "container-cpu-throttled",
    "mysql-sleepers",
];

const LEVELS: [&str; 3] = ["info", "warning", "critical"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format!("{name}.json"))
}

fn packaging(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("packaging/prometheus")
        .join(name)
}

/// stdout of a doctor run that must succeed.
fn run_doctor(args: &[&str], files: &[PathBuf]) -> String {
    let out = doctor().args(args).args(files).output().unwrap();
    assert!(
        out.status.success(),
        "doctor {args:?} {files:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The rule ids, as `doctor rules list` prints them.
fn rule_ids() -> BTreeSet<String> {
    run_doctor(&["rules", "list"], &[])
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(ToOwned::to_owned)
        .collect()
}

/// `promtool check metrics` on `text`: it must pass and find nothing to say (a lint such as a
/// missing HELP, a counter without `_total`, a non-base unit is printed even when it passes).
fn promtool_check_metrics(text: &str) {
    require("promtool", "prometheus");
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool check metrics: {said}");
    assert_eq!(said.trim(), "", "promtool check metrics has remarks");
}

/// One sample line: its name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the exposition text as this renderer writes it (labels without commas or braces in
/// their values, which the label check below holds it to), asserting each line's shape: HELP
/// and TYPE before a family's samples, and no sample timestamp (a third field).
fn parse(text: &str) -> Vec<Sample> {
    let mut typed = BTreeSet::new();
    let mut helped = BTreeSet::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.insert(rest.split(' ').next().unwrap().to_owned());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().unwrap().to_owned();
            assert_eq!(parts.next(), Some("gauge"), "{line}");
            typed.insert(name);
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
        let (series, value) = match line.rfind('}') {
            Some(end) => (&line[..=end], line[end + 1..].trim_start()),
            None => line.split_once(' ').unwrap(),
        };
        assert_eq!(
            value.split_whitespace().count(),
            1,
            "a sample with a timestamp (node_exporter skips the file): {line}"
        );
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.strip_suffix('}').unwrap()),
            None => (series, ""),
        };
        assert!(typed.contains(name) && helped.contains(name), "{line}");
        let labels = labels
            .split(',')
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (k, v) = l.split_once('=').unwrap();
                let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
                (
                    k.to_owned(),
                    v.unwrap_or_else(|| panic!("{line}")).to_owned(),
                )
            })
            .collect();
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value: value.parse().unwrap_or_else(|_| panic!("{line}")),
        });
    }
    samples
}

/// The value of the one sample of `name` with exactly these labels.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == name && s.labels == want)
        .collect();
    assert_eq!(found.len(), 1, "{name} {labels:?}");
    found[0].value
}

/// Label values come only from rule ids, layers, severities, collector names and statuses,
/// the version and host names: never from evidence.
fn labels_are_names(
    samples: &[Sample],
    rules: &BTreeSet<String>,
    collectors: &BTreeSet<String>,
    hosts: &BTreeSet<String>,
) {
    let layers = [
        "network",
        "database",
        "app",
        "disk",
        "cpu",
        "memory",
        "container",
        "host",
    ];
    for s in samples {
        for (k, v) in &s.labels {
            let ok = match k.as_str() {
                "rule" => rules.contains(v),
                "severity" => LEVELS.contains(&v.as_str()),
                "layer" => layers.contains(&v.as_str()),
                "collector" => collectors.contains(v),
                "status" => ["ok", "skipped", "error"].contains(&v.as_str()),
                "version" => v == env!("CARGO_PKG_VERSION"),
                "host" => hosts.contains(v),
                _ => false,
            };
            assert!(ok, "{} has label {k}={v:?}", s.name);
        }
    }
}

/// The series of one host (`host` in a report of several) agree with its part of the JSON
/// report: a finding is 1 at its severity and 0 at the others, with its score; every other
/// rule is 0 at every level with score 0; not checked and partly checked rules are 1 in their
/// families; every rule has exactly one series per level.
fn agrees_with_json(
    samples: &[Sample],
    json: &serde_json::Value,
    host: Option<&str>,
    rules: &BTreeSet<String>,
) {
    let mine = |v: &serde_json::Value| v["host"].as_str() == host;
    let with = |extra: &[(&'static str, String)]| -> Vec<(String, String)> {
        host.map(|h| ("host".to_owned(), h.to_owned()))
            .into_iter()
            .chain(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())))
            .collect()
    };
    let get = |name: &str, labels: Vec<(String, String)>| {
        let refs: Vec<(&str, &str)> = labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        value(samples, name, &refs)
    };
    let ids = |key: &str| -> BTreeSet<String> {
        json[key]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| mine(v))
            .map(|v| v["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut fired = BTreeMap::new();
    for f in json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| mine(f))
    {
        let id = f["id"].as_str().unwrap().to_owned();
        fired.insert(
            id,
            (
                f["severity"].as_str().unwrap().to_owned(),
                f["layer"].as_str().unwrap().to_owned(),
                f["score"].as_f64().unwrap(),
            ),
        );
    }
    let not_checked = ids("not_checked");
    let partly = ids("partly_checked");
    for rule in rules {
        let at_levels: Vec<&Sample> = samples
            .iter()
            .filter(|s| {
                s.name == "doctor_finding"
                    && s.labels.get("rule") == Some(rule)
                    && s.labels.get("host").map(String::as_str) == host
            })
            .collect();
        let levels: Vec<&str> = at_levels
            .iter()
            .map(|s| s.labels["severity"].as_str())
            .collect();
        assert_eq!(levels, LEVELS, "{rule}: one series per severity level");
        let fired_at = fired.get(rule);
        for s in &at_levels {
            let expected = fired_at.is_some_and(|(sev, _, _)| *sev == s.labels["severity"]);
            assert_eq!(
                s.value,
                f64::from(u8::from(expected)),
                "{rule} {:?}",
                s.labels
            );
            if let Some((_, layer, _)) = fired_at {
                assert_eq!(&s.labels["layer"], layer, "{rule}");
            }
        }
        let score = get("doctor_finding_score", with(&[("rule", rule.clone())]));
        assert_eq!(score, fired_at.map_or(0.0, |f| f.2), "{rule} score");
        let nc = get("doctor_rule_not_checked", with(&[("rule", rule.clone())]));
        assert_eq!(
            nc,
            f64::from(u8::from(not_checked.contains(rule))),
            "{rule}"
        );
        let pc = get(
            "doctor_rule_partly_checked",
            with(&[("rule", rule.clone())]),
        );
        assert_eq!(pc, f64::from(u8::from(partly.contains(rule))), "{rule}");
    }
}

#[test]
fn metrics_pass_promtool_and_agree_with_the_json_report() {
    let rules = rule_ids();
    assert!(rules.len() > 10, "{rules:?}");
    let mut severities_seen = BTreeSet::new();
    let mut not_checked_seen = false;
    for name in FIXTURES {
        let file = [fixture(name)];
        let text = run_doctor(
            &["analyze", "--fail-on", "never", "--format", "prometheus"],
            &file,
        );
        promtool_check_metrics(&text);
        let json: serde_json::Value = serde_json::from_str(&run_doctor(
            &["analyze", "--fail-on", "never", "--json"],
            &file,
        ))
        .unwrap();
        let samples = parse(&text);
        agrees_with_json(&samples, &json, None, &rules);
        let collectors: BTreeSet<String> = json["collectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect();
        labels_are_names(&samples, &rules, &collectors, &BTreeSet::new());
        for c in json["collectors"].as_array().unwrap() {
            let (name, status) = (c["name"].as_str().unwrap(), c["status"].as_str().unwrap());
            let ok = value(&samples, "doctor_collector_ok", &[("collector", name)]);
            assert_eq!(
                ok,
                f64::from(u8::from(status == "ok")),
                "{name}: {name} {status}"
            );
            for s in ["ok", "skipped", "error"] {
                let v = value(
                    &samples,
                    "doctor_collector_status",
                    &[("collector", name), ("status", s)],
                );
                assert_eq!(v, f64::from(u8::from(status == s)), "{name} {s}");
            }
        }
        let w = &json["window"];
        let end =
            (w["start_unix_ms"].as_f64().unwrap() + w["elapsed_ms"].as_f64().unwrap()) / 1000.0;
        let ts = value(&samples, "doctor_last_run_timestamp_seconds", &[]);
        assert!((ts - end).abs() < 1e-3, "{ts} {end}");
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(
            value(&samples, "doctor_build_info", &[("version", version)]),
            1.0
        );
        for f in json["findings"].as_array().unwrap() {
            severities_seen.insert(f["severity"].as_str().unwrap().to_owned());
        }
        not_checked_seen |= !json["not_checked"].as_array().unwrap().is_empty();
    }
    // The fixtures exercise what they are here for.
    assert!(severities_seen.contains("critical"), "{severities_seen:?}");
    assert!(severities_seen.len() >= 2, "{severities_seen:?}");
    assert!(not_checked_seen);
}

#[test]
fn several_hosts_are_told_apart_by_a_host_label() {
    let rules = rule_ids();
    let files = [
        fixture("hosts-lock-wait-app"),
        fixture("hosts-lock-wait-db"),
    ];
    let text = run_doctor(
        &["analyze", "--fail-on", "never", "--format", "prometheus"],
        &files,
    );
    promtool_check_metrics(&text);
    let json: serde_json::Value = serde_json::from_str(&run_doctor(
        &["analyze", "--fail-on", "never", "--json"],
        &files,
    ))
    .unwrap();
    let hosts: BTreeSet<String> = json["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(hosts.len(), 2);
    let samples = parse(&text);
    for s in samples.iter().filter(|s| s.name != "doctor_build_info") {
        assert!(s.labels.contains_key("host"), "{s:?}");
    }
    let collectors: BTreeSet<String> = json["hosts"][0]["collectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    labels_are_names(&samples, &rules, &collectors, &hosts);
    // Per host, the findings of the joint report. A rule not checked on one host but checked
    // on the other is not listed as not checked in the joint report (while the host's own
    // series say it was not checked there), so findings and scores are compared, and that
    // every rule has its three series on each host.
    for host in &hosts {
        let fired: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.name == "doctor_finding" && s.value == 1.0)
            .filter(|s| s.labels["host"] == *host)
            .collect();
        let expected = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["host"] == host.as_str())
            .count();
        assert_eq!(fired.len(), expected, "{host}");
        for f in json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["host"] == host.as_str())
        {
            let (id, sev) = (f["id"].as_str().unwrap(), f["severity"].as_str().unwrap());
            let labels = [
                ("host", host.as_str()),
                ("rule", id),
                ("severity", sev),
                ("layer", f["layer"].as_str().unwrap()),
            ];
            assert_eq!(value(&samples, "doctor_finding", &labels), 1.0);
            let score = value(
                &samples,
                "doctor_finding_score",
                &[("host", host.as_str()), ("rule", id)],
            );
            assert_eq!(score, f["score"].as_f64().unwrap(), "{id}@{host}");
        }
        for rule in &rules {
            let n = samples
                .iter()
                .filter(|s| s.name == "doctor_finding" && s.labels["host"] == *host)
                .filter(|s| s.labels["rule"] == *rule)
                .count();
            assert_eq!(n, 3, "{rule}@{host}");
        }
    }
}

#[test]
fn textfile_is_the_prometheus_output_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let file = [fixture("mysql-slow-disk")];
    let expected = run_doctor(
        &["analyze", "--fail-on", "never", "--format", "prometheus"],
        &file,
    );
    let mut args = vec!["analyze", "--fail-on", "never", "--json", "--textfile"];
    args.push(dir.path().to_str().unwrap());
    let stdout = run_doctor(&args, &file);
    // The report is still printed, in its own format.
    serde_json::from_str::<serde_json::Value>(&stdout).expect("the JSON report on stdout");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("doctor.prom")).unwrap(),
        expected
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["doctor.prom"], "no temporary file is left");
}

#[test]
fn a_textfile_directory_that_does_not_exist_is_refused_before_sampling() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let started = Instant::now();
    let out = doctor()
        .args([
            "check",
            "--interval",
            "5s",
            "--quiet",
            "--fail-on",
            "never",
            "--textfile",
        ])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(4), "sampled first");
}

/// The command line the systemd timer and the cron line run, exactly: nothing on stdout (cron
/// would mail it every minute), exit 0, the file written.
#[test]
fn the_timer_command_line_prints_nothing_and_writes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = doctor()
        .args(["check", "--quiet", "--fail-on", "never", "--textfile"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let text = std::fs::read_to_string(dir.path().join("doctor.prom")).unwrap();
    promtool_check_metrics(&text);
    assert!(text.contains("doctor_build_info{"), "{text}");
}

#[test]
fn the_example_alerting_rules_check_and_their_unit_tests_pass() {
    require("promtool", "prometheus");
    for args in [
        ["check", "rules", "doctor-alerts.yml"],
        ["test", "rules", "doctor-alerts.test.yml"],
    ] {
        let out = Command::new("promtool")
            .args(args)
            .current_dir(packaging(""))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A `node_exporter` started by the test, killed when the guard goes (a failing assertion too).
struct NodeExporter(std::process::Child);

impl Drop for NodeExporter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn node_exporter_serves_the_doctor_series_from_the_textfile() {
    require("prometheus-node-exporter", "prometheus-node-exporter");
    require("curl", "curl");
    let dir = tempfile::tempdir().unwrap();
    let out = doctor()
        .args([
            "check",
            "--interval",
            "1s",
            "--quiet",
            "--fail-on",
            "never",
            "--no-docker",
            "--no-mysql",
            "--textfile",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let address = format!("127.0.0.1:{NODE_EXPORTER_PORT}");
    let _exporter = NodeExporter(
        Command::new("prometheus-node-exporter")
            .arg(format!("--web.listen-address={address}"))
            .args(["--collector.disable-defaults", "--collector.textfile"])
            .arg(format!(
                "--collector.textfile.directory={}",
                dir.path().display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus-node-exporter starts"),
    );
    let url = format!("http://{address}/metrics");
    let deadline = Instant::now() + Duration::from_secs(20);
    let metrics = loop {
        let got = Command::new("curl")
            .args(["-sf", "--max-time", "2", &url])
            .output()
            .unwrap();
        if got.status.success() {
            break String::from_utf8(got.stdout).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "node_exporter did not answer on {url} within 20 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        metrics.lines().any(|l| l == "node_textfile_scrape_error 0"),
        "the textfile collector read the file with an error:\n{metrics}"
    );
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        metrics.contains(&format!("doctor_build_info{{version=\"{version}\"}} 1")),
        "{metrics}"
    );
    for rule in rule_ids() {
        assert!(
            metrics
                .lines()
                .filter(|l| l.starts_with("doctor_finding{"))
                .any(|l| l.contains(&format!("rule=\"{rule}\""))),
            "{rule} missing:\n{metrics}"
        );
    }
    for family in [
        "doctor_finding_score{",
        "doctor_rule_not_checked{",
        "doctor_collector_ok{",
        "doctor_last_run_timestamp_seconds ",
    ] {
        assert!(metrics.contains(family), "{family} missing:\n{metrics}");
    }
}

/// A comparison is no set of metrics: `doctor diff` refuses the format as a usage error.
#[test]
fn diff_has_no_prometheus_format() {
    let out = doctor()
        .args(["diff", "--format", "prometheus"])
        .arg(fixture("healthy"))
        .arg(fixture("mysql-slow-disk"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("table, json, markdown"), "{stderr}");
}
