//! Load and saturation on both sides, compared the way pt-mysql-summary separates them: a
//! counter is compared as a rate over each side's own window, a gauge as its value. A since-boot
//! total is never set against a windowed rate; a side with no rate says so.

use super::config;
use crate::snapshot::{Counter, Snapshot};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// How a figure is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Growth per second over the side's window.
    Rate,
    /// A level read over or at the end of the window (a %, a queue length, a count of sockets).
    Gauge,
}

/// One side's reading of a figure.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Reading {
    /// The rate per second or the gauge's value.
    Value { value: f64 },
    /// A counter with no rate on this side (one sample, a reset, a zero window): only its total
    /// since boot or server start, which is not comparable with a rate.
    TotalOnly { total: i64 },
    /// The snapshot does not hold the figure.
    Absent,
}

impl Reading {
    fn value(&self) -> Option<f64> {
        match self {
            Reading::Value { value } => Some(*value),
            _ => None,
        }
    }
}

/// One figure on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LoadChange {
    pub name: String,
    pub measure: Measure,
    /// `/s`, `%`, or empty for a count.
    pub unit: String,
    pub a: Reading,
    pub b: Reading,
    /// `b / a` when both are values and `a` is not zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// False for a figure listed by `--all` although within the noise floor.
    pub differs: bool,
}

/// A figure to read: its name, unit, the smallest difference worth showing, and its readings.
struct Figure {
    /// The snapshot section it comes from.
    section: &'static str,
    name: String,
    measure: Measure,
    unit: &'static str,
    /// Differences below this absolute amount are noise, whatever the ratio.
    floor: f64,
    read: Reading,
}

/// TCP counters that tell load (opens) and trouble (overflows, retransmits, resets).
const TCP_RATES: &[&str] = &[
    "TcpPassiveOpens",
    "TcpActiveOpens",
    "TcpInSegs",
    "TcpRetransSegs",
    "TcpExtListenOverflows",
    "TcpExtListenDrops",
    "TcpAttemptFails",
    "TcpEstabResets",
    "TcpExtTCPTimeouts",
];

/// MySQL status counters that are counters (compared as rates).
const MYSQL_RATES: &[&str] = &[
    "Questions",
    "Com_select",
    "Com_insert",
    "Com_update",
    "Com_delete",
    "Com_commit",
    "Connections",
    "Threads_created",
    "Aborted_connects",
    "Aborted_clients",
    "Innodb_buffer_pool_read_requests",
    "Innodb_buffer_pool_reads",
    "Innodb_row_lock_waits",
    "Innodb_data_fsyncs",
    "Slow_queries",
    "Select_scan",
    "Select_full_join",
    "Created_tmp_disk_tables",
];

/// MySQL status variables that are gauges although they sit among counters.
const MYSQL_GAUGES: &[&str] = &["Threads_connected", "Threads_running"];

fn counter(c: Option<&Counter>) -> Reading {
    match c {
        Some(Counter { per_s: Some(r), .. }) => Reading::Value { value: *r },
        Some(c) => Reading::TotalOnly { total: c.total },
        None => Reading::Absent,
    }
}

fn gauge(v: Option<f64>) -> Reading {
    v.map_or(Reading::Absent, |value| Reading::Value { value })
}

/// Every load figure the snapshot holds (absent ones included, so both sides list the same).
fn figures(s: &Snapshot) -> Vec<Figure> {
    let mut out = Vec::new();
    host_gauges(s, &mut out);
    service_figures(s, &mut out);
    out
}

/// A gauge pusher into `out`.
fn gauges(
    out: &mut Vec<Figure>,
) -> impl FnMut(&'static str, String, &'static str, f64, Option<f64>) + '_ {
    move |section: &'static str, name: String, unit: &'static str, floor: f64, v: Option<f64>| {
        out.push(Figure {
            section,
            name,
            measure: Measure::Gauge,
            unit,
            floor,
            read: gauge(v),
        });
    }
}

/// CPU, memory and disks.
fn host_gauges(s: &Snapshot, out: &mut Vec<Figure>) {
    let mut g = gauges(out);
    let cpu = s.cpu.get();
    g("cpu", "cpu busy".into(), "%", 10.0, cpu.map(|c| c.busy_pct));
    g(
        "cpu",
        "cpu iowait".into(),
        "%",
        5.0,
        cpu.map(|c| c.iowait_pct),
    );
    g(
        "cpu",
        "cpu steal".into(),
        "%",
        5.0,
        cpu.and_then(|c| c.steal_pct),
    );
    g(
        "cpu",
        "busiest core".into(),
        "%",
        15.0,
        cpu.and_then(|c| c.busiest_core_pct),
    );
    g(
        "cpu",
        "run queue (avg)".into(),
        "",
        1.0,
        cpu.and_then(|c| c.run_queue_avg),
    );
    g(
        "cpu",
        "blocked on I/O (avg)".into(),
        "",
        1.0,
        cpu.and_then(|c| c.blocked_avg),
    );
    let mem = s.memory.get();
    g(
        "memory",
        "memory available".into(),
        "%",
        10.0,
        mem.and_then(|m| m.available_pct),
    );
    g(
        "memory",
        "swap in".into(),
        "pages/s",
        1.0,
        mem.and_then(|m| m.swap_in_pages_per_s),
    );
    g(
        "memory",
        "swap out".into(),
        "pages/s",
        1.0,
        mem.and_then(|m| m.swap_out_pages_per_s),
    );
    g(
        "memory",
        "major page faults".into(),
        "/s",
        10.0,
        mem.and_then(|m| m.major_faults_per_s),
    );
    if let Some(d) = s.disks.get() {
        for disk in &d.devices {
            g(
                "disks",
                format!("disk {} util", disk.name),
                "%",
                10.0,
                Some(disk.util_pct),
            );
            g(
                "disks",
                format!("disk {} w_await", disk.name),
                "ms",
                2.0,
                disk.w_await_ms,
            );
            g(
                "disks",
                format!("disk {} r_await", disk.name),
                "ms",
                2.0,
                disk.r_await_ms,
            );
        }
    }
}

/// TCP and MySQL: gauges, then counters compared as rates.
fn service_figures(s: &Snapshot, out: &mut Vec<Figure>) {
    let mut g = gauges(out);
    let tcp = s.tcp.get();
    for state in ["ESTABLISHED", "TIME_WAIT"] {
        g(
            "tcp",
            format!("tcp {state} sockets"),
            "",
            50.0,
            tcp.map(|t| f64::from(t.states.get(state).copied().unwrap_or(0))),
        );
    }
    let mysql = s.mysql.get();
    for name in MYSQL_GAUGES {
        g(
            "mysql",
            format!("mysql {name}"),
            "",
            5.0,
            mysql
                .and_then(|m| m.global_status.get(*name))
                .map(|c| c.total as f64),
        );
    }
    g(
        "mysql",
        "mysql buffer pool hit rate".into(),
        "%",
        1.0,
        mysql.and_then(|m| m.buffer_pool_hit_rate_pct),
    );
    g(
        "mysql",
        "mysql connections used".into(),
        "%",
        10.0,
        mysql.and_then(|m| m.connections_used_pct),
    );
    drop(g);
    for name in TCP_RATES {
        out.push(Figure {
            section: "tcp",
            name: format!("tcp {name}"),
            measure: Measure::Rate,
            unit: "/s",
            floor: 1.0,
            read: tcp.map_or(Reading::Absent, |t| counter(t.counters.get(*name))),
        });
    }
    for name in MYSQL_RATES {
        out.push(Figure {
            section: "mysql",
            name: format!("mysql {name}"),
            measure: Measure::Rate,
            unit: "/s",
            floor: 1.0,
            read: mysql.map_or(Reading::Absent, |m| counter(m.global_status.get(*name))),
        });
    }
}

/// Whether two readings differ enough to show: both values, apart by more than the floor and
/// by more than a quarter of the larger; or one side has a value and the other none.
fn differs(a: &Reading, b: &Reading, floor: f64) -> bool {
    match (a.value(), b.value()) {
        (Some(x), Some(y)) => {
            let gap = (x - y).abs();
            gap > floor && gap > 0.25 * x.abs().max(y.abs())
        }
        // A value on one side only (no rate, or not read, on the other) is worth saying when
        // it is not negligible.
        (Some(x), None) | (None, Some(x)) => x.abs() > floor,
        (None, None) => false,
    }
}

/// The load figures that differ (all with `all`), the largest change first, and how many are
/// equal (or absent on both sides).
pub(super) fn compare(a: &Snapshot, b: &Snapshot, all: bool) -> (Vec<LoadChange>, usize) {
    let fb: BTreeMap<String, Figure> = figures(b)
        .into_iter()
        .map(|f| (f.name.clone(), f))
        .collect();
    // A section read on one side only is said once, among the configuration differences.
    let one_sided: Vec<&str> = config::sections(a)
        .into_iter()
        .zip(config::sections(b))
        .filter(|((_, x), (_, y))| x.is_none() != y.is_none())
        .map(|((name, _), _)| name)
        .collect();
    let mut equal = 0;
    let mut out = Vec::new();
    for fa in figures(a) {
        if one_sided.contains(&fa.section) {
            continue;
        }
        let rb = fb.get(&fa.name).map_or(Reading::Absent, |f| f.read.clone());
        let show = differs(&fa.read, &rb, fa.floor);
        if !show {
            equal += 1;
            if !all || (fa.read == Reading::Absent && rb == Reading::Absent) {
                continue;
            }
        }
        let ratio = match (fa.read.value(), rb.value()) {
            (Some(x), Some(y)) if x != 0.0 => Some(crate::snapshot::round2(y / x)),
            _ => None,
        };
        out.push(LoadChange {
            name: fa.name,
            measure: fa.measure,
            unit: fa.unit.to_owned(),
            a: fa.read,
            b: rb,
            ratio,
            differs: show,
        });
    }
    out.sort_by(|x, y| weight(y).total_cmp(&weight(x)));
    (out, equal)
}

/// How large a change is, for ranking: the factor between the sides (a value against none
/// counts as a large factor).
fn weight(c: &LoadChange) -> f64 {
    match (c.a.value(), c.b.value()) {
        (Some(x), Some(y)) => {
            let (lo, hi) = (x.abs().min(y.abs()), x.abs().max(y.abs()));
            if lo == 0.0 {
                if hi == 0.0 { 0.0 } else { 100.0 }
            } else {
                hi / lo
            }
        }
        (Some(_), None) | (None, Some(_)) => 50.0,
        (None, None) => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_without_a_rate_keeps_only_its_total() {
        let c = Counter::gauge(5094);
        assert_eq!(counter(Some(&c)), Reading::TotalOnly { total: 5094 });
        let c = Counter::between(4902, 5094, 5.0);
        assert_eq!(counter(Some(&c)), Reading::Value { value: 38.4 });
        assert_eq!(counter(None), Reading::Absent);
    }

    #[test]
    fn small_or_proportionally_small_changes_are_equal() {
        let v = |value| Reading::Value { value };
        assert!(!differs(&v(10.0), &v(10.5), 1.0));
        assert!(!differs(&v(100.0), &v(110.0), 1.0), "10% is noise");
        assert!(differs(&v(150.0), &v(500.0), 1.0));
        assert!(!differs(&v(0.2), &v(0.9), 1.0), "below the floor");
        assert!(differs(&v(38.4), &Reading::TotalOnly { total: 5094 }, 1.0));
        assert!(!differs(&Reading::Absent, &Reading::Absent, 1.0));
    }
}
