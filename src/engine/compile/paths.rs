//! Every name a rule reads, checked against the snapshot's schema when the rules are compiled.
//!
//! A path that never resolves (`cpu.busy_pctt`, `mysql.global_status.Threads_conected`) does
//! not fail a rule: it makes it "not checked" on every snapshot, forever, which is what a rule
//! author must hear about at once. So each expression is walked with the type of every part:
//! through nested objects, `Option`s, lists (a comprehension variable has the list's element
//! type), maps (`m['k']`, `m[?'k']`, `m.k`), optional selection (`x.?y`), `has(x.y)`, and `let`
//! names (a `let` bound to `mysql.processlist` has that type). The types come from the
//! snapshot's own JSON Schema, turned into static data at build time ([`schema`]); the keys of
//! maps whose names are known ahead (kernel counters, server variables, log patterns) are checked
//! against lists ([`names`]); what the schema shows cannot work (arithmetic on a string field,
//! `size()` of a number) is an error too ([`infer`]).
//!
//! A problem points at the offending name inside the expression. cel's fast parser, which the
//! rules are compiled with, keeps no positions; its reference parser does, and builds the same
//! tree (`tests/catalogue.rs` compares them on every built-in expression). So only an expression
//! with a problem is parsed again, with the reference parser, and walked the same way: the
//! problem's node there has its offset.

mod distance;
mod infer;
mod names;
mod schema;
mod ty;

pub use names::LogNames;

pub(crate) use distance::nearest;
pub(crate) use infer::{Anchor, Binding, Level, Problem};
pub(crate) use ty::Ty;

use cel::common::ast::{Expr as Ast, IdedExpr};
use std::collections::BTreeSet;

/// The type of `program` and the problems found in it, in the scope of `lets`.
pub(crate) fn check(program: &IdedExpr, lets: &[Binding], logs: &LogNames) -> (Ty, Vec<Problem>) {
    let mut walk = infer::Infer::new(lets, logs);
    let ty = walk.expr(program);
    (ty, walk.problems)
}

/// The byte offset in `text` of problem number `index` of [`check`]'s answer for it: where its
/// name starts (a field after its dot, a key inside its quotes). `None` when the reference
/// parser does not build the same tree.
pub(crate) fn locate(text: &str, lets: &[Binding], logs: &LogNames, index: usize) -> Option<usize> {
    let (tree, info) = cel::parser::Parser::new()
        .enable_optional_syntax(true)
        .parse_with_source_info(text)
        .ok()?;
    let (_, problems) = check(&tree, lets, logs);
    let p = problems.get(index)?;
    let start = usize::try_from(info.offset_for(p.id)?.0).ok()?;
    let rest = text.get(start..)?;
    let skip = match &p.anchor {
        Anchor::Ident | Anchor::Node => 0,
        // At the dot (`.f`, `.?f`), or before the path (a `has()`): the next `.name`.
        Anchor::Field(name) => field_after(rest, name)?,
        // At the literal: past its prefix and quotes.
        Anchor::Key => {
            rest.len()
                - rest
                    .trim_start_matches(['r', 'R', 'b', 'B'])
                    .trim_start_matches(['\'', '"'])
                    .len()
        }
    };
    Some(start + skip)
}

/// Where in `text` the next selection of `name` starts (`.name`, `.?name`, `. name`): the
/// name's offset.
fn field_after(text: &str, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(dot) = text[from..].find('.').map(|i| from + i) {
        let after = &text[dot + 1..];
        let after = after.strip_prefix('?').unwrap_or(after).trim_start();
        let at = text.len() - after.len();
        let ends = after[name.len().min(after.len())..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if after.starts_with(name) && ends {
            return Some(at);
        }
        from = dot + 1;
    }
    None
}

/// What a `let` holds, for messages, when it is a path (`program`, written as `text`): `` `mysql.processlist` ``, a path
/// from another `let` written out from the snapshot (`` `mysql.processlist.idle_histogram` ``).
pub(crate) fn origin(program: &IdedExpr, text: &str, lets: &[Binding]) -> Option<String> {
    let mut cur = program;
    loop {
        match &cur.expr {
            Ast::Select(s) if !s.test => cur = &s.operand,
            Ast::Call(c) if c.target.is_none() && c.args.len() == 2 => match c.func_name.as_str() {
                cel::common::ast::operators::INDEX
                | cel::common::ast::operators::OPT_INDEX
                | cel::common::ast::operators::OPT_SELECT => cur = &c.args[0],
                _ => return None,
            },
            Ast::Ident(name) => {
                // The path as written (it is one, so its text is its rendering).
                let rest = text.strip_prefix(name.as_str())?;
                return Some(match lets.iter().find(|b| &b.name == name) {
                    Some(Binding {
                        origin: Some(o), ..
                    }) => format!("{}{rest}`", o.strip_suffix('`').unwrap_or(o)),
                    _ => format!("`{text}`"),
                });
            }
            _ => return None,
        }
    }
}

/// The snapshot's collector sections.
pub(crate) fn sections() -> BTreeSet<String> {
    schema::sections().map(str::to_owned).collect()
}

/// The snapshot's top-level names that are not sections (`host`, `window`, ...).
pub(crate) fn facts() -> impl Iterator<Item = &'static str> {
    let sections = sections();
    schema::object(schema::ROOT)
        .field_names()
        .filter(move |n| !sections.contains(*n))
}

#[cfg(test)]
mod tests;
