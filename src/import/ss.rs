//! `ss -lnt` (listening TCP sockets: Recv-Q is the accept queue now, Send-Q its limit, the
//! backlog), `ss -tn` / `ss -tan` (connections: each one's state, local and peer address) and
//! `ss -s` (the socket summary: established and time-wait counts), as iproute2
//! prints them. Columns are found by the header (`State Recv-Q Send-Q Local Address:Port ...`,
//! with `Netid` first under `ss -ln`), so a `-p` column or a wider address does not matter.

use super::lines::Line;
use crate::snapshot::ProcessRef;
use std::collections::BTreeMap;

/// One listening socket of `ss -lnt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listening {
    /// `address:port` as ss prints it (`0.0.0.0:80`, `[::]:22`, `*:3306`).
    pub local: String,
    pub port: u16,
    /// Recv-Q: connections waiting to be accepted.
    pub queue: u32,
    /// Send-Q: the accept queue's limit.
    pub backlog: u32,
    /// From `users:(("name",pid=N,fd=M))`, under `-p`.
    pub process: Option<ProcessRef>,
}

/// One connection of `ss -tn` (any state but `LISTEN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// As ss names it: `ESTAB`, `TIME-WAIT`, `SYN-SENT`, ...
    pub state: String,
    pub local: std::net::SocketAddr,
    pub peer: std::net::SocketAddr,
}

/// A `ss -lnt` / `ss -tn` / `ss -tan` output: its listeners and its connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub sockets: Vec<Listening>,
    pub connections: Vec<Connection>,
    pub lines: (usize, usize),
}

/// `10.0.0.1:45678`, `[::ffff:127.0.0.1]:3306`, `[fe80::1%eth0]:22`, `10.0.0.1%eth0:22` as
/// ss prints an address; `*:22` and `0.0.0.0:*` (a listener's) are not one.
#[must_use]
pub fn address(text: &str) -> Option<std::net::SocketAddr> {
    let (host, port) = text.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.split_once('%').map_or(host, |(h, _)| h);
    let ip: std::net::IpAddr = host.parse().ok()?;
    // A v4-mapped IPv6 address is the IPv4 one it maps.
    let ip = match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
        v4 @ std::net::IpAddr::V4(_) => v4,
    };
    Some(std::net::SocketAddr::new(ip, port))
}

/// `ss -lnt` from `lines[start]` (its header) on, and how many lines it took.
#[must_use]
pub fn listen(lines: &[Line<'_>], start: usize) -> Option<(Listen, usize)> {
    let header: Vec<&str> = lines[start].text.split_whitespace().collect();
    let state = header.iter().position(|h| *h == "State")?;
    let recv = header.iter().position(|h| *h == "Recv-Q")?;
    let send = header.iter().position(|h| *h == "Send-Q")?;
    if recv != state + 1 || send != recv + 1 || !lines[start].text.contains("Local Address:Port") {
        return None;
    }
    let netid = header.first() == Some(&"Netid");
    let mut sockets = Vec::new();
    let mut connections = Vec::new();
    let mut taken = 1;
    for line in &lines[start + 1..] {
        let f: Vec<&str> = line.text.split_whitespace().collect();
        if f.len() < send + 3 {
            break;
        }
        // `ss -ln` lists every protocol: only TCP's listeners have an accept queue.
        let tcp = !netid || f[0] == "tcp";
        let (Ok(queue), Ok(backlog)) = (f[recv].parse::<u32>(), f[send].parse::<u32>()) else {
            break;
        };
        taken += 1;
        if !tcp {
            continue;
        }
        if f[state] != "LISTEN" {
            if let (Some(local), Some(peer)) = (
                address(f[send + 1]),
                f.get(send + 2).and_then(|p| address(p)),
            ) {
                connections.push(Connection {
                    state: f[state].to_owned(),
                    local,
                    peer,
                });
            }
            continue;
        }
        let local = f[send + 1];
        let Some(port) = local.rsplit_once(':').and_then(|(_, p)| p.parse().ok()) else {
            continue;
        };
        sockets.push(Listening {
            local: local.to_owned(),
            port,
            queue,
            backlog,
            process: f.get(send + 3).and_then(|p| users(p)),
        });
    }
    if taken == 1 {
        return None;
    }
    let lines = (lines[start].no, lines[start + taken - 1].no);
    Some((
        Listen {
            sockets,
            connections,
            lines,
        },
        taken,
    ))
}

/// `users:(("mariadbd",pid=29555,fd=22))` → mariadbd, 29555 (the first process).
fn users(text: &str) -> Option<ProcessRef> {
    let rest = text.strip_prefix("users:((\"")?;
    let (name, rest) = rest.split_once('"')?;
    let pid = rest.split_once("pid=")?.1;
    let pid = pid
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some(ProcessRef {
        pid,
        name: name.to_owned(),
    })
}

/// A `ss -s` output: sockets by state, as far as the summary tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// `ESTABLISHED`, `TIME_WAIT` (the states `ss -s` counts by name).
    pub states: BTreeMap<String, u32>,
    pub lines: (usize, usize),
}

/// `ss -s` from its `Total:` line on: the `TCP:` line, then the transport table.
#[must_use]
pub fn summary(lines: &[Line<'_>], start: usize) -> Option<(Summary, usize)> {
    let first = lines[start].text.trim();
    let total = first.strip_prefix("Total:")?.trim();
    // `Total: 279` (iproute2 6) or `Total: 279 (kernel 300)` (older).
    total.split_whitespace().next()?.parse::<u64>().ok()?;
    let mut states = BTreeMap::new();
    let mut taken = 1;
    for line in &lines[start + 1..] {
        let t = line.text.trim();
        if let Some(rest) = t.strip_prefix("TCP:") {
            // `TCP:   7 (estab 4, closed 1, orphaned 0, timewait 1)`
            let inside = rest
                .split_once('(')
                .map_or("", |(_, r)| r.trim_end_matches(')'));
            for part in inside.split(',') {
                let mut w = part.split_whitespace();
                let (Some(name), Some(n)) = (w.next(), w.next()) else {
                    continue;
                };
                // `timewait 0/0`: sockets / kernel's own count (iproute2 4).
                let Ok(n) = n.split('/').next().unwrap_or(n).parse::<u32>() else {
                    continue;
                };
                match name {
                    "estab" => {
                        states.insert("ESTABLISHED".to_owned(), n);
                    }
                    "timewait" => {
                        states.insert("TIME_WAIT".to_owned(), n);
                    }
                    _ => {}
                }
            }
        } else if !(t.is_empty() && taken == 2 || transport_row(t)) {
            break;
        }
        taken += 1;
    }
    if states.is_empty() {
        return None;
    }
    // Trailing blank lines are not part of it.
    while lines[start + taken - 1].is_blank() {
        taken -= 1;
    }
    let lines = (lines[start].no, lines[start + taken - 1].no);
    Some((Summary { states, lines }, taken))
}

/// A line of the transport table: `Transport Total IP IPv6` or `TCP  6  6  0` (a tab after the name).
fn transport_row(t: &str) -> bool {
    let mut w = t.split_whitespace();
    match w.next() {
        Some("Transport") => true,
        Some(name) if name == "*" || name.bytes().all(|b| b.is_ascii_uppercase()) => {
            let rest: Vec<&str> = w.collect();
            rest.len() == 3 && rest.iter().all(|x| *x == "-" || x.parse::<u64>().is_ok())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::lines::{lines, sample};

    #[test]
    fn recorded_ss_lnt_with_and_without_processes() {
        for name in ["ss-lnt.txt", "ss-lntp.txt"] {
            let text = sample(name);
            let ls = lines(&text);
            let (l, taken) = listen(&ls, 0).unwrap();
            assert_eq!(taken, ls.len(), "{name}");
            let full = l.sockets.iter().find(|s| s.port == 33396).unwrap();
            // The recording's listener: backlog 1, never accepting, two connections queued.
            assert_eq!((full.backlog, full.queue), (1, 2), "{name}");
        }
        let text = sample("ss-lntp.txt");
        let (l, _) = listen(&lines(&text), 0).unwrap();
        assert!(l.sockets.iter().any(|s| s.process.is_some()));
    }

    /// `ss -tan` as this machine printed it while a client held connections to a local server
    /// (lines of `tests/import/samples/ss-tan.txt`), and the address forms ss prints.
    #[test]
    fn recorded_ss_tan_connections() {
        let text = sample("ss-tan.txt");
        let ls = lines(&text);
        let (l, taken) = listen(&ls, 0).unwrap();
        assert_eq!(taken, ls.iter().rposition(|l| !l.is_blank()).unwrap() + 1);
        assert!(l.sockets.iter().any(|s| s.port == 33397), "{:?}", l.sockets);
        let to_server: Vec<&Connection> = l
            .connections
            .iter()
            .filter(|c| c.peer.port() == 33397 && c.state == "ESTAB")
            .collect();
        assert_eq!(to_server.len(), 3, "{:?}", l.connections);
        for (text, shown) in [
            ("10.0.0.1:45678", Some("10.0.0.1:45678")),
            ("[::ffff:127.0.0.1]:3306", Some("127.0.0.1:3306")),
            ("[fe80::1%eth0]:22", Some("[fe80::1]:22")),
            ("10.0.0.1%eth0:22", Some("10.0.0.1:22")),
            ("*:22", None),
            ("0.0.0.0:*", None),
        ] {
            assert_eq!(
                address(text).map(|a| a.to_string()).as_deref(),
                shown,
                "{text}"
            );
        }
    }

    #[test]
    fn recorded_ss_s() {
        let text = sample("ss-s.txt");
        let ls = lines(&text);
        let (s, taken) = summary(&ls, 0).unwrap();
        assert_eq!(taken, ls.iter().rposition(|l| !l.is_blank()).unwrap() + 1);
        assert!(s.states.contains_key("ESTABLISHED") && s.states.contains_key("TIME_WAIT"));
    }

    #[test]
    fn published_older_ss_s() {
        // iproute2 4.x (CentOS 7), as printed in its man page examples and bug reports.
        let text = "Total: 193 (kernel 0)\nTCP:   10 (estab 2, closed 0, orphaned 0, synrecv 0, timewait 0/0), ports 0\n\n\
                    Transport Total     IP        IPv6\n*\t  0         -         -\nRAW\t  0         0         0\n";
        let (s, _) = summary(&lines(text), 0).unwrap();
        assert_eq!(s.states["ESTABLISHED"], 2);
        assert_eq!(s.states["TIME_WAIT"], 0);
    }

    #[test]
    fn netid_column_and_other_protocols() {
        let text = "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port\n\
                    udp   UNCONN 0      0          0.0.0.0:68        0.0.0.0:*\n\
                    tcp   LISTEN 5      4096          [::]:80           [::]:*\n";
        let (l, taken) = listen(&lines(text), 0).unwrap();
        assert_eq!(taken, 3);
        assert_eq!(l.sockets.len(), 1);
        assert_eq!((l.sockets[0].port, l.sockets[0].queue), (80, 5));
    }
}
