//! What keeps an unattended `doctor stalk` from filling a disk: at most `--max-recordings`
//! recordings in its folder (counted from the folder, so a restart under systemd does not start
//! the count again), never below a free-space floor on the folder's filesystem. The decision is
//! a pure function of what was read ([`check`]); [`read`] does the reading.

use std::path::Path;

/// The free-space floor: bytes, or a share of the filesystem.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MinFree {
    Bytes(u64),
    Percent(f64),
}

impl MinFree {
    /// The floor in bytes on a filesystem of `total` bytes.
    #[must_use]
    pub fn floor(self, total: u64) -> u64 {
        match self {
            MinFree::Bytes(b) => b,
            MinFree::Percent(p) => (total as f64 * p / 100.0).ceil() as u64,
        }
    }
}

/// The bounds of a stalk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_recordings: u32,
    pub min_free: MinFree,
}

/// What was read of the folder before a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Folder {
    /// Recordings already there (`doctor-stalk-*.json`).
    pub recordings: u32,
    /// Bytes available to unprivileged users (`statvfs` `f_bavail × f_frsize`), and the
    /// filesystem's size.
    pub available: u64,
    pub total: u64,
}

/// Why a recording may not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    #[error("it holds {held} recordings, --max-recordings is {max}: remove old ones or raise it")]
    MaxRecordings { held: u32, max: u32 },
    #[error(
        "its filesystem has {} free, below the --min-free floor of {}: free some space or lower it",
        bytes(*available),
        bytes(*floor)
    )]
    LowSpace { available: u64, floor: u64 },
}

/// Whether one more recording may be made in a folder as read.
pub fn check(limits: Limits, folder: Folder) -> Result<(), Stop> {
    if folder.recordings >= limits.max_recordings {
        return Err(Stop::MaxRecordings {
            held: folder.recordings,
            max: limits.max_recordings,
        });
    }
    let floor = limits.min_free.floor(folder.total);
    if folder.available < floor {
        return Err(Stop::LowSpace {
            available: folder.available,
            floor,
        });
    }
    Ok(())
}

/// Reads the folder: its recordings and its filesystem's free space.
pub fn read(dir: &Path) -> std::io::Result<Folder> {
    let recordings = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| super::files::is_recording(&e.file_name().to_string_lossy()))
        .count() as u32;
    let vfs = nix::sys::statvfs::statvfs(dir).map_err(std::io::Error::from)?;
    let unit = vfs.fragment_size();
    Ok(Folder {
        recordings,
        available: vfs.blocks_available().saturating_mul(unit),
        total: vfs.blocks().saturating_mul(unit),
    })
}

fn bytes(n: u64) -> String {
    crate::engine::eval::fmt_bytes(n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    fn limits(max: u32, min_free: MinFree) -> Limits {
        Limits {
            max_recordings: max,
            min_free,
        }
    }

    #[test]
    fn floors() {
        assert_eq!(MinFree::Bytes(GIB).floor(100 * GIB), GIB);
        assert_eq!(MinFree::Percent(5.0).floor(100 * GIB), 5 * GIB);
        assert_eq!(MinFree::Percent(0.0).floor(100 * GIB), 0);
    }

    #[test]
    fn max_recordings_stops_at_the_count() {
        let folder = |recordings| Folder {
            recordings,
            available: 50 * GIB,
            total: 100 * GIB,
        };
        let l = limits(3, MinFree::Percent(5.0));
        assert_eq!(check(l, folder(2)), Ok(()));
        assert_eq!(
            check(l, folder(3)),
            Err(Stop::MaxRecordings { held: 3, max: 3 })
        );
        assert_eq!(
            check(l, folder(7)),
            Err(Stop::MaxRecordings { held: 7, max: 3 })
        );
    }

    #[test]
    fn free_space_floor() {
        let folder = |available| Folder {
            recordings: 0,
            available,
            total: 100 * GIB,
        };
        let pct = limits(10, MinFree::Percent(5.0));
        assert_eq!(check(pct, folder(5 * GIB)), Ok(()));
        let low = check(pct, folder(5 * GIB - 1)).unwrap_err();
        assert!(matches!(low, Stop::LowSpace { floor, .. } if floor == 5 * GIB));
        assert!(
            low.to_string().contains("below the --min-free floor"),
            "{low}"
        );
        let abs = limits(10, MinFree::Bytes(GIB));
        assert_eq!(check(abs, folder(GIB)), Ok(()));
        assert!(check(abs, folder(GIB - 1)).is_err());
    }

    #[test]
    fn a_real_folder_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("doctor-stalk-20260101T000000Z.json"), "{}").unwrap();
        std::fs::write(dir.path().join("doctor-stalk-20260101T000000Z.txt"), "").unwrap();
        std::fs::write(dir.path().join("notes.json"), "{}").unwrap();
        let f = read(dir.path()).unwrap();
        assert_eq!(f.recordings, 1);
        assert!(f.total > 0 && f.available <= f.total);
    }
}
