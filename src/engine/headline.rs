//! The headline figures of one snapshot: the catalogue's figures (`rules/figures/`) evaluated
//! with the values the rules see.
//!
//! A figure whose `requires` sections were not collected, whose `when` does not hold or cannot
//! be evaluated, is left out (the collectors list says why a section is missing). A value or a
//! placeholder that cannot be evaluated (a counter this kernel lacks) shows as `n/a`.

use super::compile::{Each, FigureDef, VALUE};
use super::expr::{compare, display, fmt_bytes, fmt_duration, number, render, run};
use super::figures::Format;
use super::outcome::Figure;
use crate::snapshot::Status;
use cel::{Context, Value};
use std::collections::HashMap;
use std::fmt::Write as _;

/// What one figure (or one item of it) has bound: the item, the `let` values that could be
/// evaluated and the figure's value, in that order.
type Bound = Vec<(String, Value)>;

/// Every figure of `defs` that applies to the snapshot in `root`, in order.
pub(super) fn figures(
    defs: &[FigureDef],
    root: &Context<'_, '_>,
    statuses: &HashMap<&str, (Status, Option<&str>)>,
) -> Vec<Figure> {
    let mut out = Vec::new();
    for def in defs {
        let collected = def.requires.iter().all(|s| {
            statuses
                .get(s.as_str())
                .is_some_and(|(st, _)| *st == Status::Ok)
        });
        if !collected {
            continue;
        }
        match &def.each {
            None => {
                if let Some(bound) = bind(def, root, Vec::new()) {
                    out.push(show(def, root, &bound, def.expr.source.clone()));
                }
            }
            Some(each) => out.extend(each_figure(def, each, root)),
        }
    }
    out
}

/// One figure per item of `each.list` that `when` keeps, in `order_by`'s order, at most
/// `limit`.
fn each_figure(def: &FigureDef, each: &Each, root: &Context<'_, '_>) -> Vec<Figure> {
    let items: Vec<Value> = match run(&each.list, root) {
        Ok(Value::List(items)) => items.as_ref().clone(),
        Ok(Value::Map(map)) => {
            let mut keys: Vec<Value> = map.map.keys().map(|k| Value::from(k.clone())).collect();
            keys.sort_by(|a, b| compare(a, b).unwrap_or(std::cmp::Ordering::Equal));
            keys
        }
        _ => return Vec::new(),
    };
    let mut kept: Vec<(Option<Value>, usize, Bound)> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let Some(bound) = bind(def, root, vec![(each.name.clone(), item)]) else {
            continue;
        };
        let order = each
            .order_by
            .as_ref()
            .and_then(|o| run(o, &scope(root, &bound)).ok());
        kept.push((order, i, bound));
    }
    if each.order_by.is_some() {
        // Stable: items that compare equal keep the list's order.
        kept.sort_by(|(a, ..), (b, ..)| match (a, b) {
            (Some(a), Some(b)) => compare(a, b).unwrap_or(std::cmp::Ordering::Equal),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
    }
    kept.truncate(each.limit.unwrap_or(usize::MAX));
    kept.into_iter()
        .map(|(_, i, bound)| {
            let field = field(def, each, root, &bound, i);
            show(def, root, &bound, field)
        })
        .collect()
}

/// Binds the figure's lets and value after `bound` (the item, if any); `None` when `when` does
/// not hold or fails.
fn bind(def: &FigureDef, root: &Context<'_, '_>, mut bound: Bound) -> Option<Bound> {
    // `expr` reads the snapshot and the item only, so it is evaluated before the lets.
    let value = run(&def.expr, &scope(root, &bound)).ok();
    for (name, expr) in &def.lets {
        if let Ok(v) = run(expr, &scope(root, &bound)) {
            bound.push((name.clone(), v));
        }
    }
    if let Some(v) = value {
        bound.push((VALUE.to_owned(), v));
    }
    if let Some(when) = &def.when
        && run(when, &scope(root, &bound)) != Ok(Value::Bool(true))
    {
        return None;
    }
    Some(bound)
}

/// A scope over `root` with `bound` in it.
fn scope<'p, 'v>(root: &'p Context<'_, 'v>, bound: &Bound) -> Context<'p, 'v> {
    let mut ctx = root.new_inner_scope();
    for (name, v) in bound {
        ctx.add_variable_from_value(name.clone(), v.clone());
    }
    ctx
}

fn show(def: &FigureDef, root: &Context<'_, '_>, bound: &Bound, field: String) -> Figure {
    let ctx = scope(root, bound);
    let value = if let Some(t) = &def.text {
        render(t, &ctx)
    } else {
        let v = bound.iter().rev().find(|(n, _)| n == VALUE).map(|(_, v)| v);
        formatted(v, def.format, &def.unit)
    };
    Figure {
        layer: def.layer,
        name: render(&def.label, &ctx).trim().to_owned(),
        value,
        field,
    }
}

/// A value written as `format` says; a missing or `null` one as `n/a`.
fn formatted(v: Option<&Value>, format: Format, unit: &str) -> String {
    let Some(v) = v.filter(|v| !matches!(v, Value::Null)) else {
        return "n/a".to_owned();
    };
    match (format, number(v)) {
        (Format::Number, _) => format!("{}{unit}", display(v)),
        (Format::Percent, _) => format!("{}%", display(v)),
        (Format::Bytes, Some(n)) => fmt_bytes(n),
        (Format::Duration, Some(n)) => fmt_duration(n),
        (Format::Text | Format::Bytes | Format::Duration, _) => display(v),
    }
}

/// The figure's expression for this item as a rule would write it: the item selected from the
/// list by its key, `expr` mapped over it (`disks.devices.filter(disk, disk.name == 'vda')
/// .map(disk, disk.util_pct)[0]`); by its position when it has no key that is a number or a
/// string.
fn field(def: &FigureDef, each: &Each, root: &Context<'_, '_>, bound: &Bound, i: usize) -> String {
    let name = &each.name;
    let (list, expr) = (&each.list.source, &def.expr.source);
    let item = bound.first().map(|(_, v)| v);
    let key = match &each.key {
        Some(k) => run(k, &scope(root, bound))
            .ok()
            .and_then(|v| literal(&v))
            .map(|lit| (k.source.as_str(), lit)),
        None => item.and_then(literal).map(|lit| (name.as_str(), lit)),
    };
    let mut out = String::new();
    match key {
        Some((by, lit)) => {
            let _ = write!(
                out,
                "{list}.filter({name}, {by} == {lit}).map({name}, {expr})[0]"
            );
        }
        None => {
            let _ = write!(out, "[({list})[{i}]].map({name}, {expr})[0]");
        }
    }
    out
}

/// A number or a string as a CEL literal (every snapshot number is a double).
fn literal(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(format!(
            "'{}'",
            s.replace('\\', "\\\\").replace('\'', "\\'")
        )),
        Value::Float(f) if f.is_finite() => Some(if f.fract() == 0.0 && f.abs() < 1e15 {
            format!("{f:.1}")
        } else {
            format!("{f}")
        }),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(format!("{u}u")),
        _ => None,
    }
}
