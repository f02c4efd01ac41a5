//! The `mysql` section from pasted result sets: `SHOW GLOBAL STATUS` (or `mysqladmin
//! extended-status`) readings, `SHOW GLOBAL VARIABLES` and `SHOW [FULL] PROCESSLIST`, through the
//! collector's own pure computations (`collect::mysql::derive`, `processlist::summarize`), so a
//! pasted server is figured exactly as a connected one.
//!
//! Readings: status outputs with different names are pieces of one reading (`LIKE` subsets); a
//! name seen again starts the next. Two readings give growth, and rates over the gap their
//! `Uptime` values tell. `mysqladmin extended-status -r -i N` prints the totals, then each
//! interval's *difference*: a reading whose `Uptime` is not above the previous one's is such a
//! difference (absolute readings' uptimes only grow), and is added to the previous totals.
//! What the text does not show (version, the account doctor used, `performance_schema`) is absent.

use super::Output;
use super::mysql::Names;
use crate::collect::mysql::derive;
use crate::collect::mysql::processlist::{ProcessRow, summarize};
use crate::snapshot::{Mysql, PerformanceSchema, Provenance, Section, Variable};
use std::collections::BTreeMap;
use std::time::Duration;

/// The section, and the seconds between its first and last status readings when the text tells
/// them.
pub struct Built {
    pub section: Section<Mysql>,
    pub gap_s: Option<f64>,
    pub readings: usize,
}

type Pairs = Vec<(String, String)>;

/// Builds the `mysql` section from the MySQL outputs among `outputs`; `None` when there are none.
pub fn mysql(
    outputs: &[(Output, Provenance)],
    used: &mut BTreeMap<usize, &'static str>,
) -> Option<Built> {
    let Gathered {
        mut readings,
        variables,
        rows,
        innodb,
        from,
    } = gather(outputs, used)?;
    let mut notes = Vec::new();
    let relative = absolute(&mut readings);
    if let Some(s) = innodb {
        notes.extend(innodb_notes(s, &mut readings));
    }
    if relative > 0 {
        notes.push(format!(
            "{relative} reading(s) read as mysqladmin -r differences (Uptime not above the one \
             before) and added to the totals before them"
        ));
    }
    let uptime = |r: &Pairs| {
        r.iter()
            .find(|(k, _)| k == "Uptime")
            .and_then(|(_, v)| v.trim().parse::<i64>().ok())
    };
    let gap_s = match (readings.first(), readings.last()) {
        (Some(a), Some(b)) if readings.len() >= 2 => uptime(a)
            .zip(uptime(b))
            .map(|(a, b)| (b - a) as f64)
            .filter(|g| *g > 0.0),
        _ => None,
    };
    let empty = Vec::new();
    let end = readings.last().unwrap_or(&empty);
    let start = if readings.len() >= 2 {
        readings.first().unwrap_or(&empty)
    } else {
        &empty
    };
    let (status, status_text) = derive::split_status(start, end, gap_s.unwrap_or(0.0));
    notes.push(match (readings.len(), gap_s) {
        (0, _) => "no SHOW GLOBAL STATUS in the imported text".to_owned(),
        (1, _) => "one reading of the status counters: totals since the server started, no \
                   rates (paste a second SHOW GLOBAL STATUS taken later, with its Uptime)"
            .to_owned(),
        (n, Some(g)) => format!("{n} SHOW GLOBAL STATUS readings, {g} s apart by their Uptime"),
        (n, None) => format!(
            "{n} SHOW GLOBAL STATUS readings; their Uptime does not tell the time between them, \
             so there is growth but no rates"
        ),
    });
    let text = |k: &str| {
        variables
            .get(k)
            .and_then(Variable::as_text)
            .map(str::to_owned)
    };
    let version = variables.get("version").map(ToString::to_string);
    let (flavor, v) = match &version {
        Some(v) => {
            let (f, a, b, c) =
                derive::flavor_and_version(v, &text("version_comment").unwrap_or_default());
            (Some(f), Some((a, b, c)))
        }
        None => (None, None),
    };
    let processlist = rows.map(|rows| processlist(rows));
    let performance_schema = text("performance_schema").map(|v| PerformanceSchema {
        enabled: v.eq_ignore_ascii_case("ON"),
        top_files_by_io_wait: None,
        top_digests_by_time: None,
        digests_total_ms: None,
        top_synch_waits: None,
    });
    if variables.is_empty() {
        notes.push("no SHOW GLOBAL VARIABLES in the imported text".to_owned());
    }
    if processlist.is_none() {
        notes.push("no SHOW PROCESSLIST in the imported text".to_owned());
    }
    let mysql = Mysql {
        flavor,
        version,
        version_major: v.map(|v| v.0),
        version_minor: v.map(|v| v.1),
        version_patch: v.map(|v| v.2),
        uptime_s: status.get("Uptime").map(|c| c.total),
        processlist,
        performance_schema,
        ..unknown_server(status, status_text, variables)
    };
    let mut section = Section::ok(mysql, Duration::ZERO).with_notes(notes);
    section.imported = from;
    Some(Built {
        section,
        gap_s,
        readings: readings.len(),
    })
}

/// The InnoDB monitor's figures: the history list length as the status MariaDB gives it
/// (`Innodb_history_list_length`, what `mysql-long-transaction` reads) when no status reading has
/// it, the hit rate and pending I/O as notes (they cover the monitor's own interval).
fn innodb_notes(s: &super::innodb::Status, readings: &mut Vec<Pairs>) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(h) = s.history_list_length {
        let has = readings
            .last()
            .is_some_and(|r| r.iter().any(|(k, _)| k == "Innodb_history_list_length"));
        if !has {
            if readings.is_empty() {
                readings.push(Vec::new());
            }
            if let Some(r) = readings.last_mut() {
                r.push(("Innodb_history_list_length".to_owned(), h.to_string()));
            }
        }
    }
    if let Some(r) = s.hit_rate_per_1000 {
        notes.push(format!(
            "SHOW ENGINE INNODB STATUS: buffer pool hit rate {r} / 1000 since its previous output"
        ));
    }
    if !s.pending.is_empty() {
        notes.push(format!(
            "SHOW ENGINE INNODB STATUS: {}",
            s.pending.join("; ")
        ));
    }
    notes
}

/// What the MySQL outputs of the text hold, in order.
struct Gathered<'a> {
    readings: Vec<Pairs>,
    variables: BTreeMap<String, Variable>,
    rows: Option<&'a Vec<super::mysql::Process>>,
    /// The last `SHOW ENGINE INNODB STATUS`.
    innodb: Option<&'a super::innodb::Status>,
    from: Vec<Provenance>,
}

/// Status readings (pieces joined, a repeated name starting the next), variables (the last
/// value of each), the last processlist; marks the outputs used. `None` without any.
fn gather<'a>(
    outputs: &'a [(Output, Provenance)],
    used: &mut BTreeMap<usize, &'static str>,
) -> Option<Gathered<'a>> {
    let mut readings: Vec<Pairs> = Vec::new();
    let mut variables: BTreeMap<String, Variable> = BTreeMap::new();
    let mut rows = None;
    let mut innodb = None;
    let mut names: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut from = Vec::new();
    for (i, (o, p)) in outputs.iter().enumerate() {
        match o {
            Output::MysqlNames {
                names: Names::Status,
                values,
                ..
            } => {
                // The current reading's names, kept beside it: a paste of many dumps would make
                // a search of the reading itself quadratic.
                let repeats = values.iter().any(|(k, _)| names.contains(k.as_str()));
                if readings.is_empty() || repeats {
                    readings.push(Vec::new());
                    names.clear();
                }
                names.extend(values.iter().map(|(k, _)| k.as_str()));
                if let Some(r) = readings.last_mut() {
                    r.extend(values.iter().cloned());
                }
            }
            Output::MysqlNames {
                names: Names::Variables,
                values,
                ..
            } => {
                for (k, v) in values {
                    variables.insert(k.clone(), derive::variable(k, v));
                }
            }
            Output::Processlist { rows: r, .. } => rows = Some(r),
            Output::InnodbStatus(s) => innodb = Some(s),
            _ => continue,
        }
        used.insert(i, "mysql");
        from.push(p.clone());
    }
    if from.is_empty() {
        return None;
    }
    Some(Gathered {
        readings,
        variables,
        rows,
        innodb,
        from,
    })
}

/// The processlist as the collector summarises it; the statements' text redacted as it redacts.
fn processlist(rows: &[super::mysql::Process]) -> crate::snapshot::Processlist {
    let rows: Vec<ProcessRow> = rows
        .iter()
        .map(|p| ProcessRow {
            id: p.id,
            user: p.user.clone(),
            host: p.host.clone(),
            db: p.db.clone(),
            command: p.command.clone(),
            time_s: p.time_s as f64,
            state: p.state.clone(),
            info: p
                .info
                .as_deref()
                .map(|i| crate::scan::redact::redact_sql(i, 200)),
        })
        .collect();
    // No row is doctor's own connection: nothing to leave out.
    summarize(&rows, u64::MAX, false)
}

/// A server known only by its status and variables: the figures the collector derives from them,
/// everything else (its process, the account, storage, `performance_schema`'s lists) absent.
fn unknown_server(
    status: BTreeMap<String, crate::snapshot::Counter>,
    status_text: BTreeMap<String, String>,
    variables: BTreeMap<String, Variable>,
) -> Mysql {
    let d = derive::derive(&status, &variables, None, None);
    Mysql {
        flavor: None,
        version: None,
        version_major: None,
        version_minor: None,
        version_patch: None,
        connection: None,
        uptime_s: None,
        server_pid: None,
        global_status: status,
        global_status_text: status_text,
        variables,
        buffer_pool_hit_rate_pct: d.buffer_pool_hit_rate_pct,
        buffer_pool_hit_rate_since_start_pct: d.buffer_pool_hit_rate_since_start_pct,
        buffer_pool_size_bytes: d.buffer_pool_size_bytes,
        innodb_data_bytes: None,
        buffer_pool_vs_data_pct: None,
        buffer_pool_vs_ram_pct: None,
        connections_used_pct: d.connections_used_pct,
        max_used_connections_pct: d.max_used_connections_pct,
        thread_cache_hit_rate_pct: d.thread_cache_hit_rate_pct,
        thread_cache_hit_rate_since_start_pct: d.thread_cache_hit_rate_since_start_pct,
        connection_errors_delta: d.connection_errors_delta,
        select1_rtt_ms: None,
        select1_rtt_max_ms: None,
        aborted_connections_logged: None,
        processlist: None,
        transactions: None,
        performance_schema: None,
        datadir: None,
        storage: None,
        replica: None,
        missing_privileges: Vec::new(),
        error_log: None,
        collector_cpu_ms: None,
    }
}

/// Turns `mysqladmin -r` difference readings into totals, in place; how many there were.
fn absolute(readings: &mut [Pairs]) -> usize {
    let uptime = |r: &Pairs| {
        r.iter()
            .find(|(k, _)| k == "Uptime")
            .and_then(|(_, v)| v.trim().parse::<i64>().ok())
    };
    let mut relative = 0;
    for i in 1..readings.len() {
        let (before, rest) = readings.split_at_mut(i);
        let prev = &before[i - 1];
        let cur = &mut rest[0];
        let (Some(a), Some(b)) = (uptime(prev), uptime(cur)) else {
            continue;
        };
        if b > a {
            continue;
        }
        relative += 1;
        let totals: BTreeMap<&str, i64> = prev
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.trim().parse::<i64>().ok()?)))
            .collect();
        for (k, v) in cur.iter_mut() {
            if let (Some(t), Ok(d)) = (totals.get(k.as_str()), v.trim().parse::<i64>()) {
                *v = t.saturating_add(d).to_string();
            }
        }
    }
    relative
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Pairs {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn mysqladmin_r_differences_become_totals() {
        let mut r = vec![
            pairs(&[("Uptime", "1000"), ("Connections", "500")]),
            pairs(&[("Uptime", "10"), ("Connections", "40")]),
        ];
        assert_eq!(absolute(&mut r), 1);
        assert_eq!(r[1], pairs(&[("Uptime", "1010"), ("Connections", "540")]));
        // Absolute readings: uptime grows, left as they are.
        let mut r = vec![pairs(&[("Uptime", "1000")]), pairs(&[("Uptime", "1010")])];
        assert_eq!(absolute(&mut r), 0);
    }
}
