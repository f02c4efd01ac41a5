//! A window of a watch run as the rules see it: the run's snapshot with every sampled figure
//! replaced by its value over the window (a few samples), so a rule evaluated on it says
//! whether its finding held then.
//!
//! A column names the snapshot field it samples (docs/snapshot.md, `series`); this is the one
//! place that knows how a column's values over a window become that field: gauges their mean
//! (a queue or run queue also its maximum, for `*_max`), rates their mean with the counter's
//! `delta` to match, log categories their lines in the window (the window sees only its own
//! lines: history before it does not make a finding hold in it).

use crate::snapshot::{Counter, Snapshot, round2};

/// A column's values over one window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub mean: f64,
    pub max: f64,
    pub last: f64,
}

impl Stats {
    /// Of the values present, or `None` when none is.
    #[must_use]
    pub fn of(values: &[Option<f64>]) -> Option<Stats> {
        let mut n = 0.0;
        let mut sum = 0.0;
        let mut max = f64::NEG_INFINITY;
        let mut last = None;
        for v in values.iter().flatten() {
            n += 1.0;
            sum += v;
            max = max.max(*v);
            last = Some(*v);
        }
        Some(Stats {
            mean: round2(sum / n),
            max,
            last: last?,
        })
    }
}

/// Sets every sampled field of `snap` to its value over a window of `seconds` (`columns`: each
/// column with its values there), then what derives from them: the view a rule evaluated on it
/// sees. A window of a recording (`timeline`) and one check of `doctor stalk` are both this.
pub fn set_window<'a>(
    snap: &mut Snapshot,
    columns: impl IntoIterator<Item = (&'a str, Stats)>,
    seconds: f64,
) {
    for (name, stats) in columns {
        apply(snap, name, stats, seconds);
    }
    settle(snap);
    snap.window.elapsed_ms = seconds * 1000.0;
}

/// The snapshot paths a sample can change (from `collect::sample::columns`): a rule reading
/// none of them decides the same on every window, whatever happens between.
#[must_use]
pub fn sampled_paths() -> Vec<Vec<String>> {
    let owned = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
    // CPU idle is settled from busy and iowait.
    let mut out = vec![owned(&["cpu", "idle_pct"])];
    for c in crate::collect::sample::columns() {
        // `path` names all of `cpu` for the run queue (the rules read its mean and its
        // maximum); here the two fields each sets.
        match c.as_str() {
            "cpu.run_queue" => out.extend([
                owned(&["cpu", "run_queue_avg"]),
                owned(&["cpu", "run_queue_max"]),
            ]),
            "cpu.blocked" => out.extend([
                owned(&["cpu", "blocked_avg"]),
                owned(&["cpu", "blocked_max"]),
            ]),
            _ => out.push(owned(
                &path(&c)
                    .into_iter()
                    .take_while(|p| *p != "*")
                    .collect::<Vec<_>>(),
            )),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Sets the field `column` samples to its value over a window of `seconds`. A column doctor
/// does not know, or whose field the snapshot lacks, changes nothing.
pub fn apply(snap: &mut Snapshot, column: &str, s: Stats, seconds: f64) {
    let count = |v: f64| v.max(0.0).round() as u64;
    if let Some(field) = column.strip_prefix("cpu.") {
        let Some(cpu) = snap.cpu.data.as_mut() else {
            return;
        };
        match field {
            "busy_pct" => cpu.busy_pct = s.mean,
            "iowait_pct" => cpu.iowait_pct = s.mean,
            "steal_pct" => cpu.steal_pct = Some(s.mean),
            "run_queue" => {
                cpu.run_queue_avg = Some(s.mean);
                cpu.run_queue_max = Some(count(s.max) as u32);
            }
            "blocked" => {
                cpu.blocked_avg = Some(s.mean);
                cpu.blocked_max = Some(count(s.max) as u32);
            }
            _ => {}
        }
    } else if let Some((device, field)) = indexed(column, "disks.devices[") {
        let Some(disks) = snap.disks.data.as_mut() else {
            return;
        };
        let Some(d) = disks.devices.iter_mut().find(|d| d.name == device) else {
            return;
        };
        match field {
            "util_pct" => d.util_pct = s.mean,
            "aqu_sz" => d.aqu_sz = s.mean,
            "r_await_ms" => d.r_await_ms = Some(s.mean),
            "w_await_ms" => d.w_await_ms = Some(s.mean),
            _ => {}
        }
    } else if let Some(rest) = column.strip_prefix("tcp.") {
        let Some(tcp) = snap.tcp.data.as_mut() else {
            return;
        };
        if let Some(name) = rest
            .strip_prefix("counters.")
            .and_then(|c| c.strip_suffix(".per_s"))
        {
            if let Some(c) = tcp.counters.get_mut(name) {
                set_rate(c, s.mean, seconds);
            }
        } else if rest == "counters.TcpCurrEstab" {
            if let Some(c) = tcp.counters.get_mut("TcpCurrEstab") {
                *c = Counter::gauge(count(s.mean) as i64);
            }
        } else if let Some(state) = rest.strip_prefix("states.") {
            tcp.states.insert(state.to_owned(), count(s.mean) as u32);
        }
    } else if let Some((local, "queue")) = indexed(column, "listeners.sockets[") {
        let Some(listeners) = snap.listeners.data.as_mut() else {
            return;
        };
        if let Some(l) = listeners.sockets.iter_mut().find(|l| l.local == local) {
            l.queue = count(s.last) as u32;
            l.queue_max = count(s.max) as u32;
            l.queue_max_pct = (l.backlog > 0)
                .then(|| round2(f64::from(l.queue_max) / f64::from(l.backlog) * 100.0));
        }
    } else if let Some(rest) = column.strip_prefix("mysql.global_status.") {
        let Some(mysql) = snap.mysql.data.as_mut() else {
            return;
        };
        if let Some(name) = rest.strip_suffix(".per_s") {
            if let Some(c) = mysql.global_status.get_mut(name) {
                set_rate(c, s.mean, seconds);
            }
        } else if let Some(c) = mysql.global_status.get_mut(rest) {
            *c = Counter::gauge(count(s.mean) as i64);
        }
    } else if let Some((name, "cpu_pct")) = indexed(column, "containers.containers[") {
        let Some(containers) = snap.containers.data.as_mut() else {
            return;
        };
        if let Some(c) = containers.containers.iter_mut().find(|c| c.name == name) {
            c.cpu_pct = Some(s.mean);
        }
    } else if let Some((category, "per_s")) = indexed(column, "logs.categories[") {
        let Some(logs) = snap.logs.data.as_mut() else {
            return;
        };
        if let Some(c) = logs.categories.get_mut(category) {
            c.in_window = count(s.mean * seconds);
            c.count = c.in_window;
        }
    }
}

/// Figures derived from the sampled ones, made consistent with them after a window's values
/// are set: CPU idle is what busy and iowait leave.
pub fn settle(snap: &mut Snapshot) {
    if let Some(cpu) = snap.cpu.data.as_mut() {
        cpu.idle_pct = round2((100.0 - cpu.busy_pct - cpu.iowait_pct).max(0.0));
    }
}

/// The counter over a window: its rate, and the growth that rate means.
fn set_rate(c: &mut Counter, per_s: f64, seconds: f64) {
    c.per_s = Some(per_s);
    c.delta = Some((per_s * seconds).max(0.0).round() as i64);
}

/// `prefix` `NAME` `].` `FIELD` → (NAME, FIELD). The name may hold `]` (an IPv6 listener's
/// `[::]:80`): the last `].` ends it.
fn indexed<'a>(column: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let rest = column.strip_prefix(prefix)?;
    let end = rest.rfind("].")?;
    Some((&rest[..end], &rest[end + 2..]))
}

/// The snapshot path a column's field sits at, as the rules' reads name it
/// (`tcp.counters.TcpRetransSegs.per_s` → `tcp`, `counters`, `TcpRetransSegs`): a rule
/// reading anything there or under it may change from window to window.
#[must_use]
pub fn path(column: &str) -> Vec<&str> {
    for (prefix, parts) in [
        ("disks.devices[", ["disks", "devices"].as_slice()),
        ("listeners.sockets[", &["listeners", "sockets"]),
        ("containers.containers[", &["containers", "containers"]),
    ] {
        if column.starts_with(prefix) {
            return parts.to_vec();
        }
    }
    if let Some((category, _)) = indexed(column, "logs.categories[") {
        return vec!["logs", "categories", category];
    }
    let mut parts: Vec<&str> = column.split('.').collect();
    if parts.last() == Some(&"per_s") {
        parts.pop();
    }
    match parts.as_slice() {
        ["cpu", "run_queue" | "blocked"] => vec!["cpu"],
        _ => parts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_brackets_may_hold_brackets() {
        assert_eq!(
            indexed("listeners.sockets[[::]:80].queue", "listeners.sockets["),
            Some(("[::]:80", "queue"))
        );
        assert_eq!(
            indexed("disks.devices[sda].util_pct", "disks.devices["),
            Some(("sda", "util_pct"))
        );
    }

    #[test]
    fn paths_as_the_rules_read_them() {
        assert_eq!(
            path("tcp.counters.TcpRetransSegs.per_s"),
            ["tcp", "counters", "TcpRetransSegs"]
        );
        assert_eq!(path("cpu.busy_pct"), ["cpu", "busy_pct"]);
        assert_eq!(
            path("logs.categories[db-pool-exhausted].per_s"),
            ["logs", "categories", "db-pool-exhausted"]
        );
        assert_eq!(path("disks.devices[sda].util_pct"), ["disks", "devices"]);
    }

    #[test]
    fn stats_skip_missing_values() {
        let s = Stats::of(&[Some(1.0), None, Some(5.0)]).unwrap();
        assert_eq!((s.mean, s.max, s.last), (3.0, 5.0, 5.0));
        assert!(Stats::of(&[None, None]).is_none());
    }
}
