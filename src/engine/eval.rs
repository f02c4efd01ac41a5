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
//!
//! A rule reasons from one or more evidence groups (`[[from]]`, see [`super::compile::Group`]),
//! each evaluated on its own: the rule fires when one of them fires, and is not checked only
//! when none of them could be evaluated. Doctor runs when a server fails, exactly when a source
//! degrades (MySQL refusing doctor's own connection at `max_connections`); a rule that can also
//! read the same cause off another source still speaks then.

pub use super::expr::{display, fmt_bytes, fmt_number};

use super::compile::{Catalogue, EvidenceDef, Group, Parts, Rule, Template};
use super::expr::{functions, let_value, number, reason, render, run, tidy, to_cel};
use super::headline;
use super::outcome::{
    Analysis, Evidence, Finding, GroupOutcome, GroupStatus, NotChecked, PartlyChecked, Unchecked,
};
use super::rank;
use super::view;
use crate::snapshot::{Snapshot, Status};
use cel::common::value::Val;
use cel::{Context, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Runs every rule of the catalogue on the snapshot, and reads the headline figures.
#[must_use]
pub fn analyze(catalogue: &Catalogue, snapshot: &Snapshot) -> Analysis {
    analyze_with(catalogue, snapshot, true)
}

/// [`analyze`] without the headline figures (`figures` empty): for a caller that only
/// compares findings (`doctor diff`), they are a fifth of the work.
#[must_use]
pub fn analyze_findings(catalogue: &Catalogue, snapshot: &Snapshot) -> Analysis {
    analyze_with(catalogue, snapshot, false)
}

fn analyze_with(catalogue: &Catalogue, snapshot: &Snapshot, with_figures: bool) -> Analysis {
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
    let mut partly_checked = Vec::new();
    let mut passed = Vec::new();
    for rule in &catalogue.rules {
        match evaluate(rule, &ctx, &statuses) {
            Outcome::Fired(f) => fired.push(*f),
            Outcome::Quiet { checked, unchecked } => {
                if unchecked.is_empty() {
                    passed.push(rule.id.clone());
                } else {
                    partly_checked.push(PartlyChecked {
                        id: rule.id.clone(),
                        host: None,
                        title: rule.title.clone(),
                        layer: rule.layer,
                        checked,
                        unchecked,
                    });
                }
            }
            Outcome::NotChecked(reason) => not_checked.push(NotChecked {
                id: rule.id.clone(),
                host: None,
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
    let mut analysis = Analysis {
        findings: rank::rank(fired, &explains),
        not_checked,
        partly_checked,
        passed,
        figures: if with_figures {
            headline::figures(&catalogue.figures, &ctx, &statuses)
        } else {
            Vec::new()
        },
    };
    super::imported::reword(&mut analysis, snapshot);
    analysis
}

/// Some of a catalogue's rules, evaluated alone on many versions of one snapshot that differ
/// only in a few fields (the windows of a `doctor watch` run): which rules, and the parts of the
/// snapshot those rules read, so each evaluation builds only those.
#[derive(Debug)]
pub struct Subset {
    rules: Vec<usize>,
    reads: view::Reads,
}

impl Subset {
    /// The rules for which `keep` holds of what they read to decide whether they fire and how
    /// severely (`when`, `score`, the lets those need: not their texts or evidence, which
    /// [`fired`] does not render), and only that is built.
    pub fn of(catalogue: &Catalogue, keep: &dyn Fn(&view::Reads) -> bool) -> Subset {
        Self::select(catalogue, &|_, reads| keep(reads))
    }

    /// The rules for which `keep(id, decides, holds)` is true: `decides` is what the rule reads
    /// to decide whether it fires and how severely, `holds` what it reads to decide only
    /// whether it fires (its `when`s and the lets they need). A watch's windows differ from
    /// the whole run only in sampled figures: a rule whose `holds` reads none of them fires in
    /// a window exactly when it fires on the whole run, and needs evaluating per window only
    /// when it fired there and its score reads one.
    #[must_use]
    pub fn of_rules(
        catalogue: &Catalogue,
        keep: &dyn Fn(&str, &view::Reads, &view::Reads) -> bool,
    ) -> Subset {
        let is_root = |name: &str| catalogue.reads.field(name).is_some();
        Self::select(catalogue, &|rule, own| {
            keep(&rule.id, own, &holds(rule, &is_root))
        })
    }

    /// The one rule `id`, if the catalogue has it (`doctor stalk --when RULE_ID`).
    #[must_use]
    pub fn rule(catalogue: &Catalogue, id: &str) -> Option<Subset> {
        let subset = Self::select(catalogue, &|rule, _| rule.id == id);
        (!subset.is_empty()).then_some(subset)
    }

    /// What the kept rules read to decide whether they fire.
    #[must_use]
    pub fn reads(&self) -> &view::Reads {
        &self.reads
    }

    fn select(catalogue: &Catalogue, keep: &dyn Fn(&Rule, &view::Reads) -> bool) -> Subset {
        // A rule's names that are the snapshot's are those the catalogue reads at the top.
        let is_root = |name: &str| catalogue.reads.field(name).is_some();
        let mut rules = Vec::new();
        let mut reads = view::Reads::default();
        for (i, rule) in catalogue.rules.iter().enumerate() {
            let own = decides(rule, &is_root);
            if keep(rule, &own) {
                rules.push(i);
                reads.merge(own);
            }
        }
        Subset { rules, reads }
    }

    /// What the rule `id` reads to decide, as [`Subset::of`] sees it; `None` for an unknown id.
    pub fn reads_of(catalogue: &Catalogue, id: &str) -> Option<view::Reads> {
        let is_root = |name: &str| catalogue.reads.field(name).is_some();
        let rule = catalogue.rules.iter().find(|r| r.id == id)?;
        Some(decides(rule, &is_root))
    }

    /// The ids of the rules kept.
    pub fn ids<'c>(&self, catalogue: &'c Catalogue) -> impl Iterator<Item = &'c str> {
        self.rules.iter().map(|&i| catalogue.rules[i].id.as_str())
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// What `rule` reads to decide whether it fires and how severely: `when`, `score` and the
/// lets those need.
fn decides(rule: &Rule, is_root: &dyn Fn(&str) -> bool) -> view::Reads {
    let mut own = view::Reads::default();
    rule.record_reads(
        &mut own,
        is_root,
        &Parts {
            shared: &|g, k| g.shared_for_when[k] || g.shared_for_score[k],
            when: true,
            score: true,
            texts: false,
        },
    );
    own
}

/// What `rule` reads to decide whether it fires: the `when`s, every group's own lets (whether
/// `when` or `score` needs them: more than needed, never less) and the shared lets a `when`
/// needs.
fn holds(rule: &Rule, is_root: &dyn Fn(&str) -> bool) -> view::Reads {
    let mut own = view::Reads::default();
    rule.record_reads(
        &mut own,
        is_root,
        &Parts {
            shared: &|g, k| g.shared_for_when[k],
            when: true,
            score: false,
            texts: false,
        },
    );
    own
}

/// The rules of `subset` that fire on `snapshot`, with their severity; no ranking, no figures.
#[must_use]
pub fn fired(
    catalogue: &Catalogue,
    subset: &Subset,
    snapshot: &Snapshot,
) -> Vec<(String, crate::engine::Severity)> {
    Windows::new(catalogue, subset, &|_| true).fired(snapshot)
}

/// A subset evaluated on many views of one snapshot that differ only under some top-level
/// names (a watch's windows: `cpu`, `disks`, `tcp`, `mysql`, ... and `window`). The values of
/// the other names are built once, on the first view, and kept in the evaluation context; each
/// later view rebuilds only what can differ. Building the values is most of an evaluation's
/// cost when the rules read lists (processes, listeners, sessions).
pub struct Windows<'c> {
    catalogue: &'c Catalogue,
    subset: &'c Subset,
    /// What the subset reads under the names that differ between views.
    changing: view::Reads,
    ctx: Option<Context<'static, 'static>>,
}

impl<'c> Windows<'c> {
    /// `differs` tells the top-level names whose values may differ between the views.
    #[must_use]
    pub fn new(
        catalogue: &'c Catalogue,
        subset: &'c Subset,
        differs: &dyn Fn(&str) -> bool,
    ) -> Self {
        Windows {
            catalogue,
            subset,
            changing: subset.reads.only(differs),
            ctx: None,
        }
    }

    /// The rules of the subset that fire on `snapshot`, with their severity.
    pub fn fired(&mut self, snapshot: &Snapshot) -> Vec<(String, crate::engine::Severity)> {
        let reads = if self.ctx.is_some() {
            &self.changing
        } else {
            &self.subset.reads
        };
        let Ok(vars) = view::variables(snapshot, reads) else {
            return Vec::new();
        };
        let ctx = self.ctx.get_or_insert_with(|| {
            let mut ctx = Context::with_env(Arc::clone(&self.catalogue.env));
            functions::register(&mut ctx);
            ctx
        });
        for (k, v) in vars {
            ctx.add_variable_as_val(k, v);
        }
        let statuses: HashMap<&str, (Status, Option<&str>)> = snapshot
            .collectors()
            .into_iter()
            .map(|c| (c.name, (c.status, c.message)))
            .collect();
        let catalogue = self.catalogue;
        self.subset
            .rules
            .iter()
            .filter_map(|&i| {
                let rule = &catalogue.rules[i];
                severity_only(rule, ctx, &statuses).map(|s| (rule.id.clone(), s))
            })
            .collect()
    }
}

/// Whether `rule` fires and how severely, as [`evaluate`] decides it, without its texts and
/// evidence: only the lets a held group's `when` and `score` need are bound. A watch evaluates
/// its rules on a hundred windows; the texts are most of a firing rule's cost.
fn severity_only(
    rule: &Rule,
    root: &Context<'_, '_>,
    statuses: &HashMap<&str, (Status, Option<&str>)>,
) -> Option<crate::engine::Severity> {
    let mut shared = root.new_inner_scope();
    let mut slots: Vec<Slot> = rule.lets.iter().map(|_| Slot::Pending).collect();
    let mut held: Vec<(usize, Bound<'_>)> = Vec::new();
    for (i, group) in rule.groups.iter().enumerate() {
        if let Decided::Held(bound) = decide(rule, group, &mut shared, &mut slots, statuses) {
            held.push((i, bound));
        }
    }
    for i in 0..rule.lets.len() {
        if held
            .iter()
            .any(|(g, _)| rule.groups[*g].shared_for_score[i])
        {
            bind_shared(rule, i, &mut shared, &mut slots);
        }
    }
    let mut best: Option<f64> = None;
    for (i, bound) in held {
        let mut ctx = Context::Child {
            parent: &shared,
            variables: bound,
            resolver: None,
        };
        if let Ok(s) = score(&rule.groups[i], &mut ctx, &slots) {
            best = Some(best.map_or(s, |b| b.max(s)));
        }
    }
    best.map(|s| rule.severity(s))
}

enum Outcome {
    Fired(Box<Finding>),
    /// No group fired; `checked` were evaluated, `unchecked` could not be.
    Quiet {
        checked: Vec<String>,
        unchecked: Vec<Unchecked>,
    },
    NotChecked(String),
}

/// A rule's own lets while its groups are evaluated: each is evaluated once, when the first
/// group that needs it (or the text of a firing rule) asks for it.
enum Slot {
    Pending,
    Bound,
    Failed(String),
}

/// The variables bound in one scope, taken out of it to be put back into a new one later.
type Bound<'v> = BTreeMap<String, Box<dyn Val + 'v>>;

/// How a group's `when` came out.
enum Decided<'v> {
    /// `when` held; the group's lets bound so far.
    Held(Bound<'v>),
    Quiet,
    NotChecked(String),
}

/// Evaluates a rule's groups, each on its own, and combines them.
///
/// First every group's `when`, with only the lets it needs (the rule's, bound once in a scope
/// shared by the groups, then the group's own in a scope of its own); a rule where no `when`
/// holds costs no more. Then, if one held, every remaining rule's let (for the text and
/// evidence; one that fails is left unbound and shows as `n/a`), and each held group's score
/// in its own scope, kept for its evidence.
fn evaluate(
    rule: &Rule,
    root: &Context<'_, '_>,
    statuses: &HashMap<&str, (Status, Option<&str>)>,
) -> Outcome {
    let mut shared = root.new_inner_scope();
    let mut slots: Vec<Slot> = rule.lets.iter().map(|_| Slot::Pending).collect();
    let mut outcomes: Vec<GroupOutcome> = Vec::with_capacity(rule.groups.len());
    let mut held: Vec<(usize, Bound<'_>)> = Vec::new();
    for (i, group) in rule.groups.iter().enumerate() {
        let (outcome, reason) = match decide(rule, group, &mut shared, &mut slots, statuses) {
            Decided::Held(bound) => {
                held.push((i, bound));
                (GroupStatus::Fired, None)
            }
            Decided::Quiet => (GroupStatus::Quiet, None),
            Decided::NotChecked(reason) => (GroupStatus::NotChecked, Some(reason)),
        };
        outcomes.push(GroupOutcome {
            name: group.name.clone(),
            outcome,
            score: None,
            reason,
        });
    }
    if held.is_empty() {
        return quiet_or_not_checked(rule, outcomes);
    }
    for i in 0..rule.lets.len() {
        bind_shared(rule, i, &mut shared, &mut slots);
    }
    // Each held group's scope, kept for its text and evidence.
    let mut scored: Vec<(usize, Context<'_, '_>, f64)> = Vec::with_capacity(held.len());
    for (i, bound) in held {
        let group = &rule.groups[i];
        let mut ctx = Context::Child {
            parent: &shared,
            variables: bound,
            resolver: None,
        };
        match score(group, &mut ctx, &slots) {
            Ok(s) => {
                outcomes[i].score = Some(s);
                scored.push((i, ctx, s));
            }
            Err(reason) => {
                outcomes[i].outcome = GroupStatus::NotChecked;
                outcomes[i].reason = Some(reason);
            }
        }
    }
    // The strongest firing group; the first written of equals.
    if scored.is_empty() {
        return quiet_or_not_checked(rule, outcomes);
    }
    let mut top = 0;
    for k in 1..scored.len() {
        if scored[k].2 > scored[top].2 {
            top = k;
        }
    }
    let (top_group, top_ctx, score) = (&rule.groups[scored[top].0], &scored[top].1, scored[top].2);
    let mut evidence: Vec<Evidence> = rule
        .evidence
        .iter()
        .map(|e| shown(e, &shared, None))
        .collect();
    for (i, ctx, _) in &scored {
        let group = &rule.groups[*i];
        let from = rule.grouped.then_some(group.name.as_str());
        evidence.extend(group.evidence.iter().map(|e| shown(e, ctx, from)));
    }
    // `rules::parse` makes sure the group or the rule has each text.
    let text = |own: Option<&Template>, default: Option<&Template>| {
        own.or(default)
            .map_or_else(String::new, |t| render(t, top_ctx))
    };
    Outcome::Fired(Box::new(Finding {
        rank: 0,
        host: None,
        id: rule.id.clone(),
        title: rule.title.clone(),
        layer: rule.layer,
        kind: rule.kind,
        severity: rule.severity(score),
        score,
        summary: text(top_group.summary.as_ref(), rule.summary.as_ref())
            .trim()
            .to_owned(),
        evidence,
        fix: tidy(&text(top_group.fix.as_ref(), rule.fix.as_ref())),
        explains: Vec::new(),
        explained_by: None,
        from: if rule.grouped { outcomes } else { Vec::new() },
    }))
}

/// One evidence value; one that cannot be evaluated shows why.
fn shown(e: &EvidenceDef, ctx: &Context<'_, '_>, from: Option<&str>) -> Evidence {
    Evidence {
        host: None,
        label: e.label.clone(),
        value: match run(&e.expr, ctx) {
            Ok(v) => display(&v),
            Err(err) => format!("n/a ({err})"),
        },
        threshold: e.threshold.clone(),
        expr: e.expr.source.clone(),
        from: from.map(ToOwned::to_owned),
    }
}

/// Whether `group`'s `when` holds: its sections, then the lets it needs, then `when`.
fn decide<'v>(
    rule: &Rule,
    group: &Group,
    shared: &mut Context<'_, 'v>,
    slots: &mut [Slot],
    statuses: &HashMap<&str, (Status, Option<&str>)>,
) -> Decided<'v> {
    for section in rule.requires.iter().chain(&group.requires) {
        if let Some(reason) = missing(section, statuses) {
            return Decided::NotChecked(reason);
        }
    }
    for (i, needed) in group.shared_for_when.iter().enumerate() {
        if *needed {
            bind_shared(rule, i, shared, slots);
            if let Slot::Failed(reason) = &slots[i] {
                return Decided::NotChecked(reason.clone());
            }
        }
    }
    let mut ctx = shared.new_inner_scope();
    for (needed, (name, expr)) in group.when_needs.iter().zip(&group.lets) {
        if *needed {
            match let_value(expr, &ctx) {
                Ok(v) => ctx.add_variable_as_val(name.clone(), v),
                Err(e) => return Decided::NotChecked(reason(&format!("let.{name}"), expr, &e)),
            }
        }
    }
    match run(&group.when, &ctx) {
        Ok(Value::Bool(true)) => Decided::Held(into_bound(ctx)),
        Ok(Value::Bool(false)) => Decided::Quiet,
        Ok(other) => Decided::NotChecked(format!(
            "`when` must be true or false, it gave {}",
            display(&other)
        )),
        Err(e) => Decided::NotChecked(reason("when", &group.when, &e)),
    }
}

/// The variables of a scope, to be bound again in a new scope (`Context::Child`, cel 0.15): the
/// group's lets are not evaluated twice.
fn into_bound<'v>(ctx: Context<'_, 'v>) -> Bound<'v> {
    match ctx {
        Context::Root { variables, .. } | Context::Child { variables, .. } => variables,
    }
}

/// Evaluates the rule's let `i` into the shared scope, unless that was done before.
fn bind_shared(rule: &Rule, i: usize, shared: &mut Context<'_, '_>, slots: &mut [Slot]) {
    if !matches!(slots[i], Slot::Pending) {
        return;
    }
    let (name, expr) = &rule.lets[i];
    slots[i] = match let_value(expr, shared) {
        Ok(v) => {
            shared.add_variable_as_val(name.clone(), v);
            Slot::Bound
        }
        Err(e) => Slot::Failed(reason(&format!("let.{name}"), expr, &e)),
    };
}

/// A held group's score: the rule's lets it needs must have evaluated, then its own remaining
/// lets, then `score`; any failure makes the group not checked.
fn score(group: &Group, ctx: &mut Context<'_, '_>, slots: &[Slot]) -> Result<f64, String> {
    for (needed, slot) in group.shared_for_score.iter().zip(slots) {
        if let (true, Slot::Failed(reason)) = (needed, slot) {
            return Err(reason.clone());
        }
    }
    for (needed, (name, expr)) in group.when_needs.iter().zip(&group.lets) {
        if !*needed {
            let v = let_value(expr, ctx).map_err(|e| reason(&format!("let.{name}"), expr, &e))?;
            ctx.add_variable_as_val(name.clone(), v);
        }
    }
    match run(&group.score, ctx).map(|v| number(&v)) {
        // Whole points: a score is a ranking aid, not a measurement.
        Ok(Some(s)) if s.is_finite() => Ok(s.clamp(0.0, 100.0).round()),
        Ok(other) => Err(format!(
            "`score` must be a finite number, it gave {}",
            other.map_or_else(|| "a non-number".to_owned(), |n| n.to_string())
        )),
        Err(e) => Err(reason("score", &group.score, &e)),
    }
}

/// Why `section` cannot be read, if it cannot.
fn missing(section: &str, statuses: &HashMap<&str, (Status, Option<&str>)>) -> Option<String> {
    match statuses.get(section) {
        Some((Status::Ok, _)) => None,
        Some((status, message)) => Some(format!(
            "needs `{section}`, which was {}: {}",
            match status {
                Status::Skipped => "skipped",
                _ => "not collected (error)",
            },
            message.unwrap_or("no reason given")
        )),
        None => Some(format!("needs `{section}`, which this snapshot lacks")),
    }
}

/// A rule none of whose groups fired: quiet if one was evaluated, else not checked with each
/// group's reason.
fn quiet_or_not_checked(rule: &Rule, outcomes: Vec<GroupOutcome>) -> Outcome {
    let mut checked = Vec::new();
    let mut unchecked = Vec::new();
    for o in outcomes {
        match (o.outcome, o.reason) {
            (GroupStatus::NotChecked, reason) => unchecked.push(Unchecked {
                from: o.name,
                reason: reason.unwrap_or_default(),
            }),
            _ => checked.push(o.name),
        }
    }
    if !checked.is_empty() {
        return Outcome::Quiet { checked, unchecked };
    }
    // One reason for all (a section every group requires was skipped) is said once.
    let same = unchecked.windows(2).all(|w| w[0].reason == w[1].reason);
    if !rule.grouped || same {
        return Outcome::NotChecked(unchecked.pop().map(|u| u.reason).unwrap_or_default());
    }
    Outcome::NotChecked(
        unchecked
            .iter()
            .map(|u| format!("from {}: {}", u.from, u.reason))
            .collect::<Vec<_>>()
            .join("; "),
    )
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
            "cores = \"cpu.cores\"\ndetail = \"cpu.counters.no_such_field\"",
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
