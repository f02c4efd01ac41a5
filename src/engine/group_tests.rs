//! Rules that reason from several evidence groups (`[[from]]`): how they load and how their
//! groups combine. The rules and snapshots here are hand-written boundary cases, small enough to
//! read at a glance: two sources a rule can reason from (`pressure`, `logs`), each present,
//! quiet, skipped or lacking a field.

use super::rules::Source;
use super::{Analysis, Catalogue, GroupOutcome, GroupStatus, Unchecked, analyze};
use crate::snapshot::Snapshot;
use serde_json::json;

/// Two groups: `stall` reads the CPU pressure through a shared let; `log` reads a log
/// category through its own let. The shared `logged` is needed by no group's `when`: it only
/// fills in the text. Each field a group reads is read nowhere else, so a group expression the
/// view did not record would be missing at evaluation time.
const RULE: &str = r#"id = "x"
title = "t"
layer = "database"
kind = "symptom"
summary = "stalled {{fmt(stall)}}%, {{fmt(logged)}} logged"
fix = "rule fix"

[let]
stall = "pressure.cpu.some.avg10"
logged = "logs.categories['db-too-many-connections'].count"

[[evidence]]
label = "stall %"
expr = "stall"

[[from]]
name = "stall"
requires = ["pressure"]
when = "stall > 10.0"
score = "stall"

[[from.evidence]]
label = "stall, 60 s"
expr = "pressure.cpu.some.avg60"

[[from]]
name = "log"
requires = ["logs"]
when = "n > 0.0"
score = "50.0 + n"
summary = "{{fmt(n)}} refused in the log"
fix = "log fix {{fmt(logs.sources.size())}}"

[from.let]
n = "logs.categories['db-too-many-connections'].in_window"

[[from.evidence]]
label = "refused in the window"
expr = "n"
"#;

fn catalogue(text: &str) -> Result<Catalogue, super::RuleError> {
    Catalogue::from_sources(&[Source {
        path: "d/x.toml".into(),
        text: text.into(),
        doc: None,
        builtin: false,
    }])
}

fn error(text: &str) -> String {
    catalogue(text).unwrap_err().to_string()
}

/// A snapshot with the host facts and the given sections, all others not collected.
fn snapshot(sections: &serde_json::Value) -> Snapshot {
    let mut s = json!({
        "schema": crate::snapshot::SCHEMA_VERSION,
        "doctor_version": "",
        "host": {"hostname": "h", "kernel": "k", "cpus": 2, "memory_bytes": 0, "uptime_s": 0.0},
        "window": {"start": "", "start_unix_ms": 0, "requested_ms": 5000, "elapsed_ms": 5000.0},
        "overhead": {"cpu_ms": 0.0, "max_rss_bytes": 0, "wall_ms": 0.0},
    });
    for (k, v) in sections.as_object().unwrap() {
        s[k] = v.clone();
    }
    serde_json::from_value(s).unwrap()
}

fn pressure(avg10: f64) -> serde_json::Value {
    json!({"status": "ok", "elapsed_ms": 0.0, "cpu": {"some": {
        "avg10": avg10, "avg60": 7.0, "avg300": 1.0, "total_us": 0}}})
}

fn logs(in_window: u64) -> serde_json::Value {
    json!({"status": "ok", "elapsed_ms": 0.0, "sources": [], "patterns": {},
        "categories": {"db-too-many-connections": {"count": 9, "in_window": in_window}}})
}

fn skipped() -> serde_json::Value {
    json!({"status": "skipped", "message": "off"})
}

fn run(sections: &serde_json::Value) -> Analysis {
    analyze(&catalogue(RULE).unwrap(), &snapshot(sections))
}

fn group(name: &str, outcome: GroupStatus, score: Option<f64>) -> GroupOutcome {
    GroupOutcome {
        name: name.into(),
        outcome,
        score,
        reason: None,
    }
}

/// `(label, value, from)` of a finding's evidence.
fn evidence(a: &Analysis) -> Vec<(String, String, Option<String>)> {
    a.findings[0]
        .evidence
        .iter()
        .map(|e| (e.label.clone(), e.value.clone(), e.from.clone()))
        .collect()
}

fn ev(label: &str, value: &str, from: Option<&str>) -> (String, String, Option<String>) {
    (label.into(), value.into(), from.map(Into::into))
}

#[test]
fn fires_from_the_first_group_only() {
    let a = run(&json!({"pressure": pressure(40.0), "logs": logs(0)}));
    assert!(
        a.not_checked.is_empty() && a.partly_checked.is_empty(),
        "{a:?}"
    );
    let f = &a.findings[0];
    assert_eq!(f.score, 40.0);
    assert_eq!(
        f.from,
        [
            group("stall", GroupStatus::Fired, Some(40.0)),
            group("log", GroupStatus::Quiet, None)
        ]
    );
    // The rule's texts: the group has none of its own.
    assert_eq!(f.summary, "stalled 40%, 9 logged");
    assert_eq!(f.fix, "rule fix");
    assert_eq!(
        evidence(&a),
        [
            ev("stall %", "40", None),
            ev("stall, 60 s", "7", Some("stall"))
        ]
    );
}

#[test]
fn fires_from_the_second_group_only() {
    let a = run(&json!({"pressure": pressure(1.0), "logs": logs(3)}));
    let f = &a.findings[0];
    assert_eq!(f.score, 53.0);
    assert_eq!(f.severity, super::Severity::Warning);
    assert_eq!(
        f.from,
        [
            group("stall", GroupStatus::Quiet, None),
            group("log", GroupStatus::Fired, Some(53.0))
        ]
    );
    // The group's own texts, with its own lets and fields.
    assert_eq!(f.summary, "3 refused in the log");
    assert_eq!(f.fix, "log fix 0");
    assert_eq!(
        evidence(&a),
        [
            ev("stall %", "1", None),
            ev("refused in the window", "3", Some("log"))
        ]
    );
}

#[test]
fn fires_from_both_with_the_strongest_score_and_every_evidence() {
    let a = run(&json!({"pressure": pressure(90.0), "logs": logs(3)}));
    let f = &a.findings[0];
    assert_eq!(f.score, 90.0);
    assert_eq!(f.severity, super::Severity::Critical);
    assert_eq!(
        f.from,
        [
            group("stall", GroupStatus::Fired, Some(90.0)),
            group("log", GroupStatus::Fired, Some(53.0))
        ]
    );
    // Texts from the strongest group, `stall`, which has none: the rule's.
    assert_eq!(f.summary, "stalled 90%, 9 logged");
    assert_eq!(
        evidence(&a),
        [
            ev("stall %", "90", None),
            ev("stall, 60 s", "7", Some("stall")),
            ev("refused in the window", "3", Some("log"))
        ]
    );
    // The weaker group is the stronger one when the pressure is lower.
    let a = run(&json!({"pressure": pressure(20.0), "logs": logs(3)}));
    assert_eq!(a.findings[0].score, 53.0);
    assert_eq!(a.findings[0].summary, "3 refused in the log");
}

#[test]
fn quiet_when_no_group_fires() {
    let a = run(&json!({"pressure": pressure(1.0), "logs": logs(0)}));
    assert!(a.findings.is_empty() && a.not_checked.is_empty() && a.partly_checked.is_empty());
    assert_eq!(a.passed, ["x"]);
}

#[test]
fn quiet_with_a_group_not_checked_is_partly_checked() {
    let a = run(&json!({"pressure": skipped(), "logs": logs(0)}));
    assert!(a.findings.is_empty() && a.not_checked.is_empty() && a.passed.is_empty());
    let p = &a.partly_checked[0];
    assert_eq!(p.id, "x");
    assert_eq!(p.checked, ["log"]);
    assert_eq!(
        p.unchecked,
        [Unchecked {
            from: "stall".into(),
            reason: "needs `pressure`, which was skipped: off".into()
        }]
    );
    // Firing from the group that could be read: a finding, which says what it could not read.
    let a = run(&json!({"pressure": skipped(), "logs": logs(2)}));
    assert!(a.partly_checked.is_empty());
    assert_eq!(a.findings[0].from[0].outcome, GroupStatus::NotChecked);
    assert_eq!(
        a.findings[0].from[0].reason.as_deref(),
        Some("needs `pressure`, which was skipped: off")
    );
    // The shared let of the group that was not read is unbound: `n/a`, as a placeholder is.
    assert!(
        evidence(&a)[0].1.starts_with("n/a (") && a.findings[0].summary == "2 refused in the log",
        "{a:?}"
    );
}

#[test]
fn not_checked_only_when_no_group_could_be_evaluated() {
    let a = run(&json!({"pressure": skipped(), "logs": {"status": "error", "message": "denied"}}));
    assert!(a.findings.is_empty() && a.passed.is_empty() && a.partly_checked.is_empty());
    assert_eq!(
        a.not_checked[0].reason,
        "from stall: needs `pressure`, which was skipped: off; \
         from log: needs `logs`, which was not collected (error): denied"
    );
}

/// A shared let that fails makes the groups that need it not checked, and only those: the
/// others are decided without it, and their text shows it as `n/a`.
#[test]
fn a_failing_shared_let_spoils_only_the_groups_that_need_it() {
    let no_cpu_line = json!({"status": "ok", "elapsed_ms": 0.0});
    let a = run(&json!({"pressure": no_cpu_line, "logs": logs(4)}));
    let f = &a.findings[0];
    assert_eq!(f.score, 54.0);
    assert_eq!(f.from[0].outcome, GroupStatus::NotChecked);
    let why = f.from[0].reason.as_deref().unwrap();
    assert!(
        why.starts_with("`let.stall` (pressure.cpu.some.avg10) could not be evaluated"),
        "{why}"
    );
    assert_eq!(f.from[1], group("log", GroupStatus::Fired, Some(54.0)));
    assert!(f.evidence[0].value.starts_with("n/a ("), "{:?}", f.evidence);
    let a = run(&json!({"pressure": no_cpu_line, "logs": logs(0)}));
    assert_eq!(a.partly_checked[0].checked, ["log"]);
    assert!(
        a.partly_checked[0].unchecked[0]
            .reason
            .starts_with("`let.stall`")
    );
    // `logged`, needed by no group, fails too: it spoils nothing, and fills the text with n/a.
    let no_count = json!({"status": "ok", "elapsed_ms": 0.0, "sources": [], "patterns": {},
        "categories": {}});
    let a = run(&json!({"pressure": pressure(40.0), "logs": no_count}));
    let f = &a.findings[0];
    assert_eq!(f.score, 40.0);
    assert_eq!(f.summary, "stalled 40%, n/a logged");
    assert_eq!(f.from[1].outcome, GroupStatus::NotChecked);
    assert!(
        f.from[1]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("`let.n` (logs.categories['db-too-many-connections'].in_window)"),
        "{:?}",
        f.from
    );
}

/// A shared let that `score` needs is needed once `when` holds: the group is not checked when
/// it fails, with its reason (not "unknown name").
#[test]
fn a_shared_let_the_score_needs_must_evaluate() {
    let text = edited(
        "score = \"50.0 + n\"",
        "score = \"50.0 + n + 0.0 * logged\"",
    )
    .replacen(
        "logs.categories['db-too-many-connections'].count",
        "logs.patterns['p'].count",
        1,
    );
    let a = analyze(
        &catalogue(&text).unwrap(),
        &snapshot(&json!({"pressure": pressure(1.0), "logs": logs(3)})),
    );
    assert!(a.findings.is_empty(), "{a:?}");
    let p = &a.partly_checked[0];
    assert_eq!(p.checked, ["stall"]);
    assert!(
        p.unchecked[0]
            .reason
            .starts_with("`let.logged` (logs.patterns['p'].count) could not be evaluated"),
        "{p:?}"
    );
}

/// A rule without groups shows none, and keeps its reasons as they were.
#[test]
fn a_rule_without_groups_reports_as_before() {
    let text = "id = \"x\"\ntitle = \"t\"\nlayer = \"cpu\"\nkind = \"symptom\"\n\
                requires = [\"pressure\"]\nwhen = \"pressure.cpu.some.avg10 > 10.0\"\n\
                score = \"60\"\nsummary = \"s\"\nfix = \"f\"\n\
                [[evidence]]\nlabel = \"l\"\nexpr = \"pressure.cpu.some.avg60\"\n";
    let cat = catalogue(text).unwrap();
    let a = analyze(&cat, &snapshot(&json!({"pressure": pressure(40.0)})));
    assert!(a.findings[0].from.is_empty());
    assert_eq!(a.findings[0].evidence[0].from, None);
    let json = serde_json::to_value(&a.findings[0]).unwrap();
    assert!(json.get("from").is_none() && json["evidence"][0].get("from").is_none());
    // ... which the report's schema allows.
    let schema = serde_json::to_value(crate::report::json_schema()).unwrap();
    let required = schema["$defs"]["Finding"]["required"].as_array().unwrap();
    assert!(required.contains(&"fix".into()) && !required.contains(&"from".into()));
    let a = analyze(&cat, &snapshot(&json!({"pressure": skipped()})));
    assert_eq!(
        a.not_checked[0].reason,
        "needs `pressure`, which was skipped: off"
    );
}

/// The groups' expressions are compiled and recorded with the rule's.
#[test]
fn every_group_expression_is_part_of_the_rule() {
    let cat = catalogue(RULE).unwrap();
    let sources: Vec<&str> = cat.rules[0].exprs().map(|e| e.source.as_str()).collect();
    for expected in [
        "pressure.cpu.some.avg60",
        "n > 0.0",
        "50.0 + n",
        "fmt(logs.sources.size())",
        "logs.categories['db-too-many-connections'].in_window",
    ] {
        assert!(sources.contains(&expected), "{expected} not in {sources:?}");
    }
}

// Load errors: each names the file, the line and the column, and what to do.

/// `RULE` with `old` replaced by `new` (which must be there).
fn edited(old: &str, new: &str) -> String {
    assert!(RULE.contains(old), "{old}");
    RULE.replacen(old, new, 1)
}

#[test]
fn top_level_when_or_score_with_groups_is_an_error() {
    let e = error(&edited(
        "fix = \"rule fix\"\n",
        "fix = \"rule fix\"\nwhen = \"true\"\n",
    ));
    assert!(
        e.starts_with("d/x.toml:7:8: `when` at the top level cannot be used"),
        "{e}"
    );
    assert!(e.ends_with("move it into a `[[from]]` group"), "{e}");
    let e = error(&edited(
        "fix = \"rule fix\"\n",
        "fix = \"rule fix\"\nscore = \"1\"\n",
    ));
    assert!(
        e.starts_with("d/x.toml:7:9: `score` at the top level"),
        "{e}"
    );
}

#[test]
fn a_rule_without_groups_needs_when_and_score() {
    let head = "id = \"x\"\ntitle = \"t\"\nlayer = \"cpu\"\nkind = \"symptom\"\n\
                summary = \"s\"\nfix = \"f\"\n";
    let e = error(&format!("{head}score = \"1\"\n"));
    assert_eq!(
        e,
        "d/x.toml:1:1: missing field `when`: a rule has `when`, `score`, `summary` and `fix`, \
         or `[[from]]` groups with their own `when` and `score`"
    );
    let e = error(&format!("{head}when = \"true\"\n"));
    assert!(e.starts_with("d/x.toml:1:1: missing field `score`"), "{e}");
}

#[test]
fn group_names_are_unique() {
    let e = error(&edited("name = \"log\"", "name = \"stall\""));
    assert_eq!(
        e,
        "d/x.toml:27:8: the `[[from]]` group name `stall` is also used on line 17: \
         give each group its own name"
    );
    let e = error(&edited("name = \"log\"", "name = \" \""));
    assert!(e.starts_with("d/x.toml:27:8: a `[[from]]` group's `name` must not be empty"));
}

#[test]
fn unknown_name_in_a_group_let() {
    let e = error(&edited("n = \"logs.categories", "n = \"logz.categories"));
    assert_eq!(
        e,
        "d/x.toml:35:6: `from[log].let.n`: `logz` is not in the snapshot; did you mean `logs`?"
    );
    // A group's lets are its own: another group does not see them.
    let e = error(&edited("score = \"stall\"", "score = \"n\""));
    assert!(
        e.starts_with(
            "d/x.toml:20:10: `from[stall].score`: `n` is not in the snapshot; names are:"
        ),
        "{e}"
    );
    assert!(e.ends_with("`let` names before it: stall, logged"), "{e}");
}

#[test]
fn a_group_let_may_not_hide_a_shared_let_a_section_or_a_function() {
    let e = error(&edited("n = \"logs", "logged = \"logs"));
    assert_eq!(
        e,
        "d/x.toml:35:10: `from[log].let.logged` hides the rule's own `let` of that name; rename it"
    );
    let e = error(&edited("n = \"logs", "cpu = \"logs"));
    assert!(
        e.starts_with("d/x.toml:35:7: `from[log].let.cpu` hides a snapshot section or function"),
        "{e}"
    );
}

#[test]
fn group_sections_and_texts_are_checked() {
    let e = error(&edited("requires = [\"logs\"]", "requires = [\"logz\"]"));
    assert!(
        e.starts_with("d/x.toml:28:13: `requires` names `logz`, which is not a snapshot section"),
        "{e}"
    );
    // No rule-level summary: every group needs one.
    let e = error(&edited(
        "summary = \"stalled {{fmt(stall)}}%, {{fmt(logged)}} logged\"\n",
        "",
    ));
    assert_eq!(
        e,
        "d/x.toml:16:8: the `[[from]]` group `stall` has no `summary` and the rule has none: add \
         `summary` at the top level (used by every group without one) or to this group"
    );
    let e = error(&edited(
        "summary = \"{{fmt(n)}} refused",
        "summary = \"{{fmt(m)}} refused",
    ));
    assert_eq!(
        e,
        "d/x.toml:31:18: `from[log].summary`: `m` is not in the snapshot; did you mean `n`?"
    );
}
