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
    /// The ephemeral port range and the sockets holding its ports, per destination (absent in
    /// snapshots from before doctor read them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_ports: Option<LocalPorts>,
    /// The connection-tracking table, when the `nf_conntrack` module is loaded (absent
    /// otherwise: nothing is tracked, nothing can fill).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conntrack: Option<Conntrack>,
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
    /// The socket's inode; absent when unknown (`doctor import` of `ss -lnt`, which does not
    /// print it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inode: Option<u64>,
    /// The process holding the socket, when doctor may look (root sees all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessRef {
    pub pid: i32,
    pub name: String,
}

/// The ephemeral ports `connect()` picks local ports from, and the sockets holding them per
/// destination: a client that opens a connection per request and closes it leaves each port in
/// `TIME_WAIT` for 60 s, and once every port toward one destination is held, `connect()` fails
/// with `EADDRNOTAVAIL` ("Cannot assign requested address").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LocalPorts {
    /// `net.ipv4.ip_local_port_range` (also used for IPv6), first and last port.
    pub range_low: u32,
    pub range_high: u32,
    /// Ports in the range, `range_high - range_low + 1`.
    pub range_size: u32,
    /// Ports of the range listed in `net.ipv4.ip_local_reserved_ports` (never picked).
    pub reserved: u32,
    /// `range_size - reserved`: the local ports one destination can be reached from, per local
    /// address.
    pub usable: u32,
    /// Non-listening TCP sockets whose local port is in the range, all destinations.
    pub in_range: u32,
    /// The destinations with the most sockets on ephemeral ports (at most 5), most first.
    pub destinations: Vec<PortDestination>,
}

/// The sockets from one local address to one remote address and port whose local port is in the
/// ephemeral range: connections to one destination need distinct local ports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PortDestination {
    /// The local address (`127.0.0.1`).
    pub local: String,
    /// The remote `address:port`, IPv6 in brackets.
    pub remote: String,
    /// Sockets in every state but `LISTEN`.
    pub sockets: u32,
    pub time_wait: u32,
    pub established: u32,
    /// `sockets` as a % of `usable`.
    pub used_pct: f64,
    /// Whether the remote address is a loopback one (`net.ipv4.tcp_tw_reuse = 2`, the default,
    /// lets new connections reuse `TIME_WAIT` ports only to loopback).
    pub loopback: bool,
}

/// The connection-tracking table (netfilter's `nf_conntrack`), which Docker's NAT and any
/// stateful firewall rule fill: when it is full, new connections' packets are dropped
/// (`nf_conntrack: table full, dropping packet`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Conntrack {
    /// Entries at the end of the window (`net.netfilter.nf_conntrack_count`, `conntrack -C`).
    pub count: u64,
    /// The table's size (`net.netfilter.nf_conntrack_max`).
    pub max: u64,
    /// `count` as a % of `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_pct: Option<f64>,
    /// `/proc/net/stat/nf_conntrack` summed over the CPUs, as `conntrack -S` sums them: `drop`
    /// (packets dropped because the table was full and no entry could be evicted),
    /// `early_drop` (entries evicted to make room), `insert_failed`, `invalid`, ... by the
    /// kernel's names.
    pub stats: BTreeMap<String, Counter>,
}
