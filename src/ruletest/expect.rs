//! What a case expects of its rule, read from its keys and checked against the rules: every
//! rule, group and evidence label it names exists, and a key that only a firing rule can meet is
//! on a case that expects it to fire.

use super::format::{Outcome, RawCase, Src, TestError};
use crate::engine::{Catalogue, Rule, Severity};
use toml::Spanned;

/// A text the report shows, as a case expects it.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    /// Exactly this (a number is written as the report writes it: `12`, `2.5`).
    Exact(String),
    /// Contains each of `contains` and none of `lacks`.
    Parts {
        contains: Vec<String>,
        lacks: Vec<String>,
    },
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
    /// The ids of every finding, in rank order.
    pub findings: Option<Vec<String>>,
    pub summary: Option<Text>,
    pub fix: Option<Text>,
}

/// What the case expects, each name it uses checked against the rules.
pub(super) fn expectations(
    src: &Src<'_>,
    catalogue: &Catalogue,
    rule: &Rule,
    raw: &RawCase,
) -> Result<Expect, TestError> {
    let outcome = *raw.expect.get_ref();
    keys_fit(src, raw, outcome)?;
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
        findings: raw
            .findings
            .as_ref()
            .map(|ids| finding_ids(src, catalogue, ids))
            .transpose()?,
        summary: raw.summary.as_ref().map(|t| text(src, t)).transpose()?,
        fix: raw.fix.as_ref().map(|t| text(src, t)).transpose()?,
    })
}

/// Whether the case's keys fit the outcome it expects: what only a firing rule shows, on a case
/// that expects it to fire; `reason` on one that expects it not (fully) checked.
fn keys_fit(src: &Src<'_>, raw: &RawCase, outcome: Outcome) -> Result<(), TestError> {
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
    Ok(())
}

/// `findings`: every finding's rule id, in rank order; each a loaded rule.
fn finding_ids(
    src: &Src<'_>,
    catalogue: &Catalogue,
    ids: &Spanned<Vec<Spanned<String>>>,
) -> Result<Vec<String>, TestError> {
    ids.get_ref()
        .iter()
        .map(|id| match catalogue.get(id.get_ref()) {
            Some(_) => Ok(id.get_ref().clone()),
            None => Err(src.at(
                id.span().start,
                format!(
                    "`findings` names `{}`, which is not a loaded rule (`doctor \
                     rules list` shows them)",
                    id.get_ref()
                ),
            )),
        })
        .collect::<Result<Vec<_>, _>>()
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
    if from.get_ref().is_empty() {
        return Err(src.at(
            from.span().start,
            format!(
                "`from` names the groups that fired, at least one of: {}",
                names.join(", ")
            ),
        ));
    }
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

/// A text: exact (a string, a number or a boolean, as the report writes it), or parts it
/// must have and parts it must not: `{ contains = "..." }`, `{ contains = ["...", "..."],
/// lacks = "..." }`.
fn text(src: &Src<'_>, v: &Spanned<toml::Value>) -> Result<Text, TestError> {
    let bad = || {
        src.at(
            v.span().start,
            "expected the text exactly (a string, or a number as the report writes it), or its \
             parts: { contains = \"part\" }, { contains = [\"part\", \"another\"], lacks = \
             \"what must not be there\" }",
        )
    };
    let parts = |v: Option<&toml::Value>| -> Option<Vec<String>> {
        match v {
            None => Some(Vec::new()),
            Some(toml::Value::String(s)) => Some(vec![s.clone()]),
            Some(toml::Value::Array(a)) => a
                .iter()
                .map(|p| p.as_str().map(ToOwned::to_owned))
                .collect(),
            Some(_) => None,
        }
    };
    Ok(match v.get_ref() {
        toml::Value::String(s) => Text::Exact(s.clone()),
        toml::Value::Boolean(b) => Text::Exact(b.to_string()),
        n @ (toml::Value::Integer(_) | toml::Value::Float(_)) => Text::Exact(
            crate::engine::eval::fmt_number(number(n).unwrap_or(f64::NAN)),
        ),
        toml::Value::Table(t) if t.keys().all(|k| k == "contains" || k == "lacks") => {
            let contains = parts(t.get("contains")).ok_or_else(bad)?;
            let lacks = parts(t.get("lacks")).ok_or_else(bad)?;
            if contains.is_empty() && lacks.is_empty() {
                return Err(bad());
            }
            Text::Parts { contains, lacks }
        }
        _ => return Err(bad()),
    })
}
