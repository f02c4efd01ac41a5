//! The findings of both sides, from the same catalogue: those that hold on one side only (with
//! their fix, and whether the other side could check the rule at all), and those on both with
//! their change in score.

use crate::engine::{Analysis, Finding, Severity};
use schemars::JsonSchema;
use serde::Serialize;

/// Where a finding holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Holds {
    OnlyA,
    OnlyB,
    Both,
}

/// One rule that fired on at least one side.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FindingChange {
    pub id: String,
    pub title: String,
    pub holds: Holds,
    /// The worse of the two sides' severities.
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_a: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_b: Option<f64>,
    /// The observed value and limit on the side where it holds (side B's when on both).
    pub summary: String,
    /// The fix, from the side where it holds (side B's when on both).
    pub fix: String,
    /// Why the side where it does not hold could not tell (the rule was not checked there),
    /// so "absent" is never read as "fine".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_side_not_checked: Option<String>,
    /// The evidence expressions the rule read, its summary and its fix: a configuration value
    /// named in them is one the finding depends on.
    #[serde(skip)]
    pub exprs: Vec<String>,
}

impl FindingChange {
    /// Whether the two sides differ on it (on one side only, or a score change).
    #[must_use]
    pub fn differs(&self) -> bool {
        self.holds != Holds::Both || self.score_a != self.score_b
    }
}

fn not_checked(a: &Analysis, id: &str) -> Option<String> {
    a.not_checked
        .iter()
        .find(|n| n.id == id)
        .map(|n| n.reason.clone())
        .or_else(|| {
            a.partly_checked
                .iter()
                .find(|p| p.id == id)
                .map(|_| "checked in part only".to_owned())
        })
}

fn change(f: &Finding, holds: Holds, other: &Analysis, other_f: Option<&Finding>) -> FindingChange {
    let (score_a, score_b) = match holds {
        Holds::OnlyA => (Some(f.score), None),
        Holds::OnlyB => (None, Some(f.score)),
        Holds::Both => (other_f.map(|o| o.score), Some(f.score)),
    };
    FindingChange {
        id: f.id.clone(),
        title: f.title.clone(),
        holds,
        severity: other_f.map_or(f.severity, |o| o.severity.max(f.severity)),
        score_a,
        score_b,
        summary: f.summary.clone(),
        fix: f.fix.clone(),
        other_side_not_checked: if holds == Holds::Both {
            None
        } else {
            not_checked(other, &f.id)
        },
        exprs: f
            .evidence
            .iter()
            .map(|e| e.expr.clone())
            .chain([f.summary.clone(), f.fix.clone()])
            .collect(),
    }
}

/// The findings of both analyses: on one side only first (the worse and stronger first), then
/// those on both by the size of their score change; with `all` the unchanged ones too.
#[must_use]
pub fn compare(a: &Analysis, b: &Analysis, all: bool) -> (Vec<FindingChange>, usize) {
    let mut out = Vec::new();
    for f in &a.findings {
        if !b.findings.iter().any(|g| g.id == f.id) {
            out.push(change(f, Holds::OnlyA, b, None));
        }
    }
    for f in &b.findings {
        match a.findings.iter().find(|g| g.id == f.id) {
            None => out.push(change(f, Holds::OnlyB, a, None)),
            Some(g) => out.push(change(f, Holds::Both, a, Some(g))),
        }
    }
    let equal = out.iter().filter(|c| !c.differs()).count();
    if !all {
        out.retain(FindingChange::differs);
    }
    out.sort_by(|x, y| {
        let one_side = |c: &FindingChange| c.holds != Holds::Both;
        one_side(y)
            .cmp(&one_side(x))
            .then(y.severity.cmp(&x.severity))
            .then(delta(y).total_cmp(&delta(x)))
            .then(x.id.cmp(&y.id))
    });
    (out, equal)
}

/// The score that changed: the whole score for a one-sided finding, the gap for one on both.
fn delta(c: &FindingChange) -> f64 {
    (c.score_a.unwrap_or(0.0) - c.score_b.unwrap_or(0.0)).abs()
}
