//! The MySQL / MariaDB server doctor connected to, over the window.
//!
//! Server status counters and variables keep the names the server gives them (inside the
//! `status` and `variables` maps), so a rule author can look up anything `SHOW GLOBAL STATUS` or
//! `SHOW GLOBAL VARIABLES` shows. Figures doctor derives carry their unit in the name. Figures
//! that could not be computed (no reads in the window, a missing privilege, a part switched off)
//! are absent, never zero: a rule reading them is "not checked".

use super::Counter;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Mysql {
    /// `mysql` (Oracle MySQL and compatible builds such as Percona Server) or `mariadb`.
    /// `flavor`, `version*`, `connection`, `uptime_s` and `performance_schema` are always
    /// written by `doctor snapshot`; they are absent (unknown) in a section `doctor import`
    /// built from pasted result sets that do not show them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<Flavor>,
    /// `@@version` as the server reports it (`10.11.6-MariaDB-0+deb12u1`, `8.0.36`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The numeric part of `version`, for comparisons (`10`, `11`, `6`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_major: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_minor: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_patch: Option<u32>,
    /// How doctor reached the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<Connection>,
    /// `Uptime`: seconds since the server started. Small values mean the counters' totals
    /// describe only a short time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_s: Option<i64>,
    /// The server's process id on this machine, when it runs here and its `pid_file` is
    /// readable (to join with `processes.top[pid=...]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_pid: Option<u32>,

    /// Every integer of `SHOW GLOBAL STATUS`, read at both ends of the window, by the server's
    /// own name (`Threads_connected`, `Innodb_buffer_pool_reads`, ...). Gauges such as
    /// `Threads_connected` are counters here too: read their `total`. (Not `status`: that is
    /// the envelope's field.)
    pub global_status: BTreeMap<String, Counter>,
    /// The non-integer values of `SHOW GLOBAL STATUS` at the end of the window
    /// (`Innodb_buffer_pool_load_status`, `Rpl_status`, ...).
    pub global_status_text: BTreeMap<String, String>,
    /// Every `SHOW GLOBAL VARIABLES` value at the start of the window: a number where the value
    /// is one, the text otherwise (`ON`, paths). Values of variables that can hold credentials
    /// (names containing `password`, `secret` or ending in `_auth`) are replaced by
    /// `(redacted)`.
    pub variables: BTreeMap<String, Variable>,

    /// Share of InnoDB page reads served from the buffer pool over the window
    /// (`1 − Innodb_buffer_pool_reads / Innodb_buffer_pool_read_requests`, deltas, clamped to
    /// 0–100); absent when nothing was read in the window. MariaDB counts read-ahead pages in
    /// `Innodb_buffer_pool_reads`, so a scan that thrashes the pool reads 0 here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer_pool_hit_rate_pct: Option<f64>,
    /// The same since the server started (totals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer_pool_hit_rate_since_start_pct: Option<f64>,
    /// `innodb_buffer_pool_size` in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer_pool_size_bytes: Option<u64>,
    /// InnoDB data and indexes in bytes, from the persistent statistics
    /// (`mysql.innodb_table_stats`, page counts × `innodb_page_size`; as fresh as the last
    /// statistics update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub innodb_data_bytes: Option<u64>,
    /// `buffer_pool_size_bytes` as a % of `innodb_data_bytes` (≥ 100: everything fits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer_pool_vs_data_pct: Option<f64>,
    /// `buffer_pool_size_bytes` as a % of this host's RAM; only when the server runs on this
    /// machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer_pool_vs_ram_pct: Option<f64>,
    /// `Threads_connected` (end of the window) as a % of `max_connections`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections_used_pct: Option<f64>,
    /// `Max_used_connections` (the high-water mark since start) as a % of `max_connections`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_used_connections_pct: Option<f64>,
    /// Share of new connections that got a cached thread over the window
    /// (`1 − Threads_created / Connections`, deltas); absent with no new connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_cache_hit_rate_pct: Option<f64>,
    /// The same since the server started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_cache_hit_rate_since_start_pct: Option<f64>,
    /// Sum of the `Connection_errors_*` deltas over the window (each one is in `global_status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_errors_delta: Option<i64>,
    /// Median round trip of `SELECT 1` (five tries at the end of the window): the latency
    /// between this machine and the server, server work included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select1_rtt_ms: Option<f64>,
    /// The slowest of those tries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select1_rtt_max_ms: Option<f64>,
    /// Whether the server writes "Aborted connection" notes to its error log with its current
    /// settings (MySQL ≥ 8.0: `log_error_verbosity` = 3; MySQL 5.7: ≥ 3; MariaDB:
    /// `log_warnings` ≥ 2). When false, their absence from the log proves nothing; read
    /// `global_status.Aborted_clients` / `Aborted_connects` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted_connections_logged: Option<bool>,

    /// The threads of the processlist, summarised; absent without the `PROCESS` privilege
    /// (the server would show doctor only its own threads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processlist: Option<Processlist>,
    /// Open InnoDB transactions, who waits for whose locks (row locks, a table's metadata
    /// lock), and the history list length they hold back; absent without the `PROCESS`
    /// privilege (and in snapshots from before doctor read them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transactions: Option<super::Transactions>,
    /// The top lists from `performance_schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance_schema: Option<PerformanceSchema>,
    /// Where the data lives and on what kind of disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datadir: Option<Datadir>,
    /// The server's own view of its storage over the window: how long its redo log, data
    /// files and binary log took to write and sync, and its pending-I/O gauges. It sees slow
    /// storage even where doctor cannot see the device (another host, a managed volume).
    /// Absent in snapshots from before doctor read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<Storage>,
    /// Replication as seen from this server, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<Replica>,
    /// Privileges doctor's account lacks, each one leaving a part out (`PROCESS`,
    /// `SLAVE MONITOR`, `SELECT on performance_schema`, ...); the notes say which.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_privileges: Vec<String>,
    /// The server's error log (`log_error`, relative paths resolved against the datadir), when it
    /// is a file on this machine; the `logs` section scans it over the same window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_log: Option<String>,
    /// CPU time doctor's MySQL collector used (its thread: connecting, both readings, parsing),
    /// so its cost is known apart from the host collectors' (`overhead` is the whole process).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector_cpu_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    Mysql,
    Mariadb,
}

impl Flavor {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Mysql => "mysql",
            Flavor::Mariadb => "mariadb",
        }
    }
}

/// How doctor reached the server. Never holds the password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Connection {
    /// `socket` or `tcp`.
    pub via: String,
    /// The socket path, or `host:port`.
    pub address: String,
    /// The account name doctor logged in with.
    pub user: String,
    /// Where the connection settings came from: `url` (`--mysql`), `defaults-file`, `my.cnf`,
    /// `environment`, or `default` (the default socket / 127.0.0.1:3306).
    pub source: String,
    /// Whether the connection is encrypted with TLS.
    pub tls: bool,
}

/// A server variable: a number where the server prints one, the text otherwise.
///
/// Read by hand rather than through `#[serde(untagged)]`: that buffers every value and builds a
/// formatted error for each variant a text value is not, which was an eighth of
/// `doctor analyze`'s instructions on a MySQL snapshot (~500 variables).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Variable {
    Int(i64),
    /// Values above `i64::MAX` (`max_binlog_cache_size` is 2^64 − 4096 by default).
    UInt(u64),
    Float(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for Variable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Variable;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a text")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Variable, E> {
                Ok(Variable::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Variable, E> {
                Ok(i64::try_from(v).map_or(Variable::UInt(v), Variable::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Variable, E> {
                Ok(Variable::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Variable, E> {
                Ok(Variable::Text(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Variable, E> {
                Ok(Variable::Text(v))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Variable {
    /// The value as a number, when it is one.
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Variable::Int(i) => Some(*i as f64),
            Variable::UInt(u) => Some(*u as f64),
            Variable::Float(f) => Some(*f),
            Variable::Text(_) => None,
        }
    }

    /// The value as text, when it is text (`ON`, `OFF`, a path).
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Variable::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl std::fmt::Display for Variable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Variable::Int(i) => write!(f, "{i}"),
            Variable::UInt(u) => write!(f, "{u}"),
            Variable::Float(x) => write!(f, "{x}"),
            Variable::Text(s) => f.write_str(s),
        }
    }
}

/// The processlist at the end of the window, summarised (never dumped). doctor's own
/// connection is left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Processlist {
    /// Threads listed (client connections plus the server's own threads that it lists).
    pub threads: u32,
    /// True when the list was longer than doctor reads (20 000 threads): the counts are then
    /// of the first 20 000.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Threads per `COMMAND` (`Sleep`, `Query`, `Connect`, `Daemon`, `Binlog Dump`, ...).
    pub by_command: BTreeMap<String, u32>,
    /// Threads per non-empty `STATE` (`Sending data`, `Waiting for table metadata lock`, ...).
    pub by_state: BTreeMap<String, u32>,
    /// Threads per account name; the 20 largest, the rest under `(other)`.
    pub by_user: BTreeMap<String, u32>,
    /// Threads per client host (port left out); the 20 largest, the rest under `(other)`.
    pub by_host: BTreeMap<String, u32>,
    /// Connections idle in `Sleep`.
    pub sleeping: u32,
    /// The longest a `Sleep` connection has been idle, seconds; absent with none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sleeping_max_idle_s: Option<f64>,
    /// `Sleep` connections by how long they have been idle.
    pub idle_histogram: IdleHistogram,
    /// The longest-running statements (not `Sleep`, not the server's daemons), longest first,
    /// at most 10; their text cut to 100 characters with literals replaced by `?`.
    pub longest_running: Vec<RunningStatement>,
}

/// Counts of idle (`Sleep`) connections by idle time; each bucket holds the connections idle
/// at least as long as the previous bucket's bound and less than its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IdleHistogram {
    /// Under 1 s.
    pub lt_1s: u32,
    /// 1 s to 10 s.
    pub lt_10s: u32,
    /// 10 s to 1 min.
    pub lt_1m: u32,
    /// 1 min to 10 min.
    pub lt_10m: u32,
    /// 10 min to 1 h.
    pub lt_1h: u32,
    /// 1 h and more.
    pub ge_1h: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunningStatement {
    /// The connection id (`KILL <id>` ends it).
    pub id: u64,
    pub user: String,
    /// Client host, port left out.
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db: Option<String>,
    pub command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// How long the statement has been running, whole seconds (`SHOW PROCESSLIST`'s `Time`).
    pub time_s: f64,
    /// The statement's first 100 characters (as `SHOW PROCESSLIST` gives them), literals
    /// replaced by `?`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
}

/// The `performance_schema` top lists. They are totals since the server started (or the
/// tables were last truncated), not over the window. Each list is absent when it could not be
/// read (`performance_schema` off, or no `SELECT` on it), empty when there was nothing to list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PerformanceSchema {
    /// `@@performance_schema`. MariaDB ships with it off; turning it on needs a restart.
    pub enabled: bool,
    /// Files by time spent waiting for I/O (`file_summary_by_instance`), at most 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_files_by_io_wait: Option<Vec<FileIo>>,
    /// Normalised statements by total execution time
    /// (`events_statements_summary_by_digest`), at most 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_digests_by_time: Option<Vec<Digest>>,
    /// `SUM_TIMER_WAIT` of every digest, ms: the denominator of a digest's share of the
    /// server's statement time. Absent when the digests could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digests_total_ms: Option<f64>,
    /// Mutex, rwlock and condition waits by total wait time
    /// (`events_waits_summary_global_by_event_name`, `wait/synch/%`), at most 10. Empty, and
    /// not read, when no synch instrument is enabled (`setup_instruments`, off by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_synch_waits: Option<Vec<SynchWait>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FileIo {
    pub file: String,
    /// The instrument (`wait/io/file/innodb/innodb_data_file`, ...).
    pub event: String,
    pub reads: u64,
    pub writes: u64,
    pub read_bytes: u64,
    pub write_bytes: u64,
    /// Total time spent in I/O on the file.
    pub io_wait_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Digest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The digest hash, to look the statement up in `performance_schema`.
    pub digest: String,
    /// The normalised statement, cut to 200 characters.
    pub text: String,
    pub count: u64,
    pub total_ms: f64,
    pub avg_ms: f64,
    pub max_ms: f64,
    pub rows_examined: u64,
    pub rows_sent: u64,
    /// Executions that used no index (full scans).
    pub no_index_used: u64,
    /// Executions that created an on-disk temporary table.
    pub tmp_disk_tables: u64,
    /// The first table the statement reads or writes, as its text names it (`shop.orders`,
    /// `orders`); absent when the text names none or is cut before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Seconds since the statement last ran (`LAST_SEEN`): under the window's length, it ran
    /// during the window. Absent in snapshots from before doctor read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_s_ago: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SynchWait {
    /// The instrument (`wait/synch/mutex/innodb/buf_pool_mutex`, ...).
    pub event: String,
    pub count: u64,
    pub total_ms: f64,
}

/// The datadir and the disk under it, named as the `disks` section names devices, so a rule can
/// join `mysql.datadir.device` with `disks.devices[name=...]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Datadir {
    /// `@@datadir`, as the server sees it.
    pub path: String,
    /// Whether the server's files are readable on this machine: it runs here, directly or in a
    /// container (then `read_through` says where), not on another host. The device fields are
    /// only filled when it is.
    pub local: bool,
    /// Where doctor reads the files of a server that sees another filesystem (a container):
    /// `/proc/<pid>/root`; absent when it sees doctor's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_through: Option<String>,
    /// The whole disk holding the datadir (`sda`, `nvme0n1`, `vda`, `dm-0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// From `/sys/block/<device>/queue/rotational`: true for a spinning disk (or a virtual
    /// disk that says it is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotational: Option<bool>,
    /// For a device-mapper or md device, the disks under it with their own `rotational`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub underlying: Vec<UnderlyingDevice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnderlyingDevice {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotational: Option<bool>,
}

/// MySQL's own view of its storage over the window, read at both ends of it (bracketing the
/// two `SHOW GLOBAL STATUS` readings). A figure the server does not have, or that could not
/// be computed (no operation in the window, `performance_schema` off or not readable, an
/// instrument not timed), is absent: absent is not zero.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Storage {
    /// The InnoDB redo log (`wait/io/file/innodb/innodb_log_file` in
    /// `performance_schema.file_summary_by_event_name`): the write and fsync every commit
    /// waits for with `innodb_flush_log_at_trx_commit = 1`. Absent where the server has no such
    /// instrument: MariaDB 10.8 and later (MDEV-27848) do not instrument redo log I/O.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redo_log: Option<FileWaits>,
    /// The InnoDB data files (`wait/io/file/innodb/innodb_data_file`): page writes and the
    /// fsync after each flush batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_files: Option<FileWaits>,
    /// The binary log (`wait/io/file/sql/binlog`): with `sync_binlog = 1` every commit also
    /// waits for its fsync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binlog: Option<FileWaits>,
    /// `Innodb_data_pending_fsyncs` at the start and the end of the window (a gauge). On
    /// MariaDB 10.11 it counts the data files' fsyncs only, not the redo log's (seen here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_pending_fsyncs: Option<Reading>,
    /// `Innodb_os_log_pending_fsyncs` at both ends (MySQL; MariaDB removed it in 10.8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_pending_fsyncs: Option<Reading>,
    /// `Innodb_data_pending_writes` at both ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_pending_writes: Option<Reading>,
    /// `Innodb_data_fsyncs` per second over the window (MariaDB counts the redo log's fsyncs in
    /// it too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_fsyncs_per_s: Option<f64>,
    /// `Innodb_os_log_fsyncs` per second over the window (MySQL; MariaDB removed it in 10.8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_fsyncs_per_s: Option<f64>,
    /// `Innodb_log_waits` over the window: times a thread waited because the log buffer was
    /// full and had to be written out first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_waits: Option<i64>,
    /// Seconds between the two file-summary readings (`redo_log`, `data_files`, `binlog` are
    /// over these): shorter than the window when the server looked idle at its start and the
    /// first reading waited for the probe a quarter into it (at most 250 ms). Absent when the
    /// file summary was not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files_window_s: Option<f64>,
}

/// One file instrument's writes and syncs over the window, from the growth of
/// `file_summary_by_event_name` between the two readings (times in picoseconds there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FileWaits {
    /// The instrument (`wait/io/file/innodb/innodb_log_file`).
    pub event: String,
    /// Write operations in the window (`COUNT_WRITE`).
    pub writes: u64,
    /// Bytes written in the window (`SUM_NUMBER_OF_BYTES_WRITE`).
    pub write_bytes: u64,
    /// Average time one write took (`SUM_TIMER_WRITE` / `COUNT_WRITE`); absent with no write
    /// or when the instrument is not timed. For asynchronous writes (InnoDB's page writes with
    /// native AIO) the server times only the submission: near 0 whatever the device does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_avg_ms: Option<f64>,
    /// Sync and other non-read, non-write operations in the window (`COUNT_MISC`): fsync, and
    /// open/close/stat, which are rare on files InnoDB keeps open.
    pub syncs: u64,
    /// Average time of those (`SUM_TIMER_MISC` / `COUNT_MISC`): on a server in steady state,
    /// the fsync latency as the server waited for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_avg_ms: Option<f64>,
}

/// A gauge read at both ends of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Reading {
    pub start: i64,
    pub end: i64,
}

/// Replication from this server's side (`SHOW REPLICA STATUS` / `SHOW SLAVE STATUS`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Replica {
    /// Whether this server is configured as a replica. The other fields are absent when not.
    pub configured: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_running: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_running: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_behind_source: Option<i64>,
    /// The last I/O or SQL thread error, cut to 200 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The section's fields sit beside the envelope's in one JSON object: a field named like
    /// one of the envelope's would silently shadow it.
    #[test]
    fn no_field_collides_with_the_envelope() {
        let schema = serde_json::to_value(schemars::schema_for!(Mysql)).unwrap();
        let props = schema["properties"].as_object().expect("properties");
        for envelope in ["status", "message", "notes", "elapsed_ms"] {
            assert!(
                !props.contains_key(envelope),
                "`{envelope}` is the envelope's"
            );
        }
        assert!(props.contains_key("global_status"));
    }

    /// Every kind of value the server prints reads back as the variant it was written from,
    /// and anything else is an error rather than a guess.
    #[test]
    fn variables_read_back_as_written() {
        let cases = [
            ("151", Variable::Int(151)),
            ("-1", Variable::Int(-1)),
            (
                "18446744073709547520",
                Variable::UInt(18_446_744_073_709_547_520),
            ),
            ("0.5", Variable::Float(0.5)),
            ("\"ON\"", Variable::Text("ON".into())),
            (
                "\"/var/lib/mysql/\"",
                Variable::Text("/var/lib/mysql/".into()),
            ),
        ];
        for (json, want) in cases {
            let got: Variable = serde_json::from_str(json).unwrap();
            assert_eq!(got, want, "{json}");
            assert_eq!(serde_json::to_string(&got).unwrap(), json);
        }
        for bad in ["true", "null", "[]", "{}"] {
            let err = serde_json::from_str::<Variable>(bad)
                .unwrap_err()
                .to_string();
            assert!(err.contains("a number or a text"), "{bad}: {err}");
        }
    }
}
