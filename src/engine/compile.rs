//! Raw rule files → the validated, compiled [`Catalogue`], once at start-up.
//!
//! Every CEL expression is compiled here, and every name it reads is checked against the
//! snapshot's sections (taken from the snapshot's own JSON Schema, so a new section is known as
//! soon as it is added) and the rule's `let` names. A typo is an error naming the file, the line
//! and the key, not a rule that silently never fires.

use super::rules::{self, RawRule, RuleError, Source, Thresholds};
use super::view::Reads;
use super::{Kind, Layer, Severity};
use cel::Env;
use cel::common::ast::{EntryExpr, Expr as Ast, IdedExpr};
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
    pub requires: Vec<String>,
    pub lets: Vec<(String, Expr)>,
    /// Whether `when` needs each `let` (directly or through another): those are evaluated
    /// first, the others only when the rule fires.
    pub when_needs: Vec<bool>,
    pub when: Expr,
    pub score: Expr,
    pub summary: Template,
    pub fix: Template,
    pub thresholds: Thresholds,
    pub evidence: Vec<EvidenceDef>,
    pub explains: Vec<String>,
    pub doc: Option<String>,
    /// The file it was read from (`rules/<id>.toml` for built-in rules).
    pub path: String,
    pub builtin: bool,
}

impl Rule {
    /// Every expression of the rule: lets, `when`, `score`, evidence, placeholders.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        let placeholders = self.summary.parts.iter().chain(&self.fix.parts);
        self.lets
            .iter()
            .map(|(_, e)| e)
            .chain([&self.when, &self.score])
            .chain(self.evidence.iter().map(|e| &e.expr))
            .chain(placeholders.filter_map(|p| match p {
                Part::Expr(e) => Some(e),
                Part::Text(_) => None,
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
    for r in &raw.requires {
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
    let mut c = Compiler {
        names,
        source,
        scope: Vec::new(),
    };
    let mut lets = Vec::new();
    for (name, expr) in &raw.lets {
        if names.is_known(name) || EXTRA_FUNCTIONS.contains(&name.as_str()) {
            return Err(rules::at(
                source,
                expr.span().start,
                format!(
                    "`let.{name}` hides a snapshot section or function of that name; rename it"
                ),
            ));
        }
        let compiled = c.expression(&format!("let.{name}"), expr)?;
        lets.push((name.clone(), compiled));
        c.scope.push(name.clone());
    }
    let when = c.expression("when", &raw.when)?;
    // The lets `when` reads, and the lets those read, back to front.
    let mut when_needs = vec![false; lets.len()];
    let mut wanted = names_read(&when.program);
    for (i, (name, expr)) in lets.iter().enumerate().rev() {
        if wanted.contains(name) {
            when_needs[i] = true;
            wanted.extend(names_read(&expr.program));
        }
    }
    let score = c.expression("score", &raw.score)?;
    let summary = c.template("summary", &raw.summary)?;
    let fix = c.template("fix", &raw.fix)?;
    let evidence = raw
        .evidence
        .iter()
        .enumerate()
        .map(|(i, e)| {
            Ok(EvidenceDef {
                label: e.label.clone(),
                expr: c.expression(&format!("evidence[{i}].expr"), &e.expr)?,
                threshold: e.threshold.clone(),
            })
        })
        .collect::<Result<_, RuleError>>()?;
    Ok(Rule {
        id: raw.id.into_inner(),
        title: raw.title,
        layer: raw.layer,
        kind: raw.kind,
        requires: raw.requires.into_iter().map(Spanned::into_inner).collect(),
        lets,
        when_needs,
        when,
        score,
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
}

impl Compiler<'_> {
    fn expression(&self, key: &str, value: &Spanned<String>) -> Result<Expr, RuleError> {
        self.compile_at(key, value.get_ref(), value, 0)
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
                    "`{key}`: {}",
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
                    "`{key}` reads `{name}`, which is not in the snapshot; names are: {}{lets}",
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
                    problem: format!("`{key}`: `{{{{` without a closing `}}}}`"),
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
