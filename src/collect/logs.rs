//! The `logs` collector: finds the files named with `--log` (globs allowed), notes each one's size
//! and identity at the window's start, and at its end scans the bounded tail of each with the
//! [`Scanner`]: growth during the window counts as `in_window`, the rest as history.
//!
//! Symlinks: a path named explicitly is opened as named, symlink or not (the user chose it). A
//! glob never reaches through a symlink: an entry it matches — file or directory, anywhere after
//! the first wildcard — that is a symlink is skipped with a note, so `--log '/var/log/app/*'`
//! cannot be turned into a read of `/etc/shadow` or of another tree by a link planted there.
//! Only regular files are read (a FIFO or a device would block or never end).
//!
//! Containers' output is read by the Docker collector, which has the engine connection and the
//! list of running containers (`docker::logs`); its sources join the files' here
//! ([`FromContainers`], [`complete`]), so the section's totals cover both.
//!
//! Rotation: a file whose inode changed during the window was rotated (renamed and recreated):
//! the new file is scanned, all of it inside the window. One that shrank was truncated (or
//! rotated by copytruncate): what it holds now is all inside the window. Both are noted.

use super::Failure;
use crate::scan::{ScanOptions, Scanner, YearHint, failed_source};
use crate::snapshot::{LogSource, Logs, Section, SourceKind, Status};
use std::fs::{File, Metadata};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Default bytes read from the end of each source.
pub const DEFAULT_TAIL_BYTES: u64 = 64 * 1024 * 1024;
/// Default look-back for containers' output: history from this long before the window.
pub const DEFAULT_CONTAINER_SINCE: Duration = Duration::from_secs(600);
/// At most this many files are read (globs can match a lot); the rest are listed in a note.
pub const MAX_FILES: usize = 64;

/// What to scan.
#[derive(Debug, Clone)]
pub struct Request {
    /// The compiled patterns; `None` switches the collector off.
    pub scanner: Option<Scanner>,
    /// `--log` arguments as given: paths or globs.
    pub paths: Vec<String>,
    /// The MySQL/MariaDB error log (`log_error`), when known before the window starts.
    pub mysql_error_log: Option<PathBuf>,
    /// `--log-tail-bytes`; 0 means the default.
    pub tail_bytes: u64,
    /// `--container`: the containers whose output is read; empty means every running one.
    pub containers: Vec<String>,
    /// `--container-log-since`: how long before the window containers' output is read from.
    pub container_since: Duration,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            scanner: None,
            paths: Vec::new(),
            mysql_error_log: None,
            tail_bytes: 0,
            containers: Vec::new(),
            container_since: DEFAULT_CONTAINER_SINCE,
        }
    }
}

impl Request {
    /// The tail read per source.
    pub fn tail(&self) -> u64 {
        if self.tail_bytes == 0 {
            DEFAULT_TAIL_BYTES
        } else {
            self.tail_bytes
        }
    }
}

/// The containers' output as the Docker collector read it: their sources and the notes for the
/// `logs` section.
#[derive(Debug, Default)]
pub struct LogsRead {
    pub sources: Vec<LogSource>,
    pub notes: Vec<String>,
    /// Time spent reading and scanning, for the `logs` section's `elapsed_ms`.
    pub elapsed: Duration,
}

/// What the Docker collector gives the `logs` section.
#[derive(Debug)]
pub enum FromContainers {
    /// Not asked for (`--no-docker`).
    Off,
    /// No Docker engine here (the `containers` section is skipped): nothing to add.
    Absent(String),
    /// The Docker collector failed or hung: why.
    Failed(String),
    /// The containers' output, scanned.
    Read(LogsRead),
    /// The containers' output, still being read on the Docker collector's logs thread.
    Pending(mpsc::Receiver<LogsRead>),
}

impl FromContainers {
    /// Waits for output still being read, until `deadline`.
    fn settle(self, deadline: Instant) -> Self {
        let FromContainers::Pending(rx) = self else {
            return self;
        };
        let started = Instant::now();
        match rx.recv_timeout(deadline.saturating_duration_since(started)) {
            Ok(read) => FromContainers::Read(read),
            Err(mpsc::RecvTimeoutError::Timeout) => FromContainers::Failed(
                "the Docker engine did not send it before the snapshot's deadline (hung or \
                 overloaded?)"
                    .to_owned(),
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                FromContainers::Failed("its reader crashed".to_owned())
            }
        }
    }
}

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
    scanner: Scanner,
    sources: Vec<LogSource>,
    notes: Vec<String>,
    containers: Vec<String>,
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
/// [`complete`].
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

/// The section from the files and the containers' output. Also returns the section's notes
/// (files left out, symlinks not followed, containers not read), which stand whether or not
/// anything could be read.
pub fn complete(
    scanned: Scanned,
    containers: FromContainers,
) -> (Result<Logs, Failure>, Vec<String>) {
    let Scanned {
        scanner,
        mut sources,
        mut notes,
        containers: named,
    } = scanned;
    // Only `section` hands over output still being read, after waiting for it.
    let containers = containers.settle(Instant::now());
    let unread = |why: &str, sources: &mut Vec<LogSource>| {
        for name in &named {
            sources.push(failed_source(
                name,
                SourceKind::Container,
                None,
                format!("container output not read: {why}"),
            ));
        }
    };
    match containers {
        FromContainers::Off => {}
        // No engine and no container named: nothing was expected, nothing to say.
        FromContainers::Absent(why) => unread(&why, &mut sources),
        FromContainers::Failed(why) => {
            if named.is_empty() {
                notes.push(format!("container output not read: {why}"));
            }
            unread(&why, &mut sources);
        }
        FromContainers::Read(read) => {
            sources.extend(read.sources);
            notes.extend(read.notes);
        }
        FromContainers::Pending(_) => unreachable!("settled above"),
    }
    if sources.is_empty() {
        let e = Failure::Skipped(
            "no log to scan: name application, proxy or database logs with --log PATH (the \
             output of running containers is read when Docker answers)"
                .into(),
        );
        return (Err(e), notes);
    }
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    if !sources.iter().any(|s| s.status == Status::Ok) {
        let why: Vec<String> = sources
            .iter()
            .map(|s| format!("{}: {}", s.name, s.message.clone().unwrap_or_default()))
            .collect();
        let e = Failure::Error(format!("no log could be read: {}", why.join("; ")));
        return (Err(e), notes);
    }
    (Ok(scanner.summarize(sources)), notes)
}

/// Files only: [`scan`] then [`complete`] without containers.
pub fn finish(start: Start) -> (Result<Logs, Failure>, Vec<String>) {
    complete(scan(start), FromContainers::Off)
}

/// The `logs` section from the files' section (its time and status) and the containers' output,
/// waited for until `deadline`.
pub fn section(
    files: Section<Scanned>,
    containers: FromContainers,
    deadline: Instant,
) -> Section<Logs> {
    let containers = containers.settle(deadline);
    let reading = match &containers {
        FromContainers::Read(read) => read.elapsed,
        _ => Duration::ZERO,
    };
    let Section {
        status,
        message,
        mut notes,
        elapsed_ms,
        data,
    } = files;
    let Some(scanned) = data else {
        return Section {
            status,
            message,
            notes,
            elapsed_ms,
            data: None,
        };
    };
    let (result, more) = complete(scanned, containers);
    notes.extend(more);
    let section = match result {
        Ok(logs) => Section::ok(logs, Duration::ZERO),
        Err(Failure::Skipped(m)) => Section::skipped(m),
        Err(Failure::Error(m)) => Section::error(m, Duration::ZERO),
    };
    Section {
        notes,
        elapsed_ms: crate::snapshot::round_ms(
            Duration::from_secs_f64(elapsed_ms / 1000.0) + reading,
        ),
        ..section
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::symlink;

    fn request(paths: &[&Path]) -> Request {
        Request {
            scanner: Some(Scanner::builtin().unwrap()),
            paths: paths.iter().map(|p| p.display().to_string()).collect(),
            ..Request::default()
        }
    }

    fn append(path: &Path, text: &str) {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }

    fn source<'a>(logs: &'a Logs, path: &Path) -> &'a LogSource {
        logs.sources
            .iter()
            .find(|s| s.path.as_deref() == Some(path.to_str().unwrap()))
            .unwrap_or_else(|| panic!("no source for {}: {:#?}", path.display(), logs.sources))
    }

    #[test]
    fn growth_during_the_window_counts_separately_from_history() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app.log");
        append(&app, "Error: Queue limit reached.\nok\n");
        let start = begin(&request(&[&app])).unwrap();
        let during = "Error: Queue limit reached.\nError: read ECONNRESET\n";
        append(&app, during);
        let logs = finish(start).0.unwrap();
        let s = source(&logs, &app);
        assert_eq!(s.status, Status::Ok);
        assert_eq!(s.matches["mysql-queue-limit"].count, 2);
        assert_eq!(s.matches["mysql-queue-limit"].in_window, 1);
        assert_eq!(s.matches["node-econnreset"].in_window, 1);
        assert_eq!(s.window_bytes, Some(during.len() as u64));
        assert!(!s.tail_truncated);
        assert_eq!(logs.categories["db-pool-exhausted"].in_window, 1);
    }

    #[test]
    fn only_the_tail_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app.log");
        let line = "Error: Queue limit reached.\n"; // 28 bytes
        append(&app, &line.repeat(100));
        let mut req = request(&[&app]);
        req.tail_bytes = 28 * 10;
        let logs = finish(begin(&req).unwrap()).0.unwrap();
        let s = source(&logs, &app);
        assert!(s.tail_truncated);
        assert_eq!(
            s.matches["mysql-queue-limit"].count, 10,
            "a tail on a line start keeps it"
        );
        req.tail_bytes = 28 * 10 - 3;
        let logs = finish(begin(&req).unwrap()).0.unwrap();
        assert_eq!(
            source(&logs, &app).matches["mysql-queue-limit"].count,
            9,
            "the partial first line is skipped"
        );
    }

    #[test]
    fn rotated_and_truncated_files_are_counted_and_noted() {
        let dir = tempfile::tempdir().unwrap();
        let rotated = dir.path().join("rotated.log");
        let truncated = dir.path().join("truncated.log");
        append(&rotated, &"Error: Queue limit reached.\n".repeat(5));
        append(&truncated, &"Error: Queue limit reached.\n".repeat(5));
        let start = begin(&request(&[&rotated, &truncated])).unwrap();
        std::fs::rename(&rotated, dir.path().join("rotated.log.1")).unwrap();
        append(&rotated, "Error: Queue limit reached.\n");
        std::fs::write(&truncated, "Too many connections\n").unwrap();
        let logs = finish(start).0.unwrap();
        let r = source(&logs, &rotated);
        assert_eq!(r.matches["mysql-queue-limit"].count, 1);
        assert_eq!(r.matches["mysql-queue-limit"].in_window, 1);
        assert!(r.notes[0].contains("rotated"), "{:?}", r.notes);
        assert_eq!(r.window_bytes, None);
        let t = source(&logs, &truncated);
        assert!(!t.matches.contains_key("mysql-queue-limit"));
        assert_eq!(t.matches["mysql-too-many-connections"].in_window, 1);
        assert!(
            t.notes[0].contains("shrank from 140 to 21 bytes"),
            "{:?}",
            t.notes
        );
    }

    #[test]
    fn an_unreadable_source_is_an_error_for_itself_only() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.log");
        append(&good, "Error: Queue limit reached.\n");
        let missing = dir.path().join("missing.log");
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let nothing = dir.path().join("none-*.log");
        let start = begin(&request(&[&good, &missing, dir.path(), &fifo, &nothing])).unwrap();
        let logs = finish(start).0.unwrap();
        assert_eq!(source(&logs, &good).status, Status::Ok);
        let m = source(&logs, &missing);
        assert_eq!(m.status, Status::Error);
        assert!(
            m.message.as_ref().unwrap().contains("No such file"),
            "{m:?}"
        );
        let d = source(&logs, dir.path());
        assert!(
            d.message.as_ref().unwrap().contains("is a directory"),
            "{d:?}"
        );
        let f = source(&logs, &fifo);
        assert!(
            f.message.as_ref().unwrap().contains("not a regular file"),
            "{f:?}"
        );
        let g = logs
            .sources
            .iter()
            .find(|s| s.name.ends_with("none-*.log"))
            .unwrap();
        assert_eq!(g.status, Status::Error);
        assert_eq!(logs.patterns["mysql-queue-limit"].count, 1);

        let err = finish(begin(&request(&[&missing])).unwrap()).0.unwrap_err();
        assert!(err.to_string().starts_with("no log could be read"), "{err}");
        let none = finish(begin(&request(&[])).unwrap()).0.unwrap_err();
        assert!(matches!(none, Failure::Skipped(_)), "{none}");
        let off = begin(&Request::default()).unwrap_err();
        assert!(matches!(off, Failure::Skipped(_)), "{off}");
    }

    #[test]
    fn globs_do_not_follow_symlinks_but_named_symlinks_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret.log");
        append(&secret, "Error: Queue limit reached.\n");
        std::fs::create_dir_all(outside.path().join("tree")).unwrap();
        append(
            &outside.path().join("tree/app.log"),
            "Error: Queue limit reached.\n",
        );

        let logs_dir = dir.path().join("logs");
        std::fs::create_dir(&logs_dir).unwrap();
        append(&logs_dir.join("app.log"), "Error: read ECONNRESET\n");
        append(&logs_dir.join(".hidden.log"), "Error: read ECONNRESET\n");
        symlink(&secret, logs_dir.join("evil.log")).unwrap();
        std::fs::create_dir(logs_dir.join("sub")).unwrap();
        append(&logs_dir.join("sub/b.log"), "Error: read ECONNRESET\n");
        symlink(outside.path().join("tree"), logs_dir.join("linked")).unwrap();

        let glob = format!("{}/*.log", logs_dir.display());
        let deep = format!("{}/*/*.log", logs_dir.display());
        let mut req = request(&[]);
        req.paths = vec![glob, deep];
        let (logs, notes) = finish(begin(&req).unwrap());
        let logs = logs.unwrap();
        let names: Vec<&str> = logs.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                logs_dir.join("app.log").to_str().unwrap(),
                logs_dir.join("sub/b.log").to_str().unwrap()
            ]
        );
        assert_eq!(
            logs.patterns["mysql-queue-limit"].count, 0,
            "nothing read through a link"
        );
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes.iter().all(|n| n.contains("symlink")), "{notes:?}");

        // Named explicitly, a symlink is the user's choice and is read.
        let named = logs_dir.join("evil.log");
        let logs = finish(begin(&request(&[&named])).unwrap()).0.unwrap();
        assert_eq!(logs.patterns["mysql-queue-limit"].count, 1);
    }

    #[test]
    fn a_late_source_counts_from_when_it_was_added() {
        let dir = tempfile::tempdir().unwrap();
        let err_log = dir.path().join("error.log");
        append(
            &err_log,
            "2025-01-03 10:09:19 5 [Warning] Aborted connection 5 to db: 'app' user: 'app' host: 'localhost' (Got timeout reading communication packets)\n",
        );
        // No --log at all: the error log alone, found during the window.
        let mut start = begin(&request(&[])).unwrap();
        start.add(&err_log, SourceKind::MysqlErrorLog);
        append(
            &err_log,
            "2025-01-03 10:09:20 6 [Warning] Aborted connection 6 to db: 'app' user: 'app' host: 'localhost' (Got an error reading communication packets)\n",
        );
        let logs = finish(start).0.unwrap();
        let e = source(&logs, &err_log);
        assert_eq!(e.kind, SourceKind::MysqlErrorLog);
        assert_eq!(e.matches["mysql-aborted-connection-timeout"].in_window, 0);
        assert_eq!(e.matches["mysql-aborted-connection-error"].in_window, 1);
        assert!(
            e.notes[0].contains("after the window started"),
            "{:?}",
            e.notes
        );
        assert_eq!(logs.categories["db-connection-aborted"].count, 2);
    }

    #[test]
    fn container_sources_join_the_files_or_say_why_they_are_missing() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app.log");
        append(&app, "Error: Queue limit reached.\n");
        let scanner = Scanner::builtin().unwrap();
        let container = scanner
            .scan(
                &b"2025-01-03T10:09:19.000000000Z Error: Queue limit reached.\n"[..],
                ScanOptions {
                    window_from: Some(0),
                    ..ScanOptions::default()
                },
            )
            .unwrap()
            .into_source("backend_prod", SourceKind::Container, None);
        let read = FromContainers::Read(LogsRead {
            sources: vec![container],
            notes: vec!["60 containers run".into()],
            ..LogsRead::default()
        });
        let (logs, notes) = complete(scan(begin(&request(&[&app])).unwrap()), read);
        let logs = logs.unwrap();
        assert_eq!(logs.sources.len(), 2);
        assert_eq!(
            logs.patterns["mysql-queue-limit"].count, 2,
            "files and containers"
        );
        assert_eq!(logs.categories["db-pool-exhausted"].in_window, 1);
        assert_eq!(notes, ["60 containers run"]);

        // No engine: nothing added, nothing said, unless a container was named.
        let (logs, notes) = complete(
            scan(begin(&request(&[&app])).unwrap()),
            FromContainers::Absent("no Docker daemon here".into()),
        );
        assert_eq!(logs.unwrap().sources.len(), 1);
        assert!(notes.is_empty(), "{notes:?}");
        let mut named = request(&[]);
        named.containers = vec!["backend_prod".into()];
        let (logs, _) = complete(
            scan(begin(&named).unwrap()),
            FromContainers::Absent("no Docker daemon here".into()),
        );
        let err = logs.unwrap_err().to_string();
        assert!(
            err.contains("backend_prod: container output not read: no Docker daemon here"),
            "{err}"
        );

        // A failed engine is a note beside the files that were read.
        let (logs, notes) = complete(
            scan(begin(&request(&[&app])).unwrap()),
            FromContainers::Failed("containers did not answer".into()),
        );
        assert_eq!(logs.unwrap().sources.len(), 1);
        assert_eq!(
            notes,
            ["container output not read: containers did not answer"]
        );

        // Nothing at all: skipped, saying how to get a log.
        let (logs, _) = complete(scan(begin(&request(&[])).unwrap()), FromContainers::Off);
        assert!(matches!(logs, Err(Failure::Skipped(m)) if m.contains("--log PATH")));
    }
}
