//! MySQL's own view of its storage: how long the server waited on its redo log, data files and
//! binary log over the window, and its pending-I/O gauges.
//!
//! Why from the server: a commit with `innodb_flush_log_at_trx_commit = 1` waits for a redo
//! log write and fsync (and, with `sync_binlog = 1`, a binary log fsync), so slow storage is
//! slow commits; and the server sees that latency even where doctor cannot see the device (the
//! server on another host, a managed cloud volume, a container's volume).
//!
//! Sources, both read at each end of the window right beside `SHOW GLOBAL STATUS`:
//! `performance_schema.file_summary_by_event_name` for three instruments — one statement per
//! end, only when `performance_schema` is ON and only on a server that writes (see [`Start`]:
//! else one narrow status query instead of the two) — and the InnoDB
//! status counters already read (`Innodb_data_pending_fsyncs`, `Innodb_os_log_pending_fsyncs`,
//! `Innodb_data_pending_writes`, `Innodb_data_fsyncs`, `Innodb_os_log_fsyncs`,
//! `Innodb_log_waits`). Instrument names: MySQL 8.0 Reference Manual, "File I/O Summary
//! Tables" and `setup_instruments` (`wait/io/file/innodb/innodb_log_file`,
//! `.../innodb_data_file`, `wait/io/file/sql/binlog`). MariaDB removed the redo log instrument
//! in 10.8 (MDEV-27848, commit f1beeb58e6: its redo log writes bypass `performance_schema`),
//! and `Innodb_os_log_fsyncs`/`_pending_fsyncs`/`_pending_writes` with it; checked on 10.11,
//! which also counts only the data files' fsyncs in `Innodb_data_pending_fsyncs` and the redo
//! log's in `Innodb_data_fsyncs`.

use super::left_out::{Parts, is_fatal};
use crate::collect::Failure;
use crate::snapshot::{FileWaits, Reading, Storage, round2};
use mysql::prelude::Queryable;
use mysql::{Conn, Row};
use std::collections::BTreeMap;
use std::time::Instant;

pub const REDO_LOG: &str = "wait/io/file/innodb/innodb_log_file";
pub const DATA_FILES: &str = "wait/io/file/innodb/innodb_data_file";
pub const BINLOG: &str = "wait/io/file/sql/binlog";

/// One row of `file_summary_by_event_name`: totals since the server started (or the table
/// was truncated); timers in picoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileRow {
    pub event: String,
    pub count_write: u64,
    pub timer_write: u64,
    pub bytes_write: u64,
    pub count_misc: u64,
    pub timer_misc: u64,
}

/// A reading of the file summary: the rows, or the (non-fatal) error that kept them out.
type FileReading = mysql::Result<Vec<FileRow>>;

/// The file summary's start reading, or why there is none (yet).
///
/// Why not always: the server answers `file_summary_by_event_name` by visiting every open file
/// once per file instrument, so on a server with thousands of tables one reading costs it
/// ~4 ms of CPU (MariaDB 10.11, 5000 tables, `benches/mysql.sh`) — more than the rest of a
/// status reading. File waits only say something when the server writes; on a server that ran
/// nothing and wrote nothing by the probe, they are not read and a note says so.
pub enum Start {
    /// `performance_schema` is off: nothing to read.
    Off,
    /// Nothing ran and nothing was pending at the start: the probe decides.
    Deferred,
    /// Nothing was written, running or pending by the probe either: not read.
    Quiet,
    /// Read (or tried) at `at`.
    Read { at: Instant, rows: FileReading },
}

/// Both readings, and the time between them.
pub struct Readings {
    start: Start,
    end: Option<FileReading>,
    seconds: Option<f64>,
}

/// The status counters that move when InnoDB writes, and the gauges of work in flight. The
/// probe reads them with `LIKE 'Innodb\_%'`: MariaDB filters a `LIKE` before it makes the rows,
/// so it neither sums every connection's counters nor counts the running threads to answer
/// (0.2 ms of server CPU with 2000 connections, where `WHERE Variable_name IN (...)` or
/// `Threads_running` cost ~1 ms: MariaDB 10.11, `MYSQL_BENCH_EXPLORE` in benches/mysql.rs).
/// `Threads_running` is only looked at in the start reading, which has it anyway.
const WRITES: [&str; 3] = [
    "Innodb_data_written",
    "Innodb_data_fsyncs",
    "Innodb_os_log_written",
];
const IN_FLIGHT: [&str; 5] = [
    "Innodb_data_pending_fsyncs",
    "Innodb_data_pending_writes",
    "Innodb_os_log_pending_fsyncs",
    "Innodb_os_log_pending_writes",
    "Threads_running",
];

/// Whether the server is busy at a status reading: a statement running besides doctor's own, or
/// I/O in flight.
fn busy(status: &BTreeMap<&str, i64>) -> bool {
    IN_FLIGHT.iter().any(|name| {
        let v = status.get(name).copied().unwrap_or(0);
        if *name == "Threads_running" {
            v > 1
        } else {
            v > 0
        }
    })
}

/// Whether InnoDB wrote between two readings.
fn wrote(a: &BTreeMap<&str, i64>, b: &BTreeMap<&str, i64>) -> bool {
    WRITES
        .iter()
        .any(|name| matches!((a.get(name), b.get(name)), (Some(x), Some(y)) if y != x))
}

/// The start reading, right after the start `SHOW GLOBAL STATUS`: taken now when the server is
/// busy, else left to the probe. Only an error that ends the connection (dead, hung) is
/// returned; a denied table is kept and reported at the end.
pub fn begin(
    conn: &mut Conn,
    variables: &[(String, String)],
    status: &[(String, String)],
) -> mysql::Result<Start> {
    let on = variables
        .iter()
        .any(|(k, v)| k == "performance_schema" && v.eq_ignore_ascii_case("ON"));
    if !on {
        return Ok(Start::Off);
    }
    if !busy(&numbers(status)) {
        return Ok(Start::Deferred);
    }
    read(conn)
}

/// A quarter into the window (at most 250 ms): one narrow status query, and the file summary's
/// start reading when InnoDB wrote since the start or is busy now.
pub fn probe(conn: &mut Conn, start: &mut Start, status: &[(String, String)]) -> mysql::Result<()> {
    if !matches!(start, Start::Deferred) {
        return Ok(());
    }
    let now = super::queries::show_global(conn, "STATUS LIKE 'Innodb\\_%'");
    let now = match now {
        Err(e) if is_fatal(&e) => return Err(e),
        // Not fatal (the statement refused): read the file summary rather than guess.
        Err(_) => return read(conn).map(|s| *start = s),
        Ok(v) => v,
    };
    let (before, now) = (numbers(status), numbers(&now));
    *start = if wrote(&before, &now) || busy(&now) {
        read(conn)?
    } else {
        Start::Quiet
    };
    Ok(())
}

fn read(conn: &mut Conn) -> mysql::Result<Start> {
    let at = Instant::now();
    match file_rows(conn) {
        Err(e) if is_fatal(&e) => Err(e),
        rows => Ok(Start::Read { at, rows }),
    }
}

/// The end reading, right after the end `SHOW GLOBAL STATUS`; only when the start one worked.
pub fn end(conn: &mut Conn, start: Start) -> mysql::Result<Readings> {
    let (end, seconds) = match &start {
        Start::Read { at, rows: Ok(_) } => {
            let seconds = at.elapsed().as_secs_f64();
            match file_rows(conn) {
                Err(e) if is_fatal(&e) => return Err(e),
                r => (Some(r), Some(round2(seconds))),
            }
        }
        _ => (None, None),
    };
    Ok(Readings {
        start,
        end,
        seconds,
    })
}

/// The `storage` figures; a file summary that could not be read is left out with a note (and
/// the privilege named in `missing_privileges` when it was denied).
pub fn figures(
    readings: Readings,
    status_start: &[(String, String)],
    status_end: &[(String, String)],
    seconds: f64,
    parts: &mut Parts,
    read_timeout: std::time::Duration,
) -> Result<Storage, Failure> {
    let (rows_start, rows_end) = match (readings.start, readings.end) {
        (Start::Read { rows: Ok(a), .. }, Some(Ok(b))) => (Some(a), Some(b)),
        (Start::Read { rows: Err(e), .. }, _) | (_, Some(Err(e))) => {
            let what = "performance_schema file I/O (storage latency)";
            parts.left_out(what, "SELECT on performance_schema", &e, read_timeout)?;
            (None, None)
        }
        (Start::Quiet | Start::Deferred, _) => {
            parts.notes.push(
                "the file waits (performance_schema file_summary_by_event_name) were not read: \
                 the server wrote nothing and ran no statement but doctor's in the window's \
                 first quarter (answering costs it a visit of every open file per instrument)"
                    .to_owned(),
            );
            (None, None)
        }
        _ => (None, None), // performance_schema off: the section's note says so
    };
    if let Some(rows) = &rows_end
        && !rows.iter().any(|r| r.event == REDO_LOG)
    {
        parts.notes.push(format!(
            "the server has no redo log file instrument ({REDO_LOG}; MariaDB removed it in \
             10.8, MDEV-27848): redo log write and sync latency cannot be read; \
             Innodb_data_fsyncs counts the redo log's fsyncs with the data files'"
        ));
    }
    Ok(Storage {
        files_window_s: rows_end.as_ref().and(readings.seconds),
        ..compute(
            rows_start.as_deref(),
            rows_end.as_deref(),
            &numbers(status_start),
            &numbers(status_end),
            seconds,
        )
    })
}

/// Whether the window shows the server waiting on its files: an average write or sync of 5 ms
/// or more (half the slow-storage rule's line) over at least two operations, or fsyncs pending
/// at the end. Only then is it worth asking which files (`file_summary_by_instance` makes a row
/// for every open file: ~3 ms of server CPU with 5000 tables).
pub fn waited_on_files(storage: &Storage) -> bool {
    let slow = |w: &Option<FileWaits>| {
        w.as_ref().is_some_and(|w| {
            (w.writes >= 2 && w.write_avg_ms.is_some_and(|ms| ms >= 5.0))
                || (w.syncs >= 2 && w.sync_avg_ms.is_some_and(|ms| ms >= 5.0))
        })
    };
    let pending = |r: &Option<Reading>| r.as_ref().is_some_and(|r| r.end > 0);
    slow(&storage.redo_log)
        || slow(&storage.data_files)
        || slow(&storage.binlog)
        || pending(&storage.data_pending_fsyncs)
        || pending(&storage.log_pending_fsyncs)
}

/// The integer status values by name.
fn numbers(status: &[(String, String)]) -> BTreeMap<&str, i64> {
    status
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.trim().parse().ok()?)))
        .collect()
}

/// The figures from both readings. Pure, for the unit tests.
#[must_use]
pub fn compute(
    rows_start: Option<&[FileRow]>,
    rows_end: Option<&[FileRow]>,
    status_start: &BTreeMap<&str, i64>,
    status_end: &BTreeMap<&str, i64>,
    seconds: f64,
) -> Storage {
    let file = |event: &str| {
        let find = |rows: Option<&[FileRow]>| rows?.iter().find(|r| r.event == event).cloned();
        waits(&find(rows_start)?, &find(rows_end)?)
    };
    let reading = |name: &str| {
        Some(Reading {
            start: *status_start.get(name)?,
            end: *status_end.get(name)?,
        })
    };
    let delta = |name: &str| {
        let (a, b) = (status_start.get(name)?, status_end.get(name)?);
        (b >= a).then(|| b - a)
    };
    let per_s = |name: &str| {
        let d = delta(name)?;
        (seconds > 0.0).then(|| round2(d as f64 / seconds))
    };
    Storage {
        redo_log: file(REDO_LOG),
        data_files: file(DATA_FILES),
        binlog: file(BINLOG),
        data_pending_fsyncs: reading("Innodb_data_pending_fsyncs"),
        log_pending_fsyncs: reading("Innodb_os_log_pending_fsyncs"),
        data_pending_writes: reading("Innodb_data_pending_writes"),
        data_fsyncs_per_s: per_s("Innodb_data_fsyncs"),
        log_fsyncs_per_s: per_s("Innodb_os_log_fsyncs"),
        log_waits: delta("Innodb_log_waits"),
        files_window_s: None,
    }
}

/// The growth of one instrument between the readings. `None` when a total went backwards
/// (the table was truncated, or the server restarted, during the window).
fn waits(a: &FileRow, b: &FileRow) -> Option<FileWaits> {
    let d = |f: fn(&FileRow) -> u64| f(b).checked_sub(f(a));
    let (writes, timer_write) = (d(|r| r.count_write)?, d(|r| r.timer_write)?);
    let (syncs, timer_misc) = (d(|r| r.count_misc)?, d(|r| r.timer_misc)?);
    // An instrument that is enabled but not timed counts operations with a zero timer: no
    // average rather than a false 0 ms.
    let avg = |n: u64, ps: u64| (n > 0 && ps > 0).then(|| round2(ps as f64 / n as f64 / 1e9));
    Some(FileWaits {
        event: b.event.clone(),
        writes,
        write_bytes: d(|r| r.bytes_write)?,
        write_avg_ms: avg(writes, timer_write),
        syncs,
        sync_avg_ms: avg(syncs, timer_misc),
    })
}

/// The three instruments' totals: at most three rows, a summary table the server keeps in
/// memory (no lock an application could wait on).
fn file_rows(conn: &mut Conn) -> mysql::Result<Vec<FileRow>> {
    let rows: Vec<Row> = conn.query(format!(
        "SELECT EVENT_NAME, COUNT_WRITE, SUM_TIMER_WRITE, SUM_NUMBER_OF_BYTES_WRITE, \
         COUNT_MISC, SUM_TIMER_MISC \
         FROM performance_schema.file_summary_by_event_name \
         WHERE EVENT_NAME IN ('{REDO_LOG}', '{DATA_FILES}', '{BINLOG}')"
    ))?;
    Ok(rows.iter().filter_map(file_row).collect())
}

/// A row whose numbers do not parse is left out (its figures are then absent), never zeroed.
fn file_row(r: &Row) -> Option<FileRow> {
    let n = |i: usize| -> Option<u64> {
        match r.as_ref(i)? {
            mysql::Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
            mysql::Value::UInt(u) => Some(*u),
            mysql::Value::Int(i) => u64::try_from(*i).ok(),
            _ => None,
        }
    };
    let event = match r.as_ref(0)? {
        mysql::Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        _ => return None,
    };
    Some(FileRow {
        event,
        count_write: n(1)?,
        timer_write: n(2)?,
        bytes_write: n(3)?,
        count_misc: n(4)?,
        timer_misc: n(5)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(event: &str, w: u64, tw_ms: u64, misc: u64, tm_ms: u64) -> FileRow {
        FileRow {
            event: event.into(),
            count_write: w,
            timer_write: tw_ms * 1_000_000_000,
            bytes_write: w * 512,
            count_misc: misc,
            timer_misc: tm_ms * 1_000_000_000,
        }
    }

    fn status(pairs: &[(&'static str, i64)]) -> BTreeMap<&'static str, i64> {
        pairs.iter().copied().collect()
    }

    /// MySQL 8: the redo log wrote 100 times in 2 s taking 300 ms and synced 50 times taking
    /// 2.5 s (50 ms each); the data files synced nothing; the binary log is off (no growth).
    #[test]
    fn busy_is_a_statement_besides_doctors_or_io_in_flight() {
        assert!(!busy(&status(&[
            ("Threads_running", 1),
            ("Innodb_data_pending_fsyncs", 0)
        ])));
        assert!(busy(&status(&[("Threads_running", 2)])));
        assert!(busy(&status(&[
            ("Threads_running", 1),
            ("Innodb_data_pending_writes", 1)
        ])));
        assert!(!busy(&status(&[])), "absent gauges are not busy");
    }

    #[test]
    fn wrote_compares_the_write_counters_present_in_both() {
        let a = status(&[("Innodb_data_written", 100), ("Innodb_data_fsyncs", 7)]);
        assert!(!wrote(&a, &a));
        let b = status(&[("Innodb_data_written", 100), ("Innodb_data_fsyncs", 8)]);
        assert!(wrote(&a, &b));
        // A counter the probe did not get back is not a write.
        assert!(!wrote(&a, &status(&[("Innodb_data_written", 100)])));
    }

    #[test]
    fn files_are_named_only_when_the_server_waited_on_them() {
        let mut s = Storage::default();
        assert!(!waited_on_files(&s));
        s.data_files = Some(FileWaits {
            event: DATA_FILES.to_owned(),
            writes: 10,
            write_bytes: 1,
            write_avg_ms: Some(0.1),
            syncs: 1,
            sync_avg_ms: Some(900.0),
        });
        assert!(!waited_on_files(&s), "one slow sync is an anecdote");
        s.data_files.as_mut().unwrap().syncs = 2;
        assert!(waited_on_files(&s));
        s.data_files = None;
        s.data_pending_fsyncs = Some(Reading { start: 0, end: 1 });
        assert!(waited_on_files(&s));
    }

    #[test]
    fn averages_over_the_window_not_since_start() {
        let a = [
            row(REDO_LOG, 1000, 100, 500, 1000),
            row(DATA_FILES, 10, 1, 5, 5),
            row(BINLOG, 0, 0, 0, 0),
        ];
        let b = [
            row(REDO_LOG, 1100, 400, 550, 3500),
            row(DATA_FILES, 10, 1, 5, 5),
            row(BINLOG, 0, 0, 0, 0),
        ];
        let s = compute(
            Some(&a),
            Some(&b),
            &status(&[
                ("Innodb_os_log_pending_fsyncs", 1),
                ("Innodb_data_fsyncs", 100),
                ("Innodb_os_log_fsyncs", 40),
                ("Innodb_log_waits", 3),
            ]),
            &status(&[
                ("Innodb_os_log_pending_fsyncs", 2),
                ("Innodb_data_fsyncs", 160),
                ("Innodb_os_log_fsyncs", 90),
                ("Innodb_log_waits", 7),
            ]),
            2.0,
        );
        let redo = s.redo_log.unwrap();
        assert_eq!((redo.writes, redo.syncs), (100, 50));
        assert_eq!(redo.write_avg_ms, Some(3.0));
        assert_eq!(redo.sync_avg_ms, Some(50.0));
        assert_eq!(redo.write_bytes, 100 * 512);
        let data = s.data_files.unwrap();
        assert_eq!((data.writes, data.syncs), (0, 0));
        assert_eq!((data.write_avg_ms, data.sync_avg_ms), (None, None));
        assert!(s.binlog.is_some());
        assert_eq!(s.log_pending_fsyncs, Some(Reading { start: 1, end: 2 }));
        assert_eq!(s.data_pending_fsyncs, None); // not in this status: absent, not 0
        assert_eq!(s.data_fsyncs_per_s, Some(30.0));
        assert_eq!(s.log_fsyncs_per_s, Some(25.0));
        assert_eq!(s.log_waits, Some(4));
    }

    /// MariaDB 10.11 as seen here: no redo log row, no `Innodb_os_log_*` counters.
    #[test]
    fn what_the_server_lacks_is_absent() {
        let a = [row(DATA_FILES, 0, 0, 27, 433)];
        let b = [row(DATA_FILES, 44, 0, 34, 696)];
        let st = status(&[
            ("Innodb_data_pending_fsyncs", 0),
            ("Innodb_data_pending_writes", 0),
            ("Innodb_data_fsyncs", 927),
        ]);
        let en = status(&[
            ("Innodb_data_pending_fsyncs", 1),
            ("Innodb_data_pending_writes", 0),
            ("Innodb_data_fsyncs", 939),
        ]);
        let s = compute(Some(&a), Some(&b), &st, &en, 3.0);
        assert_eq!(s.redo_log, None);
        assert_eq!(s.binlog, None);
        let data = s.data_files.unwrap();
        assert_eq!(data.syncs, 7);
        assert_eq!(data.sync_avg_ms, Some(37.57)); // 263 ms over 7 syncs
        // 44 writes counted with no time: the instrument is not timed, so no average.
        assert_eq!((data.writes, data.write_avg_ms), (44, None));
        assert_eq!(s.data_pending_fsyncs, Some(Reading { start: 0, end: 1 }));
        assert_eq!(s.data_fsyncs_per_s, Some(4.0));
        assert_eq!((s.log_fsyncs_per_s, s.log_pending_fsyncs), (None, None));
    }

    #[test]
    fn performance_schema_off_or_truncated_leaves_only_the_counters() {
        let st = status(&[("Innodb_log_waits", 5)]);
        let en = status(&[("Innodb_log_waits", 5)]);
        let s = compute(None, None, &st, &en, 1.0);
        assert_eq!((s.redo_log, s.data_files), (None, None));
        assert_eq!(s.log_waits, Some(0)); // read, and none: a real zero
        // TRUNCATE TABLE file_summary_by_event_name during the window: totals went back.
        let a = [row(REDO_LOG, 100, 10, 50, 10)];
        let b = [row(REDO_LOG, 5, 1, 2, 1)];
        assert_eq!(compute(Some(&a), Some(&b), &st, &en, 1.0).redo_log, None);
        // A restart during the window: counters backwards, no rate; a zero window, no rate.
        let back = status(&[("Innodb_data_fsyncs", 10), ("Innodb_log_waits", 1)]);
        let fwd = status(&[("Innodb_data_fsyncs", 20), ("Innodb_log_waits", 6)]);
        let s = compute(None, None, &fwd, &back, 1.0);
        assert_eq!((s.data_fsyncs_per_s, s.log_waits), (None, None));
        assert_eq!(
            compute(None, None, &back, &fwd, 0.0).data_fsyncs_per_s,
            None
        );
    }
}
