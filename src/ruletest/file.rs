//! A rule test file, `<rules dir>/tests/<rule id>.toml`: read, then checked against the rules
//! and its snapshots before anything runs, so a typo is an error at its `file:line:column`
//! (exit 2), never a case that passes or fails for the wrong reason.
//!
//! ```toml
//! [[case]]
//! name = "19.9 new connections/s, just under the 20/s it fires at"
//! snapshot = "fixtures/mysql-connection-churn.json"   # from this folder or one above it
//! set = { "mysql.global_status.Connections.per_s" = 19.9 }
//! expect = "quiet"                      # fires | quiet | partly-checked | not-checked
//! ```

use super::input::{self, Cache};
use crate::engine::rules::line_col;
use crate::engine::{Catalogue, Rule, RuleError, Severity};
use crate::snapshot::Snapshot;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::path::Path;
use toml::Spanned;

/// Why the tests could not be run. Each error names the file and, where it can, the line.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {problem}")]
    At {
        path: String,
        line: usize,
        column: usize,
        problem: String,
    },
    #[error(transparent)]
    Rules(#[from] RuleError),
    #[error(
        "no rule tests found (looked in {looked}); a rule <id>.toml is tested by tests/<id>.toml \
         beside it, see docs/rules.md"
    )]
    NoTests { looked: String },
}

/// What a case expects of its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The rule fires.
    Fires,
    /// Every evidence group was evaluated and none fired (the rule is in `passed`).
    Quiet,
    /// Quiet where it could look, some groups not checked (`partly_checked`).
    PartlyChecked,
    /// Not evaluated at all (`not_checked`).
    NotChecked,
}

impl Outcome {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Fires => "fires",
            Outcome::Quiet => "quiet",
            Outcome::PartlyChecked => "partly-checked",
            Outcome::NotChecked => "not-checked",
        }
    }
}

/// A text the report shows, as a case expects it.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    /// Exactly this (a number is written as the report writes it: `12`, `2.5`).
    Exact(String),
    /// Contains each of these.
    Contains(Vec<String>),
}

/// Everything a case expects; `None`/empty is not checked.
#[derive(Debug, Clone)]
pub struct Expect {
    pub outcome: Outcome,
    /// A part of the reason, for `not-checked` and `partly-checked`.
    pub reason: Option<String>,
    /// Lowest and highest severity allowed.
    pub severity: Option<(Severity, Severity)>,
    /// Lowest and highest score allowed.
    pub score: Option<(f64, f64)>,
    pub rank: Option<u32>,
    /// Firing rules this one must rank below.
    pub below: Vec<String>,
    /// Firing rules this one must rank above.
    pub above: Vec<String>,
    pub explained_by: Option<String>,
    /// The names of the evidence groups that fired, all of them.
    pub from: Option<Vec<String>>,
    /// By label.
    pub evidence: Vec<(String, Text)>,
    pub summary: Option<Text>,
    pub fix: Option<Text>,
}

/// One `[[case]]`, checked and with its snapshot built.
#[derive(Debug)]
pub struct Case {
    /// The line of its `[[case]]`.
    pub line: usize,
    pub name: String,
    pub rule: String,
    /// The snapshot as the case names it: a path (with the fields it sets), or `hand-written`.
    pub source: String,
    pub hand_written: Option<String>,
    pub snapshot: Snapshot,
    pub expect: Expect,
}

/// One test file: the cases of one rule.
#[derive(Debug)]
pub struct TestFile {
    /// As shown in results and errors.
    pub shown: String,
    /// The id of the rule it tests: the file's name.
    pub rule: String,
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default, rename = "case")]
    cases: Vec<Spanned<RawCase>>,
}

type Keyed = IndexMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: Spanned<String>,
    expect: Spanned<Outcome>,
    #[serde(default)]
    snapshot: Option<Spanned<toml::Value>>,
    #[serde(default)]
    snapshot_json: Option<Spanned<String>>,
    #[serde(default)]
    hand_written: Option<Spanned<String>>,
    #[serde(default)]
    set: Keyed,
    #[serde(default)]
    reason: Option<Spanned<String>>,
    #[serde(default)]
    severity: Option<Spanned<toml::Value>>,
    #[serde(default)]
    score: Option<Spanned<toml::Value>>,
    #[serde(default)]
    rank: Option<Spanned<u32>>,
    #[serde(default)]
    below: Option<Spanned<toml::Value>>,
    #[serde(default)]
    above: Option<Spanned<toml::Value>>,
    #[serde(default)]
    explained_by: Option<Spanned<String>>,
    #[serde(default)]
    from: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    evidence: Keyed,
    #[serde(default)]
    summary: Option<Spanned<toml::Value>>,
    #[serde(default)]
    fix: Option<Spanned<toml::Value>>,
}

/// The text of a test file, to point into.
struct Src<'a> {
    shown: &'a str,
    text: &'a str,
}

impl Src<'_> {
    fn at(&self, offset: usize, problem: impl Into<String>) -> TestError {
        let (line, column) = line_col(self.text, offset);
        TestError::At {
            path: self.shown.to_owned(),
            line,
            column,
            problem: problem.into(),
        }
    }
}

/// Reads `real` (shown as `shown`) and checks every case against `catalogue`; every problem
/// found, not only the first.
pub fn load(
    real: &Path,
    shown: &str,
    catalogue: &Catalogue,
    cache: &mut Cache,
) -> Result<TestFile, Vec<TestError>> {
    let text = std::fs::read_to_string(real).map_err(|source| {
        vec![TestError::Io {
            path: shown.to_owned(),
            source,
        }]
    })?;
    let src = Src { shown, text: &text };
    let raw: RawFile = toml::from_str(&text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        vec![src.at(offset, e.message().trim_end())]
    })?;
    let id = real
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(rule) = catalogue.get(&id) else {
        return Err(vec![src.at(
            0,
            format!(
                "tests a rule `{id}` that is not loaded: a test file is named after the rule it \
                 tests (`doctor rules list` shows the rules)"
            ),
        )]);
    };
    if raw.cases.is_empty() {
        return Err(vec![src.at(
            0,
            "has no `[[case]]`: each case names a snapshot and what the rule must make of it \
             (docs/rules.md, \"Testing a rule\")",
        )]);
    }
    let dir = real.parent().unwrap_or(Path::new("."));
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for raw_case in raw.cases {
        let line = line_col(&text, raw_case.span().start).0;
        match case(
            &src,
            dir,
            catalogue,
            rule,
            line,
            raw_case.into_inner(),
            cache,
        ) {
            Ok(c) => cases.push(c),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(TestFile {
            shown: shown.to_owned(),
            rule: id,
            cases,
        })
    } else {
        Err(errors)
    }
}

fn case(
    src: &Src<'_>,
    dir: &Path,
    catalogue: &Catalogue,
    rule: &Rule,
    line: usize,
    raw: RawCase,
    cache: &mut Cache,
) -> Result<Case, TestError> {
    let outcome = *raw.expect.get_ref();
    let fires_only = [
        ("severity", raw.severity.as_ref().map(|s| s.span().start)),
        ("score", raw.score.as_ref().map(|s| s.span().start)),
        ("rank", raw.rank.as_ref().map(|s| s.span().start)),
        ("below", raw.below.as_ref().map(|s| s.span().start)),
        ("above", raw.above.as_ref().map(|s| s.span().start)),
        (
            "explained_by",
            raw.explained_by.as_ref().map(|s| s.span().start),
        ),
        ("from", raw.from.as_ref().map(|s| s.span().start)),
        (
            "evidence",
            raw.evidence.first().map(|(k, _)| k.span().start),
        ),
        ("summary", raw.summary.as_ref().map(|s| s.span().start)),
        ("fix", raw.fix.as_ref().map(|s| s.span().start)),
    ];
    if outcome != Outcome::Fires {
        if let Some((key, Some(offset))) = fires_only.iter().find(|(_, o)| o.is_some()) {
            return Err(src.at(
                *offset,
                format!(
                    "`{key}` is what a firing rule shows; this case expects `{}`",
                    outcome.as_str()
                ),
            ));
        }
    }
    if let Some(reason) = &raw.reason {
        if !matches!(outcome, Outcome::NotChecked | Outcome::PartlyChecked) {
            return Err(src.at(
                reason.span().start,
                "`reason` is for a case that expects `not-checked` or `partly-checked`",
            ));
        }
    }
    let expect = expectations(src, catalogue, rule, &raw)?;
    let (source, hand_written, snapshot) = build_snapshot(src, dir, &raw, cache)?;
    Ok(Case {
        line,
        name: raw.name.get_ref().clone(),
        rule: rule.id.clone(),
        source,
        hand_written,
        snapshot,
        expect,
    })
}

/// What the case expects, each name it uses checked against the rules.
fn expectations(
    src: &Src<'_>,
    catalogue: &Catalogue,
    rule: &Rule,
    raw: &RawCase,
) -> Result<Expect, TestError> {
    let outcome = *raw.expect.get_ref();
    Ok(Expect {
        outcome,
        reason: raw.reason.as_ref().map(|r| r.get_ref().clone()),
        severity: raw
            .severity
            .as_ref()
            .map(|s| severity_range(src, s))
            .transpose()?,
        score: raw
            .score
            .as_ref()
            .map(|s| score_range(src, s))
            .transpose()?,
        rank: match &raw.rank {
            Some(r) if *r.get_ref() == 0 => {
                return Err(src.at(r.span().start, "`rank` starts at 1 (the first finding)"));
            }
            r => r.as_ref().map(|r| *r.get_ref()),
        },
        below: rule_ids(src, catalogue, rule, raw.below.as_ref(), "below")?,
        above: rule_ids(src, catalogue, rule, raw.above.as_ref(), "above")?,
        explained_by: raw
            .explained_by
            .as_ref()
            .map(|e| explained_by(src, catalogue, rule, e))
            .transpose()?,
        from: raw
            .from
            .as_ref()
            .map(|f| groups(src, rule, f))
            .transpose()?,
        evidence: raw
            .evidence
            .iter()
            .map(|(label, value)| {
                let known = rule
                    .evidence
                    .iter()
                    .chain(rule.groups.iter().flat_map(|g| &g.evidence))
                    .any(|e| e.label == *label.get_ref());
                if !known {
                    return Err(src.at(
                        label.span().start,
                        format!(
                            "`{}` shows no evidence labelled `{}`; its labels are: {}",
                            rule.id,
                            label.get_ref(),
                            labels(rule)
                        ),
                    ));
                }
                Ok((label.get_ref().clone(), text(src, value)?))
            })
            .collect::<Result<_, _>>()?,
        summary: raw.summary.as_ref().map(|t| text(src, t)).transpose()?,
        fix: raw.fix.as_ref().map(|t| text(src, t)).transpose()?,
    })
}

/// The case's snapshot: a file, or written in the case (TOML tables or JSON text), then the
/// fields it sets.
fn build_snapshot(
    src: &Src<'_>,
    dir: &Path,
    raw: &RawCase,
    cache: &mut Cache,
) -> Result<(String, Option<String>, Snapshot), TestError> {
    let (base, key_offset, hand_written) = match (&raw.snapshot, &raw.snapshot_json) {
        (Some(_), Some(json)) => {
            return Err(src.at(
                json.span().start,
                "a case has one snapshot: `snapshot` (a file, or tables) or `snapshot_json`",
            ));
        }
        (None, None) => {
            return Err(src.at(
                raw.name.span().start,
                "the case names no snapshot: `snapshot = \"fixtures/<name>.json\"`, or one \
                 written in the case (`[case.snapshot.<section>]` tables or `snapshot_json`, \
                 with `hand_written = \"why\"`)",
            ));
        }
        (Some(s), None) => match s.get_ref() {
            toml::Value::String(path) => {
                if let Some(h) = &raw.hand_written {
                    return Err(src.at(
                        h.span().start,
                        "`hand_written` marks a snapshot written in the case; a file says how \
                         it was made in its own notes",
                    ));
                }
                let resolved = input::resolve(dir, path).ok_or_else(|| {
                    src.at(
                        s.span().start,
                        format!(
                            "there is no snapshot `{path}` in {} or a folder above it",
                            dir.display()
                        ),
                    )
                })?;
                let bytes = cache
                    .read(&resolved)
                    .map_err(|e| src.at(s.span().start, e))?;
                (input::Base::File(path.clone(), bytes), s.span().start, None)
            }
            toml::Value::Table(t) => {
                let json = serde_json::to_value(t)
                    .map_err(|e| src.at(s.span().start, format!("the snapshot tables: {e}")))?;
                (
                    input::Base::Inline(json),
                    s.span().start,
                    Some(hand(src, raw)?),
                )
            }
            _ => {
                return Err(src.at(
                    s.span().start,
                    "`snapshot` is a file (`\"fixtures/<name>.json\"`) or tables of the \
                     snapshot's sections (`[case.snapshot.cpu]`)",
                ));
            }
        },
        (None, Some(json)) => {
            let value: serde_json::Value = serde_json::from_str(json.get_ref()).map_err(|e| {
                src.at(
                    json.span().start,
                    format!(
                        "`snapshot_json`: line {} of the JSON, column {}: {e}",
                        e.line(),
                        e.column()
                    ),
                )
            })?;
            if !value.is_object() {
                return Err(src.at(
                    json.span().start,
                    "`snapshot_json` is a JSON object of the snapshot's sections",
                ));
            }
            (
                input::Base::Inline(value),
                json.span().start,
                Some(hand(src, raw)?),
            )
        }
    };
    let mut sets = Vec::with_capacity(raw.set.len());
    for (path, value) in &raw.set {
        let steps = input::parse_path(path.get_ref())
            .map_err(|e| src.at(path.span().start, format!("`set`: {e}")))?;
        let json = serde_json::to_value(value.get_ref())
            .map_err(|e| src.at(value.span().start, format!("`set`: {e}")))?;
        sets.push((path.get_ref().as_str(), path.span().start, steps, json));
    }
    let shown = base.shown(sets.len());
    let snapshot = input::build(base, &sets).map_err(|e| match e {
        input::BuildError::Set { offset, problem } => src.at(offset, format!("`set`: {problem}")),
        input::BuildError::Load(problem) => src.at(key_offset, problem),
    })?;
    Ok((shown, hand_written, snapshot))
}

fn hand(src: &Src<'_>, raw: &RawCase) -> Result<String, TestError> {
    match &raw.hand_written {
        Some(h) if !h.get_ref().trim().is_empty() => Ok(h.get_ref().trim().to_owned()),
        _ => Err(src.at(
            raw.name.span().start,
            "a snapshot written in the case needs `hand_written = \"why\"`: what one machine \
             cannot record, or why a recorded fixture does not do",
        )),
    }
}

fn severity_name(s: &str) -> Option<Severity> {
    match s {
        "info" => Some(Severity::Info),
        "warning" => Some(Severity::Warning),
        "critical" => Some(Severity::Critical),
        _ => None,
    }
}

/// `"warning"`, or `["warning", "critical"]` (lowest first).
fn severity_range(
    src: &Src<'_>,
    v: &Spanned<toml::Value>,
) -> Result<(Severity, Severity), TestError> {
    let bad = || {
        src.at(
            v.span().start,
            "`severity` is `info`, `warning` or `critical`, or a range like \
             [\"warning\", \"critical\"]",
        )
    };
    match v.get_ref() {
        toml::Value::String(s) => severity_name(s).map(|s| (s, s)).ok_or_else(bad),
        toml::Value::Array(a) if a.len() == 2 => {
            let lo = a[0].as_str().and_then(severity_name).ok_or_else(bad)?;
            let hi = a[1].as_str().and_then(severity_name).ok_or_else(bad)?;
            if lo > hi {
                return Err(src.at(
                    v.span().start,
                    "`severity` range goes from the lower to the higher: [\"warning\", \"critical\"]",
                ));
            }
            Ok((lo, hi))
        }
        _ => Err(bad()),
    }
}

fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// `85`, or `[80, 100]` (both ends included).
fn score_range(src: &Src<'_>, v: &Spanned<toml::Value>) -> Result<(f64, f64), TestError> {
    let range = match v.get_ref() {
        toml::Value::Array(a) if a.len() == 2 => number(&a[0]).zip(number(&a[1])),
        other => number(other).map(|n| (n, n)),
    };
    match range {
        Some((lo, hi)) if (0.0..=100.0).contains(&lo) && (lo..=100.0).contains(&hi) => Ok((lo, hi)),
        _ => Err(src.at(
            v.span().start,
            "`score` is a score from 0 to 100, or a range like [50, 79] (both ends included)",
        )),
    }
}

/// `below`/`above`: one rule id or a list of them, each a loaded rule other than this one.
fn rule_ids(
    src: &Src<'_>,
    catalogue: &Catalogue,
    rule: &Rule,
    v: Option<&Spanned<toml::Value>>,
    key: &str,
) -> Result<Vec<String>, TestError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let ids: Option<Vec<&str>> = match v.get_ref() {
        toml::Value::String(s) => Some(vec![s.as_str()]),
        toml::Value::Array(a) => a.iter().map(toml::Value::as_str).collect(),
        _ => None,
    };
    let ids = ids.ok_or_else(|| {
        src.at(
            v.span().start,
            format!("`{key}` is a rule id or a list of them"),
        )
    })?;
    for id in &ids {
        if catalogue.get(id).is_none() || *id == rule.id {
            return Err(src.at(
                v.span().start,
                format!(
                    "`{key}` names `{id}`, which is not another loaded rule (`doctor rules \
                     list` shows them)"
                ),
            ));
        }
    }
    Ok(ids.into_iter().map(ToOwned::to_owned).collect())
}

/// A root cause that lists this symptom in its `explains`, or the case can never hold.
fn explained_by(
    src: &Src<'_>,
    catalogue: &Catalogue,
    rule: &Rule,
    by: &Spanned<String>,
) -> Result<String, TestError> {
    let explains = catalogue
        .get(by.get_ref())
        .is_some_and(|c| c.explains.contains(&rule.id));
    if !explains {
        let causes: Vec<&str> = catalogue
            .rules
            .iter()
            .filter(|c| c.explains.contains(&rule.id))
            .map(|c| c.id.as_str())
            .collect();
        return Err(src.at(
            by.span().start,
            format!(
                "`{}` does not explain `{}`; the rules that do: {}",
                by.get_ref(),
                rule.id,
                if causes.is_empty() {
                    "none".to_owned()
                } else {
                    causes.join(", ")
                }
            ),
        ));
    }
    Ok(by.get_ref().clone())
}

/// `from`: names of the rule's `[[from]]` groups.
fn groups(
    src: &Src<'_>,
    rule: &Rule,
    from: &Spanned<Vec<Spanned<String>>>,
) -> Result<Vec<String>, TestError> {
    if !rule.grouped {
        return Err(src.at(
            from.span().start,
            format!(
                "`from` names the evidence groups that fired; `{}` has no `[[from]]` groups",
                rule.id
            ),
        ));
    }
    let names: Vec<&str> = rule.groups.iter().map(|g| g.name.as_str()).collect();
    let mut out = Vec::new();
    for name in from.get_ref() {
        if !names.contains(&name.get_ref().as_str()) {
            return Err(src.at(
                name.span().start,
                format!(
                    "`{}` has no evidence group `{}`; its groups are: {}",
                    rule.id,
                    name.get_ref(),
                    names.join(", ")
                ),
            ));
        }
        out.push(name.get_ref().clone());
    }
    Ok(out)
}

fn labels(rule: &Rule) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for e in rule
        .evidence
        .iter()
        .chain(rule.groups.iter().flat_map(|g| &g.evidence))
    {
        if !seen.contains(&e.label.as_str()) {
            seen.push(&e.label);
        }
    }
    seen.iter()
        .map(|l| format!("`{l}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A text: exact (a string, a number or a boolean, as the report writes it), or
/// `{ contains = "..." }` / `{ contains = ["...", "..."] }`.
fn text(src: &Src<'_>, v: &Spanned<toml::Value>) -> Result<Text, TestError> {
    let bad = || {
        src.at(
            v.span().start,
            "expected the text exactly (a string, or a number as the report writes it), or \
             { contains = \"part\" } / { contains = [\"part\", \"another\"] }",
        )
    };
    Ok(match v.get_ref() {
        toml::Value::String(s) => Text::Exact(s.clone()),
        toml::Value::Boolean(b) => Text::Exact(b.to_string()),
        n @ (toml::Value::Integer(_) | toml::Value::Float(_)) => Text::Exact(
            crate::engine::eval::fmt_number(number(n).unwrap_or(f64::NAN)),
        ),
        toml::Value::Table(t) if t.len() == 1 => match t.get("contains") {
            Some(toml::Value::String(s)) => Text::Contains(vec![s.clone()]),
            Some(toml::Value::Array(a)) if !a.is_empty() => Text::Contains(
                a.iter()
                    .map(|p| p.as_str().map(ToOwned::to_owned))
                    .collect::<Option<_>>()
                    .ok_or_else(bad)?,
            ),
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    })
}
