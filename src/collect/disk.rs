//! Whole block devices from `/proc/diskstats`, figured as `iostat -x` does.

use super::{Failure, read};
use crate::snapshot::{Disk, Disks, rate, round2};
use std::collections::BTreeMap;

/// The `/proc/diskstats` columns doctor uses (kernel Documentation/admin-guide/iostats.rst).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskCounters {
    pub rd_ios: u64,
    pub rd_merges: u64,
    pub rd_sectors: u64,
    pub rd_ticks: u64,
    pub wr_ios: u64,
    pub wr_merges: u64,
    pub wr_sectors: u64,
    pub wr_ticks: u64,
    pub in_flight: u64,
    pub io_ticks: u64,
    pub time_in_queue: u64,
}

/// Parses `/proc/diskstats` into counters by device name.
#[must_use]
pub fn parse(text: &str) -> BTreeMap<String, DiskCounters> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_ascii_whitespace().collect();
            if f.len() < 14 {
                return None;
            }
            let n = |i: usize| f[i].parse::<u64>().unwrap_or(0);
            Some((
                f[2].to_owned(),
                DiskCounters {
                    rd_ios: n(3),
                    rd_merges: n(4),
                    rd_sectors: n(5),
                    rd_ticks: n(6),
                    wr_ios: n(7),
                    wr_merges: n(8),
                    wr_sectors: n(9),
                    wr_ticks: n(10),
                    in_flight: n(11),
                    io_ticks: n(12),
                    time_in_queue: n(13),
                },
            ))
        })
        .collect()
}

/// What the window needs from sysfs about a device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    pub rotational: Option<bool>,
    pub size_bytes: Option<u64>,
}

/// Whole devices worth showing: listed in `/sys/block` (so not partitions), not a loop or ram
/// device. sysfs spells a `/` in a device name as `!`.
fn whole_devices() -> Result<BTreeMap<String, DeviceInfo>, Failure> {
    let dir = std::fs::read_dir("/sys/block").map_err(|e| Failure::io("/sys/block", &e))?;
    let mut out = BTreeMap::new();
    for entry in dir.flatten() {
        let sys_name = entry.file_name().to_string_lossy().into_owned();
        if sys_name.starts_with("loop")
            || sys_name.starts_with("ram")
            || sys_name.starts_with("zram")
        {
            continue;
        }
        let attr = |a: &str| std::fs::read_to_string(format!("/sys/block/{sys_name}/{a}")).ok();
        let info = DeviceInfo {
            rotational: attr("queue/rotational").map(|s| s.trim() == "1"),
            size_bytes: attr("size")
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map(|s| s * 512),
        };
        out.insert(sys_name.replace('!', "/"), info);
    }
    Ok(out)
}

pub struct Start {
    counters: BTreeMap<String, DiskCounters>,
    devices: BTreeMap<String, DeviceInfo>,
}

pub fn begin() -> Result<Start, Failure> {
    Ok(Start {
        counters: parse(&read("/proc/diskstats")?),
        devices: whole_devices()?,
    })
}

pub fn finish(start: Start, seconds: f64) -> Result<Disks, Failure> {
    let end = parse(&read("/proc/diskstats")?);
    Ok(compute(&start.counters, &end, &start.devices, seconds))
}

/// The `iostat -x` figures of every whole device that has done any I/O since boot.
#[must_use]
pub fn compute(
    a: &BTreeMap<String, DiskCounters>,
    b: &BTreeMap<String, DiskCounters>,
    devices: &BTreeMap<String, DeviceInfo>,
    seconds: f64,
) -> Disks {
    let window_ms = seconds * 1000.0;
    let devices = devices
        .iter()
        .filter_map(|(name, info)| {
            let (x, y) = (a.get(name)?, b.get(name)?);
            if y.rd_ios == 0 && y.wr_ios == 0 {
                return None; // never used since boot (an empty CD drive): noise in every report
            }
            let d = |f: fn(&DiskCounters) -> u64| f(y).saturating_sub(f(x));
            let per_s = |v: u64| rate(v as f64, seconds).unwrap_or(0.0);
            let await_ms =
                |ticks: u64, ios: u64| (ios > 0).then(|| round2(ticks as f64 / ios as f64));
            let (rd_ios, wr_ios) = (d(|c| c.rd_ios), d(|c| c.wr_ios));
            Some(Disk {
                name: name.clone(),
                rotational: info.rotational,
                size_bytes: info.size_bytes,
                reads_per_s: per_s(rd_ios),
                writes_per_s: per_s(wr_ios),
                read_bytes_per_s: per_s(d(|c| c.rd_sectors) * 512),
                write_bytes_per_s: per_s(d(|c| c.wr_sectors) * 512),
                read_merges_per_s: per_s(d(|c| c.rd_merges)),
                write_merges_per_s: per_s(d(|c| c.wr_merges)),
                r_await_ms: await_ms(d(|c| c.rd_ticks), rd_ios),
                w_await_ms: await_ms(d(|c| c.wr_ticks), wr_ios),
                aqu_sz: if window_ms > 0.0 {
                    round2(d(|c| c.time_in_queue) as f64 / window_ms)
                } else {
                    0.0
                },
                // io_ticks can run slightly ahead of wall time; iostat caps %util at 100 too.
                util_pct: if window_ms > 0.0 {
                    round2((d(|c| c.io_ticks) as f64 / window_ms * 100.0).min(100.0))
                } else {
                    0.0
                },
                in_flight: y.in_flight,
            })
        })
        .collect();
    Disks { devices }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iostat_formulas() {
        let a = parse(
            " 254       0 vda 1000 10 80000 500 2000 20 160000 4000 0 3000 4500 0 0 0 0 0 0\n 254       1 vda1 1 1 1 1 1 1 1 1 0 1 1\n",
        );
        let b = parse(
            " 254       0 vda 1100 20 88000 1500 2400 40 192000 8000 2 4000 9500 0 0 0 0 0 0\n",
        );
        let devices = BTreeMap::from([(
            "vda".to_owned(),
            DeviceInfo {
                rotational: Some(true),
                size_bytes: None,
            },
        )]);
        let disks = compute(&a, &b, &devices, 2.0);
        let d = &disks.devices[0];
        assert_eq!(d.reads_per_s, 50.0);
        assert_eq!(d.writes_per_s, 200.0);
        assert_eq!(d.read_bytes_per_s, 8000.0 * 512.0 / 2.0);
        assert_eq!(d.r_await_ms, Some(10.0)); // 1000 ms of reading / 100 reads
        assert_eq!(d.w_await_ms, Some(10.0));
        assert_eq!(d.aqu_sz, 2.5); // 5000 ms queued / 2000 ms window
        assert_eq!(d.util_pct, 50.0); // 1000 ms busy / 2000 ms window
        assert_eq!(d.in_flight, 2);
        assert_eq!(d.rotational, Some(true));
    }

    #[test]
    fn no_io_means_no_await_and_no_nan() {
        let a = parse(" 8 0 sda 5 0 0 0 5 0 0 0 0 0 0\n");
        let devices = BTreeMap::from([("sda".to_owned(), DeviceInfo::default())]);
        let d = &compute(&a, &a, &devices, 0.0).devices[0];
        assert_eq!(d.r_await_ms, None);
        assert_eq!(d.util_pct, 0.0);
        assert_eq!(d.reads_per_s, 0.0);
    }
}
