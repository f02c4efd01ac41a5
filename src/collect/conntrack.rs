//! The connection-tracking table: `net.netfilter.nf_conntrack_count` against
//! `nf_conntrack_max`, and the per-CPU statistics of `/proc/net/stat/nf_conntrack` summed as
//! `conntrack -S` sums them. Absent when `nf_conntrack` is not loaded (no such files): nothing is
//! tracked then. The count and statistics are per network namespace.

use crate::snapshot::{Conntrack, Counter, pct};
use std::collections::BTreeMap;

const STAT: &str = "/proc/net/stat/nf_conntrack";

/// Sums the per-CPU rows of `/proc/net/stat/nf_conntrack` (a header of names, then one row of
/// hex numbers per CPU). `entries` is the same global count on every row, so it is taken once,
/// not summed (as `conntrack -S` leaves it out).
#[must_use]
pub fn parse_stat(text: &str) -> BTreeMap<String, u64> {
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return BTreeMap::new();
    };
    let names: Vec<&str> = header.split_whitespace().collect();
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for line in lines {
        for (name, value) in names.iter().zip(line.split_whitespace()) {
            let Ok(v) = u64::from_str_radix(value, 16) else {
                continue;
            };
            let e = out.entry((*name).to_owned()).or_insert(0);
            if *name == "entries" {
                *e = v;
            } else {
                *e = e.saturating_add(v);
            }
        }
    }
    out.remove("entries");
    out
}

pub struct Start(BTreeMap<String, u64>);

fn read_u64(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

pub fn begin() -> Option<Start> {
    Some(Start(parse_stat(&std::fs::read_to_string(STAT).ok()?)))
}

pub fn finish(start: Option<Start>, seconds: f64) -> Option<Conntrack> {
    let count = read_u64("/proc/sys/net/netfilter/nf_conntrack_count")?;
    let max = read_u64("/proc/sys/net/netfilter/nf_conntrack_max")?;
    let end = std::fs::read_to_string(STAT)
        .map(|t| parse_stat(&t))
        .unwrap_or_default();
    let stats = end
        .iter()
        .map(|(k, v)| {
            let c = match start.as_ref().and_then(|s| s.0.get(k)) {
                Some(a) => Counter::between(
                    i64::try_from(*a).unwrap_or(i64::MAX),
                    i64::try_from(*v).unwrap_or(i64::MAX),
                    seconds,
                ),
                None => Counter::gauge(i64::try_from(*v).unwrap_or(i64::MAX)),
            };
            (k.clone(), c)
        })
        .collect();
    Some(Conntrack {
        count,
        max,
        used_pct: pct(count as f64, max as f64),
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/proc/net/stat/nf_conntrack` of Linux 6.18 on two CPUs.
    const STAT_TEXT: &str = "\
entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart
00000021  00000000 00000000 00000000 00000035 00000000 00000000 00000000 00000000 00000002 0000000a 00000001 00000000  00000000 00000000 00000000 00000003
00000021  00000001 00000000 00000000 0000004d 00000000 00000000 00000000 00000000 00000000 00000010 00000000 00000000  00000000 00000000 00000000 00000000
";

    #[test]
    fn per_cpu_rows_are_summed() {
        let s = parse_stat(STAT_TEXT);
        assert_eq!(s["invalid"], 0x35 + 0x4d);
        assert_eq!(s["drop"], 0x1a);
        assert_eq!(s["insert_failed"], 2);
        assert_eq!(s["early_drop"], 1);
        assert_eq!(s["search_restart"], 3);
        assert!(!s.contains_key("entries"));
    }
}
