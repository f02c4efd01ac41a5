//! The headline figures of one snapshot: the catalogue's figures (`rules/figures/`) evaluated
//! with the values the rules see.
//!
//! A figure whose `requires` sections were not collected, whose `when` does not hold or cannot
//! be evaluated, is left out (the collectors list says why a section is missing). A value or a
//! placeholder that cannot be evaluated (a counter this kernel lacks) shows as `n/a`.

use super::compile::{Each, FigureDef, VALUE};
use super::expr::{compare, display, fmt_bytes, fmt_duration, let_value, number, render, run};
use super::figures::Format;
use super::outcome::Figure;
use crate::snapshot::Status;
use cel::common::types::CelList;
use cel::common::value::Val;
use cel::{Context, Value};
use std::collections::HashMap;
use std::fmt::Write as _;

/// One figure (or one item of it), evaluated in one scope: the item, the lets, the value, the
/// texts, its order and its key. (Each binding turns a value into the interpreter's own; doing it
/// once per item rather than once per use was a third of `doctor analyze` on a snapshot with
/// containers: `benches/analyze.sh`.)
struct Evaluated {
    name: String,
    value: String,
    order: Option<Value>,
    /// How the item is selected in its `field`: the key expression (or the item's name) and the
    /// key as a CEL literal.
    key: Option<(String, String)>,
}

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
                if let Some(e) = evaluate(def, None, root) {
                    out.push(Figure {
                        layer: def.layer,
                        name: e.name,
                        value: e.value,
                        field: def.expr.source.clone(),
                    });
                }
            }
            Some(each) => out.extend(each_figure(def, each, root)),
        }
    }
    out
}

/// One figure per item of `each.list` that `when` keeps, in `order_by`'s order, at most
/// `limit`.
fn each_figure<'v>(def: &FigureDef, each: &Each, root: &Context<'_, 'v>) -> Vec<Figure> {
    // The list as the interpreter holds it: its items are bound as they are, not copied into a
    // `Value` and back (a container carries all its counters).
    let Ok(list) = let_value(&each.list, root) else {
        return Vec::new();
    };
    let items: Vec<Box<dyn Val + 'v>> = if let Some(list) = list.downcast_ref::<CelList>() {
        list.inner().iter().map(|i| i.clone_as_boxed()).collect()
    } else if let Ok(Value::Map(map)) = Value::try_from(list.as_ref()) {
        let mut keys: Vec<Value> = map.map.keys().map(|k| Value::from(k.clone())).collect();
        keys.sort_by(|a, b| compare(a, b).unwrap_or(std::cmp::Ordering::Equal));
        keys.into_iter()
            .filter_map(|k| Box::<dyn Val>::try_from(k).ok())
            .collect()
    } else {
        return Vec::new();
    };
    let mut kept: Vec<(usize, Evaluated)> = items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| Some((i, evaluate(def, Some((each, item)), root)?)))
        .collect();
    if each.order_by.is_some() {
        // Stable: items that compare equal keep the list's order.
        kept.sort_by(|(_, a), (_, b)| match (&a.order, &b.order) {
            (Some(a), Some(b)) => compare(a, b).unwrap_or(std::cmp::Ordering::Equal),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
    }
    kept.truncate(each.limit.unwrap_or(usize::MAX));
    kept.into_iter()
        .map(|(i, e)| Figure {
            layer: def.layer,
            field: field(def, each, e.key.as_ref(), i),
            name: e.name,
            value: e.value,
        })
        .collect()
}

/// The figure in one scope over `root`, with the item bound when there is one; `None` when
/// `when` does not hold or fails.
fn evaluate<'v>(
    def: &FigureDef,
    item: Option<(&Each, Box<dyn Val + 'v>)>,
    root: &Context<'_, 'v>,
) -> Option<Evaluated> {
    let mut ctx = root.new_inner_scope();
    let mut key = None;
    let each = item.as_ref().map(|(each, _)| *each);
    if let Some((each, item)) = item {
        if each.key.is_none() {
            key = Value::try_from(item.as_ref())
                .ok()
                .and_then(|v| literal(&v))
                .map(|lit| (each.name.clone(), lit));
        }
        ctx.add_variable_as_val(each.name.clone(), item);
    }
    // `expr` reads the snapshot and the item only, so it is evaluated before the lets.
    let value = run(&def.expr, &ctx).ok();
    for (name, expr) in &def.lets {
        if let Ok(v) = let_value(expr, &ctx) {
            ctx.add_variable_as_val(name.clone(), v);
        }
    }
    if let Some(v) = &value {
        ctx.add_variable_from_value(VALUE, v.clone());
    }
    if let Some(when) = &def.when
        && run(when, &ctx) != Ok(Value::Bool(true))
    {
        return None;
    }
    let order = each
        .and_then(|e| e.order_by.as_ref())
        .and_then(|o| run(o, &ctx).ok());
    if let Some(k) = each.and_then(|e| e.key.as_ref()) {
        key = run(k, &ctx)
            .ok()
            .and_then(|v| literal(&v))
            .map(|lit| (k.source.clone(), lit));
    }
    let shown = match &def.text {
        Some(t) => render(t, &ctx),
        None => formatted(value.as_ref(), def.format, &def.unit),
    };
    Some(Evaluated {
        name: render(&def.label, &ctx).trim().to_owned(),
        value: shown,
        order,
        key,
    })
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
/// .map(disk, disk.util_pct)[0]`); by its position `i` when it has no key that is a number or a
/// string.
fn field(def: &FigureDef, each: &Each, key: Option<&(String, String)>, i: usize) -> String {
    let name = &each.name;
    let (list, expr) = (&each.list.source, &def.expr.source);
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

#[cfg(test)]
mod tests {
    use crate::engine::compile::LogNames;
    use crate::engine::rules::Source;
    use crate::engine::{Catalogue, Figure, Layer, analyze};
    use crate::snapshot::Snapshot;
    use std::fmt::Write as _;

    const HEAD: &str = r#""schema":1,"doctor_version":"0","host":{"hostname":"h","kernel":"k","cpus":2,"memory_bytes":1,"uptime_s":1},
        "window":{"start":"2025-01-03T10:09:19Z","start_unix_ms":0,"requested_ms":5000,"elapsed_ms":5000},
        "overhead":{"cpu_ms":1,"max_rss_bytes":1,"wall_ms":1}"#;

    /// A snapshot with only the sections given (JSON members), as `doctor snapshot` writes it.
    fn snapshot(sections: &str) -> Snapshot {
        let text = format!("{{{HEAD},{sections}}}");
        crate::snapshot::from_json(text.as_bytes(), std::path::Path::new("t.json")).unwrap()
    }

    /// The built-in figures of `layer`, as `(name, value)`.
    fn shown(s: &Snapshot, layer: Layer) -> Vec<(String, String)> {
        analyze(&Catalogue::load(None).unwrap(), s)
            .figures
            .into_iter()
            .filter(|f| f.layer == layer)
            .map(|f| (f.name, f.value))
            .collect()
    }

    fn pairs(want: &[(&str, &str)]) -> Vec<(String, String)> {
        want.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn log_categories_found_and_sources_not_read_are_figures() {
        let s = snapshot(
            r#""logs":{"status":"ok","elapsed_ms":1,
            "sources":[
              {"name":"/gone.log","kind":"file","status":"error","message":"cannot read /gone.log: No such file",
               "bytes_scanned":0,"tail_truncated":false,"matched_lines":0,"matches":{},"categories":{}},
              {"name":"/app.log","kind":"file","path":"/app.log","status":"ok","bytes_scanned":100,"tail_truncated":false,
               "matched_lines":3,"matches":{"mysql-queue-limit":{"count":3,"in_window":2,"sample":"Error: Queue limit reached."}},
               "categories":{"db-pool-exhausted":{"count":3,"in_window":2}}}],
            "patterns":{"mysql-queue-limit":{"category":"db-pool-exhausted","count":3,"in_window":2},
                        "kernel-oom-kill":{"category":"oom-kill","count":0,"in_window":0}},
            "categories":{"db-pool-exhausted":{"count":3,"in_window":2},"oom-kill":{"count":0,"in_window":0}}}"#,
        );
        assert_eq!(
            shown(&s, Layer::App),
            pairs(&[
                (
                    "/gone.log (not read)",
                    "cannot read /gone.log: No such file"
                ),
                (
                    "db-pool-exhausted",
                    "3 lines (2 during the window), most from mysql-queue-limit: Error: Queue limit reached."
                ),
            ])
        );
    }

    #[test]
    fn clean_logs_say_so() {
        let s = snapshot(
            r#""logs":{"status":"ok","elapsed_ms":1,
            "sources":[{"name":"/app.log","kind":"file","status":"ok","bytes_scanned":2048,"tail_truncated":false,
               "matched_lines":0,"matches":{},"categories":{}}],
            "patterns":{"kernel-oom-kill":{"category":"oom-kill","count":0,"in_window":0}},
            "categories":{"oom-kill":{"count":0,"in_window":0}}}"#,
        );
        assert_eq!(
            shown(&s, Layer::App),
            pairs(&[("known errors", "none in 1 source(s), 2.0 KiB scanned")])
        );
        let skipped = snapshot(r#""logs":{"status":"skipped","message":"no log to scan"}"#);
        assert!(shown(&skipped, Layer::App).is_empty());
    }

    #[test]
    fn mysql_figures() {
        let s = snapshot(
            r#""mysql":{"status":"ok","elapsed_ms":3,"flavor":"mariadb","version":"10.11.6-MariaDB","version_major":10,
              "version_minor":11,"version_patch":6,"connection":{"via":"tcp","address":"127.0.0.1:3306","user":"u",
              "source":"url","tls":false},"uptime_s":3700,
              "global_status":{"Threads_connected":{"total":121},"Max_used_connections":{"total":151},
                "Aborted_connects":{"total":20,"delta":11,"per_s":2.2}},
              "global_status_text":{},"variables":{"max_connections":151,"wait_timeout":28800},
              "connections_used_pct":80.13,"buffer_pool_hit_rate_pct":93.5,"buffer_pool_size_bytes":134217728,
              "buffer_pool_vs_data_pct":25.0,"select1_rtt_ms":0.21,"select1_rtt_max_ms":0.4,
              "processlist":{"threads":120,"by_command":{"Sleep":120},"by_state":{},"by_user":{},"by_host":{},
                "sleeping":120,"sleeping_max_idle_s":4200.0,"idle_histogram":{"lt_1s":0,"lt_10s":0,"lt_1m":0,
                "lt_10m":0,"lt_1h":0,"ge_1h":120},"longest_running":[]},
              "performance_schema":{"enabled":false},
              "datadir":{"path":"/var/lib/mysql/","local":true,"device":"sda","rotational":true},
              "storage":{"redo_log":{"event":"wait/io/file/innodb/innodb_log_file","writes":160,"write_bytes":1,
                  "syncs":150,"sync_avg_ms":12.5},
                "binlog":{"event":"wait/io/file/sql/binlog","writes":0,"write_bytes":0,"syncs":0},
                "data_fsyncs_per_s":14.5,"log_waits":0}}"#,
        );
        assert_eq!(
            shown(&s, Layer::Database),
            pairs(&[
                (
                    "server",
                    "MariaDB 10.11.6, up 1h 1m 40s, tcp 127.0.0.1:3306"
                ),
                (
                    "connections",
                    "121 of 151 (80.13%), max used 151; 120 sleeping, longest idle 4200 s (wait_timeout 28800)"
                ),
                (
                    "refused / aborted connects / aborted clients",
                    "n/a / 11 / n/a in 5.0 s"
                ),
                (
                    "buffer pool hit rate",
                    "93.5% in the window, n/a since start; pool 128.0 MiB = 25% of the InnoDB data"
                ),
                ("datadir", "/var/lib/mysql/ on sda (rotational)"),
                (
                    "storage as the server waits on it",
                    "redo log fsync 12.5 ms ×150; 14.5 fsyncs/s, 0 log waits"
                ),
                ("SELECT 1 round trip", "0.21 ms (slowest 0.4 ms)"),
            ])
        );
    }

    #[test]
    fn busy_devices_say_what_they_are_and_idle_ones_share_a_line() {
        let dev = |name: &str, extra: &str, util: f64| {
            format!(
                r#"{{"name":"{name}",{extra}"reads_per_s":0,"writes_per_s":{util},"read_bytes_per_s":0,
                "write_bytes_per_s":0,"read_merges_per_s":0,"write_merges_per_s":0,"aqu_sz":0,
                "util_pct":{util},"in_flight":0}}"#
            )
        };
        let mut devices = vec![
            dev(
                "dm-0",
                r#""kind":"dm","dm_name":"vg0-data","under":["md0"],"rotational":false,"#,
                5.0,
            ),
            dev(
                "loop0",
                r#""kind":"loop","backing_file":"/srv/slow.img","under":["vda"],"#,
                99.0,
            ),
            dev("md0", r#""kind":"md","under":["sda","sdb"],"#, 5.0),
            dev("vda", r#""rotational":true,"#, 3.0),
        ];
        for i in 1..=10 {
            devices.push(dev(&format!("loop{i}"), r#""kind":"loop","#, 0.0));
        }
        let s = snapshot(&format!(
            r#""disks":{{"status":"ok","elapsed_ms":1,"devices":[{}]}}"#,
            devices.join(",")
        ));
        let names: Vec<String> = shown(&s, Layer::Disk)
            .into_iter()
            .map(|(name, value)| {
                let value = value
                    .split_once(" util")
                    .map_or(value.clone(), |(u, _)| u.to_owned());
                format!("{name} = {value}")
            })
            .collect();
        assert_eq!(
            names,
            [
                "dm-0 (dm vg0-data, on md0, non-rotational) = 5%",
                "loop0 (loop over /srv/slow.img, on vda, unknown type) = 99%",
                "md0 (md, on sda, sdb, unknown type) = 5%",
                "vda (rotational) = 3%",
                "idle in the window = loop1, loop2, loop3, loop4, loop5, loop6, loop7, loop8 and 2 more",
            ]
        );
    }

    /// The load-time check has nothing to say of the built-in figures, not even a note.
    #[test]
    fn the_builtin_figures_read_only_names_the_snapshot_has() {
        let cat = Catalogue::load(None).unwrap();
        assert!(cat.figures.len() > 20);
        for f in &cat.figures {
            assert!(f.notes.is_empty(), "{}: {:?}", f.path, f.notes);
        }
    }

    /// Figures of one file of one's own, on the healthy fixture.
    fn own_figures(text: &str) -> Vec<Figure> {
        let source = Source {
            path: "f/figures/mine.toml".into(),
            text: text.into(),
            doc: None,
            builtin: false,
        };
        let cat = Catalogue::compile(&[], &[source], &LogNames::builtin()).unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/healthy.json");
        analyze(&cat, &crate::snapshot::load(&path).unwrap()).figures
    }

    /// `for_each` gives one figure per item `when` keeps, in `order_by`'s order (ties in the
    /// list's), at most `limit`; each `field` selects its item by `key`.
    #[test]
    fn for_each_filters_orders_limits_and_names_the_item() {
        let figures = own_figures(
            r#"
[[figure]]
layer = "memory"
label = "{{c}}"
for_each = "memory.counters"
as = "c"
when = "c.startsWith('pgp') || c.startsWith('psw')"
order_by = "[-memory.counters[c].total, c]"
limit = 2
expr = "memory.counters[c].total"
format = "bytes"

[[figure]]
layer = "cpu"
label = "{{p.name}}"
requires = ["processes"]
for_each = "processes.top"
as = "p"
key = "p.pid"
limit = 1
expr = "p.threads"
unit = " threads"
"#,
        );
        let snap = crate::snapshot::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/healthy.json"),
        )
        .unwrap();
        let m = snap.memory.get().unwrap();
        let mut counters: Vec<(&String, i64)> = m
            .counters
            .iter()
            .filter(|(k, _)| k.starts_with("pgp") || k.starts_with("psw"))
            .map(|(k, c)| (k, c.total))
            .collect();
        counters.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let top = &snap.processes.get().unwrap().top[0];
        let got: Vec<(&str, String, String)> = figures
            .iter()
            .map(|f| (f.layer.as_str(), f.name.clone(), f.field.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "memory",
                    counters[0].0.clone(),
                    format!(
                        "memory.counters.filter(c, c == '{}').map(c, memory.counters[c].total)[0]",
                        counters[0].0
                    )
                ),
                (
                    "memory",
                    counters[1].0.clone(),
                    format!(
                        "memory.counters.filter(c, c == '{}').map(c, memory.counters[c].total)[0]",
                        counters[1].0
                    )
                ),
                (
                    "cpu",
                    top.name.clone(),
                    format!(
                        "processes.top.filter(p, p.pid == {}.0).map(p, p.threads)[0]",
                        top.pid
                    )
                ),
            ]
        );
        assert_eq!(
            figures[0].value,
            crate::engine::expr::fmt_bytes(counters[0].1 as f64)
        );
        assert_eq!(figures[2].value, format!("{} threads", top.threads));
    }

    /// Each format, and `n/a` for a value that is missing; `text` reads the value as `value`.
    #[test]
    fn formats_and_text() {
        let figure = |expr: &str, rest: &str| {
            let f = own_figures(&format!(
                "[[figure]]\nlayer = \"host\"\nlabel = \"l\"\nexpr = \"{expr}\"\n{rest}\n"
            ));
            f.into_iter().next().map(|f| f.value)
        };
        assert_eq!(
            figure("3700.0", "format = \"duration\""),
            Some("1h 1m 40s".into())
        );
        assert_eq!(
            figure("1536.0", "format = \"bytes\""),
            Some("1.5 KiB".into())
        );
        assert_eq!(
            figure("97.071", "format = \"percent\""),
            Some("97.07%".into())
        );
        assert_eq!(figure("0.25", "unit = \" ms\""), Some("0.25 ms".into()));
        assert_eq!(
            figure("['a', 'b']", "format = \"text\""),
            Some("a, b".into())
        );
        assert_eq!(
            figure("tcp.counters.?NoSuchCounter.orValue(null)", "unit = \"/s\""),
            Some("n/a".into())
        );
        assert_eq!(
            figure(
                "2.0",
                "text = \"{{value * 2.0}} of {{fmt_fixed(value, 1)}}\""
            ),
            Some("4 of 2.0".into())
        );
        assert_eq!(figure("2.0", "when = \"value > 2.0\""), None);
        assert_eq!(
            figure("2.0", "requires = [\"load_test\"]"),
            None,
            "skipped on healthy"
        );
    }

    /// The `field` of every figure shown on every fixture is CEL a rule can read: compiled as a
    /// rule's evidence, it passes the load-time check.
    #[test]
    fn every_field_shown_is_a_valid_rule_expression() {
        let cat = Catalogue::load(None).unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut fields = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let snap = crate::snapshot::load(&path).unwrap();
                fields.extend(analyze(&cat, &snap).figures.into_iter().map(|f| f.field));
            }
        }
        assert!(fields.len() > 40, "{}", fields.len());
        let mut text = String::from(
            "id = \"x\"\ntitle = \"t\"\nlayer = \"host\"\nkind = \"symptom\"\nwhen = \"true\"\n\
             score = \"1\"\nsummary = \"s\"\nfix = \"f\"\n",
        );
        for f in &fields {
            let _ = writeln!(text, "[[evidence]]\nlabel = \"l\"\nexpr = '''{f}'''");
        }
        let rule = Catalogue::from_sources(&[Source {
            path: "x.toml".into(),
            text,
            doc: None,
            builtin: false,
        }])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rule.rules[0].evidence.len(), fields.len());
    }
}
