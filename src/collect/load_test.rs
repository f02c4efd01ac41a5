//! The load test the user declared with `--under-load [PORT]`. With a port, doctor follows the
//! connections to it through the window — how many there are, how many are new, and what they
//! received (each socket's `tcp_info`) — sampled on every tick like the listeners, so a load that
//! never reaches the service shows as what actually arrived rather than as a guess.
//!
//! The accounting ([`Tracker`]) is separate from the reading, and unit-tested on literal sockets.

use super::{Failure, sockdiag};
use crate::snapshot::{LoadTarget, LoadTest, rate};
use netlink_packet_sock_diag::inet::StateFlags;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// What the user declared on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Request {
    /// The service port the load targets, if named.
    pub port: Option<u16>,
}

/// The `load_test` section's message when no load test was declared: the reason the rules that
/// judge a load test give for being "not checked".
pub const NOT_DECLARED: &str = "no load test declared: run `doctor check --under-load` (or \
    `--under-load PORT`, the port the load targets) while the load test runs";

/// Connections followed at most; a bigger test keeps the figures of the first ones and says so.
/// Each costs a few dozen bytes, so the bound keeps doctor's memory small on any server.
const MAX_CONNECTIONS: usize = 100_000;

/// The states of a connection that has a `tcp_info`, and listening. `TIME_WAIT` and request
/// sockets are minisockets without one (`inet_diag` sends no `INET_DIAG_INFO` for them).
fn states() -> StateFlags {
    StateFlags::ESTABLISHED
        | StateFlags::FIN_WAIT1
        | StateFlags::FIN_WAIT2
        | StateFlags::CLOSE_WAIT
        | StateFlags::LAST_ACK
        | StateFlags::CLOSING
        | StateFlags::LISTEN
}

const LISTEN: u8 = 10;
const ESTABLISHED: u8 = 1;

/// Sampling stays under this share of the time: a dump that took `d` is not repeated for
/// `d × DUTY`. With a few hundred connections a dump takes well under a millisecond and every
/// tick samples; with tens of thousands, ticks are skipped rather than loading the server.
const DUTY: u32 = 20;

pub struct Start {
    port: Option<u16>,
    follow: Option<Follow>,
}

struct Follow {
    diag: sockdiag::Diag,
    port: u16,
    tracker: Tracker,
    /// No tick samples before this (see [`DUTY`]).
    next: Instant,
}

impl Follow {
    fn observe(&mut self, first: bool) -> Result<(), Failure> {
        let t = Instant::now();
        let sockets = self.diag.dump_port(states(), self.port)?;
        self.tracker.observe(&sockets, first);
        self.next = Instant::now() + t.elapsed() * DUTY;
        Ok(())
    }
}

pub fn begin(request: Request) -> Result<Start, Failure> {
    let follow = match request.port {
        None => None,
        Some(port) => {
            let mut follow = Follow {
                diag: sockdiag::Diag::open()?,
                port,
                tracker: Tracker::default(),
                next: Instant::now(),
            };
            follow.observe(true)?;
            Some(follow)
        }
    };
    Ok(Start {
        port: request.port,
        follow,
    })
}

pub fn sample(start: &mut Start) {
    if let Some(follow) = &mut start.follow
        && Instant::now() >= follow.next
    {
        // A failed sample is a sample less; the end reading reports a lasting failure.
        let _ = follow.observe(false);
    }
}

/// The section, and notes a reader needs (nothing listens on the port; too many connections).
pub fn finish(start: Start, seconds: f64) -> Result<(LoadTest, Vec<String>), Failure> {
    let mut notes = Vec::new();
    let target = match start.follow {
        Some(mut follow) => {
            follow.observe(false)?;
            let (tracker, port) = (follow.tracker, follow.port);
            let target = tracker.summary(seconds);
            if target.listeners == 0 {
                notes.push(format!(
                    "nothing listens on port {port} in doctor's network namespace: the load may go to \
                     a container's own namespace (Docker without the userland proxy) or to another \
                     port; run doctor in that namespace or name the port the service listens on"
                ));
            }
            if tracker.truncated {
                notes.push(format!(
                    "more than {MAX_CONNECTIONS} connections to port {port}: the figures cover the \
                     first {MAX_CONNECTIONS} seen"
                ));
            }
            Some(target)
        }
        None => None,
    };
    Ok((
        LoadTest {
            port: start.port,
            target,
        },
        notes,
    ))
}

/// One connection as first and last seen.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// What it had received when first seen: the window's share is counted from there for a
    /// connection open at the start, from zero for one opened during the window.
    base: sockdiag::Received,
    last: sockdiag::Received,
}

/// The connections to the target port, by (local address, remote address, remote port): the
/// 4-tuple of a connection, which stays the same while it is accepted (its inode does not).
#[derive(Debug, Default)]
pub struct Tracker {
    seen: HashMap<(IpAddr, IpAddr, u16), Seen>,
    established_start: u32,
    established_max: u32,
    established_last: u32,
    listeners: u32,
    new: u32,
    samples: u32,
    truncated: bool,
}

impl Tracker {
    /// Takes one sample of the port's sockets; `first` marks the one at the window's start.
    pub fn observe(&mut self, sockets: &[sockdiag::TcpSocket], first: bool) {
        self.samples += 1;
        let mut established = 0;
        let mut listeners = 0;
        for s in sockets {
            if s.state == LISTEN {
                listeners += 1;
                continue;
            }
            if s.state == ESTABLISHED {
                established += 1;
            }
            let received = s.received.unwrap_or_default();
            let key = (s.local, s.remote, s.remote_port);
            if let Some(seen) = self.seen.get_mut(&key) {
                seen.last = received;
            } else if self.seen.len() < MAX_CONNECTIONS {
                let base = if first {
                    received
                } else {
                    self.new += 1;
                    sockdiag::Received {
                        bytes: received.bytes.map(|_| 0),
                        segs: received.segs.map(|_| 0),
                        data_segs: received.data_segs.map(|_| 0),
                    }
                };
                self.seen.insert(
                    key,
                    Seen {
                        base,
                        last: received,
                    },
                );
            } else {
                self.truncated = true;
            }
        }
        if first {
            self.established_start = established;
        }
        self.established_max = self.established_max.max(established);
        self.established_last = established;
        self.listeners = listeners;
    }

    /// The window's figures. A counter is absent when a connection's `tcp_info` lacked it (an
    /// older kernel); with no connection at all nothing was received, and it is 0.
    #[must_use]
    pub fn summary(&self, seconds: f64) -> LoadTarget {
        let total = |field: fn(&sockdiag::Received) -> Option<u64>| -> Option<f64> {
            let mut sum = 0u64;
            for s in self.seen.values() {
                let (base, last) = (field(&s.base)?, field(&s.last)?);
                sum = sum.saturating_add(last.saturating_sub(base));
            }
            rate(sum as f64, seconds)
        };
        // 32-bit segment counters wrap: the difference is taken modulo 2^32.
        let segs = |field: fn(&sockdiag::Received) -> Option<u32>| -> Option<f64> {
            let mut sum = 0u64;
            for s in self.seen.values() {
                let (base, last) = (field(&s.base)?, field(&s.last)?);
                sum = sum.saturating_add(u64::from(last.wrapping_sub(base)));
            }
            rate(sum as f64, seconds)
        };
        LoadTarget {
            listeners: self.listeners,
            connections_start: self.established_start,
            connections_end: self.established_last,
            connections_max: self.established_max,
            new_connections: self.new,
            new_connections_per_s: rate(f64::from(self.new), seconds).unwrap_or(0.0),
            data_segs_in_per_s: segs(|r| r.data_segs),
            segs_in_per_s: segs(|r| r.segs),
            bytes_in_per_s: total(|r| r.bytes),
            samples: self.samples,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockdiag::{Received, TcpSocket};

    fn conn(remote_port: u16, state: u8, bytes: u64, segs: u32, data: u32) -> TcpSocket {
        TcpSocket {
            ipv6: false,
            state,
            local: "127.0.0.1".parse().unwrap(),
            port: 3000,
            recv_queue: 0,
            send_queue: 0,
            inode: 0,
            remote: "127.0.0.2".parse().unwrap(),
            remote_port,
            received: Some(Received {
                bytes: Some(bytes),
                segs: Some(segs),
                data_segs: Some(data),
            }),
            activity: None,
        }
    }

    fn listener() -> TcpSocket {
        TcpSocket {
            received: None,
            ..conn(0, LISTEN, 0, 0, 0)
        }
    }

    /// One keep-alive connection open before the window and one opened during it: the old one
    /// counts from where it stood, the new one from zero; the listener is not a connection.
    #[test]
    fn counts_what_arrived_in_the_window() {
        let mut t = Tracker::default();
        t.observe(&[listener(), conn(40001, ESTABLISHED, 1000, 10, 5)], true);
        t.observe(
            &[
                listener(),
                conn(40001, ESTABLISHED, 1300, 14, 8),
                conn(40002, ESTABLISHED, 100, 3, 1),
            ],
            false,
        );
        t.observe(
            &[
                listener(),
                conn(40001, ESTABLISHED, 1500, 16, 10),
                conn(40002, CLOSE_WAIT_STATE, 200, 5, 2),
            ],
            false,
        );
        let s = t.summary(2.0);
        assert_eq!(s.listeners, 1);
        assert_eq!(s.connections_start, 1);
        assert_eq!(s.connections_max, 2);
        assert_eq!(s.connections_end, 1, "one is closing");
        assert_eq!(s.new_connections, 1);
        assert_eq!(s.new_connections_per_s, 0.5);
        // (10 - 5) + 2 data segments, (16 - 10) + 5 segments, (1500 - 1000) + 200 bytes, in 2 s.
        assert_eq!(s.data_segs_in_per_s, Some(3.5));
        assert_eq!(s.segs_in_per_s, Some(5.5));
        assert_eq!(s.bytes_in_per_s, Some(350.0));
        assert_eq!(s.samples, 3);
    }

    const CLOSE_WAIT_STATE: u8 = 8;

    #[test]
    fn segment_counters_wrap() {
        let mut t = Tracker::default();
        t.observe(&[conn(1, ESTABLISHED, 0, u32::MAX - 1, u32::MAX)], true);
        t.observe(&[conn(1, ESTABLISHED, 0, 3, 1)], false);
        let s = t.summary(1.0);
        assert_eq!(s.segs_in_per_s, Some(5.0));
        assert_eq!(s.data_segs_in_per_s, Some(2.0));
    }

    /// An older kernel's shorter `tcp_info` has no `tcpi_data_segs_in`: that figure is absent,
    /// not zero; with no connection at all every figure is a true zero.
    #[test]
    fn missing_counters_are_absent_and_no_connection_is_zero() {
        let mut old = conn(1, ESTABLISHED, 10, 2, 0);
        old.received = Some(Received {
            data_segs: None,
            ..old.received.unwrap()
        });
        let mut t = Tracker::default();
        t.observe(&[old.clone()], true);
        t.observe(&[old], false);
        let s = t.summary(1.0);
        assert_eq!(s.data_segs_in_per_s, None);
        assert_eq!(s.bytes_in_per_s, Some(0.0));

        let mut empty = Tracker::default();
        empty.observe(&[listener()], true);
        empty.observe(&[listener()], false);
        let s = empty.summary(5.0);
        assert_eq!(
            (s.data_segs_in_per_s, s.new_connections, s.connections_max),
            (Some(0.0), 0, 0)
        );
    }
}
