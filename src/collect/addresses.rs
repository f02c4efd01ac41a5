//! The machine's own IP addresses, as its network namespace sees them: IPv4 from the kernel's
//! routing trie (`/proc/net/fib_trie`, each `/32 host LOCAL` leaf), IPv6 from
//! `/proc/net/if_inet6` (global scope). Loopback and link-local addresses are left out: another
//! host never reaches this one through them. Several hosts' snapshots are tied together by them
//! (an application host's connections to an address of the database host).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The addresses, sorted; empty when neither file can be read.
#[must_use]
pub fn read() -> Vec<String> {
    let v4 = std::fs::read_to_string("/proc/net/fib_trie").unwrap_or_default();
    let v6 = std::fs::read_to_string("/proc/net/if_inet6").unwrap_or_default();
    addresses(&v4, &v6)
}

/// The addresses in the two files' texts.
#[must_use]
pub fn addresses(fib_trie: &str, if_inet6: &str) -> Vec<String> {
    let mut all: BTreeSet<IpAddr> = BTreeSet::new();
    let mut leaf: Option<Ipv4Addr> = None;
    for line in fib_trie.lines() {
        let t = line.trim();
        if let Some(ip) = t.strip_prefix("|-- ") {
            leaf = ip.parse().ok();
        } else if t == "/32 host LOCAL" {
            if let Some(ip) = leaf.filter(|ip| !ip.is_loopback()) {
                all.insert(IpAddr::V4(ip));
            }
        }
    }
    for line in if_inet6.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        // address, interface index, prefix length, scope, flags, name; scope 00 is global.
        let (Some(hex), Some(&"00")) = (f.first(), f.get(3)) else {
            continue;
        };
        if let Some(ip) = u128::from_str_radix(hex, 16).ok().map(Ipv6Addr::from) {
            if !ip.is_loopback() {
                all.insert(IpAddr::V6(ip));
            }
        }
    }
    all.into_iter().map(|ip| ip.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of this machine's files (Linux 6.18, Debian 12), some left out: the loopback,
    /// docker0's and eth0's addresses; an IPv4 leaf is listed in both the `Main:` and the
    /// `Local:` table.
    #[test]
    fn recorded_fib_trie_and_if_inet6() {
        let fib = "Main:\n  +-- 0.0.0.0/0 3 0 4\n     |-- 0.0.0.0\n        /0 universe UNICAST\n\
                   \x20    +-- 127.0.0.0/8 2 0 2\n        +-- 127.0.0.0/31 1 0 0\n\
                   \x20          |-- 127.0.0.0\n              /8 host LOCAL\n\
                   \x20          |-- 127.0.0.1\n              /32 host LOCAL\n\
                   \x20       |-- 127.255.255.255\n           /32 link BROADCAST\n\
                   \x20       +-- 172.17.0.0/31 1 0 0\n           |-- 172.17.0.0\n\
                   \x20             /16 link UNICAST\n           |-- 172.17.0.1\n\
                   \x20             /32 host LOCAL\n           |-- 192.0.2.2\n\
                   \x20             /32 host LOCAL\n\
                   Local:\n           |-- 192.0.2.2\n              /32 host LOCAL\n";
        let inet6 = "fe80000000000000004249fffea96cd2 05 40 20 80  docker0\n\
                     fd000000000000000000000000000002 04 40 00 82     eth0\n\
                     00000000000000000000000000000001 01 80 10 80       lo\n";
        assert_eq!(
            addresses(fib, inet6),
            ["172.17.0.1", "192.0.2.2", "fd00::2"]
        );
        assert!(addresses("", "").is_empty());
        assert!(addresses("|-- x\n/32 host LOCAL\n", "zz 01 40 00 80 eth0\n").is_empty());
    }
}
