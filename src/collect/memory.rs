//! Memory, swap and page-fault rates from `/proc/meminfo` and `/proc/vmstat`.

use super::{Failure, parse, read};
use crate::snapshot::{Counter, Memory, pct};
use std::collections::BTreeMap;

/// The `/proc/vmstat` counters kept in the snapshot. `oom_kill` exists since Linux 4.13.
const VMSTAT_KEYS: &[&str] = &[
    "pgfault",
    "pgmajfault",
    "pswpin",
    "pswpout",
    "pgpgin",
    "pgpgout",
    "oom_kill",
    "allocstall_normal",
    "pgscan_direct",
];

pub struct Start(BTreeMap<String, i64>);

pub fn begin() -> Result<Start, Failure> {
    Ok(Start(parse::flat_keyed(&read("/proc/vmstat")?)))
}

pub fn finish(start: Start, seconds: f64) -> Result<Memory, Failure> {
    let end = parse::flat_keyed(&read("/proc/vmstat")?);
    let meminfo = parse::meminfo(&read("/proc/meminfo")?);
    compute(&meminfo, &start.0, &end, procfs::page_size(), seconds)
}

pub fn compute(
    meminfo: &BTreeMap<String, u64>,
    a: &BTreeMap<String, i64>,
    b: &BTreeMap<String, i64>,
    page_size: u64,
    seconds: f64,
) -> Result<Memory, Failure> {
    let get = |k: &str| meminfo.get(k).copied();
    let total =
        get("MemTotal").ok_or_else(|| Failure::Error("/proc/meminfo has no MemTotal".into()))?;
    let free = get("MemFree").unwrap_or(0);
    // MemAvailable exists since Linux 3.14; before that, free + cache is the usual estimate.
    let available = get("MemAvailable")
        .unwrap_or_else(|| free + get("Cached").unwrap_or(0) + get("Buffers").unwrap_or(0));
    let swap_total = get("SwapTotal").unwrap_or(0);
    let counters: BTreeMap<String, Counter> = VMSTAT_KEYS
        .iter()
        .filter_map(|k| {
            let end = *b.get(*k)?;
            Some((
                (*k).to_owned(),
                a.get(*k)
                    .map_or(Counter::gauge(end), |s| Counter::between(*s, end, seconds)),
            ))
        })
        .collect();
    let per_s = |k: &str| counters.get(k).and_then(|c| c.per_s);
    Ok(Memory {
        total_bytes: Some(total),
        available_bytes: Some(available),
        available_pct: Some(pct(available as f64, total as f64).unwrap_or(0.0)),
        free_bytes: Some(free),
        cached_bytes: Some(get("Cached").unwrap_or(0)),
        buffers_bytes: Some(get("Buffers").unwrap_or(0)),
        dirty_bytes: Some(get("Dirty").unwrap_or(0)),
        swap_total_bytes: Some(swap_total),
        swap_used_bytes: Some(swap_total.saturating_sub(get("SwapFree").unwrap_or(swap_total))),
        swap_in_pages_per_s: per_s("pswpin"),
        swap_out_pages_per_s: per_s("pswpout"),
        major_faults_per_s: per_s("pgmajfault"),
        page_size_bytes: Some(page_size),
        counters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swap_and_fault_rates() {
        let meminfo = parse::meminfo(
            "MemTotal: 4000 kB\nMemFree: 100 kB\nMemAvailable: 1000 kB\nSwapTotal: 2000 kB\nSwapFree: 500 kB\n",
        );
        let a = parse::flat_keyed("pswpin 10\npswpout 0\npgmajfault 100\n");
        let b = parse::flat_keyed("pswpin 60\npswpout 20\npgmajfault 600\noom_kill 1\n");
        let m = compute(&meminfo, &a, &b, 4096, 5.0).unwrap();
        assert_eq!(m.available_pct, Some(25.0));
        assert_eq!(m.swap_used_bytes, Some(1500 * 1024));
        assert_eq!(m.swap_in_pages_per_s, Some(10.0));
        assert_eq!(m.swap_out_pages_per_s, Some(4.0));
        assert_eq!(m.major_faults_per_s, Some(100.0));
        // Appeared during the window: known at the end, no rate.
        assert_eq!(m.counters["oom_kill"], Counter::gauge(1));
        assert!(!m.counters.contains_key("pgfault"));
    }
}
