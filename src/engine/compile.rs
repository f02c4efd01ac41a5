//! Raw rule files → the validated, compiled [`Catalogue`], once at start-up.
//!
//! Every CEL expression is compiled here, and every name it reads is checked against the
//! snapshot's sections (taken from the snapshot's own JSON Schema, so a new section is known as
//! soon as it is added) and the rule's `let` names. A typo is an error naming the file, the line
//! and the key, not a rule that silently never fires.

use super::rules::{self, RawEvidence, RawGroup, RawRule, RuleError, Source, Thresholds};
use super::view::Reads;
use super::{Kind, Layer, Severity};
use cel::Env;
use cel::common::ast::{EntryExpr, Expr as Ast, IdedExpr};
use indexmap::IndexMap;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use toml::Spanned;

/// Top-level snapshot fields that are not collector sections but may be read by rules.
const FACTS: &[&str] = &["schema", "doctor_version", "host", "window", "overhead"];

/// Functions doctor adds to CEL's standard library (see `eval::functions`).
pub const EXTRA_FUNCTIONS: &[&str] = &["max", "min", "clamp", "ramp", "sum", "take", "fmt"];

/// A compiled CEL expression and the text it came from.
#[derive(Debug)]
pub struct Expr {
    pub source: String,
    pub program: IdedExpr,
}

/// Parses CEL with the standard macros and the optional syntax (`x.?y`, `m[?'k']`), as
/// `Env::stdlib().compile` does, but with cel's Pratt parser: it builds the same AST (the
/// catalogue test compares the two parsers on every built-in expression) some 20 times faster
/// than the ANTLR one, which matters because parsing is most of doctor's start-up cost
/// (`benches/analyze.sh`). cel 0.15, `src/parser/pratt_parser.rs`, feature `parser_pratt`.
pub fn parse_cel(text: &str) -> Result<IdedExpr, cel::ParseErrors> {
    cel::parser::PrattParser::new()
        .enable_optional_syntax(true)
        .parse(text)
}

/// Text with `{{expr}}` placeholders.
#[derive(Debug)]
pub struct Template {
    /// The text as written.
    pub source: String,
    pub parts: Vec<Part>,
}

#[derive(Debug)]
pub enum Part {
    Text(String),
    Expr(Expr),
}

#[derive(Debug)]
pub struct EvidenceDef {
    pub label: String,
    pub expr: Expr,
    pub threshold: Option<String>,
}

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

/// The expressions of a template's `{{...}}` placeholders.
fn placeholders(t: Option<&Template>) -> impl Iterator<Item = &Expr> {
    t.into_iter().flat_map(|t| {
        t.parts.iter().filter_map(|p| match p {
            Part::Expr(e) => Some(e),
            Part::Text(_) => None,
        })
    })
}

/// All rules, compiled, sorted by id, with the CEL environment they were compiled for.
pub struct Catalogue {
    pub rules: Vec<Rule>,
    pub env: Arc<Env>,
    /// The parts of the snapshot the rules read: only those are turned into CEL values.
    pub reads: Reads,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

impl Catalogue {
    /// The built-in rules, plus those of `dir` (a rule with a built-in rule's id replaces it).
    pub fn load(dir: Option<&Path>) -> Result<Self, RuleError> {
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
        Self::from_sources(&sources)
    }

    /// Compiles the given sources and checks the catalogue as a whole (`explains` targets).
    ///
    /// The two halves of the sources are compiled side by side: compiling is most of
    /// `doctor analyze`'s time and each rule needs nothing from the others
    /// (`benches/analyze.sh`). Errors are still reported for the first bad file in order.
    pub fn from_sources(sources: &[Source]) -> Result<Self, RuleError> {
        let env = Arc::new(Env::stdlib());
        let names = SnapshotNames::new();
        let (first, second) = sources.split_at(sources.len() / 2);
        let (a, b) = std::thread::scope(|scope| {
            let b = scope.spawn(|| compile_sources(&names, second));
            (compile_sources(&names, first), b.join())
        });
        let b = b.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let (mut compiled, mut explains_spans, mut reads) = a?;
        let (more, more_spans, more_reads) = b?;
        compiled.extend(more);
        explains_spans.extend(more_spans);
        reads.merge(more_reads);
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
                    (_, Some(Kind::RootCause)) => Some(format!(
                        "`explains` names `{target}`, which is a root cause, not a symptom"
                    )),
                    (_, Some(Kind::Symptom)) => None,
                };
                if let Some(problem) = problem {
                    return Err(rules::at(source, *offset, problem));
                }
            }
        }
        Ok(Catalogue {
            rules: compiled,
            env,
            reads,
        })
    }

    #[must_use]
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// Where each rule's `explains` targets are written, to point at a bad one.
type ExplainsSpans<'a> = BTreeMap<String, (&'a Source, Vec<(String, usize)>)>;

/// Compiles `sources` in order, stopping at the first error, and records what they read.
fn compile_sources<'a>(
    names: &SnapshotNames,
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
        let rule = compile_rule(names, source, raw)?;
        for expr in rule.exprs() {
            reads.record(&expr.program, &|name| names.is_known(name));
        }
        compiled.push(rule);
    }
    Ok((compiled, explains_spans, reads))
}

/// The names a rule may read: the snapshot's top-level fields.
struct SnapshotNames {
    sections: BTreeSet<String>,
}

impl SnapshotNames {
    fn new() -> Self {
        SnapshotNames {
            sections: section_names(),
        }
    }

    fn is_known(&self, name: &str) -> bool {
        self.sections.contains(name) || FACTS.contains(&name)
    }

    fn list(&self) -> String {
        self.sections
            .iter()
            .map(String::as_str)
            .chain(FACTS.iter().copied())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The snapshot's collector sections, as [`Snapshot::collectors`] lists them: read off an empty
/// snapshot (every section defaults to "not collected"), so a section added to the snapshot is
/// known to the rules at once. (Cheaper than generating the JSON Schema at every start.)
///
/// # Panics
/// If the host facts gain a required field that the empty snapshot here lacks; every test that
/// loads rules would show it.
#[must_use]
pub fn section_names() -> BTreeSet<String> {
    let empty = serde_json::json!({
        "schema": crate::snapshot::SCHEMA_VERSION,
        "doctor_version": "",
        "host": {"hostname": "", "kernel": "", "cpus": 0, "memory_bytes": 0, "uptime_s": 0.0},
        "window": {"start": "", "start_unix_ms": 0, "requested_ms": 0, "elapsed_ms": 0.0},
        "overhead": {"cpu_ms": 0.0, "max_rss_bytes": 0, "wall_ms": 0.0},
    });
    let snapshot: crate::snapshot::Snapshot =
        serde_json::from_value(empty).expect("the empty snapshot matches the snapshot types");
    snapshot
        .collectors()
        .into_iter()
        .map(|c| c.name.to_owned())
        .collect()
}

fn compile_rule(names: &SnapshotNames, source: &Source, raw: RawRule) -> Result<Rule, RuleError> {
    check_requires(names, source, &raw.requires)?;
    let mut c = Compiler {
        names,
        source,
        scope: Vec::new(),
        prefix: String::new(),
    };
    let lets = c.lets(&raw.lets, &[])?;
    let summary = raw
        .summary
        .as_ref()
        .map(|t| c.template("summary", t))
        .transpose()?;
    let fix = raw.fix.as_ref().map(|t| c.template("fix", t)).transpose()?;
    let evidence = c.evidence(&raw.evidence)?;
    let grouped = !raw.groups.is_empty();
    let groups = if grouped {
        raw.groups
            .iter()
            .map(|g| compile_group(names, source, &lets, g))
            .collect::<Result<Vec<_>, _>>()?
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
    })
}
fn check_requires(
    names: &SnapshotNames,
    source: &Source,
    requires: &[Spanned<String>],
) -> Result<(), RuleError> {
    for r in requires {
        if !names.sections.contains(r.get_ref()) {
            return Err(rules::at(
                source,
                r.span().start,
                format!(
                    "`requires` names `{}`, which is not a snapshot section; sections are: {}",
                    r.get_ref(),
                    names
                        .sections
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// One `[[from]]` group; its expressions see the rule's lets (`shared`), then its own.
fn compile_group(
    names: &SnapshotNames,
    source: &Source,
    shared: &[(String, Expr)],
    raw: &RawGroup,
) -> Result<Group, RuleError> {
    check_requires(names, source, &raw.requires)?;
    let mut c = Compiler {
        names,
        source,
        scope: shared.iter().map(|(n, _)| n.clone()).collect(),
        prefix: format!("from[{}].", raw.name.get_ref()),
    };
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
    Ok(Group {
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
    })
}

/// Which of `lets` the names in `wanted` need, directly or through the lets they read.
fn needed(lets: &[(String, Expr)], wanted: BTreeSet<String>) -> Vec<bool> {
    needed_of(&lets.iter().collect::<Vec<_>>(), wanted)
}

/// `needed` over lets in order, where a let reads only those before it: back to front.
fn needed_of(lets: &[&(String, Expr)], mut wanted: BTreeSet<String>) -> Vec<bool> {
    let mut out = vec![false; lets.len()];
    for (i, (name, expr)) in lets.iter().enumerate().rev() {
        if wanted.contains(name) {
            out[i] = true;
            wanted.extend(names_read(&expr.program));
        }
    }
    out
}

/// Where a string value's content starts in the file: after its opening quotes, and after the
/// newline TOML drops right after `'''` or `"""`.
fn content_start(source: &Source, span_start: usize) -> (usize, usize) {
    let rest = &source.text[span_start.min(source.text.len())..];
    let quotes = if rest.starts_with("'''") || rest.starts_with("\"\"\"") {
        3
    } else {
        1
    };
    let mut start = span_start + quotes;
    let after = &source.text[start.min(source.text.len())..];
    if quotes == 3 {
        if after.starts_with("\r\n") {
            start += 2;
        } else if after.starts_with('\n') {
            start += 1;
        }
    }
    rules::line_col(&source.text, start)
}

/// Compiles the expressions of one rule file; `scope` holds the `let` names defined so far.
struct Compiler<'a> {
    names: &'a SnapshotNames,
    source: &'a Source,
    scope: Vec<String>,
    /// Put before the keys named in errors: `from[<group name>].` within a group.
    prefix: String,
}

impl Compiler<'_> {
    fn expression(&self, key: &str, value: &Spanned<String>) -> Result<Expr, RuleError> {
        self.compile_at(key, value.get_ref(), value, 0)
    }

    /// Compiles `lets` in order, each one's name in scope for those after it. A name may not
    /// hide a snapshot section, a function or one of `shared` (the rule's lets, for a group).
    fn lets(
        &mut self,
        lets: &IndexMap<String, Spanned<String>>,
        shared: &[(String, Expr)],
    ) -> Result<Vec<(String, Expr)>, RuleError> {
        let mut out = Vec::with_capacity(lets.len());
        for (name, expr) in lets {
            let hidden = if self.names.is_known(name) || EXTRA_FUNCTIONS.contains(&name.as_str()) {
                Some("a snapshot section or function")
            } else if shared.iter().any(|(n, _)| n == name) {
                Some("the rule's own `let`")
            } else {
                None
            };
            if let Some(hidden) = hidden {
                return Err(rules::at(
                    self.source,
                    expr.span().start,
                    format!(
                        "`{}let.{name}` hides {hidden} of that name; rename it",
                        self.prefix
                    ),
                ));
            }
            let compiled = self.expression(&format!("let.{name}"), expr)?;
            out.push((name.clone(), compiled));
            self.scope.push(name.clone());
        }
        Ok(out)
    }

    fn evidence(&self, evidence: &[RawEvidence]) -> Result<Vec<EvidenceDef>, RuleError> {
        evidence
            .iter()
            .enumerate()
            .map(|(i, e)| {
                Ok(EvidenceDef {
                    label: e.label.clone(),
                    expr: self.expression(&format!("evidence[{i}].expr"), &e.expr)?,
                    threshold: e.threshold.clone(),
                })
            })
            .collect()
    }

    /// Compiles `text`, written at byte `offset_in_value` of the string value `value`.
    fn compile_at(
        &self,
        key: &str,
        text: &str,
        value: &Spanned<String>,
        offset_in_value: usize,
    ) -> Result<Expr, RuleError> {
        let source = self.source;
        // Only for an error: finding the line and column scans the file up to the expression.
        let locate = |line: usize, col: usize| -> (usize, usize) {
            let (line0, col0) = content_start(source, value.span().start);
            let before = &value.get_ref()[..offset_in_value.min(value.get_ref().len())];
            let extra_lines = before.matches('\n').count();
            let last_col = before.rsplit('\n').next().map_or(0, |l| l.chars().count());
            // CEL positions are 1-based within `text`.
            let line_in_file = line0 + extra_lines + line.saturating_sub(1);
            let column = match (line <= 1, extra_lines == 0) {
                (true, true) => col0 + last_col + col.saturating_sub(1),
                (true, false) => last_col + col,
                (false, _) => col,
            };
            (line_in_file, column)
        };
        let program = parse_cel(text).map_err(|errors| {
            let first = errors.errors.first();
            let (line, col) = first.map_or((1, 1), |e| {
                (
                    usize::try_from(e.pos.0).unwrap_or(1),
                    usize::try_from(e.pos.1).unwrap_or(1),
                )
            });
            let (line, column) = locate(line, col);
            RuleError::At {
                path: source.path.clone(),
                line,
                column,
                problem: format!(
                    "`{}{key}`: {}",
                    self.prefix,
                    first.map_or_else(|| "invalid expression".to_owned(), |e| e.msg.clone())
                ),
            }
        })?;
        let mut unknown = BTreeSet::new();
        free_variables(&program, &mut Vec::new(), &mut |name| {
            if !self.names.is_known(name) && !self.scope.iter().any(|s| s == name) {
                unknown.insert(name.to_owned());
            }
        });
        if let Some(name) = unknown.into_iter().next() {
            let (line, column) = locate(1, 1);
            let lets = if self.scope.is_empty() {
                String::new()
            } else {
                format!("; `let` names before it: {}", self.scope.join(", "))
            };
            return Err(RuleError::At {
                path: source.path.clone(),
                line,
                column,
                problem: format!(
                    "`{}{key}` reads `{name}`, which is not in the snapshot; names are: {}{lets}",
                    self.prefix,
                    self.names.list()
                ),
            });
        }
        Ok(Expr {
            source: text.trim().to_owned(),
            program,
        })
    }

    /// Splits `text {{expr}} text` and compiles each placeholder.
    fn template(&self, key: &str, value: &Spanned<String>) -> Result<Template, RuleError> {
        let text = value.get_ref();
        let mut parts = Vec::new();
        let mut pos = 0;
        while let Some(open) = text[pos..].find("{{").map(|i| pos + i) {
            if open > pos {
                parts.push(Part::Text(text[pos..open].to_owned()));
            }
            let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
                let (line, column) = content_start(self.source, value.span().start);
                let extra = text[..open].matches('\n').count();
                return Err(RuleError::At {
                    path: self.source.path.clone(),
                    line: line + extra,
                    column: if extra == 0 { column } else { 1 },
                    problem: format!("`{}{key}`: `{{{{` without a closing `}}}}`", self.prefix),
                });
            };
            let inner = &text[open + 2..close];
            parts.push(Part::Expr(self.compile_at(key, inner, value, open + 2)?));
            pos = close + 2;
        }
        if pos < text.len() {
            parts.push(Part::Text(text[pos..].to_owned()));
        }
        Ok(Template {
            source: text.clone(),
            parts,
        })
    }
}

/// Every free name an expression reads.
fn names_read(e: &IdedExpr) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    free_variables(e, &mut Vec::new(), &mut |n| {
        out.insert(n.to_owned());
    });
    out
}

/// Calls `found` with every identifier the expression reads that is not bound by a
/// comprehension (`exists(d, ...)`, `map(x, ...)`) around it.
fn free_variables(e: &IdedExpr, bound: &mut Vec<String>, found: &mut dyn FnMut(&str)) {
    match &e.expr {
        Ast::Ident(name) => {
            if !name.starts_with('@') && !bound.iter().any(|b| b == name) {
                found(name);
            }
        }
        Ast::Call(call) => {
            if let Some(t) = &call.target {
                free_variables(t, bound, found);
            }
            for a in &call.args {
                free_variables(a, bound, found);
            }
        }
        Ast::Comprehension(c) => {
            free_variables(&c.iter_range, bound, found);
            free_variables(&c.accu_init, bound, found);
            let n = bound.len();
            bound.push(c.iter_var.clone());
            if let Some(v) = &c.iter_var2 {
                bound.push(v.clone());
            }
            bound.push(c.accu_var.clone());
            free_variables(&c.loop_cond, bound, found);
            free_variables(&c.loop_step, bound, found);
            free_variables(&c.result, bound, found);
            bound.truncate(n);
        }
        Ast::List(l) => {
            for x in &l.elements {
                free_variables(x, bound, found);
            }
        }
        Ast::Map(m) => {
            for entry in &m.entries {
                match &entry.expr {
                    EntryExpr::StructField(f) => free_variables(&f.value, bound, found),
                    EntryExpr::MapEntry(me) => {
                        free_variables(&me.key, bound, found);
                        free_variables(&me.value, bound, found);
                    }
                }
            }
        }
        Ast::Select(s) => free_variables(&s.operand, bound, found),
        Ast::Struct(s) => {
            for entry in &s.entries {
                if let EntryExpr::StructField(f) = &entry.expr {
                    free_variables(&f.value, bound, found);
                }
            }
        }
        Ast::Literal(_) | Ast::Unspecified => {}
    }
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
    fn sections_come_from_the_snapshot() {
        let s = section_names();
        let schema = serde_json::to_value(crate::snapshot::json_schema()).unwrap();
        let from_schema: BTreeSet<String> = schema["properties"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| v.to_string().contains("Section_"))
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(
            s, from_schema,
            "collectors() lists every section of the schema"
        );
        for name in [
            "cpu",
            "memory",
            "disks",
            "tcp",
            "listeners",
            "processes",
            "pressure",
        ] {
            assert!(s.contains(name), "{name} missing from {s:?}");
        }
        assert!(!s.contains("host"));
    }

    #[test]
    fn cel_syntax_error_names_file_line_and_key() {
        let e = compile("when = \"cpu.busy_pct >\"\nscore = \"1\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("d/x.toml:7:"), "{e}");
        assert!(e.contains("`when`: Syntax error"), "{e}");
    }

    #[test]
    fn error_in_a_multiline_expression_points_at_its_line() {
        let e = compile("when = '''\ncpu.busy_pct > 1 &&\n  cpu.idle_pct <\n'''\nscore = \"1\"\n")
            .unwrap_err()
            .to_string();
        // The expression ends, unfinished, on its second line: file line 9.
        assert!(e.starts_with("d/x.toml:9:"), "{e}");
    }

    #[test]
    fn unknown_name_is_an_error() {
        let e = compile("when = \"cpux.busy_pct > 1.0\"\nscore = \"1\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("d/x.toml:7:"), "{e}");
        assert!(e.contains("`when` reads `cpux`"), "{e}");
        // Comprehension variables and `let` names are fine.
        compile("when = \"disks.devices.exists(d, d.util_pct > 1.0) && n > 0.0\"\nscore = \"1\"\n[let]\nn = \"cpu.cores\"\n")
            .unwrap();
    }

    #[test]
    fn placeholders_are_compiled() {
        let e = Catalogue::from_sources(&[Source {
            path: "d/x.toml".into(),
            text: "id = \"x\"\ntitle = \"t\"\nlayer = \"cpu\"\nkind = \"root-cause\"\nsummary = \"s\"\nwhen = \"true\"\nscore = \"1\"\nfix = \"\"\"\nline one\nvalue {{cpu.}}\n\"\"\"\n".into(),
            doc: None,
            builtin: false,
        }])
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("d/x.toml:10:"), "{e}");
        assert!(e.contains("`fix`"), "{e}");
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
    }
}
