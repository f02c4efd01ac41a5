//! Which process holds a socket, found the way `ss -p` finds it: by reading the `socket:[inode]`
//! links in `/proc/<pid>/fd`. Used for listeners (who serves a port) and for the clients of the
//! MySQL server (who holds its connections).
//!
//! Reading every process's fds is the expensive part of both, so a lookup stops as soon as every
//! inode is placed or its time budget is spent (a host with thousands of processes and fds must
//! not make a snapshot expensive), and may be limited to the processes of one network namespace
//! (a socket can only be held by a process of the namespace it was created in, or one that
//! inherited or was passed it).

use crate::snapshot::ProcessRef;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

/// The processes holding `inodes`: the owners found, and whether every process considered was
/// looked at (false when the budget ran out or `/proc` could not be listed). Processes doctor may
/// not look into are passed over. `netns`: only processes in that network namespace.
#[must_use]
pub fn owners(
    inodes: &BTreeSet<u64>,
    netns: Option<u64>,
    budget: Duration,
) -> (BTreeMap<u64, ProcessRef>, bool) {
    let mut found = BTreeMap::new();
    if inodes.is_empty() {
        return (found, true);
    }
    let Some(pids) = pids() else {
        return (found, false);
    };
    let started = Instant::now();
    for pid in pids {
        if started.elapsed() > budget {
            return (found, false);
        }
        if let Some(ns) = netns
            && network_namespace(pid) != Some(ns)
        {
            continue;
        }
        // Named once per process: one client may hold thousands of the sockets looked for.
        let mut name = None;
        for inode in socket_inodes_iter(pid) {
            if inodes.contains(&inode) && !found.contains_key(&inode) {
                let name = name.get_or_insert_with(|| comm(pid));
                found.insert(
                    inode,
                    ProcessRef {
                        pid: pid as i32,
                        name: name.clone(),
                    },
                );
            }
        }
        if found.len() == inodes.len() {
            break;
        }
    }
    (found, true)
}

/// The processes' ids, from the names in `/proc`, ascending (as `ps` lists them). No process's
/// directory is opened here: the walk above opens only its `fd` directory.
fn pids() -> Option<Vec<u32>> {
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    Some(pids)
}

/// A process's name (`/proc/<pid>/comm`), empty when it is gone.
fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim_end().to_owned())
        .unwrap_or_default()
}

/// The socket inodes among `pid`'s open files: one directory listing and one `readlinkat` per
/// descriptor, relative to the open directory (no path lookup per link, no `stat` of it, which
/// is what a general-purpose `/proc` reader adds; `ss -p` reads the links the same way).
fn socket_inodes_iter(pid: u32) -> impl Iterator<Item = u64> {
    use nix::fcntl::{OFlag, readlinkat};
    use nix::sys::stat::Mode;
    let dir = nix::dir::Dir::open(
        format!("/proc/{pid}/fd").as_str(),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok();
    let mut names = Vec::new();
    let mut links = Vec::new();
    if let Some(mut dir) = dir {
        names.extend(
            dir.iter()
                .flatten()
                .filter(|e| {
                    e.file_name()
                        .to_bytes()
                        .first()
                        .is_some_and(u8::is_ascii_digit)
                })
                .map(|e| e.file_name().to_owned()),
        );
        for name in &names {
            if let Ok(link) = readlinkat(&dir, name.as_c_str()) {
                links.push(link);
            }
        }
    }
    links
        .into_iter()
        .filter_map(|l| socket_inode(l.as_encoded_bytes()))
}

/// The socket inode behind each of `fds` of `pid` (those that are sockets), reading the links
/// relative to the open `/proc/<pid>/fd` directory.
#[must_use]
pub fn socket_inodes_of_fds(pid: u32, fds: &[i32]) -> BTreeSet<u64> {
    use nix::fcntl::{OFlag, open, readlinkat};
    use nix::sys::stat::Mode;
    let Ok(dir) = open(
        format!("/proc/{pid}/fd").as_str(),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) else {
        return BTreeSet::new();
    };
    fds.iter()
        .filter_map(|fd| readlinkat(&dir, fd.to_string().as_str()).ok())
        .filter_map(|l| socket_inode(l.as_encoded_bytes()))
        .collect()
}

/// The inode in a `socket:[12345]` link, `None` for any other kind of file.
fn socket_inode(link: &[u8]) -> Option<u64> {
    let inner = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(inner).ok()?.parse().ok()
}

/// The inode naming `pid`'s network namespace (two processes in one namespace give the same).
#[must_use]
pub fn network_namespace(pid: u32) -> Option<u64> {
    std::fs::metadata(format!("/proc/{pid}/ns/net"))
        .ok()
        .map(|m| m.ino())
}

/// The inode naming `pid`'s mount namespace: a process in another one (a container) sees
/// another filesystem, reachable from here through `/proc/<pid>/root`.
#[must_use]
pub fn mount_namespace(pid: u32) -> Option<u64> {
    std::fs::metadata(format!("/proc/{pid}/ns/mnt"))
        .ok()
        .map(|m| m.ino())
}

/// The socket inodes among `pid`'s open files.
#[must_use]
pub fn socket_inodes(pid: u32) -> BTreeSet<u64> {
    socket_inodes_iter(pid).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A socket this test holds is found, and attributed to this process; limited to another
    /// namespace's processes it is not.
    #[test]
    fn own_socket_is_found() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let me = std::process::id();
        let inodes = socket_inodes(me);
        assert!(!inodes.is_empty());
        let fd = std::os::fd::AsRawFd::as_raw_fd(&l);
        let ino = std::fs::metadata(format!("/proc/self/fd/{fd}"))
            .unwrap()
            .ino();
        assert!(inodes.contains(&ino));
        let wanted = BTreeSet::from([ino]);
        let ns = network_namespace(me);
        let (found, complete) = owners(&wanted, ns, Duration::from_secs(5));
        assert!(complete);
        assert_eq!(found[&ino].pid, me as i32);
        let (found, _) = owners(&wanted, Some(u64::MAX), Duration::from_secs(5));
        assert!(found.is_empty());
        // Named as `ps` names it.
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
        let (found, _) = owners(&wanted, None, Duration::from_secs(5));
        assert_eq!(found[&ino].name, comm.trim_end());
    }

    #[test]
    fn only_socket_links_give_an_inode() {
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"/var/log/socket:[1]"), None);
        assert_eq!(socket_inode(b"socket:[]"), None);
        assert_eq!(socket_inode(b"socket:[12a]"), None);
    }
}
