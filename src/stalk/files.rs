//! A stalk's recording on disk: `DIR/doctor-stalk-YYYYmmddTHHMMSSZ.json` (the snapshot with its
//! series, for `doctor analyze`), `.txt` (the report as the terminal shows it, without colour)
//! and `.md` (to paste into an issue), named after the time the trigger held (UTC). Each file is
//! written to a temporary name in the same folder and renamed into place, so a reader (or a
//! crash, or a full disk) never leaves a half-written recording under its real name.

use crate::report::{self, Color, Report};
use crate::snapshot::Snapshot;
use crate::watch::timeline::Run;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const PREFIX: &str = "doctor-stalk-";

/// `doctor-stalk-20261206T150705Z`: the name's stem for a recording triggered at `when`.
#[must_use]
pub fn stem(when: SystemTime) -> String {
    // `2026-12-06T15:07:05Z` without its separators: sorts by time, and no `:` for tools that
    // take it for a host or a drive.
    let rfc = humantime::format_rfc3339_seconds(when).to_string();
    format!("{PREFIX}{}", rfc.replace(['-', ':'], ""))
}

/// A stem not yet taken in `dir`: two triggers in one second (`--cooldown 0s`) get `-2`, `-3`.
#[must_use]
pub fn free_stem(dir: &Path, when: SystemTime) -> String {
    let base = stem(when);
    let taken = |s: &str| dir.join(format!("{s}.json")).exists();
    if !taken(&base) {
        return base;
    }
    let mut n = 2u32;
    loop {
        let next = format!("{base}-{n}");
        if !taken(&next) {
            return next;
        }
        n += 1;
    }
}

/// Whether `name` is a recording's snapshot (what `--max-recordings` counts).
#[must_use]
pub fn is_recording(name: &str) -> bool {
    name.starts_with(PREFIX)
        && Path::new(name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Writes the recording's files under `stem` in `dir`; returns their paths, the snapshot's
/// first.
pub fn write(
    dir: &Path,
    stem: &str,
    snapshot: &Snapshot,
    report: &Report,
) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::with_capacity(4);
    let mut json = serde_json::to_vec_pretty(snapshot).map_err(std::io::Error::other)?;
    json.push(b'\n');
    written.push(atomic(dir, &format!("{stem}.json"), &json)?);
    let mut table = Vec::with_capacity(16 * 1024);
    report::render_table(report, Color::Never, None, &mut table)?;
    written.push(atomic(dir, &format!("{stem}.txt"), &table)?);
    let mut markdown = Vec::with_capacity(16 * 1024);
    report::render_markdown(report, &mut markdown)?;
    written.push(atomic(dir, &format!("{stem}.md"), &markdown)?);
    if let Some(svg) = report.run.as_ref().and_then(|run| chart(snapshot, run)) {
        written.push(atomic(dir, &format!("{stem}.svg"), svg.as_bytes())?);
    }
    Ok(written)
}

/// The recording's chart (`watch::chart`), written beside the report as `<stem>.svg`. A chart
/// that cannot be drawn is said on stderr; the recording and its report are written anyway.
fn chart(recording: &Snapshot, run: &Run) -> Option<String> {
    match crate::watch::chart::svg(recording, run) {
        Ok(svg) => Some(svg),
        Err(e) => {
            eprintln!("doctor stalk: no chart for this recording: {e}");
            None
        }
    }
}

/// Writes `bytes` to `dir/name` whole, synced before it takes its name (`crate::atomic`).
fn atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let target = dir.join(name);
    crate::atomic::write(&target, bytes, true).map(|()| target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn names_carry_the_utc_time() {
        let t = UNIX_EPOCH + Duration::from_secs(1_796_569_625); // 2026-12-06T15:07:05Z
        assert_eq!(stem(t), "doctor-stalk-20261206T150705Z");
        assert!(is_recording("doctor-stalk-20261206T150705Z.json"));
        assert!(is_recording("doctor-stalk-20261206T150705Z-2.json"));
        assert!(!is_recording("doctor-stalk-20261206T150705Z.txt"));
        assert!(!is_recording("notes.json"));
        assert!(!is_recording(".doctor-stalk-x.json.1.2.tmp"));
    }

    #[test]
    fn a_second_recording_in_the_same_second_gets_a_suffix() {
        let dir = tempfile::tempdir().unwrap();
        let t = UNIX_EPOCH + Duration::from_secs(1_796_569_625);
        let first = free_stem(dir.path(), t);
        atomic(dir.path(), &format!("{first}.json"), b"{}").unwrap();
        assert_eq!(free_stem(dir.path(), t), format!("{first}-2"));
    }

    #[test]
    fn atomic_writes_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = atomic(dir.path(), "a.txt", b"hello").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.txt"]);
        // A folder that cannot be written is an error, and leaves nothing behind.
        assert!(atomic(&dir.path().join("missing"), "b.txt", b"x").is_err());
    }
}
