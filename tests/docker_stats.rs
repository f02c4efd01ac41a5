//! The `containers` section's `docker stats` figures against the real Docker engine (tests/run.sh
//! starts it): CPU, memory, pids, network and block I/O, read by doctor from the kernel's files or
//! asked of the engine, cross-checked against `docker stats`, the engine's own one-shot answer and
//! the container's processes in `/proc`.

mod support;

use serde_json::Value;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::docker::{Container, exclusive, f64_of, require_docker, snapshot, wait_until};
use support::{require, run};

/// Time a process has run and time it has waited for a CPU while runnable, in ns: the first two
/// fields of `/proc/<pid>/schedstat` (the kernel's `Documentation/scheduler/sched-stats.rst`).
fn schedstat(pid: i32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).unwrap();
    let mut f = text
        .split_ascii_whitespace()
        .map(|v| v.parse::<u64>().unwrap());
    (f.next().unwrap(), f.next().unwrap())
}

/// `/proc/<pid>/schedstat` read every 20 ms on a thread of its own.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(Instant, u64, u64)>>,
}

impl Sampler {
    fn start(pid: i32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = Arc::clone(&stop);
            move || {
                let mut samples = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let (run, wait) = schedstat(pid);
                    samples.push((Instant::now(), run, wait));
                    std::thread::sleep(Duration::from_millis(20));
                }
                samples
            }
        });
        Sampler { stop, thread }
    }

    fn stop(self) -> Vec<(Instant, u64, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// % of a CPU the process ran and waited for one between the samples nearest `a` and `b`.
fn over(samples: &[(Instant, u64, u64)], a: Instant, b: Instant) -> (f64, f64) {
    let nearest = |t: Instant| {
        *samples
            .iter()
            .min_by_key(|s| if s.0 > t { s.0 - t } else { t - s.0 })
            .unwrap()
    };
    let (ta, ra, wa) = nearest(a);
    let (tb, rb, wb) = nearest(b);
    let ns = (tb - ta).as_nanos() as f64;
    ((rb - ra) as f64 / ns * 100.0, (wb - wa) as f64 / ns * 100.0)
}

/// A container spinning `while :; do :; done` burns one core: doctor shows ≈100% — less only the
/// time the kernel says the loop waited for a CPU taken by other work on this machine — as
/// `docker stats` shows at the same time and as the kernel's own accounting of the process says;
/// the descriptive fields are `docker inspect`'s.
#[test]
fn busy_container_shows_a_full_core_like_docker_stats() {
    let _one = exclusive();
    require_docker();
    let c = Container::run(
        "busy",
        &["--health-cmd", "true", "--health-interval", "1s"],
        &["sh", "-c", "while :; do :; done"],
    );
    // Healthy means the health check ran, so the field has its final value.
    wait_until("the container is healthy", Duration::from_secs(30), || {
        c.inspect("{{.State.Health.Status}}") == "healthy"
    });
    let pid = c.pid();
    let kernel = Sampler::start(pid);
    let t0 = Instant::now();
    // `docker stats --no-stream` measures over the engine's last second before it prints, while
    // doctor's window runs.
    let stats = std::thread::spawn({
        let name = c.name.clone();
        move || {
            let out = Command::new("docker")
                .args(["stats", "--no-stream", "--format", "{{.CPUPerc}}", &name])
                .output()
                .unwrap();
            (out, Instant::now())
        }
    });
    let (snap, _, _) = snapshot("3s", &[], &[]);
    let t1 = Instant::now();
    let (stats, stats_done) = stats.join().unwrap();
    let samples = kernel.stop();
    let docker_pct: f64 = String::from_utf8(stats.stdout)
        .unwrap()
        .trim()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    // The kernel's account of the loop over doctor's run and over docker stats' second.
    let (proc_pct, waited_pct) = over(&samples, t0, t1);
    let (proc_docker_pct, _) = over(
        &samples,
        stats_done.checked_sub(Duration::from_millis(1100)).unwrap(),
        stats_done,
    );

    let s = c.find(&snap);
    assert_eq!(
        s["stats_source"], "cgroup",
        "root on the engine's host: {s}"
    );
    let ours = f64_of(&s["cpu_pct"]);
    eprintln!(
        "busy loop: doctor {ours}%, docker stats {docker_pct}%, /proc schedstat {proc_pct:.2}% \
         (waited {waited_pct:.2}%; {proc_docker_pct:.2}% in docker stats' second)"
    );
    // On an idle machine `waited_pct` is ~0 and this is "≈100%".
    assert!(
        (85.0..=115.0).contains(&(ours + waited_pct)),
        "doctor {ours}% + {waited_pct:.1}% waiting for a CPU is not one busy core \
         (docker stats {docker_pct}%, /proc {proc_pct:.1}%)"
    );
    assert!(
        (ours - proc_pct).abs() <= 10.0,
        "doctor {ours}% vs /proc/{pid}/schedstat {proc_pct:.1}%"
    );
    assert!(
        (docker_pct - proc_docker_pct).abs() <= 15.0,
        "docker stats {docker_pct}% vs /proc/{pid}/schedstat {proc_docker_pct:.1}% over its second"
    );
    // Equal on a steady machine; on a busy one the two windows see different shares of a CPU,
    // and the kernel's account says by how much.
    let drift = (proc_pct - proc_docker_pct).abs();
    assert!(
        (ours - docker_pct).abs() <= 15.0 + drift,
        "doctor {ours}% vs docker stats {docker_pct}% (the load moved {drift:.1} points between their windows)"
    );

    assert_eq!(s["id"], c.inspect("{{.Id}}")[..12]);
    assert_eq!(s["image"], support::docker::IMAGE);
    assert_eq!(s["state"], c.inspect("{{.State.Status}}"));
    assert_eq!(s["health"], c.inspect("{{.State.Health.Status}}"));
    assert_eq!(s["pid"], pid);
    assert_eq!(
        s["restart_count"]["total"].as_i64().unwrap().to_string(),
        c.inspect("{{.RestartCount}}")
    );
    assert_eq!(s["restart_count"]["delta"], 0);
    assert_eq!(
        s["oom_killed"].as_bool().unwrap().to_string(),
        c.inspect("{{.State.OOMKilled}}")
    );
    assert_eq!(s["network_mode"], c.inspect("{{.HostConfig.NetworkMode}}"));
    // The shell, and whatever the health check is running at that moment (see the netns test
    // for an exact count).
    assert!(s["pids"].as_u64().unwrap() >= 1);
    // Without a limit, docker stats divides by the machine's memory (MemTotal).
    let mem_total: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap();
    assert_eq!(s["memory_limit_bytes"], mem_total * 1024);
    assert!(s["memory_bytes"].as_u64().unwrap() > 0);
    assert!(s["cgroup"]["cpu_limit_cores"].is_null(), "no --cpus given");
    assert!(
        s["cgroup"]["memory_limit_bytes"].is_null(),
        "no --memory given"
    );
}

/// The engine's own one-shot stats answer for `name`, asked on its socket with a bare HTTP/1.0
/// request (the body ends when the engine closes the connection).
fn engine_stats(name: &str) -> Value {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect("/var/run/docker.sock")
        .expect("the engine's socket accepts a connection");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /containers/{name}/stats?stream=false&one-shot=true HTTP/1.0\r\nHost: docker\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// `written` bytes that the container `name` wrote with `fsync` (`proc_written` by its processes'
/// `/proc/<pid>/io`) are in doctor's `block_write_bytes` and the engine's later
/// `engine_write`, where the kernel counts them; where it counted none, doctor shows no figure
/// and says why, in the container and in the section.
fn block_written_or_said_uncounted(
    snap: &Value,
    name: &str,
    written: u64,
    engine_write: u64,
    proc_written: u64,
) {
    let s = &snap["containers"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap();
    assert!(
        proc_written >= written,
        "the kernel's task accounting saw dd's {written} B reach storage: {proc_written}"
    );
    if engine_write > 0 {
        // The kernel counts it (the engine's figure is the cgroup's counter).
        let write = s["block_write_bytes"]["total"].as_u64().unwrap();
        assert!(write >= written, "{write} B written, dd wrote {written}");
        assert!(
            write <= engine_write && engine_write - write <= 1024 * 1024,
            "doctor's {write} B written vs the engine's later {engine_write} B"
        );
        assert!(s["block_io_unaccounted"].is_null(), "{s}");
        return;
    }
    // The kernel counted none of it: doctor must not show 0 B as if the container were idle.
    assert!(
        s["block_write_bytes"].is_null() && s["block_read_bytes"].is_null(),
        "the engine's 0 is no figure here, and doctor must not show it: {s}"
    );
    let why = s["block_io_unaccounted"]
        .as_str()
        .unwrap_or_else(|| panic!("doctor says why the figures are missing: {s}"));
    assert!(
        why.contains("blk-throttle") && why.contains("/proc/<pid>/io"),
        "the reason names the mechanism and the evidence: {why}"
    );
    let notes = &snap["containers"]["notes"];
    assert!(
        notes.as_array().unwrap().iter().any(|n| {
            let n = n.as_str().unwrap();
            n.starts_with("block I/O not counted") && n.contains(name)
        }),
        "the section says so too: {notes}"
    );
}

/// The stats of a container that wrote 8 MiB with `fsync`, holds a 16 MiB shell variable and
/// runs 4 processes, read by doctor from the kernel (`stats_source` = `cgroup`), agree with the
/// engine's own answer taken right after: the same pids, the same limit and CPUs, memory within
/// 5% (`docker stats`' usage without the inactive page cache), counters no larger than the
/// engine's later reading — and the 8 MiB written, where the kernel counts it. Where it does not
/// (cgroup v1 on Linux 6.10+ with no blkio.throttle limit set on the disk: the engine answers 0
/// while `/proc/<pid>/io` says the 8 MiB reached storage; see src/collect/docker/blkio.rs), doctor
/// leaves the block figures out and says why instead of showing an idle 0.
#[test]
fn stats_read_from_the_kernel_match_the_engines_answer() {
    let _one = exclusive();
    require_docker();
    let written: u64 = 8 * 1024 * 1024;
    let c = Container::run(
        "kstats",
        &[],
        &[
            "sh",
            "-c",
            "dd if=/dev/zero of=/data bs=1M count=8 conv=fsync 2>/dev/null; \
             x=$(head -c 16777216 /dev/zero | tr '\\000' a); \
             for i in 1 2 3; do sleep 600 & done; echo ok > /ready; wait",
        ],
    );
    let pid = c.pid();
    // The shell writes /ready once dd, the variable and the three sleeps are done.
    wait_until("the container is ready", Duration::from_secs(30), || {
        std::fs::read_to_string(format!("/proc/{pid}/root/ready")).is_ok_and(|t| t == "ok\n")
    });
    let (snap, _, _) = snapshot("1s", &[], &[]);
    let engine = engine_stats(&c.name);
    let s = c.find(&snap);
    let u = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"));

    let mem = &engine["memory_stats"];
    let engine_memory = u(&mem["usage"]) - u(&mem["stats"]["total_inactive_file"]);
    let engine_write: u64 = engine["blkio_stats"]["io_service_bytes_recursive"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["op"] == "Write")
        .map(|e| u(&e["value"]))
        .sum();
    let engine_rx: u64 = engine["networks"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| u(&n["rx_bytes"]))
        .sum();
    let memory = u(&s["memory_bytes"]);
    let rx = u(&s["net_rx_bytes"]["total"]);
    // What the kernel's task accounting says the container's processes wrote to storage: the
    // shell reaped dd, so its figure holds dd's writes (proc(5), /proc/<pid>/io).
    let proc_written: u64 = std::fs::read_to_string(format!("/proc/{pid}/io"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    eprintln!(
        "kstats: doctor memory {memory} B, write {}, rx {rx} B, pids {}; engine memory \
         {engine_memory} B, write {engine_write} B, rx {engine_rx} B, pids {}; \
         /proc/{pid}/io write_bytes {proc_written}",
        s["block_write_bytes"], s["pids"], engine["pids_stats"]["current"]
    );

    assert_eq!(s["stats_source"], "cgroup", "{s}");
    assert_eq!(s["pids"], 4, "sh and three sleeps: {s}");
    assert_eq!(s["pids"], engine["pids_stats"]["current"]);
    assert_eq!(s["online_cpus"], engine["cpu_stats"]["online_cpus"]);
    assert_eq!(s["memory_limit_bytes"], mem["limit"]);
    assert!(
        memory >= 16 * 1024 * 1024,
        "the 16 MiB variable is in use: {memory}"
    );
    assert!(
        (memory as f64 - engine_memory as f64).abs() <= 0.05 * engine_memory as f64,
        "doctor {memory} B vs the engine's {engine_memory} B"
    );
    block_written_or_said_uncounted(&snap, &c.name, written, engine_write, proc_written);
    assert!(
        rx <= engine_rx,
        "doctor's {rx} B received vs the engine's later {engine_rx} B"
    );
    let cpu = f64_of(&s["cpu_pct"]);
    assert!(
        (0.0..5.0).contains(&cpu),
        "a container of sleeping processes: {cpu}%"
    );
}

/// A 64 MiB ext4 on a loop device of its own, mounted in a temporary directory: a disk whose
/// kernel state a test may change. Dropped: unmounted, detached, and the loop device removed
/// (`LOOP_CTL_REMOVE` on /dev/loop-control, through python3 since the tests forbid `unsafe`),
/// which also drops whatever blk-throttle set up on it — a detached loop device keeps that.
struct ScratchDisk {
    dir: tempfile::TempDir,
    dev: String,
    mounted: bool,
}

impl ScratchDisk {
    fn new() -> Self {
        require("losetup", "mount");
        require("mkfs.ext4", "e2fsprogs");
        require("python3", "python3");
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("disk.img");
        std::fs::File::create(&image)
            .unwrap()
            .set_len(64 << 20)
            .unwrap();
        let dev = run("losetup", &["-f", "--show", image.to_str().unwrap()])
            .trim()
            .to_owned();
        let mut disk = ScratchDisk {
            dir,
            dev,
            mounted: false,
        };
        run("mkfs.ext4", &["-q", "-F", &disk.dev]);
        std::fs::create_dir(disk.mnt()).unwrap();
        run("mount", &[&disk.dev, disk.mnt().to_str().unwrap()]);
        disk.mounted = true;
        disk
    }

    fn mnt(&self) -> std::path::PathBuf {
        self.dir.path().join("mnt")
    }

    /// `loopN`.
    fn name(&self) -> &str {
        self.dev.trim_start_matches("/dev/")
    }
}

impl Drop for ScratchDisk {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(self.mnt()).status();
        }
        let _ = Command::new("losetup").args(["-d", &self.dev]).status();
        let Some(n) = self.name().strip_prefix("loop") else {
            return;
        };
        // The detach completes when the last opener closes: retry while the device is busy.
        let remove = format!(
            "import fcntl, os, time\n\
             fd = os.open('/dev/loop-control', os.O_RDWR)\n\
             for _ in range(50):\n\
             \x20   try:\n\
             \x20       fcntl.ioctl(fd, 0x4C81, {n}); break\n\
             \x20   except OSError:\n\
             \x20       time.sleep(0.1)\n"
        );
        let _ = Command::new("python3").args(["-c", &remove]).status();
    }
}

/// On a disk blk-throttle is set up on — here by the container's own `--device-write-bps`
/// limit, which Docker writes to its `blkio.throttle.write_bps_device` (io.max on cgroup v2) —
/// every kernel counts the container's block I/O: doctor shows the 8 MiB written there as the
/// engine does, with no `block_io_unaccounted`; and on cgroup v1, when the disk under
/// /var/lib/docker did I/O without blk-throttle set up on it, a note says the figures leave
/// that disk out.
#[test]
fn block_io_on_a_disk_the_kernel_counts_is_the_engines() {
    let _one = exclusive();
    require_docker();
    let disk = ScratchDisk::new();
    let written: u64 = 8 * 1024 * 1024;
    let c = Container::run(
        "blkcounted",
        &[
            "--device-write-bps",
            &format!("{}:1gb", disk.dev),
            "-v",
            &format!("{}:/data", disk.mnt().display()),
        ],
        &[
            "sh",
            "-c",
            "dd if=/dev/zero of=/data/f bs=1M count=8 conv=fsync 2>/dev/null; \
             echo ok > /ready; sleep 600",
        ],
    );
    let pid = c.pid();
    wait_until("the container is ready", Duration::from_secs(30), || {
        std::fs::read_to_string(format!("/proc/{pid}/root/ready")).is_ok_and(|t| t == "ok\n")
    });
    let (snap, _, _) = snapshot("1s", &[], &[]);
    let engine = engine_stats(&c.name);
    let engine_write: u64 = engine["blkio_stats"]["io_service_bytes_recursive"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["op"]
                .as_str()
                .is_some_and(|op| op.eq_ignore_ascii_case("write"))
        })
        .map(|e| e["value"].as_u64().unwrap())
        .sum();
    let s = c.find(&snap);
    eprintln!(
        "counted disk {}: doctor write {}, engine {engine_write} B, notes {}",
        disk.name(),
        s["block_write_bytes"],
        s["notes"]
    );
    assert!(
        engine_write >= written,
        "the kernel counts I/O on a disk with a throttle limit: the engine says {engine_write} B"
    );
    let write = s["block_write_bytes"]["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("a counted figure is shown: {s}"));
    assert!(
        write >= written && write <= engine_write && engine_write - write <= 1024 * 1024,
        "doctor's {write} B written vs dd's {written} and the engine's later {engine_write} B"
    );
    assert!(s["block_io_unaccounted"].is_null(), "{s}");

    if snap["containers"]["engine"]["cgroup_version"] == 1 {
        let (docker_disk, _) = support::disk_by_util_linux(std::path::Path::new("/var/lib/docker"));
        let majmin = std::fs::read_to_string(format!("/sys/block/{docker_disk}/dev")).unwrap();
        let root = std::fs::read_to_string("/sys/fs/cgroup/blkio/blkio.throttle.io_service_bytes")
            .unwrap();
        if !root
            .lines()
            .any(|l| l.starts_with(&format!("{} ", majmin.trim())))
        {
            let notes = s["notes"].as_array().unwrap();
            assert!(
                notes.iter().any(|n| {
                    let n = n.as_str().unwrap();
                    n.starts_with(&format!("block I/O counted on {} (", disk.name()))
                        && n.contains(&docker_disk)
                }),
                "a note names the counted disk and {docker_disk}, which is left out: {notes:?}"
            );
        }
    }
}
