//! The processlist summarised: threads by command, state, user and client host, the sleepers
//! and how long they have been idle, and the longest-running statements with their literals
//! redacted. Pure, so it is unit-tested on literal rows.

use crate::scan::redact::redact_sql;
use crate::snapshot::{IdleHistogram, Processlist, RunningStatement, round2};
use std::collections::BTreeMap;

/// One processlist row, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessRow {
    pub id: u64,
    pub user: String,
    pub host: String,
    pub db: Option<String>,
    pub command: String,
    pub time_s: f64,
    pub state: Option<String>,
    pub info: Option<String>,
}

/// The processlist rows doctor reads at most.
pub const PROCESSLIST_LIMIT: usize = 20_000;
const TOP_KEYS: usize = 20;
const LONGEST: usize = 10;
const INFO_CHARS: usize = 200;

/// The client host without its port: `10.0.0.5:51234` → `10.0.0.5`, `::1:5555` → `::1`,
/// `[::1]:5555` → `::1`, `localhost` stays.
#[must_use]
pub fn client_host(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// Threads that are the server's own or replication plumbing: never a "long-running query".
fn is_background(row: &ProcessRow) -> bool {
    matches!(
        row.command.as_str(),
        "Sleep"
            | "Daemon"
            | "Binlog Dump"
            | "Binlog Dump GTID"
            | "Slave_IO"
            | "Slave_SQL"
            | "Slave_worker"
            | "Killed"
    ) || row.user == "system user"
        || row.user == "event_scheduler"
}

/// Keeps the `TOP_KEYS` largest counts, the rest summed under `(other)`.
fn cap(counts: BTreeMap<String, u32>) -> BTreeMap<String, u32> {
    if counts.len() <= TOP_KEYS {
        return counts;
    }
    let mut v: Vec<(String, u32)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let other: u32 = v[TOP_KEYS..].iter().map(|(_, n)| n).sum();
    let mut out: BTreeMap<String, u32> = v.into_iter().take(TOP_KEYS).collect();
    *out.entry("(other)".to_owned()).or_default() += other;
    out
}

/// Summarises the processlist, leaving out doctor's own connection (`own_id`).
#[must_use]
pub fn summarize(rows: &[ProcessRow], own_id: u64, truncated: bool) -> Processlist {
    let rows: Vec<&ProcessRow> = rows.iter().filter(|r| r.id != own_id).collect();
    let mut by_command = BTreeMap::new();
    let mut by_state = BTreeMap::new();
    let mut by_user = BTreeMap::new();
    let mut by_host = BTreeMap::new();
    let mut hist = IdleHistogram::default();
    let mut sleeping = 0;
    let mut max_idle: Option<f64> = None;
    for r in &rows {
        *by_command.entry(r.command.clone()).or_insert(0) += 1;
        if let Some(s) = r.state.as_deref().filter(|s| !s.is_empty()) {
            *by_state.entry(s.to_owned()).or_insert(0) += 1;
        }
        *by_user.entry(r.user.clone()).or_insert(0) += 1;
        *by_host.entry(client_host(&r.host).to_owned()).or_insert(0) += 1;
        if r.command == "Sleep" {
            sleeping += 1;
            let t = r.time_s.max(0.0);
            max_idle = Some(max_idle.map_or(t, |m: f64| m.max(t)));
            let bucket = match t {
                t if t < 1.0 => &mut hist.lt_1s,
                t if t < 10.0 => &mut hist.lt_10s,
                t if t < 60.0 => &mut hist.lt_1m,
                t if t < 600.0 => &mut hist.lt_10m,
                t if t < 3600.0 => &mut hist.lt_1h,
                _ => &mut hist.ge_1h,
            };
            *bucket += 1;
        }
    }
    let mut running: Vec<&&ProcessRow> = rows.iter().filter(|r| !is_background(r)).collect();
    running.sort_by(|a, b| b.time_s.total_cmp(&a.time_s).then(a.id.cmp(&b.id)));
    let longest_running = running
        .into_iter()
        .take(LONGEST)
        .map(|r| RunningStatement {
            id: r.id,
            user: r.user.clone(),
            host: client_host(&r.host).to_owned(),
            db: r.db.clone(),
            command: r.command.clone(),
            state: r.state.clone().filter(|s| !s.is_empty()),
            time_s: round2(r.time_s.max(0.0)),
            info: r.info.as_deref().map(|i| redact_sql(i, INFO_CHARS)),
        })
        .collect();
    Processlist {
        threads: rows.len() as u32,
        truncated,
        by_command,
        by_state,
        by_user: cap(by_user),
        by_host: cap(by_host),
        sleeping,
        sleeping_max_idle_s: max_idle.map(round2),
        idle_histogram: hist,
        longest_running,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u64, user: &str, host: &str, command: &str, time_s: f64) -> ProcessRow {
        ProcessRow {
            id,
            user: user.into(),
            host: host.into(),
            db: None,
            command: command.into(),
            time_s,
            state: None,
            info: None,
        }
    }

    #[test]
    fn processlist_summary() {
        let mut rows = vec![
            row(1, "system user", "", "Daemon", 9_000.0),
            row(2, "app", "10.0.0.5:50001", "Sleep", 0.5),
            row(3, "app", "10.0.0.5:50002", "Sleep", 30.0),
            row(4, "app", "10.0.0.6:50003", "Sleep", 7_200.0),
            row(5, "report", "::1:40000", "Query", 12.5),
            row(6, "app", "10.0.0.6:50004", "Query", 0.2),
            row(99, "doctor", "localhost", "Query", 0.0),
        ];
        rows[4].state = Some("Sending data".into());
        rows[4].info = Some("SELECT * FROM t WHERE email = 'a@b.c' AND id > 42".into());
        let p = summarize(&rows, 99, false);
        assert_eq!(p.threads, 6);
        assert_eq!(p.by_command["Sleep"], 3);
        assert_eq!(p.by_command["Query"], 2);
        assert_eq!(p.by_command["Daemon"], 1);
        assert!(!p.by_command.contains_key("doctor"));
        assert_eq!(p.by_state["Sending data"], 1);
        assert_eq!(p.by_user["app"], 4);
        assert_eq!(p.by_host["10.0.0.5"], 2);
        assert_eq!(p.by_host["::1"], 1);
        assert_eq!(p.sleeping, 3);
        assert_eq!(p.sleeping_max_idle_s, Some(7_200.0));
        assert_eq!(
            p.idle_histogram,
            IdleHistogram {
                lt_1s: 1,
                lt_1m: 1,
                ge_1h: 1,
                ..IdleHistogram::default()
            }
        );
        assert_eq!(
            p.longest_running.len(),
            2,
            "daemons and sleepers are not queries"
        );
        assert_eq!(p.longest_running[0].id, 5);
        assert_eq!(p.longest_running[0].host, "::1");
        assert_eq!(
            p.longest_running[0].info.as_deref(),
            Some("SELECT * FROM t WHERE email = ? AND id > ?")
        );
    }

    #[test]
    fn processlist_caps_users_and_hosts() {
        let rows: Vec<ProcessRow> = (0..30)
            .map(|i| row(i, &format!("u{i:02}"), "h:1", "Sleep", 1.0))
            .chain((100..110).map(|i| row(i, "big", "h:1", "Sleep", 1.0)))
            .collect();
        let p = summarize(&rows, 0, true);
        assert_eq!(p.by_user.len(), 21);
        assert_eq!(p.by_user["big"], 10);
        assert_eq!(p.by_user["(other)"], 10);
        assert_eq!(p.by_user.values().sum::<u32>(), 39);
        assert!(p.truncated);
    }

    #[test]
    fn hosts_without_ports() {
        assert_eq!(client_host("10.0.0.5:51234"), "10.0.0.5");
        assert_eq!(client_host("localhost"), "localhost");
        assert_eq!(client_host("[::1]:5555"), "::1");
        assert_eq!(client_host("::1:5555"), "::1");
        assert_eq!(client_host("app.internal:3306"), "app.internal");
        assert_eq!(client_host(""), "");
    }
}
