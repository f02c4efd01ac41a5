//! Whole block devices from `/proc/diskstats`, figured as `iostat -x` does, with what sysfs
//! and the mount table say each one is: its kind, the devices it sits on, its mounts.

use super::blockdev::{self, Facts};
use super::mounts::{self, Mount};
use super::{Failure, read};
use crate::snapshot::{Disk, Disks, rate, round2};
use std::collections::BTreeMap;
use std::path::Path;

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

/// What the snapshot shows about a device besides its counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    pub facts: Facts,
    pub mounts: Vec<String>,
}

/// At most this many mount points per device: a name for the reader, not an inventory.
const MOUNTS_SHOWN: usize = 5;

/// `/sys/block` entries worth measuring (their sysfs names): every whole device but the RAM
/// disks (`ram`, `zram`: memory, not storage). sysfs spells a `/` in a device name as `!`.
fn block_names(sys: &Path) -> Result<Vec<String>, Failure> {
    let block = sys.join("block");
    let dir = std::fs::read_dir(&block).map_err(|e| Failure::io("/sys/block", &e))?;
    let mut names: Vec<String> = dir
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("ram") && !n.starts_with("zram"))
        .collect();
    names.sort();
    Ok(names)
}

/// Mount points by the whole device holding them (partitions resolved), sorted, at most
/// [`MOUNTS_SHOWN`] each. Filesystems without a block device (major 0) are left out.
fn mounts_by_device(mounts: &[Mount], sys: &Path) -> BTreeMap<String, Vec<String>> {
    let mut whole: BTreeMap<(u64, u64), Option<String>> = BTreeMap::new();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in mounts.iter().filter(|m| m.major != 0) {
        let name = whole
            .entry((m.major, m.minor))
            .or_insert_with(|| blockdev::whole_name_in(m.major, m.minor, sys));
        if let Some(name) = name {
            out.entry(name.clone()).or_default().push(m.point.clone());
        }
    }
    for points in out.values_mut() {
        points.sort();
        points.dedup();
        points.truncate(MOUNTS_SHOWN);
    }
    out
}

/// Which devices the snapshot lists: those that did any I/O since boot (read at the end of
/// the window) or back a mounted filesystem, and every device some listed device sits on
/// (`under`), so a chain can always be followed to its bottom. A device of size 0 holds
/// nothing (a detached loop device, which keeps its counters; an empty drive) and is left out.
/// `facts` reads a device's sysfs facts (names here are `disks` names, `/` not `!`).
fn select(
    names: &[String],
    end: &BTreeMap<String, DiskCounters>,
    mounted: &BTreeMap<String, Vec<String>>,
    mut facts: impl FnMut(&str) -> Facts,
) -> BTreeMap<String, DeviceInfo> {
    let mut todo: Vec<String> = names
        .iter()
        .map(|n| n.replace('!', "/"))
        .filter(|n| {
            end.get(n).is_some_and(|c| c.rd_ios > 0 || c.wr_ios > 0) || mounted.contains_key(n)
        })
        .collect();
    let mut out = BTreeMap::new();
    // Each device is visited once, so a malformed sysfs with a cycle still ends.
    while let Some(name) = todo.pop() {
        if out.contains_key(&name) || !end.contains_key(&name) {
            continue;
        }
        let f = facts(&name);
        if f.size_bytes == Some(0) && !mounted.contains_key(&name) {
            continue;
        }
        todo.extend(f.under.iter().cloned());
        let mounts = mounted.get(&name).cloned().unwrap_or_default();
        out.insert(name, DeviceInfo { facts: f, mounts });
    }
    out
}

pub struct Start {
    counters: BTreeMap<String, DiskCounters>,
}

pub fn begin() -> Result<Start, Failure> {
    Ok(Start {
        counters: parse(&read("/proc/diskstats")?),
    })
}

/// The end reading, then the devices' sysfs facts: read once, after the window, only for
/// the devices listed (an unattached loop device costs one directory entry).
pub fn finish(start: Start, seconds: f64) -> Result<Disks, Failure> {
    let end = parse(&read("/proc/diskstats")?);
    let sys = Path::new("/sys");
    let names = block_names(sys)?;
    // Without the mount table or /proc/devices the devices are still measured; they lose
    // their mounts and, for a few kinds, the driver's name.
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .map(|t| mounts::parse(&t))
        .unwrap_or_default();
    let majors = std::fs::read_to_string("/proc/devices")
        .map(|t| blockdev::parse_block_majors(&t))
        .unwrap_or_default();
    let mounted = mounts_by_device(&mounts, sys);
    let devices = select(&names, &end, &mounted, |name| {
        blockdev::facts_in(sys, &name.replace('/', "!"), &majors, &mounts)
    });
    Ok(compute(&start.counters, &end, &devices, seconds))
}

/// The `iostat -x` figures of the devices in `devices` (present at both readings).
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
            let d = |f: fn(&DiskCounters) -> u64| f(y).saturating_sub(f(x));
            let per_s = |v: u64| rate(v as f64, seconds).unwrap_or(0.0);
            let await_ms =
                |ticks: u64, ios: u64| (ios > 0).then(|| round2(ticks as f64 / ios as f64));
            let (rd_ios, wr_ios) = (d(|c| c.rd_ios), d(|c| c.wr_ios));
            let f = &info.facts;
            Some(Disk {
                name: name.clone(),
                kind: f.kind.clone(),
                under: f.under.clone(),
                dm_name: f.dm_name.clone(),
                backing_file: f.backing_file.clone(),
                mounts: info.mounts.clone(),
                rotational: f.rotational,
                size_bytes: f.size_bytes,
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
                facts: Facts {
                    kind: Some("disk".into()),
                    rotational: Some(true),
                    ..Facts::default()
                },
                mounts: vec!["/".into()],
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
        assert_eq!(d.kind.as_deref(), Some("disk"));
        assert_eq!(d.mounts, vec!["/"]);
        assert!(!d.idle());
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

    /// Counters of a machine with a busy disk, a snap-style loop device that did I/O once and
    /// is mounted, an unattached loop device, one detached after use (counters kept), a freshly
    /// attached volume that is mounted but has done nothing yet, and an LVM volume on an md
    /// array that itself shows no I/O.
    const DISKSTATS: &str = "\
 254 0 vda 1000 0 8000 100 2000 0 16000 400 0 300 500 0 0 0 0
   7 0 loop0 40 0 320 8 0 0 0 0 0 4 8 0 0 0 0
   7 1 loop1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
   7 2 loop2 2311 9 74636 566 32504 16678 1487477 2782508 0 81260 2810071 0 0 0 0
 259 0 nvme1n1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 253 0 dm-0 10 0 80 1 0 0 0 0 0 1 1 0 0 0 0
   9 0 md0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
";

    #[test]
    fn every_device_that_holds_something_is_listed() {
        let end = parse(DISKSTATS);
        let names: Vec<String> = [
            "dm-0", "loop0", "loop1", "loop2", "md0", "nvme1n1", "vda", "gone",
        ]
        .map(String::from)
        .to_vec();
        let mounted = BTreeMap::from([
            ("loop0".to_owned(), vec!["/snap/core/1".to_owned()]),
            ("nvme1n1".to_owned(), vec!["/srv".to_owned()]),
        ]);
        let mut asked = Vec::new();
        let listed = select(&names, &end, &mounted, |n| {
            asked.push(n.to_owned());
            Facts {
                under: if n == "dm-0" {
                    vec!["md0".into()]
                } else {
                    vec![]
                },
                // loop2 was used, then detached: its counters stay, its size is 0.
                size_bytes: Some(if n == "loop2" { 0 } else { 1 << 30 }),
                ..Facts::default()
            }
        });
        let names: Vec<&str> = listed.keys().map(String::as_str).collect();
        // loop1: attached to nothing, never used, not mounted; loop2: detached after use;
        // `gone` is not in diskstats.
        assert_eq!(names, ["dm-0", "loop0", "md0", "nvme1n1", "vda"]);
        assert!(!asked.contains(&"loop1".to_owned()), "{asked:?}");
        assert_eq!(listed["loop0"].mounts, vec!["/snap/core/1"]);
        assert_eq!(listed["dm-0"].facts.under, vec!["md0"]);
    }

    #[test]
    fn a_cycle_in_sysfs_still_ends() {
        let end = parse(DISKSTATS);
        let names = vec!["dm-0".to_owned(), "md0".to_owned()];
        let listed = select(&names, &end, &BTreeMap::new(), |n| Facts {
            under: vec![if n == "dm-0" { "md0" } else { "dm-0" }.into()],
            ..Facts::default()
        });
        assert_eq!(listed.len(), 2);
    }

    #[test]
    fn ram_disks_are_not_storage() {
        let t = tempfile::tempdir().unwrap();
        for n in ["vda", "loop0", "ram0", "zram0", "cciss!c0d0"] {
            std::fs::create_dir_all(t.path().join("block").join(n)).unwrap();
        }
        assert_eq!(
            block_names(t.path()).unwrap(),
            ["cciss!c0d0", "loop0", "vda"]
        );
    }

    #[test]
    fn mount_points_land_on_whole_devices() {
        use std::fmt::Write as _;
        use std::os::unix::fs::symlink;
        let t = tempfile::tempdir().unwrap();
        let s = t.path();
        let sda = s.join("devices/pci0/block/sda");
        std::fs::create_dir_all(sda.join("sda1")).unwrap();
        std::fs::write(sda.join("sda1/partition"), "1\n").unwrap();
        std::fs::create_dir_all(s.join("dev/block")).unwrap();
        symlink(sda.join("sda1"), s.join("dev/block/8:1")).unwrap();
        symlink(&sda, s.join("dev/block/8:0")).unwrap();
        let mut text = String::from("20 1 0:21 / /proc rw - proc proc rw\n");
        for (i, p) in [
            "/",
            "/var/lib/docker",
            "/a",
            "/b",
            "/c",
            "/d",
            "/var/lib/docker",
        ]
        .iter()
        .enumerate()
        {
            let _ = writeln!(text, "{} 1 8:1 / {p} rw - ext4 /dev/sda1 rw", 30 + i);
        }
        text.push_str("40 1 8:0 / /whole rw - ext4 /dev/sda rw\n");
        let m = mounts_by_device(&mounts::parse(&text), s);
        assert_eq!(m.len(), 1);
        assert_eq!(m["sda"], ["/", "/a", "/b", "/c", "/d"]); // sorted, deduplicated, 5 at most
    }
}
