//! Which disk a path lives on: path → `st_dev` → `/sys/dev/block/MAJ:MIN` → the whole disk.
//!
//! Devices are named as the `disks` section names them (the `/sys/block` entry, `!` spelled
//! `/`), so a rule can join "the datadir's device" with that disk's `iostat` figures. A path on
//! a filesystem without one backing block device (overlayfs, tmpfs, NFS, btrfs subvolumes)
//! has no device, and that is said rather than guessed. Layout of sysfs: the kernel's
//! Documentation/ABI/testing/sysfs-dev (`/sys/dev/block/<major>:<minor>` links to the device)
//! and sysfs-block (a partition's directory has a `partition` file and sits inside its disk's).

use super::mounts::Mount;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The whole disk a path is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockDevice {
    /// `/sys/block` name with `!` turned into `/` (`sda`, `nvme0n1`, `dm-0`, `cciss/c0d0`).
    pub name: String,
    pub rotational: Option<bool>,
    /// Devices under a device-mapper or md device (`/sys/block/<name>/slaves`), resolved to
    /// whole disks, with their own `rotational`.
    pub underlying: Vec<(String, Option<bool>)>,
}

/// Why a path has no block device.
#[derive(Debug, thiserror::Error)]
pub enum NoDevice {
    #[error("cannot stat {path}: {source}")]
    Stat {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} is on a filesystem without a single backing block device \
         (device {major}:{minor}: overlayfs, tmpfs, NFS or btrfs?)"
    )]
    NotABlockDevice {
        path: String,
        major: u64,
        minor: u64,
    },
}

/// Major and minor numbers of a `dev_t` as glibc's `gnu_dev_major`/`gnu_dev_minor` split them.
#[must_use]
pub fn split_dev(dev: u64) -> (u64, u64) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major, minor)
}

/// The whole disk `path` is on, read from the live `/sys`.
pub fn of_path(path: &Path) -> Result<BlockDevice, NoDevice> {
    of_path_in(path, Path::new("/sys"))
}

/// [`of_path`] against another sysfs root (a test's copy of a sysfs layout).
pub fn of_path_in(path: &Path, sys: &Path) -> Result<BlockDevice, NoDevice> {
    let meta = std::fs::metadata(path).map_err(|source| NoDevice::Stat {
        path: path.display().to_string(),
        source,
    })?;
    let (major, minor) = split_dev(meta.dev());
    of_dev_in(major, minor, sys).ok_or(NoDevice::NotABlockDevice {
        path: path.display().to_string(),
        major,
        minor,
    })
}

/// The whole disk of device `major:minor`, or `None` when sysfs has no block device by that
/// number (anonymous devices of overlayfs, tmpfs, NFS have major 0).
#[must_use]
pub fn of_dev_in(major: u64, minor: u64, sys: &Path) -> Option<BlockDevice> {
    let disk_dir = disk_dir_of(major, minor, sys)?;
    let sys_name = disk_dir.file_name()?.to_string_lossy().into_owned();
    let rotational = rotational_in(sys, &sys_name);
    let underlying = slaves_in(&disk_dir)
        .into_iter()
        .map(|name| {
            let rot = rotational_in(sys, &name);
            (name.replace('!', "/"), rot)
        })
        .collect();
    Some(BlockDevice {
        name: sys_name.replace('!', "/"),
        rotational,
        underlying,
    })
}

/// The name `disks` gives the whole device of `major:minor` (`sda` for 8:1).
#[must_use]
pub fn whole_name_in(major: u64, minor: u64, sys: &Path) -> Option<String> {
    let dir = disk_dir_of(major, minor, sys)?;
    Some(dir.file_name()?.to_string_lossy().replace('!', "/"))
}

/// The sysfs directory of the whole device holding `major:minor`.
fn disk_dir_of(major: u64, minor: u64, sys: &Path) -> Option<PathBuf> {
    if major == 0 {
        return None; // anonymous: no block device (and no sysfs lookup needed to say so)
    }
    let dir = std::fs::canonicalize(sys.join(format!("dev/block/{major}:{minor}"))).ok()?;
    Some(whole_disk_dir(&dir))
}

/// The devices under a device-mapper or md device (`slaves/`, the kernel's
/// Documentation/ABI/stable/sysfs-block "holders"/"slaves"), partitions resolved to their
/// disks, sysfs names, sorted and without repeats.
fn slaves_in(disk_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(disk_dir.join("slaves"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let target = std::fs::canonicalize(e.path()).ok()?;
                    let whole = whole_disk_dir(&target);
                    Some(whole.file_name()?.to_string_lossy().into_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.dedup();
    names
}

/// A partition's sysfs directory has a `partition` file and sits inside its disk's directory.
fn whole_disk_dir(dir: &Path) -> PathBuf {
    if dir.join("partition").exists()
        && let Some(parent) = dir.parent()
    {
        return parent.to_path_buf();
    }
    dir.to_path_buf()
}

fn rotational_in(sys: &Path, sys_name: &str) -> Option<bool> {
    std::fs::read_to_string(sys.join(format!("block/{sys_name}/queue/rotational")))
        .ok()
        .map(|s| s.trim() == "1")
}

/// What `disks` shows about a whole device besides its counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// `disk`, `loop`, `dm`, `md`, `nbd`, `rbd`, `drbd`, or the driver's name (see [`kind_in`]).
    pub kind: Option<String>,
    pub rotational: Option<bool>,
    pub size_bytes: Option<u64>,
    /// The whole devices it sits on (names as `disks` gives them), sorted: `slaves/` for
    /// device-mapper and md; for a loop device, the device of the filesystem holding its
    /// backing file.
    pub under: Vec<String>,
    /// `dm/name`: the device-mapper name (`vg0-data`, `luks-…`).
    pub dm_name: Option<String>,
    /// `loop/backing_file`: the file a loop device reads and writes.
    pub backing_file: Option<String>,
}

/// Driver names of block device majors, from the `Block devices:` part of `/proc/devices`
/// (`7 loop`, `9 md`, `43 nbd`, `253 device-mapper`): the kernel's own registry, for devices
/// whose sysfs directory says nothing more (nbd, rbd).
#[must_use]
pub fn parse_block_majors(text: &str) -> BTreeMap<u64, String> {
    text.lines()
        .skip_while(|l| !l.starts_with("Block devices:"))
        .skip(1)
        .filter_map(|l| {
            let (major, name) = l.trim().split_once(' ')?;
            Some((major.parse().ok()?, name.trim().to_owned()))
        })
        .collect()
}

/// Reads [`Facts`] of `/sys/block/<sys_name>` under the sysfs root `sys`. `majors` is
/// [`parse_block_majors`]'s table, `mounts` the mount table (to place a loop device's backing
/// file). Only reads small sysfs attributes; never opens the device or the backing file.
#[must_use]
pub fn facts_in(
    sys: &Path,
    sys_name: &str,
    majors: &BTreeMap<u64, String>,
    mounts: &[Mount],
) -> Facts {
    let dir = sys.join("block").join(sys_name);
    if !dir.exists() {
        return Facts::default(); // gone since it was listed (a loop device detached)
    }
    let attr = |a: &str| {
        std::fs::read_to_string(dir.join(a))
            .ok()
            .map(|s| s.trim_end_matches('\n').to_owned())
            .filter(|s| !s.is_empty())
    };
    let major = attr("dev").and_then(|d| d.split_once(':')?.0.trim().parse::<u64>().ok());
    let kind = kind_in(&dir, major.and_then(|m| majors.get(&m)).map(String::as_str));
    let backing_file = attr("loop/backing_file");
    let mut under: Vec<String> = std::fs::canonicalize(&dir)
        .map(|d| slaves_in(&d))
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.replace('!', "/"))
        .collect();
    if let Some(file) = &backing_file
        && let Some(m) = super::mounts::containing(mounts, file)
        && let Some(name) = whole_name_in(m.major, m.minor, sys)
    {
        under.push(name);
    }
    under.sort();
    under.dedup();
    Facts {
        kind: Some(kind.to_owned()),
        rotational: attr("queue/rotational").map(|s| s.trim() == "1"),
        // `size` is in 512-byte sectors whatever the device's block size (sysfs-block).
        size_bytes: attr("size")
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(|s| s.saturating_mul(512)),
        under,
        dm_name: attr("dm/name"),
        backing_file,
    }
}

/// The kind of a whole device, from what sysfs shows rather than from its name: the
/// subsystem directories (`dm/`, `md/`, `loop/`: sysfs-block), then the driver that owns the
/// major number. A device with a `device` link (a piece of hardware, or a virtual machine's
/// disk: sd, nvme, virtio, xen) is a `disk`, unless its driver is one of the network or
/// virtual block drivers that also have one (rbd).
#[must_use]
pub fn kind_in(dir: &Path, driver: Option<&str>) -> &'static str {
    if dir.join("dm").is_dir() {
        return "dm";
    }
    if dir.join("md").is_dir() {
        return "md";
    }
    if dir.join("loop").is_dir() {
        return "loop";
    }
    match driver {
        Some("device-mapper") => "dm",
        Some("md" | "mdp") => "md",
        Some("loop") => "loop",
        Some("nbd") => "nbd",
        Some("rbd") => "rbd",
        Some("drbd") => "drbd",
        Some("zram") => "zram",
        _ if dir.join("device").exists() => "disk",
        // `blkext` (extended minors) and unknown drivers without hardware under them.
        _ => "virtual",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn dev_t_split_matches_glibc() {
        // 8:1 (sda1) and 259:0 (nvme0n1, a major above 255 and a large minor).
        assert_eq!(split_dev(0x801), (8, 1));
        assert_eq!(split_dev(259 << 8), (259, 0));
        // major 253, minor 300 (0x12c): the minor's high bits live from bit 20.
        let dev = (253 << 8) | (0x12c & 0xff) | ((0x12c & !0xff) << 12);
        assert_eq!(split_dev(dev), (253, 300));
    }

    /// A copy of sysfs's shape (the real layout, reduced to the files read): a partitioned
    /// SATA disk, an LVM volume on it, and a device name with a `!`.
    fn fake_sys() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let s = t.path();
        let dev = s.join("devices/pci0000:00/ata1/block/sda");
        std::fs::create_dir_all(dev.join("sda2")).unwrap();
        std::fs::write(dev.join("sda2/partition"), "2\n").unwrap();
        std::fs::create_dir_all(dev.join("queue")).unwrap();
        std::fs::write(dev.join("queue/rotational"), "1\n").unwrap();
        let dm = s.join("devices/virtual/block/dm-0");
        std::fs::create_dir_all(dm.join("queue")).unwrap();
        std::fs::create_dir_all(dm.join("slaves")).unwrap();
        std::fs::write(dm.join("queue/rotational"), "0\n").unwrap();
        symlink(dev.join("sda2"), dm.join("slaves/sda2")).unwrap();
        let cciss = s.join("devices/pci0000:00/cciss0/block/cciss!c0d0");
        std::fs::create_dir_all(cciss.join("queue")).unwrap();
        std::fs::write(cciss.join("queue/rotational"), "1\n").unwrap();
        std::fs::create_dir_all(s.join("dev/block")).unwrap();
        std::fs::create_dir_all(s.join("block")).unwrap();
        symlink(dev.join("sda2"), s.join("dev/block/8:2")).unwrap();
        symlink(&dev, s.join("dev/block/8:0")).unwrap();
        symlink(&dm, s.join("dev/block/253:0")).unwrap();
        symlink(&cciss, s.join("dev/block/104:0")).unwrap();
        symlink(&dev, s.join("block/sda")).unwrap();
        symlink(&dm, s.join("block/dm-0")).unwrap();
        symlink(&cciss, s.join("block/cciss!c0d0")).unwrap();
        t
    }

    #[test]
    fn partition_resolves_to_its_disk() {
        let sys = fake_sys();
        let d = of_dev_in(8, 2, sys.path()).unwrap();
        assert_eq!(d.name, "sda");
        assert_eq!(d.rotational, Some(true));
        assert!(d.underlying.is_empty());
        assert_eq!(of_dev_in(8, 0, sys.path()).unwrap().name, "sda");
    }

    #[test]
    fn device_mapper_lists_the_disks_under_it() {
        let sys = fake_sys();
        let d = of_dev_in(253, 0, sys.path()).unwrap();
        assert_eq!(d.name, "dm-0");
        assert_eq!(d.rotational, Some(false));
        assert_eq!(d.underlying, vec![("sda".to_owned(), Some(true))]);
    }

    #[test]
    fn bang_in_sysfs_name_is_a_slash() {
        let sys = fake_sys();
        assert_eq!(of_dev_in(104, 0, sys.path()).unwrap().name, "cciss/c0d0");
    }

    #[test]
    fn anonymous_device_has_no_disk() {
        let sys = fake_sys();
        assert_eq!(of_dev_in(0, 45, sys.path()), None);
    }

    /// A device directory under `devices/`, linked from `block/` and `dev/block/MAJ:MIN`,
    /// with the attribute files given (`"loop/backing_file"` creates `loop/`).
    fn device(sys: &Path, path: &str, majmin: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = sys.join("devices").join(path);
        std::fs::create_dir_all(dir.join("slaves")).unwrap();
        std::fs::write(dir.join("dev"), format!("{majmin}\n")).unwrap();
        for (name, text) in files {
            let f = dir.join(name);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, text).unwrap();
        }
        let name = dir.file_name().unwrap().to_owned();
        std::fs::create_dir_all(sys.join("block")).unwrap();
        std::fs::create_dir_all(sys.join("dev/block")).unwrap();
        symlink(&dir, sys.join("block").join(name)).unwrap();
        symlink(&dir, sys.join("dev/block").join(majmin)).unwrap();
        dir
    }

    /// The stacks the brief of `disks` names, in sysfs's shape: LVM on md RAID1 on two
    /// partitioned disks, a loop device over a file on a virtio disk, nbd and rbd volumes.
    fn stacked_sys() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let s = t.path();
        for (disk, minor) in [("sda", 0), ("sdb", 16)] {
            let d = device(
                s,
                &format!("pci0000:00/ata1/host0/block/{disk}"),
                &format!("8:{minor}"),
                &[("queue/rotational", "1\n"), ("size", "2000\n")],
            );
            std::fs::create_dir_all(d.join("device")).unwrap();
            let part = d.join(format!("{disk}1"));
            std::fs::create_dir_all(&part).unwrap();
            std::fs::write(part.join("partition"), "1\n").unwrap();
            symlink(&part, s.join(format!("dev/block/8:{}", minor + 1))).unwrap();
        }
        let md = device(s, "virtual/block/md0", "9:0", &[("md/level", "raid1\n")]);
        symlink(
            s.join("devices/pci0000:00/ata1/host0/block/sda/sda1"),
            md.join("slaves/sda1"),
        )
        .unwrap();
        symlink(
            s.join("devices/pci0000:00/ata1/host0/block/sdb/sdb1"),
            md.join("slaves/sdb1"),
        )
        .unwrap();
        let dm = device(
            s,
            "virtual/block/dm-0",
            "253:0",
            &[("dm/name", "vg0-data\n")],
        );
        symlink(&md, dm.join("slaves/md0")).unwrap();
        let vda = device(
            s,
            "pci0000:00/virtio1/block/vda",
            "254:0",
            &[("queue/rotational", "0\n")],
        );
        std::fs::create_dir_all(vda.join("device")).unwrap();
        device(
            s,
            "virtual/block/loop0",
            "7:0",
            &[("loop/backing_file", "/srv/slow.img\n"), ("size", "1024\n")],
        );
        device(s, "virtual/block/nbd0", "43:0", &[]);
        let rbd = device(s, "virtual/block/rbd0", "252:0", &[]);
        std::fs::create_dir_all(rbd.join("device")).unwrap();
        device(s, "virtual/block/blkext0", "259:7", &[]);
        t
    }

    const PROC_DEVICES: &str = "Character devices:\n  1 mem\n  7 vcs\n\nBlock devices:\n  7 loop\n  8 sd\n  9 md\n 43 nbd\n252 rbd\n253 device-mapper\n254 virtblk\n259 blkext\n";

    #[test]
    fn block_majors_are_the_block_half_of_proc_devices() {
        let m = parse_block_majors(PROC_DEVICES);
        assert_eq!(m.get(&7).map(String::as_str), Some("loop"));
        assert_eq!(m.get(&253).map(String::as_str), Some("device-mapper"));
        assert_eq!(m.len(), 8); // `7 vcs` is a character device
    }

    #[test]
    fn kinds_come_from_sysfs_and_the_driver() {
        let sys = stacked_sys();
        let majors = parse_block_majors(PROC_DEVICES);
        let kind = |n: &str| facts_in(sys.path(), n, &majors, &[]).kind.unwrap();
        assert_eq!(kind("sda"), "disk");
        assert_eq!(kind("vda"), "disk");
        assert_eq!(kind("md0"), "md");
        assert_eq!(kind("dm-0"), "dm");
        assert_eq!(kind("loop0"), "loop");
        assert_eq!(kind("nbd0"), "nbd");
        assert_eq!(kind("rbd0"), "rbd"); // has a `device` link, but the driver says rbd
        assert_eq!(kind("blkext0"), "virtual");
        // Without /proc/devices, the subsystem directories still tell.
        assert_eq!(
            facts_in(sys.path(), "dm-0", &BTreeMap::new(), &[])
                .kind
                .unwrap(),
            "dm"
        );
        assert_eq!(
            facts_in(sys.path(), "nbd0", &BTreeMap::new(), &[])
                .kind
                .unwrap(),
            "virtual"
        );
    }

    #[test]
    fn the_chain_dm_md_disks_is_one_level_at_a_time() {
        let sys = stacked_sys();
        let majors = parse_block_majors(PROC_DEVICES);
        let dm = facts_in(sys.path(), "dm-0", &majors, &[]);
        assert_eq!(dm.under, vec!["md0"]);
        assert_eq!(dm.dm_name.as_deref(), Some("vg0-data"));
        let md = facts_in(sys.path(), "md0", &majors, &[]);
        assert_eq!(md.under, vec!["sda", "sdb"]); // partitions resolved to their disks
        let sda = facts_in(sys.path(), "sda", &majors, &[]);
        assert!(sda.under.is_empty());
        assert_eq!(sda.rotational, Some(true));
        assert_eq!(sda.size_bytes, Some(2000 * 512));
    }

    #[test]
    fn a_loop_device_sits_on_the_device_holding_its_file() {
        let sys = stacked_sys();
        let majors = parse_block_majors(PROC_DEVICES);
        let mounts = super::super::mounts::parse(
            "27 1 254:0 / / rw - ext4 /dev/vda rw\n30 27 0:40 / /fuse rw - fuse f rw\n",
        );
        let l = facts_in(sys.path(), "loop0", &majors, &mounts);
        assert_eq!(l.backing_file.as_deref(), Some("/srv/slow.img"));
        assert_eq!(l.under, vec!["vda"]);
        assert_eq!(l.size_bytes, Some(1024 * 512));
        // A file on a filesystem without a block device (FUSE, NFS, tmpfs): nothing under.
        let fuse = super::super::mounts::parse("30 1 0:40 / / rw - fuse f rw\n");
        assert!(
            facts_in(sys.path(), "loop0", &majors, &fuse)
                .under
                .is_empty()
        );
    }

    #[test]
    fn a_missing_device_has_no_facts_but_no_panic() {
        let sys = stacked_sys();
        let f = facts_in(sys.path(), "nope", &BTreeMap::new(), &[]);
        assert_eq!(f, Facts::default());
        assert_eq!(f.rotational, None);
        assert!(f.under.is_empty());
    }
}
