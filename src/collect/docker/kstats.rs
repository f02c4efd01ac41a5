//! A container's `docker stats` figures read straight from the kernel, without asking the engine.
//!
//! Why: Engine 20.10 answers stats requests in rounds followed by a 1 s sleep (moby
//! `daemon/stats/collector.go`, `Collector.Run`), so reading two or more containers costs up to a
//! second at each end of the window, where one container costs milliseconds. The engine itself
//! only reads files on this host: the container's cgroup (through containerd's cgroups library),
//! `/proc/stat`, `/proc/meminfo` and the interfaces of the container's network namespace. When
//! doctor runs as root beside the engine it reads the same files and builds the same
//! [`ContainerStatsResponse`], so [`super::stats`] (the docker CLI's formulas) stays the one place
//! that turns answers into figures, whichever the source.
//!
//! What the engine puts in each field, and where doctor reads it:
//! - `cpu_stats.cpu_usage.total_usage` (ns): v1 `cpuacct.usage`; v2 `cpu.stat` `usage_usec` × 1000
//!   (moby `daemon/stats_unix.go` `statsV1`/`statsV2`, fed by containerd's cgroups library).
//! - `cpu_stats.system_cpu_usage`: the first line of `/proc/stat`, the first 7 fields summed, times
//!   1e9 / 100 clock ticks (moby `daemon/stats/collector_unix.go` `getSystemCPUUsage`,
//!   `cpuNanoSeconds`; the tick rate is hard-coded to 100 there).
//! - `cpu_stats.online_cpus`: the CPUs in the reading process's affinity mask
//!   (`collector_unix.go` `getNumberOnlineCPUs`: `unix.SchedGetaffinity(0)` then `Count()`).
//! - `memory_stats.usage`/`limit`/`stats`: v1 `memory.usage_in_bytes`, `memory.limit_in_bytes`,
//!   `memory.stat`; v2 `memory.current`, `memory.max`, `memory.stat`; a limit above the host's
//!   `MemTotal` (no limit) becomes `MemTotal` (`stats_unix.go`: "if the container does not set
//!   memory limit, use the machineMemory").
//! - `blkio_stats.io_service_bytes_recursive`: v1 `MAJ:MIN Op N` lines of the file containerd
//!   would pick ([`blkio_v1_entries`]), the `Total` lines left out (containerd cgroups `blkio.go`
//!   `readEntry`); v2 `io.stat` `rbytes`/`wbytes` as ops `read`/`write` (`stats_unix.go`
//!   `statsV2`).
//! - `pids_stats.current`: `pids.current`.
//! - `networks`: the interfaces of the container's sandbox, i.e. of its namespace without `lo`
//!   (moby `daemon/stats_unix.go` `getNetworkStats`, libnetwork `Sandbox.Statistics`); here from
//!   `/proc/<pid>/net/dev`. A namespace with only `lo` (`--network none`) and the host's
//!   namespace (`--network host`, whose sandbox has no interfaces of its own) give none.
//!
//! References for the files: the kernel's `Documentation/admin-guide/cgroup-v1/{cpuacct,memory,
//! blkio-controller,pids}.rst`, `Documentation/admin-guide/cgroup-v2.rst`, proc(5) (`/proc/stat`,
//! `/proc/meminfo`, `/proc/<pid>/net/dev`).

use super::cgroup::{self, Mount, read};
use crate::collect::parse::{self, flat_keyed};
use bollard::models::{
    ContainerBlkioStatEntry, ContainerBlkioStats, ContainerCpuStats, ContainerCpuUsage,
    ContainerMemoryStats, ContainerNetworkStats, ContainerPidsStats, ContainerStatsResponse,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Clock ticks per second as moby hard-codes it (`collector_unix.go` `clockTicksPerSecond`:
/// `sysconf(_SC_CLK_TCK)` is 100 on Linux).
const CLOCK_TICKS: u64 = 100;
const NS_PER_TICK: u64 = 1_000_000_000 / CLOCK_TICKS;

/// What every container's reading needs from the host, read once per end of the window.
#[derive(Debug, Clone)]
pub struct Host {
    pub mounts: Vec<Mount>,
    /// doctor's own network namespace: a container in it shares the host's (`--network host`).
    pub own_namespace: u64,
    /// `MemTotal` in bytes, the limit the engine reports for a container without one.
    pub mem_total: u64,
    pub online_cpus: u32,
}

impl Host {
    /// Reads the host's facts; the error says which one is missing.
    pub fn read(mounts: Vec<Mount>, own_namespace: u64) -> Result<Host, String> {
        let mem_total = parse::meminfo(&read("/proc/meminfo")?)
            .get("MemTotal")
            .copied()
            .ok_or("/proc/meminfo has no MemTotal line".to_owned())?;
        Ok(Host {
            mounts,
            own_namespace,
            mem_total,
            online_cpus: online_cpus()?,
        })
    }
}

/// The CPUs this process may run on, as the engine counts them for `online_cpus`.
fn online_cpus() -> Result<u32, String> {
    use nix::sched::{CpuSet, sched_getaffinity};
    let set = sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .map_err(|e| format!("sched_getaffinity: {e}"))?;
    let n = (0..CpuSet::count())
        .filter(|&i| set.is_set(i).unwrap_or(false))
        .count();
    u32::try_from(n)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("sched_getaffinity gave {n} CPUs"))
}

/// The stats files of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Files {
    V1 {
        cpuacct: PathBuf,
        memory: PathBuf,
        blkio: PathBuf,
        pids: PathBuf,
    },
    V2(PathBuf),
}

/// Where the stats files of the process with `/proc/<pid>/cgroup` text `proc_cgroup` are, checking
/// that they are container `id`'s (its full id names its cgroup under both of Docker's cgroup
/// drivers: `/docker/<id>` and `docker-<id>.scope`), so a pid from an engine on another host
/// (a forwarded socket) is never read as this host's process.
pub fn locate(proc_cgroup: &str, mounts: &[Mount], id: &str) -> Result<Files, String> {
    let dirs = cgroup::locate_or_why(proc_cgroup, mounts)?;
    let files = if dirs.version == 1 {
        let dir = |c: &str| {
            cgroup::v1_dir(proc_cgroup, mounts, c)
                .ok_or_else(|| format!("no mounted v1 `{c}` controller for it"))
        };
        Files::V1 {
            cpuacct: dir("cpuacct")?,
            memory: dir("memory")?,
            blkio: dir("blkio")?,
            pids: dir("pids")?,
        }
    } else {
        Files::V2(dirs.cpu)
    };
    let named = match &files {
        Files::V1 { memory, .. } => memory,
        Files::V2(dir) => dir,
    };
    if id.len() < 12 || !named.to_string_lossy().contains(id) {
        return Err(format!(
            "its cgroup {} is not named after container {id}",
            named.display()
        ));
    }
    Ok(files)
}

/// Reads the stats of the container `id` whose main process is `pid`, as the engine would answer
/// them. Any missing or unreadable file is an error (the caller then asks the engine).
pub fn read_stats(host: &Host, pid: i32, id: &str) -> Result<ContainerStatsResponse, String> {
    let proc_cgroup = read(format!("/proc/{pid}/cgroup"))?;
    let files = locate(&proc_cgroup, &host.mounts, id)?;
    let (total_usage, memory, blkio, pids) = match &files {
        Files::V1 {
            cpuacct,
            memory,
            blkio,
            pids,
        } => {
            let total_usage = single(&cpuacct.join("cpuacct.usage"))?;
            let usage = single(&memory.join("memory.usage_in_bytes"))?;
            let limit = limit(&read(memory.join("memory.limit_in_bytes"))?)?;
            let stat = flat_keyed(&read(memory.join("memory.stat"))?);
            let io = blkio_v1_entries(blkio)?;
            let pids = single(&pids.join("pids.current"))?;
            (total_usage, (usage, limit, stat), io, pids)
        }
        Files::V2(dir) => {
            let cpu_stat = read(dir.join("cpu.stat"))?;
            let total_usage = usage_usec_ns(&cpu_stat)
                .ok_or_else(|| format!("{} has no usage_usec", dir.join("cpu.stat").display()))?;
            let usage = single(&dir.join("memory.current"))?;
            let limit = limit(&read(dir.join("memory.max"))?)?;
            let stat = flat_keyed(&read(dir.join("memory.stat"))?);
            let io = io_stat_v2(&read(dir.join("io.stat"))?)?;
            let pids = single(&dir.join("pids.current"))?;
            (total_usage, (usage, limit, stat), io, pids)
        }
    };
    // Sampled right after the container's own figures, as the engine does.
    let system = system_cpu_ns(&read("/proc/stat")?)?;
    let networks = if super::netns::namespace(pid)? == host.own_namespace {
        None
    } else {
        let dev = read(format!("/proc/{pid}/net/dev"))?;
        Some(net_dev(&dev)?).filter(|n| !n.is_empty())
    };
    let (usage, limit, stat) = memory;
    Ok(ContainerStatsResponse {
        cpu_stats: Some(ContainerCpuStats {
            cpu_usage: Some(ContainerCpuUsage {
                total_usage: Some(total_usage),
                ..ContainerCpuUsage::default()
            }),
            system_cpu_usage: Some(system),
            online_cpus: Some(host.online_cpus),
            throttling_data: None,
        }),
        memory_stats: Some(ContainerMemoryStats {
            usage: Some(usage),
            limit: Some(engine_limit(limit, host.mem_total)),
            stats: Some(stat),
            ..ContainerMemoryStats::default()
        }),
        networks,
        pids_stats: Some(ContainerPidsStats {
            current: Some(pids),
            limit: None,
        }),
        blkio_stats: Some(ContainerBlkioStats {
            io_service_bytes_recursive: Some(blkio),
            ..ContainerBlkioStats::default()
        }),
        ..ContainerStatsResponse::default()
    })
}

/// A file holding one number (`cpuacct.usage`, `memory.current`, `pids.current`, ...).
fn single(path: &Path) -> Result<u64, String> {
    let text = read(path)?;
    text.trim()
        .parse()
        .map_err(|_| format!("{} holds {:?}, not a number", path.display(), text.trim()))
}

/// The host's CPU time in ns as the engine computes `system_cpu_usage`: the first 7 fields of
/// the `cpu` line (user nice system idle iowait irq softirq) in clock ticks, times 1e9 / 100.
/// Wrapping like Go's `uint64` (only deltas are used).
pub fn system_cpu_ns(proc_stat: &str) -> Result<u64, String> {
    let line = proc_stat
        .lines()
        .find(|l| l.split_ascii_whitespace().next() == Some("cpu"))
        .ok_or("/proc/stat has no `cpu` line")?;
    let fields: Vec<&str> = line.split_ascii_whitespace().skip(1).take(7).collect();
    if fields.len() < 7 {
        return Err(format!(
            "/proc/stat's cpu line has {} fields, not 7",
            fields.len()
        ));
    }
    let mut ticks = 0u64;
    for f in fields {
        let v: u64 = f
            .parse()
            .map_err(|_| format!("/proc/stat's cpu line has {f:?}, not a number"))?;
        ticks = ticks.wrapping_add(v);
    }
    Ok(ticks.wrapping_mul(NS_PER_TICK))
}

/// A memory limit file: v2 `max` is no limit (`u64::MAX`, as containerd reports it), v1 gives
/// a number (`PAGE_COUNTER_MAX` rounded to pages when there is none).
pub fn limit(text: &str) -> Result<u64, String> {
    match text.trim() {
        "max" => Ok(u64::MAX),
        t => t
            .parse()
            .map_err(|_| format!("memory limit {t:?} is not a number")),
    }
}

/// The limit the engine reports: the host's memory when the cgroup's is above it.
#[must_use]
pub fn engine_limit(limit: u64, mem_total: u64) -> u64 {
    if limit > mem_total && mem_total > 0 {
        mem_total
    } else {
        limit
    }
}

/// v2 `cpu.stat` `usage_usec` in ns.
#[must_use]
pub fn usage_usec_ns(cpu_stat: &str) -> Option<u64> {
    flat_keyed::<u64, HashMap<_, _>>(cpu_stat)
        .get("usage_usec")
        .map(|us| us.saturating_mul(1000))
}

fn entry(major: u64, minor: u64, op: &str, value: u64) -> ContainerBlkioStatEntry {
    ContainerBlkioStatEntry {
        major: Some(major),
        minor: Some(minor),
        op: Some(op.to_owned()),
        value: Some(value),
    }
}

/// `MAJ:MIN` → (major, minor).
fn device(text: &str) -> Option<(u64, u64)> {
    let (major, minor) = text.split_once(':')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The v1 bytes per device and op, from the file the engine would use. containerd's order
/// (cgroups v1 `blkio.go`, `blkioController.Stat`): the CFQ scheduler's
/// `blkio.io_service_bytes_recursive` when the kernel has CFQ (before 5.0) and it lists
/// something; otherwise the throttle layer's counters, which every kernel keeps. Of those doctor
/// reads `blkio.throttle.io_service_bytes_recursive`, or `blkio.throttle.io_service_bytes` where
/// it is missing (containerd reads the latter; a container's cgroup has no children, so the two
/// are equal).
fn blkio_v1_entries(dir: &Path) -> Result<Vec<ContainerBlkioStatEntry>, String> {
    if let Ok(text) = std::fs::read_to_string(dir.join("blkio.io_service_bytes_recursive")) {
        let cfq = blkio_v1(&text)?;
        if !cfq.is_empty() {
            return Ok(cfq);
        }
    }
    let text = match read(dir.join("blkio.throttle.io_service_bytes_recursive")) {
        Ok(t) => t,
        Err(_) => read(dir.join("blkio.throttle.io_service_bytes"))?,
    };
    blkio_v1(&text)
}

/// v1 `blkio.throttle.io_service_bytes[_recursive]`: `MAJ:MIN Op N` lines and a final
/// `Total N`, which is left out as containerd's `readEntry` does.
pub fn blkio_v1(text: &str) -> Result<Vec<ContainerBlkioStatEntry>, String> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_ascii_whitespace().collect();
        let parsed = match f.as_slice() {
            ["Total", _] => continue,
            [dev, op, value] => device(dev)
                .zip(value.parse().ok())
                .map(|(d, v)| (d, *op, v)),
            _ => None,
        };
        let ((major, minor), op, value) =
            parsed.ok_or_else(|| format!("unexpected blkio line {line:?}"))?;
        out.push(entry(major, minor, op, value));
    }
    Ok(out)
}

/// v2 `io.stat`: `MAJ:MIN rbytes=N wbytes=N ...` lines → a `read` and a `write` entry per device,
/// as the engine builds them (`statsV2`).
pub fn io_stat_v2(text: &str) -> Result<Vec<ContainerBlkioStatEntry>, String> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut f = line.split_ascii_whitespace();
        let (major, minor) = f
            .next()
            .and_then(device)
            .ok_or_else(|| format!("unexpected io.stat line {line:?}"))?;
        let keys: HashMap<&str, u64> = f
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                Some((k, v.parse().ok()?))
            })
            .collect();
        let get = |k: &str| keys.get(k).copied().unwrap_or(0);
        out.push(entry(major, minor, "read", get("rbytes")));
        out.push(entry(major, minor, "write", get("wbytes")));
    }
    Ok(out)
}

/// `/proc/<pid>/net/dev`: the interfaces of the namespace but `lo`, with the fields the engine
/// reports (receive: bytes packets errs drop, then transmit from the 9th number on).
pub fn net_dev(text: &str) -> Result<HashMap<String, ContainerNetworkStats>, String> {
    let mut out = HashMap::new();
    // Two header lines, then `name: 16 numbers`.
    for line in text.lines().skip(2).filter(|l| !l.trim().is_empty()) {
        let (name, rest) = line
            .split_once(':')
            .ok_or_else(|| format!("unexpected net/dev line {line:?}"))?;
        let name = name.trim();
        if name == "lo" {
            continue;
        }
        let n: Vec<u64> = rest
            .split_ascii_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| format!("unexpected net/dev line {line:?}"))?;
        if n.len() < 12 {
            return Err(format!("net/dev line with {} numbers: {line:?}", n.len()));
        }
        out.insert(
            name.to_owned(),
            ContainerNetworkStats {
                rx_bytes: Some(n[0]),
                rx_packets: Some(n[1]),
                rx_errors: Some(n[2]),
                rx_dropped: Some(n[3]),
                tx_bytes: Some(n[8]),
                tx_packets: Some(n[9]),
                tx_errors: Some(n[10]),
                tx_dropped: Some(n[11]),
                ..ContainerNetworkStats::default()
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::stats;
    use super::*;

    // cgroup v1 texts captured on this project's machine (Debian 12, Docker 20.10.24, cgroup v1
    // hybrid) from container `c3ad9c745ff4…` (the busybox test image on the default bridge,
    // after `dd if=/dev/zero of=/f bs=1M count=8 conv=fsync`); at the same moment
    // `docker stats --no-stream` printed
    // `MemUsage 1004KiB / 23.54GiB  NetIO 736B / 0B  BlockIO 209kB / 8.4MB  PIDs 1`.
    const V1_MOUNTINFO: &str = include_str!("testdata/kstats_v1/mountinfo");
    const V1_PROC_CGROUP: &str = include_str!("testdata/kstats_v1/proc_cgroup");
    const V1_MEMORY_STAT: &str = include_str!("testdata/kstats_v1/memory.stat");
    const V1_BLKIO: &str =
        include_str!("testdata/kstats_v1/blkio.throttle.io_service_bytes_recursive");
    const V1_NET_DEV: &str = include_str!("testdata/kstats_v1/net_dev");
    const V1_PROC_STAT: &str = include_str!("testdata/kstats_v1/proc_stat");
    const V1_ID: &str = "c3ad9c745ff4facf6713f493ed471cfbc45d71c300be01aadafe9fd78bd94c6d";
    /// `memory.usage_in_bytes` at that moment.
    const V1_USAGE: u64 = 9_461_760;

    // cgroup v2 texts from the kernel's Documentation/admin-guide/cgroup-v2.rst: the `io.stat`
    // example is the document's own; `cpu.stat` and `memory.stat` are written in the documented
    // flat-keyed format with the documented keys (the document lists the keys without values,
    // so the values here are ours); `memory.max` is its documented default. Not captured from a
    // v2 host: this project's machine is cgroup v1.
    const V2_IO_STAT: &str = "8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n\
                              8:0 rbytes=90430464 wbytes=299008000 rios=8950 wios=1252 dbytes=50331648 dios=3021\n";
    const V2_CPU_STAT: &str = "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\n\
                               nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n";
    const V2_MEMORY_STAT: &str = "anon 1048576\nfile 8388608\nkernel_stack 16384\n\
                                  inactive_anon 0\nactive_anon 1048576\n\
                                  inactive_file 8126464\nactive_file 262144\n";

    #[test]
    fn v1_files_of_a_container_on_this_machine() {
        let m = cgroup::mounts(V1_MOUNTINFO);
        let files = locate(V1_PROC_CGROUP, &m, V1_ID).unwrap();
        let dir = |c: &str| PathBuf::from(format!("/sys/fs/cgroup/{c}/docker/{V1_ID}"));
        assert_eq!(
            files,
            Files::V1 {
                cpuacct: dir("cpuacct"),
                memory: dir("memory"),
                blkio: dir("blkio"),
                pids: dir("pids"),
            }
        );
        // Another container's id: the pid is not that container's.
        let err = locate(V1_PROC_CGROUP, &m, "65d5cf20ed7d0000").unwrap_err();
        assert!(err.contains("not named after"), "{err}");
        // No mounts seen (another host's pid, or no /sys/fs/cgroup in doctor's namespace).
        assert!(locate(V1_PROC_CGROUP, &[], V1_ID).is_err());
    }

    /// The captured texts built into an answer give what `docker stats` printed.
    #[test]
    fn v1_texts_give_docker_stats_figures() {
        let stat: HashMap<String, u64> = flat_keyed(V1_MEMORY_STAT);
        assert_eq!(stat.get("total_inactive_file"), Some(&8_433_664));
        assert_eq!(
            stat.get("hierarchical_memory_limit"),
            Some(&9_223_372_036_854_771_712)
        );
        let limit = limit("9223372036854771712\n").unwrap();
        // This machine's MemTotal, 24684084 kB: the 23.54GiB docker stats divides by.
        let mem_total = parse::meminfo("MemTotal:       24684084 kB\nMemFree: 1 kB\n")["MemTotal"];
        assert_eq!(engine_limit(limit, mem_total), 25_276_502_016);
        assert_eq!(engine_limit(32 << 20, mem_total), 32 << 20);

        let blkio = blkio_v1(V1_BLKIO).unwrap();
        assert_eq!(
            blkio.len(),
            6,
            "the device's 6 ops, not the last `Total` line"
        );
        let networks = net_dev(V1_NET_DEV).unwrap();
        assert_eq!(networks.len(), 1, "eth0 without lo: {networks:?}");
        let eth0 = &networks["eth0"];
        assert_eq!((eth0.rx_bytes, eth0.rx_packets), (Some(806), Some(9)));
        assert_eq!((eth0.tx_bytes, eth0.tx_packets), (Some(0), Some(0)));

        let answer = ContainerStatsResponse {
            memory_stats: Some(ContainerMemoryStats {
                usage: Some(V1_USAGE),
                limit: Some(engine_limit(limit, mem_total)),
                stats: Some(stat),
                ..ContainerMemoryStats::default()
            }),
            networks: Some(networks),
            blkio_stats: Some(ContainerBlkioStats {
                io_service_bytes_recursive: Some(blkio),
                ..ContainerBlkioStats::default()
            }),
            ..ContainerStatsResponse::default()
        };
        // 9461760 - 8433664 = 1028096 B = 1004 KiB.
        assert_eq!(stats::memory_usage(&answer), Some(1_028_096));
        // Read 208896 B ≈ 209 kB, Write 8400896 B ≈ 8.4 MB (≥ the 8 MiB dd wrote).
        assert_eq!(stats::block_io(&answer), Some((208_896, 8_400_896)));
        // net/dev was captured a few seconds after docker stats printed 736 B (the bridge's
        // multicast keeps arriving): the same interface, a later reading, so larger.
        assert_eq!(stats::network(&answer), Some((806, 0)));
    }

    #[test]
    fn system_cpu_usage_is_the_engines() {
        // cpu  1530218 0 231171 1511628 19730 0 4153 (549 steal left out, as in moby)
        let ticks = 1_530_218 + 231_171 + 1_511_628 + 19_730 + 4_153;
        assert_eq!(system_cpu_ns(V1_PROC_STAT), Ok(ticks * 10_000_000));
        assert!(system_cpu_ns("cpu  1 2 3\n").unwrap_err().contains("not 7"));
        assert!(
            system_cpu_ns("intr 1\n")
                .unwrap_err()
                .contains("no `cpu` line")
        );
        assert!(
            system_cpu_ns("cpu  1 2 3 x 5 6 7\n")
                .unwrap_err()
                .contains("\"x\"")
        );
    }

    #[test]
    fn v2_texts_from_the_kernel_documentation() {
        let io = io_stat_v2(V2_IO_STAT).unwrap();
        assert_eq!(io.len(), 4);
        assert_eq!(io[0], entry(8, 16, "read", 1_459_200));
        assert_eq!(io[3], entry(8, 0, "write", 299_008_000));
        let answer = ContainerStatsResponse {
            blkio_stats: Some(ContainerBlkioStats {
                io_service_bytes_recursive: Some(io),
                ..ContainerBlkioStats::default()
            }),
            memory_stats: Some(ContainerMemoryStats {
                usage: Some(9_437_184),
                limit: Some(engine_limit(limit("max\n").unwrap(), 25_276_502_016)),
                stats: Some(flat_keyed(V2_MEMORY_STAT)),
                ..ContainerMemoryStats::default()
            }),
            ..ContainerStatsResponse::default()
        };
        assert_eq!(
            stats::block_io(&answer),
            Some((1_459_200 + 90_430_464, 314_773_504 + 299_008_000))
        );
        // No total_* keys on v2: usage - inactive_file.
        assert_eq!(stats::memory_usage(&answer), Some(9_437_184 - 8_126_464));
        assert_eq!(stats::memory_limit(&answer), Some(25_276_502_016));
        assert_eq!(usage_usec_ns(V2_CPU_STAT), Some(1_234_567_000));
        assert_eq!(usage_usec_ns("user_usec 1\n"), None);
        assert_eq!(limit("536870912\n"), Ok(536_870_912));
    }

    #[test]
    fn bad_lines_are_errors_naming_the_line() {
        assert!(blkio_v1("254:0 Read\n").unwrap_err().contains("254:0 Read"));
        assert!(blkio_v1("x:0 Read 1\n").is_err());
        assert_eq!(blkio_v1("").unwrap(), vec![]);
        assert!(io_stat_v2("rbytes=1\n").is_err());
        assert!(
            net_dev("h\nh\n  eth0: 1 2 3\n")
                .unwrap_err()
                .contains("3 numbers")
        );
        assert!(net_dev("h\nh\n  eth0 1 2\n").is_err());
        assert!(limit("lots").unwrap_err().contains("lots"));
        // `--network none`: only lo, so no interfaces at all (the engine's `networks` is absent).
        let none = "h\nh\n    lo: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        assert!(net_dev(none).unwrap().is_empty());
    }
}
