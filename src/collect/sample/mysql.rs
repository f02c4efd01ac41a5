//! The MySQL part of a watch sample: one connection, one narrow status query per sample, on a
//! thread of its own so a hung server delays only its own figures, never the host's samples.
//!
//! The query names its variables (`SHOW GLOBAL STATUS WHERE Variable_name IN (...)`) rather
//! than reading all ~500 of them. On MariaDB the server still sums every connection's own
//! counters for `Threads_*`-like session-aggregated figures (`Questions` is one of them), so
//! its cost grows with the number of connections; `benches/watch.sh` measures it beside a full
//! `SHOW GLOBAL STATUS` (`mysqladmin extended-status -i1`).

use crate::collect::mysql;
use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// The status variables sampled: gauges first, then counters sampled as rates.
pub(super) const GAUGES: [&str; 2] = ["Threads_connected", "Threads_running"];
pub(super) const RATES: [&str; 5] = [
    "Questions",
    "Innodb_buffer_pool_reads",
    "Innodb_buffer_pool_read_requests",
    "Connections",
    "Threads_created",
];

/// The query, built once.
fn query() -> String {
    let names: Vec<String> = GAUGES
        .iter()
        .chain(RATES.iter())
        .map(|n| format!("'{n}'"))
        .collect();
    format!(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ({})",
        names.join(",")
    )
}

/// One reading's values, by column name.
pub type Values = Vec<(String, f64)>;

/// The follower's thread, and what it sends.
pub struct Follower {
    rx: Receiver<Result<Values, String>>,
    stop: Sender<()>,
    /// The last failure, kept for the notes.
    pub last_error: Option<String>,
    /// Samples whose query failed.
    pub failures: u64,
}

impl Follower {
    /// Connects (on the thread) with `settings`, then reads every `every` until stopped.
    pub fn start(settings: &mysql::settings::Settings, every: Duration) -> Option<Follower> {
        if !settings.enabled {
            return None;
        }
        let plan = mysql::plan(settings).ok()?;
        let (tx, rx) = mpsc::channel();
        let (stop, stopped) = mpsc::channel();
        let connect_timeout = settings.connect_timeout;
        // A sample waits at most one interval for the server, and never less than 200 ms.
        let read_timeout = settings
            .read_timeout
            .min(every.max(Duration::from_millis(200)));
        std::thread::Builder::new()
            .name("doctor-watch-mysql".into())
            .spawn(move || follow(&plan, connect_timeout, read_timeout, every, &tx, &stopped))
            .ok()?;
        Some(Follower {
            rx,
            stop,
            last_error: None,
            failures: 0,
        })
    }

    /// The newest reading since the last call, if one came.
    pub fn latest(&mut self) -> Option<Values> {
        let mut newest = None;
        for r in self.rx.try_iter() {
            match r {
                Ok(v) => newest = Some(v),
                Err(e) => {
                    self.failures += 1;
                    self.last_error = Some(e);
                }
            }
        }
        newest
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.stop.send(());
    }
}

fn follow(
    plan: &mysql::settings::Plan,
    connect_timeout: Duration,
    read_timeout: Duration,
    every: Duration,
    tx: &Sender<Result<Values, String>>,
    stop: &Receiver<()>,
) {
    let mut conn = None;
    let mut why = String::from("no server to connect to");
    for target in &plan.targets {
        match mysql::connect::connect(target, connect_timeout, read_timeout) {
            Ok(c) => {
                conn = Some(c);
                break;
            }
            Err(e) => why = e.message,
        }
    }
    let Some(mut conn) = conn else {
        let _ = tx.send(Err(format!("cannot connect: {why}")));
        return;
    };
    let sql = query();
    let mut prev: Option<(Instant, BTreeMap<String, f64>)> = None;
    let mut next = Instant::now();
    loop {
        let now = Instant::now();
        let reading = show(&mut conn, &sql);
        let sent = match reading {
            Ok(pairs) => {
                let now_values: BTreeMap<String, f64> = pairs
                    .into_iter()
                    .filter_map(|(k, v)| Some((k, v.parse::<f64>().ok()?)))
                    .collect();
                let values = figures(prev.as_ref(), now, &now_values);
                prev = Some((now, now_values));
                tx.send(Ok(values))
            }
            Err(e) => tx.send(Err(mysql::connect::describe(&e, read_timeout))),
        };
        if sent.is_err() {
            return;
        }
        next += every;
        let wait = next.saturating_duration_since(Instant::now());
        match stop.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// The name/value rows of a `SHOW GLOBAL STATUS WHERE ...`.
fn show(conn: &mut ::mysql::Conn, sql: &str) -> ::mysql::Result<Vec<(String, String)>> {
    use ::mysql::prelude::Queryable;
    conn.query_map(sql, |(name, value): (String, String)| (name, value))
}

/// The columns of one reading: gauges as read, counters as rates since the previous reading
/// (none for the first, or after a counter went backwards: a server restart).
fn figures(
    prev: Option<&(Instant, BTreeMap<String, f64>)>,
    now: Instant,
    values: &BTreeMap<String, f64>,
) -> Values {
    let mut out = Vec::new();
    for name in GAUGES {
        if let Some(v) = values.get(name) {
            out.push((format!("mysql.global_status.{name}"), *v));
        }
    }
    if let Some((then, before)) = prev {
        let seconds = now.duration_since(*then).as_secs_f64();
        for name in RATES {
            if let (Some(a), Some(b)) = (before.get(name), values.get(name))
                && b >= a
                && seconds > 0.0
            {
                out.push((
                    format!("mysql.global_status.{name}.per_s"),
                    crate::snapshot::round2((b - a) / seconds),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_names_every_variable() {
        let q = query();
        assert!(q.starts_with("SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_connected'"));
        assert!(q.contains("'Innodb_buffer_pool_reads'"));
    }

    #[test]
    fn counters_become_rates_and_gauges_stay() {
        let t = Instant::now();
        let a = BTreeMap::from([
            ("Questions".to_owned(), 100.0),
            ("Threads_running".into(), 3.0),
        ]);
        let b = BTreeMap::from([
            ("Questions".to_owned(), 150.0),
            ("Threads_running".into(), 5.0),
        ]);
        assert_eq!(
            figures(None, t, &a),
            vec![("mysql.global_status.Threads_running".to_owned(), 3.0)]
        );
        let out = figures(Some(&(t, a)), t + Duration::from_secs(2), &b);
        assert!(out.contains(&("mysql.global_status.Questions.per_s".to_owned(), 25.0)));
        // A restart (counter backwards) gives no rate.
        let c = BTreeMap::from([("Questions".to_owned(), 10.0)]);
        let out = figures(Some(&(t, b)), t + Duration::from_secs(1), &c);
        assert!(out.iter().all(|(n, _)| !n.contains("Questions")));
    }
}
