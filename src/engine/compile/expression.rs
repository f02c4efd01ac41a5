//! The CEL text of one rule file compiled: expressions, `let` tables, evidence and `{{...}}`
//! templates, every name they read checked against the snapshot's names and the `let` names in
//! scope, every error placed at `file:line:column` with toml's spans.

use crate::engine::rules::{self, RawEvidence, RuleError, Source};
use cel::common::ast::{EntryExpr, Expr as Ast, IdedExpr};
use indexmap::IndexMap;
use std::collections::BTreeSet;
use toml::Spanned;

/// Top-level snapshot fields that are not collector sections but may be read by rules.
const FACTS: &[&str] = &["schema", "doctor_version", "host", "window", "overhead"];

/// Functions doctor adds to CEL's standard library (see `expr::functions`).
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

/// The names a rule may read: the snapshot's top-level fields.
pub(super) struct SnapshotNames {
    pub(super) sections: BTreeSet<String>,
}

impl SnapshotNames {
    pub(super) fn new() -> Self {
        SnapshotNames {
            sections: section_names(),
        }
    }

    pub(super) fn is_known(&self, name: &str) -> bool {
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
pub(super) struct Compiler<'a> {
    pub(super) names: &'a SnapshotNames,
    pub(super) source: &'a Source,
    pub(super) scope: Vec<String>,
    /// Put before the keys named in errors: `from[<group name>].` within a group.
    pub(super) prefix: String,
}

impl Compiler<'_> {
    pub(super) fn expression(&self, key: &str, value: &Spanned<String>) -> Result<Expr, RuleError> {
        self.compile_at(key, value.get_ref(), value, 0)
    }

    /// Compiles `lets` in order, each one's name in scope for those after it. A name may not
    /// hide a snapshot section, a function or one of `shared` (the rule's lets, for a group).
    pub(super) fn lets(
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

    pub(super) fn evidence(&self, evidence: &[RawEvidence]) -> Result<Vec<EvidenceDef>, RuleError> {
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
    pub(super) fn template(
        &self,
        key: &str,
        value: &Spanned<String>,
    ) -> Result<Template, RuleError> {
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
pub(super) fn names_read(e: &IdedExpr) -> BTreeSet<String> {
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
    use crate::engine::compile::Catalogue;

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
}
