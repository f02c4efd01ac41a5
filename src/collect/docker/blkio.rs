//! Whether the kernel counts a container's block I/O at all, on cgroup v1 — so that a 0 that
//! means "not counted" is never shown as an idle container.
//!
//! On cgroup v1 the only per-cgroup byte counters a current kernel keeps are blk-throttle's
//! `blkio.throttle.io_service_bytes[_recursive]` (CFQ's `blkio.io_service_bytes` left with CFQ in
//! Linux 5.0, commit f382fb0bcef4 "block: remove legacy IO schedulers"). They are what the engine
//! reports as `docker stats`' BLOCK I/O, and what they count changed twice:
//!
//! - up to 5.15: every bio submitted in the cgroup's context, on every disk (blk-throttle was set
//!   up on each disk when it was registered), limit or not.
//! - 5.16 to 6.4: at most the bios of cgroups with a throttle limit on the device (their own or
//!   an ancestor's): a7b36ee6ba29 "block: move blk-throtl fast path inline" returns before the
//!   accounting for groups without one. ad7c3b41e86b "blk-throttle: Fix io statistics for cgroup
//!   v1" (6.5; backported to 6.1.39) counts every bio again: "the current code only counts the
//!   bios that are actually throttled. When the user does not add the throttle limit, the io
//!   stats for cgroup v1 has nothing."
//! - 6.10 on: a3166c51702b "blk-throttle: delay initialization until configuration" sets
//!   blk-throttle up on a disk only when a throttle limit is first written for that disk, in any
//!   cgroup and of any value (`MAJ:MIN 0`, no limit, is enough); until then `blk_should_throtl()`
//!   (block/blk-throttle.h) returns before the v1 accounting, and once set up it stays until the
//!   disk is removed. On a host where nobody ever wrote a `blkio.throttle.*` limit — Docker writes
//!   none unless `--device-read-bps` and the like are given — every cgroup's counters stay 0 on
//!   every disk. (Later, "blk-throttle: fix access race during throttle policy activation" made
//!   the test `blkcg_policy_enabled()`, the same test the files are printed with; see below.)
//!
//! Whatever the version, only bios submitted by the cgroup's own tasks are charged to it: reads,
//! direct I/O and the writeback a writer starts itself (`fsync`, `O_SYNC`). Buffered writes left
//! to the kernel are written back by its flusher threads, which v1 charges to the root cgroup:
//! charging writeback to the page's owner ("cgroup writeback") needs the memory and io
//! controllers on cgroup v2 (Documentation/admin-guide/cgroup-v2.rst, "Writeback"; the OCI
//! runtime spec notes the same for v1 throttling, opencontainers/runtime-spec#1194). The
//! accounting sits in `submit_bio_noacct()`, above any request queue, so bio-based devices
//! (zram, device-mapper) are counted like request-based ones (blk-mq disks, loop).
//!
//! Seen on this project's machine (Linux 6.18, cgroup v1, Docker 20.10, ext4 on virtio `vda`
//! with mq-deadline): with no throttle limit anywhere, the root cgroup's
//! `blkio.throttle.io_service_bytes` is `Total 0` and lists no device, and a container that ran
//! `dd bs=1M count=8` with `conv=fsync`, with `oflag=direct`, or `iflag=direct` for reading, has
//! an empty counter file while its shell's `/proc/<pid>/io` says 8 MiB were written (and read).
//! After `7:0 0` was written to a scratch cgroup's `blkio.throttle.write_bps_device` for a loop
//! device, the root listed `7:0`, and on an ext4 on that loop device the same commands counted
//! exactly 8 MiB each (so did a buffered read of a file not in the page cache), while 8 MiB
//! written without `fsync` and then `sync`ed counted 9 KiB (the rest went to the root cgroup). A
//! zram disk (bio-based) behaved the same, and detaching the loop device kept blk-throttle set
//! up on it (a loop device's disk outlives its backing file). A container's own
//! `--device-write-bps /dev/loopN:1gb`, which Docker writes to its
//! `blkio.throttle.write_bps_device`, sets it up just as well (`tests/docker_stats.rs` runs both
//! cases against the engine's answer).
//!
//! How doctor decides, at the end of the window, for each container on a v1 host whose engine
//! runs on this host:
//! 1. Which disks blk-throttle is set up on: the root blkio cgroup has a blkg on every disk and
//!    `blkcg_print_blkgs()` prints only those whose queue has the throttle policy enabled, so
//!    its `blkio.throttle.io_service_bytes` lists exactly those disks (read from the real root
//!    only: doctor in the initial cgroup namespace, the hierarchy mounted from `/`). None listed
//!    while disks did I/O: nothing is counted, for any container.
//! 2. What the container's processes sent to storage: `read_bytes + write_bytes −
//!    cancelled_write_bytes` of `/proc/<pid>/io` (proc(5)) over its `cgroup.procs` (root only; a
//!    process's figure includes the children it reaped, so `sh -c 'dd …'` holds dd's). Some, and
//!    none of it in the cgroup's counters: not counted (a 5.16–6.4 kernel without the fix, a
//!    disk blk-throttle is not set up on, or only buffered writes left to the flushers).
//! 3. Counters at 0, no way to read the processes (not root), and disks with I/O that
//!    blk-throttle is not set up on: 0 cannot tell an idle container from an uncounted one.
//!
//! In those cases the figures are left out and `block_io_unaccounted` says why; counters above
//! 0 while some disks are not set up are kept with a note naming what they leave out. A
//! container whose I/O only goes to a network file system (NFS counts in `/proc/<pid>/io` but
//! is no block I/O) is also reported as not counted: absent figures, never a false 0.

use super::cgroup::{Mount, read};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A disk's `MAJ:MIN`.
pub type Dev = (u64, u64);

/// The inode of the initial cgroup namespace (`PROC_CGROUP_INIT_INO`, `include/linux/proc_ns.h`):
/// from any other, the hierarchy's root is not the host's.
const INITIAL_CGROUP_NS: u64 = 0xEFFF_FFFB;

/// The disks blk-throttle is set up on, from the root cgroup's `blkio.throttle.io_service_bytes`:
/// `MAJ:MIN Op N` lines (one per op and disk) and a final `Total N`.
pub fn throttle_devices(text: &str) -> Result<BTreeSet<Dev>, String> {
    let mut out = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut f = line.split_ascii_whitespace();
        let first = f.next().unwrap_or_default();
        if first == "Total" {
            continue;
        }
        let dev = first
            .split_once(':')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .ok_or_else(|| format!("unexpected blkio line {line:?}"))?;
        out.insert(dev);
    }
    Ok(out)
}

/// Whole disks that have done I/O since boot, from `/proc/diskstats` (major, minor, name, reads
/// completed, ..., writes completed as the 8th field; Documentation/admin-guide/iostats.rst).
/// `whole` tells disks from partitions (a partition's I/O is its disk's blkg's).
pub fn busy_disks(diskstats: &str, whole: impl Fn(&str) -> bool) -> BTreeMap<Dev, String> {
    diskstats
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_ascii_whitespace().collect();
            let n = |i: usize| f.get(i)?.parse::<u64>().ok();
            let (major, minor, name) = (n(0)?, n(1)?, *f.get(2)?);
            (whole(name) && n(3)? + n(7)? > 0).then(|| ((major, minor), name.to_owned()))
        })
        .collect()
}

/// Bytes a process sent to or fetched from storage, from `/proc/<pid>/io`: `read_bytes +
/// write_bytes − cancelled_write_bytes` (proc(5): `write_bytes` counts pages when dirtied, and a
/// file truncated before writeback cancels them).
pub fn storage_bytes(proc_io: &str) -> Option<u64> {
    let get = |key: &str| {
        proc_io.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key).then(|| v.trim().parse::<u64>().ok())?
        })
    };
    Some(get("read_bytes")? + get("write_bytes")?.saturating_sub(get("cancelled_write_bytes")?))
}

/// Which disks the kernel counts v1 block I/O on, read once at the end of the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// Disks blk-throttle is set up on, with their names.
    pub counted: BTreeMap<Dev, String>,
    /// Names of the disks that did I/O but are not counted.
    pub uncounted: Vec<String>,
}

impl Coverage {
    /// From the root cgroup's file and `/proc/diskstats`; `name` names a disk that did no I/O.
    pub fn from_texts(
        root_file: &str,
        diskstats: &str,
        whole: impl Fn(&str) -> bool,
        name: impl Fn(Dev) -> String,
    ) -> Result<Coverage, String> {
        let active = throttle_devices(root_file)?;
        let busy = busy_disks(diskstats, whole);
        let counted = active
            .iter()
            .map(|d| (*d, busy.get(d).cloned().unwrap_or_else(|| name(*d))))
            .collect();
        let uncounted = busy
            .iter()
            .filter(|(d, _)| !active.contains(d))
            .map(|(_, n)| n.clone())
            .collect();
        Ok(Coverage { counted, uncounted })
    }

    /// Reads this host's coverage; an error says why it cannot be known from here.
    pub fn read(mounts: &[Mount]) -> Result<Coverage, String> {
        let ns = std::fs::metadata("/proc/self/ns/cgroup")
            .map(|m| m.ino())
            .map_err(|e| format!("cannot read /proc/self/ns/cgroup: {e}"))?;
        if ns != INITIAL_CGROUP_NS {
            return Err("doctor runs in a cgroup namespace of its own, where the blkio hierarchy's root is not the host's".to_owned());
        }
        let mount = mounts
            .iter()
            .find(|m| !m.v2 && m.controllers.iter().any(|c| c == "blkio"))
            .ok_or("no cgroup v1 blkio hierarchy is mounted")?;
        if mount.root != "/" {
            return Err(format!(
                "the blkio hierarchy is mounted from {}, not its root",
                mount.root
            ));
        }
        let root_file = read(Path::new(&mount.point).join("blkio.throttle.io_service_bytes"))?;
        let diskstats = read("/proc/diskstats")?;
        let whole = |name: &str| {
            Path::new("/sys/block")
                .join(name.replace('/', "!"))
                .exists()
        };
        let name = |(major, minor): Dev| {
            std::fs::read_link(format!("/sys/dev/block/{major}:{minor}"))
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().replace('!', "/")))
                .unwrap_or_else(|| format!("{major}:{minor}"))
        };
        Coverage::from_texts(&root_file, &diskstats, whole, name)
    }

    fn counted_names(&self) -> String {
        self.counted
            .iter()
            .map(|((a, b), n)| format!("{n} ({a}:{b})"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The container's processes' [`storage_bytes`], summed over the `cgroup.procs` of its blkio
/// cgroup. A process that ends while being read is left out; one doctor may not read (not
/// root) makes the whole figure unknown.
pub fn processes_bytes(blkio_dir: &Path) -> Result<u64, String> {
    let procs = read(blkio_dir.join("cgroup.procs"))?;
    let mut total = 0u64;
    for pid in procs.split_ascii_whitespace() {
        let path = format!("/proc/{pid}/io");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                total += storage_bytes(&text).ok_or_else(|| format!("{path} has no read_bytes"))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {path}: {e}")),
        }
    }
    Ok(total)
}

/// What doctor concludes about one container's block I/O figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// The figures are the kernel's full count.
    Counted,
    /// Counted, but not on every disk: the note says which disks they leave out.
    Partly(String),
    /// Not counted: the figures must be left out; the reason.
    NotCounted(String),
}

/// The judgement for a container whose v1 counters add up to `counted` bytes (read and write,
/// every disk) and whose processes sent `processes` bytes to storage (`None`: unknown).
pub fn judge(coverage: &Coverage, counted: u64, processes: Option<u64>) -> Judgement {
    let uncounted = coverage.uncounted.join(", ");
    let sent = |n: u64| {
        format!(
            "its processes read or wrote {n} B of storage (/proc/<pid>/io read_bytes + write_bytes - cancelled_write_bytes)"
        )
    };
    if coverage.counted.is_empty() && !coverage.uncounted.is_empty() {
        let mut why = format!(
            "this kernel counts no block I/O in cgroup v1 counters: blk-throttle, which keeps them, \
             is set up on no disk (the root blkio cgroup's blkio.throttle.io_service_bytes lists \
             none, while {uncounted} did I/O; Linux 6.10 and later set it up on a disk only when a \
             blkio.throttle limit is written for it), so the counters read 0 whatever the container does"
        );
        if let Some(n) = processes.filter(|n| *n > 0) {
            let _ = write!(why, "; {}", sent(n));
        }
        return Judgement::NotCounted(why);
    }
    match processes {
        Some(n) if n > 0 && counted == 0 => {
            let mut why = format!(
                "{} and its cgroup v1 counters counted none of it: they count only I/O its own \
                 tasks submit (buffered writes are written back by the kernel's flusher threads and \
                 charged to the root cgroup), Linux 5.16 to 6.4 without the fix count only cgroups \
                 with a blkio.throttle limit",
                sent(n)
            );
            if !uncounted.is_empty() {
                let _ = write!(
                    why,
                    ", and blk-throttle is not set up on {uncounted} (counted: {})",
                    coverage.counted_names()
                );
            }
            Judgement::NotCounted(why)
        }
        None if counted == 0 && !uncounted.is_empty() => Judgement::NotCounted(format!(
            "blk-throttle, which keeps the cgroup v1 block I/O counters, is not set up on \
             {uncounted} (only on {}), and doctor could not read the container's /proc/<pid>/io \
             (not root): a 0 cannot tell an idle container from an uncounted one",
            coverage.counted_names()
        )),
        _ if !uncounted.is_empty() => Judgement::Partly(format!(
            "block I/O counted on {} only: the figures leave out I/O to {uncounted}, which \
             blk-throttle is not set up on",
            coverage.counted_names()
        )),
        _ => Judgement::Counted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The root blkio cgroup's `blkio.throttle.io_service_bytes` on this project's machine
    /// (Linux 6.18): with no throttle limit ever written, and right after `7:0 0` was written to
    /// a scratch cgroup's `blkio.throttle.write_bps_device`.
    const ROOT_NONE: &str = "Total 0\n";
    const ROOT_LOOP0: &str = "7:0 Read 0\n7:0 Write 0\n7:0 Sync 0\n7:0 Async 0\n7:0 Discard 0\n\
                              7:0 Total 0\nTotal 0\n";
    /// `/proc/diskstats` lines of that machine (17 fields, Linux 5.5+); loop0's counts and the
    /// partition are made up, to have a second busy disk and a partition.
    const DISKSTATS: &str = "   7       0 loop0 57 0 4696 9 25 0 16416 30 0 60 40 0 0 0 0 0 0\n\
                                7       1 loop1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n \
                             254       0 vda 411917 199796 36466634 221921 87795 312921 18593400 104620 0 34324 331330 16566 47 6776672 3615 19064 1174\n \
                             254       1 vda1 1000 0 8000 10 0 0 0 0 0 10 10 0 0 0 0 0 0\n \
                             253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
    /// The `/proc/<pid>/io` of the shell of a container that ran
    /// `dd if=/dev/zero of=/data bs=1M count=8 conv=fsync` (dd reaped by the shell), on that
    /// machine with nothing set up; its cgroup's counter file said `Total 0` and `docker stats`
    /// `0B / 0B`.
    const PROC_IO_FSYNC: &str = "rchar: 8437009\nwchar: 8396396\nsyscr: 48\nsyscw: 17\n\
                                 read_bytes: 208896\nwrite_bytes: 8404992\ncancelled_write_bytes: 0\n";

    fn whole(name: &str) -> bool {
        name != "vda1"
    }

    fn coverage(root: &str) -> Coverage {
        Coverage::from_texts(root, DISKSTATS, whole, |(a, b)| format!("{a}:{b}")).unwrap()
    }

    #[test]
    fn parses_the_kernels_texts() {
        assert!(throttle_devices(ROOT_NONE).unwrap().is_empty());
        assert_eq!(
            throttle_devices(ROOT_LOOP0).unwrap(),
            BTreeSet::from([(7, 0)])
        );
        assert!(
            throttle_devices("7:0 Read\n").is_ok(),
            "the device is enough"
        );
        assert!(throttle_devices("x:0 Read 1\n").is_err());
        let busy = busy_disks(DISKSTATS, whole);
        assert_eq!(
            busy,
            BTreeMap::from([((7, 0), "loop0".to_owned()), ((254, 0), "vda".to_owned())]),
            "disks with I/O, partitions left out"
        );
        assert_eq!(storage_bytes(PROC_IO_FSYNC), Some(208_896 + 8_404_992));
        assert_eq!(
            storage_bytes("read_bytes: 0\nwrite_bytes: 4096\ncancelled_write_bytes: 8192\n"),
            Some(0),
            "a truncated file's pages were never written"
        );
        assert_eq!(storage_bytes("rchar: 1\n"), None);
    }

    #[test]
    fn nothing_set_up_is_never_counted_as_idle() {
        let c = coverage(ROOT_NONE);
        assert!(c.counted.is_empty());
        assert_eq!(c.uncounted, ["loop0", "vda"]);
        let sent = storage_bytes(PROC_IO_FSYNC);
        let Judgement::NotCounted(why) = judge(&c, 0, sent) else {
            panic!("not counted")
        };
        assert!(why.contains("set up on no disk"), "{why}");
        assert!(why.contains("8613888 B"), "the evidence is given: {why}");
        // Without root the processes cannot be read: the mechanism alone decides.
        let Judgement::NotCounted(why) = judge(&c, 0, None) else {
            panic!("not counted")
        };
        assert!(!why.contains("/proc/<pid>/io"), "{why}");
    }

    #[test]
    fn counted_disks_count() {
        // Every busy disk set up (any kernel before 6.10 sets up every disk).
        let all = Coverage::from_texts(
            "7:0 Read 0\n254:0 Read 8388608\n254:0 Write 8388608\nTotal 16777216\n",
            DISKSTATS,
            whole,
            |(a, b)| format!("{a}:{b}"),
        )
        .unwrap();
        assert!(all.uncounted.is_empty());
        assert_eq!(
            judge(&all, 16_777_216, Some(16_777_216)),
            Judgement::Counted
        );
        // An idle container: nothing sent, nothing counted.
        assert_eq!(judge(&all, 0, Some(0)), Judgement::Counted);
        assert_eq!(judge(&all, 0, None), Judgement::Counted);
        // Sent but not counted: 5.16-6.4 without the fix, or only buffered writes.
        let Judgement::NotCounted(why) = judge(&all, 0, Some(8_400_896)) else {
            panic!("not counted")
        };
        assert!(why.contains("8400896 B") && why.contains("5.16"), "{why}");
    }

    #[test]
    fn some_disks_set_up() {
        let c = coverage(ROOT_LOOP0);
        assert_eq!(c.counted, BTreeMap::from([((7, 0), "loop0".to_owned())]));
        assert_eq!(c.uncounted, ["vda"]);
        // Counted on loop0: kept, with what it leaves out.
        let Judgement::Partly(note) = judge(&c, 8_388_608, Some(8_400_896)) else {
            panic!("partly")
        };
        assert!(
            note.contains("loop0 (7:0) only") && note.contains("vda"),
            "{note}"
        );
        // Nothing counted although the processes did I/O: on vda, most likely.
        let Judgement::NotCounted(why) = judge(&c, 0, Some(8_400_896)) else {
            panic!("not counted")
        };
        assert!(why.contains("not set up on vda"), "{why}");
        // Nothing counted and no way to look: 0 cannot be trusted.
        let Judgement::NotCounted(why) = judge(&c, 0, None) else {
            panic!("not counted")
        };
        assert!(why.contains("cannot tell an idle container"), "{why}");
        // Nothing anywhere did I/O: nothing to miss.
        let quiet = Coverage::from_texts(ROOT_NONE, "", whole, |_| String::new()).unwrap();
        assert_eq!(judge(&quiet, 0, None), Judgement::Counted);
    }
}
