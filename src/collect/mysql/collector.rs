//! The MySQL collector's settings and what it learns on the way (notes, the error log, how the
//! login went), set up before it starts; its readings are in `mod.rs`, its login in `login.rs`,
//! the server's files in `files.rs`.

use super::server;
use super::settings::{Plan, Settings};
use crate::snapshot::Login;
use std::path::PathBuf;

/// What the collector knows about the machine it runs on, to tell whether the server is local.
#[derive(Debug, Clone)]
pub struct Host {
    pub hostname: String,
    pub memory_bytes: u64,
}

pub struct Collector {
    pub(super) settings: Settings,
    pub(super) host: Host,
    pub(super) notes: Vec<String>,
    /// This thread's CPU time when `begin` started, ms.
    pub(super) cpu_at_begin: Option<f64>,
    /// Where to hand the server's error log, when it is on this machine (the logs collector).
    pub(super) error_log_tx: Option<std::sync::mpsc::Sender<PathBuf>>,
    /// The error log found, for the snapshot.
    pub(super) error_log: Option<PathBuf>,
    /// What to try, when decided before the collector started ([`plan`]).
    pub(super) plan: Option<Plan>,
    /// The server's process, when `mysql_server` found it on this machine.
    pub(super) view: Option<server::View>,
    /// Where to report how the login went (the `mysql_server` section).
    pub(super) login_tx: Option<std::sync::mpsc::Sender<Login>>,
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
