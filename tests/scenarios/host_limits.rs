//! Scenarios of limits the host sets a process or a network namespace: a server at its
//! open-files limit, and a connect-per-request client out of ephemeral ports. Part of the lab
//! (`lab.rs`): same guard, same bounds.

use super::{
    MAX_LIFE_S, Running, disk_tempdir, kill_group, nstat_listen_overflows, tool, wait_until,
};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The soft and hard open-files limit the server of `open-files-limit` is started with.
pub const NOFILE: u64 = 64;

/// Open descriptors of `pid` as `ls /proc/PID/fd | wc -l` counts them.
pub fn ls_fd_count(pid: u32) -> u64 {
    let out = tool("sh", &["-c", &format!("ls /proc/{pid}/fd | wc -l")]);
    out.trim().parse().expect("wc -l prints a number")
}

/// `prlimit --pid PID --nofile`: (soft, hard).
pub fn prlimit_nofile(pid: u32) -> (u64, u64) {
    let out = tool(
        "prlimit",
        &[
            "--pid",
            &pid.to_string(),
            "--nofile",
            "--noheadings",
            "--raw",
            "-o",
            "SOFT,HARD",
        ],
    );
    let f: Vec<u64> = out
        .split_whitespace()
        .map(|x| x.parse().expect("prlimit prints numbers"))
        .collect();
    (f[0], f[1])
}

/// Lines of `path` holding `needle`.
fn lines_with(path: &Path, needle: &str) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().filter(|l| l.contains(needle)).count())
}

/// A server started with `prlimit --nofile=64:64` (as `LimitNOFILE=64` or `ulimit -n 64` would
/// start it) that accepts every connection and keeps it (descriptors it inherited from the test
/// harness, such as cargo's jobserver pipe, closed first), and 16 client threads connecting to it
/// on loopback, each holding a few connections: the server reaches 64 open descriptors, every
/// further `accept()` fails with EMFILE (logged as nginx logs it: `accept4() failed (24: Too
/// many open files)`), its accept queue fills and overflows. Holds once `ls /proc/PID/fd | wc
/// -l` equals the soft limit `prlimit` shows, the log has the error and `nstat` counts overflows.
pub fn open_files_limit(port: u16) -> Running {
    let mut run = Running::new("open-files-limit");
    let dir = disk_tempdir();
    let log = dir.path().join("server.log");
    let server = Command::new("prlimit")
        .arg(format!("--nofile={NOFILE}:{NOFILE}"))
        .args([
            "perl",
            "-e",
            &format!(
                "use Socket; use POSIX qw(strftime); use IO::Handle; \
                 POSIX::close($_) for 3 .. 1023; \
                 open(my $log, '>>', $ARGV[0]) or die $!; $log->autoflush(1); \
                 socket(S, PF_INET, SOCK_STREAM, 0) or die $!; \
                 setsockopt(S, SOL_SOCKET, SO_REUSEADDR, 1); \
                 bind(S, sockaddr_in({port}, inet_aton('127.0.0.1'))) or die $!; \
                 listen(S, 8) or die $!; alarm {MAX_LIFE_S}; my @held; \
                 while (1) {{ my $c; if (accept($c, S)) {{ push @held, $c }} else {{ \
                   my $e = ($!+0) . ': ' . $!; \
                   print $log strftime('%Y/%m/%d %H:%M:%S', localtime) . \" [crit] $$#0: accept4() failed ($e)\\n\"; \
                   select(undef, undef, undef, 0.1) }} }}"
            ),
        ])
        .arg(&log)
        .process_group(0)
        .stdout(Stdio::null())
        .spawn()
        .expect("prlimit and perl run (apt-get install util-linux perl-base)");
    let pid = server.id();
    run.on_drop(move || kill_group(server));
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_until("the server listening", Duration::from_secs(10), || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200))
            .map(drop)
            .map_err(|e| e.to_string())
    });

    run.connect_flood(addr, 8, dir);

    let before = nstat_listen_overflows();
    wait_until(
        "the server at its open-files limit",
        Duration::from_secs(20),
        || {
            let fds = ls_fd_count(pid);
            let (soft, _) = prlimit_nofile(pid);
            let emfile = lines_with(&log, "Too many open files");
            let overflows = nstat_listen_overflows() - before;
            if fds >= soft && emfile >= 2 && overflows > 20 {
                Ok(())
            } else {
                Err(format!(
                    "ls /proc/{pid}/fd: {fds} of prlimit soft {soft}; {emfile} EMFILE lines; \
                 nstat TcpExtListenOverflows +{overflows}"
                ))
            }
        },
    );
    run.pid = Some(pid);
    run.port = Some(port);
    run.doctor_args = vec!["--log".into(), log.display().to_string()];
    run
}

/// The ephemeral port range the `ephemeral-ports` namespace is given: 40 ports.
pub const PORT_RANGE: (u16, u16) = (40000, 40039);

/// The server's address in the `ephemeral-ports` namespace, on its `lo` (this kernel has no
/// dummy or veth module): not a loopback address, so `net.ipv4.tcp_tw_reuse` at its default (2:
/// only toward a loopback address, `tcp_twsk_unique` in `net/ipv4/tcp_ipv4.c`) lets no
/// `TIME_WAIT` port be reused, as toward a database on another machine.
pub const SERVER_ADDR: &str = "10.203.0.1";

/// `ip netns exec NS ss -Htan state time-wait`: the TIME-WAIT sockets of the namespace.
pub fn ss_time_wait(ns: &str) -> usize {
    tool(
        "ip",
        &["netns", "exec", ns, "ss", "-Htan", "state", "time-wait"],
    )
    .lines()
    .filter(|l| !l.trim().is_empty())
    .count()
}

/// A connect-per-request client out of local ports, in a network namespace of its own (so the
/// machine's own range and sockets are not touched): the namespace's
/// `net.ipv4.ip_local_port_range` is narrowed to 40 ports, a server listens on [`SERVER_ADDR`], and a client connects and closes in a loop (bounded in count and time).
/// The client closes first, so each connection leaves its local port in `TIME_WAIT` for 60 s;
/// once the 40 are held, `connect()` fails with EADDRNOTAVAIL, which the client logs (as a Go
/// client's `dial tcp ...: connect: cannot assign requested address`) and retries every 200 ms.
/// Holds once `ss -tan state time-wait` in the namespace shows every port of the range held and
/// the log has the error. doctor runs inside the namespace (`ip netns exec`), as an operator on
/// a machine whose network this is.
pub fn ephemeral_ports(port: u16) -> Running {
    let mut run = Running::new("ephemeral-ports");
    let ns = format!("doctor-lab-ports-{port}");
    let _ = Command::new("ip")
        .args(["netns", "del", &ns])
        .stderr(Stdio::null())
        .status();
    tool("ip", &["netns", "add", &ns]);
    {
        let ns = ns.clone();
        run.on_drop(move || {
            let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        });
    }
    let (low, high) = PORT_RANGE;
    tool(
        "ip",
        &[
            "netns",
            "exec",
            &ns,
            "sh",
            "-ec",
            &format!(
                "ip link set lo up; ip addr add {SERVER_ADDR}/32 dev lo; \
                 sysctl -qw net.ipv4.ip_local_port_range='{low} {high}'"
            ),
        ],
    );
    let dir = disk_tempdir();
    let log = dir.path().join("client.log");
    let in_ns = |script: String| {
        Command::new("ip")
            .args(["netns", "exec", &ns, "perl", "-e", &script])
            .arg(&log)
            .process_group(0)
            .stdout(Stdio::null())
            .spawn()
            .expect("ip and perl run (apt-get install iproute2 perl-base)")
    };
    // The server reads until the client's FIN before closing: the client closes first.
    let server = in_ns(format!(
        "use Socket; socket(S, PF_INET, SOCK_STREAM, 0) or die $!; \
         setsockopt(S, SOL_SOCKET, SO_REUSEADDR, 1); \
         bind(S, sockaddr_in({port}, inet_aton('{SERVER_ADDR}'))) or die $!; \
         listen(S, 128) or die $!; alarm {MAX_LIFE_S}; \
         while (1) {{ accept(my $c, S) or next; my $b; sysread($c, $b, 1); close $c }}"
    ));
    run.on_drop(move || kill_group(server));
    let client = in_ns(format!(
        "use Socket; use POSIX qw(strftime); use IO::Handle; \
         open(my $log, '>>', $ARGV[0]) or die $!; $log->autoflush(1); alarm {MAX_LIFE_S}; \
         my $to = sockaddr_in({port}, inet_aton('{SERVER_ADDR}')); \
         for (1 .. 20000) {{ socket(my $s, PF_INET, SOCK_STREAM, 0) or die $!; \
           if (connect($s, $to)) {{ close $s }} else {{ \
             my $e = lc $!; close $s; \
             print $log strftime('%Y/%m/%d %H:%M:%S', localtime) . \" dial tcp {SERVER_ADDR}:{port}: connect: $e\\n\"; \
             select(undef, undef, undef, 0.2) }} }}"
    ));
    run.on_drop(move || {
        kill_group(client);
        drop(dir);
    });
    let size = usize::from(high - low + 1);
    wait_until(
        "the ephemeral ports exhausted",
        Duration::from_secs(20),
        || {
            let tw = ss_time_wait(&ns);
            let errors = lines_with(&log, "cannot assign requested address");
            if tw >= size && errors >= 2 {
                Ok(())
            } else {
                Err(format!(
                    "ss -tan state time-wait in {ns}: {tw} of {size} ports; {errors} EADDRNOTAVAIL lines"
                ))
            }
        },
    );
    run.wrapper = vec!["ip".into(), "netns".into(), "exec".into(), ns.clone()];
    run.netns = Some(ns);
    run.port = Some(port);
    run.doctor_args = vec!["--log".into(), log.display().to_string()];
    run
}
