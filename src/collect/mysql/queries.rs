//! The statements doctor sends. All are reads, each bounded (`LIMIT`, or a server-sized list
//! such as `SHOW GLOBAL STATUS`), and none takes a lock an application could wait on.
//!
//! Row values are read as bytes and decoded leniently: a server with a non-UTF-8 path or
//! statement must not fail the whole section.

use super::processlist::{PROCESSLIST_LIMIT, ProcessRow};
use super::transactions::{LOCK_WAITS_LIMIT, TRX_LIMIT, TrxRow};
use crate::snapshot::{Digest, FileIo, Flavor, Replica, SynchWait, round2};
use mysql::prelude::Queryable;
use mysql::{Conn, Row, Value};
use std::collections::BTreeSet;

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(d) => Some(d.to_string()),
        other => Some(other.as_sql(true)),
    }
}

fn num(v: Option<&Value>) -> Option<f64> {
    text(v)?.trim().parse().ok()
}

fn count(v: Option<&Value>) -> u64 {
    num(v).map_or(0, |n| n.max(0.0) as u64)
}

/// Picoseconds (the `performance_schema` timer unit) to milliseconds.
fn ps_to_ms(v: Option<&Value>) -> f64 {
    round2(num(v).unwrap_or(0.0) / 1e9)
}

/// `SHOW GLOBAL STATUS` or `SHOW GLOBAL VARIABLES` as name/value pairs.
pub fn show_global(conn: &mut Conn, what: &str) -> mysql::Result<Vec<(String, String)>> {
    let rows: Vec<Row> = conn.query(format!("SHOW GLOBAL {what}"))?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((text(r.as_ref(0))?, text(r.as_ref(1)).unwrap_or_default())))
        .collect())
}

/// The global privileges of the account doctor is logged in as (`PROCESS`, `SUPER`, ...).
/// `CURRENT_USER()` is the account the server matched, which is how `USER_PRIVILEGES` names it.
pub fn privileges(conn: &mut Conn) -> mysql::Result<BTreeSet<String>> {
    let rows: Vec<Row> = conn.query(
        "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES \
         WHERE GRANTEE = CONCAT('''', LEFT(CURRENT_USER(), CHAR_LENGTH(CURRENT_USER()) - \
         CHAR_LENGTH(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)) - 1), '''@''', \
         SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')",
    )?;
    Ok(rows.iter().filter_map(|r| text(r.as_ref(0))).collect())
}

/// Times `n` round trips of `SELECT 1`, in milliseconds.
pub fn select1_rtts(conn: &mut Conn, n: usize) -> mysql::Result<Vec<f64>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = std::time::Instant::now();
        let _: Option<u8> = conn.query_first("SELECT 1")?;
        out.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(out)
}

/// The processlist with `SHOW PROCESSLIST`: statement text already cut to 100 characters by the
/// server, and far cheaper than `information_schema.PROCESSLIST`, which MariaDB fills with
/// per-thread memory figures (measured with 2000 connections on MariaDB 10.11: 0.5 ms of server
/// CPU against 4 ms; benches/mysql.rs). At most [`PROCESSLIST_LIMIT`] rows are kept; the flag
/// says there were more. `Time` is whole seconds in both flavours.
pub fn processlist(conn: &mut Conn) -> mysql::Result<(Vec<ProcessRow>, bool)> {
    let mut list = Vec::new();
    let mut truncated = false;
    for row in conn.query_iter("SHOW PROCESSLIST")? {
        let r = row?;
        if list.len() == PROCESSLIST_LIMIT {
            truncated = true;
            continue; // the rest must still be read off the connection
        }
        list.push(ProcessRow {
            id: count(r.as_ref(0)),
            user: text(r.as_ref(1)).unwrap_or_default(),
            host: text(r.as_ref(2)).unwrap_or_default(),
            db: text(r.as_ref(3)),
            command: text(r.as_ref(4)).unwrap_or_default(),
            time_s: num(r.as_ref(5)).unwrap_or(0.0),
            state: text(r.as_ref(6)),
            info: text(r.as_ref(7)),
        });
    }
    Ok((list, truncated))
}

pub fn top_files_by_io_wait(conn: &mut Conn) -> mysql::Result<Vec<FileIo>> {
    let rows: Vec<Row> = conn.query(
        "SELECT FILE_NAME, EVENT_NAME, COUNT_READ, COUNT_WRITE, SUM_NUMBER_OF_BYTES_READ, \
         SUM_NUMBER_OF_BYTES_WRITE, SUM_TIMER_WAIT \
         FROM performance_schema.file_summary_by_instance \
         WHERE SUM_TIMER_WAIT > 0 ORDER BY SUM_TIMER_WAIT DESC LIMIT 10",
    )?;
    Ok(rows
        .iter()
        .map(|r| FileIo {
            file: text(r.as_ref(0)).unwrap_or_default(),
            event: text(r.as_ref(1)).unwrap_or_default(),
            reads: count(r.as_ref(2)),
            writes: count(r.as_ref(3)),
            read_bytes: count(r.as_ref(4)),
            write_bytes: count(r.as_ref(5)),
            io_wait_ms: ps_to_ms(r.as_ref(6)),
        })
        .collect())
}

/// The top digests by total time, with when each last ran and the total time of every digest
/// (the same on each row: an uncorrelated subquery, evaluated once), so a digest's share of the
/// server's statement time is known without another round trip.
pub fn top_digests_by_time(conn: &mut Conn) -> mysql::Result<(Vec<Digest>, Option<f64>)> {
    let rows: Vec<Row> = conn.query(
        "SELECT SCHEMA_NAME, DIGEST, LEFT(DIGEST_TEXT, 1000), COUNT_STAR, SUM_TIMER_WAIT, \
         AVG_TIMER_WAIT, MAX_TIMER_WAIT, SUM_ROWS_EXAMINED, SUM_ROWS_SENT, SUM_NO_INDEX_USED, \
         SUM_CREATED_TMP_DISK_TABLES, TIMESTAMPDIFF(MICROSECOND, LAST_SEEN, NOW(6)) / 1e6, \
         (SELECT SUM(SUM_TIMER_WAIT) FROM performance_schema.events_statements_summary_by_digest) \
         FROM performance_schema.events_statements_summary_by_digest \
         ORDER BY SUM_TIMER_WAIT DESC LIMIT 10",
    )?;
    let total = rows.first().map(|r| ps_to_ms(r.as_ref(12)));
    let digests = rows
        .iter()
        .map(|r| {
            let raw = text(r.as_ref(2)).unwrap_or_default();
            Digest {
                schema: text(r.as_ref(0)),
                digest: text(r.as_ref(1)).unwrap_or_default(),
                // Already normalised by the server; redacted again in case a build keeps literals.
                text: crate::scan::redact::redact_sql(&raw, 200),
                count: count(r.as_ref(3)),
                total_ms: ps_to_ms(r.as_ref(4)),
                avg_ms: ps_to_ms(r.as_ref(5)),
                max_ms: ps_to_ms(r.as_ref(6)),
                rows_examined: count(r.as_ref(7)),
                rows_sent: count(r.as_ref(8)),
                no_index_used: count(r.as_ref(9)),
                tmp_disk_tables: count(r.as_ref(10)),
                table: super::statement::first_table(&raw),
                last_seen_s_ago: num(r.as_ref(11)).map(|s| round2(s.max(0.0))),
            }
        })
        .collect();
    // No digest at all: nothing ran, so the total is 0, not unknown.
    Ok((digests, Some(total.unwrap_or(0.0))))
}

/// The oldest open InnoDB transactions (at most [`TRX_LIMIT`]; the flag says there were more),
/// ages in whole seconds as `trx_started` has them. Needs `PROCESS`.
pub fn innodb_trx(conn: &mut Conn) -> mysql::Result<(Vec<TrxRow>, bool)> {
    let rows: Vec<Row> = conn.query(format!(
        "SELECT trx_id, trx_mysql_thread_id, trx_state, \
         TIMESTAMPDIFF(SECOND, trx_started, NOW()), \
         TIMESTAMPDIFF(SECOND, trx_wait_started, NOW()), trx_rows_locked, trx_rows_modified, \
         trx_tables_locked, LEFT(trx_query, 1000) \
         FROM information_schema.INNODB_TRX ORDER BY trx_started LIMIT {}",
        TRX_LIMIT + 1
    ))?;
    let truncated = rows.len() > TRX_LIMIT;
    Ok((
        rows.iter()
            .take(TRX_LIMIT)
            .map(|r| TrxRow {
                trx_id: text(r.as_ref(0)).unwrap_or_default(),
                session_id: count(r.as_ref(1)),
                state: text(r.as_ref(2)).unwrap_or_default(),
                age_s: num(r.as_ref(3)).unwrap_or(0.0),
                lock_wait_s: num(r.as_ref(4)),
                rows_locked: count(r.as_ref(5)),
                rows_modified: count(r.as_ref(6)),
                tables_locked: count(r.as_ref(7)),
                query: text(r.as_ref(8)),
            })
            .collect(),
        truncated,
    ))
}

/// Who waits for whose row lock: `(requesting trx_id, blocking trx_id)`, and the table read.
/// MySQL 8 moved them to `performance_schema.data_lock_waits` (needs `SELECT` on it); MariaDB
/// and MySQL 5.7 keep `information_schema.INNODB_LOCK_WAITS` (needs `PROCESS`).
pub fn lock_waits(
    conn: &mut Conn,
    flavor: Flavor,
    version: (u32, u32, u32),
) -> mysql::Result<(&'static str, Vec<(String, String)>)> {
    let (source, sql) = match flavor {
        Flavor::Mysql if version >= (8, 0, 0) => (
            "performance_schema.data_lock_waits",
            "SELECT REQUESTING_ENGINE_TRANSACTION_ID, BLOCKING_ENGINE_TRANSACTION_ID \
             FROM performance_schema.data_lock_waits",
        ),
        _ => (
            "information_schema.INNODB_LOCK_WAITS",
            "SELECT requesting_trx_id, blocking_trx_id FROM information_schema.INNODB_LOCK_WAITS",
        ),
    };
    let rows: Vec<Row> = conn.query(format!("{sql} LIMIT {LOCK_WAITS_LIMIT}"))?;
    Ok((
        source,
        rows.iter()
            .filter_map(|r| Some((text(r.as_ref(0))?, text(r.as_ref(1))?)))
            .collect(),
    ))
}

/// `trx_rseg_history_len` from `information_schema.INNODB_METRICS` (on by default), for MySQL,
/// whose status has no `Innodb_history_list_length`. Needs `PROCESS`.
pub fn history_list_length(conn: &mut Conn) -> mysql::Result<Option<u64>> {
    let v: Option<Row> = conn.query_first(
        "SELECT COUNT FROM information_schema.INNODB_METRICS \
         WHERE NAME = 'trx_rseg_history_len' LIMIT 1",
    )?;
    Ok(v.map(|r| count(r.as_ref(0))))
}

/// Whether any mutex/rwlock/condition instrument is enabled and timed. They are off by default,
/// and summarising waits costs the server time per connected thread (12 ms of CPU with 2000
/// connections on MariaDB 10.11), so the top list is only read when it can hold something.
pub fn synch_instruments_on(conn: &mut Conn) -> mysql::Result<bool> {
    let n: Option<u64> = conn.query_first(
        "SELECT COUNT(*) FROM performance_schema.setup_instruments \
         WHERE NAME LIKE 'wait/synch/%' AND ENABLED = 'YES' AND TIMED = 'YES'",
    )?;
    Ok(n.unwrap_or(0) > 0)
}

pub fn top_synch_waits(conn: &mut Conn) -> mysql::Result<Vec<SynchWait>> {
    let rows: Vec<Row> = conn.query(
        "SELECT EVENT_NAME, COUNT_STAR, SUM_TIMER_WAIT \
         FROM performance_schema.events_waits_summary_global_by_event_name \
         WHERE EVENT_NAME LIKE 'wait/synch/%' AND COUNT_STAR > 0 \
         ORDER BY SUM_TIMER_WAIT DESC LIMIT 10",
    )?;
    Ok(rows
        .iter()
        .map(|r| SynchWait {
            event: text(r.as_ref(0)).unwrap_or_default(),
            count: count(r.as_ref(1)),
            total_ms: ps_to_ms(r.as_ref(2)),
        })
        .collect())
}

/// InnoDB data and index pages from the persistent statistics: one small table, cheap even with
/// tens of thousands of tables, where `information_schema.TABLES` would open every table.
pub fn innodb_data_pages(conn: &mut Conn) -> mysql::Result<u64> {
    let v: Option<Row> = conn.query_first(
        "SELECT COALESCE(SUM(clustered_index_size + sum_of_other_index_sizes), 0) \
         FROM mysql.innodb_table_stats",
    )?;
    Ok(v.map_or(0, |r| count(r.as_ref(0))))
}

/// `SHOW REPLICA STATUS` where the server knows it (MariaDB 10.5.1+, MySQL 8.0.22+), else
/// `SHOW SLAVE STATUS`; column names differ between the two and between flavours.
pub fn replica(
    conn: &mut Conn,
    flavor: Flavor,
    version: (u32, u32, u32),
) -> mysql::Result<Replica> {
    let new_syntax = match flavor {
        Flavor::Mariadb => version >= (10, 5, 1),
        Flavor::Mysql => version >= (8, 0, 22),
    };
    let sql = if new_syntax {
        "SHOW REPLICA STATUS"
    } else {
        "SHOW SLAVE STATUS"
    };
    let row: Option<Row> = conn.query_first(sql)?;
    let Some(row) = row else {
        return Ok(Replica {
            configured: false,
            io_running: None,
            sql_running: None,
            seconds_behind_source: None,
            last_error: None,
        });
    };
    let get = |names: &[&str]| {
        names.iter().find_map(|n| {
            row.columns_ref()
                .iter()
                .position(|c| c.name_str().eq_ignore_ascii_case(n))
                .and_then(|i| text(row.as_ref(i)))
        })
    };
    let last_error = [get(&["Last_IO_Error"]), get(&["Last_SQL_Error"])]
        .into_iter()
        .flatten()
        .find(|e| !e.is_empty())
        .map(|e| e.chars().take(200).collect());
    Ok(Replica {
        configured: true,
        io_running: get(&["Replica_IO_Running", "Slave_IO_Running"]),
        sql_running: get(&["Replica_SQL_Running", "Slave_SQL_Running"]),
        seconds_behind_source: get(&["Seconds_Behind_Source", "Seconds_Behind_Master"])
            .and_then(|s| s.parse().ok()),
        last_error,
    })
}
