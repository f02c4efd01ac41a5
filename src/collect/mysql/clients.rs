//! Who holds the server's connections and whether they are idle, from the kernel alone.
//!
//! When the server is full doctor cannot log in to run `SHOW PROCESSLIST`, but the kernel still
//! knows every connection: `sock_diag` lists the established sockets on the server's ports in its
//! network namespace, each with its `tcp_info`, whose `tcpi_last_data_sent`/`tcpi_last_data_recv`
//! tell who spoke last and how long ago. A client end on this machine is found by its 4-tuple (in
//! the server's namespace through the same `sock_diag`; in another — a container on a bridge, or
//! the host's, where `docker-proxy` holds the connections it forwards — through `sock_diag` in
//! that namespace, asking the kernel only for sockets connected to the server's port, or its
//! `/proc/<pid>/net/tcp` text when doctor may not enter it), and its process by its inode, as
//! `ss -p` finds it ([`crate::collect::owners`]).
//!
//! The accounting ([`summarize`]) is separate from the reading and unit-tested on literal
//! sockets.

use super::locate::{self, Located};
use super::threads;
use crate::collect::{Failure, owners, sockdiag};
use crate::snapshot::{ClientConnections, IdleHistogram, ServerConnections, round2};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Wall time allowed for finding the clients' processes (reading other processes' fds).
const OWNER_BUDGET: Duration = Duration::from_millis(15);

/// Clients listed at most; the rest are counted in the totals.
const MAX_CLIENTS: usize = 20;

/// Idle for this long or more counts as an idle session, as the processlist's `lt_1m` bucket and
/// up do for `mysql-idle-connections`.
const IDLE_S: f64 = 10.0;

/// What is known of a client end's holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: i32,
    pub process: String,
    pub container_id: Option<String>,
}

/// Reads the server's connections now, with the notes a reader needs. `thread_pool`: the server
/// runs a thread pool (idle sessions have no thread), so its threads cannot tell idle sessions.
pub fn read(
    server: &Located,
    thread_pool: bool,
) -> Result<(ServerConnections, Vec<String>), Failure> {
    let mut notes = Vec::new();
    let (ports, ipv6) = (server.ports.clone(), server.ipv6);
    let dump = move || -> Result<(Vec<sockdiag::TcpSocket>, Vec<sockdiag::TcpSocket>), Failure> {
        let sockets = sockdiag::Diag::open()?.established_touching(&ports, ipv6, true)?;
        // The server's ends (its port is theirs), and the client ends in the same namespace.
        Ok(sockets.into_iter().partition(|s| ports.contains(&s.port)))
    };
    let (served, client_ends) = if server.same_network_namespace {
        dump()?
    } else {
        sockdiag::in_namespace_of(server.pid, dump)?
    };
    let unix_text =
        std::fs::read_to_string(format!("/proc/{}/net/unix", server.pid)).unwrap_or_default();
    let unix: u32 = server
        .sockets
        .iter()
        .map(|s| locate::unix_connected(&unix_text, s))
        .sum();
    let holders = holders(
        server,
        &served,
        &client_ends,
        &namespaces,
        OWNER_BUDGET,
        &mut notes,
    );
    let waiting = if thread_pool {
        None
    } else {
        threads::waiting_sockets(server.pid)
    };
    if waiting.is_none() && !served.is_empty() {
        notes.push(
            "idle sessions are told from statements by tcp_info alone (the server's threads \
             could not be read: not root, or a thread pool): a statement sent within a kernel \
             tick of the answer before it counts as idle"
                .to_owned(),
        );
    }
    let summary = summarize(
        &served,
        unix,
        &|s: &sockdiag::TcpSocket| holders.get(&(s.remote, s.remote_port)).cloned(),
        waiting.as_ref(),
    );
    if unix > 0 {
        notes.push(format!(
            "{unix} clients on the Unix socket are counted, not attributed or timed (a Unix \
             socket has no tcp_info)"
        ));
    }
    Ok((summary, notes))
}

/// The holders of the client ends, by the client's (address, port), looked for in the
/// server's network namespace and those `namespaces` lists, within `budget` (a note says when
/// it ran out before every client was looked for).
fn holders(
    server: &Located,
    served: &[sockdiag::TcpSocket],
    client_ends: &[sockdiag::TcpSocket],
    namespaces: &dyn Fn() -> BTreeMap<u64, u32>,
    budget: Duration,
    notes: &mut Vec<String>,
) -> HashMap<(IpAddr, u16), Holder> {
    let started = Instant::now();
    let server_netns = owners::network_namespace(server.pid);
    // Client ends in the server's own namespace, by their (address, port).
    let local: HashMap<(IpAddr, u16), u64> = client_ends
        .iter()
        .map(|c| ((c.local, c.port), c.inode))
        .collect();
    let mut by_netns: BTreeMap<Option<u64>, BTreeMap<u64, (IpAddr, u16)>> = BTreeMap::new();
    let mut elsewhere: BTreeMap<IpAddr, Vec<u16>> = BTreeMap::new();
    for s in served {
        match local.get(&(s.remote, s.remote_port)) {
            Some(inode) if *inode != 0 => {
                by_netns
                    .entry(server_netns)
                    .or_default()
                    .insert(*inode, (s.remote, s.remote_port));
            }
            _ => elsewhere.entry(s.remote).or_default().push(s.remote_port),
        }
    }
    // Clients in other namespaces: find the namespace that has each address, then the client
    // ends there. A namespace passed over for want of time is a client not looked for, like a
    // process owners() did not reach.
    let mut complete = true;
    if !elsewhere.is_empty() {
        for (netns, pid) in namespaces() {
            if netns == server_netns.unwrap_or(0) {
                continue;
            }
            if started.elapsed() > budget {
                complete = false;
                break;
            }
            let addresses = locate::local_addresses(pid);
            if !elsewhere.keys().any(|a| addresses.contains(a)) {
                continue;
            }
            let found = wanted_ends(&client_ends_in(pid, &server.ports), &elsewhere);
            if !found.is_empty() {
                by_netns.entry(Some(netns)).or_default().extend(found);
            }
        }
    }
    let mut out = HashMap::new();
    for (netns, inodes) in by_netns {
        let wanted: BTreeSet<u64> = inodes.keys().copied().collect();
        let left = budget.saturating_sub(started.elapsed());
        let (found, done) = owners::owners(&wanted, netns, left);
        complete &= done;
        // One cgroup read per process, not per connection: a pool holds many.
        let mut containers: HashMap<i32, Option<String>> = HashMap::new();
        for (inode, p) in found {
            let container_id = containers
                .entry(p.pid)
                .or_insert_with(|| {
                    std::fs::read_to_string(format!("/proc/{}/cgroup", p.pid))
                        .ok()
                        .and_then(|t| locate::container_id(&t))
                })
                .clone();
            if let Some(addr) = inodes.get(&inode) {
                out.insert(
                    *addr,
                    Holder {
                        pid: p.pid,
                        process: p.name,
                        container_id,
                    },
                );
            }
        }
    }
    if !complete {
        notes.push(format!(
            "not every client's process was looked for within {} ms: some clients are shown by \
             address only",
            budget.as_millis()
        ));
    }
    out
}

/// `(local address, local port, inode)` of the client ends in `pid`'s network namespace that may
/// be connected to the server: through `sock_diag` in that namespace, the established sockets
/// whose remote port is one of the server's `ports` (the kernel compares the port, so a host
/// namespace with tens of thousands of sockets costs no more than a container's); without the
/// privilege to enter the namespace, every socket of its `/proc/<pid>/net/tcp` and `tcp6` text.
/// The host's table was read that way before, and on a machine with a few thousand sockets
/// (mostly `TIME_WAIT`) reading and parsing it alone took longer than the owner budget, so the
/// connections `docker-proxy` forwards were never attributed.
fn client_ends_in(pid: u32, ports: &[u16]) -> Vec<(IpAddr, u16, u64)> {
    let ports = ports.to_vec();
    let diag = sockdiag::in_namespace_of(pid, move || {
        let sockets = sockdiag::Diag::open()?.established_touching(&ports, true, false)?;
        Ok(sockets
            .into_iter()
            .filter(|s| ports.contains(&s.remote_port))
            .collect::<Vec<_>>())
    });
    if let Ok(sockets) = diag {
        return sockets
            .into_iter()
            .map(|s| (s.local, s.port, s.inode))
            .collect();
    }
    let mut table = String::new();
    for f in ["tcp", "tcp6"] {
        table
            .push_str(&std::fs::read_to_string(format!("/proc/{pid}/net/{f}")).unwrap_or_default());
    }
    proc_net_tcp(&table)
}

/// The client ends among `ends` (`(local address, local port, inode)` of one namespace) that
/// are the remote ends of the server's connections listed in `wanted` (remote address → remote
/// ports, as the server's side sees them), by inode.
#[must_use]
pub fn wanted_ends(
    ends: &[(IpAddr, u16, u64)],
    wanted: &BTreeMap<IpAddr, Vec<u16>>,
) -> BTreeMap<u64, (IpAddr, u16)> {
    ends.iter()
        .filter(|(ip, port, inode)| {
            *inode != 0 && wanted.get(ip).is_some_and(|ports| ports.contains(port))
        })
        .map(|(ip, port, inode)| (*inode, (*ip, *port)))
        .collect()
}

/// One pid per network namespace on this machine, by the namespace's inode.
fn namespaces() -> BTreeMap<u64, u32> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        if let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok())
            && let Some(ns) = owners::network_namespace(pid)
        {
            out.entry(ns).or_insert(pid);
        }
    }
    out
}

/// `(local address, local port, inode)` of every socket in a `/proc/net/tcp` or `tcp6` text
/// (addresses as the kernel prints them: the 32-bit words in host byte order, in hex).
#[must_use]
pub fn proc_net_tcp(text: &str) -> Vec<(IpAddr, u16, u64)> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || !f[0].ends_with(':') {
                return None;
            }
            let (addr, port) = f[1].split_once(':')?;
            let port = u16::from_str_radix(port, 16).ok()?;
            let ip = hex_address(addr)?;
            Some((ip, port, f[9].parse().ok()?))
        })
        .collect()
}

/// An address from `/proc/net/tcp` (8 hex digits) or `tcp6` (32): each 32-bit word is printed
/// in host byte order; an IPv4-mapped IPv6 address is given as IPv4, as `sock_diag` reports it.
fn hex_address(hex: &str) -> Option<IpAddr> {
    let words: Option<Vec<u32>> = (0..hex.len() / 8)
        .map(|i| u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect();
    let bytes: Vec<u8> = words?
        .into_iter()
        .flat_map(|w| w.swap_bytes().to_be_bytes())
        .collect();
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => {
            let v6 = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?);
            Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4))
        }
        _ => None,
    }
}

/// Counts the connections, by client: idle or in a statement. `waiting` (the sockets the
/// server's threads wait to read from, [`threads`]) decides which when it is known; otherwise
/// `tcp_info` does (the server spoke last: idle; the client did: in a statement). The times come
/// from `tcp_info`: since the last data either way for an idle session, since the client's last
/// data (the statement) for one in a statement. `holder` names the process holding a
/// connection's client end, when known.
#[must_use]
pub fn summarize(
    served: &[sockdiag::TcpSocket],
    unix: u32,
    holder: &dyn Fn(&sockdiag::TcpSocket) -> Option<Holder>,
    waiting: Option<&BTreeSet<u64>>,
) -> ServerConnections {
    let mut hist = IdleHistogram::default();
    let (mut idle, mut in_statement) = (0u32, 0u32);
    let (mut idle_max, mut stmt_max): (Option<f64>, Option<f64>) = (None, None);
    let mut clients: BTreeMap<(IpAddr, Option<i32>), ClientConnections> = BTreeMap::new();
    for s in served {
        let h = holder(s);
        let c = clients
            .entry((s.remote, h.as_ref().map(|h| h.pid)))
            .or_insert_with(|| ClientConnections {
                address: s.remote.to_string(),
                pid: h.as_ref().map(|h| h.pid),
                process: h.as_ref().map(|h| h.process.clone()),
                container_id: h.as_ref().and_then(|h| h.container_id.clone()),
                container: None,
                connections: 0,
                idle_10s: 0,
                in_statement: 0,
                idle_max_s: None,
            });
        c.connections += 1;
        let is_idle = match (waiting, s.activity) {
            (Some(w), _) => w.contains(&s.inode),
            (None, Some(a)) => a.last_data_sent_ms <= a.last_data_recv_ms,
            (None, None) => continue,
        };
        let since =
            |pick: fn(&sockdiag::Activity) -> u32| s.activity.map(|a| f64::from(pick(&a)) / 1000.0);
        if is_idle {
            idle += 1;
            let Some(secs) = since(|a| a.last_data_sent_ms.min(a.last_data_recv_ms)) else {
                continue;
            };
            bucket(&mut hist, secs);
            idle_max = Some(idle_max.map_or(secs, |m: f64| m.max(secs)));
            c.idle_max_s = Some(round2(c.idle_max_s.map_or(secs, |m| m.max(secs))));
            if secs >= IDLE_S {
                c.idle_10s += 1;
            }
        } else {
            in_statement += 1;
            c.in_statement += 1;
            if let Some(secs) = since(|a| a.last_data_recv_ms) {
                stmt_max = Some(stmt_max.map_or(secs, |m: f64| m.max(secs)));
            }
        }
    }
    let mut by_client: Vec<ClientConnections> = clients.into_values().collect();
    by_client.sort_by(|a, b| {
        b.connections
            .cmp(&a.connections)
            .then_with(|| a.address.cmp(&b.address))
    });
    let truncated = by_client.len() > MAX_CLIENTS;
    by_client.truncate(MAX_CLIENTS);
    ServerConnections {
        tcp: u32::try_from(served.len()).unwrap_or(u32::MAX),
        idle_by: if waiting.is_some() {
            "server threads"
        } else {
            "tcp_info"
        }
        .to_owned(),
        socket: unix,
        idle_histogram: hist,
        idle,
        idle_max_s: idle_max.map(round2),
        in_statement,
        in_statement_max_s: stmt_max.map(round2),
        by_client,
        truncated,
    }
}

fn bucket(h: &mut IdleHistogram, secs: f64) {
    let b = match secs {
        s if s < 1.0 => &mut h.lt_1s,
        s if s < 10.0 => &mut h.lt_10s,
        s if s < 60.0 => &mut h.lt_1m,
        s if s < 600.0 => &mut h.lt_10m,
        s if s < 3600.0 => &mut h.lt_1h,
        _ => &mut h.ge_1h,
    };
    *b += 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockdiag::{Activity, TcpSocket};

    fn conn(remote: &str, port: u16, sent_ms: u32, recv_ms: u32) -> TcpSocket {
        TcpSocket {
            ipv6: false,
            state: 1,
            local: "127.0.0.1".parse().unwrap(),
            port: 3306,
            recv_queue: 0,
            send_queue: 0,
            inode: 0,
            remote: remote.parse().unwrap(),
            remote_port: port,
            received: None,
            activity: Some(Activity {
                last_data_sent_ms: sent_ms,
                last_data_recv_ms: recv_ms,
            }),
        }
    }

    /// Idle pool connections (the server answered last, long ago), a statement running for 30 s
    /// (the client spoke last), a busy one, and one without `tcp_info`.
    #[test]
    fn who_spoke_last_and_how_long_ago() {
        let served = vec![
            conn("127.0.0.1", 40001, 30_000, 30_004),
            conn("127.0.0.1", 40002, 4_000_000, 4_000_000),
            conn("127.0.0.1", 40003, 31_000, 30_000),
            conn("172.17.0.3", 50001, 5, 6),
            TcpSocket {
                activity: None,
                ..conn("172.17.0.3", 50002, 0, 0)
            },
        ];
        let holder = |s: &TcpSocket| {
            (s.remote.to_string() == "127.0.0.1").then(|| Holder {
                pid: 812,
                process: "node".into(),
                container_id: None,
            })
        };
        let c = summarize(&served, 2, &holder, None);
        assert_eq!(c.idle_by, "tcp_info");
        assert_eq!(c.tcp, 5);
        assert_eq!(c.socket, 2);
        assert_eq!(c.idle, 3);
        assert_eq!(c.in_statement, 1);
        assert_eq!(c.in_statement_max_s, Some(30.0));
        assert_eq!(c.idle_max_s, Some(4000.0));
        assert_eq!(
            c.idle_histogram,
            IdleHistogram {
                lt_1s: 1,
                lt_1m: 1,
                ge_1h: 1,
                ..IdleHistogram::default()
            }
        );
        assert_eq!(c.by_client.len(), 2);
        let node = &c.by_client[0];
        assert_eq!(
            (node.pid, node.process.as_deref()),
            (Some(812), Some("node"))
        );
        assert_eq!(
            (node.connections, node.idle_10s, node.in_statement),
            (3, 2, 1)
        );
        let other = &c.by_client[1];
        assert_eq!(
            (other.address.as_str(), other.connections, other.idle_10s),
            ("172.17.0.3", 2, 0)
        );
    }

    /// The server's threads overrule `tcp_info`'s order: a statement sent in the same tick as
    /// the answer before it (equal times) is in a statement when no thread waits on it.
    #[test]
    fn server_threads_decide_idle() {
        let mut sent_then_query = conn("127.0.0.1", 40001, 4_096, 4_096);
        sent_then_query.inode = 11;
        let mut idle = conn("127.0.0.1", 40002, 20_000, 20_000);
        idle.inode = 12;
        let served = vec![sent_then_query, idle];
        let waiting = BTreeSet::from([12]);
        let c = summarize(&served, 0, &|_| None, Some(&waiting));
        assert_eq!(c.idle_by, "server threads");
        assert_eq!((c.idle, c.in_statement), (1, 1));
        assert_eq!(c.in_statement_max_s, Some(4.1));
        assert_eq!(c.idle_max_s, Some(20.0));
        // tcp_info alone takes both for idle.
        assert_eq!(summarize(&served, 0, &|_| None, None).idle, 2);
    }

    /// A client in another network namespace (a container on a bridge) that the budget left no
    /// time to look for is said so, not silently shown by address alone (the namespaces were
    /// passed over without a note before).
    #[test]
    fn clients_not_looked_for_are_noted() {
        let own = std::process::id();
        let server = Located {
            endpoint: super::super::url::Endpoint::Tcp {
                host: "127.0.0.1".into(),
                port: 3306,
            },
            pid: own,
            name: "mariadbd".into(),
            found_by: "docker-proxy",
            ports: vec![3306],
            ipv6: false,
            sockets: Vec::new(),
            same_network_namespace: false,
            root: None,
            container_id: None,
            reach: None,
        };
        // A client at an address of no namespace here (TEST-NET-1): looked for elsewhere.
        let served = vec![conn("192.0.2.7", 50001, 5, 6)];
        let mut notes = Vec::new();
        // The server's namespace (this process's) and another one, read through this process
        // too: only the other is searched.
        let own_ns = owners::network_namespace(own).expect("/proc/self/ns/net");
        let two = || BTreeMap::from([(own_ns, own), (own_ns ^ 1, own)]);
        let found = holders(&server, &served, &[], &two, Duration::ZERO, &mut notes);
        assert!(found.is_empty());
        assert_eq!(
            notes,
            [
                "not every client's process was looked for within 0 ms: some clients are shown by \
              address only"
            ]
        );
        // With time to look, the other namespace is searched; it does not have the address,
        // and nothing is left unlooked for.
        let mut notes = Vec::new();
        let found = holders(
            &server,
            &served,
            &[],
            &two,
            Duration::from_secs(5),
            &mut notes,
        );
        assert!(found.is_empty());
        assert!(notes.is_empty(), "{notes:?}");
    }

    /// Only the ends the server's side names (address and port), and never an inode-0 socket
    /// (`TIME_WAIT`, owned by no process).
    #[test]
    fn client_ends_matched_by_address_and_port() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let ends = [
            (ip("172.18.0.3"), 37416, 239_426),
            (ip("172.18.0.3"), 37420, 239_577),
            (ip("172.18.0.3"), 41000, 239_600), // another connection of the app
            (ip("172.18.0.1"), 37416, 239_700), // same port, another address
            (ip("172.18.0.3"), 37434, 0),
        ];
        let wanted = BTreeMap::from([(ip("172.18.0.3"), vec![37416, 37420, 37434])]);
        assert_eq!(
            wanted_ends(&ends, &wanted),
            BTreeMap::from([
                (239_426, (ip("172.18.0.3"), 37416)),
                (239_577, (ip("172.18.0.3"), 37420)),
            ])
        );
    }

    /// The client end of a real connection to a port, found in this process's namespace through
    /// `sock_diag` (or, without the privilege to enter it, `/proc/<pid>/net/tcp`), with the
    /// inode the kernel gave the socket. As root (`sock_diag` in the namespace) only sockets
    /// connected to the port are asked for: not the server's end of the same connection, nor
    /// the listener.
    #[test]
    fn client_ends_of_a_real_connection() {
        use std::os::unix::fs::MetadataExt as _;
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_accepted, _) = server.accept().unwrap();
        let local = client.local_addr().unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&client);
        let inode = std::fs::metadata(format!("/proc/self/fd/{fd}"))
            .unwrap()
            .ino();
        let ends = client_ends_in(std::process::id(), &[port]);
        assert!(
            ends.contains(&(local.ip(), local.port(), inode)),
            "{local} (inode {inode}) not among {ends:?}"
        );
        if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
            assert!(!ends.iter().any(|(_, p, _)| *p == port), "{ends:?}");
        }
    }

    /// Lines of `/proc/net/tcp` and `tcp6` as Linux prints them on `x86_64` (little-endian words).
    #[test]
    fn proc_net_tcp_addresses() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 030011AC:C350 020011AC:0CEA 01 00000000:00000000 00:00000000 00000000     0        0 91234 1 0000000000000000 20 4 30 10 -1
";
        let v6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100007F:9C40 0000000000000000FFFF00000100007F:0CEA 01 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 20 4 30 10 -1
   1: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0
";
        if cfg!(target_endian = "little") {
            assert_eq!(
                proc_net_tcp(v4),
                vec![("172.17.0.3".parse().unwrap(), 50000, 91234)]
            );
            assert_eq!(
                proc_net_tcp(v6),
                vec![
                    ("127.0.0.1".parse().unwrap(), 40000, 5555),
                    ("::1".parse().unwrap(), 22, 77)
                ]
            );
        }
    }
}
