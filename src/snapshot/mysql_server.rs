//! The MySQL / MariaDB server as this machine sees it from outside the SQL connection.
//!
//! doctor is run when the server is failing, and a failing server is exactly when the `mysql`
//! section degrades: at `max_connections` doctor's own login is refused, a server in a container
//! keeps its files out of sight. This section is what can still be known then: how doctor's
//! login went (a refusal *is* the finding), the server's process on this machine and the
//! container it runs in, the settings its command line and option files give it, and who holds
//! its connections and whether they are idle, from the kernel's own view of the sockets
//! (`sock_diag` and `tcp_info`), without a single query.

use super::{Counter, IdleHistogram, Variable};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MysqlServer {
    /// Where doctor looked for the server: `host:port` or a socket path (the first place
    /// tried when several were).
    pub address: String,
    /// How doctor's own login went.
    pub login: Login,
    /// The server's process on this machine (directly or in a container); absent when the
    /// server runs on another host or its process could not be found (the notes say why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ServerProcess>,
    /// Settings from the server's command line and option files, by variable name (`-`
    /// spelled `_`), for when the server cannot be asked; a few that rules use are filled with
    /// the server's compiled-in default when nothing sets them. Empty without a process.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, ServerOption>,
    /// The option files read, in the order the server reads them (through the server's own
    /// filesystem view, `/proc/<pid>/root`, when it runs in a container).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub option_files: Vec<String>,
    /// The connections to the server at the end of the window as the kernel sees them; absent
    /// without a process (or when its network namespace could not be read: see the notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<ServerConnections>,
}

/// doctor's own login to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Login {
    /// `ok`; `refused` when the server is full (error 1040 `max_connections`, 1203
    /// `max_user_connections`, 1226 a resource limit); `denied` (a wrong password or a missing
    /// grant, 1045/1044/1130...); `error` (another server error); `unreachable` (nothing answers
    /// there); `timeout` (no answer within the connect or read timeout); `no-answer` (the
    /// collector did not report back before the snapshot's deadline).
    pub outcome: String,
    /// The server's error code of the attempt that decided `outcome` (1040, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    /// What the server or the connection said, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The account doctor used.
    pub user: String,
    /// Where doctor got in: `regular` (the address asked for), `extra_port` (MariaDB's
    /// `extra_port`, its own connection slots) or `admin_port` (MySQL 8's administrative
    /// interface); absent when it did not get in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub door: Option<String>,
    /// Every attempt in order, the regular one first.
    pub attempts: Vec<LoginAttempt>,
}

impl Login {
    /// Error codes that mean the server (or the account's share of it) is full.
    pub const FULL: [u32; 3] = [1040, 1203, 1226];
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoginAttempt {
    /// `regular`, `extra_port` or `admin_port`.
    pub door: String,
    /// `host:port` or the socket path.
    pub address: String,
    /// As [`Login::outcome`].
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The server's process, found by who holds its listening socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerProcess {
    /// The host's pid (what `ps` on this machine shows).
    pub pid: u32,
    /// `mariadbd`, `mysqld`.
    pub name: String,
    /// How the process was tied to the address: `listener` (it holds the listening socket),
    /// `socket` (it listens on the socket file), `docker-proxy` (the port is published by
    /// Docker's proxy to the process's container), `container-port` (no proxy: the only server
    /// in another network namespace listening on that port).
    pub found_by: String,
    /// Every TCP port the process listens on (its own network namespace's numbers).
    pub ports: Vec<u16>,
    /// The container the server runs in: its id (12 hex digits, as in `containers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// The container's name, when the `containers` section lists it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Where doctor reads the server's files: `/proc/<pid>/root` when the server sees another
    /// filesystem than doctor (a container), absent when it sees the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// Whether the server is in doctor's network namespace (else the figures in
    /// `connections` were read inside its own).
    pub same_network_namespace: bool,
    /// Resident memory of the server process at the end of the window (`VmRSS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_bytes: Option<u64>,
    /// Seconds since the process started: a small value after a crash or an OOM kill means it
    /// was restarted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_s: Option<f64>,
    /// The memory limit of the process's cgroup (a container's `--memory`, systemd's
    /// `MemoryMax=`): cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`; absent when
    /// unlimited or unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit_bytes: Option<u64>,
    /// The CPU limit of the cgroup in cores (quota / period); absent when unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_limit_cores: Option<f64>,
    /// Processes the kernel's OOM killer killed in that cgroup (v2 `memory.events` `oom_kill`,
    /// v1 `memory.oom_control` `oom_kill`), over the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_kills: Option<Counter>,
}

/// A server setting as its command line or option files give it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerOption {
    /// A number where the setting is one (sizes with `K`/`M`/`G` suffixes in bytes), the text
    /// otherwise.
    pub value: Variable,
    /// `command line`, `<file>:<line>`, or `default` (the server's compiled-in value: nothing
    /// sets it).
    pub from: String,
}

/// The server's connections from the kernel's view: established TCP connections to any port
/// the server listens on, read in the server's network namespace with their `tcp_info`, and the
/// clients connected to its Unix socket.
///
/// A connection is *idle* when the server waits for its next statement and *in a statement*
/// otherwise. The server's own threads tell which exactly (its thread for the connection waits
/// to read from it); without them (not root, a thread pool), `tcp_info`'s `tcpi_last_data_sent`
/// and `tcpi_last_data_recv` (ms since the last data each way, `include/uapi/linux/tcp.h`) do:
/// the server sent last, idle; the client did, in a statement. The times always come from
/// `tcp_info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerConnections {
    /// Established TCP connections.
    pub tcp: u32,
    /// How idle sessions were told from statements: `server threads` (the server's thread for
    /// the connection waits to read from it: exact) or `tcp_info` (who spoke last, to the kernel
    /// tick: a statement sent within a tick of the answer before it counts as idle). Snapshots
    /// written before the field existed read as `tcp_info`, which is what they used.
    #[serde(default = "tcp_info")]
    pub idle_by: String,
    /// Clients connected to the server's Unix socket (counted, not attributed).
    pub socket: u32,
    /// TCP connections where the server spoke last, by how long nothing has moved.
    pub idle_histogram: IdleHistogram,
    /// TCP connections where the server spoke last.
    pub idle: u32,
    /// The longest any idle connection has been idle, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_max_s: Option<f64>,
    /// TCP connections where the client spoke last: a statement is running (or queued).
    pub in_statement: u32,
    /// The longest any of those has waited for its answer, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_statement_max_s: Option<f64>,
    /// Connections by client (address, and process and container when they are on this
    /// machine), most connections first, at most 20.
    pub by_client: Vec<ClientConnections>,
    /// True when there were more clients than `by_client` lists.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

fn tcp_info() -> String {
    "tcp_info".to_owned()
}

/// The connections of one client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClientConnections {
    /// The client's address as the server sees it (port left out).
    pub address: String,
    /// The process holding the client end, when it is on this machine and could be found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// The container that process runs in (12 hex digits, as in `containers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// The container's name, when the `containers` section lists it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    pub connections: u32,
    /// Of those, idle 10 s or more (the server spoke last).
    pub idle_10s: u32,
    pub in_statement: u32,
    /// The longest idle, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_max_s: Option<f64>,
}
