//! One compiled expression evaluated in a scope, and its value as the report shows it: the
//! pieces [`super::eval`] builds a rule's outcome from, and the functions doctor adds to CEL.
//!
//! Every snapshot number is a CEL `double`, and a missing field is an error (see
//! [`super::eval`]).

use super::compile::{Expr, Part, Template};
use cel::common::types::{
    CelBool, CelBytes, CelDouble, CelInt, CelList, CelMap, CelNull, CelOptional, CelString, CelUInt,
};
use cel::common::value::Val;
use cel::objects::{Key, Map};
use cel::{Context, ExecutionError, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Evaluates; errors in words a rule author acts on.
pub(super) fn run(expr: &Expr, ctx: &Context<'_, '_>) -> Result<Value, String> {
    // What `cel::Program::execute` does with its expression.
    Value::resolve(&expr.program, ctx).map_err(|e| describe(&e))
}

/// A `let`'s value, to bind in the rule's scope: what `run` gives, converted back the way
/// `Context::add_variable_from_value` converts it (cel 0.15 `src/context.rs`).
///
/// Going through `Value` copies the value twice, which for a list of containers (each with its
/// network counters) was most of a rule's cost. A value made only of the built-in types comes
/// back from that round trip as the same value, so it is kept as it is (moved, or cloned once
/// when it is borrowed); anything else (a type value, which `Value` turns into its name) takes
/// the round trip, as before.
pub(super) fn let_value<'v>(
    expr: &Expr,
    ctx: &Context<'_, 'v>,
) -> Result<Box<dyn Val + 'v>, String> {
    let v = Value::resolve_val(&expr.program, ctx).map_err(|e| describe(&e))?;
    if survives_value(v.as_ref()) {
        return Ok(v.into_owned());
    }
    let value = Value::try_from(v.as_ref()).map_err(|e| describe(&e))?;
    Ok(Box::<dyn Val>::try_from(value).expect("cel converts every `Value` back to a value"))
}

/// Whether `v` is made only of types that `Value` holds as they are: numbers, `bool`, `null`,
/// strings, bytes, and lists, maps and optionals of those.
fn survives_value(v: &dyn Val) -> bool {
    if v.downcast_ref::<CelDouble>().is_some()
        || v.downcast_ref::<CelInt>().is_some()
        || v.downcast_ref::<CelUInt>().is_some()
        || v.downcast_ref::<CelBool>().is_some()
        || v.downcast_ref::<CelNull>().is_some()
        || v.downcast_ref::<CelString>().is_some()
        || v.downcast_ref::<CelBytes>().is_some()
    {
        true
    } else if let Some(list) = v.downcast_ref::<CelList>() {
        list.inner().iter().all(|i| survives_value(i.as_ref()))
    } else if let Some(map) = v.downcast_ref::<CelMap>() {
        map.inner().values().all(|i| survives_value(i.as_ref()))
    } else if let Some(opt) = v.downcast_ref::<CelOptional>() {
        opt.option().is_none_or(survives_value)
    } else {
        false
    }
}

pub(super) fn reason(key: &str, expr: &Expr, e: &str) -> String {
    format!("`{key}` ({}) could not be evaluated: {e}", expr.source)
}

/// An evaluation error in words a rule author acts on.
fn describe(e: &ExecutionError) -> String {
    match e {
        ExecutionError::NoSuchKey(k) => format!("the snapshot has no `{k}`"),
        ExecutionError::UndeclaredReference(name) => format!("unknown name or function `{name}`"),
        other => other.to_string(),
    }
}

/// Fills a template's placeholders; one that cannot be evaluated shows as `n/a`.
pub(super) fn render(t: &Template, ctx: &Context<'_, '_>) -> String {
    let mut out = String::new();
    for part in &t.parts {
        match part {
            Part::Text(s) => out.push_str(s),
            Part::Expr(e) => match run(e, ctx) {
                Ok(v) => out.push_str(&display(&v)),
                Err(_) => out.push_str("n/a"),
            },
        }
    }
    out
}

/// Placeholders that render empty (a branch that does not apply) leave blank lines; keep at
/// most one in a row and none at the ends.
pub(super) fn tidy(text: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() && out.last().is_none_or(|l| l.trim().is_empty()) {
            continue;
        }
        out.push(line);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

pub(super) fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        Value::Int(i) => Some(*i as f64),
        Value::UInt(u) => Some(*u as f64),
        _ => None,
    }
}

/// A value as a person reads it: `128`, `2.5`, `vda`, `a, b`.
#[must_use]
pub fn display(v: &Value) -> String {
    match v {
        Value::Float(f) => fmt_number(*f),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::String(s) => s.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "n/a".to_owned(),
        Value::List(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        Value::Map(m) => {
            let mut entries: Vec<(String, String)> = m
                .map
                .iter()
                .map(|(k, v)| (key_text(k), display(v)))
                .collect();
            entries.sort();
            entries
                .into_iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
        other => format!("{other:?}"),
    }
}

fn key_text(k: &Key) -> String {
    match k {
        Key::Int(i) => i.to_string(),
        Key::Uint(u) => u.to_string(),
        Key::Bool(b) => b.to_string(),
        Key::String(s) => s.to_string(),
    }
}

/// Numbers by value, strings in byte order, lists item by item; `None` for values of different
/// kinds or of kinds without an order.
#[must_use]
pub fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                match compare(p, q)? {
                    std::cmp::Ordering::Equal => {}
                    other => return Some(other),
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => Some(number(a)?.total_cmp(&number(b)?)),
    }
}

/// Bytes with binary units, as `free -h` prints them: `512 B`, `1.5 KiB`, `3.8 GiB`.
#[must_use]
pub fn fmt_bytes(n: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Seconds as `humantime` writes a duration: `1h 1m 40s`; below zero as `0s`.
#[must_use]
pub fn fmt_duration(seconds: f64) -> String {
    let s = if seconds.is_finite() {
        seconds.max(0.0)
    } else {
        0.0
    };
    humantime::format_duration(std::time::Duration::from_secs(s as u64)).to_string()
}

/// Whole numbers without a fraction, others with at most two decimals.
#[must_use]
pub fn fmt_number(f: f64) -> String {
    if !f.is_finite() {
        return "n/a".to_owned();
    }
    let r = crate::snapshot::round2(f);
    if r.fract() == 0.0 && r.abs() < 1e15 {
        format!("{}", r as i64)
    } else {
        let s = format!("{r:.2}");
        s.trim_end_matches('0').to_owned()
    }
}

/// JSON → CEL, every number as a double (see the module doc).
pub(super) fn to_cel(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(a) => Value::List(Arc::new(a.iter().map(to_cel).collect())),
        serde_json::Value::Object(o) => {
            let map: HashMap<Key, Value> = o
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// The functions doctor adds to CEL for scores: all take numbers of any CEL kind.
pub(super) mod functions {
    use cel::extractors::Arguments;
    use cel::{Context, ExecutionError, FunctionContext, Value};
    use std::sync::Arc;

    pub fn register(ctx: &mut Context<'_, '_>) {
        // Names are not in CEL's standard library, so registering cannot conflict.
        let _ = ctx.add_function("max", |Arguments(a): Arguments| fold(&a, f64::max));
        let _ = ctx.add_function("min", |Arguments(a): Arguments| fold(&a, f64::min));
        let _ = ctx.add_function("sum", |Arguments(a): Arguments| fold(&a, |x, y| x + y));
        let _ = ctx.add_function("clamp", clamp);
        let _ = ctx.add_function("ramp", ramp);
        let _ = ctx.add_function("take", take);
        let _ = ctx.add_function("fmt", fmt);
        let _ = ctx.add_function("fmt_bytes", |v: Value| text(&v, super::fmt_bytes));
        let _ = ctx.add_function("fmt_duration", |v: Value| text(&v, super::fmt_duration));
        let _ = ctx.add_function("fmt_fixed", fmt_fixed);
        let _ = ctx.add_function("sorted", sorted);
    }

    /// `fmt(x)`: `x` as the report shows it; `fmt(x, unit)`: with `unit` after it, or `n/a`
    /// alone when `x` is `null` (a figure the source did not give).
    fn fmt(Arguments(a): Arguments) -> Result<Value, ExecutionError> {
        match a.as_slice() {
            [v] => Ok(Value::String(Arc::new(super::display(v)))),
            [Value::Null, Value::String(_)] => Ok(Value::String(Arc::new("n/a".to_owned()))),
            [v, Value::String(unit)] => Ok(Value::String(Arc::new(format!(
                "{}{unit}",
                super::display(v)
            )))),
            _ => Err(ExecutionError::function_error(
                "fmt",
                "expected fmt(value) or fmt(value, 'unit')",
            )),
        }
    }

    /// A number as text by `f`; `null` as `n/a`.
    fn text(v: &Value, f: fn(f64) -> String) -> Result<Value, ExecutionError> {
        if matches!(v, Value::Null) {
            return Ok(Value::String(Arc::new("n/a".to_owned())));
        }
        Ok(Value::String(Arc::new(f(num(v)?))))
    }

    /// `fmt_fixed(x, digits)`: exactly `digits` decimals (`5.0`), as `printf("%.1f")`.
    fn fmt_fixed(x: Value, digits: Value) -> Result<Value, ExecutionError> {
        if matches!(x, Value::Null) {
            return Ok(Value::String(Arc::new("n/a".to_owned())));
        }
        let digits = num(&digits)?.clamp(0.0, 9.0) as usize;
        Ok(Value::String(Arc::new(format!("{:.digits$}", num(&x)?))))
    }

    /// `sorted(list)`: numbers or strings in ascending order (a map's keys are iterated in no
    /// particular order: sort them to pick one the same way every time).
    fn sorted(ftx: &FunctionContext, list: Value) -> Result<Value, ExecutionError> {
        let Value::List(items) = list else {
            return Err(ftx.error("sorted: expected a list"));
        };
        let mut items = items.as_ref().clone();
        let mut failed = false;
        items.sort_by(|a, b| {
            super::compare(a, b).unwrap_or_else(|| {
                failed = true;
                std::cmp::Ordering::Equal
            })
        });
        if failed {
            return Err(ftx.error("sorted: the items are not all numbers or all strings"));
        }
        Ok(Value::List(Arc::new(items)))
    }

    /// `take(list, n)`: the first `n` items (all of them when there are fewer).
    fn take(ftx: &FunctionContext, list: Value, n: Value) -> Result<Value, ExecutionError> {
        let Value::List(items) = list else {
            return Err(ftx.error("take: expected a list"));
        };
        let n = num(&n)?.max(0.0) as usize;
        Ok(Value::List(Arc::new(
            items.iter().take(n).cloned().collect(),
        )))
    }

    fn num(v: &Value) -> Result<f64, ExecutionError> {
        super::number(v).ok_or_else(|| {
            ExecutionError::function_error("number", format!("expected a number, got {v:?}"))
        })
    }

    /// `max(a, b, ...)` or `max(list)`; an empty list is an error (nothing to compare).
    fn fold(args: &Arc<Vec<Value>>, f: fn(f64, f64) -> f64) -> Result<Value, ExecutionError> {
        let items: Vec<Value> = match args.as_slice() {
            [Value::List(l)] => l.as_ref().clone(),
            other => other.to_vec(),
        };
        let mut it = items.iter();
        let Some(first) = it.next() else {
            return Err(ExecutionError::function_error(
                "max/min/sum",
                "empty list (no values to compare)",
            ));
        };
        let mut acc = num(first)?;
        for v in it {
            acc = f(acc, num(v)?);
        }
        Ok(Value::Float(acc))
    }

    /// `clamp(x, lo, hi)`
    fn clamp(
        ftx: &FunctionContext,
        x: Value,
        lo: Value,
        hi: Value,
    ) -> Result<Value, ExecutionError> {
        let (x, lo, hi) = (num(&x)?, num(&lo)?, num(&hi)?);
        if lo > hi {
            return Err(ftx.error("clamp: lo is above hi"));
        }
        Ok(Value::Float(x.clamp(lo, hi)))
    }

    /// `ramp(x, lo, hi)`: 0 at or below `lo`, 1 at or above `hi`, linear between. Scores are
    /// written as `50.0 + 50.0 * ramp(rate, warn, crit)`.
    fn ramp(
        ftx: &FunctionContext,
        x: Value,
        lo: Value,
        hi: Value,
    ) -> Result<Value, ExecutionError> {
        let (x, lo, hi) = (num(&x)?, num(&lo)?, num(&hi)?);
        if lo >= hi {
            return Err(ftx.error("ramp: lo must be below hi"));
        }
        Ok(Value::Float(((x - lo) / (hi - lo)).clamp(0.0, 1.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_collapses_blank_lines() {
        assert_eq!(tidy("\n\na\n\n \n\nb  \n\n"), "a\n\nb");
    }

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(fmt_number(128.0), "128");
        assert_eq!(fmt_number(2.5), "2.5");
        assert_eq!(fmt_number(601.599), "601.6");
        assert_eq!(fmt_number(0.125), "0.13");
        assert_eq!(fmt_number(f64::NAN), "n/a");
        assert_eq!(fmt_number(-3.0), "-3");
    }

    fn eval(src: &str, json: &serde_json::Value) -> Result<Value, ExecutionError> {
        let env = Arc::new(crate::engine::compile::environment());
        let mut ctx = Context::with_env(Arc::clone(&env));
        functions::register(&mut ctx);
        for (k, v) in json.as_object().unwrap() {
            ctx.add_variable_from_value(k.clone(), to_cel(v));
        }
        env.compile(src).unwrap().execute(&ctx)
    }

    #[test]
    fn every_number_is_a_double_and_missing_fields_are_errors() {
        let j = serde_json::json!({"cpu": {"cores": 2, "busy_pct": 95.5}, "tcp": {"status": "skipped"}});
        assert_eq!(
            eval("cpu.busy_pct / cpu.cores", &j),
            Ok(Value::Float(47.75))
        );
        assert_eq!(eval("cpu.cores > 1", &j), Ok(Value::Bool(true)));
        assert!(matches!(
            eval("tcp.counters.X.delta > 0.0", &j),
            Err(ExecutionError::NoSuchKey(_))
        ));
        assert_eq!(
            eval("tcp.?counters.?X.?delta.orValue(0.0)", &j),
            Ok(Value::Float(0.0))
        );
    }

    #[test]
    fn score_functions() {
        let j = serde_json::json!({"l": [1, 5.5, 3]});
        assert_eq!(eval("max(l)", &j), Ok(Value::Float(5.5)));
        assert_eq!(eval("min(2, 1.5)", &j), Ok(Value::Float(1.5)));
        assert_eq!(eval("sum(l)", &j), Ok(Value::Float(9.5)));
        assert_eq!(eval("ramp(3, 1, 5)", &j), Ok(Value::Float(0.5)));
        assert_eq!(eval("ramp(9, 1, 5)", &j), Ok(Value::Float(1.0)));
        assert_eq!(eval("clamp(150, 0, 100)", &j), Ok(Value::Float(100.0)));
        assert!(eval("max([])", &j).is_err());
        assert_eq!(display(&eval("take(l, 2)", &j).unwrap()), "1, 5.5");
        assert_eq!(display(&eval("take(l, 9.0)", &j).unwrap()), "1, 5.5, 3");
        assert_eq!(
            eval("fmt(119.9914566)", &j),
            Ok(Value::String(Arc::new("119.99".into())))
        );
        assert_eq!(
            eval("fmt(4096.0) + '/' + fmt('x')", &j),
            Ok(Value::String(Arc::new("4096/x".into())))
        );
        assert!(eval("ramp(1, 5, 5)", &j).is_err());
    }

    #[test]
    fn formatting_functions() {
        let j = serde_json::json!({"n": null, "l": ["b", "a"], "m": {"y": 1, "x": 2}});
        let text = |src: &str| display(&eval(src, &j).unwrap());
        assert_eq!(text("fmt(0.2, '/s')"), "0.2/s");
        assert_eq!(text("fmt(n, ' ms')"), "n/a");
        assert_eq!(text("fmt_bytes(134217728)"), "128.0 MiB");
        assert_eq!(text("fmt_bytes(512)"), "512 B");
        assert_eq!(text("fmt_bytes(n)"), "n/a");
        assert_eq!(text("fmt_duration(3700)"), "1h 1m 40s");
        assert_eq!(text("fmt_duration(-5)"), "0s");
        assert_eq!(text("fmt_fixed(5, 1)"), "5.0");
        assert_eq!(text("fmt_fixed(2.345, 2)"), "2.35");
        assert_eq!(text("sorted(l)"), "a, b");
        assert_eq!(text("sorted(m.map(k, k))"), "x, y");
        assert_eq!(text("sorted([3, 1.5, 2])"), "1.5, 2, 3");
        assert!(eval("sorted(['a', 1])", &j).is_err());
        assert!(eval("fmt(1, 2)", &j).is_err());
    }

    #[test]
    fn byte_units() {
        assert_eq!(fmt_bytes(512.0), "512 B");
        assert_eq!(fmt_bytes(4_005_180.0 * 1024.0), "3.8 GiB");
        assert_eq!(fmt_bytes(1536.0), "1.5 KiB");
    }

    #[test]
    fn values_display() {
        let j = serde_json::json!({"l": ["vda", "sdb"], "m": {"b": 2, "a": 1.5}});
        assert_eq!(display(&eval("l", &j).unwrap()), "vda, sdb");
        assert_eq!(display(&eval("m", &j).unwrap()), "a: 1.5, b: 2");
    }
}
