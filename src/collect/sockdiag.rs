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
    inet::{ExtensionFlags, InetRequest, SocketId, StateFlags},
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
            dump_family(&self.socket, family, states.clone(), &mut out)?;
        }
        Ok(out)
    }
}

fn dump_family(
    socket: &Socket,
    family: u8,
    states: StateFlags,
    out: &mut Vec<TcpSocket>,
) -> Result<(), Failure> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let mut socket_id = SocketId::new_v4();
    if family == AF_INET6 {
        socket_id = SocketId::new_v6();
    }
    let mut packet = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::empty(),
            states,
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
                    out.push(TcpSocket {
                        ipv6: h.family == AF_INET6,
                        state: h.state,
                        local: h.socket_id.source_address,
                        port: h.socket_id.source_port,
                        recv_queue: h.recv_queue,
                        send_queue: h.send_queue,
                        inode: u64::from(h.inode),
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

/// The `ss`-style text for a local address: IPv6 in brackets, v4-mapped shown as IPv4's `*`-less form.
#[must_use]
pub fn local_text(addr: IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}
