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
pub mod connect;
pub mod derive;
pub mod locate;
pub mod optfile;
pub mod options;
mod queries;
pub mod server;
mod storage;
pub mod threads;

use super::Failure;
use super::blockdev;
use super::remote::Remote;
use crate::snapshot::{Datadir, Flavor, Mysql, PerformanceSchema, UnderlyingDevice, Variable};
use crate::snapshot::{Login, LoginAttempt};
use connect::{Endpoint, Outcome, Plan, Settings, Source, Target};
use mysql::Conn;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub use connect::{Secret, UrlSpec, parse_url};

/// What the collector knows about the machine it runs on, to tell whether the server is local.
#[derive(Debug, Clone)]
pub struct Host {
    pub hostname: String,
    pub memory_bytes: u64,
}

pub struct Collector {
    settings: Settings,
    host: Host,
    notes: Vec<String>,
    /// This thread's CPU time when `begin` started, ms.
    cpu_at_begin: Option<f64>,
    /// Where to hand the server's error log, when it is on this machine (the logs collector).
    error_log_tx: Option<std::sync::mpsc::Sender<PathBuf>>,
    /// The error log found, for the snapshot.
    error_log: Option<PathBuf>,
    /// What to try, when decided before the collector started ([`plan`]).
    plan: Option<Plan>,
    /// The server's process, when `mysql_server` found it on this machine.
    view: Option<server::View>,
    /// Where to report how the login went (the `mysql_server` section).
    login_tx: Option<std::sync::mpsc::Sender<Login>>,
}

impl Collector {
    #[must_use]
    pub fn new(settings: Settings, host: Host) -> Self {
        Collector {
            settings,
            host,
            notes: Vec::new(),
            cpu_at_begin: None,
            error_log_tx: None,
            error_log: None,
            plan: None,
            view: None,
            login_tx: None,
        }
    }

    /// Connects as `plan` says instead of deciding it when the collector starts.
    #[must_use]
    pub fn with_plan(mut self, plan: Plan) -> Self {
        self.plan = Some(plan);
        self
    }

    /// The server's process on this machine (its settings give the doors a full server keeps;
    /// its root holds a container's files).
    #[must_use]
    pub fn with_server(mut self, view: Option<server::View>) -> Self {
        self.view = view;
        self
    }

    /// Reports how the login went on `tx` as soon as it is known.
    #[must_use]
    pub fn with_login_report(mut self, tx: std::sync::mpsc::Sender<Login>) -> Self {
        self.login_tx = Some(tx);
        self
    }

    /// Sends the server's error log path to `tx` as soon as it is known, when the file is on
    /// this machine, so the logs collector scans it over the same window.
    #[must_use]
    pub fn with_error_log(mut self, tx: std::sync::mpsc::Sender<PathBuf>) -> Self {
        self.error_log_tx = Some(tx);
        self
    }
}

/// The collector between its two readings.
pub struct Start {
    conn: Conn,
    target: Target,
    variables: Vec<(String, String)>,
    privileges: BTreeSet<String>,
    status: Vec<(String, String)>,
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
        let storage = storage::begin(&mut conn, &variables)
            .map_err(|e| fail("performance_schema file I/O", e))?;
        Ok(Start {
            conn,
            target,
            variables,
            privileges,
            status,
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
            storage: storage_start,
        } = start;
        let rt = self.settings.read_timeout;
        let fail = |what: &str, e: &mysql::Error| {
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
        let processlist = read_processlist(&mut conn, &server, &privileges, &mut parts)?;
        let performance_schema = read_performance_schema(&mut conn, &server, &mut parts)?;
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
            flavor,
            version: vtext("version").to_owned(),
            version_major: major,
            version_minor: minor,
            version_patch: patch,
            connection: connect::connection_info(&target),
            uptime_s,
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
            performance_schema,
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

    fn notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }
}

impl Collector {
    /// Finds the error log from `log_error` and `datadir` and, when the server runs here and
    /// the file exists, remembers it and sends it to the logs collector.
    fn hand_over_error_log(&mut self, target: &Target, variables: &[(String, String)]) {
        let var = |k: &str| {
            variables
                .iter()
                .find(|(n, _)| n == k)
                .map_or("", |(_, v)| v.as_str())
        };
        let Some(root) = self.files_root(target, var("hostname"), var("pid_file"), var("datadir"))
        else {
            return;
        };
        let Some(path) = derive::error_log_path(var("log_error"), var("datadir")) else {
            return;
        };
        let readable = optfile::under(&root, &path);
        if !readable.is_file() {
            return;
        }
        if let Some(tx) = &self.error_log_tx {
            let _ = tx.send(readable.clone());
        }
        self.error_log = Some(readable);
    }

    /// Whether the server's files are here, its pid, and its datadir with the disk under it.
    fn files(
        &self,
        target: &Target,
        vars: &BTreeMap<&str, &str>,
        notes: &mut Vec<String>,
    ) -> (bool, Option<u32>, Option<Datadir>) {
        let var = |k: &str| vars.get(k).copied().unwrap_or("");
        let root = self.files_root(target, var("hostname"), var("pid_file"), var("datadir"));
        let server_pid = match &self.view {
            Some(v) => Some(v.located.pid),
            None => root.as_ref().and(server_pid(var("pid_file"))),
        };
        let mut datadir = datadir(var("datadir"), root.as_deref(), notes);
        if let (Some(d), Some(v)) = (datadir.as_mut(), &self.view)
            && d.device.is_none()
        {
            overlay_device(d, v.located.pid, notes);
        }
        (root.is_some(), server_pid, datadir)
    }

    /// Where the server's files can be read from here: its own root when `mysql_server` found
    /// its process (`/proc/<pid>/root` for a container), `/` when it is otherwise proven to run
    /// on this machine ([`is_local`]), `None` when its files are not here.
    fn files_root(
        &self,
        target: &Target,
        hostname: &str,
        pid_file: &str,
        datadir: &str,
    ) -> Option<PathBuf> {
        if let Some(v) = &self.view {
            return Some(v.located.root().to_path_buf());
        }
        is_local(
            target,
            hostname,
            &self.host.hostname,
            server_pid(pid_file),
            datadir,
        )
        .then(|| PathBuf::from("/"))
    }

    /// Logs in at the first target that answers. When the server refuses because it is full,
    /// tries the doors a full server keeps open (MariaDB's `extra_port`, MySQL 8's
    /// `admin_port`) when its settings name them, and reports every attempt to `mysql_server`.
    fn connect(&mut self, plan: &Plan) -> Result<(Conn, Target), Failure> {
        let mut tried = Vec::new();
        let mut attempts = Vec::new();
        let (ct, rt) = (self.settings.connect_timeout, self.settings.read_timeout);
        let mut failed: Option<connect::ConnectError> = None;
        for t in &plan.targets {
            match connect::connect(t, ct, rt) {
                Ok(c) => {
                    attempts.push(attempt("regular", t, None));
                    self.report(t, attempts, None, Some("regular"));
                    return Ok((c, t.clone()));
                }
                Err(e) if e.outcome == Outcome::Unreachable => {
                    attempts.push(attempt("regular", t, Some(&e)));
                    tried.push(e.message);
                }
                Err(e) => {
                    attempts.push(attempt("regular", t, Some(&e)));
                    if e.outcome == Outcome::Refused {
                        for (door, d) in self.doors(t) {
                            match connect::connect(&d, ct, rt) {
                                Ok(c) => {
                                    attempts.push(attempt(door, &d, None));
                                    self.notes.push(format!(
                                        "the server refused doctor at {} ({}); doctor came in \
                                         through its {door} at {}",
                                        t.endpoint, e.message, d.endpoint
                                    ));
                                    self.report(t, attempts, Some(&e), Some(door));
                                    return Ok((c, d));
                                }
                                Err(de) => attempts.push(attempt(door, &d, Some(&de))),
                            }
                        }
                    }
                    failed = Some(e);
                    break;
                }
            }
        }
        let first = plan.targets.first();
        if let Some(e) = failed {
            let t = first.expect("an attempt was made");
            self.report(t, attempts, Some(&e), None);
            self.hand_over_error_log_from_settings();
            let mut message = e.message;
            if e.outcome == Outcome::Refused {
                message.push_str(
                    "; doctor's own connection was refused, so the server is full: the \
                     mysql_server section shows who holds the connections (kernel view)",
                );
            }
            return Err(Failure::Error(message));
        }
        if let Some(t) = first {
            let last = connect::ConnectError {
                outcome: Outcome::Unreachable,
                code: None,
                message: tried.join("; "),
            };
            self.report(t, attempts, Some(&last), None);
        }
        if plan.explicit {
            self.hand_over_error_log_from_settings();
            Err(Failure::Error(tried.join("; ")))
        } else {
            let places: Vec<String> = plan
                .targets
                .iter()
                .map(|t| t.endpoint.to_string())
                .collect();
            Err(Failure::Skipped(format!(
                "no MySQL/MariaDB server found at {}; point doctor at one with \
                 --mysql mysql://user:password@host:port (or MYSQL_HOST, ~/.my.cnf [client], \
                 --defaults-file), or pass --no-mysql",
                places.join(" or ")
            )))
        }
    }

    /// Sends how the login went to `mysql_server`.
    fn report(
        &mut self,
        t: &Target,
        attempts: Vec<LoginAttempt>,
        regular: Option<&connect::ConnectError>,
        door: Option<&str>,
    ) {
        let Some(tx) = &self.login_tx else { return };
        let login = Login {
            outcome: regular.map_or("ok", |e| e.outcome.as_str()).to_owned(),
            error_code: regular.and_then(|e| e.code),
            message: regular.map(|e| e.message.clone()),
            user: t.user.clone().unwrap_or_default(),
            door: door.map(str::to_owned),
            attempts,
        };
        let _ = tx.send(login);
    }

    /// The doors a full server keeps for an operator, learnt from its settings: MariaDB's
    /// `extra_port` (its own `extra_max_connections` slots, MariaDB "Thread Pool in MariaDB":
    /// `extra_port`), and MySQL 8's administrative interface (`admin_address`, `admin_port`,
    /// "Administrative Connection Management": connections there are not limited by
    /// `max_connections`). Reached at the server's own address from here (loopback, or the
    /// container's address). The account's `SUPER`/`CONNECTION ADMIN` extra slot needs no door:
    /// the regular attempt already uses it.
    fn doors(&self, regular: &Target) -> Vec<(&'static str, Target)> {
        let Some(v) = &self.view else {
            return Vec::new();
        };
        let reach = match (&regular.endpoint, v.located.same_network_namespace) {
            (Endpoint::Tcp { host, .. }, true) => Some(host.clone()),
            _ => v.located.reach.map(|a| a.to_string()),
        };
        let Some(host) = reach else {
            return Vec::new();
        };
        let at = |port: f64| Target {
            endpoint: Endpoint::Tcp {
                host: host.clone(),
                port: port as u16,
            },
            ..regular.clone()
        };
        let mut out = Vec::new();
        if let Some(p) = v.number("extra_port").filter(|p| *p > 0.0 && *p < 65536.0) {
            out.push(("extra_port", at(p)));
        }
        if let Some(addr) = v.text("admin_address").filter(|a| !a.is_empty()) {
            let port = v.number("admin_port").unwrap_or(33062.0);
            let loopback_elsewhere = !v.located.same_network_namespace
                && addr
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|a| a.is_loopback());
            if !loopback_elsewhere && port > 0.0 && port < 65536.0 {
                out.push(("admin_port", at(port)));
            }
        }
        out
    }

    /// Hands the server's error log, as its settings name it, to the logs collector when doctor
    /// could not log in to ask (`log_error`, relative to `datadir`).
    fn hand_over_error_log_from_settings(&mut self) {
        let Some(v) = &self.view else { return };
        let (Some(log), Some(datadir)) = (v.text("log_error"), v.text("datadir")) else {
            return;
        };
        let Some(path) = derive::error_log_path(&log, &datadir) else {
            return;
        };
        let readable = v.located.file(&path);
        if readable.is_file() {
            if let Some(tx) = &self.error_log_tx {
                let _ = tx.send(readable.clone());
            }
            self.error_log = Some(readable);
        }
    }
}

fn attempt(door: &str, t: &Target, e: Option<&connect::ConnectError>) -> LoginAttempt {
    LoginAttempt {
        door: door.to_owned(),
        address: t.endpoint.to_string(),
        outcome: e.map_or("ok", |e| e.outcome.as_str()).to_owned(),
        error_code: e.and_then(|e| e.code),
        message: e.map(|e| e.message.clone()),
    }
}

/// Reads the option file and the environment and decides what to try, as the `mysql` client
/// would. Done before the collector starts, so `mysql_server` can look for the server's process
/// at the same addresses.
pub fn plan(settings: &Settings) -> Result<Plan, Failure> {
    let env = connect::Env::from_process();
    let mut notes = Vec::new();
    let file = if let Some(path) = &settings.defaults_file {
        let opts = connect::read_option_file(path)
            .map_err(|e| Failure::Error(format!("--defaults-file {e}")))?;
        Some((opts, Source::DefaultsFile))
    } else if let Some(path) = env.home.as_ref().map(|h| h.join(".my.cnf"))
        && path.exists()
    {
        // The client ignores a world-writable option file, and says so; so does doctor.
        let world_writable =
            std::fs::metadata(&path).is_ok_and(|m| m.permissions().mode() & 0o002 != 0);
        if world_writable {
            notes.push(format!(
                "{} is world-writable and was ignored, as the mysql client ignores it",
                path.display()
            ));
            None
        } else {
            let opts = connect::read_option_file(&path)
                .map_err(|e| Failure::Error(format!("cannot use {e}")))?;
            Some((opts, Source::MyCnf))
        }
    } else {
        None
    };
    let mut plan = connect::plan(
        settings.url.as_ref(),
        file.as_ref().map(|(o, s)| (o, *s)),
        &env,
        &connect::existing_default_sockets(),
    )
    .map_err(Failure::Error)?;
    plan.notes.extend(notes);
    Ok(plan)
}

/// What the end reading needs to know about the server.
struct Server {
    flavor: Flavor,
    version: (u32, u32, u32),
    performance_schema: bool,
    page_size: u64,
    read_timeout: std::time::Duration,
}

fn read_processlist(
    conn: &mut Conn,
    server: &Server,
    privileges: &BTreeSet<String>,
    parts: &mut Parts,
) -> Result<Option<crate::snapshot::Processlist>, Failure> {
    if !privileges.contains("PROCESS") {
        parts.missing.push("PROCESS".to_owned());
        parts.notes.push(
            "the processlist is left out: without the PROCESS privilege the server shows only \
             this account's own threads (GRANT PROCESS ON *.* TO the account)"
                .to_owned(),
        );
        return Ok(None);
    }
    match queries::processlist(conn) {
        Ok((rows, truncated)) => Ok(Some(derive::summarize(
            &rows,
            u64::from(conn.connection_id()),
            truncated,
        ))),
        Err(e) => {
            parts.left_out("the processlist", "PROCESS", &e, server.read_timeout)?;
            Ok(None)
        }
    }
}

fn read_performance_schema(
    conn: &mut Conn,
    server: &Server,
    parts: &mut Parts,
) -> Result<PerformanceSchema, Failure> {
    let mut p = PerformanceSchema {
        enabled: server.performance_schema,
        top_files_by_io_wait: None,
        top_digests_by_time: None,
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
    match queries::top_files_by_io_wait(conn) {
        Ok(v) => p.top_files_by_io_wait = Some(v),
        Err(e) => parts.left_out("performance_schema file I/O", ps, &e, rt)?,
    }
    match queries::top_digests_by_time(conn) {
        Ok(v) => p.top_digests_by_time = Some(v),
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

/// Parts left out, and why.
#[derive(Default)]
struct Parts {
    missing: Vec<String>,
    notes: Vec<String>,
}

impl Parts {
    /// Records an optional part that failed: a missing privilege leaves it out (named in
    /// `missing_privileges`), another server error leaves it out with the message, and a dead
    /// connection or hung server ends the whole collection.
    fn left_out(
        &mut self,
        what: &str,
        privilege: &str,
        e: &mysql::Error,
        read_timeout: std::time::Duration,
    ) -> Result<(), Failure> {
        let why = connect::describe(e, read_timeout);
        if is_fatal(e) {
            return Err(Failure::Error(format!("{what} failed: {why}")));
        }
        if is_denied(e) {
            // One note per privilege: three performance_schema tables denied is one fact.
            if !self.missing.iter().any(|p| p == privilege) {
                self.missing.push(privilege.to_owned());
                self.notes.push(format!(
                    "{what} left out: the account lacks {privilege} ({why})"
                ));
            }
        } else {
            self.notes.push(format!("{what} left out: {why}"));
        }
        Ok(())
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

/// The connection is gone or the server stopped answering: nothing more can be read.
fn is_fatal(e: &mysql::Error) -> bool {
    matches!(
        e,
        mysql::Error::IoError(_) | mysql::Error::CodecError(_) | mysql::Error::DriverError(_)
    ) || matches!(e, mysql::Error::TlsError(_))
}

/// "Access denied" for a table, a database or a global privilege (server error codes 1044,
/// 1142, 1143, 1227, 1370).
fn is_denied(e: &mysql::Error) -> bool {
    matches!(e, mysql::Error::MySqlError(m) if matches!(m.code, 1044 | 1142 | 1143 | 1227 | 1370))
}

/// The server's pid from its `pid_file`, when that file is on this machine and names a live
/// `mysqld` or `mariadbd`.
fn server_pid(pid_file: &str) -> Option<u32> {
    if pid_file.is_empty() {
        return None;
    }
    let pid: u32 = std::fs::read_to_string(pid_file)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    let comm = comm.trim();
    (comm.contains("mysqld") || comm.contains("mariadbd")).then_some(pid)
}

/// Whether the server's files are this machine's files. Proven by its pid file naming a live
/// server process here; otherwise by the server's host name being this machine's and the
/// datadir existing here. A server in a container reports the container's host name.
fn is_local(
    target: &Target,
    server_hostname: &str,
    our_hostname: &str,
    server_pid: Option<u32>,
    datadir: &str,
) -> bool {
    let reachable_locally = match &target.endpoint {
        connect::Endpoint::Socket(_) => true,
        connect::Endpoint::Tcp { host, .. } => {
            host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    };
    reachable_locally
        && (server_pid.is_some()
            || (server_hostname == our_hostname
                && !datadir.is_empty()
                && Path::new(datadir).is_dir()))
}

/// A datadir in a container's own layer (no volume) is on an overlay filesystem, which has no
/// device: the device is the one under the overlay's upper directory on the host, where its
/// writes land.
fn overlay_device(d: &mut Datadir, pid: u32, notes: &mut Vec<String>) {
    let Ok(mountinfo) = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")) else {
        return;
    };
    let Some(upper) = locate::overlay_upper_dir(&mountinfo, Path::new(&d.path)) else {
        return;
    };
    // The upper directory may not exist yet below the datadir: its nearest existing parent is on
    // the same filesystem.
    let existing = upper
        .ancestors()
        .find(|p| p.exists())
        .map(Path::to_path_buf);
    if let Some(dev) = existing.and_then(|p| blockdev::of_path(&p).ok()) {
        notes.push(format!(
            "the datadir is in the container's own layer (overlay, no volume): its writes land in \
             {} on {}",
            upper.display(),
            dev.name
        ));
        // The note about the overlay having no device is now answered.
        notes.retain(|n| !n.starts_with("the datadir's disk is not determined"));
        d.device = Some(dev.name);
        d.rotational = dev.rotational;
        d.underlying = dev
            .underlying
            .into_iter()
            .map(|(name, rotational)| UnderlyingDevice { name, rotational })
            .collect();
    }
}

/// The datadir and its disk, read under `root` (the server's own root for a container); a note
/// saying why not when the files are not here.
fn datadir(path: &str, root: Option<&Path>, notes: &mut Vec<String>) -> Option<Datadir> {
    if path.is_empty() {
        return None;
    }
    let through = root.filter(|r| *r != Path::new("/"));
    let mut d = Datadir {
        path: path.to_owned(),
        local: root.is_some(),
        read_through: through.map(|r| r.display().to_string()),
        device: None,
        rotational: None,
        underlying: Vec::new(),
    };
    let Some(root) = root else {
        notes.push(format!(
            "the server's files are not on this machine (another host, or a container doctor \
             could not tie to it): its datadir {path} is not here, so its disk is not determined; \
             run doctor where the files are"
        ));
        return Some(d);
    };
    match blockdev::of_path(&optfile::under(root, Path::new(path))) {
        Ok(dev) => {
            d.device = Some(dev.name);
            d.rotational = dev.rotational;
            d.underlying = dev
                .underlying
                .into_iter()
                .map(|(name, rotational)| UnderlyingDevice { name, rotational })
                .collect();
        }
        Err(e) => notes.push(format!("the datadir's disk is not determined: {e}")),
    }
    Some(d)
}
