//! Which process on this machine is the MySQL / MariaDB server doctor was pointed at.
//!
//! Knowing the process is what keeps doctor from going blind when the server is in trouble: its
//! command line and option files give `max_connections` and `wait_timeout` when doctor cannot log
//! in, its network namespace holds the connections the kernel can describe, and its root
//! (`/proc/<pid>/root`) holds the datadir and error log of a server in a container.
//!
//! The server is found by who holds what doctor connects to, never by name alone: a
//! `mysqld`/`mariadbd` process that holds the listening socket of the port (in doctor's own
//! network namespace), or listens on the very socket file (same device and inode seen through its
//! root), or sits behind Docker's `docker-proxy` for that published port (its `-container-ip` is
//! an address of the server's namespace). Without the proxy (`userland-proxy: false`, DNAT only)
//! the one server in another namespace listening on that port number is taken, and said so.

use super::optfile;
use super::url::Endpoint;
use crate::collect::{owners, sockdiag};
use netlink_packet_sock_diag::inet::StateFlags;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv6Addr};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Process names of the server (`/proc/<pid>/comm`; MariaDB ≥ 10.5 is `mariadbd`, before it and
/// MySQL `mysqld`).
const SERVER_NAMES: &[&str] = &["mysqld", "mariadbd"];

/// The server process found for an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The address it was found for.
    pub endpoint: Endpoint,
    pub pid: u32,
    pub name: String,
    /// `listener`, `socket`, `docker-proxy` or `container-port` (see the module doc).
    pub found_by: &'static str,
    /// TCP ports it listens on, in its own namespace.
    pub ports: Vec<u16>,
    /// Whether any of those listening sockets is IPv6 (`::` takes IPv4 clients too, as
    /// v4-mapped IPv6 connections): the connections to read are then IPv6 as well.
    pub ipv6: bool,
    /// Unix socket files it listens on, as it names them.
    pub sockets: Vec<String>,
    pub same_network_namespace: bool,
    /// `/proc/<pid>/root` when the server sees another filesystem than doctor.
    pub root: Option<PathBuf>,
    pub container_id: Option<String>,
    /// An address of the server's own network namespace that doctor can connect to (loopback
    /// when it shares doctor's namespace; the container's address otherwise, when known).
    pub reach: Option<IpAddr>,
}

impl Located {
    /// The root to read the server's files under (`/` when it sees doctor's filesystem).
    #[must_use]
    pub fn root(&self) -> &Path {
        self.root.as_deref().unwrap_or(Path::new("/"))
    }

    /// `path` as the server names it, readable from here.
    #[must_use]
    pub fn file(&self, path: &Path) -> PathBuf {
        optfile::under(self.root(), path)
    }
}

/// A `mysqld`/`mariadbd` process and what it listens on.
struct Candidate {
    pid: u32,
    name: String,
    netns: Option<u64>,
    ports: Vec<(IpAddr, u16)>,
    sockets: Vec<String>,
}

/// Finds the server behind the first endpoint that has one on this machine, or says why none.
pub fn locate(endpoints: &[Endpoint]) -> Result<Located, String> {
    let own_netns = owners::network_namespace(std::process::id());
    let own_mntns = owners::mount_namespace(std::process::id());
    let candidates: Vec<Candidate> = server_pids()
        .into_iter()
        .map(|(pid, name)| candidate(pid, name, own_netns))
        .collect();
    if candidates.is_empty() {
        return Err(
            "no mysqld or mariadbd process runs on this machine (or doctor may not see it: \
             run as root)"
                .to_owned(),
        );
    }
    let mut why = Vec::new();
    for endpoint in endpoints {
        match find(endpoint, &candidates, own_netns) {
            Ok((c, found_by, reach)) => {
                let same = c.netns.is_some() && c.netns == own_netns;
                let other_root = own_mntns.is_some() && owners::mount_namespace(c.pid) != own_mntns;
                let mut ports: Vec<u16> = c.ports.iter().map(|(_, p)| *p).collect();
                ports.sort_unstable();
                ports.dedup();
                return Ok(Located {
                    endpoint: endpoint.clone(),
                    pid: c.pid,
                    name: c.name.clone(),
                    found_by,
                    ports,
                    ipv6: c.ports.iter().any(|(a, _)| a.is_ipv6()),
                    sockets: c.sockets.clone(),
                    same_network_namespace: same,
                    root: other_root.then(|| PathBuf::from(format!("/proc/{}/root", c.pid))),
                    container_id: std::fs::read_to_string(format!("/proc/{}/cgroup", c.pid))
                        .ok()
                        .and_then(|t| container_id(&t)),
                    reach: reach
                        .or_else(|| same.then_some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))),
                });
            }
            Err(e) => why.push(e),
        }
    }
    Err(why.join("; "))
}

/// `(pid, name)` of every server process.
fn server_pids() -> Vec<(u32, String)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out: Vec<(u32, String)> = dir
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            let comm = comm.trim();
            SERVER_NAMES.contains(&comm).then(|| (pid, comm.to_owned()))
        })
        .collect();
    out.sort_unstable();
    out
}

fn candidate(pid: u32, name: String, own_netns: Option<u64>) -> Candidate {
    let netns = owners::network_namespace(pid);
    let inodes = owners::socket_inodes(pid);
    let listening = if netns.is_some() && netns == own_netns {
        sockdiag::dump(StateFlags::LISTEN)
    } else {
        sockdiag::in_namespace_of(pid, || sockdiag::dump(StateFlags::LISTEN))
    };
    let ports = listening
        .map(|socks| {
            socks
                .into_iter()
                .filter(|s| inodes.contains(&s.inode))
                .map(|s| (s.local, s.port))
                .collect()
        })
        .unwrap_or_default();
    let sockets = std::fs::read_to_string(format!("/proc/{pid}/net/unix"))
        .map(|t| {
            unix_listeners(&t)
                .into_iter()
                .filter(|(inode, _)| inodes.contains(inode))
                .map(|(_, path)| path)
                .collect()
        })
        .unwrap_or_default();
    Candidate {
        pid,
        name,
        netns,
        ports,
        sockets,
    }
}

/// The candidate serving `endpoint`, how it was found, and the address to reach it by.
fn find<'a>(
    endpoint: &Endpoint,
    candidates: &'a [Candidate],
    own_netns: Option<u64>,
) -> Result<(&'a Candidate, &'static str, Option<IpAddr>), String> {
    match endpoint {
        Endpoint::Socket(path) => {
            let target = std::fs::metadata(path)
                .map(|m| (m.dev(), m.ino()))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            for c in candidates {
                let root = PathBuf::from(format!("/proc/{}/root", c.pid));
                for s in &c.sockets {
                    let seen = std::fs::metadata(optfile::under(&root, Path::new(s)))
                        .map(|m| (m.dev(), m.ino()));
                    if seen.is_ok_and(|d| d == target) {
                        return Ok((c, "socket", None));
                    }
                }
            }
            Err(format!(
                "no mysqld/mariadbd process listens on the socket {}",
                path.display()
            ))
        }
        Endpoint::Tcp { host, port } => {
            if !is_local(host) {
                return Err(format!(
                    "{host} is not an address of this machine: the server runs elsewhere"
                ));
            }
            let own = |c: &&Candidate| c.netns.is_some() && c.netns == own_netns;
            if let Some(c) = candidates
                .iter()
                .filter(own)
                .find(|c| c.ports.iter().any(|(_, p)| p == port))
            {
                return Ok((c, "listener", None));
            }
            for proxy in docker_proxies() {
                if proxy.host_port != *port {
                    continue;
                }
                let behind = candidates.iter().find(|c| {
                    !own(c)
                        && c.ports.iter().any(|(a, p)| {
                            *p == proxy.container_port
                                && (a.is_unspecified() || *a == proxy.container_ip)
                        })
                        && local_addresses(c.pid).contains(&proxy.container_ip)
                });
                if let Some(c) = behind {
                    return Ok((c, "docker-proxy", Some(proxy.container_ip)));
                }
            }
            let elsewhere: Vec<&Candidate> = candidates
                .iter()
                .filter(|c| !own(c) && c.ports.iter().any(|(_, p)| p == port))
                .collect();
            if let [c] = elsewhere.as_slice() {
                let reach = local_addresses(c.pid)
                    .into_iter()
                    .find(|a| !a.is_loopback() && a.is_ipv4());
                return Ok((c, "container-port", reach));
            }
            Err(format!(
                "no mysqld/mariadbd process on this machine serves port {port} (a proxy, a \
                 tunnel or another host holds it)"
            ))
        }
    }
}

/// Whether `host` names this machine: `localhost`, a loopback address, or an address one of its
/// interfaces has (binding a socket to it succeeds only then). Other host names are not looked up.
fn is_local(host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() else {
        return false;
    };
    ip.is_loopback() || std::net::UdpSocket::bind((ip, 0)).is_ok()
}

/// The `[(inode, path)]` of listening Unix sockets in a `/proc/net/unix` text: `Flags` with
/// `__SO_ACCEPTCON` (`00010000`), a path that is a file (not abstract: `@...`).
#[must_use]
pub fn unix_listeners(text: &str) -> Vec<(u64, String)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                return None;
            }
            let flags = u32::from_str_radix(fields[3], 16).ok()?;
            let path = fields[7..].join(" ");
            (flags & 0x0001_0000 != 0 && path.starts_with('/'))
                .then(|| Some((fields[6].parse().ok()?, path)))
                .flatten()
        })
        .collect()
}

/// How many clients are connected to the Unix socket `path` in a `/proc/net/unix` text: the
/// sockets the server accepted carry the listener's path and are `SS_CONNECTED` (`St` 03).
#[must_use]
pub fn unix_connected(text: &str, path: &str) -> u32 {
    let n = text
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() >= 8
                && fields[5] == "03"
                && u32::from_str_radix(fields[3], 16).is_ok_and(|f| f & 0x0001_0000 == 0)
                && fields[7..].join(" ") == path
        })
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The container id in a `/proc/<pid>/cgroup` text: the first 64-hex-digit name in a path
/// (`/docker/<id>`, `docker-<id>.scope`, `cri-containerd-<id>.scope`, `libpod-<id>.scope`), as
/// its 12-digit short form.
#[must_use]
pub fn container_id(proc_cgroup: &str) -> Option<String> {
    proc_cgroup.lines().find_map(|line| {
        let path = line.splitn(3, ':').nth(2)?;
        path.split(['/', '-', '.'])
            .find(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|s| s[..12].to_owned())
    })
}

/// The host directory holding `path` when, in a process's `mountinfo`, it lies on an overlay
/// filesystem (a container's own layer, no volume): the mount's `upperdir=`, where writes land,
/// joined with the rest of the path. `None` when the mount holding `path` is not an overlay.
#[must_use]
pub fn overlay_upper_dir(mountinfo: &str, path: &Path) -> Option<PathBuf> {
    let mut best: Option<(usize, PathBuf)> = None;
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let Some(point) = left.split(' ').nth(4) else {
            continue;
        };
        let Ok(rest) = path.strip_prefix(point) else {
            continue;
        };
        let mut r = right.split(' ');
        let fstype = r.next().unwrap_or("");
        let options = r.nth(1).unwrap_or("");
        let upper = options
            .split(',')
            .find_map(|o| o.strip_prefix("upperdir="))
            .filter(|_| fstype == "overlay")
            .map(|u| Path::new(u).join(rest));
        // The deepest mount holding the path is the one it lives on.
        if best.as_ref().is_none_or(|(len, _)| point.len() >= *len) {
            best = Some((point.len(), upper.unwrap_or_default()));
        }
    }
    best.map(|(_, p)| p).filter(|p| !p.as_os_str().is_empty())
}

/// A `docker-proxy` process publishing a container's port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    pub host_port: u16,
    pub container_ip: IpAddr,
    pub container_port: u16,
}

/// The proxy's arguments (`-proto tcp -host-ip 0.0.0.0 -host-port 3306 -container-ip
/// 172.17.0.2 -container-port 3306`, as dockerd starts it).
#[must_use]
pub fn proxy_args(args: &[String]) -> Option<Proxy> {
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag || a == &format!("-{flag}"))
            .and_then(|i| args.get(i + 1))
    };
    if value("-proto").is_some_and(|p| p != "tcp") {
        return None;
    }
    Some(Proxy {
        host_port: value("-host-port")?.parse().ok()?,
        container_ip: value("-container-ip")?.parse().ok()?,
        container_port: value("-container-port")?.parse().ok()?,
    })
}

fn docker_proxies() -> Vec<Proxy> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            if comm.trim() != "docker-proxy" {
                return None;
            }
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            proxy_args(&cmdline_args(&cmdline))
        })
        .collect()
}

/// A `/proc/<pid>/cmdline`'s arguments (NUL-separated).
#[must_use]
pub fn cmdline_args(raw: &[u8]) -> Vec<String> {
    raw.split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// The addresses of `pid`'s network namespace: IPv4 from `/proc/<pid>/net/fib_trie`'s local
/// routes, IPv6 from `/proc/<pid>/net/if_inet6`.
#[must_use]
pub fn local_addresses(pid: u32) -> Vec<IpAddr> {
    let mut out: BTreeSet<IpAddr> = std::fs::read_to_string(format!("/proc/{pid}/net/fib_trie"))
        .map(|t| fib_trie_locals(&t))
        .unwrap_or_default()
        .into_iter()
        .collect();
    if let Ok(t) = std::fs::read_to_string(format!("/proc/{pid}/net/if_inet6")) {
        out.extend(if_inet6(&t));
    }
    out.into_iter().collect()
}

/// Local IPv4 addresses in a `/proc/net/fib_trie` text: a `|-- <addr>` leaf followed by a
/// `/32 host LOCAL` line.
#[must_use]
pub fn fib_trie_locals(text: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut last: Option<IpAddr> = None;
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(addr) = t.strip_prefix("|-- ") {
            last = addr.trim().parse().ok();
        } else if t.starts_with("/32 host LOCAL")
            && let Some(a) = last
            && !out.contains(&a)
        {
            out.push(a);
        }
    }
    out
}

/// Addresses in a `/proc/net/if_inet6` text (32 hex digits first on each line).
#[must_use]
pub fn if_inet6(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|l| {
            let hex = l.split_whitespace().next()?;
            let v = u128::from_str_radix(hex, 16).ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(v)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/proc/net/unix` as Linux 6.x writes it: a listening server socket, a connection it
    /// accepted (same path, `St` 03), a client's end (no path), an abstract socket.
    const UNIX: &str = "\
Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 41210 /run/mysqld/mysqld.sock
0000000000000000: 00000003 00000000 00000000 0001 03 41977 /run/mysqld/mysqld.sock
0000000000000000: 00000003 00000000 00000000 0001 03 41976
0000000000000000: 00000002 00000000 00010000 0001 01 18021 @/tmp/.X11-unix/X0
0000000000000000: 00000002 00000000 00010000 0001 01 18022 /tmp/a b.sock
";

    #[test]
    fn unix_sockets_listening_and_connected() {
        assert_eq!(
            unix_listeners(UNIX),
            vec![
                (41210, "/run/mysqld/mysqld.sock".to_owned()),
                (18022, "/tmp/a b.sock".to_owned())
            ]
        );
        assert_eq!(unix_connected(UNIX, "/run/mysqld/mysqld.sock"), 1);
        assert_eq!(unix_connected(UNIX, "/tmp/a b.sock"), 0);
    }

    #[test]
    fn container_ids_from_cgroup_paths() {
        let id = "3f1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a";
        // cgroup v1 under dockerd's cgroupfs driver, and v2 under the systemd driver.
        let v1 = format!("12:memory:/docker/{id}\n11:cpu,cpuacct:/docker/{id}\n");
        let v2 = format!("0::/system.slice/docker-{id}.scope\n");
        assert_eq!(container_id(&v1).as_deref(), Some("3f1c2a9b8d7e"));
        assert_eq!(container_id(&v2).as_deref(), Some("3f1c2a9b8d7e"));
        assert_eq!(container_id("0::/user.slice/session-2.scope\n"), None);
    }

    /// A container's `/proc/<pid>/mountinfo` (Docker's overlay2 root, a bind-mounted volume).
    #[test]
    fn overlay_upper_dirs() {
        let mi = "\
1201 1100 0:123 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/A:/var/lib/docker/overlay2/l/B,upperdir=/var/lib/docker/overlay2/abc/diff,workdir=/var/lib/docker/overlay2/abc/work
1202 1201 0:124 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
1210 1201 254:0 /srv/db /var/lib/mysql rw,relatime - ext4 /dev/vda rw
";
        assert_eq!(
            overlay_upper_dir(mi, Path::new("/var/lib/mysql-files/x")),
            Some(PathBuf::from(
                "/var/lib/docker/overlay2/abc/diff/var/lib/mysql-files/x"
            ))
        );
        assert_eq!(overlay_upper_dir(mi, Path::new("/var/lib/mysql/")), None);
        assert_eq!(overlay_upper_dir(mi, Path::new("/proc/1")), None);
    }

    #[test]
    fn docker_proxy_arguments() {
        let args: Vec<String> = "/usr/sbin/docker-proxy -proto tcp -host-ip 127.0.0.1 \
                                 -host-port 33450 -container-ip 172.17.0.2 -container-port 3306"
            .split(' ')
            .map(str::to_owned)
            .collect();
        assert_eq!(
            proxy_args(&args),
            Some(Proxy {
                host_port: 33450,
                container_ip: "172.17.0.2".parse().unwrap(),
                container_port: 3306
            })
        );
        let udp: Vec<String> = args
            .iter()
            .map(|a| if a == "tcp" { "udp".into() } else { a.clone() })
            .collect();
        assert_eq!(proxy_args(&udp), None);
        assert_eq!(cmdline_args(b"a\0-b\0\0c\0"), vec!["a", "-b", "c"]);
    }

    /// `/proc/net/fib_trie` of a container on Docker's default bridge (trimmed).
    #[test]
    fn local_addresses_of_a_namespace() {
        let trie = "\
Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
     |-- 172.17.0.2
        /32 host LOCAL
     |-- 172.17.255.255
        /32 link BROADCAST
Local:
  +-- 0.0.0.0/0 3 0 5
     |-- 172.17.0.2
        /32 host LOCAL
";
        assert_eq!(
            fib_trie_locals(trie),
            vec![
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "172.17.0.2".parse().unwrap()
            ]
        );
        assert_eq!(
            if_inet6("00000000000000000000000000000001 01 80 10 80       lo\n"),
            vec!["::1".parse::<IpAddr>().unwrap()]
        );
    }

    #[test]
    fn local_hosts() {
        assert!(is_local("localhost"));
        assert!(is_local("127.0.0.1"));
        assert!(is_local("::1") || !std::path::Path::new("/proc/net/if_inet6").exists());
        assert!(!is_local("192.0.2.1")); // TEST-NET-1, never assigned
        assert!(!is_local("db.example"));
    }
}
