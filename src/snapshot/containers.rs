//! Docker containers: what `docker ps`, `docker inspect` and `docker stats` show, plus what the
//! host's own view hides — each container's network namespace (its TCP counters, its
//! `net.core.somaxconn`, its listeners) and its cgroup's CPU throttling and memory limit.

use super::{Counter, SysctlValue};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Containers {
    /// The Docker engine doctor talked to.
    pub engine: Engine,
    /// The containers running at the end of the window, by name.
    pub containers: Vec<Container>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Engine {
    /// Where the daemon was reached (`DOCKER_HOST`, or the default socket), credentials removed.
    /// Absent, like `api_version`, only for containers `doctor import` read off a pasted
    /// `docker stats`: no engine was reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The engine's version (`docker version`'s Server Version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The API version doctor spoke (the lower of the engine's and doctor's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The cgroup version the containers' cgroups were read with (1 or 2), absent when none was
    /// readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_version: Option<u8>,
}

/// One running container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Container {
    /// The name without the leading slash, as `docker ps` shows it.
    pub name: String,
    /// The short id (12 hex digits), as `docker ps` shows it.
    pub id: String,
    /// The image as the container was created from it (`docker ps`'s IMAGE). This, the restart
    /// count, the OOM flag and the network mode are absent only for a pasted `docker stats`,
    /// which does not show them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `running`, `restarting`, `paused`, ... at the end of the window.
    pub state: String,
    /// `starting`, `healthy` or `unhealthy`; absent when the container has no health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// Restarts by the restart policy (`docker inspect`'s `RestartCount`); a delta means it
    /// restarted inside the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_count: Option<Counter>,
    /// Whether the kernel's OOM killer killed a process of the container (`State.OOMKilled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_killed: Option<bool>,
    /// `bridge`, `host`, `none`, `container:<id>` or a user network's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    /// The host pid of the container's main process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// CPU over the window as `docker stats` computes it: % of one core, so a container using
    /// two full cores shows 200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_pct: Option<f64>,
    /// CPUs the engine says the container can see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_cpus: Option<u32>,
    /// Memory in use without the reclaimable page cache, as `docker stats` shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    /// The memory limit `docker stats` shows (the host's memory when the container has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit_bytes: Option<u64>,
    /// `memory_bytes` as a % of `memory_limit_bytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_pct: Option<f64>,
    /// Bytes received over all the container's interfaces; absent when it has none but `lo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_rx_bytes: Option<Counter>,
    /// Bytes sent over all the container's interfaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_tx_bytes: Option<Counter>,
    /// Bytes read from block devices (`docker stats`'s BLOCK I/O, first half). Absent, not 0,
    /// when the kernel does not count them (`block_io_unaccounted` says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_read_bytes: Option<Counter>,
    /// Bytes written to block devices; absent like `block_read_bytes`. On cgroup v1 only what
    /// the container's own tasks submit (direct I/O, `fsync`): the writeback of its buffered
    /// writes is charged to the root cgroup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_write_bytes: Option<Counter>,
    /// Why `block_read_bytes` and `block_write_bytes` are absent although the stats were read:
    /// the kernel does not count this container's block I/O (cgroup v1: blk-throttle not set up
    /// on the disks, which is Linux 6.10+'s default, or the container's processes did I/O its
    /// cgroup's counters do not show), so the engine's 0 would read as an idle container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_io_unaccounted: Option<String>,
    /// Processes and threads in the container (`docker stats`'s PIDS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids: Option<u64>,
    /// Where the figures from `cpu_pct` to `pids` were read at the end of the window: `cgroup`
    /// (the kernel's files, as the engine itself reads them) or `engine` (its stats API); absent
    /// when neither answered (and in snapshots written before the field existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats_source: Option<StatsSource>,
    /// The container's own network namespace; absent when it shares the host's (then the `tcp`
    /// section is its view) or could not be read (see `notes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<ContainerNet>,
    /// The container's cgroup; absent when it could not be read (see `notes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<ContainerCgroup>,
    /// What could not be read for this container, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Where a container's `docker stats` figures came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatsSource {
    /// Read by doctor from the container's cgroup, `/proc/stat` and `/proc/<pid>/net/dev` on the
    /// engine's host (root, local socket): no wait for the engine's stats round.
    Cgroup,
    /// Asked of the engine (`GET /containers/{id}/stats?stream=false&one-shot=true`).
    Engine,
}

/// A network namespace as the processes inside it see it, read from the host side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContainerNet {
    /// The namespace's inode (`/proc/<pid>/ns/net`): containers that share one have the same.
    pub namespace: u64,
    /// Every `Tcp:` and `TcpExt:` counter of the namespace, named as in the `tcp` section
    /// (`TcpExtListenOverflows`, ...), over the window.
    pub counters: BTreeMap<String, Counter>,
    /// The `tcp` section's sysctls as this namespace has them (a new namespace starts with the
    /// kernel's defaults, not the host's tuned values); absent when doctor could not enter the
    /// namespace. Sysctls the namespace does not have are left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sysctls: Option<BTreeMap<String, SysctlValue>>,
    /// Listening TCP sockets in the namespace at the end of the window; absent when doctor could
    /// not enter the namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listeners: Option<Vec<ContainerListener>>,
}

/// A listening socket inside a container, as `ss -lnt` run in its namespace shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContainerListener {
    /// `address:port`, IPv6 addresses in brackets.
    pub local: String,
    pub port: u16,
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// The accept-queue limit, `min(listen() backlog, the namespace's somaxconn)` (Send-Q).
    pub backlog: u32,
    /// Connections waiting to be accepted at the end of the window (Recv-Q).
    pub queue: u32,
    /// `queue` as a % of `backlog`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_pct: Option<f64>,
}

/// The container's cgroup: CPU quota and throttling, memory limit and OOM kills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContainerCgroup {
    /// 1 or 2.
    pub version: u8,
    /// The CPU controller's directory that was read.
    pub cpu_path: String,
    /// The CPU limit in cores (`--cpus`): quota / period; absent when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_limit_cores: Option<f64>,
    /// v1 `cpu.cfs_quota_us` / v2 `cpu.max` first field; absent when unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_quota_us: Option<u64>,
    /// v1 `cpu.cfs_period_us` / v2 `cpu.max` second field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_period_us: Option<u64>,
    /// Enforcement periods that elapsed (`cpu.stat` `nr_periods`).
    pub nr_periods: Counter,
    /// Periods in which the container hit its quota and was stopped (`nr_throttled`).
    pub nr_throttled: Counter,
    /// Time the container spent stopped by its quota (v1 `throttled_time` in ns converted,
    /// v2 `throttled_usec`).
    pub throttled_us: Counter,
    /// Throttled periods as a % of the periods over the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttled_periods_pct: Option<f64>,
    /// The memory limit (v1 `memory.limit_in_bytes`, v2 `memory.max`); absent when unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit_bytes: Option<u64>,
    /// Processes the OOM killer killed in the cgroup (v1 `memory.oom_control`, v2
    /// `memory.events` `oom_kill`); absent on kernels without the counter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_kills: Option<Counter>,
}
