//! Figure files → compiled [`FigureDef`]s, with the rules' compiler and the rules' path check:
//! a figure reading a name the snapshot lacks is refused at load with its `file:line:column`,
//! exactly as a rule is.

use super::expression::{
    Compiler, EXTRA_FUNCTIONS, Expr, Note, SnapshotNames, Template, check_requires, placeholders,
};
use super::paths::{Binding, LogNames, Ty};
use crate::engine::Layer;
use crate::engine::figures::{self, Format, RawFigure};
use crate::engine::rules::{RuleError, Source, at};
use crate::engine::view::Reads;
use toml::Spanned;

/// The name `text` reads the figure's value by.
pub const VALUE: &str = "value";

/// One figure, compiled.
#[derive(Debug)]
pub struct FigureDef {
    pub layer: Layer,
    pub label: Template,
    /// Sections that must be `ok`.
    pub requires: Vec<String>,
    pub each: Option<Each>,
    pub lets: Vec<(String, Expr)>,
    pub expr: Expr,
    pub when: Option<Expr>,
    pub format: Format,
    pub unit: String,
    pub text: Option<Template>,
    /// The file it was read from.
    pub path: String,
    /// What the load-time check said without refusing the figure (a likely typo of a kernel
    /// counter is a warning, said at every load as a rule's is).
    pub notes: Vec<Note>,
}

/// How a figure goes through a list.
#[derive(Debug)]
pub struct Each {
    pub list: Expr,
    /// The name each item is bound to.
    pub name: String,
    pub key: Option<Expr>,
    pub order_by: Option<Expr>,
    pub limit: Option<usize>,
}

impl FigureDef {
    /// Every expression of the figure.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        let each = self.each.iter().flat_map(|e| {
            std::iter::once(&e.list)
                .chain(e.key.as_ref())
                .chain(e.order_by.as_ref())
        });
        each.chain(self.lets.iter().map(|(_, e)| e))
            .chain([&self.expr])
            .chain(self.when.as_ref())
            .chain(placeholders(Some(&self.label)))
            .chain(placeholders(self.text.as_ref()))
    }
}

/// Compiles the figure files in order, and records what they read.
pub(super) fn compile(
    names: &SnapshotNames,
    logs: &LogNames,
    sources: &[Source],
) -> Result<(Vec<FigureDef>, Reads), RuleError> {
    let mut out = Vec::new();
    let mut reads = Reads::default();
    for source in sources {
        for (i, raw) in figures::parse(source)?.figures.iter().enumerate() {
            let figure = figure(names, logs, source, i, raw)?;
            for expr in figure.exprs() {
                reads.record(&expr.program, &|name| names.is_known(name));
            }
            out.push(figure);
        }
    }
    Ok((out, reads))
}

fn figure(
    names: &SnapshotNames,
    logs: &LogNames,
    source: &Source,
    i: usize,
    raw: &RawFigure,
) -> Result<FigureDef, RuleError> {
    check_requires(names, source, &raw.requires)?;
    let mut c = Compiler::new(names, logs, source, Vec::new(), format!("figure[{i}]."));
    let each = match (&raw.for_each, &raw.name) {
        (Some(list), Some(name)) => {
            let (list, ty) = c.typed_expression("for_each", list)?;
            free_name(names, source, i, name)?;
            let item = item_of(&ty);
            c.scope.push(Binding {
                name: name.get_ref().clone(),
                ty: item,
                origin: None,
            });
            let optional = |key: &str, e: &Option<Spanned<String>>| {
                e.as_ref().map(|e| c.expression(key, e)).transpose()
            };
            Some(Each {
                list,
                name: name.get_ref().clone(),
                key: optional("key", &raw.key)?,
                order_by: optional("order_by", &raw.order_by)?,
                limit: raw.limit.as_ref().map(|l| *l.get_ref()),
            })
        }
        // `figures::parse` checks that the two come together.
        _ => None,
    };
    // `expr` is what a rule would read: the snapshot and the item, not the lets.
    let (expr, ty) = c.typed_expression("expr", &raw.expr)?;
    if let Some(name) = raw.lets.keys().find(|n| n.as_str() == VALUE) {
        return Err(at(
            source,
            raw.lets[name].span().start,
            format!(
                "`figure[{i}].let.{VALUE}` hides the figure's value, which `text` reads as `{VALUE}`; rename it"
            ),
        ));
    }
    let lets = c.lets(&raw.lets, &[])?;
    c.scope.push(Binding {
        name: VALUE.to_owned(),
        ty,
        origin: None,
    });
    let when = raw
        .when
        .as_ref()
        .map(|w| c.expression("when", w))
        .transpose()?;
    let label = c.template("label", &raw.label)?;
    let text = raw
        .text
        .as_ref()
        .map(|t| c.template("text", t))
        .transpose()?;
    Ok(FigureDef {
        layer: raw.layer,
        label,
        requires: raw.requires.iter().map(|r| r.get_ref().clone()).collect(),
        each,
        lets,
        expr,
        when,
        format: raw
            .format
            .as_ref()
            .map(|f| *f.get_ref())
            .unwrap_or_default(),
        unit: raw
            .unit
            .as_ref()
            .map(|u| u.get_ref().clone())
            .unwrap_or_default(),
        text,
        path: source.path.clone(),
        notes: c.notes.into_inner(),
    })
}

/// An item's name may not hide a snapshot name or a function, nor be `value`.
fn free_name(
    names: &SnapshotNames,
    source: &Source,
    i: usize,
    name: &Spanned<String>,
) -> Result<(), RuleError> {
    let n = name.get_ref();
    let valid = n
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let problem = if !valid {
        Some("is not a CEL name (letters, digits and `_`)".to_owned())
    } else if names.is_known(n) || EXTRA_FUNCTIONS.contains(&n.as_str()) || n == VALUE {
        Some("hides a snapshot section, a function or the figure's `value`; rename it".to_owned())
    } else {
        None
    };
    match problem {
        Some(p) => Err(at(
            source,
            name.span().start,
            format!("`figure[{i}].as`: `{n}` {p}"),
        )),
        None => Ok(()),
    }
}

/// The type of an item of a list of type `ty`; a map's items are its keys.
fn item_of(ty: &Ty) -> Ty {
    let mut item = Ty::Never;
    for m in ty.members() {
        if let Some(t) = m.as_list() {
            item = item.union(t);
        } else if m.as_map().is_some() || matches!(m, Ty::Object(_) | Ty::Record(_)) {
            item = item.union(Ty::Str);
        } else if !matches!(m, Ty::Null | Ty::Never) {
            item = item.union(Ty::Dyn);
        }
    }
    item
}
