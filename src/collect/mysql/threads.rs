//! Which of the server's connections it is waiting to read from: the exact test of an idle
//! session, from the server's own threads.
//!
//! `tcp_info` tells who sent data last on a connection, but only to the kernel tick (1–4 ms): a
//! statement sent in the same tick as the answer before it (a pool's validation query and then
//! the real one, the statement right after `BEGIN`, or `SELECT @@max_allowed_packet` right after
//! the handshake) looks exactly like an idle session. With one thread per connection (the default
//! of MySQL and MariaDB), an idle session's thread sits in `poll(2)` on its socket alone (the
//! server's `vio_io_wait`, with `wait_timeout` as the timeout) or in `read`/`recv` on it; a thread
//! running a statement is elsewhere (a lock, a condition, the CPU). `/proc/<pid>/task/<tid>/syscall`
//! (proc(5)) gives each blocked thread's system call and arguments; for `poll`/`ppoll` the first
//! argument points at the `struct pollfd`, read from `/proc/<pid>/mem`. Both need root (ptrace
//! access to the server); without it, or with a thread pool (`thread_handling =
//! pool-of-threads`: idle sessions have no thread), the caller falls back to `tcp_info`.

use std::collections::BTreeSet;
use std::os::unix::fs::FileExt;

/// System call numbers of the calls an idle connection thread waits in.
#[cfg(target_arch = "x86_64")]
mod nr {
    pub const READ: u64 = 0;
    pub const POLL: Option<u64> = Some(7);
    pub const RECVFROM: u64 = 45;
    pub const RECVMSG: u64 = 47;
    pub const PPOLL: u64 = 271;
}
/// The generic table (`include/uapi/asm-generic/unistd.h`), which has no `poll`.
#[cfg(not(target_arch = "x86_64"))]
mod nr {
    pub const READ: u64 = 63;
    pub const POLL: Option<u64> = None;
    pub const RECVFROM: u64 = 207;
    pub const RECVMSG: u64 = 212;
    pub const PPOLL: u64 = 73;
}

/// What one thread waits on, from its `syscall` line: a file descriptor read directly, or one
/// behind a one-entry `pollfd` array at an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Fd(i32),
    PollFd(u64),
}

/// Parses a `/proc/<pid>/task/<tid>/syscall` line: `nr arg1 … arg6 sp pc` (arguments in hex),
/// `running`, or `-1 sp pc` when the thread is blocked outside a system call.
#[must_use]
pub fn parse_syscall(line: &str) -> Option<Wait> {
    let mut f = line.split_whitespace();
    let number: u64 = f.next()?.parse().ok()?;
    let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok();
    let args: Vec<u64> = f.take(6).filter_map(hex).collect();
    let (first, second) = (*args.first()?, *args.get(1)?);
    if number == nr::READ || number == nr::RECVFROM || number == nr::RECVMSG {
        return i32::try_from(first).ok().map(Wait::Fd);
    }
    let is_poll = number == nr::PPOLL || nr::POLL == Some(number);
    // One descriptor: a connection thread; the listener's thread polls several.
    (is_poll && second == 1).then_some(Wait::PollFd(first))
}

/// The socket inodes the server's threads are waiting to read from, or `None` when its threads
/// cannot be read (no permission: not root).
///
/// With thousands of connections this is thousands of threads, so each costs as few system
/// calls as can be: the `syscall` file opened relative to the open `task` directory and read
/// with one `read` into one buffer (no path lookup, no `stat` or `lseek` for a size hint), and the descriptors' links read once
/// at the end, relative to the open `fd` directory.
#[must_use]
pub fn waiting_sockets(pid: u32) -> Option<BTreeSet<u64>> {
    use nix::fcntl::{OFlag, openat};
    use nix::sys::stat::Mode;
    use std::io::Read;
    let mut tasks = nix::dir::Dir::open(
        format!("/proc/{pid}/task").as_str(),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let tids: Vec<String> = tasks
        .iter()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str().ok()?;
            name.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| name.to_owned())
        })
        .collect();
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).ok();
    let mut readable = false;
    let mut fds = Vec::new();
    let mut buf = [0u8; 512];
    for tid in tids {
        let Ok(fd) = openat(
            &tasks,
            format!("{tid}/syscall").as_str(),
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) else {
            continue;
        };
        // One read: the kernel writes the whole line (under 200 bytes) at once.
        let Ok(n) = std::fs::File::from(fd).read(&mut buf) else {
            continue;
        };
        readable = true;
        let line = String::from_utf8_lossy(&buf[..n]);
        let fd = match parse_syscall(&line) {
            Some(Wait::Fd(fd)) => Some(fd),
            Some(Wait::PollFd(addr)) => mem.as_ref().and_then(|m| {
                let mut b = [0u8; 4];
                m.read_exact_at(&mut b, addr).ok()?;
                Some(i32::from_ne_bytes(b))
            }),
            None => None,
        };
        fds.extend(fd);
    }
    readable.then(|| crate::collect::owners::socket_inodes_of_fds(pid, &fds))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as a MariaDB 10.11 connection thread shows them on `x86_64`: idle in `poll` on its
    /// socket with `wait_timeout` (28800 s) as the timeout; the listener polling three sockets;
    /// a statement waiting on a condition (`futex`); a running thread.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn idle_connection_threads() {
        assert_eq!(
            parse_syscall("7 0x7f81b804f928 0x1 0x1b77400 0x40 0x0 0x0 0x7f81b804f8f0 0x7f81ce11a"),
            Some(Wait::PollFd(0x7f81_b804_f928))
        );
        assert_eq!(
            parse_syscall("7 0x5644b93266e8 0x3 0xffffffff 0x80000 0x0 0x56448ab19240 0x7fff89c"),
            None
        );
        assert_eq!(
            parse_syscall("202 0x56448ab19248 0x189 0x0 0x7f81b804fd00 0x0 0xffffffff 0x0 0x0"),
            None
        );
        assert_eq!(
            parse_syscall("45 0x2b 0x7f0 0x4 0x0 0x0 0x0 0x0 0x0"),
            Some(Wait::Fd(43))
        );
        assert_eq!(parse_syscall("running"), None);
        assert_eq!(parse_syscall("-1 0x7ffc 0x7f81"), None);
    }

    /// This test's own thread, blocked reading a connected socket, is found waiting on it (a
    /// Rust `TcpStream::read` is `recvfrom`; doctor reads its own threads, so no root needed).
    #[test]
    fn a_thread_waiting_to_read_a_socket_is_seen() {
        use std::os::unix::fs::MetadataExt;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server_end, _) = listener.accept().unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&server_end);
        let inode = std::fs::metadata(format!("/proc/self/fd/{fd}"))
            .unwrap()
            .ino();
        let t = std::thread::spawn(move || {
            let mut b = [0u8; 1];
            let _ = std::io::Read::read(&mut &server_end, &mut b);
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let seen = waiting_sockets(std::process::id()).expect("own threads are readable");
            if seen.contains(&inode) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{seen:?} lacks {inode}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::io::Write::write_all(&mut &client, b"x").unwrap();
        t.join().unwrap();
    }
}
