//! What the host sees of a container beside the engine, against the real Docker engine
//! (tests/run.sh starts it): its cgroup (CPU quota and throttling, memory limit, OOM kills, cross-
//! checked against the cgroup's files and `docker inspect`), its own network namespace (`nstat`,
//! `ss` and `cat` run inside it with `nsenter`), and what is left out without root.

mod support;

use serde_json::Value;
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use support::docker::{Container, exclusive, f64_of, require_docker, snapshot, wait_until};
use support::{require, run};

/// `--cpus 0.5 --memory 32m`: the cgroup shows the quota, nearly every period throttled, the
/// memory limit, and an OOM kill of a child process that `docker inspect` does not report while
/// the container keeps running.
#[test]
fn quota_throttling_memory_limit_and_oom_kills_from_the_cgroup() {
    let _one = exclusive();
    require_docker();
    // `tail /dev/zero` reads a line that never ends until the OOM killer stops it; then the shell
    // spins, held to half a core by the quota.
    let c = Container::run(
        "quota",
        &["--cpus", "0.5", "--memory", "32m", "--memory-swap", "32m"],
        &["sh", "-c", "tail /dev/zero; while :; do :; done"],
    );
    let id = c.inspect("{{.Id}}");
    let cpu_dir = format!("/sys/fs/cgroup/cpu/docker/{id}");
    let mem_dir = format!("/sys/fs/cgroup/memory/docker/{id}");
    assert!(
        std::path::Path::new(&cpu_dir).exists(),
        "this test knows the cgroup v1 layout of the project's machine; {cpu_dir} is missing"
    );
    let oom_kill = || {
        std::fs::read_to_string(format!("{mem_dir}/memory.oom_control"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .unwrap()
            .trim()
            .parse::<i64>()
            .unwrap()
    };
    wait_until("tail is OOM-killed", Duration::from_secs(30), || {
        oom_kill() >= 1
    });
    let throttled = || {
        let t = std::fs::read_to_string(format!("{cpu_dir}/cpu.stat")).unwrap();
        t.lines()
            .find_map(|l| l.strip_prefix("nr_throttled "))
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    let before = throttled();
    wait_until("the quota throttles", Duration::from_secs(10), || {
        throttled() > before
    });

    let (snap, _, _) = snapshot("3s", &[], &[]);
    let after = throttled();
    let s = c.find(&snap);
    let cg = &s["cgroup"];
    assert_eq!(cg["version"], 1);
    assert_eq!(cg["cpu_path"], cpu_dir);
    assert_eq!(cg["cpu_limit_cores"], 0.5);
    assert_eq!(cg["cpu_quota_us"], 50_000);
    assert_eq!(cg["cpu_period_us"], 100_000);
    let periods = cg["nr_periods"]["delta"].as_i64().unwrap();
    let nr_throttled = &cg["nr_throttled"];
    assert!(periods >= 20, "{periods} periods of 100 ms in a 3 s window");
    // On an idle machine the spinning shell is throttled in nearly every period; when other work
    // competes for the CPUs it gets less than its quota and is throttled less often. What must
    // hold either way: it is throttled, far above the 25% the rule warns at, and the share is the
    // one cpu.stat's own counters give.
    let pct = f64_of(&cg["throttled_periods_pct"]);
    let throttled_delta = nr_throttled["delta"].as_i64().unwrap();
    assert!(
        pct >= 40.0,
        "a spinning shell under a half-core quota is throttled: {cg}"
    );
    assert!(
        (pct - 100.0 * throttled_delta as f64 / periods as f64).abs() < 0.01,
        "throttled_periods_pct is not nr_throttled/nr_periods over the window: {cg}"
    );
    let total = nr_throttled["total"].as_i64().unwrap();
    assert!(
        before < total && total <= after,
        "nr_throttled {total} outside cpu.stat's {before}..{after}"
    );
    assert!(cg["throttled_us"]["delta"].as_i64().unwrap() > 0);
    let ours = f64_of(&s["cpu_pct"]);
    eprintln!(
        "quota: doctor {ours}%, throttled {}% of {periods} periods, nr_throttled {before} < {total} <= {after}, oom_kills {}",
        cg["throttled_periods_pct"], cg["oom_kills"]["total"]
    );
    assert!(
        (40.0..=60.0).contains(&ours),
        "{ours}% under a 0.5-CPU quota"
    );

    assert_eq!(cg["memory_limit_bytes"], 32 * 1024 * 1024);
    assert_eq!(
        s["memory_limit_bytes"],
        32 * 1024 * 1024,
        "docker stats' limit"
    );
    assert_eq!(cg["oom_kills"]["total"], oom_kill());
    assert!(oom_kill() >= 1);
    assert_eq!(
        s["oom_killed"].as_bool().unwrap().to_string(),
        c.inspect("{{.State.OOMKilled}}"),
        "oom_killed is the engine's flag"
    );
    assert!(
        snap["containers"]["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("cgroup v1")),
        "the section says which cgroup version it read"
    );
}

/// A value of `nstat -az NAME` run inside the namespace of `pid`.
fn nstat_in(pid: i32, name: &str) -> i64 {
    let ns = format!("--net=/proc/{pid}/ns/net");
    let out = run("nsenter", &[&ns, "nstat", "-azs", name]);
    out.lines()
        .find_map(|l| {
            let mut f = l.split_ascii_whitespace();
            (f.next()? == name).then(|| f.next()?.parse().ok())?
        })
        .unwrap_or_else(|| panic!("nstat printed no {name}: {out}"))
}

/// A listener with a backlog of 1 that never accepts, and a new connection attempt every
/// 100 ms, all inside the network namespace `ns`, on a thread of its own (the only one that
/// changes namespace): once two handshakes fill the queue, every further SYN is dropped and
/// counted as a `ListenOverflow` in that namespace. Stops when dropped; at most 300 attempts.
struct OverflowingListener {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl OverflowingListener {
    fn start(ns: std::fs::File) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)
                    .expect("setns into the container (the tests run as root)");
                let socket = || {
                    socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
                        .unwrap()
                };
                let listener = socket();
                let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
                listener.bind(&any.into()).unwrap();
                listener.listen(1).unwrap();
                let addr = listener.local_addr().unwrap();
                tx.send(addr.as_socket().unwrap().port()).unwrap();
                let mut clients = Vec::new();
                while !stop.load(Ordering::Relaxed) && clients.len() < 300 {
                    let s = socket();
                    s.set_nonblocking(true).unwrap();
                    let _ = s.connect(&addr);
                    clients.push(s);
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        OverflowingListener {
            port: rx.recv().unwrap(),
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for OverflowingListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An accept queue that overflows inside a container's own network namespace: doctor shows the
/// `ListenOverflows` growth in that container's section (as `nstat` run inside the namespace
/// counts it) and none in the host's `tcp` section; the listener's backlog and queue are `ss`'s
/// inside the namespace, and so is the namespace's `somaxconn`.
#[test]
fn listen_overflows_inside_a_container_stay_out_of_the_host_view() {
    let _one = exclusive();
    require_docker();
    require("nsenter", "util-linux");
    require("nstat", "iproute2");
    require("ss", "iproute2");
    let c = Container::run("netns", &["--network", "none"], &["sleep", "600"]);
    let pid = c.pid();
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/net")).unwrap();
    assert_ne!(
        std::fs::metadata(format!("/proc/{pid}/ns/net"))
            .unwrap()
            .ino(),
        std::fs::metadata("/proc/self/ns/net").unwrap().ino(),
        "--network none gives the container a namespace of its own"
    );

    let load = OverflowingListener::start(ns);
    let port = load.port;
    wait_until(
        "the accept queue overflows in the container",
        Duration::from_secs(10),
        || nstat_in(pid, "TcpExtListenOverflows") >= 3,
    );
    let nstat_before = nstat_in(pid, "TcpExtListenOverflows");
    let (snap, _, _) = snapshot("2s", &[], &[]);
    let nstat_after = nstat_in(pid, "TcpExtListenOverflows");
    let ns_arg = format!("--net=/proc/{pid}/ns/net");
    let somaxconn = run("nsenter", &[&ns_arg, "cat", "/proc/sys/net/core/somaxconn"]);
    let ss = run(
        "nsenter",
        &[&ns_arg, "ss", "-lntH", &format!("sport = :{port}")],
    );
    drop(load);

    let s = c.find(&snap);
    assert_eq!(s["pids"], 1, "`sleep`, alone in its container");
    let net = &s["net"];
    eprintln!(
        "netns: ListenOverflows {} (nstat {nstat_before}..{nstat_after}), host delta {}, somaxconn {}, ss {}",
        net["counters"]["TcpExtListenOverflows"],
        snap["tcp"]["counters"]["TcpExtListenOverflows"]["delta"],
        somaxconn.trim(),
        ss.trim()
    );
    assert_eq!(
        net["namespace"],
        std::fs::metadata(format!("/proc/{pid}/ns/net"))
            .unwrap()
            .ino()
    );
    let overflows = &net["counters"]["TcpExtListenOverflows"];
    let total = overflows["total"].as_i64().unwrap();
    let delta = overflows["delta"].as_i64().unwrap();
    assert!(
        delta >= 5,
        "10 refused SYNs a second for 2 s, doctor saw {delta}: {overflows}"
    );
    assert!(
        nstat_before <= total - delta && total <= nstat_after,
        "doctor's {}..{total} is not within nstat's {nstat_before}..{nstat_after} in the namespace",
        total - delta
    );
    assert_eq!(
        snap["tcp"]["counters"]["TcpExtListenOverflows"]["delta"], 0,
        "the container's overflows must not show in the host's namespace"
    );

    assert_eq!(
        net["sysctls"]["net.core.somaxconn"]
            .as_i64()
            .unwrap()
            .to_string(),
        somaxconn.trim()
    );
    let f: Vec<&str> = ss.split_ascii_whitespace().collect();
    let (recv_q, send_q): (u32, u32) = (f[1].parse().unwrap(), f[2].parse().unwrap());
    let l = net["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["port"] == port)
        .unwrap_or_else(|| panic!("port {port} not among the container's listeners: {net}"));
    assert_eq!((send_q, recv_q), (1, 2), "ss in the namespace: {ss}");
    assert_eq!(l["backlog"], send_q);
    assert_eq!(l["queue"], recv_q);
    assert_eq!(l["local"], format!("127.0.0.1:{port}"));
    assert!(
        !snap["listeners"]["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["local"] == format!("127.0.0.1:{port}") && h["backlog"] == 1),
        "the container's listener must not show among the host's"
    );
}

/// Without root (here `nobody` in the `docker` group), the section is still `ok`: the engine's
/// figures and the world-readable cgroup files are there, and the namespace, which needs
/// privileges, is left out with the reason in the container's notes.
#[test]
fn without_root_the_namespace_is_left_out_with_a_note() {
    let _one = exclusive();
    require_docker();
    require("setpriv", "util-linux");
    let c = Container::run("nonroot", &["--network", "none"], &["sleep", "600"]);
    let gid = run("getent", &["group", "docker"])
        .split(':')
        .nth(2)
        .expect("the docker group exists (docker.io creates it)")
        .to_owned();
    // A copy `nobody` can reach wherever the checkout is (CI's may be under /root).
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("doctor");
    std::fs::copy(env!("CARGO_BIN_EXE_doctor"), &bin).unwrap();
    for p in [dir.path(), bin.as_path()] {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            &format!("--groups={gid}"),
            bin.to_str().unwrap(),
            "snapshot",
            "--interval",
            "1s",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snap: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = c.find(&snap);
    assert!(s["cpu_pct"].is_number(), "{s}");
    assert_eq!(
        s["stats_source"], "engine",
        "not root: the engine's stats API: {s}"
    );
    assert!(s["net"].is_null(), "{s}");
    assert_eq!(s["cgroup"]["version"], 1, "cgroup files are world-readable");
    let note = s["notes"][0].as_str().unwrap();
    assert!(
        note.starts_with("network namespace not read")
            && note.contains(&format!("/proc/{}/ns/net", c.pid())),
        "{note}"
    );
    assert!(
        snap["containers"]["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("not running as root")),
        "{}",
        snap["containers"]
    );
}
