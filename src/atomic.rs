//! Writing a file whole or not at all: the bytes go to a temporary file beside it (same
//! directory, so the rename stays on one filesystem), which is then renamed over the target. A
//! reader — `node_exporter` scraping the textfile directory, someone opening a chart, a stalk's
//! recording picked up by another tool — sees the old file or the new one, never half of one.
//! The temporary name starts with a dot and ends in `.tmp` (`node_exporter` reads `*.prom` only).

use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Writes `bytes` to `path` through a temporary file; with `sync`, flushed to disk before the
/// rename (a recording kept for later), without it not (a file rewritten every minute). The
/// temporary file is removed when anything fails.
pub fn write(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.{nanos}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if sync {
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_replaced_whole_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doctor.prom");
        std::fs::write(&path, "old").unwrap();
        write(&path, b"new", false).unwrap();
        write(&path, b"newer", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "newer");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // A directory that does not exist: an error, and nothing left behind.
        assert!(write(&dir.path().join("none/x.svg"), b"x", false).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
