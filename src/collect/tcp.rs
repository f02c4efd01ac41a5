//! TCP counters (`/proc/net/snmp`, `/proc/net/netstat`), the sysctls that bound TCP queues, and
//! sockets per state.

use super::{Failure, conntrack, local_ports, parse, read, sockdiag};
use crate::snapshot::{Counter, SysctlValue, Tcp};
use netlink_packet_sock_diag::inet::StateFlags;
use std::collections::BTreeMap;

/// The sysctls that decide how many connections can queue and how fast ports are reused.
/// `net.core.somaxconn` caps every `listen()` backlog (128 before Linux 5.4, 4096 since).
pub const SYSCTLS: &[&str] = &[
    "net.core.somaxconn",
    "net.core.netdev_max_backlog",
    "net.ipv4.tcp_max_syn_backlog",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.tcp_abort_on_overflow",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_tw_reuse",
    "net.ipv4.tcp_max_tw_buckets",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.ip_local_port_range",
];

/// Gauges in the `Tcp:` table: their delta is meaningless, only the value is kept.
pub const GAUGES: &[&str] = &[
    "TcpRtoAlgorithm",
    "TcpRtoMin",
    "TcpRtoMax",
    "TcpMaxConn",
    "TcpCurrEstab",
];

pub struct Start {
    counters: BTreeMap<String, i64>,
    conntrack: Option<conntrack::Start>,
}

fn counters() -> Result<BTreeMap<String, i64>, Failure> {
    let mut c = parse::snmp_pairs(&read("/proc/net/snmp")?, &["Tcp"]);
    // /proc/net/netstat is missing in some minimal containers; the Tcp table alone still helps.
    if let Ok(text) = std::fs::read_to_string("/proc/net/netstat") {
        c.extend(parse::snmp_pairs(&text, &["TcpExt"]));
    }
    Ok(c)
}

pub fn begin() -> Result<Start, Failure> {
    Ok(Start {
        counters: counters()?,
        conntrack: conntrack::begin(),
    })
}

pub fn finish(start: Start, seconds: f64) -> Result<Tcp, Failure> {
    let end = counters()?;
    let sockets = sockdiag::dump(StateFlags::all()).ok();
    let states = sockets.as_deref().map(count_states).unwrap_or_default();
    let sysctls = read_sysctls();
    // The range as read with the other sysctls; without the socket dump there is nothing to
    // count against it.
    let local_ports = sysctls
        .get("net.ipv4.ip_local_port_range")
        .and_then(|v| local_ports::parse_range(&v.to_string()))
        .zip(sockets.as_deref())
        .map(|(range, sockets)| {
            let reserved = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_reserved_ports")
                .unwrap_or_default();
            local_ports::compute(range, &reserved, sockets)
        });
    Ok(Tcp {
        counters: combine(&start.counters, &end, seconds),
        sysctls,
        states,
        local_ports,
        conntrack: conntrack::finish(start.conntrack, seconds),
    })
}

#[must_use]
pub fn combine(
    a: &BTreeMap<String, i64>,
    b: &BTreeMap<String, i64>,
    seconds: f64,
) -> BTreeMap<String, Counter> {
    b.iter()
        .map(|(k, end)| {
            let c = match a.get(k) {
                Some(start) if !GAUGES.contains(&k.as_str()) => {
                    Counter::between(*start, *end, seconds)
                }
                _ => Counter::gauge(*end),
            };
            (k.clone(), c)
        })
        .collect()
}

fn count_states(sockets: &[sockdiag::TcpSocket]) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for s in sockets {
        *out.entry(sockdiag::state_name(s.state).to_owned())
            .or_insert(0) += 1;
    }
    out
}

/// Reads `name` from `/proc/sys` (dots become slashes).
#[must_use]
pub fn sysctl(name: &str) -> Option<SysctlValue> {
    let text = std::fs::read_to_string(format!("/proc/sys/{}", name.replace('.', "/"))).ok()?;
    Some(sysctl_value(&text))
}

#[must_use]
pub fn sysctl_value(text: &str) -> SysctlValue {
    let text = text.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
    text.parse()
        .map_or(SysctlValue::Text(text), SysctlValue::Int)
}

fn read_sysctls() -> BTreeMap<String, SysctlValue> {
    SYSCTLS
        .iter()
        .filter_map(|name| Some(((*name).to_owned(), sysctl(name)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_have_no_delta() {
        let a = BTreeMap::from([
            ("TcpCurrEstab".to_owned(), 10),
            ("TcpExtListenOverflows".to_owned(), 5),
        ]);
        let b = BTreeMap::from([
            ("TcpCurrEstab".to_owned(), 4),
            ("TcpExtListenOverflows".to_owned(), 3013),
        ]);
        let c = combine(&a, &b, 5.0);
        assert_eq!(c["TcpCurrEstab"], Counter::gauge(4));
        assert_eq!(c["TcpExtListenOverflows"].delta, Some(3008));
    }

    #[test]
    fn sysctl_values() {
        assert_eq!(sysctl_value("128\n"), SysctlValue::Int(128));
        assert_eq!(
            sysctl_value("32768\t60999\n"),
            SysctlValue::Text("32768 60999".into())
        );
    }
}
