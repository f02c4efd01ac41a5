//! How to take a snapshot: what the command line asked for, as the collectors take it.

use super::{load_test, logs, mysql};
use std::time::Duration;

/// How to take a snapshot.
#[derive(Debug, Clone)]
pub struct Options {
    /// Length of the sampling window.
    pub interval: Duration,
    /// How often gauges (run queue, accept queues) are sampled inside the window.
    pub tick: Duration,
    /// How long after the window's end a remote collector ([`super::remote`]) may still take before
    /// it is abandoned as hung.
    pub grace: Duration,
    /// Read the Docker engine's containers (`--no-docker` turns it off).
    pub docker: bool,
    /// Whether and how to read MySQL/MariaDB.
    pub mysql: mysql::settings::Settings,
    /// Which logs to scan (off when it has no scanner).
    pub logs: logs::Request,
    /// The load test the user declared (`--under-load [PORT]`); `None`: none declared.
    pub load_test: Option<load_test::Request>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            interval: Duration::from_secs(5),
            tick: Duration::from_millis(250),
            grace: Duration::from_secs(5),
            docker: true,
            mysql: mysql::settings::Settings::default(),
            logs: logs::Request::default(),
            load_test: None,
        }
    }
}
