//! Evaluating the compiled rules against one snapshot.
//!
//! The snapshot is handed to CEL as its JSON (the names a user sees are the names a rule reads),
//! with one simplification: **every number is a CEL `double`**. CEL does not mix `int` and
//! `double` in arithmetic (`cpu.busy_pct / cpu.cores` would be an error), so rule authors write
//! number literals used in arithmetic as `2.0`; comparisons accept `> 90` either way.
//!
//! A field that is absent (a section that was not collected, a counter the kernel lacks) makes
//! the expression fail with `NoSuchKey`: the rule is then *not checked*, with that reason — never
//! quietly false. Rules test optional fields with `has(...)` or `x.?y.orValue(0.0)`.

pub use super::expr::{display, fmt_number};

use super::compile::{Catalogue, Rule};
use super::expr::{functions, let_value, number, reason, render, run, tidy, to_cel};
use super::rank;
use super::view;
use super::{Kind, Layer, Severity};
use crate::snapshot::{Snapshot, Status};
use cel::{Context, Value};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// What the rules found in one snapshot.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Analysis {
    /// Firing rules, ranked: a root cause comes before the symptoms it explains.
    pub findings: Vec<Finding>,
    /// Rules that could not be evaluated, with why.
    pub not_checked: Vec<NotChecked>,
    /// Ids of the rules that were evaluated and did not fire.
    pub passed: Vec<String>,
}

/// One firing rule.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Finding {
    /// 1 is the most likely cause.
    pub rank: u32,
    pub id: String,
    pub title: String,
    pub layer: Layer,
    pub kind: Kind,
    pub severity: Severity,
    /// 0–100: how strong the evidence is.
    pub score: f64,
    /// The observed value and the limit, in one line.
    pub summary: String,
    pub evidence: Vec<Evidence>,
    /// What to do, with this machine's values filled in.
    pub fix: String,
    /// Ids of the firing symptoms this root cause explains; they follow it in `findings`.
    pub explains: Vec<String>,
    /// The root cause this symptom is shown under, if one fired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explained_by: Option<String>,
}

/// A value the rule looked at.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Evidence {
    pub label: String,
    /// The value in this snapshot, or `n/a (why)` when it could not be read.
    pub value: String,
    /// The limit it is judged against, with its source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<String>,
    /// The CEL expression the value comes from (snapshot field names).
    pub expr: String,
}

/// A rule that could not be evaluated on this snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct NotChecked {
    pub id: String,
    pub title: String,
    pub layer: Layer,
    pub reason: String,
}

/// Runs every rule of the catalogue on the snapshot.
#[must_use]
pub fn analyze(catalogue: &Catalogue, snapshot: &Snapshot) -> Analysis {
    let mut ctx = Context::with_env(Arc::clone(&catalogue.env));
    functions::register(&mut ctx);
    if let Ok(vars) = view::variables(snapshot, &catalogue.reads) {
        for (k, v) in vars {
            ctx.add_variable_as_val(k, v);
        }
    } else {
        // Not reached with the snapshot's types (see `view::variables`); the general path gives
        // the same values, all of them.
        let json = serde_json::to_value(snapshot).unwrap_or_default();
        if let serde_json::Value::Object(top) = &json {
            for (k, v) in top {
                ctx.add_variable_from_value(k.clone(), to_cel(v));
            }
        }
    }
    let statuses: HashMap<&str, (Status, Option<&str>)> = snapshot
        .collectors()
        .into_iter()
        .map(|c| (c.name, (c.status, c.message)))
        .collect();

    let mut fired = Vec::new();
    let mut not_checked = Vec::new();
    let mut passed = Vec::new();
    for rule in &catalogue.rules {
        match evaluate(rule, &ctx, &statuses) {
            Outcome::Fired(f) => fired.push(f),
            Outcome::Quiet => passed.push(rule.id.clone()),
            Outcome::NotChecked(reason) => not_checked.push(NotChecked {
                id: rule.id.clone(),
                title: rule.title.clone(),
                layer: rule.layer,
                reason,
            }),
        }
    }
    let explains: HashMap<&str, &[String]> = catalogue
        .rules
        .iter()
        .map(|r| (r.id.as_str(), r.explains.as_slice()))
        .collect();
    Analysis {
        findings: rank::rank(fired, &explains),
        not_checked,
        passed,
    }
}

enum Outcome {
    Fired(Finding),
    Quiet,
    NotChecked(String),
}

fn evaluate(
    rule: &Rule,
    root: &Context<'_, '_>,
    statuses: &HashMap<&str, (Status, Option<&str>)>,
) -> Outcome {
    for section in &rule.requires {
        match statuses.get(section.as_str()) {
            Some((Status::Ok, _)) => {}
            Some((status, message)) => {
                return Outcome::NotChecked(format!(
                    "needs `{section}`, which was {}: {}",
                    match status {
                        Status::Skipped => "skipped",
                        _ => "not collected (error)",
                    },
                    message.unwrap_or("no reason given")
                ));
            }
            None => {
                return Outcome::NotChecked(format!(
                    "needs `{section}`, which this snapshot lacks"
                ));
            }
        }
    }
    let mut ctx = root.new_inner_scope();
    // The lets `when` needs first; the others (evidence and text) only for a firing rule, so a
    // quiet rule costs little.
    for (needed, (name, expr)) in rule.when_needs.iter().zip(&rule.lets) {
        if *needed {
            match let_value(expr, &ctx) {
                Ok(v) => ctx.add_variable_as_val(name.clone(), v),
                Err(e) => return Outcome::NotChecked(reason(&format!("let.{name}"), expr, &e)),
            }
        }
    }
    match run(&rule.when, &ctx) {
        Ok(Value::Bool(true)) => {}
        Ok(Value::Bool(false)) => return Outcome::Quiet,
        Ok(other) => {
            return Outcome::NotChecked(format!(
                "`when` must be true or false, it gave {}",
                display(&other)
            ));
        }
        Err(e) => return Outcome::NotChecked(reason("when", &rule.when, &e)),
    }
    for (needed, (name, expr)) in rule.when_needs.iter().zip(&rule.lets) {
        if !*needed {
            match let_value(expr, &ctx) {
                Ok(v) => ctx.add_variable_as_val(name.clone(), v),
                Err(e) => return Outcome::NotChecked(reason(&format!("let.{name}"), expr, &e)),
            }
        }
    }
    let score = match run(&rule.score, &ctx).map(|v| number(&v)) {
        // Whole points: a score is a ranking aid, not a measurement.
        Ok(Some(s)) if s.is_finite() => s.clamp(0.0, 100.0).round(),
        Ok(other) => {
            return Outcome::NotChecked(format!(
                "`score` must be a finite number, it gave {}",
                other.map_or_else(|| "a non-number".to_owned(), |n| n.to_string())
            ));
        }
        Err(e) => return Outcome::NotChecked(reason("score", &rule.score, &e)),
    };
    let evidence = rule
        .evidence
        .iter()
        .map(|e| Evidence {
            label: e.label.clone(),
            value: match run(&e.expr, &ctx) {
                Ok(v) => display(&v),
                Err(err) => format!("n/a ({err})"),
            },
            threshold: e.threshold.clone(),
            expr: e.expr.source.clone(),
        })
        .collect();
    Outcome::Fired(Finding {
        rank: 0,
        id: rule.id.clone(),
        title: rule.title.clone(),
        layer: rule.layer,
        kind: rule.kind,
        severity: rule.severity(score),
        score,
        summary: render(&rule.summary, &ctx).trim().to_owned(),
        evidence,
        fix: tidy(&render(&rule.fix, &ctx)),
        explains: Vec::new(),
        explained_by: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One rule `x` (`summary`, then the `[let]` table), analysed on the healthy fixture.
    fn one_rule_on_healthy(when: &str, summary: &str, lets: &str) -> Analysis {
        use crate::engine::rules::Source;
        let text = format!(
            "id = \"x\"\ntitle = \"t\"\nlayer = \"cpu\"\nkind = \"root-cause\"\nwhen = \"{when}\"\n\
             score = \"60\"\nsummary = \"{summary}\"\nfix = \"f\"\n[let]\n{lets}\n"
        );
        let cat = Catalogue::from_sources(&[Source {
            path: "x.toml".into(),
            text,
            doc: None,
            builtin: false,
        }])
        .unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/healthy.json");
        analyze(&cat, &crate::snapshot::load(&path).unwrap())
    }

    fn rule_on_healthy(when: &str) -> Analysis {
        one_rule_on_healthy(
            when,
            "{{detail}}",
            "cores = \"cpu.cores\"\ndetail = \"cpu.no_such_field\"",
        )
    }

    /// `when` is decided with only the lets it needs; the others are evaluated for a firing rule
    /// only, where a failure still makes it "not checked".
    #[test]
    fn lets_when_does_not_need_are_evaluated_only_when_firing() {
        let quiet = rule_on_healthy("cores < 1.0");
        assert_eq!(quiet.passed, ["x"]);
        let firing = rule_on_healthy("cores >= 1.0");
        assert!(firing.findings.is_empty());
        assert!(
            firing.not_checked[0].reason.contains("`let.detail`")
                && firing.not_checked[0].reason.contains("no_such_field"),
            "{:?}",
            firing.not_checked
        );
    }

    /// A `let` holds what `Value` makes of its value, as it always did: a list or map of the
    /// snapshot as it is, a type as its name.
    #[test]
    fn lets_hold_their_value_as_value_makes_it() {
        let rule = |lets: &str, when: &str| {
            let a = one_rule_on_healthy(when, "s", lets);
            (a.findings.len(), a.passed.len(), a.not_checked)
        };
        assert_eq!(
            rule("t = \"type(cpu.cores)\"", "t == 'double'"),
            (1, 0, vec![])
        );
        assert_eq!(
            rule("t = \"type(cpu.cores)\"", "t == type(1.0)"),
            (0, 1, vec![])
        );
        assert_eq!(
            rule(
                "c = \"cpu\"\nl = \"[c, c.?cores, 1u, b'x']\"",
                "l[0] == cpu && l[1].value() == cpu.cores && size(l) == 4"
            ),
            (1, 0, vec![])
        );
    }
}
