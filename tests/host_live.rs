//! The host collectors read the real `/proc` and `/sys` of this machine; their figures are
//! cross-checked against the standard tools (`nstat`, `ss`, `sysctl`, `iostat`, `pidstat`, `free`)
//! run at the same moment.

mod support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{disk_by_util_linux, require, run, snapshot_json};

/// The tests that put load on the machine and compare rates run one at a time: two busy loops
/// and fio at once on a 2-core box would starve each other and measure the contention.
static LOAD: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    LOAD.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn counters(snap: &Value) -> BTreeMap<String, i64> {
    snap["tcp"]["counters"]
        .as_object()
        .expect("tcp.counters")
        .iter()
        .map(|(k, v)| (k.clone(), v["total"].as_i64().expect("total")))
        .collect()
}

/// Every TCP counter nstat prints is in the snapshot, and those that did not move while both
/// were read have exactly nstat's value.
#[test]
fn tcp_counters_match_nstat() {
    require("nstat", "iproute2");
    let before = counters(&snapshot_json("100ms"));
    // -a absolute values, -z zeros too, -s do not touch nstat's history file.
    let nstat_text = run("nstat", &["-azs"]);
    let after = counters(&snapshot_json("100ms"));
    let nstat: BTreeMap<String, i64> = nstat_text
        .lines()
        .filter_map(|l| {
            let mut f = l.split_ascii_whitespace();
            let name = f.next()?;
            if !name.starts_with("Tcp") {
                return None;
            }
            Some((name.to_owned(), f.next()?.parse().ok()?))
        })
        .collect();
    assert!(
        nstat.len() > 100,
        "nstat printed only {} Tcp/TcpExt counters",
        nstat.len()
    );
    let mut compared = 0;
    for (name, value) in &nstat {
        let (Some(b), Some(a)) = (before.get(name), after.get(name)) else {
            panic!("nstat has {name} but the snapshot does not");
        };
        if a == b {
            assert_eq!(a, value, "{name}: doctor {a}, nstat {value}");
            compared += 1;
        } else {
            assert!(
                b <= value && value <= a,
                "{name}: nstat {value} is outside doctor's {b}..{a}"
            );
        }
    }
    assert!(
        compared > 100,
        "only {compared} counters stood still long enough to compare"
    );
}

/// The sysctls doctor reports are the values `sysctl -n` prints.
#[test]
fn sysctls_match_sysctl() {
    require("sysctl", "procps");
    let snap = snapshot_json("100ms");
    let sysctls = snap["tcp"]["sysctls"].as_object().expect("tcp.sysctls");
    for name in [
        "net.core.somaxconn",
        "net.ipv4.tcp_max_syn_backlog",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_fin_timeout",
    ] {
        let ours = match &sysctls[name] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            other => panic!("{name}: unexpected {other}"),
        };
        let theirs = run("sysctl", &["-n", name])
            .split_ascii_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(ours, theirs, "{name}");
    }
    assert!(sysctls.len() >= 8, "{sysctls:?}");
}

/// A listener with a known backlog and a full accept queue: doctor shows the same backlog and
/// queue as `ss -lnt` (Send-Q and Recv-Q), and names this test process as the owner.
#[test]
fn listener_backlog_and_queue_match_ss() {
    require("ss", "iproute2");
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(7).unwrap();
    let port = socket.local_addr().unwrap().as_socket().unwrap().port();
    // Never accepted: the kernel completes handshakes into the accept queue until backlog + 1.
    let clients: Vec<_> = (0..5)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();

    let ss_line = || {
        let out = run("ss", &["-lntH", &format!("sport = :{port}")]);
        let f: Vec<String> = out.split_ascii_whitespace().map(str::to_owned).collect();
        (f[1].parse::<u32>().unwrap(), f[2].parse::<u32>().unwrap()) // Recv-Q, Send-Q
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while ss_line().0 < 5 {
        assert!(
            Instant::now() < deadline,
            "accept queue never reached 5: {:?}",
            ss_line()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (recv_q, send_q) = ss_line();
    let snap = snapshot_json("300ms");
    let l = snap["listeners"]["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["port"] == port)
        .unwrap_or_else(|| panic!("port {port} not among the listeners"));
    assert_eq!((recv_q, send_q), (5, 7));
    assert_eq!(l["backlog"], send_q);
    assert_eq!(l["queue"], recv_q);
    assert_eq!(l["queue_max"], recv_q);
    assert_eq!(l["local"], format!("127.0.0.1:{port}"));
    assert_eq!(l["process"]["pid"], std::process::id());
    drop(clients);
}

/// Under a steady, rate-limited random-read load on the disk that holds a temp dir, doctor's
/// `iostat -x` figures for that disk agree with `iostat -x` over the same window.
#[test]
fn disk_figures_match_iostat() {
    let _load = exclusive();
    require("iostat", "sysstat");
    require("fio", "fio");
    let dir = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    let (disk, _) = disk_by_util_linux(dir.path());
    let file = dir.path().join("load");
    // Lay out the file first so the measured phase is only the steady reads.
    run(
        "fio",
        &[
            "--name=layout",
            &format!("--filename={}", file.display()),
            "--size=32M",
            "--rw=write",
            "--bs=1M",
            "--direct=1",
            "--output=/dev/null",
        ],
    );
    let mut load = Command::new("fio")
        .args([
            "--name=steady",
            &format!("--filename={}", file.display()),
            "--size=32M",
            "--rw=randread",
            "--bs=4k",
            "--direct=1",
            "--ioengine=psync",
            "--rate_iops=400",
            "--time_based",
            "--runtime=8",
            "--output=/dev/null",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the load provably runs: iostat sees the reads.
    let reads = iostat_row(&run("iostat", &["-dxy", &disk, "1", "1"]), &disk)["r/s"];
    assert!(
        reads > 100.0,
        "fio load did not reach the disk: {reads} r/s"
    );

    // The same 3 s window for both.
    let iostat = Command::new("iostat")
        .args(["-dxy", &disk, "3", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let snap = snapshot_json("3s");
    let out = String::from_utf8(iostat.wait_with_output().unwrap().stdout).unwrap();
    let _ = load.kill();
    let _ = load.wait();

    let row = iostat_row(&out, &disk);
    let col = |name: &str| row[name];
    let d = snap["disks"]["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == disk.as_str())
        .expect("disk in snapshot");
    let ours = |f: &str| {
        d[f].as_f64()
            .unwrap_or_else(|| panic!("{f} missing in {d}"))
    };

    let close = |name: &str, a: f64, b: f64, rel: f64, abs: f64| {
        assert!(
            (a - b).abs() <= abs.max(rel * b.abs()),
            "{name}: doctor {a}, iostat {b}\n{out}\n{d}"
        );
    };
    close("r/s", ours("reads_per_s"), col("r/s"), 0.1, 5.0);
    close(
        "rkB/s",
        ours("read_bytes_per_s") / 1024.0,
        col("rkB/s"),
        0.1,
        20.0,
    );
    close("r_await", ours("r_await_ms"), col("r_await"), 0.25, 0.3);
    close("%util", ours("util_pct"), col("%util"), 0.15, 5.0);
    close("aqu-sz", ours("aqu_sz"), col("aqu-sz"), 0.25, 0.1);
}

/// A loop device attached to a file on this machine's disk is listed in `disks` as
/// `losetup` and `lsblk` (util-linux, reading sysfs and the loop ioctls on their own) see it:
/// kind `loop`, its backing file, its size, and the disk holding the file under it, that disk
/// itself listed. Every mounted device `lsblk` shows is listed too.
#[test]
fn loop_device_is_listed_as_losetup_and_lsblk_see_it() {
    require("losetup", "mount");
    require("lsblk", "util-linux");
    let dir = tempfile::tempdir_in("/var/tmp").unwrap();
    let file = dir.path().join("loop.img");
    std::fs::File::create(&file)
        .unwrap()
        .set_len(16 << 20)
        .unwrap();
    let dev = run(
        "losetup",
        &["--find", "--show", &file.display().to_string()],
    )
    .trim()
    .to_owned();
    let _detach = Detach(dev.clone());
    let name = dev.trim_start_matches("/dev/").to_owned();
    // One read, so the device has done I/O since boot (it is not mounted).
    run(
        "dd",
        &[
            &format!("if={dev}"),
            "of=/dev/null",
            "bs=4k",
            "count=4",
            "iflag=direct",
            "status=none",
        ],
    );
    let snap = snapshot_json("100ms");
    let devices = snap["disks"]["devices"].as_array().expect("disks.devices");
    let find = |n: &str| devices.iter().find(|d| d["name"] == n);
    let d = find(&name).unwrap_or_else(|| panic!("{name} not in {devices:?}"));

    let losetup: Value =
        serde_json::from_str(&run("losetup", &["--list", "--json", &dev])).unwrap();
    let back = losetup["loopdevices"][0]["back-file"].as_str().unwrap();
    assert_eq!(d["kind"], "loop");
    assert_eq!(d["backing_file"], back);
    assert_eq!(d["size_bytes"], 16 << 20);
    let (disk, _) = disk_by_util_linux(dir.path());
    assert_eq!(d["under"], serde_json::json!([disk]), "{d}");
    assert!(find(&disk).is_some(), "{disk}, under {name}, is listed too");

    let lsblk: Value = serde_json::from_str(&run(
        "lsblk",
        &["--json", "--nodeps", "--output", "NAME,TYPE,MOUNTPOINTS"],
    ))
    .unwrap();
    for b in lsblk["blockdevices"].as_array().unwrap() {
        let n = b["name"].as_str().unwrap();
        if n == name {
            assert_eq!(b["type"], "loop");
        }
        let mounted = b["mountpoints"]
            .as_array()
            .is_some_and(|m| m.iter().any(Value::is_string));
        if mounted && !n.starts_with("zram") {
            assert!(find(n).is_some(), "{n} is mounted (lsblk) but not listed");
        }
    }
}

/// The tests' slow block device (`tests/support/slowdev.rs`) is genuinely slow and leaves
/// nothing behind: synchronous direct writes to its filesystem take at least the delay each,
/// `iostat -x` sees that latency on its loop device, and after teardown neither the mounts nor
/// the loop device remain.
#[test]
fn slow_device_is_slow_and_torn_down() {
    require("iostat", "sysstat");
    let dev = support::slowdev::SlowDev::new(64, Duration::from_secs(120));
    let (name, mnt) = (dev.device(), dev.mount_point());
    dev.set_delay(Duration::from_millis(30));
    let iostat = Command::new("iostat")
        .args(["-dxy", &name, "2", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    // Each 4 KiB write with O_DIRECT|O_DSYNC is one request plus a flush to the device.
    run(
        "dd",
        &[
            "if=/dev/zero",
            &format!("of={}", mnt.join("f").display()),
            "bs=4k",
            "count=20",
            "oflag=direct,dsync",
            "status=none",
        ],
    );
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(20 * 30),
        "20 synchronous writes took {took:?}: the device is not slow"
    );
    let out = String::from_utf8(iostat.wait_with_output().unwrap().stdout).unwrap();
    let row = iostat_row(&out, &name);
    assert!(row["w_await"] >= 30.0, "iostat -x {name}: {row:?}");
    drop(dev);
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(mnt.to_str().unwrap()),
        "{mnt:?} still mounted"
    );
    assert!(
        !Path::new(&format!("/sys/block/{name}/loop")).exists(),
        "{name} still attached"
    );
}

/// Detaches a loop device on drop.
struct Detach(String);

impl Drop for Detach {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).status();
    }
}

/// One device's row of `iostat -x` output, by column name.
fn iostat_row(out: &str, disk: &str) -> BTreeMap<String, f64> {
    let header = out
        .lines()
        .find(|l| l.starts_with("Device"))
        .expect("iostat header");
    let row = out
        .lines()
        .find(|l| l.split_ascii_whitespace().next() == Some(disk))
        .unwrap_or_else(|| panic!("{disk} not in\n{out}"));
    header
        .split_ascii_whitespace()
        .zip(row.split_ascii_whitespace())
        .filter_map(|(h, v)| Some((h.to_owned(), v.parse().ok()?)))
        .collect()
}

/// A busy loop shows as one core in `processes.top`, as `pidstat` measures it over the same window.
#[test]
fn busy_process_matches_pidstat() {
    let _load = exclusive();
    require("pidstat", "sysstat");
    let mut busy = Command::new("sh")
        .args(["-c", "while :; do :; done"])
        .spawn()
        .unwrap();
    let pid = busy.id();
    std::thread::sleep(Duration::from_millis(300));
    let pidstat = Command::new("pidstat")
        .args(["-u", "-p", &pid.to_string(), "2", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let snap = snapshot_json("2s");
    let out = String::from_utf8(pidstat.wait_with_output().unwrap().stdout).unwrap();
    let _ = busy.kill();
    let _ = busy.wait();
    let theirs: f64 = out
        .lines()
        .find(|l| l.starts_with("Average:") && l.contains(&format!(" {pid} ")))
        .and_then(|l| {
            let f: Vec<&str> = l.split_ascii_whitespace().collect();
            // Average: UID PID %usr %system %guest %wait %CPU CPU Command
            f.get(7)?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no pidstat line for {pid}:\n{out}"));
    let top = snap["processes"]["top"].as_array().unwrap();
    let ours = top
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("busy loop {pid} not in top: {top:?}"));
    let ours = ours["cpu_pct"].as_f64().unwrap();
    assert!(
        theirs > 50.0,
        "pidstat says the loop only got {theirs}%: machine overloaded?"
    );
    assert!(
        (ours - theirs).abs() <= 10.0,
        "doctor {ours}%, pidstat {theirs}%"
    );
}

/// Memory totals are `free -b`'s.
#[test]
fn memory_matches_free() {
    require("free", "procps");
    let snap = snapshot_json("100ms");
    let out = run("free", &["-b"]);
    let mem: Vec<u64> = out
        .lines()
        .find(|l| l.starts_with("Mem:"))
        .unwrap()
        .split_ascii_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    let swap: Vec<u64> = out
        .lines()
        .find(|l| l.starts_with("Swap:"))
        .unwrap()
        .split_ascii_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    let m = &snap["memory"];
    assert_eq!(m["total_bytes"], mem[0]);
    assert_eq!(m["swap_total_bytes"], swap[0]);
    let available = m["available_bytes"].as_f64().unwrap();
    // free's "available" column is MemAvailable read a moment later.
    assert!(
        (available - mem[5] as f64).abs() < 0.02 * mem[0] as f64,
        "doctor {available}, free {}",
        mem[5]
    );
}

/// Every section of a live snapshot is ok on this machine, host facts are filled in, and
/// doctor's own cost is recorded.
#[test]
fn live_snapshot_is_complete() {
    let snap = snapshot_json("500ms");
    for section in ["cpu", "memory", "disks", "tcp", "listeners", "processes"] {
        assert_eq!(
            snap[section]["status"], "ok",
            "{section}: {}",
            snap[section]
        );
    }
    assert_eq!(snap["schema"], 1);
    assert_eq!(
        snap["host"]["cpus"].as_u64(),
        std::thread::available_parallelism()
            .ok()
            .map(|n| n.get() as u64)
    );
    assert_eq!(
        snap["host"]["kernel"].as_str().unwrap(),
        run("uname", &["-r"]).trim()
    );
    let elapsed = snap["window"]["elapsed_ms"].as_f64().unwrap();
    assert!((500.0..700.0).contains(&elapsed), "window {elapsed} ms");
    assert!(snap["overhead"]["cpu_ms"].as_f64().unwrap() > 0.0);
    assert!(snap["cpu"]["run_queue_samples"].as_u64().unwrap() >= 2);
}

/// One busy thread among idle ones (a Node.js event loop with its idle workers): doctor names
/// the busy thread at about one core, as `pidstat -t` sees it.
#[test]
fn busiest_thread_matches_pidstat() {
    let _load = exclusive();
    require("pidstat", "sysstat");
    let script = "import threading, time\n\
        for _ in range(3): threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n\
        t0 = time.time()\n\
        while time.time() - t0 < 30: pass\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .spawn()
        .unwrap();
    let pid = child.id();
    let threads = || std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, Iterator::count);
    let deadline = Instant::now() + Duration::from_secs(5);
    while threads() < 4 {
        assert!(
            Instant::now() < deadline,
            "python did not start its threads"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pidstat = Command::new("pidstat")
        .args(["-t", "-u", "-p", &pid.to_string(), "2", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let snap = snapshot_json("2s");
    let out = String::from_utf8(pidstat.wait_with_output().unwrap().stdout).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    // Average: UID TGID TID %usr %system %guest %wait %CPU CPU Command — the main thread's TID is the pid.
    let main_thread: f64 = out
        .lines()
        .filter(|l| l.starts_with("Average:"))
        .map(|l| l.split_ascii_whitespace().collect::<Vec<_>>())
        .find(|f| f.get(3) == Some(&pid.to_string().as_str()))
        .and_then(|f| f.get(8)?.parse().ok())
        .unwrap_or_else(|| panic!("no pidstat line for thread {pid}:\n{out}"));
    let top = snap["processes"]["top"].as_array().unwrap();
    let p = top
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("{pid} not in top: {top:?}"));
    let t = &p["busiest_thread"];
    assert_eq!(t["tid"], pid, "{p}");
    assert!(
        main_thread > 50.0,
        "pidstat: the busy thread only got {main_thread}%"
    );
    let ours = t["cpu_pct"].as_f64().unwrap();
    assert!(
        (ours - main_thread).abs() <= 15.0,
        "doctor {ours}%, pidstat {main_thread}%"
    );
    assert!(p["threads"].as_u64().unwrap() >= 4);
}

/// doctor's path → disk mapping (used for MySQL's datadir) agrees with util-linux for the disk
/// under this crate's directory.
#[test]
fn blockdev_matches_lsblk() {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (disk, rotational) = disk_by_util_linux(here);
    let dev = doctor::collect::blockdev::of_path(here).expect("the crate lives on a block device");
    assert_eq!(dev.name, disk);
    assert_eq!(dev.rotational, Some(rotational));
}

/// A process started with `prlimit --nofile=300:400` holding 250 descriptors more than it
/// started with: doctor's count and limits for it are `ls /proc/PID/fd | wc -l` and `prlimit`'s.
#[test]
fn open_files_match_ls_and_prlimit() {
    require("prlimit", "util-linux");
    require("python3", "python3");
    let mut child = Command::new("prlimit")
        .args([
            "--nofile=300:400",
            "python3",
            "-c",
            "import os, sys, time\n\
             fds = [os.open('/dev/null', os.O_RDONLY) for _ in range(250)]\n\
             print('ready', flush=True)\n\
             time.sleep(30)",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("prlimit runs");
    let pid = child.id();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "ready");
    let snap = snapshot_json("100ms");
    let ls: u64 = run("sh", &["-c", &format!("ls /proc/{pid}/fd | wc -l")])
        .trim()
        .parse()
        .unwrap();
    let limits: Vec<u64> = run(
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
    )
    .split_whitespace()
    .map(|x| x.parse().unwrap())
    .collect();
    let _ = child.kill();
    let _ = child.wait();
    let of = &snap["processes"]["open_files"];
    assert_eq!(of["method"], "fd-dir-size", "Linux 6.2+ here: {of}");
    let row = of["top"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("pid {pid} at {ls}/300 is not in {of}"));
    assert!(ls >= 250, "ls /proc/{pid}/fd: {ls}");
    assert_eq!(row["fds"], ls, "{row}");
    assert_eq!(limits, [300, 400]);
    assert_eq!(
        (&row["soft_limit"], &row["hard_limit"]),
        (&json!(300), &json!(400))
    );
    assert_eq!(row["name"], "python3");
}

/// Connections to a local listener closed by the client first leave their ephemeral ports in
/// `TIME_WAIT`: doctor counts them for that destination as `ss -tan state time-wait` does, and
/// its range is `sysctl`'s.
#[test]
fn local_ports_per_destination_match_ss() {
    require("ss", "iproute2");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    for _ in 0..20 {
        let c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        // The server end is accepted and kept open until the client has closed first.
        let server = loop {
            if let Ok((s, _)) = listener.accept() {
                break s;
            }
        };
        drop(c);
        std::thread::sleep(Duration::from_millis(2));
        drop(server);
    }
    let dst = format!("dst 127.0.0.1:{port}");
    let ss = || {
        run("ss", &["-Htan", "state", "time-wait", &dst])
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count()
    };
    let before = ss();
    let snap = snapshot_json("100ms");
    let after = ss();
    assert_eq!((before, after), (20, 20), "TIME_WAIT lasts 60 s");
    let lp = &snap["tcp"]["local_ports"];
    let range: Vec<u64> = run("sysctl", &["-n", "net.ipv4.ip_local_port_range"])
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(
        (
            lp["range_low"].as_u64().unwrap(),
            lp["range_high"].as_u64().unwrap()
        ),
        (range[0], range[1])
    );
    let remote = format!("127.0.0.1:{port}");
    let d = lp["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["remote"] == remote.as_str())
        .unwrap_or_else(|| panic!("{remote} not among {lp}"));
    assert_eq!(
        (&d["time_wait"], &d["sockets"]),
        (&json!(20), &json!(20)),
        "{d}"
    );
    assert_eq!(d["loopback"], true);
}

/// The conntrack table's count is what `conntrack -C` prints, and its statistics summed over
/// the CPUs are what `conntrack -S` prints, between two snapshots (counters only grow).
#[test]
fn conntrack_matches_conntrack_tool() {
    require("conntrack", "conntrack");
    let a = snapshot_json("100ms");
    let count: u64 = run("conntrack", &["-C"]).trim().parse().unwrap();
    let stats = run("conntrack", &["-S"]);
    let b = snapshot_json("100ms");
    let mut sums: BTreeMap<String, u64> = BTreeMap::new();
    for line in stats.lines() {
        for kv in line.split_whitespace() {
            if let Some((k, v)) = kv.split_once('=')
                && let Ok(v) = v.parse::<u64>()
                && k != "cpu"
            {
                *sums.entry(k.to_owned()).or_default() += v;
            }
        }
    }
    let (ca, cb) = (&a["tcp"]["conntrack"], &b["tcp"]["conntrack"]);
    assert!(ca.is_object(), "nf_conntrack is loaded here: {}", a["tcp"]);
    // The count is a gauge: bracketed by doctor's two readings (entries come and go).
    let (lo, hi) = {
        let (x, y) = (ca["count"].as_u64().unwrap(), cb["count"].as_u64().unwrap());
        (x.min(y), x.max(y))
    };
    // Other connections on this machine add and expire entries between the readings: allow
    // what moved between doctor's two readings, and 5% more.
    let slack = (hi - lo).max(count / 20 + 10);
    assert!(
        count.abs_diff(lo) <= slack || (lo..=hi).contains(&count),
        "conntrack -C {count}, doctor {lo}..{hi}"
    );
    assert_eq!(
        ca["max"],
        json!(
            run("sysctl", &["-n", "net.netfilter.nf_conntrack_max"])
                .trim()
                .parse::<u64>()
                .unwrap()
        )
    );
    for name in [
        "drop",
        "early_drop",
        "insert_failed",
        "invalid",
        "found",
        "insert",
    ] {
        let v = sums[name];
        let x = ca["stats"][name]["total"].as_u64().unwrap();
        let y = cb["stats"][name]["total"].as_u64().unwrap();
        assert!(
            x <= v && v <= y,
            "{name}: conntrack -S {v}, doctor {x}..{y}"
        );
    }
}
