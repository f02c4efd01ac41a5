//! Listening TCP sockets with their backlog and accept queue (what `ss -lnt` shows), sampled on
//! every tick so a queue that filled for a moment inside the window is still seen.

use super::{Failure, owners, sockdiag};
use crate::snapshot::{Listener, Listeners, pct};
use netlink_packet_sock_diag::inet::StateFlags;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Wall-time budget for finding which process holds each listener.
const OWNER_LOOKUP_BUDGET: Duration = Duration::from_millis(25);

pub struct Start {
    diag: sockdiag::Diag,
    /// Highest accept queue seen per socket inode.
    queue_max: BTreeMap<u64, u32>,
}

fn listening(diag: &sockdiag::Diag) -> Result<Vec<sockdiag::TcpSocket>, Failure> {
    diag.dump(StateFlags::LISTEN)
}

fn record(start: &mut Start, sockets: &[sockdiag::TcpSocket]) {
    for s in sockets {
        let max = start.queue_max.entry(s.inode).or_insert(0);
        *max = (*max).max(s.recv_queue);
    }
}

pub fn begin() -> Result<Start, Failure> {
    let diag = sockdiag::Diag::open()?;
    let first = listening(&diag)?;
    let mut start = Start {
        diag,
        queue_max: BTreeMap::new(),
    };
    record(&mut start, &first);
    Ok(start)
}

pub fn sample(start: &mut Start) {
    if let Ok(sockets) = listening(&start.diag) {
        record(start, &sockets);
    }
}

pub fn finish(mut start: Start) -> Result<Listeners, Failure> {
    let sockets = listening(&start.diag)?;
    record(&mut start, &sockets);
    let inodes: BTreeSet<u64> = sockets
        .iter()
        .map(|s| s.inode)
        .filter(|i| *i != 0)
        .collect();
    let (owners, owners_complete) = owners::owners(&inodes, None, OWNER_LOOKUP_BUDGET);
    let mut out: Vec<Listener> = sockets
        .iter()
        .map(|s| {
            let queue_max = start
                .queue_max
                .get(&s.inode)
                .copied()
                .unwrap_or(s.recv_queue);
            Listener {
                local: sockdiag::local_text(s.local, s.port),
                port: s.port,
                family: if s.ipv6 { "ipv6" } else { "ipv4" }.to_owned(),
                backlog: s.send_queue,
                queue: s.recv_queue,
                queue_max,
                queue_max_pct: pct(f64::from(queue_max), f64::from(s.send_queue)),
                inode: Some(s.inode),
                process: owners.get(&s.inode).cloned(),
            }
        })
        .collect();
    out.sort_by(|a, b| (a.port, &a.local).cmp(&(b.port, &b.local)));
    Ok(Listeners {
        sockets: out,
        owners_complete,
    })
}
