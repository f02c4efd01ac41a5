//! The ephemeral port range (`net.ipv4.ip_local_port_range`, less
//! `net.ipv4.ip_local_reserved_ports`) and the sockets holding its ports, per destination, from
//! the `sock_diag` dump the `tcp` collector already makes (what `ss -tan` lists).
//!
//! `connect()` without `bind()` picks a local port so that the 4-tuple is unique
//! (`__inet_hash_connect`, `net/ipv4/inet_hashtables.c`): one port can serve many destinations,
//! so the range runs out per (local address, remote address, remote port). Both sysctls are per
//! network namespace: a container has its own.

use super::sockdiag::{TcpSocket, local_text};
use crate::snapshot::{LocalPorts, PortDestination, round2};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// How many destinations the snapshot lists.
const TOP: usize = 5;

const TCP_ESTABLISHED: u8 = 1;
const TCP_TIME_WAIT: u8 = 6;
const TCP_LISTEN: u8 = 10;

/// `"32768\t60999"` → (32768, 60999).
#[must_use]
pub fn parse_range(text: &str) -> Option<(u32, u32)> {
    let mut f = text.split_whitespace();
    let low = f.next()?.parse().ok()?;
    let high = f.next()?.parse().ok()?;
    (low <= high).then_some((low, high))
}

/// How many ports of `low..=high` a `ip_local_reserved_ports` text (`"8000-8010,9000"`, empty
/// when none) reserves; ranges may overlap.
#[must_use]
pub fn reserved_in(text: &str, low: u32, high: u32) -> u32 {
    let mut ports = std::collections::BTreeSet::new();
    for part in text.trim().split(',').filter(|p| !p.trim().is_empty()) {
        let (a, b) = part
            .trim()
            .split_once('-')
            .unwrap_or((part.trim(), part.trim()));
        let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) else {
            continue;
        };
        ports.extend(a.max(low)..=b.min(high));
    }
    ports.len() as u32
}

/// One socket as the count needs it: its kernel state (`TCP_ESTABLISHED` 1, `TCP_TIME_WAIT`
/// 6, `TCP_LISTEN` 10, any other number for the rest), its local address and port, its peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    pub state: u8,
    pub local: IpAddr,
    pub port: u16,
    pub remote: IpAddr,
    pub remote_port: u16,
}

/// The kernel's number for a state as `ss` names it (`ESTAB`, `TIME-WAIT`, `LISTEN`); 0 for
/// the others, which the count does not tell apart.
#[must_use]
pub fn state_of(ss_name: &str) -> u8 {
    match ss_name {
        "ESTAB" => TCP_ESTABLISHED,
        "TIME-WAIT" => TCP_TIME_WAIT,
        "LISTEN" => TCP_LISTEN,
        _ => 0,
    }
}

/// The range and its use from `sockets` (every TCP socket, any state).
#[must_use]
pub fn compute(range: (u32, u32), reserved_text: &str, sockets: &[TcpSocket]) -> LocalPorts {
    let endpoints: Vec<Endpoints> = sockets
        .iter()
        .map(|s| Endpoints {
            state: s.state,
            local: s.local,
            port: s.port,
            remote: s.remote,
            remote_port: s.remote_port,
        })
        .collect();
    count(range, reserved_text, &endpoints)
}

/// [`compute`] from the sockets' endpoints alone (what a pasted `ss -tan` shows).
#[must_use]
pub fn count(range: (u32, u32), reserved_text: &str, sockets: &[Endpoints]) -> LocalPorts {
    let (low, high) = range;
    let range_size = high - low + 1;
    let reserved = reserved_in(reserved_text, low, high);
    let usable = range_size.saturating_sub(reserved);
    // (local address, remote address, remote port) → (sockets, time_wait, established)
    let mut by: BTreeMap<(IpAddr, IpAddr, u16), (u32, u32, u32)> = BTreeMap::new();
    let mut in_range = 0;
    for s in sockets {
        if s.state == TCP_LISTEN || !(low..=high).contains(&u32::from(s.port)) {
            continue;
        }
        in_range += 1;
        let e = by.entry((s.local, s.remote, s.remote_port)).or_default();
        e.0 += 1;
        e.1 += u32::from(s.state == TCP_TIME_WAIT);
        e.2 += u32::from(s.state == TCP_ESTABLISHED);
    }
    let mut destinations: Vec<PortDestination> = by
        .into_iter()
        .map(|((local, remote, port), (n, tw, est))| PortDestination {
            local: local.to_string(),
            remote: local_text(remote, port),
            sockets: n,
            time_wait: tw,
            established: est,
            used_pct: if usable == 0 {
                100.0
            } else {
                round2(f64::from(n) / f64::from(usable) * 100.0)
            },
            loopback: remote.is_loopback()
                || matches!(remote, IpAddr::V6(a) if a.to_ipv4_mapped().is_some_and(|v| v.is_loopback())),
        })
        .collect();
    destinations.sort_by(|a, b| {
        b.sockets
            .cmp(&a.sockets)
            .then_with(|| a.remote.cmp(&b.remote))
    });
    destinations.truncate(TOP);
    LocalPorts {
        range_low: low,
        range_high: high,
        range_size,
        reserved,
        usable,
        in_range,
        destinations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sock(state: u8, port: u16, remote: &str, remote_port: u16) -> TcpSocket {
        TcpSocket {
            ipv6: false,
            state,
            local: "127.0.0.1".parse().unwrap(),
            port,
            recv_queue: 0,
            send_queue: 0,
            inode: 0,
            remote: remote.parse().unwrap(),
            remote_port,
            received: None,
            activity: None,
        }
    }

    #[test]
    fn range_and_reserved_ports() {
        assert_eq!(parse_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_range("40000 39999"), None);
        assert_eq!(reserved_in("\n", 32768, 60999), 0);
        assert_eq!(
            reserved_in("8000-8010,33000,33005-33009,33008\n", 32768, 60999),
            6
        );
        assert_eq!(reserved_in("60990-61010", 32768, 60999), 10);
    }

    #[test]
    fn sockets_per_destination() {
        let mut sockets: Vec<TcpSocket> = (40000..40030)
            .map(|p| sock(TCP_TIME_WAIT, p, "127.0.0.1", 3306))
            .collect();
        sockets.push(sock(TCP_ESTABLISHED, 40031, "127.0.0.1", 3306));
        sockets.push(sock(TCP_ESTABLISHED, 40032, "10.0.0.5", 443));
        sockets.push(sock(TCP_LISTEN, 40033, "0.0.0.0", 0));
        sockets.push(sock(TCP_ESTABLISHED, 3306, "127.0.0.1", 40031)); // the server's end
        let p = compute((40000, 40039), "40035-40039", &sockets);
        assert_eq!(
            (p.range_size, p.reserved, p.usable, p.in_range),
            (40, 5, 35, 32)
        );
        let d = &p.destinations[0];
        assert_eq!(
            (
                d.remote.as_str(),
                d.sockets,
                d.time_wait,
                d.established,
                d.loopback
            ),
            ("127.0.0.1:3306", 31, 30, 1, true)
        );
        assert_eq!(d.used_pct, 88.57);
        assert_eq!(p.destinations[1].remote, "10.0.0.5:443");
        assert!(!p.destinations[1].loopback);
    }
}
