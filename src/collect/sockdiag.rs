//! TCP sockets through the kernel's `sock_diag` netlink interface (`inet_diag`), which is what
//! `ss` uses: unlike `/proc/net/tcp` it gives a listener's backlog as well as its accept queue.
//! See `sock_diag(7)`.

use super::Failure;
use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_sock_diag::{
    SockDiagMessage,
    constants::{AF_INET, AF_INET6, IPPROTO_TCP},
    inet::{ExtensionFlags, InetRequest, SocketId, StateFlags, nlas::Nla},
};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_SOCK_DIAG};
use std::net::IpAddr;

/// One TCP socket as `inet_diag` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSocket {
    pub ipv6: bool,
    pub state: u8,
    pub local: IpAddr,
    pub port: u16,
    /// For a listener: connections waiting in the accept queue. Otherwise unread bytes.
    pub recv_queue: u32,
    /// For a listener: the accept-queue limit (backlog). Otherwise unacknowledged bytes.
    pub send_queue: u32,
    pub inode: u64,
    pub remote: IpAddr,
    pub remote_port: u16,
    /// What the socket received, from its `tcp_info` (only when asked for with
    /// [`Diag::dump_port`]; absent for sockets without one, such as request sockets).
    pub received: Option<Received>,
    /// When data last moved each way, from the same `tcp_info`.
    pub activity: Option<Activity>,
}

/// How long ago data last moved on a connection, from `struct tcp_info`'s `tcpi_last_data_sent`
/// (offset 44) and `tcpi_last_data_recv` (offset 52), milliseconds (`jiffies_to_msecs(now -
/// last)`, so at the kernel tick's resolution). Both exist since Linux 2.6: a `tcp_info` too
/// short to hold them gives none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activity {
    pub last_data_sent_ms: u32,
    pub last_data_recv_ms: u32,
}

const TCPI_LAST_DATA_SENT: usize = 44;
const TCPI_LAST_DATA_RECV: usize = 52;

impl Activity {
    /// Reads the two times from the raw `INET_DIAG_INFO` attribute (host byte order).
    #[must_use]
    pub fn parse(info: &[u8]) -> Option<Self> {
        let u32_at = |at: usize| {
            info.get(at..at + 4)
                .map(|b| u32::from_ne_bytes(b.try_into().expect("4 bytes")))
        };
        Some(Activity {
            last_data_sent_ms: u32_at(TCPI_LAST_DATA_SENT)?,
            last_data_recv_ms: u32_at(TCPI_LAST_DATA_RECV)?,
        })
    }
}

/// A connection's receive counters from `struct tcp_info` (`include/uapi/linux/tcp.h`), each
/// absent when this kernel's `tcp_info` is too short to hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Received {
    /// `tcpi_bytes_received`: payload bytes received (Linux 4.1+).
    pub bytes: Option<u64>,
    /// `tcpi_segs_in`: segments received, pure ACKs included (Linux 4.2+).
    pub segs: Option<u32>,
    /// `tcpi_data_segs_in`: segments received that carried payload (Linux 4.6+).
    pub data_segs: Option<u32>,
}

/// Byte offsets in `struct tcp_info`: 8 one-byte fields, 24 `__u32`, then `__u64`
/// `tcpi_pacing_rate` at 104, `tcpi_max_pacing_rate`, `tcpi_bytes_acked`, `tcpi_bytes_received` at
/// 128, `__u32` `tcpi_segs_out` 136, `tcpi_segs_in` 140, `tcpi_notsent_bytes`, `tcpi_min_rtt`,
/// `tcpi_data_segs_in` 152. The kernel sends as much of the struct as it has; older kernels a
/// shorter one.
const TCPI_BYTES_RECEIVED: usize = 128;
const TCPI_SEGS_IN: usize = 140;
const TCPI_DATA_SEGS_IN: usize = 152;

impl Received {
    /// Reads the counters from the raw `INET_DIAG_INFO` attribute (host byte order).
    #[must_use]
    pub fn parse(info: &[u8]) -> Self {
        let u64_at = |at: usize| {
            info.get(at..at + 8)
                .map(|b| u64::from_ne_bytes(b.try_into().expect("8 bytes")))
        };
        let u32_at = |at: usize| {
            info.get(at..at + 4)
                .map(|b| u32::from_ne_bytes(b.try_into().expect("4 bytes")))
        };
        Received {
            bytes: u64_at(TCPI_BYTES_RECEIVED),
            segs: u32_at(TCPI_SEGS_IN),
            data_segs: u32_at(TCPI_DATA_SEGS_IN),
        }
    }
}

/// The kernel's name for a TCP state (`include/net/tcp_states.h`), as `ss` prints it.
#[must_use]
pub fn state_name(state: u8) -> &'static str {
    match state {
        1 => "ESTABLISHED",
        2 => "SYN_SENT",
        3 | 12 => "SYN_RECV", // 12 is TCP_NEW_SYN_RECV, a request socket: ss shows it as SYN-RECV
        4 => "FIN_WAIT1",
        5 => "FIN_WAIT2",
        6 => "TIME_WAIT",
        7 => "CLOSE",
        8 => "CLOSE_WAIT",
        9 => "LAST_ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        _ => "UNKNOWN",
    }
}

/// Dumps the TCP sockets in the given states, IPv4 and IPv6, in doctor's network namespace.
pub fn dump(states: StateFlags) -> Result<Vec<TcpSocket>, Failure> {
    Diag::open()?.dump(states)
}

/// An open `sock_diag` socket, kept for repeated dumps (the listeners are sampled on every tick,
/// and opening a socket each time costs more than the dump).
pub struct Diag {
    socket: Socket,
}

impl Diag {
    pub fn open() -> Result<Self, Failure> {
        let mut socket = Socket::new(NETLINK_SOCK_DIAG)
            .map_err(|e| Failure::Error(format!("cannot open a sock_diag netlink socket: {e}")))?;
        socket
            .bind_auto()
            .map_err(|e| Failure::Error(format!("cannot bind the sock_diag socket: {e}")))?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(|e| Failure::Error(format!("cannot connect the sock_diag socket: {e}")))?;
        Ok(Diag { socket })
    }

    /// The TCP sockets in `states`, IPv4 then IPv6.
    pub fn dump(&self, states: StateFlags) -> Result<Vec<TcpSocket>, Failure> {
        let mut out = Vec::new();
        for family in [AF_INET, AF_INET6] {
            dump_family(
                &self.socket,
                family,
                &Filter::states(states.clone()),
                &mut out,
            )?;
        }
        Ok(out)
    }

    /// The TCP sockets in `states` whose local port is `port`, each with what it received
    /// ([`Received`]). The kernel itself skips the other ports (`inet_diag_dump_icsk` compares
    /// `idiag_sport`, `net/ipv4/inet_diag.c`), so this stays cheap on a busy server.
    pub fn dump_port(&self, states: StateFlags, port: u16) -> Result<Vec<TcpSocket>, Failure> {
        self.dump_ports(states, port, 0)
    }

    /// The TCP sockets in `states` with local port `port` and remote port `remote_port` (0: any),
    /// each with its `tcp_info`. The kernel compares both ports itself (`inet_diag_dump_icsk`).
    pub fn dump_ports(
        &self,
        states: StateFlags,
        port: u16,
        remote_port: u16,
    ) -> Result<Vec<TcpSocket>, Failure> {
        let filter = Filter {
            states,
            port,
            remote_port,
            info: true,
        };
        let mut out = Vec::new();
        for family in [AF_INET, AF_INET6] {
            dump_family(&self.socket, family, &filter, &mut out)?;
        }
        // Checked again here, so the result does not depend on the kernel's filtering.
        out.retain(|s| {
            (port == 0 || s.port == port) && (remote_port == 0 || s.remote_port == remote_port)
        });
        Ok(out)
    }
}

impl Diag {
    /// The established TCP sockets whose local or remote port is one of `ports`, IPv4 and,
    /// when asked, IPv6, with their `tcp_info` when `info`. One walk of the kernel's connection
    /// table per family, with the ports compared here: the table is one for every namespace and
    /// sized for the whole machine (`tcp_ehash_entries`, 262144 buckets here), so each walk costs
    /// about a millisecond whatever it returns, and a walk per port and direction cost several
    /// (`inet_diag_dump_icsk` walks every bucket; the request's ports only filter what it sends).
    pub fn established_touching(
        &self,
        ports: &[u16],
        ipv6: bool,
        info: bool,
    ) -> Result<Vec<TcpSocket>, Failure> {
        let filter = Filter {
            states: StateFlags::ESTABLISHED,
            port: 0,
            remote_port: 0,
            info,
        };
        let mut out = Vec::new();
        dump_family(&self.socket, AF_INET, &filter, &mut out)?;
        if ipv6 {
            dump_family(&self.socket, AF_INET6, &filter, &mut out)?;
        }
        out.retain(|s| ports.contains(&s.port) || ports.contains(&s.remote_port));
        Ok(out)
    }
}

/// What a dump asks the kernel for.
struct Filter {
    states: StateFlags,
    /// Local port, 0 for every port.
    port: u16,
    /// Remote port, 0 for every port.
    remote_port: u16,
    /// Ask for `tcp_info` (`INET_DIAG_INFO`).
    info: bool,
}

impl Filter {
    fn states(states: StateFlags) -> Self {
        Filter {
            states,
            port: 0,
            remote_port: 0,
            info: false,
        }
    }
}

fn dump_family(
    socket: &Socket,
    family: u8,
    filter: &Filter,
    out: &mut Vec<TcpSocket>,
) -> Result<(), Failure> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let mut socket_id = SocketId::new_v4();
    if family == AF_INET6 {
        socket_id = SocketId::new_v6();
    }
    socket_id.source_port = filter.port;
    socket_id.destination_port = filter.remote_port;
    let mut packet = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: if filter.info {
                ExtensionFlags::INFO
            } else {
                ExtensionFlags::empty()
            },
            states: filter.states.clone(),
            socket_id,
        })
        .into(),
    );
    packet.finalize();
    let mut buf = vec![0; packet.buffer_len()];
    packet.serialize(&mut buf[..]);
    socket
        .send(&buf, 0)
        .map_err(|e| Failure::Error(format!("sock_diag request failed: {e}")))?;

    // A dump arrives as datagrams of several messages each; one datagram never exceeds a page or
    // two, so 64 KiB always holds a whole one.
    let mut receive = vec![0u8; 64 * 1024];
    loop {
        let size = socket
            .recv(&mut &mut receive[..], 0)
            .map_err(|e| Failure::Error(format!("sock_diag receive failed: {e}")))?;
        let mut offset = 0;
        while offset < size {
            let message = <NetlinkMessage<SockDiagMessage>>::deserialize(&receive[offset..size])
                .map_err(|e| Failure::Error(format!("malformed sock_diag answer: {e}")))?;
            let length = message.header.length as usize;
            match message.payload {
                NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(r)) => {
                    let h = &r.header;
                    let info = r.nlas.iter().find_map(|nla| match nla {
                        Nla::TcpInfo(bytes) => Some(bytes),
                        _ => None,
                    });
                    let received = info.map(|b| Received::parse(b));
                    let activity = info.and_then(|b| Activity::parse(b));
                    out.push(TcpSocket {
                        ipv6: h.family == AF_INET6,
                        state: h.state,
                        local: h.socket_id.source_address,
                        port: h.socket_id.source_port,
                        recv_queue: h.recv_queue,
                        send_queue: h.send_queue,
                        inode: u64::from(h.inode),
                        remote: h.socket_id.destination_address,
                        remote_port: h.socket_id.destination_port,
                        received,
                        activity,
                    });
                }
                NetlinkPayload::Done(_) => return Ok(()),
                NetlinkPayload::Error(e) => {
                    // IPv6 compiled out answers the v6 dump with an error: nothing to list.
                    if family == AF_INET6 {
                        return Ok(());
                    }
                    return Err(Failure::Error(format!("sock_diag dump failed: {e:?}")));
                }
                _ => {}
            }
            if length == 0 {
                break;
            }
            offset += length;
        }
    }
}

/// Runs `read` on a short-lived thread inside `pid`'s network namespace and returns what it
/// gives. A `sock_diag` socket, like `/proc/sys/net`, always shows the namespace of the thread
/// that opened it, so reading another namespace means entering it with `setns(2)`
/// (`CLONE_NEWNET`, needs `CAP_SYS_ADMIN`); only that thread ever changes namespace, and it ends
/// right after.
pub fn in_namespace_of<T: Send + 'static>(
    pid: u32,
    read: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    let path = format!("/proc/{pid}/ns/net");
    let ns = std::fs::File::open(&path)
        .map_err(|e| Failure::Error(format!("cannot open {path}: {e}")))?;
    let thread = std::thread::Builder::new()
        .name("doctor-netns".into())
        .spawn(move || {
            nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| {
                Failure::Error(format!(
                    "cannot enter the network namespace of pid {pid} (setns: {e}; needs root or \
                     CAP_SYS_ADMIN)"
                ))
            })?;
            read()
        })
        .map_err(|e| Failure::Error(format!("cannot start a thread to enter a namespace: {e}")))?;
    thread
        .join()
        .unwrap_or_else(|_| Err(Failure::Error("the namespace reader panicked".to_owned())))
}

/// The `ss`-style text for a local address: IPv6 in brackets, v4-mapped shown as IPv4's `*`-less form.
#[must_use]
pub fn local_text(addr: IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `tcp_info` as Linux 6.x sends it (232 bytes), with known values at the offsets of
    /// `include/uapi/linux/tcp.h`, and the same cut short as an older kernel sends it.
    #[test]
    fn received_counters_from_tcp_info() {
        let mut info = vec![0u8; 232];
        info[0] = 1; // tcpi_state ESTABLISHED
        info[128..136].copy_from_slice(&123_456_u64.to_ne_bytes());
        info[136..140].copy_from_slice(&77_u32.to_ne_bytes()); // segs_out, not read
        info[140..144].copy_from_slice(&90_u32.to_ne_bytes());
        info[152..156].copy_from_slice(&42_u32.to_ne_bytes());
        assert_eq!(
            Received::parse(&info),
            Received {
                bytes: Some(123_456),
                segs: Some(90),
                data_segs: Some(42)
            }
        );
        // Linux 4.2-4.5: no tcpi_data_segs_in yet.
        assert_eq!(
            Received::parse(&info[..144]),
            Received {
                bytes: Some(123_456),
                segs: Some(90),
                data_segs: None
            }
        );
        assert_eq!(Received::parse(&info[..104]), Received::default());
    }

    #[test]
    fn activity_times_from_tcp_info() {
        let mut info = vec![0u8; 232];
        info[44..48].copy_from_slice(&1200_u32.to_ne_bytes()); // last_data_sent
        info[48..52].copy_from_slice(&9_u32.to_ne_bytes()); // last_ack_sent, not read
        info[52..56].copy_from_slice(&3400_u32.to_ne_bytes()); // last_data_recv
        assert_eq!(
            Activity::parse(&info),
            Some(Activity {
                last_data_sent_ms: 1200,
                last_data_recv_ms: 3400
            })
        );
        assert_eq!(Activity::parse(&info[..54]), None);
    }
}
