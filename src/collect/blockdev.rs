//! Which disk a path lives on: path → `st_dev` → `/sys/dev/block/MAJ:MIN` → the whole disk.
//!
//! Devices are named as the `disks` section names them (the `/sys/block` entry, `!` spelled
//! `/`), so a rule can join "the datadir's device" with that disk's `iostat` figures. A path on
//! a filesystem without one backing block device (overlayfs, tmpfs, NFS, btrfs subvolumes)
//! has no device, and that is said rather than guessed. Layout of sysfs: the kernel's
//! Documentation/ABI/testing/sysfs-dev (`/sys/dev/block/<major>:<minor>` links to the device)
//! and sysfs-block (a partition's directory has a `partition` file and sits inside its disk's).

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
    let dir = std::fs::canonicalize(sys.join(format!("dev/block/{major}:{minor}"))).ok()?;
    let disk_dir = whole_disk_dir(&dir);
    let sys_name = disk_dir.file_name()?.to_string_lossy().into_owned();
    let rotational = rotational_in(sys, &sys_name);
    let mut underlying: Vec<(String, Option<bool>)> = std::fs::read_dir(disk_dir.join("slaves"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let target = std::fs::canonicalize(e.path()).ok()?;
                    let whole = whole_disk_dir(&target);
                    let name = whole.file_name()?.to_string_lossy().into_owned();
                    let rot = rotational_in(sys, &name);
                    Some((name.replace('!', "/"), rot))
                })
                .collect()
        })
        .unwrap_or_default();
    underlying.sort();
    underlying.dedup();
    Some(BlockDevice {
        name: sys_name.replace('!', "/"),
        rotational,
        underlying,
    })
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
}
