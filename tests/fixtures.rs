//! The recorded scenarios (`fixtures/<scenario>.json`, recorded by `tests/scenarios/record.sh`
//! while the bottleneck was induced for real): each rule fires on its scenario and ranks first;
//! nothing reaches warning on the healthy baseline; and what the user sees is pinned by insta
//! snapshots (table without colour, JSON, Markdown, Prometheus metrics).

#[path = "scenarios/lab.rs"]
mod lab;
#[path = "support/mariadb.rs"]
mod mariadb;
mod support;

use doctor::engine::{Catalogue, Severity, analyze};
use doctor::report::{self, Color, Report};
use doctor::snapshot::{LoadTest, Section, Snapshot};
use std::path::PathBuf;
use std::time::Duration;

fn fixture(name: &str) -> Snapshot {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format!("{name}.json"));
    doctor::snapshot::load(&path)
        .unwrap_or_else(|e| panic!("{e}\nrecord it with: bash tests/scenarios/record.sh {name}"))
}

/// Rules (or some of their evidence groups) may be unchecked only because a section was
/// deliberately not collected (no `--log` when the scenario has no app log), never because a
/// field is missing or a collector failed.
fn only_skipped_sections(a: &doctor::engine::Analysis) -> bool {
    gaps(a).all(|r| r.contains("was skipped"))
}

/// Why each rule, or evidence group, that could not be evaluated was not.
fn gaps(a: &doctor::engine::Analysis) -> impl Iterator<Item = &str> {
    a.not_checked.iter().map(|n| n.reason.as_str()).chain(
        a.partly_checked
            .iter()
            .flat_map(|p| p.unchecked.iter().map(|u| u.reason.as_str())),
    )
}

fn rules() -> Catalogue {
    Catalogue::load(None).expect("the built-in rules compile")
}

#[test]
fn each_scenario_ranks_its_cause_first() {
    let rules = rules();
    for (name, expected) in lab::SCENARIOS {
        let Some(id) = expected else { continue };
        let a = analyze(&rules, &fixture(name));
        let ranked: Vec<_> = a
            .findings
            .iter()
            .map(|f| (f.id.as_str(), f.severity, f.score))
            .collect();
        assert_eq!(
            a.findings.first().map(|f| f.id.as_str()),
            Some(*id),
            "{name}: {ranked:?}"
        );
        assert!(
            a.findings[0].severity >= Severity::Warning,
            "{name}: {ranked:?}"
        );
        // Locked out of a full server, doctor's refused login is the condition itself: the
        // rules that only the SQL view can check are unchecked for it, and say so.
        let locked_out = name.starts_with("mysql-locked-out");
        let gaps_ok =
            gaps(&a).all(|r| r.contains("was skipped") || (locked_out && r.contains("ERROR 1040")));
        assert!(
            gaps_ok,
            "{name}: {:?} {:?}",
            a.not_checked, a.partly_checked
        );
    }
}

/// A fixture carries every section the recording doctor had: a section missing from the file
/// (read back as "written by a doctor without this collector") means the fixture predates the
/// collector and must be re-recorded — unless the file itself says it predates it, as a skipped
/// section whose message starts "predates" (for a case no machine here can record again).
#[test]
fn every_fixture_carries_every_section() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json")
                .filter(|_| !name.starts_with('.'))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 20, "{names:?}");
    let mut missing = Vec::new();
    for name in &names {
        let snap = fixture(name);
        for c in snap.collectors() {
            let message = c.message.unwrap_or("");
            if message.contains("written by a doctor without this collector") {
                missing.push(format!("{name}: {}", c.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "sections missing from fixtures (re-record them with bash tests/scenarios/record.sh \
         <scenario>): {missing:?}"
    );
}

#[test]
fn healthy_reports_nothing_at_warning_or_above() {
    let a = analyze(&rules(), &fixture("healthy"));
    let loud: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| (&f.id, f.severity, &f.summary))
        .collect();
    assert!(loud.is_empty(), "{loud:?}");
    assert!(
        only_skipped_sections(&a),
        "{:?} {:?}",
        a.not_checked,
        a.partly_checked
    );
    assert_eq!(
        a.passed.len() + a.findings.len() + a.not_checked.len() + a.partly_checked.len(),
        rules().rules.len()
    );
}

/// A section that could not be collected makes the rules that need it "not checked", with the
/// collector's reason — never "fine". (The failure is put into a loaded fixture in memory: a
/// collector failing on purpose is not something a scenario can produce honestly.)
#[test]
fn missing_section_is_not_checked_with_its_reason() {
    let mut snap = fixture("accept-queue-overflow");
    snap.tcp = Section::error(
        "cannot read /proc/net/snmp: permission denied",
        Duration::ZERO,
    );
    let a = analyze(&rules(), &snap);
    assert!(
        a.findings
            .iter()
            .all(|f| f.id != "tcp-accept-queue-overflow")
    );
    let nc = a
        .not_checked
        .iter()
        .find(|n| n.id == "tcp-accept-queue-overflow")
        .expect("listed as not checked");
    assert!(nc.reason.contains("needs `tcp`"), "{}", nc.reason);
    assert!(nc.reason.contains("permission denied"), "{}", nc.reason);
    assert!(!a.passed.contains(&"tcp-accept-queue-overflow".to_owned()));
}

/// A counter the kernel does not have is an evaluation error, which is also "not checked".
#[test]
fn missing_field_is_not_checked() {
    let mut snap = fixture("healthy");
    if let Some(tcp) = snap.tcp.data.as_mut() {
        tcp.counters.remove("TcpExtListenOverflows");
    }
    let a = analyze(&rules(), &snap);
    let nc = a
        .not_checked
        .iter()
        .find(|n| n.id == "tcp-accept-queue-overflow")
        .expect("listed as not checked");
    assert!(
        nc.reason
            .contains("the snapshot has no `TcpExtListenOverflows`"),
        "{}",
        nc.reason
    );
}

/// `--under-load` only declares that a load test runs; the figures are the machine's. So the
/// other scenarios' recordings, declared under load (set in memory: the flag changes nothing
/// else in a snapshot), must still rank their own cause first, and `load-not-reaching-server`
/// must stay quiet wherever the server is busy or the load arrives. It fires on exactly those
/// where nothing arrives and the machine is idle — `mysql-sleepers`,
/// `mysql-locked-out-sleepers` and `mysql-memory-over-limit` (a light load on a server whose
/// trouble is still to come), and `ephemeral-ports` (the client's `connect()` fails for want of
/// a local port, so nothing reaches the server) — and ranks below their own cause there.
#[test]
fn under_load_other_scenarios_keep_their_cause() {
    let rules = rules();
    let declared = || {
        Section::ok(
            LoadTest {
                port: None,
                target: None,
            },
            Duration::ZERO,
        )
    };
    for (name, expected) in lab::SCENARIOS {
        if *name == "load-not-reaching-server" {
            continue;
        }
        let mut snap = fixture(name);
        snap.load_test = declared();
        let a = analyze(&rules, &snap);
        let ranked: Vec<_> = a
            .findings
            .iter()
            .map(|f| (f.id.as_str(), f.score))
            .collect();
        if let Some(id) = expected {
            assert_eq!(a.findings[0].id, *id, "{name} under load: {ranked:?}");
        }
        let fired = a
            .findings
            .iter()
            .any(|f| f.id == "load-not-reaching-server");
        assert_eq!(
            fired,
            matches!(
                *name,
                "mysql-sleepers"
                    | "mysql-locked-out-sleepers"
                    | "mysql-memory-over-limit"
                    | "ephemeral-ports"
                    // Sessions waiting on a row lock leave the machine idle: "quiet and idle"
                    // holds, and the lock ranks above it.
                    | "mysql-row-lock-waits"
            ),
            "{name} under load: {ranked:?}"
        );
        assert!(
            !a.not_checked
                .iter()
                .any(|n| n.id == "load-not-reaching-server"),
            "{name}: {:?}",
            a.not_checked
        );
    }
}

/// Without `--under-load` the rule is "not checked", with a reason that says how to check it;
/// a snapshot from before the flag existed says why too.
#[test]
fn load_rule_is_not_checked_without_the_flag() {
    let mut snap = fixture("load-not-reaching-server");
    snap.load_test = Section::skipped(doctor::collect::load_test::NOT_DECLARED);
    let a = analyze(&rules(), &snap);
    let nc = a
        .not_checked
        .iter()
        .find(|n| n.id == "load-not-reaching-server")
        .expect("not checked");
    assert!(
        nc.reason
            .starts_with("needs `load_test`, which was skipped: no load test declared")
            && nc.reason.contains("--under-load"),
        "{}",
        nc.reason
    );
    // A snapshot written before the collector existed has no `load_test` key at all.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/healthy.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    json.as_object_mut().unwrap().remove("load_test");
    let old = doctor::snapshot::from_json(&serde_json::to_vec(&json).unwrap(), &path).unwrap();
    let a = analyze(&rules(), &old);
    let nc = a
        .not_checked
        .iter()
        .find(|n| n.id == "load-not-reaching-server")
        .expect("not checked on a snapshot without the section");
    assert!(
        nc.reason.contains("without this collector"),
        "{}",
        nc.reason
    );
}

/// The report of fixture `name` as the table, JSON, Markdown and Prometheus metrics.
fn rendered(name: &str) -> (String, String, String, String) {
    let snapshot = fixture(name);
    let rules = rules();
    let report = Report::new(&snapshot, &rules);
    let mut table = Vec::new();
    report::render_table(&report, Color::Never, Some(110), &mut table).unwrap();
    let mut json = Vec::new();
    report::render_json(&report, &mut json).unwrap();
    let mut md = Vec::new();
    report::render_markdown(&report, &mut md).unwrap();
    let mut prom = Vec::new();
    let host = report::HostMetrics {
        host: None,
        report: &report,
        overhead: &snapshot.overhead,
    };
    report::render_prometheus(&[host], &rules, &mut prom).unwrap();
    (
        String::from_utf8(table).unwrap(),
        String::from_utf8(json).unwrap(),
        String::from_utf8(md).unwrap(),
        String::from_utf8(prom).unwrap(),
    )
}

/// Fixtures edited by hand from a recorded one, for what one machine cannot record; each says
/// so, and why, in its sections' notes.
const HAND_EDITED: &[&str] = &["mysql-slow-disk-not-visible", "conntrack-table-full"];

#[test]
fn rendered_reports() {
    let names = lab::SCENARIOS
        .iter()
        .map(|(n, _)| *n)
        .chain(HAND_EDITED.iter().copied());
    for name in names {
        let (table, json, md, prom) = rendered(name);
        assert!(
            !table.contains('\u{1b}'),
            "no colour codes with Color::Never"
        );
        insta::assert_snapshot!(format!("{name}.table"), table);
        insta::assert_snapshot!(format!("{name}.json"), json);
        insta::assert_snapshot!(format!("{name}.md"), md);
        insta::assert_snapshot!(format!("{name}.prom"), prom);
    }
}

#[test]
fn json_report_has_the_documented_shape() {
    let (_, json, _, _) = rendered("accept-queue-overflow");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for key in [
        "findings",
        "not_checked",
        "partly_checked",
        "collectors",
        "passed",
        "headline",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let f = &v["findings"][0];
    for key in [
        "rank", "id", "severity", "score", "title", "summary", "evidence", "fix", "explains",
    ] {
        assert!(f.get(key).is_some(), "finding lacks {key}");
    }
    // Every top-level field is described by `doctor schema --report`.
    let schema = serde_json::to_value(report::json_schema()).unwrap();
    for key in v.as_object().unwrap().keys() {
        assert!(
            schema["properties"].get(key).is_some(),
            "{key} not in schema"
        );
    }
}

/// A replayed snapshot must give the very report `check` printed: `serde_json`'s default float
/// parser is not correctly rounded (`0.021` came back as `0.020999999999999998` in a replay), so
/// the crate enables its `float_roundtrip` feature. This guards that choice.
#[test]
#[allow(clippy::float_cmp)] // exactness is what is tested
fn json_numbers_parse_exactly() {
    for text in ["0.021", "0.020999999999999998", "601.6", "1e-7", "5000.356"] {
        let parsed: f64 = serde_json::from_str(text).unwrap();
        assert_eq!(parsed, text.parse::<f64>().unwrap(), "{text}");
        assert_eq!(
            serde_json::to_string(&parsed)
                .unwrap()
                .parse::<f64>()
                .unwrap(),
            parsed
        );
    }
}

/// The slow-disk scenario with the device out of doctor's sight (the datadir on another host, a
/// container's volume, a managed volume): the server's own figures still show slow storage, the
/// symptom stands alone — no disk to blame — and says the device is not visible.
#[test]
fn slow_storage_doctor_cannot_see_stands_alone() {
    let snap = fixture("mysql-slow-disk-not-visible");
    for section in [&snap.disks.notes, &snap.mysql.notes] {
        assert!(
            section.iter().any(|n| n.starts_with("hand-edited copy of")),
            "marked as hand-edited: {section:?}"
        );
    }
    let a = analyze(&rules(), &snap);
    let ids: Vec<&str> = a.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["mysql-slow-storage"]);
    let f = &a.findings[0];
    assert!(f.explained_by.is_none());
    assert!(f.severity >= Severity::Warning);
    assert!(
        f.summary.contains("is not on this machine") && f.summary.contains("cannot see"),
        "{}",
        f.summary
    );
    // Besides the sections deliberately not collected, only what a server elsewhere hides: its
    // process and the kernel's view of its connections (the memory limit, the kernel's groups of
    // the connection rules), each saying so.
    let elsewhere = |r: &str| r.contains("no `process`") || r.contains("no `connections`");
    let unexpected: Vec<&str> = gaps(&a)
        .filter(|r| !r.contains("was skipped") && !elsewhere(r))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    // The recorded original names the device and ranks it first.
    let recorded = analyze(&rules(), &fixture("mysql-slow-disk"));
    let ids: Vec<&str> = recorded.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["disk-io-saturation", "mysql-slow-storage"]);
}

/// A full connection-tracking table, which no scenario fills (the table is the machine's, its size
/// read-only in a namespace of its own): the healthy recording with the table's figures moved,
/// saying so; the rule ranks it first, and the recorded original stays quiet.
#[test]
fn conntrack_table_full_is_a_marked_copy_of_healthy() {
    let snap = fixture("conntrack-table-full");
    assert!(
        snap.tcp
            .notes
            .iter()
            .any(|n| n.starts_with("hand-edited copy of")),
        "marked as hand-edited: {:?}",
        snap.tcp.notes
    );
    let a = analyze(&rules(), &snap);
    let ids: Vec<&str> = a.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids.first(), Some(&"conntrack-table-full"), "{ids:?}");
    let healthy = analyze(&rules(), &fixture("healthy"));
    assert!(
        healthy
            .findings
            .iter()
            .all(|f| f.id != "conntrack-table-full")
    );
    let ct = fixture("healthy").tcp.get().unwrap().conntrack.clone();
    assert!(
        ct.is_some(),
        "the healthy recording read the conntrack table"
    );
}
