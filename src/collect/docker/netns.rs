//! A container's network namespace as the processes inside it see it, read from the host.
//!
//! The host's `netstat -s` and `sysctl` show the host's namespace only. A container on its own
//! network has its own TCP counters (`ListenOverflows` of the app inside it), its own
//! `net.core.somaxconn` (a new namespace starts with the kernel default, not the host's tuned
//! value) and its own listeners.
//!
//! - Counters: `/proc/<pid>/net/{snmp,netstat}` show the namespace of `<pid>`, whoever reads them.
//! - Sysctls and sockets: `/proc/sys/net` and a `sock_diag` socket always reflect the namespace of
//!   the *reading thread* (`net/sysctl_net.c` looks up `current->nsproxy->net_ns`; a netlink socket
//!   belongs to the namespace it was created in). So a short-lived thread enters the container's
//!   namespace with `setns(2)` (`CLONE_NEWNET`, needs `CAP_SYS_ADMIN`), reads there and ends; no
//!   other thread of doctor ever changes namespace.

use crate::collect::{parse, sockdiag, tcp};
use crate::snapshot::{ContainerListener, SysctlValue, pct};
use netlink_packet_sock_diag::inet::StateFlags;
use nix::sched::{CloneFlags, setns};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;

/// The namespace's inode, which names it: two processes in one namespace give the same.
pub fn namespace(pid: i32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/ns/net");
    std::fs::metadata(&path)
        .map(|m| m.ino())
        .map_err(|e| format!("cannot read {path}: {e}"))
}

/// Doctor's own namespace.
pub fn own_namespace() -> Result<u64, String> {
    namespace(std::process::id() as i32)
}

/// Every `Tcp:` and `TcpExt:` counter of `<pid>`'s namespace, named as the `tcp` section names them.
pub fn counters(pid: i32) -> Result<BTreeMap<String, i64>, String> {
    let read = |file: &str| {
        let path = format!("/proc/{pid}/net/{file}");
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))
    };
    let mut c = parse::snmp_pairs(&read("snmp")?, &["Tcp"]);
    c.extend(parse::snmp_pairs(&read("netstat")?, &["TcpExt"]));
    Ok(c)
}

/// What can only be read from inside the namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct Inside {
    pub sysctls: BTreeMap<String, SysctlValue>,
    pub listeners: Vec<ContainerListener>,
}

/// Enters `<pid>`'s network namespace on a thread of its own and reads the `tcp` section's
/// sysctls and the listening sockets there. Fails with the reason (typically no `CAP_SYS_ADMIN`).
pub fn spawn_inside(pid: i32) -> std::thread::JoinHandle<Result<Inside, String>> {
    std::thread::Builder::new()
        .name("doctor-netns".into())
        .spawn(move || inside(pid))
        .unwrap_or_else(|e| {
            let msg = format!("cannot start a thread to enter the namespace: {e}");
            std::thread::spawn(move || Err(msg))
        })
}

/// Must only run on a thread that ends right after: the thread stays in the namespace.
fn inside(pid: i32) -> Result<Inside, String> {
    let path = format!("/proc/{pid}/ns/net");
    let ns = std::fs::File::open(&path).map_err(|e| format!("cannot open {path}: {e}"))?;
    setns(&ns, CloneFlags::CLONE_NEWNET).map_err(|e| {
        format!("cannot enter the network namespace of pid {pid} (setns: {e}; needs root or CAP_SYS_ADMIN)")
    })?;
    let sysctls = tcp::SYSCTLS
        .iter()
        .filter_map(|name| Some(((*name).to_owned(), tcp::sysctl(name)?)))
        .collect();
    let sockets = sockdiag::Diag::open()
        .and_then(|d| d.dump(StateFlags::LISTEN))
        .map_err(|e| format!("cannot list the listening sockets in the namespace: {e}"))?;
    let mut listeners: Vec<ContainerListener> = sockets
        .iter()
        .map(|s| ContainerListener {
            local: sockdiag::local_text(s.local, s.port),
            port: s.port,
            family: if s.ipv6 { "ipv6" } else { "ipv4" }.to_owned(),
            backlog: s.send_queue,
            queue: s.recv_queue,
            queue_pct: pct(f64::from(s.recv_queue), f64::from(s.send_queue)),
        })
        .collect();
    listeners.sort_by(|a, b| (a.port, &a.local).cmp(&(b.port, &b.local)));
    Ok(Inside { sysctls, listeners })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Doctor's own process is in its own namespace: the counters read through its pid are the
    /// ones the `tcp` section reads through `/proc/net`.
    #[test]
    fn own_namespace_reads_like_the_host_view() {
        let me = std::process::id() as i32;
        assert_eq!(own_namespace().unwrap(), namespace(me).unwrap());
        let c = counters(me).unwrap();
        assert!(c.contains_key("TcpActiveOpens"), "{c:?}");
        assert!(c.contains_key("TcpExtListenOverflows"), "{c:?}");
        assert!(namespace(-1).unwrap_err().contains("/proc/-1/ns/net"));
    }
}
