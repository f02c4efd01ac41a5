//! The files named with `--log`: globs expanded without going through a symlink, each file's
//! identity and size at the window's start, and at its end the bounded tail of each scanned, with
//! what rotation or truncation during the window changed (see the module above).

use super::request::Request;
use crate::collect::Failure;
use crate::scan::{ScanOptions, Scanner, YearHint, failed_source};
use crate::snapshot::{LogSource, SourceKind};
use std::fs::{File, Metadata};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

/// At most this many files are read (globs can match a lot); the rest are listed in a note.
pub const MAX_FILES: usize = 64;

/// One file between the two readings.
#[derive(Debug)]
struct Target {
    name: String,
    kind: SourceKind,
    path: PathBuf,
    /// Identity and size at the window's start, or why the file could not be used.
    mark: Result<Mark, String>,
    notes: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct Mark {
    dev: u64,
    ino: u64,
    size: u64,
}

/// The collector between the window's start and end.
#[derive(Debug)]
pub struct Start {
    scanner: Scanner,
    tail_bytes: u64,
    targets: Vec<Target>,
    /// Sources that are errors before anything is read (a glob matching nothing).
    failed: Vec<LogSource>,
    notes: Vec<String>,
    started: Instant,
    /// `--container` names, for the error sources when the engine could not be read.
    containers: Vec<String>,
}

/// The files scanned at the window's end, waiting for the containers' output.
#[derive(Debug)]
pub struct Scanned {
    pub(super) scanner: Scanner,
    pub(super) sources: Vec<LogSource>,
    pub(super) notes: Vec<String>,
    pub(super) containers: Vec<String>,
}

/// Expands the `--log` arguments and records each file's size: the window's start.
pub fn begin(req: &Request) -> Result<Start, Failure> {
    let Some(scanner) = req.scanner.clone() else {
        return Err(Failure::Skipped("log scanning is off".into()));
    };
    let mut start = Start {
        scanner,
        tail_bytes: req.tail(),
        targets: Vec::new(),
        failed: Vec::new(),
        notes: Vec::new(),
        started: Instant::now(),
        containers: req.containers.clone(),
    };
    let slow = start.scanner.slow_patterns();
    if !slow.is_empty() {
        start.notes.push(format!(
            "patterns without a literal of 4+ characters to look for are run as regexes over every \
             line, which is slower: {}",
            slow.join(", ")
        ));
    }
    if let Some(path) = &req.mysql_error_log {
        start.add_file(path, SourceKind::MysqlErrorLog, false);
    }
    for arg in &req.paths {
        start.add_arg(arg);
    }
    // With nothing to scan yet the collector still starts: a source may be added during the
    // window ([`Start::add`]); `finish` says "skipped" if none was.
    Ok(start)
}

impl Start {
    /// Adds a file found after the window started — the hook for the MySQL error log, whose path
    /// the MySQL collector reads from the server (`log_error`). Its window starts now (noted).
    pub fn add(&mut self, path: &Path, kind: SourceKind) {
        self.add_file(path, kind, true);
    }

    fn add_arg(&mut self, arg: &str) {
        if !has_wildcard(arg) {
            self.add_file(Path::new(arg), SourceKind::File, false);
            return;
        }
        let mut notes = Vec::new();
        let files = expand(arg, &mut notes);
        self.notes.extend(notes);
        if files.is_empty() {
            self.failed.push(failed_source(
                arg,
                SourceKind::File,
                None,
                "no regular file matches this pattern",
            ));
        }
        for f in files {
            self.add_file(&f, SourceKind::File, false);
        }
    }

    fn add_file(&mut self, path: &Path, kind: SourceKind, late: bool) {
        if self.targets.iter().any(|t| t.path == path) {
            return;
        }
        if self.targets.len() >= MAX_FILES {
            self.notes.push(format!(
                "only the first {MAX_FILES} files are scanned; {} was left out",
                path.display()
            ));
            return;
        }
        let mark = std::fs::metadata(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|m| regular(path, &m).map(|()| mark(&m)));
        let mut notes = Vec::new();
        if late {
            notes.push(format!(
                "added {:.1} s after the window started: in_window counts from then",
                self.started.elapsed().as_secs_f64()
            ));
        }
        self.targets.push(Target {
            name: path.display().to_string(),
            kind,
            path: path.to_owned(),
            mark,
            notes,
        });
    }
}

fn mark(m: &Metadata) -> Mark {
    Mark {
        dev: m.dev(),
        ino: m.ino(),
        size: m.len(),
    }
}

fn regular(path: &Path, m: &Metadata) -> Result<(), String> {
    if m.is_file() {
        Ok(())
    } else if m.is_dir() {
        Err(format!(
            "{} is a directory; name its files, e.g. {}/*.log",
            path.display(),
            path.display()
        ))
    } else {
        Err(format!(
            "{} is not a regular file (a pipe, socket or device is not read)",
            path.display()
        ))
    }
}

/// Scans every file's tail: the window's end for files. The containers' output joins them in
/// [`super::complete`].
pub fn scan(start: Start) -> Scanned {
    let hint = YearHint::now();
    let mut sources = start.failed;
    for t in start.targets {
        sources.push(scan_target(&start.scanner, t, start.tail_bytes, hint));
    }
    Scanned {
        scanner: start.scanner,
        sources,
        notes: start.notes,
        containers: start.containers,
    }
}

fn scan_target(scanner: &Scanner, t: Target, tail_bytes: u64, hint: YearHint) -> LogSource {
    let begin = match t.mark {
        Ok(m) => m,
        Err(message) => return failed_source(&t.name, t.kind, Some(&t.path), message),
    };
    let fail = |e: &std::io::Error| {
        failed_source(
            &t.name,
            t.kind,
            Some(&t.path),
            format!("cannot read {}: {e}", t.path.display()),
        )
    };
    let mut file = match File::open(&t.path) {
        Ok(f) => f,
        Err(e) => return fail(&e),
    };
    let now = match file.metadata() {
        Ok(m) => m,
        Err(e) => return fail(&e),
    };
    if let Err(message) = regular(&t.path, &now) {
        return failed_source(&t.name, t.kind, Some(&t.path), message);
    }
    let end = mark(&now);
    let mut notes = t.notes;
    // Where the window starts in the file, if it is still the same file.
    let window_start = if (end.dev, end.ino) != (begin.dev, begin.ino) {
        notes.push(
            "replaced during the window (rotated): the new file was scanned, all of it counts as \
             inside the window; the old file's last lines were not read"
                .into(),
        );
        0
    } else if end.size < begin.size {
        notes.push(format!(
            "shrank from {} to {} bytes during the window (truncated, or rotated by \
             copytruncate): what it holds now counts as inside the window",
            begin.size, end.size
        ));
        0
    } else {
        begin.size
    };
    let from = end.size.saturating_sub(tail_bytes);
    let tail_truncated = from > 0;
    if window_start < from {
        notes.push(format!(
            "grew by {} bytes during the window, more than the {tail_bytes}-byte tail read: only \
             the last part of the window was scanned",
            end.size - window_start
        ));
    }
    // Read from one byte before the tail so a tail that starts exactly at a line start keeps it.
    let read_from = from.saturating_sub(1);
    if let Err(e) = file.seek(SeekFrom::Start(read_from)) {
        return fail(&e);
    }
    let opts = ScanOptions {
        window_from: Some(window_start.saturating_sub(read_from)),
        skip_partial_first_line: read_from > 0,
        year_hint: Some(hint),
        record_lines: false,
    };
    let scan = match scanner.scan(file.take(end.size - read_from), opts) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let mut source = scan.into_source(&t.name, t.kind, Some(&t.path));
    source.tail_truncated = tail_truncated;
    source.window_bytes = (window_start == begin.size).then(|| end.size - begin.size);
    notes.append(&mut source.notes);
    source.notes = notes;
    source
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// The regular files a glob matches, never going through a symlink after the first wildcard.
fn expand(pattern: &str, notes: &mut Vec<String>) -> Vec<PathBuf> {
    let path = Path::new(pattern);
    let mut base = PathBuf::new();
    let mut rest: Vec<String> = Vec::new();
    for c in path.components() {
        let text = c.as_os_str().to_string_lossy().into_owned();
        if rest.is_empty() && !has_wildcard(&text) {
            base.push(c);
        } else if matches!(c, Component::Normal(_)) {
            rest.push(text);
        } else {
            notes.push(format!("{pattern}: `..` after a wildcard is not followed"));
            return Vec::new();
        }
    }
    if base.as_os_str().is_empty() {
        base.push(".");
    }
    let mut out = Vec::new();
    walk(&base, &rest, pattern, notes, &mut out);
    out.sort();
    out
}

fn walk(
    dir: &Path,
    rest: &[String],
    pattern: &str,
    notes: &mut Vec<String>,
    out: &mut Vec<PathBuf>,
) {
    let Some((first, more)) = rest.split_first() else {
        return;
    };
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let matcher = match glob::Pattern::new(first) {
        Ok(m) => m,
        Err(e) => {
            notes.push(format!("{pattern}: not a valid glob: {e}"));
            return;
        }
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| matcher.matches_with(&e.file_name().to_string_lossy(), opts))
        .collect();
    names.sort_by_key(std::fs::DirEntry::file_name);
    for entry in names {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            // Say so only when following it would have found something of the kind wanted here.
            let target = std::fs::metadata(&path);
            let relevant = target.is_ok_and(|m| {
                if more.is_empty() {
                    m.is_file()
                } else {
                    m.is_dir()
                }
            });
            if relevant {
                notes.push(format!(
                    "{} is a symlink reached through the glob {pattern}; not followed (name it \
                     explicitly with --log to read it)",
                    path.display()
                ));
            }
        } else if more.is_empty() {
            if meta.is_file() {
                out.push(path);
            }
        } else if meta.is_dir() {
            walk(&path, more, pattern, notes, out);
        }
    }
}
