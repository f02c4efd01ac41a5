//! The two MySQL collectors of one snapshot and their hand-offs: `mysql` (the SQL view, on its
//! own thread with a deadline) and `mysql_server` (the server from outside, read here).
//!
//! Before the window: where to log in is decided (as the `mysql` client decides it) and the
//! server's process is looked for at those addresses. During it: the `mysql` thread logs in
//! (through a door the server's settings name when it is full), reports how that went and hands
//! the server's error log to the logs collector. After it: both sections.

use super::end::End;
use super::mysql;
use super::options::Options;
use super::pending::Pending;
use super::remote;
use crate::snapshot::{HostFacts, Login, Mysql, MysqlServer, Section, Status};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};
use std::time::Instant;

pub struct MysqlRun {
    plan: Option<mysql::settings::Plan>,
    server: Option<Pending<mysql::server::Start>>,
    thread: Option<remote::Pending<Mysql>>,
    error_logs: Option<Receiver<PathBuf>>,
    logins: Option<Receiver<Login>>,
}

impl MysqlRun {
    /// Decides where to log in and looks for the server's process there.
    pub fn begin(opts: &Options) -> Self {
        let plan = opts
            .mysql
            .enabled
            .then(|| mysql::plan(&opts.mysql).ok())
            .flatten();
        let server = plan
            .as_ref()
            .map(|plan| Pending::begin(|| Ok(mysql::server::begin(plan))));
        MysqlRun {
            plan,
            server,
            thread: None,
            error_logs: None,
            logins: None,
        }
    }

    /// Starts the `mysql` collector's thread (unless switched off).
    pub fn spawn(&mut self, opts: &Options, host: &HostFacts, end: End) {
        if !opts.mysql.enabled {
            return;
        }
        let (error_log_tx, error_log_rx) = channel();
        let (login_tx, login_rx) = channel();
        let view = self
            .server
            .as_ref()
            .and_then(|p| p.state.as_ref().ok())
            .and_then(mysql::server::Start::view);
        let host = mysql::Host {
            hostname: host.hostname.clone().unwrap_or_default(),
            memory_bytes: host.memory_bytes.unwrap_or(0),
        };
        let mut collector = mysql::Collector::new(opts.mysql.clone(), host)
            .with_error_log(error_log_tx)
            .with_login_report(login_tx)
            .with_server(view);
        if let Some(plan) = self.plan.take() {
            collector = collector.with_plan(plan);
        }
        self.thread = Some(remote::spawn("mysql", collector, end));
        self.error_logs = Some(error_log_rx);
        self.logins = Some(login_rx);
    }

    /// The server's error log, once the collector has found it on this machine.
    pub fn error_logs(&self) -> Vec<PathBuf> {
        self.error_logs
            .as_ref()
            .map(|rx| rx.try_iter().collect())
            .unwrap_or_default()
    }

    /// Both sections, waiting for the collector's thread until `deadline`.
    pub fn finish(self, deadline: Instant, seconds: f64) -> (Section<Mysql>, Section<MysqlServer>) {
        let mysql = match self.thread {
            Some(pending) => pending.wait(deadline),
            None => Section::skipped("switched off with --no-mysql"),
        };
        let login = self.logins.and_then(|rx| rx.try_iter().last());
        let server = match self.server {
            Some(pending) if mysql.status != Status::Skipped => {
                let mut notes = Vec::new();
                pending
                    .finish(|start| {
                        let (result, n) = mysql::server::finish(start, login, seconds);
                        notes = n;
                        result
                    })
                    .with_notes(notes)
            }
            // No server to look at, or where to look could not be decided: as `mysql` says.
            _ => Section::skipped(
                mysql
                    .message
                    .clone()
                    .unwrap_or_else(|| "no MySQL server to look at".to_owned()),
            ),
        };
        (mysql, server)
    }
}
