//! Open file descriptors against `RLIMIT_NOFILE`, per process: a server at its limit can accept
//! no connection and open no file, whatever else the machine has to spare.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OpenFiles {
    /// How the descriptors were counted: `fd-dir-size` (Linux 6.2+: the size `stat` gives
    /// `/proc/<pid>/fd` is its number of entries, so every process is counted at the cost of one
    /// `stat`) or `listing` (older kernels: `/proc/<pid>/fd` listed, for the listeners' owners
    /// and the busiest processes only).
    pub method: String,
    /// Processes whose descriptors were counted.
    pub counted: u32,
    /// False when counting every process stopped at its 20 ms budget (the listeners' owners and
    /// the busiest processes are counted first), or with `listing`, which counts only those.
    pub complete: bool,
    /// Processes whose limits (`/proc/<pid>/limits`) were read: the listeners' owners, the
    /// busiest processes, and those holding the most descriptors.
    pub limits_read: u32,
    /// The processes closest to their soft limit (at most 10), highest `used_pct` first.
    pub top: Vec<OpenFilesProcess>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OpenFilesProcess {
    pub pid: i32,
    /// The kernel's short name (`comm`).
    pub name: String,
    /// Open descriptors at the end of the window (`ls /proc/<pid>/fd | wc -l`).
    pub fds: u64,
    /// `Max open files` soft limit (`prlimit --nofile`, `ulimit -n` in its shell): what
    /// `open()`/`accept()` fail with `EMFILE` at.
    pub soft_limit: u64,
    /// The hard limit: how far the process itself may raise its soft limit.
    pub hard_limit: u64,
    /// `fds` as a % of `soft_limit`.
    pub used_pct: f64,
    /// Whether it holds a listening TCP socket (a server: at its limit, `accept()` fails).
    pub listens: bool,
    /// Its cgroup path (the unified hierarchy's, else v1's `name=systemd`): where its limit
    /// was most likely set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<String>,
    /// The systemd unit its cgroup names (`nginx.service`): `LimitNOFILE=` there sets its limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The container its cgroup names (12 hex digits, as in `containers`): `docker run
    /// --ulimit nofile=`, compose `ulimits:`, or the daemon's `default-ulimits` set its limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
}
