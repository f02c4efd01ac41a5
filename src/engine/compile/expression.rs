//! The CEL text of one rule file compiled: expressions, `let` tables, evidence and `{{...}}`
//! templates, every name they read checked against the snapshot's schema and the `let` names in
//! scope (`paths`), every error placed at `file:line:column` with toml's spans.

use super::paths::{self, Binding, Level, LogNames, Ty};
use crate::engine::rules::{self, RawEvidence, RuleError, Source};
use cel::common::ast::{EntryExpr, Expr as Ast, IdedExpr};
use indexmap::IndexMap;
use std::cell::RefCell;
use std::collections::BTreeSet;
use toml::Spanned;

/// Functions doctor adds to CEL's standard library (see `expr::functions`).
pub const EXTRA_FUNCTIONS: &[&str] = &[
    "max",
    "min",
    "clamp",
    "ramp",
    "sum",
    "take",
    "fmt",
    "fmt_bytes",
    "fmt_duration",
    "fmt_fixed",
    "sorted",
];

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
    /// Sections and the other top-level fields (`host`, `window`, ...).
    all: BTreeSet<String>,
}

impl SnapshotNames {
    pub(super) fn new() -> Self {
        let sections = section_names();
        let mut all = sections.clone();
        all.extend(paths::facts().map(str::to_owned));
        SnapshotNames { sections, all }
    }

    pub(super) fn is_known(&self, name: &str) -> bool {
        self.all.contains(name)
    }
}

/// The snapshot's collector sections, from the snapshot's schema (its top-level objects that are
/// a collector's part), so a section added to the snapshot is known to the rules at once.
#[must_use]
pub fn section_names() -> BTreeSet<String> {
    paths::sections()
}

/// What the load-time check says of a rule without refusing it, placed like an error:
/// `file:line:column: key: text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Said on standard error at every load (a likely typo the check cannot be sure of), rather
    /// than only by `doctor rules explain`.
    pub warning: bool,
    pub text: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Where byte `value_offset` of a TOML string value is in its file, the value starting at
/// `span_start` (its opening quotes): after the quotes and the newline TOML drops right after
/// `'''` or `"""`, counting a basic string's escapes (`\\`, `\'`, `\u00e9`, a line-ending
/// backslash) as written.
fn file_offset(source: &Source, span_start: usize, value_offset: usize) -> usize {
    let text = &source.text;
    let span_start = span_start.min(text.len());
    let rest = &text[span_start..];
    let (quotes, basic) = if rest.starts_with("'''") {
        (3, false)
    } else if rest.starts_with("\"\"\"") {
        (3, true)
    } else {
        (1, rest.starts_with('"'))
    };
    let mut pos = (span_start + quotes).min(text.len());
    if quotes == 3 {
        if text[pos..].starts_with("\r\n") {
            pos += 2;
        } else if text[pos..].starts_with('\n') {
            pos += 1;
        }
    }
    if !basic {
        return (pos + value_offset).min(text.len());
    }
    let mut produced = 0;
    let mut chars = text[pos..].char_indices().peekable();
    while produced < value_offset {
        let Some((i, c)) = chars.next() else { break };
        if c != '\\' {
            produced += c.len_utf8();
            continue;
        }
        match chars.next() {
            Some((_, 'u')) => {
                let hex: String = (0..4)
                    .filter_map(|_| chars.next().map(|(_, h)| h))
                    .collect();
                produced += decoded_len(&hex);
            }
            Some((_, 'U')) => {
                let hex: String = (0..8)
                    .filter_map(|_| chars.next().map(|(_, h)| h))
                    .collect();
                produced += decoded_len(&hex);
            }
            Some((_, 'x')) => {
                let hex: String = (0..2)
                    .filter_map(|_| chars.next().map(|(_, h)| h))
                    .collect();
                produced += decoded_len(&hex);
            }
            // A line-ending backslash: the newline and the whitespace after it are dropped.
            Some((_, w)) if w.is_whitespace() => {
                while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some(_) => produced += 1,
            None => return pos + i,
        }
    }
    pos + chars.peek().map_or(text.len() - pos, |(i, _)| *i)
}

/// The UTF-8 length of the character a `\u` escape's hex digits stand for.
fn decoded_len(hex: &str) -> usize {
    u32::from_str_radix(hex, 16)
        .ok()
        .and_then(char::from_u32)
        .map_or(1, char::len_utf8)
}

/// The byte offset of 1-based `(line, column)` in `text`, the column counted in bytes as cel's
/// parser counts it.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut offset = (start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Compiles the expressions of one rule file; `scope` holds the `let` names defined so far,
/// with their types.
pub(super) struct Compiler<'a> {
    pub(super) names: &'a SnapshotNames,
    pub(super) logs: &'a LogNames,
    pub(super) source: &'a Source,
    pub(super) scope: Vec<Binding>,
    /// Put before the keys named in errors: `from[<group name>].` within a group.
    pub(super) prefix: String,
    /// What the check said without refusing the rule.
    pub(super) notes: RefCell<Vec<Note>>,
}

impl<'a> Compiler<'a> {
    pub(super) fn new(
        names: &'a SnapshotNames,
        logs: &'a LogNames,
        source: &'a Source,
        scope: Vec<Binding>,
        prefix: String,
    ) -> Self {
        Compiler {
            names,
            logs,
            source,
            scope,
            prefix,
            notes: RefCell::new(Vec::new()),
        }
    }

    pub(super) fn expression(&self, key: &str, value: &Spanned<String>) -> Result<Expr, RuleError> {
        self.typed_expression(key, value).map(|(e, _)| e)
    }

    /// [`expression`](Self::expression) and the type of its value, as far as the schema tells.
    pub(super) fn typed_expression(
        &self,
        key: &str,
        value: &Spanned<String>,
    ) -> Result<(Expr, Ty), RuleError> {
        self.compile_at(key, value.get_ref(), value, 0)
    }

    /// Compiles `lets` in order, each one's name in scope for those after it, with its type. A
    /// name may not hide a snapshot section, a function or one of `shared` (the rule's lets, for
    /// a group).
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
            let (compiled, ty) =
                self.compile_at(&format!("let.{name}"), expr.get_ref(), expr, 0)?;
            let origin = if self.source.builtin {
                None
            } else {
                paths::origin(&compiled.program, &compiled.source, &self.scope)
            };
            out.push((name.clone(), compiled));
            self.scope.push(Binding {
                name: name.clone(),
                ty,
                origin,
            });
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

    /// `file:line:column` of byte `offset` of the string value `value`.
    fn position(&self, value: &Spanned<String>, offset: usize) -> (usize, usize) {
        let at = file_offset(self.source, value.span().start, offset);
        rules::line_col(&self.source.text, at)
    }

    /// Compiles `text`, written at byte `offset_in_value` of the string value `value`, and checks
    /// every name it reads: the compiled expression and its type.
    fn compile_at(
        &self,
        key: &str,
        text: &str,
        value: &Spanned<String>,
        offset_in_value: usize,
    ) -> Result<(Expr, Ty), RuleError> {
        let source = self.source;
        let program = parse_cel(text).map_err(|errors| {
            let first = errors.errors.first();
            let (line, col) = first.map_or((1, 1), |e| {
                (
                    usize::try_from(e.pos.0).unwrap_or(1),
                    usize::try_from(e.pos.1).unwrap_or(1),
                )
            });
            let (line, column) = self.position(value, offset_in_value + offset_of(text, line, col));
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
        // The built-in rules and figures pass this check (`tests/catalogue.rs` compiles them
        // as a `--rules` folder's, checked, and finds nothing to say): it is a sixth of a
        // short command's time (`doctor diff`), spent on every start for nothing. The types
        // it gives only serve later checks.
        let (ty, problems) = if self.source.builtin {
            (paths::Ty::Dyn, Vec::new())
        } else {
            paths::check(&program, &self.scope, self.logs)
        };
        if !problems.is_empty() {
            // Rare: only now is the expression parsed again to find where each problem is.
            let mut placed: Vec<(Level, usize, String)> = problems
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let at = paths::locate(text, &self.scope, self.logs, i).unwrap_or(0);
                    (p.level, at, p.message.clone())
                })
                .collect();
            placed.sort_by_key(|(level, at, _)| (*level, *at));
            if let Some((Level::Error, at, message)) = placed.first() {
                let (line, column) = self.position(value, offset_in_value + at);
                return Err(RuleError::At {
                    path: source.path.clone(),
                    line,
                    column,
                    problem: format!("`{}{key}`: {message}", self.prefix),
                });
            }
            for (level, at, message) in placed {
                let (line, column) = self.position(value, offset_in_value + at);
                self.notes.borrow_mut().push(Note {
                    warning: level == Level::Warning,
                    text: format!(
                        "{}:{line}:{column}: `{}{key}`: {message}",
                        source.path, self.prefix
                    ),
                });
            }
        }
        Ok((
            Expr {
                source: text.trim().to_owned(),
                program,
            },
            ty,
        ))
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
                let (line, column) = self.position(value, open);
                return Err(RuleError::At {
                    path: self.source.path.clone(),
                    line,
                    column,
                    problem: format!("`{}{key}`: `{{{{` without a closing `}}}}`", self.prefix),
                });
            };
            let inner = &text[open + 2..close];
            let (expr, _) = self.compile_at(key, inner, value, open + 2)?;
            parts.push(Part::Expr(expr));
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

/// The expressions of a template's `{{...}}` placeholders.
pub(super) fn placeholders(t: Option<&Template>) -> impl Iterator<Item = &Expr> {
    t.into_iter().flat_map(|t| {
        t.parts.iter().filter_map(|p| match p {
            Part::Expr(e) => Some(e),
            Part::Text(_) => None,
        })
    })
}

/// Every section named in `requires` is one of the snapshot's.
pub(super) fn check_requires(
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

/// Every free name an expression reads (borrowed from it: this runs for every `when`, `score`
/// and `let` at every start).
pub(super) fn names_read(e: &IdedExpr) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    free_variables(e, &mut Vec::new(), &mut |n| {
        out.insert(n);
    });
    out
}

/// Calls `found` with every identifier the expression reads that is not bound by a
/// comprehension (`exists(d, ...)`, `map(x, ...)`) around it.
fn free_variables<'e>(e: &'e IdedExpr, bound: &mut Vec<&'e str>, found: &mut dyn FnMut(&'e str)) {
    match &e.expr {
        Ast::Ident(name) => {
            if !name.starts_with('@') && !bound.contains(&name.as_str()) {
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
            bound.push(&c.iter_var);
            if let Some(v) = &c.iter_var2 {
                bound.push(v);
            }
            bound.push(&c.accu_var);
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
        assert_eq!(
            e,
            "d/x.toml:7:9: `when`: `cpux` is not in the snapshot; did you mean `cpu`?"
        );
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
