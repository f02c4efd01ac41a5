//! Raw rule files → the validated, compiled [`Catalogue`], once at start-up.
//!
//! Every CEL expression is compiled (`compile/expression.rs`), and every name it reads is
//! checked in full against the snapshot's schema (`compile/paths.rs`: fields through objects,
//! lists, maps and optionals, the keys of maps whose names are known, the types the schema
//! shows) and the `let` names in scope. A typo is an error naming the file, the line, the column
//! of the name and the key, not a rule that silently never fires. This file assembles rules and
//! their evidence groups and checks the catalogue as a whole.

mod expression;
mod figures;
mod paths;

pub use expression::{
    EXTRA_FUNCTIONS, EvidenceDef, Expr, Note, Part, Template, parse_cel, section_names,
};
pub use figures::{Each, FigureDef, VALUE};
pub use paths::LogNames;
pub(crate) use paths::nearest;

use super::rules::{self, RawGroup, RawRule, RuleError, Source, Thresholds};
use super::view::{self, Reads};
use super::{Kind, Layer, Severity};
use cel::Env;
use expression::{Compiler, SnapshotNames, check_requires, names_read, placeholders};
use paths::{Binding, Ty};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use toml::Spanned;

/// One validated rule with its expressions compiled.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub layer: Layer,
    pub kind: Kind,
    /// Sections every group needs.
    pub requires: Vec<String>,
    /// The rule's own `let` values, shared by its groups; each is evaluated only for a group that
    /// needs it, or to fill in the text and evidence of a rule that fired.
    pub lets: Vec<(String, Expr)>,
    /// The evidence groups, in the order written; the rule fires when any of them fires.
    pub groups: Vec<Group>,
    /// Whether the file has `[[from]]` groups. Without them the rule is its one group (its
    /// top-level `when` and `score`), and reports show no groups.
    pub grouped: bool,
    /// The text of the strongest firing group when it has none of its own. Present without
    /// `[[from]]`; with groups, absent only when every group has its own.
    pub summary: Option<Template>,
    pub fix: Option<Template>,
    pub thresholds: Thresholds,
    /// Shown whenever the rule fires.
    pub evidence: Vec<EvidenceDef>,
    pub explains: Vec<String>,
    pub doc: Option<String>,
    /// The file it was read from (`rules/<id>.toml` for built-in rules).
    pub path: String,
    pub builtin: bool,
    /// What the load-time check said without refusing the rule: a name no listed version of
    /// the server or kernel has, a likely typo it cannot be sure of (`doctor rules explain`).
    pub notes: Vec<Note>,
}

/// Which of a rule's expressions [`Rule::record_reads`] records.
pub struct Parts<'a> {
    /// The rule's `let` `k`, for group `g`.
    pub shared: &'a dyn Fn(&Group, usize) -> bool,
    pub when: bool,
    pub score: bool,
    /// Evidence and the summary's and fix's placeholders, the rule's and the group's.
    pub texts: bool,
}

/// One source of evidence a rule reasons from: a `[[from]]` table, or a rule's top-level `when`
/// and `score` when it has no such tables.
#[derive(Debug)]
pub struct Group {
    /// As written; `rule` for the one group of a rule without `[[from]]` (never shown).
    pub name: String,
    /// Sections this group needs besides the rule's.
    pub requires: Vec<String>,
    /// This group's own `let` values, after the rule's.
    pub lets: Vec<(String, Expr)>,
    pub when: Expr,
    pub score: Expr,
    pub summary: Option<Template>,
    pub fix: Option<Template>,
    pub evidence: Vec<EvidenceDef>,
    /// Which of the rule's lets `when` needs, directly or through other lets: evaluated before
    /// it, and one that fails makes the group "not checked".
    pub shared_for_when: Vec<bool>,
    /// Which of the group's own lets `when` needs: evaluated before it, the others only when it
    /// holds.
    pub when_needs: Vec<bool>,
    /// Which of the rule's lets the group needs once `when` holds (for `score` and its own lets):
    /// one that fails makes the group "not checked". The others only fill in text and evidence,
    /// where a failure shows as `n/a`. Without `[[from]]`, every let, as before groups existed.
    pub shared_for_score: Vec<bool>,
}

impl Rule {
    /// Every expression of the rule: lets, `when`, `score`, evidence, placeholders, of the rule
    /// and of each group.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        let shared = self
            .lets
            .iter()
            .map(|(_, e)| e)
            .chain(self.evidence.iter().map(|e| &e.expr))
            .chain(placeholders(self.summary.as_ref()))
            .chain(placeholders(self.fix.as_ref()));
        shared.chain(self.groups.iter().flat_map(|g| {
            g.lets
                .iter()
                .map(|(_, e)| e)
                .chain([&g.when, &g.score])
                .chain(g.evidence.iter().map(|e| &e.expr))
                .chain(placeholders(g.summary.as_ref()))
                .chain(placeholders(g.fix.as_ref()))
        }))
    }

    /// Records in `reads` what the expressions `parts` picks read: each in the scope of every
    /// group it is evaluated in, with that scope's aliases ([`view::Aliases`]: a `let` bound to
    /// a snapshot path reads nothing itself, its uses read through it).
    pub fn record_reads(
        &self,
        reads: &mut Reads,
        is_root: &dyn Fn(&str) -> bool,
        parts: &Parts<'_>,
    ) {
        let mut shared = view::Aliases::new();
        let shared_alias: Vec<Option<Vec<String>>> = self
            .lets
            .iter()
            .map(|(name, e)| {
                let a = view::alias_of(&e.program, is_root, &shared);
                if let Some(p) = &a {
                    shared.insert(name.clone(), p.clone());
                }
                a
            })
            .collect();
        let let_reads =
            |reads: &mut Reads, e: &Expr, alias: Option<&Vec<String>>, scope: &view::Aliases| {
                match alias {
                    Some(p) => reads.ensure(&p.iter().map(String::as_str).collect::<Vec<_>>()),
                    None => reads.record_with(&e.program, is_root, scope),
                }
            };
        for g in &self.groups {
            let mut scope = shared.clone();
            for (k, (_, e)) in self.lets.iter().enumerate() {
                if (parts.shared)(g, k) {
                    let_reads(reads, e, shared_alias[k].as_ref(), &scope);
                }
            }
            for (name, e) in &g.lets {
                let alias = view::alias_of(&e.program, is_root, &scope);
                let_reads(reads, e, alias.as_ref(), &scope);
                if let Some(p) = alias {
                    scope.insert(name.clone(), p);
                }
            }
            let mut exprs: Vec<&Expr> = Vec::new();
            if parts.when {
                exprs.push(&g.when);
            }
            if parts.score {
                exprs.push(&g.score);
            }
            if parts.texts {
                exprs.extend(g.evidence.iter().map(|e| &e.expr));
                exprs.extend(placeholders(g.summary.as_ref()));
                exprs.extend(placeholders(g.fix.as_ref()));
                exprs.extend(self.evidence.iter().map(|e| &e.expr));
                exprs.extend(placeholders(self.summary.as_ref()));
                exprs.extend(placeholders(self.fix.as_ref()));
            }
            for e in exprs {
                reads.record_with(&e.program, is_root, &scope);
            }
        }
    }

    #[must_use]
    pub fn severity(&self, score: f64) -> Severity {
        if score >= self.thresholds.critical {
            Severity::Critical
        } else if score >= self.thresholds.warning {
            Severity::Warning
        } else {
            Severity::Info
        }
    }
}

/// All rules, compiled, sorted by id, and the headline figures, in the order written, with the
/// CEL environment they were compiled for.
pub struct Catalogue {
    pub rules: Vec<Rule>,
    /// The headline figures (`rules/figures/`, then a `--rules DIR`'s `figures/`).
    pub figures: Vec<FigureDef>,
    pub env: Arc<Env>,
    /// The parts of the snapshot the rules and figures read: only those are turned into CEL
    /// values.
    pub reads: Reads,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("rules", &self.rules.len())
            .field("figures", &self.figures.len())
            .finish_non_exhaustive()
    }
}

impl Catalogue {
    /// The built-in rules and figures, plus those of `dir` (a rule with a built-in rule's id
    /// replaces it; its `figures/` are shown after the built-in ones), checked against the
    /// built-in log patterns' names.
    pub fn load(dir: Option<&Path>) -> Result<Self, RuleError> {
        Self::load_with(dir, &LogNames::builtin())
    }

    /// [`load`](Self::load), the names rules read of `logs` checked against `logs`: the
    /// patterns `doctor check` scans with, `--patterns` included.
    pub fn load_with(dir: Option<&Path>, logs: &LogNames) -> Result<Self, RuleError> {
        let sources = Self::rule_sources(dir)?;
        let figures = crate::engine::figures::sources(dir)?;
        Self::compile(&sources, &figures, logs)
    }

    /// [`load_with`](Self::load_with) without the headline figures, for a command that shows
    /// none (`doctor diff` compares findings, settings and its own load figures): compiling
    /// them is a tenth of its run.
    pub fn load_rules_only(dir: Option<&Path>, logs: &LogNames) -> Result<Self, RuleError> {
        Self::compile(&Self::rule_sources(dir)?, &[], logs)
    }

    /// The built-in rules, each replaced by the file of `dir` with its name, and `dir`'s others.
    fn rule_sources(dir: Option<&Path>) -> Result<Vec<Source>, RuleError> {
        let mut sources = rules::builtin_sources();
        if let Some(dir) = dir {
            for s in rules::dir_sources(dir)? {
                let stem = Path::new(&s.path)
                    .file_stem()
                    .map(std::ffi::OsStr::to_os_string);
                sources.retain(|b| {
                    Path::new(&b.path)
                        .file_stem()
                        .map(std::ffi::OsStr::to_os_string)
                        != stem
                });
                sources.push(s);
            }
        }
        Ok(sources)
    }

    /// Compiles the given rule sources, without figures, and checks the catalogue as a whole
    /// (`explains` targets).
    pub fn from_sources(sources: &[Source]) -> Result<Self, RuleError> {
        Self::from_sources_with(sources, &LogNames::builtin())
    }

    /// [`from_sources`](Self::from_sources) with the log patterns' names given.
    pub fn from_sources_with(sources: &[Source], logs: &LogNames) -> Result<Self, RuleError> {
        Self::compile(sources, &[], logs)
    }

    /// Compiles rule sources and figure sources.
    ///
    /// Two halves of the rules and figures are compiled side by side, the figures with the
    /// second (halves of the text, which the time to compile follows):
    /// compiling is most of `doctor analyze`'s time and each rule needs nothing from the others
    /// (`benches/analyze.sh`). Errors are still reported for the first bad file in order.
    pub fn compile(
        sources: &[Source],
        figure_sources: &[Source],
        logs: &LogNames,
    ) -> Result<Self, RuleError> {
        let env = Arc::new(environment());
        let names = SnapshotNames::new();
        // Halves of about the same text, the figures counted with the second.
        let total: usize = sources
            .iter()
            .chain(figure_sources)
            .map(|s| s.text.len())
            .sum();
        let mut half = 0;
        let mut text = 0;
        while half < sources.len() && text + sources[half].text.len() / 2 < total / 2 {
            text += sources[half].text.len();
            half += 1;
        }
        let (first, second) = sources.split_at(half);
        let (a, b) = std::thread::scope(|scope| {
            let b = scope.spawn(|| {
                let rules = compile_sources(&names, logs, second)?;
                let figures = figures::compile(&names, logs, figure_sources)?;
                Ok::<_, RuleError>((rules, figures))
            });
            (compile_sources(&names, logs, first), b.join())
        });
        let b = b.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let (mut compiled, mut explains_spans, mut reads) = a?;
        let ((more, more_spans, more_reads), (figures, figure_reads)) = b?;
        compiled.extend(more);
        explains_spans.extend(more_spans);
        reads.merge(more_reads);
        reads.merge(figure_reads);
        compiled.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some(w) = compiled.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(RuleError::File {
                path: w[1].path.clone(),
                problem: format!("rule id `{}` is also defined in {}", w[1].id, w[0].path),
            });
        }
        let kinds: BTreeMap<&str, Kind> =
            compiled.iter().map(|r| (r.id.as_str(), r.kind)).collect();
        for rule in &compiled {
            let (source, spans) = &explains_spans[&rule.id];
            for (target, offset) in spans {
                let problem = match (rule.kind, kinds.get(target.as_str())) {
                    (Kind::Symptom, _) => Some(format!(
                        "`explains` is for root causes; `{}` is a symptom",
                        rule.id
                    )),
                    (_, None) => Some(format!("`explains` names `{target}`, which is not a rule")),
                    // A cause may explain a symptom or another cause it brings about
                    // (full scans saturate the CPU), never itself.
                    (_, Some(_)) if *target == rule.id => {
                        Some(format!("`{target}` cannot explain itself"))
                    }
                    (_, Some(_)) => None,
                };
                if let Some(problem) = problem {
                    return Err(rules::at(source, *offset, problem));
                }
            }
        }
        Ok(Catalogue {
            rules: compiled,
            figures,
            env,
            reads,
        })
    }

    #[must_use]
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// What the load-time check warns about, in rules and figures: names accepted that are most
    /// likely typos (say them at every load, on standard error).
    pub fn warnings(&self) -> impl Iterator<Item = &Note> {
        self.rules
            .iter()
            .flat_map(|r| &r.notes)
            .chain(self.figures.iter().flat_map(|f| &f.notes))
            .filter(|n| n.warning)
    }
}

/// Where each rule's `explains` targets are written, to point at a bad one.
type ExplainsSpans<'a> = BTreeMap<String, (&'a Source, Vec<(String, usize)>)>;

/// Compiles `sources` in order, stopping at the first error, and records what they read.
fn compile_sources<'a>(
    names: &SnapshotNames,
    logs: &LogNames,
    sources: &'a [Source],
) -> Result<(Vec<Rule>, ExplainsSpans<'a>, Reads), RuleError> {
    let mut compiled = Vec::with_capacity(sources.len());
    let mut explains_spans = BTreeMap::new();
    let mut reads = Reads::default();
    for source in sources {
        let raw = rules::parse(source)?;
        let spans: Vec<(String, usize)> = raw
            .explains
            .iter()
            .map(|e| (e.get_ref().clone(), e.span().start))
            .collect();
        explains_spans.insert(raw.id.get_ref().clone(), (source, spans));
        let rule = compile_rule(names, logs, source, raw)?;
        rule.record_reads(
            &mut reads,
            &|name| names.is_known(name),
            &Parts {
                shared: &|_, _| true,
                when: true,
                score: true,
                texts: true,
            },
        );
        compiled.push(rule);
    }
    Ok((compiled, explains_spans, reads))
}

fn compile_rule(
    names: &SnapshotNames,
    logs: &LogNames,
    source: &Source,
    raw: RawRule,
) -> Result<Rule, RuleError> {
    check_requires(names, source, &raw.requires)?;
    let mut c = Compiler::new(names, logs, source, Vec::new(), String::new());
    let lets = c.lets(&raw.lets, &[])?;
    let grouped = !raw.groups.is_empty();
    let mut notes = Vec::new();
    // Each group's own lets with their types, for the names every group defines.
    let mut group_scopes: Vec<Vec<Binding>> = Vec::new();
    let groups = if grouped {
        let mut groups = Vec::with_capacity(raw.groups.len());
        for g in &raw.groups {
            let (group, scope, group_notes) =
                compile_group(names, logs, source, &lets, &c.scope, g)?;
            groups.push(group);
            group_scopes.push(scope);
            notes.extend(group_notes);
        }
        groups
    } else {
        // Checked by `rules::parse`: without `[[from]]` both are there.
        let (Some(when), Some(score)) = (&raw.when, &raw.score) else {
            return Err(rules::at(source, 0, "missing field `when`".into()));
        };
        let when = c.expression("when", when)?;
        let score = c.expression("score", score)?;
        let shared_for_when = needed(&lets, names_read(&when.program));
        vec![Group {
            name: "rule".to_owned(),
            requires: Vec::new(),
            lets: Vec::new(),
            when,
            score,
            summary: None,
            fix: None,
            evidence: Vec::new(),
            shared_for_when,
            when_needs: Vec::new(),
            // As before groups: a firing rule whose lets do not all evaluate is not checked.
            shared_for_score: vec![true; lets.len()],
        }]
    };
    // The rule's own text and evidence are shown in the firing group's scope: besides the shared
    // lets they may read a name every group defines (each group's way to the same figure), of
    // any of the types the groups give it.
    let every_group: Vec<Binding> = group_scopes
        .first()
        .map(|first| {
            first
                .iter()
                .filter_map(|b| {
                    let mut ty = Ty::Never;
                    for scope in &group_scopes {
                        ty = ty.union(scope.iter().find(|m| m.name == b.name)?.ty.clone());
                    }
                    Some(Binding {
                        name: b.name.clone(),
                        ty,
                        origin: None,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    c.scope.extend(every_group);
    let summary = raw
        .summary
        .as_ref()
        .map(|t| c.template("summary", t))
        .transpose()?;
    let fix = raw.fix.as_ref().map(|t| c.template("fix", t)).transpose()?;
    let evidence = c.evidence(&raw.evidence)?;
    let mut all_notes = c.notes.into_inner();
    all_notes.extend(notes);
    Ok(Rule {
        id: raw.id.into_inner(),
        title: raw.title,
        layer: raw.layer,
        kind: raw.kind,
        requires: raw.requires.into_iter().map(Spanned::into_inner).collect(),
        lets,
        groups,
        grouped,
        summary,
        fix,
        thresholds: raw.severity.map(Spanned::into_inner).unwrap_or_default(),
        evidence,
        explains: raw.explains.into_iter().map(Spanned::into_inner).collect(),
        doc: source.doc.clone().or(raw.doc),
        path: source.path.clone(),
        builtin: source.builtin,
        notes: all_notes,
    })
}
/// One `[[from]]` group; its expressions see the rule's lets (`shared`, whose names and types
/// are `shared_scope`), then its own. Also gives its own lets' names and types, and the notes.
fn compile_group(
    names: &SnapshotNames,
    logs: &LogNames,
    source: &Source,
    shared: &[(String, Expr)],
    shared_scope: &[Binding],
    raw: &RawGroup,
) -> Result<(Group, Vec<Binding>, Vec<Note>), RuleError> {
    check_requires(names, source, &raw.requires)?;
    let mut c = Compiler::new(
        names,
        logs,
        source,
        shared_scope.to_vec(),
        format!("from[{}].", raw.name.get_ref()),
    );
    let lets = c.lets(&raw.lets, shared)?;
    let when = c.expression("when", &raw.when)?;
    let score = c.expression("score", &raw.score)?;
    // The rule's lets and the group's form one sequence: a let reads only those before it.
    let all: Vec<&(String, Expr)> = shared.iter().chain(&lets).collect();
    let for_when = needed_of(&all, names_read(&when.program));
    let mut for_score = names_read(&score.program);
    for (_, e) in &lets {
        for_score.extend(names_read(&e.program));
    }
    let for_score = needed_of(&all, for_score);
    let summary = raw
        .summary
        .as_ref()
        .map(|t| c.template("summary", t))
        .transpose()?;
    let fix = raw.fix.as_ref().map(|t| c.template("fix", t)).transpose()?;
    let evidence = c.evidence(&raw.evidence)?;
    let own = c.scope[shared_scope.len()..].to_vec();
    let group = Group {
        name: raw.name.get_ref().clone(),
        requires: raw.requires.iter().map(|r| r.get_ref().clone()).collect(),
        shared_for_when: for_when[..shared.len()].to_vec(),
        when_needs: for_when[shared.len()..].to_vec(),
        shared_for_score: for_score[..shared.len()].to_vec(),
        lets,
        when,
        score,
        summary,
        fix,
        evidence,
    };
    Ok((group, own, c.notes.into_inner()))
}

/// Which of `lets` the names in `wanted` need, directly or through the lets they read.
fn needed(lets: &[(String, Expr)], wanted: BTreeSet<&str>) -> Vec<bool> {
    needed_of(&lets.iter().collect::<Vec<_>>(), wanted)
}

/// `needed` over lets in order, where a let reads only those before it: back to front.
fn needed_of<'e>(lets: &[&'e (String, Expr)], mut wanted: BTreeSet<&'e str>) -> Vec<bool> {
    let mut out = vec![false; lets.len()];
    for (i, (name, expr)) in lets.iter().enumerate().rev() {
        if wanted.contains(name.as_str()) {
            out[i] = true;
            wanted.extend(names_read(&expr.program));
        }
    }
    out
}

/// The CEL environment rules are compiled for: the standard library plus cel-go's strings
/// extension (cel 0.15 `extensions::strings`: `list.join(sep)`, `s.lowerAscii()`, `s.split(sep)`,
/// ...), so a rule can write a list of names as one line of text.
///
/// # Panics
/// If the extension's declarations clash with the standard library's, which the catalogue tests
/// would show at once.
#[must_use]
pub fn environment() -> Env {
    let mut env = Env::stdlib();
    env.add_extension(cel::extensions::strings)
        .expect("cel's strings extension declares cleanly over its standard library");
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "title = \"t\"\nlayer = \"cpu\"\nkind = \"root-cause\"\nsummary = \"s\"\nfix = \"f\"\n";

    fn compile(text: &str) -> Result<Catalogue, RuleError> {
        Catalogue::from_sources(&[Source {
            path: "d/x.toml".into(),
            text: format!("id = \"x\"\n{BASE}{text}"),
            doc: None,
            builtin: false,
        }])
    }

    #[test]
    fn requires_and_explains_are_checked() {
        let e = compile("when = \"true\"\nscore = \"1\"\nrequires = [\"mysqlx\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`mysqlx`, which is not a snapshot section"),
            "{e}"
        );
        let e = compile("when = \"true\"\nscore = \"1\"\nexplains = [\"nope\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("d/x.toml:9:"), "{e}");
        assert!(e.contains("`nope`, which is not a rule"), "{e}");
        let e = compile("when = \"true\"\nscore = \"1\"\nexplains = [\"x\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`x` cannot explain itself"), "{e}");
    }
}
