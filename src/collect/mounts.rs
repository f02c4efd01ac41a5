//! The mount table (`/proc/self/mountinfo`): which block device each mounted filesystem is on.
//!
//! `disks` needs it twice: a device that backs a mounted filesystem is listed even if it did no
//! I/O since boot (a freshly attached volume), and a loop device's backing file is placed on
//! the filesystem — so on the device — that holds it, by path, without touching the file (a
//! `stat` on a hung network filesystem would hang doctor). Format: the kernel's
//! Documentation/filesystems/proc.rst, "/proc/<pid>/mountinfo": field 3 is `major:minor` of the
//! filesystem's device (major 0 for filesystems without one: tmpfs, overlayfs, NFS, FUSE),
//! field 5 the mount point with space, tab, newline and backslash escaped as octal `\ooo`.

/// One mounted filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub major: u64,
    pub minor: u64,
    /// The mount point, unescaped.
    pub point: String,
}

/// Parses mountinfo text; malformed lines are skipped.
#[must_use]
pub fn parse(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split(' ');
            let (_id, _parent, dev, _root, point) =
                (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
            let (major, minor) = dev.split_once(':')?;
            Some(Mount {
                major: major.parse().ok()?,
                minor: minor.parse().ok()?,
                point: unescape(point),
            })
        })
        .collect()
}

/// Undoes the kernel's `\ooo` octal escapes (`show_mountinfo` → `seq_escape`).
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..=i + 3]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let v = bytes[i + 1..=i + 3]
                .iter()
                .fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
            if let Ok(b) = u8::try_from(v) {
                out.push(b);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount that holds `path`: the longest mount point that is `path` or a directory above
/// it; of mounts on the same point, the last one listed (it is on top). By path only, so a
/// path reached through a symlink or from another mount namespace may be placed wrongly or
/// not at all; that is the price of never touching the file.
#[must_use]
pub fn containing<'a>(mounts: &'a [Mount], path: &str) -> Option<&'a Mount> {
    let path = path.strip_suffix(" (deleted)").unwrap_or(path);
    if !path.starts_with('/') {
        return None;
    }
    let holds = |point: &str| {
        point == "/"
            || path == point
            || (path.starts_with(point) && path.as_bytes().get(point.len()) == Some(&b'/'))
    };
    mounts
        .iter()
        .filter(|m| holds(&m.point))
        .fold(None, |best: Option<&Mount>, m| match best {
            Some(b) if b.point.len() > m.point.len() => Some(b),
            _ => Some(m),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as this machine's kernel writes them (a VM with Docker), plus a loop device
    /// mounted on a path with a space and a FUSE filesystem.
    const MOUNTINFO: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
45 27 254:0 /var/lib/docker /var/lib/docker rw,relatime shared:1 - ext4 /dev/vda rw
46 27 0:40 / /srv/slow\\040fs rw,nosuid,nodev,relatime - fuse doctor-slowfs rw,user_id=0
47 27 7:0 / /srv/db rw,relatime - ext4 /dev/loop0 rw
48 27 8:1 / /srv/db rw,relatime - ext4 /dev/sda1 rw
garbage
";

    #[test]
    fn parses_device_numbers_and_unescapes_points() {
        let m = parse(MOUNTINFO);
        assert_eq!(m.len(), 6);
        assert_eq!(
            m[1],
            Mount {
                major: 254,
                minor: 0,
                point: "/".into()
            }
        );
        assert_eq!(m[3].point, "/srv/slow fs");
        assert_eq!((m[3].major, m[3].minor), (0, 40));
    }

    #[test]
    fn longest_mount_point_holds_a_path() {
        let m = parse(MOUNTINFO);
        let at = |p: &str| containing(&m, p).map(|m| (m.major, m.minor));
        assert_eq!(at("/srv/slow fs/disk.img"), Some((0, 40)));
        assert_eq!(at("/var/lib/docker/volumes/x"), Some((254, 0)));
        assert_eq!(at("/var/lib/dockerish"), Some((254, 0))); // `/`, not /var/lib/docker
        assert_eq!(at("/home/u/x.img (deleted)"), Some((254, 0)));
        // Two mounts on one point: the later one is on top.
        assert_eq!(at("/srv/db/ibdata1"), Some((8, 1)));
        assert_eq!(at("relative/path"), None);
        assert_eq!(containing(&[], "/x"), None);
    }

    #[test]
    fn escapes_that_are_not_octal_stay() {
        assert_eq!(unescape("a\\134b"), "a\\b");
        assert_eq!(unescape("a\\9zz"), "a\\9zz");
        assert_eq!(unescape("end\\04"), "end\\04");
        assert_eq!(unescape("\\777"), "\\777"); // above a byte: left as is
    }
}
