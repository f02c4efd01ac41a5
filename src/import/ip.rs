//! The host's own addresses as pasted: `ip addr` (an interface's header line, `1: lo: <LOOPBACK,UP>
//! mtu ...`, then its indented `link/`, `inet`, `inet6`, `valid_lft`, `altname` lines), `ip -o
//! addr` (one line per address) and `hostname -I` (its addresses on one line: taken only under
//! its command line, a line of addresses alone saying nothing of whose they are). Addresses of
//! global scope only: loopback and link-local ones are never how another host reaches this one.

use super::lines::Line;
use std::net::IpAddr;

/// A host's addresses, as one output showed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addresses {
    pub addresses: Vec<IpAddr>,
    pub lines: (usize, usize),
}

/// `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 ...`: an interface's header line.
fn interface_header(t: &str) -> bool {
    let Some((index, rest)) = t.split_once(": ") else {
        return false;
    };
    index.bytes().all(|b| b.is_ascii_digit())
        && !index.is_empty()
        && rest
            .split_once(": <")
            .is_some_and(|(_, r)| r.contains("> mtu "))
}

/// `inet 10.0.0.1/24 brd 10.0.0.255 scope global eth0` → 10.0.0.1 when of global scope.
fn global(words: &[&str]) -> Option<IpAddr> {
    let i = words.iter().position(|w| *w == "inet" || *w == "inet6")?;
    let ip: IpAddr = words.get(i + 1)?.split('/').next()?.parse().ok()?;
    let scope = words.iter().position(|w| *w == "scope")?;
    (words.get(scope + 1) == Some(&"global")).then_some(ip)
}

/// `ip addr` from an interface's header line on, every interface that follows.
#[must_use]
pub fn ip_addr(lines: &[Line<'_>], start: usize) -> Option<(Addresses, usize)> {
    if !interface_header(lines[start].text.trim()) {
        return None;
    }
    let mut addresses = Vec::new();
    let mut taken = 0;
    for line in &lines[start..] {
        let t = line.text.trim();
        let words: Vec<&str> = t.split_whitespace().collect();
        let detail = matches!(
            words.first(),
            Some(&("inet" | "inet6" | "valid_lft" | "altname"))
        ) || words.first().is_some_and(|w| w.starts_with("link/"));
        if !(interface_header(t) || detail) {
            break;
        }
        addresses.extend(global(&words));
        taken += 1;
    }
    let lines = (lines[start].no, lines[start + taken - 1].no);
    Some((Addresses { addresses, lines }, taken))
}

/// `ip -o addr`: `4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\ ...`.
#[must_use]
pub fn ip_o_addr(lines: &[Line<'_>], start: usize) -> Option<(Addresses, usize)> {
    let one = |t: &str| -> Option<Option<IpAddr>> {
        // Cheap refusals first: this is tried on every line nothing else took.
        let (index, _) = t.split_once(':')?;
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let words: Vec<&str> = t.split_whitespace().collect();
        let index = words.first()?.strip_suffix(':')?;
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !matches!(words.get(2), Some(&("inet" | "inet6"))) {
            return None;
        }
        Some(global(&words))
    };
    let mut addresses = Vec::new();
    let mut taken = 0;
    for line in &lines[start..] {
        let Some(ip) = one(line.text.trim()) else {
            break;
        };
        addresses.extend(ip);
        taken += 1;
    }
    if taken == 0 {
        return None;
    }
    let lines = (lines[start].no, lines[start + taken - 1].no);
    Some((Addresses { addresses, lines }, taken))
}

/// `hostname -I`'s one line, under its command line; loopback and link-local ones left out.
#[must_use]
pub fn hostname_i(lines: &[Line<'_>], start: usize) -> Option<(Addresses, usize)> {
    let command = start.checked_sub(1).and_then(|i| lines.get(i))?;
    if !command.text.trim_start().starts_with("hostname") {
        return None;
    }
    let words: Vec<&str> = command.text.split_whitespace().collect();
    if !matches!(words.as_slice(), ["hostname", "-I" | "--all-ip-addresses"]) {
        return None;
    }
    let all: Option<Vec<IpAddr>> = lines[start]
        .text
        .split_whitespace()
        .map(|w| w.parse().ok())
        .collect();
    let all = all.filter(|a| !a.is_empty())?;
    let addresses = all
        .into_iter()
        .filter(|ip| match ip {
            IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_link_local(),
            IpAddr::V6(v6) => !v6.is_loopback() && !v6.is_unicast_link_local(),
        })
        .collect();
    let no = lines[start].no;
    Some((
        Addresses {
            addresses,
            lines: (no, no),
        },
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::lines::{lines, sample};

    /// The addresses, sorted as text.
    fn shown(a: &Addresses) -> Vec<String> {
        let mut all: Vec<String> = a.addresses.iter().map(ToString::to_string).collect();
        all.sort();
        all
    }

    /// The three outputs recorded on one machine name the same global addresses: eth0's
    /// `192.0.2.2` and `fd00::2`, docker0's `172.17.0.1` (`ip -o addr show scope global` there).
    #[test]
    fn recorded_ip_addr_ip_o_addr_hostname_i() {
        let expected = ["172.17.0.1", "192.0.2.2", "fd00::2"];
        for (name, read) in [
            (
                "ip-addr.txt",
                ip_addr as fn(&[Line<'_>], usize) -> Option<(Addresses, usize)>,
            ),
            ("ip-o-addr.txt", ip_o_addr),
        ] {
            let text = sample(name);
            let ls = lines(&text);
            let (a, taken) = read(&ls, 0).unwrap();
            assert_eq!(
                (taken, shown(&a)),
                (ls.len(), expected.map(str::to_owned).to_vec()),
                "{name}"
            );
        }
        let text = format!("$ hostname -I\n{}", sample("hostname-I.txt"));
        let (h, _) = hostname_i(&lines(&text), 1).unwrap();
        assert_eq!(shown(&h), expected);
        // Without its command line, a line of addresses is not taken.
        assert!(hostname_i(&lines(&sample("hostname-I.txt")), 0).is_none());
    }
}
