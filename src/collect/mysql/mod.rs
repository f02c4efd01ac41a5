//! The MySQL / MariaDB collector: one connection, `SHOW GLOBAL STATUS` at both ends of the
//! window, the variables, the processlist summarised, the `performance_schema` top lists, and
//! where the data lives.
//!
//! It runs as a [`Remote`] collector on its own thread with a deadline, so a hung server costs
//! at most the deadline. Every statement is a read with a `LIMIT` or a server-bounded result;
//! the connection has connect and read timeouts. A part the account may not read (no `PROCESS`,
//! no `performance_schema` access, no `SLAVE MONITOR`) is left out and named in
//! `missing_privileges` and the notes; the rest is still collected.

pub mod clients;
mod collector;
pub mod connect;
pub mod derive;
mod files;
mod left_out;
pub mod locate;
mod login;
mod lost;
pub mod optfile;
pub mod options;
pub mod processlist;
mod queries;
pub mod server;
pub mod settings;
pub mod statement;
mod storage;
pub mod threads;
pub mod transactions;
pub mod url;

use super::Failure;
use super::remote::Remote;
use crate::snapshot::{Flavor, Mysql, PerformanceSchema, Variable};
use left_out::{Parts, is_fatal};
use mysql::Conn;
use settings::Target;
use std::collections::{BTreeMap, BTreeSet};

pub use collector::{Collector, Host};
pub use login::plan;
pub use url::{Secret, UrlSpec, parse_url};

/// The collector between its two readings.
pub struct Start {
    conn: Conn,
    target: Target,
    variables: Vec<(String, String)>,
    privileges: BTreeSet<String>,
    status: Vec<(String, String)>,
    /// When `status` was read: a server's `Uptime` shorter than the time since then means it
    /// restarted ([`lost`]).
    status_at: std::time::Instant,
    storage: storage::Start,
}

impl Remote for Collector {
    type Start = Start;
    type Data = Mysql;

    fn begin(&mut self) -> Result<Start, Failure> {
        self.cpu_at_begin = thread_cpu_ms();
        let plan = match self.plan.take() {
            Some(p) => p,
            None => plan(&self.settings)?,
        };
        self.notes.extend(plan.notes.iter().cloned());
        let (mut conn, target) = self.connect(&plan)?;
        let rt = self.settings.read_timeout;
        let fail = |what: &str, e: mysql::Error| {
            Failure::Error(format!(
                "{what} failed on {}: {}",
                target.endpoint,
                connect::describe(&e, rt)
            ))
        };
        let variables = queries::show_global(&mut conn, "VARIABLES")
            .map_err(|e| fail("SHOW GLOBAL VARIABLES", e))?;
        let privileges = match queries::privileges(&mut conn) {
            Ok(p) => p,
            Err(e) if is_fatal(&e) => return Err(fail("reading the account's privileges", e)),
            Err(e) => {
                self.notes.push(format!(
                    "cannot read the account's privileges ({}); assuming none",
                    connect::describe(&e, rt)
                ));
                BTreeSet::new()
            }
        };
        self.hand_over_error_log(&target, &variables);
        // Last, so the window between the two status readings is the one `finish` is told.
        let status =
            queries::show_global(&mut conn, "STATUS").map_err(|e| fail("SHOW GLOBAL STATUS", e))?;
        let status_at = std::time::Instant::now();
        let storage = storage::begin(&mut conn, &variables, &status)
            .map_err(|e| fail("performance_schema file I/O", e))?;
        Ok(Start {
            conn,
            target,
            variables,
            privileges,
            status,
            status_at,
            storage,
        })
    }

    // One sequence of reads whose order is the window's bracketing (status, then storage,
    // right after the other); split up, that order would be spread over functions.
    #[allow(clippy::too_many_lines)]
    fn finish(&mut self, start: Start, seconds: f64) -> Result<Mysql, Failure> {
        let Start {
            mut conn,
            target,
            variables,
            privileges,
            status: status_start,
            status_at,
            storage: storage_start,
        } = start;
        let rt = self.settings.read_timeout;
        let before = lost::Before {
            uptime_s: status_start
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("Uptime"))
                .and_then(|(_, v)| v.parse().ok()),
            at: status_at,
        };
        let timeouts = (self.settings.connect_timeout, rt);
        let error_log = self.error_log.clone();
        // A connection lost in the window (the server killed, restarted, or closing it) is
        // told apart by reconnecting once; any other failure is the statement's own.
        let fail = |what: &str, e: &mysql::Error| {
            if lost::is_lost(e) {
                return lost::explain(&target, e, &before, timeouts, error_log.as_deref());
            }
            let why = connect::describe(e, rt);
            Failure::Error(format!("{what} failed on {}: {why}", target.endpoint))
        };
        let status_end = queries::show_global(&mut conn, "STATUS")
            .map_err(|e| fail("SHOW GLOBAL STATUS", &e))?;
        let storage_readings = storage::end(&mut conn, storage_start)
            .map_err(|e| fail("performance_schema file I/O", &e))?;
        let rtts = queries::select1_rtts(&mut conn, 5).map_err(|e| fail("SELECT 1", &e))?;

        let var_text: BTreeMap<&str, &str> = variables
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let vtext = |k: &str| var_text.get(k).copied().unwrap_or("");
        let (flavor, major, minor, patch) =
            derive::flavor_and_version(vtext("version"), vtext("version_comment"));
        let server = Server {
            flavor,
            version: (major, minor, patch),
            performance_schema: vtext("performance_schema").eq_ignore_ascii_case("ON"),
            page_size: vtext("innodb_page_size").parse().unwrap_or(16384),
            read_timeout: rt,
        };
        let mut parts = Parts::default();
        let storage = storage::figures(
            storage_readings,
            &status_start,
            &status_end,
            seconds,
            &mut parts,
            rt,
        )?;
        let (processlist, process_rows) =
            read_processlist(&mut conn, &server, &privileges, &mut parts)?;
        let history = derive::history_list(&status_start, &status_end);
        let transactions = read_transactions(
            &mut conn,
            &server,
            &privileges,
            process_rows.as_deref(),
            history,
            &mut parts,
        )?;
        let performance_schema = read_performance_schema(
            &mut conn,
            &server,
            storage::waited_on_files(&storage),
            &mut parts,
        )?;
        let innodb_data_bytes = read_data_size(&mut conn, &server, &mut parts)?;
        let replica = read_replica(&mut conn, &server, &mut parts)?;
        // Done with the server: close now rather than after the local work below.
        drop(conn);

        let (status, status_text) = derive::split_status(&status_start, &status_end, seconds);
        let variables: BTreeMap<String, Variable> = variables
            .iter()
            .map(|(k, v)| (k.clone(), derive::variable(k, v)))
            .collect();

        let (local, server_pid, datadir) = self.files(&target, &var_text, &mut parts.notes);
        let d = derive::derive(
            &status,
            &variables,
            innodb_data_bytes,
            local.then_some(self.host.memory_bytes),
        );
        let aborted_logged = derive::aborted_connections_logged(flavor, major, minor, &variables);
        parts
            .notes
            .extend(derive::caveats(flavor, aborted_logged, &d));
        let uptime_s = status.get("Uptime").map_or(0, |c| c.total);
        parts.missing.sort();
        parts.missing.dedup();
        self.notes.append(&mut parts.notes);

        Ok(Mysql {
            flavor: Some(flavor),
            version: Some(vtext("version").to_owned()),
            version_major: Some(major),
            version_minor: Some(minor),
            version_patch: Some(patch),
            connection: Some(connect::connection_info(&target)),
            uptime_s: Some(uptime_s),
            server_pid,
            global_status: status,
            global_status_text: status_text,
            variables,
            buffer_pool_hit_rate_pct: d.buffer_pool_hit_rate_pct,
            buffer_pool_hit_rate_since_start_pct: d.buffer_pool_hit_rate_since_start_pct,
            buffer_pool_size_bytes: d.buffer_pool_size_bytes,
            innodb_data_bytes,
            buffer_pool_vs_data_pct: d.buffer_pool_vs_data_pct,
            buffer_pool_vs_ram_pct: d.buffer_pool_vs_ram_pct,
            connections_used_pct: d.connections_used_pct,
            max_used_connections_pct: d.max_used_connections_pct,
            thread_cache_hit_rate_pct: d.thread_cache_hit_rate_pct,
            thread_cache_hit_rate_since_start_pct: d.thread_cache_hit_rate_since_start_pct,
            connection_errors_delta: d.connection_errors_delta,
            select1_rtt_ms: derive::median(&rtts),
            select1_rtt_max_ms: derive::max(&rtts),
            aborted_connections_logged: aborted_logged,
            processlist,
            transactions,
            performance_schema: Some(performance_schema),
            datadir,
            storage: Some(storage),
            replica,
            missing_privileges: parts.missing,
            error_log: self.error_log.as_ref().map(|p| p.display().to_string()),
            collector_cpu_ms: thread_cpu_ms()
                .zip(self.cpu_at_begin)
                .map(|(end, start)| crate::snapshot::round2(end - start)),
        })
    }

    /// A quarter into the window, at most 250 ms: whether the server writes, for the file waits
    /// (see `storage::Start`).
    fn probe_after(&self, window: std::time::Duration) -> Option<std::time::Duration> {
        Some((window / 4).min(std::time::Duration::from_millis(250)))
    }

    fn probe(&mut self, start: &mut Start) -> Result<(), Failure> {
        storage::probe(&mut start.conn, &mut start.storage, &start.status).map_err(|e| {
            Failure::Error(format!(
                "performance_schema file I/O failed on {}: {}",
                start.target.endpoint,
                connect::describe(&e, self.settings.read_timeout)
            ))
        })
    }

    fn notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }
}

/// What the end reading needs to know about the server.
struct Server {
    flavor: Flavor,
    version: (u32, u32, u32),
    performance_schema: bool,
    page_size: u64,
    read_timeout: std::time::Duration,
}

/// The processlist summarised, and its rows (for the transactions' sessions).
type ProcesslistRead = (
    Option<crate::snapshot::Processlist>,
    Option<Vec<processlist::ProcessRow>>,
);

fn read_processlist(
    conn: &mut Conn,
    server: &Server,
    privileges: &BTreeSet<String>,
    parts: &mut Parts,
) -> Result<ProcesslistRead, Failure> {
    if !privileges.contains("PROCESS") {
        parts.missing.push("PROCESS".to_owned());
        parts.notes.push(
            "the processlist and the open transactions (INNODB_TRX) are left out: without the \
             PROCESS privilege the server shows only \
             this account's own threads (GRANT PROCESS ON *.* TO the account)"
                .to_owned(),
        );
        return Ok((None, None));
    }
    match queries::processlist(conn) {
        Ok((rows, truncated)) => Ok((
            Some(processlist::summarize(
                &rows,
                u64::from(conn.connection_id()),
                truncated,
            )),
            Some(rows),
        )),
        Err(e) => {
            parts.left_out("the processlist", "PROCESS", &e, server.read_timeout)?;
            Ok((None, None))
        }
    }
}

/// The open transactions (`INNODB_TRX`, with `PROCESS`), the row-lock waits between them (only
/// read when one waits), and the history list length where the status lacks it (MySQL).
fn read_transactions(
    conn: &mut Conn,
    server: &Server,
    privileges: &BTreeSet<String>,
    process_rows: Option<&[processlist::ProcessRow]>,
    history: (Option<u64>, Option<i64>),
    parts: &mut Parts,
) -> Result<Option<crate::snapshot::Transactions>, Failure> {
    if !privileges.contains("PROCESS") {
        // Named once, with the processlist.
        return Ok(None);
    }
    let rt = server.read_timeout;
    let (rows, truncated) = match queries::innodb_trx(conn) {
        Ok(v) => v,
        Err(e) => {
            parts.left_out("the open transactions (INNODB_TRX)", "PROCESS", &e, rt)?;
            return Ok(None);
        }
    };
    let own = u64::from(conn.connection_id());
    let mut waits = None;
    if rows
        .iter()
        .any(|r| r.state == "LOCK WAIT" && r.session_id != own)
    {
        let privilege = match server.flavor {
            Flavor::Mysql if server.version >= (8, 0, 0) => "SELECT on performance_schema",
            _ => "PROCESS",
        };
        match queries::lock_waits(conn, server.flavor, server.version) {
            Ok(w) => waits = Some(w),
            Err(e) => parts.left_out("who blocks the row-lock waits", privilege, &e, rt)?,
        }
    }
    let history = if history.0.is_some() {
        history
    } else {
        match queries::history_list_length(conn) {
            Ok(v) => (v, None),
            Err(e) => {
                parts.left_out(
                    "the history list length (INNODB_METRICS)",
                    "PROCESS",
                    &e,
                    rt,
                )?;
                (None, None)
            }
        }
    };
    let waits = waits
        .as_ref()
        .map(|(source, pairs)| transactions::LockWaits {
            source,
            pairs: pairs.as_slice(),
        });
    Ok(Some(transactions::summarize(
        &rows,
        truncated,
        waits.as_ref(),
        process_rows,
        own,
        history,
    )))
}

fn read_performance_schema(
    conn: &mut Conn,
    server: &Server,
    waited_on_files: bool,
    parts: &mut Parts,
) -> Result<PerformanceSchema, Failure> {
    let mut p = PerformanceSchema {
        enabled: server.performance_schema,
        top_files_by_io_wait: None,
        top_digests_by_time: None,
        digests_total_ms: None,
        top_synch_waits: None,
    };
    if !server.performance_schema {
        parts.notes.push(
            "performance_schema is off (performance_schema=OFF; turning it on needs a restart): \
             no file I/O, statement digest or wait top lists"
                .to_owned(),
        );
        return Ok(p);
    }
    let ps = "SELECT on performance_schema";
    let rt = server.read_timeout;
    if waited_on_files {
        match queries::top_files_by_io_wait(conn) {
            Ok(v) => p.top_files_by_io_wait = Some(v),
            Err(e) => parts.left_out("performance_schema file I/O", ps, &e, rt)?,
        }
    } else {
        parts.notes.push(
            "top_files_by_io_wait was not read: the server did not wait on its files in the \
             window (no write or sync averaging 5 ms, no fsync pending)"
                .to_owned(),
        );
    }
    match queries::top_digests_by_time(conn) {
        Ok((v, total)) => {
            p.top_digests_by_time = Some(v);
            p.digests_total_ms = total;
        }
        Err(e) => parts.left_out("performance_schema statement digests", ps, &e, rt)?,
    }
    match queries::synch_instruments_on(conn) {
        Ok(true) => match queries::top_synch_waits(conn) {
            Ok(v) => p.top_synch_waits = Some(v),
            Err(e) => parts.left_out("performance_schema synch waits", ps, &e, rt)?,
        },
        Ok(false) => {
            p.top_synch_waits = Some(Vec::new());
            parts.notes.push(
                "no synch wait instrument is enabled (performance_schema.setup_instruments \
                 wait/synch/%, off by default): top_synch_waits is empty"
                    .to_owned(),
            );
        }
        Err(e) => parts.left_out("performance_schema synch waits", ps, &e, rt)?,
    }
    Ok(p)
}

fn read_data_size(
    conn: &mut Conn,
    server: &Server,
    parts: &mut Parts,
) -> Result<Option<u64>, Failure> {
    match queries::innodb_data_pages(conn) {
        Ok(pages) => Ok(Some(pages * server.page_size)),
        Err(e) => {
            let privilege = "SELECT on mysql.innodb_table_stats";
            parts.left_out("the InnoDB data size", privilege, &e, server.read_timeout)?;
            Ok(None)
        }
    }
}

fn read_replica(
    conn: &mut Conn,
    server: &Server,
    parts: &mut Parts,
) -> Result<Option<crate::snapshot::Replica>, Failure> {
    // MariaDB 10.5.2 split SLAVE MONITOR out of REPLICATION CLIENT.
    let privilege = match server.flavor {
        Flavor::Mariadb if server.version >= (10, 5, 2) => "SLAVE MONITOR",
        _ => "REPLICATION CLIENT",
    };
    match queries::replica(conn, server.flavor, server.version) {
        Ok(r) => Ok(Some(r)),
        Err(e) => {
            parts.left_out("replication status", privilege, &e, server.read_timeout)?;
            Ok(None)
        }
    }
}

/// CPU time of the calling thread, ms, from `/proc/thread-self/schedstat` (nanoseconds on the
/// CPU; kernel Documentation/scheduler/sched-stats.rst), so the collector's own cost is known
/// apart from the host collectors'.
fn thread_cpu_ms() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e6)
}
