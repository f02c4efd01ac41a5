//! TCP counters, settings, connection states and listening sockets.

use super::Counter;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Tcp {
    /// Every `Tcp:` counter of `/proc/net/snmp` and every `TcpExt:` counter of
    /// `/proc/net/netstat`, named as `nstat` names them (`TcpRetransSegs`,
    /// `TcpExtListenOverflows`, ...). Counters this kernel lacks are absent, not zero.
    pub counters: BTreeMap<String, Counter>,
    /// The sysctls that bound queues and connection reuse, by their `sysctl` names
    /// (`net.core.somaxconn`, ...). A sysctl this kernel lacks is absent.
    pub sysctls: BTreeMap<String, SysctlValue>,
    /// Sockets by TCP state (`ESTABLISHED`, `TIME_WAIT`, `LISTEN`, ...) at the end of the window,
    /// IPv4 and IPv6 together, in doctor's network namespace.
    pub states: BTreeMap<String, u32>,
}

/// A sysctl's value: a number where the kernel prints one, the text otherwise
/// (`net.ipv4.ip_local_port_range` is `"32768 60999"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum SysctlValue {
    Int(i64),
    Text(String),
}

impl std::fmt::Display for SysctlValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SysctlValue::Int(i) => write!(f, "{i}"),
            SysctlValue::Text(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Listeners {
    /// Listening TCP sockets, as `ss -lnt` lists them.
    pub sockets: Vec<Listener>,
    /// False when the search for the owning processes stopped at its time budget, so some
    /// `process` fields may be missing although doctor could have looked.
    pub owners_complete: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Listener {
    /// `address:port`, IPv6 addresses in brackets.
    pub local: String,
    pub port: u16,
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// The accept-queue limit: `min(backlog passed to listen(), net.core.somaxconn)`
    /// (`ss -lnt`'s Send-Q).
    pub backlog: u32,
    /// Connections completed by the kernel but not yet accepted by the application
    /// (`ss -lnt`'s Recv-Q) at the end of the window.
    pub queue: u32,
    /// The highest `queue` seen while sampling the window.
    pub queue_max: u32,
    /// `queue_max` as a % of `backlog`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_max_pct: Option<f64>,
    pub inode: u64,
    /// The process holding the socket, when doctor may look (root sees all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessRef {
    pub pid: i32,
    pub name: String,
}
