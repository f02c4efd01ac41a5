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
    let Ok(all) = procfs::process::all_processes() else {
        return (found, false);
    };
    let started = Instant::now();
    for process in all.flatten() {
        if started.elapsed() > budget {
            return (found, false);
        }
        if let Some(ns) = netns
            && network_namespace(process.pid as u32) != Some(ns)
        {
            continue;
        }
        let Ok(fds) = process.fd() else { continue };
        for fd in fds.flatten() {
            if let procfs::process::FDTarget::Socket(inode) = fd.target
                && inodes.contains(&inode)
                && !found.contains_key(&inode)
            {
                let name = process.stat().map(|s| s.comm).unwrap_or_default();
                found.insert(
                    inode,
                    ProcessRef {
                        pid: process.pid,
                        name,
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
    let Ok(process) = procfs::process::Process::new(pid as i32) else {
        return BTreeSet::new();
    };
    let Ok(fds) = process.fd() else {
        return BTreeSet::new();
    };
    fds.flatten()
        .filter_map(|fd| match fd.target {
            procfs::process::FDTarget::Socket(inode) => Some(inode),
            _ => None,
        })
        .collect()
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
    }
}
