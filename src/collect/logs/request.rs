//! What the `logs` collector is asked to scan: the `--log` paths and globs, the MySQL error log,
//! how much of each tail, and which containers' output.

use crate::scan::Scanner;
use std::path::PathBuf;
use std::time::Duration;

/// Default bytes read from the end of each source.
pub const DEFAULT_TAIL_BYTES: u64 = 64 * 1024 * 1024;
/// Default look-back for containers' output: history from this long before the window.
pub const DEFAULT_CONTAINER_SINCE: Duration = Duration::from_secs(600);

/// What to scan.
#[derive(Debug, Clone)]
pub struct Request {
    /// The compiled patterns; `None` switches the collector off.
    pub scanner: Option<Scanner>,
    /// `--log` arguments as given: paths or globs.
    pub paths: Vec<String>,
    /// The MySQL/MariaDB error log (`log_error`), when known before the window starts.
    pub mysql_error_log: Option<PathBuf>,
    /// `--log-tail-bytes`; 0 means the default.
    pub tail_bytes: u64,
    /// `--container`: the containers whose output is read; empty means every running one.
    pub containers: Vec<String>,
    /// `--container-log-since`: how long before the window containers' output is read from.
    pub container_since: Duration,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            scanner: None,
            paths: Vec::new(),
            mysql_error_log: None,
            tail_bytes: 0,
            containers: Vec::new(),
            container_since: DEFAULT_CONTAINER_SINCE,
        }
    }
}

impl Request {
    /// The tail read per source.
    pub fn tail(&self) -> u64 {
        if self.tail_bytes == 0 {
            DEFAULT_TAIL_BYTES
        } else {
            self.tail_bytes
        }
    }
}
