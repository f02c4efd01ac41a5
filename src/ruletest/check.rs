//! A case's expectations against what the rules made of its snapshot: each one that does not
//! hold is a [`Failure`] with what was expected and what the engine gave, in the report's words.

use super::expect::{Expect, Text};
use super::file::Case;
use super::format::Outcome;
use crate::engine::eval::fmt_number;
use crate::engine::{Analysis, Finding, GroupStatus, Severity};
use serde::Serialize;

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// What was checked: `outcome`, `score`, `evidence "label"`, ...
    pub check: String,
    pub expected: String,
    pub actual: String,
}

fn failure(
    check: impl Into<String>,
    expected: impl Into<String>,
    actual: impl Into<String>,
) -> Failure {
    Failure {
        check: check.into(),
        expected: expected.into(),
        actual: actual.into(),
    }
}

/// What became of one rule.
enum Actual<'a> {
    Fired(&'a Finding),
    Quiet,
    Partly(String),
    NotChecked(&'a str),
}

impl Actual<'_> {
    fn outcome(&self) -> Outcome {
        match self {
            Actual::Fired(_) => Outcome::Fires,
            Actual::Quiet => Outcome::Quiet,
            Actual::Partly(_) => Outcome::PartlyChecked,
            Actual::NotChecked(_) => Outcome::NotChecked,
        }
    }

    fn describe(&self) -> String {
        match self {
            Actual::Fired(f) => format!("fired: {}: {}", scored(f), f.summary),
            Actual::Quiet => "quiet".to_owned(),
            Actual::Partly(why) => format!("checked in part: {why}"),
            Actual::NotChecked(why) => format!("not checked: {why}"),
        }
    }

    fn reason(&self) -> &str {
        match self {
            Actual::Partly(why) => why,
            Actual::NotChecked(why) => why,
            _ => "",
        }
    }
}

fn scored(f: &Finding) -> String {
    format!(
        "score {} ({}), rank {}",
        fmt_number(f.score),
        f.severity,
        f.rank
    )
}

fn find<'a>(a: &'a Analysis, id: &str) -> Option<Actual<'a>> {
    if let Some(f) = a.findings.iter().find(|f| f.id == id) {
        return Some(Actual::Fired(f));
    }
    if a.passed.iter().any(|p| p == id) {
        return Some(Actual::Quiet);
    }
    if let Some(p) = a.partly_checked.iter().find(|p| p.id == id) {
        let unchecked: Vec<String> = p
            .unchecked
            .iter()
            .map(|u| format!("not checked from {}: {}", u.from, u.reason))
            .collect();
        return Some(Actual::Partly(format!(
            "quiet from {}; {}",
            p.checked.join(", "),
            unchecked.join("; ")
        )));
    }
    a.not_checked
        .iter()
        .find(|n| n.id == id)
        .map(|n| Actual::NotChecked(&n.reason))
}

/// Every expectation of `case` that `analysis` does not meet; empty when the case passes.
#[must_use]
pub fn check(case: &Case, analysis: &Analysis) -> Vec<Failure> {
    let e = &case.expect;
    let Some(actual) = find(analysis, &case.rule) else {
        return vec![failure(
            "outcome",
            e.outcome.as_str(),
            "the rule was not evaluated (not in the catalogue)",
        )];
    };
    if actual.outcome() != e.outcome {
        let expected = match &e.reason {
            Some(r) => format!("{} ({r})", e.outcome.as_str()),
            None => e.outcome.as_str().to_owned(),
        };
        return vec![failure("outcome", expected, actual.describe())];
    }
    let mut out = Vec::new();
    if let Some(reason) = &e.reason {
        if !actual.reason().contains(reason.as_str()) {
            out.push(failure(
                "reason",
                format!("contains {reason:?}"),
                actual.reason(),
            ));
        }
    }
    if let Some(ids) = &e.findings {
        let actual: Vec<&str> = analysis.findings.iter().map(|f| f.id.as_str()).collect();
        if actual != ids.iter().map(String::as_str).collect::<Vec<_>>() {
            out.push(failure(
                "findings",
                if ids.is_empty() {
                    "none".to_owned()
                } else {
                    ids.join(", ")
                },
                ranking(analysis),
            ));
        }
    }
    if let Actual::Fired(f) = actual {
        grade(e, f, &mut out);
        place(e, f, analysis, &mut out);
        shown(e, f, &mut out);
    }
    out
}

/// Severity and score.
fn grade(e: &Expect, f: &Finding, out: &mut Vec<Failure>) {
    if let Some((lo, hi)) = e.severity {
        if !(lo..=hi).contains(&f.severity) {
            out.push(failure(
                "severity",
                severities(lo, hi),
                format!("{} (score {})", f.severity, fmt_number(f.score)),
            ));
        }
    }
    if let Some((lo, hi)) = e.score {
        if !(lo..=hi).contains(&f.score) {
            let (lo, hi) = (fmt_number(lo), fmt_number(hi));
            let expected = if lo == hi {
                lo
            } else {
                format!("{lo} to {hi}")
            };
            out.push(failure("score", expected, fmt_number(f.score)));
        }
    }
}

/// Where it ranks among the other findings, and the groups that fired.
fn place(e: &Expect, f: &Finding, analysis: &Analysis, out: &mut Vec<Failure>) {
    if let Some(rank) = e.rank {
        if f.rank != rank {
            out.push(failure("rank", rank.to_string(), ranking(analysis)));
        }
    }
    for other in &e.below {
        if let Some(problem) = placed(analysis, f, other, true) {
            out.push(failure("below", format!("below {other}"), problem));
        }
    }
    for other in &e.above {
        if let Some(problem) = placed(analysis, f, other, false) {
            out.push(failure("above", format!("above {other}"), problem));
        }
    }
    if let Some(by) = &e.explained_by {
        if f.explained_by.as_deref() != Some(by.as_str()) {
            out.push(failure(
                "explained_by",
                by.as_str(),
                f.explained_by
                    .clone()
                    .unwrap_or_else(|| format!("none ({})", ranking(analysis))),
            ));
        }
    }
    if let Some(from) = &e.from {
        let mut fired: Vec<&str> = f
            .from
            .iter()
            .filter(|g| g.outcome == GroupStatus::Fired)
            .map(|g| g.name.as_str())
            .collect();
        let mut expected: Vec<&str> = from.iter().map(String::as_str).collect();
        fired.sort_unstable();
        expected.sort_unstable();
        if fired != expected {
            let groups: Vec<String> = f
                .from
                .iter()
                .map(|g| match &g.reason {
                    Some(r) => format!("{}: {} ({r})", g.name, g.outcome.as_str()),
                    None => format!("{}: {}", g.name, g.outcome.as_str()),
                })
                .collect();
            out.push(failure(
                "from",
                format!("fired from {}", expected.join(", ")),
                groups.join("; "),
            ));
        }
    }
}

/// The texts the report shows: evidence values, summary, fix.
fn shown(e: &Expect, f: &Finding, out: &mut Vec<Failure>) {
    for (label, want) in &e.evidence {
        let values: Vec<&str> = f
            .evidence
            .iter()
            .filter(|v| v.label == *label)
            .map(|v| v.value.as_str())
            .collect();
        if !values.iter().any(|v| matches(want, v)) {
            out.push(failure(
                format!("evidence {label:?}"),
                describe(want),
                if values.is_empty() {
                    "not shown (its evidence group did not fire)".to_owned()
                } else {
                    values
                        .iter()
                        .map(|v| format!("{v:?}"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                },
            ));
        }
    }
    for (what, want, actual) in [("summary", &e.summary, &f.summary), ("fix", &e.fix, &f.fix)] {
        if let Some(want) = want {
            if !matches(want, actual) {
                out.push(failure(what, describe(want), format!("{actual:?}")));
            }
        }
    }
}

fn severities(lo: Severity, hi: Severity) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo} to {hi}")
    }
}

/// The findings in rank order, as one line.
fn ranking(a: &Analysis) -> String {
    let ranked: Vec<String> = a
        .findings
        .iter()
        .map(|f| format!("{} {}", f.rank, f.id))
        .collect();
    if ranked.is_empty() {
        "no finding".to_owned()
    } else {
        format!("ranked {}", ranked.join(", "))
    }
}

/// Why `f` is not below (or above) `other`, if it is not.
fn placed(a: &Analysis, f: &Finding, other: &str, below: bool) -> Option<String> {
    let Some(o) = a.findings.iter().find(|x| x.id == other) else {
        return Some(format!(
            "{other} did not fire ({})",
            find(a, other).map_or_else(|| "not evaluated".to_owned(), |x| x.describe())
        ));
    };
    let holds = if below {
        f.rank > o.rank
    } else {
        f.rank < o.rank
    };
    (!holds).then(|| ranking(a))
}

fn matches(want: &Text, actual: &str) -> bool {
    match want {
        Text::Exact(s) => actual == s,
        Text::Parts { contains, lacks } => {
            contains.iter().all(|p| actual.contains(p.as_str()))
                && !lacks.iter().any(|p| actual.contains(p.as_str()))
        }
    }
}

fn describe(want: &Text) -> String {
    let quoted = |parts: &[String]| {
        parts
            .iter()
            .map(|p| format!("{p:?}"))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    match want {
        Text::Exact(s) => format!("{s:?}"),
        Text::Parts { contains, lacks } => match (contains.is_empty(), lacks.is_empty()) {
            (false, true) => format!("contains {}", quoted(contains)),
            (true, false) => format!("lacks {}", quoted(lacks)),
            _ => format!("contains {}, lacks {}", quoted(contains), quoted(lacks)),
        },
    }
}
