//! The figures `docker stats` shows, computed from the engine's stats answers exactly as the
//! docker CLI computes them, so doctor's numbers and `docker stats`' agree.
//!
//! Reference: docker/cli `cli/command/container/stats_helpers.go` — `calculateCPUPercentUnix`,
//! `calculateMemUsageUnixNoCache`, `calculateMemPercentUnixNoCache`, `calculateNetwork`,
//! `calculateBlockIO`. Pure functions over the API's JSON (bollard's models), tested on answers
//! captured from real engines.

use crate::snapshot::{pct, round2};
use bollard::models::{ContainerCpuStats, ContainerStatsResponse};

/// CPU use between two readings as a % of one core (`calculateCPUPercentUnix`):
/// `container CPU time delta / whole-system CPU time delta × online CPUs × 100`.
///
/// `system_cpu_usage` is the host's total CPU time over all CPUs, so the ratio is the container's
/// share of the machine, and multiplying by the CPU count turns it into "% of one core" (200 for
/// two busy cores). As in the CLI, a zero or negative delta shows as 0, and the CPU count falls
/// back to the length of `percpu_usage` when `online_cpus` is missing (engines before API 1.27).
/// `None` when either reading lacks the figures.
#[must_use]
pub fn cpu_pct(previous: &ContainerCpuStats, current: &ContainerCpuStats) -> Option<f64> {
    let usage = |s: &ContainerCpuStats| s.cpu_usage.as_ref()?.total_usage;
    let cpu_delta = usage(current)? as f64 - usage(previous)? as f64;
    let system_delta = current.system_cpu_usage? as f64 - previous.system_cpu_usage? as f64;
    let online = f64::from(online_cpus(current)?);
    if system_delta > 0.0 && cpu_delta > 0.0 {
        Some(round2(cpu_delta / system_delta * online * 100.0))
    } else {
        Some(0.0)
    }
}

/// `online_cpus`, or the number of per-CPU counters when the engine does not say.
#[must_use]
pub fn online_cpus(s: &ContainerCpuStats) -> Option<u32> {
    match s.online_cpus {
        Some(n) if n > 0 => Some(n),
        _ => {
            let n = s.cpu_usage.as_ref()?.percpu_usage.as_ref()?.len() as u32;
            (n > 0).then_some(n)
        }
    }
}

/// Memory in use without the page cache the kernel can drop (`calculateMemUsageUnixNoCache`):
/// `usage - total_inactive_file` on cgroup v1, `usage - inactive_file` on cgroup v2, each only
/// when smaller than `usage`; `usage` itself otherwise.
#[must_use]
pub fn memory_usage(s: &ContainerStatsResponse) -> Option<u64> {
    let mem = s.memory_stats.as_ref()?;
    let usage = mem.usage?;
    let stat = |key: &str| mem.stats.as_ref().and_then(|m| m.get(key).copied());
    if let Some(v) = stat("total_inactive_file") {
        if v < usage {
            return Some(usage - v);
        }
    }
    // Go's map lookup gives 0 for a missing key: then `usage` itself.
    let v = stat("inactive_file").unwrap_or(0);
    Some(if v < usage { usage - v } else { usage })
}

/// The limit `docker stats` divides by: the cgroup's limit, or the host's memory without one.
#[must_use]
pub fn memory_limit(s: &ContainerStatsResponse) -> Option<u64> {
    s.memory_stats.as_ref()?.limit.filter(|l| *l > 0)
}

/// `calculateMemPercentUnixNoCache`; `None` instead of the CLI's 0 when there is no limit.
#[must_use]
pub fn memory_pct(usage: u64, limit: u64) -> Option<f64> {
    pct(usage as f64, limit as f64)
}

/// Bytes received and sent, summed over every interface (`calculateNetwork`); `None` when the
/// engine lists no interface (network `none` or `host`).
#[must_use]
pub fn network(s: &ContainerStatsResponse) -> Option<(u64, u64)> {
    let nets = s.networks.as_ref().filter(|n| !n.is_empty())?;
    Some(nets.values().fold((0, 0), |(rx, tx), n| {
        (rx + n.rx_bytes.unwrap_or(0), tx + n.tx_bytes.unwrap_or(0))
    }))
}

/// Bytes read and written on block devices (`calculateBlockIO`): the `io_service_bytes_recursive`
/// entries whose op starts with `r`/`R` or `w`/`W` (cgroup v1 says `Read`, v2 `read`), summed
/// over devices; `Total`, `Sync` and the rest are left out. `None` when the engine sent no list.
#[must_use]
pub fn block_io(s: &ContainerStatsResponse) -> Option<(u64, u64)> {
    let entries = s
        .blkio_stats
        .as_ref()?
        .io_service_bytes_recursive
        .as_ref()?;
    let mut read = 0u64;
    let mut write = 0u64;
    for e in entries {
        let value = e.value.unwrap_or(0);
        match e.op.as_deref().and_then(|op| op.bytes().next()) {
            Some(b'r' | b'R') => read += value,
            Some(b'w' | b'W') => write += value,
            _ => {}
        }
    }
    Some((read, write))
}

/// Processes and threads in the container (`pids_stats.current`).
#[must_use]
pub fn pids(s: &ContainerStatsResponse) -> Option<u64> {
    s.pids_stats.as_ref()?.current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> ContainerStatsResponse {
        serde_json::from_str(text).expect("a real stats answer deserialises")
    }

    /// Two one-shot readings (`stream=false&one-shot=true`) of a container running
    /// `sh -c 'while :; do :; done'` with `--cpus 0.5`, taken 1 s apart from Docker 20.10.24 on
    /// this project's 2-CPU cgroup v1 machine.
    const V1_QUOTA_A: &str = include_str!("testdata/v1_quota_a.json");
    const V1_QUOTA_B: &str = include_str!("testdata/v1_quota_b.json");
    /// A one-shot reading of a container that read 8 MiB and wrote 16 MiB with `O_DIRECT` and
    /// wrote 24 MiB through the page cache (same engine); `docker stats --no-stream` showed
    /// `2.125MiB / 23.54GiB  0.01%  516B / 0B  8.39MB / 16.8MB  1` for it.
    const V1_IO: &str = include_str!("testdata/v1_io.json");
    /// A `stream=false` answer from an engine on a 10-CPU cgroup v2 host, as published in a
    /// public project. Two artefacts of its re-encoding by PHP are undone: `pids_stats.limit`
    /// was printed as a float and `storage_stats` as `[]`.
    const V2: &str = include_str!("testdata/v2_sample.json");

    #[test]
    fn cpu_percent_between_two_readings_is_the_clis() {
        let a = load(V1_QUOTA_A);
        let b = load(V1_QUOTA_B);
        // total_usage 1596119815 - 1076068779 = 520051036 ns of CPU;
        // system_cpu_usage 8577270000000 - 8575240000000 = 2030000000 ns over 2 CPUs:
        // 520051036 / 2030000000 × 2 × 100 = 51.2365...% — the 0.5-CPU quota.
        let pct = cpu_pct(a.cpu_stats.as_ref().unwrap(), b.cpu_stats.as_ref().unwrap());
        assert_eq!(pct, Some(51.24));
        assert_eq!(online_cpus(b.cpu_stats.as_ref().unwrap()), Some(2));
        // Readings in the wrong order: a negative delta is 0, as in the CLI.
        let back = cpu_pct(b.cpu_stats.as_ref().unwrap(), a.cpu_stats.as_ref().unwrap());
        assert_eq!(back, Some(0.0));
    }

    #[test]
    fn cpu_percent_with_no_cpu_used_is_zero_and_missing_figures_are_none() {
        let v2 = load(V2);
        // precpu and cpu total_usage are equal: an idle container.
        let pct = cpu_pct(
            v2.precpu_stats.as_ref().unwrap(),
            v2.cpu_stats.as_ref().unwrap(),
        );
        assert_eq!(pct, Some(0.0));
        assert_eq!(online_cpus(v2.cpu_stats.as_ref().unwrap()), Some(10));
        // A one-shot answer's precpu_stats has no system_cpu_usage: no figure, not 0.
        let a = load(V1_QUOTA_A);
        assert_eq!(
            cpu_pct(
                a.precpu_stats.as_ref().unwrap(),
                a.cpu_stats.as_ref().unwrap()
            ),
            None
        );
    }

    #[test]
    fn online_cpus_falls_back_to_the_per_cpu_counters() {
        let mut a = load(V1_QUOTA_A);
        let cpu = a.cpu_stats.as_mut().unwrap();
        cpu.online_cpus = None;
        // This reading lists two per-CPU counters.
        assert_eq!(online_cpus(cpu), Some(2));
    }

    #[test]
    fn memory_without_cache_cgroup_v1() {
        let io = load(V1_IO);
        // usage 26345472 - total_inactive_file 24117248 = 2228224 = 2.125 MiB, what
        // `docker stats` printed; limit 25276502016 = 23.54 GiB (the host's memory).
        assert_eq!(memory_usage(&io), Some(2_228_224));
        assert_eq!(memory_limit(&io), Some(25_276_502_016));
        assert_eq!(memory_pct(2_228_224, 25_276_502_016), Some(0.01));
    }

    #[test]
    fn memory_without_cache_cgroup_v2() {
        let v2 = load(V2);
        // usage 50634752 - inactive_file 57344 (no total_* keys on v2).
        assert_eq!(memory_usage(&v2), Some(50_577_408));
        assert_eq!(memory_pct(50_577_408, 8_221_937_664), Some(0.62));
    }

    #[test]
    fn memory_keeps_usage_when_the_cache_figure_is_not_smaller() {
        // The CLI subtracts only a smaller figure; a v1 answer edited so that
        // total_inactive_file exceeds usage falls through to inactive_file, then to usage.
        let mut io = load(V1_IO);
        let stats = io.memory_stats.as_mut().unwrap().stats.as_mut().unwrap();
        stats.insert("total_inactive_file".into(), 99_999_999_999);
        assert_eq!(memory_usage(&io), Some(26_345_472 - 24_117_248));
        let stats = io.memory_stats.as_mut().unwrap().stats.as_mut().unwrap();
        stats.insert("inactive_file".into(), 99_999_999_999);
        assert_eq!(memory_usage(&io), Some(26_345_472));
        assert_eq!(memory_pct(1, 0), None);
    }

    #[test]
    fn network_and_block_io_as_docker_stats_shows_them() {
        let io = load(V1_IO);
        assert_eq!(network(&io), Some((516, 0)));
        // Read 8388608 and Write 16777216 on 254:0; Sync/Async/Total are not added.
        assert_eq!(block_io(&io), Some((8_388_608, 16_777_216)));
        assert_eq!(pids(&io), Some(1));
        let v2 = load(V2);
        // cgroup v2 spells the ops in lower case.
        assert_eq!(block_io(&v2), Some((24_576, 139_264)));
        assert_eq!(network(&v2), Some((30_396, 5_024)));
        assert_eq!(pids(&v2), Some(11));
        // The quota container did no I/O: an empty list is zero, not unknown.
        assert_eq!(block_io(&load(V1_QUOTA_B)), Some((0, 0)));
    }

    #[test]
    fn no_interfaces_is_unknown_not_zero() {
        let mut io = load(V1_IO);
        io.networks = None;
        assert_eq!(network(&io), None);
        io.blkio_stats = None;
        assert_eq!(block_io(&io), None);
    }
}
