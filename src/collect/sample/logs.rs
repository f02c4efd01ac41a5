//! The logs' part of a watch sample: lines per second of each trouble category (`db-pool-
//! exhausted`, ...) in the `--log` files, from what was appended since the last sample.
//!
//! Each file is kept open at the offset reached; a sample reads what was appended (at most
//! [`MAX_BYTES_PER_SAMPLE`]), scans the complete lines with the run's scanner and keeps an
//! unfinished last line for the next sample. A file that shrank was truncated or rotated: it is
//! reopened by name and read from its start.
//!
//! The containers' output is followed the same way, from the file the engine writes it to
//! (the `json-file` driver's `LogPath`, one JSON object per line: the patterns match inside it,
//! none needs what JSON escapes), found once at the start of the run ([`container_files`]). The
//! engine's logs API would stream per container: following 20 of them every second costs more
//! than a sample's budget. A container logging elsewhere (`local`, `journald`, a network
//! driver), or whose file this user cannot read, is named in the notes; its output is still
//! scanned at the run's end, in `logs`.

use crate::collect::docker::{ContainerRef, Engine, MAX_LOG_CONTAINERS};
use crate::scan::{ScanOptions, Scanner};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// A sample reads at most this much of one file; the rest waits for the next sample.
const MAX_BYTES_PER_SAMPLE: u64 = 4 << 20;

struct Tail {
    path: PathBuf,
    file: File,
    inode: u64,
    offset: u64,
    partial: Vec<u8>,
}

pub struct Tails {
    scanner: Scanner,
    files: Vec<Tail>,
    /// The categories that matched at least once.
    seen: Vec<bool>,
    pub notes: Vec<String>,
}

impl Tails {
    /// Opens each file named (globs expanded, without following symlinks) at its end, and each
    /// container's output file (`containers`: name and file). `None` when there is nothing to
    /// follow and nothing to say (`notes`: what is already known not to be followed).
    pub fn start(
        scanner: Scanner,
        paths: &[String],
        containers: &[(String, PathBuf)],
        mut notes: Vec<String>,
    ) -> Option<Tails> {
        let mut tails = Vec::new();
        let mut unreadable = Vec::new();
        for (name, path) in containers {
            match open_at_end(path) {
                Ok(t) => tails.push(t),
                Err(e) => unreadable.push(format!("{name} ({e})")),
            }
        }
        if !unreadable.is_empty() {
            notes.push(format!(
                "the output of {} is not followed per sample: its log file cannot be read \
                 (not root?); it is scanned at the end of the run",
                unreadable.join(", ")
            ));
        }
        for p in paths {
            let files: Vec<PathBuf> = if p.contains(['*', '?', '[']) {
                glob::glob(p)
                    .map(|g| {
                        g.filter_map(Result::ok)
                            .filter(|f| {
                                std::fs::symlink_metadata(f).is_ok_and(|m| m.file_type().is_file())
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                vec![PathBuf::from(p)]
            };
            for path in files {
                match open_at_end(&path) {
                    Ok(t) => tails.push(t),
                    Err(e) => notes.push(format!(
                        "{} is not followed per sample ({e})",
                        path.display()
                    )),
                }
            }
        }
        (!tails.is_empty() || !notes.is_empty()).then_some(Tails {
            seen: vec![false; scanner.categories().len()],
            scanner,
            files: tails,
            notes,
        })
    }

    /// Matching lines per second of each category since the last sample: every category that
    /// matched once in the run, from then on (0 when nothing matched); the recorder counts 0
    /// before a category's first match.
    pub fn sample(&mut self, seconds: f64, out: &mut Vec<(String, f64)>) {
        let mut counts = vec![0u64; self.scanner.categories().len()];
        for t in &mut self.files {
            let bytes = t.appended();
            if bytes.is_empty() {
                continue;
            }
            let opts = ScanOptions {
                window_from: Some(0),
                ..ScanOptions::default()
            };
            if let Ok(scan) = self.scanner.scan(bytes.as_slice(), opts) {
                for (i, cat) in self.scanner.categories().iter().enumerate() {
                    if let Some(c) = scan.categories.get(cat) {
                        counts[i] += c.in_window;
                    }
                }
            }
        }
        if seconds <= 0.0 {
            return;
        }
        for (i, n) in counts.iter().enumerate() {
            if *n > 0 {
                self.seen[i] = true;
            }
        }
        for ((cat, n), seen) in self.scanner.categories().iter().zip(counts).zip(&self.seen) {
            if !seen {
                continue;
            }
            out.push((
                format!("logs.categories[{cat}].per_s"),
                crate::snapshot::round2(n as f64 / seconds),
            ));
        }
    }
}

/// The output files of the `running` containers `request` asks for (every one when it names
/// none), at most [`MAX_LOG_CONTAINERS`], asked of `engine` until `deadline`; and a note on
/// those whose output has no file to follow.
pub fn container_files(
    engine: &Engine,
    running: &[ContainerRef],
    request: &crate::collect::logs::Request,
    deadline: std::time::Instant,
) -> (Vec<(String, PathBuf)>, Vec<String>) {
    let mut running: Vec<ContainerRef> = running
        .iter()
        .filter(|c| {
            request.containers.is_empty()
                || request
                    .containers
                    .iter()
                    .any(|n| *n == c.name || c.id.starts_with(n))
        })
        .cloned()
        .collect();
    running.sort_by(|a, b| a.name.cmp(&b.name));
    running.truncate(MAX_LOG_CONTAINERS);
    let mut files = Vec::new();
    let mut elsewhere = Vec::new();
    for (c, file) in engine.log_files(&running, deadline) {
        match file {
            Ok(path) => files.push((c.name, path)),
            Err(driver) => elsewhere.push(format!("{} ({driver})", c.name)),
        }
    }
    let notes = if elsewhere.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "the output of {} is not followed per sample: only the json-file logging driver \
             writes a file to follow; it is scanned at the end of the run",
            elsewhere.join(", ")
        )]
    };
    (files, notes)
}

fn open_at_end(path: &std::path::Path) -> std::io::Result<Tail> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    Ok(Tail {
        path: path.to_owned(),
        inode: meta.ino(),
        offset: meta.len(),
        file,
        partial: Vec::new(),
    })
}

impl Tail {
    /// The complete lines appended since the last call.
    fn appended(&mut self) -> Vec<u8> {
        // Rotated (a new file at the path) or truncated: start over from the beginning.
        let rotated = std::fs::metadata(&self.path).is_ok_and(|m| m.ino() != self.inode);
        let shrunk = self.file.metadata().is_ok_and(|m| m.len() < self.offset);
        if rotated || shrunk {
            if rotated && let Ok(f) = File::open(&self.path) {
                self.inode = f.metadata().map_or(0, |m| m.ino());
                self.file = f;
            }
            self.offset = 0;
            self.partial.clear();
        }
        let mut buf = std::mem::take(&mut self.partial);
        if self.file.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let read = (&self.file)
            .take(MAX_BYTES_PER_SAMPLE)
            .read_to_end(&mut buf)
            .unwrap_or(0);
        self.offset += read as u64;
        if let Some(last) = memchr::memrchr(b'\n', &buf) {
            self.partial = buf.split_off(last + 1);
            buf
        } else {
            self.partial = buf;
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn appended_lines_are_counted_once_and_a_partial_line_waits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        std::fs::write(&path, "Error: Queue limit reached.\n").unwrap();
        let scanner = Scanner::builtin().unwrap();
        let mut tails =
            Tails::start(scanner, &[path.display().to_string()], &[], Vec::new()).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        writeln!(f, "Error: Queue limit reached.").unwrap();
        write!(f, "Error: Queue limit").unwrap();
        let mut out = Vec::new();
        tails.sample(1.0, &mut out);
        let pool = |out: &[(String, f64)]| {
            out.iter()
                .find(|(n, _)| n == "logs.categories[db-pool-exhausted].per_s")
                .map(|(_, v)| *v)
        };
        assert_eq!(pool(&out), Some(1.0), "{out:?}");
        writeln!(f, " reached.").unwrap();
        out.clear();
        tails.sample(2.0, &mut out);
        assert_eq!(pool(&out), Some(0.5), "{out:?}");
        // Truncated: read again from the start.
        std::fs::write(
            &path,
            "Error: Queue limit reached.\nError: Queue limit reached.\n",
        )
        .unwrap();
        out.clear();
        tails.sample(1.0, &mut out);
        assert_eq!(pool(&out), Some(2.0), "{out:?}");
    }
}
