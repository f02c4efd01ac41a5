//! Containers' output as log sources: what `docker logs --timestamps --since T NAME` shows, read
//! through the engine's logs API at the window's end and scanned like a file's tail.
//!
//! Started by the Docker collector right after its end reading, with the list of running
//! containers it has just read (the list is not asked for twice), on a thread of its own that
//! takes the engine connection over ([`spawn`]): a slow answer costs the `logs` section, never the
//! `containers` section. For each selected container the output since a bounded time before the
//! window (`--container-log-since`, default 10 minutes) is read, stdout and stderr together, the
//! newest lines first ([`read_one`]: `tail=N` with N growing until every line since then is held,
//! the tail is full, or the deadline comes). Each line carries the engine's timestamp
//! (`timestamps=true`), which says on which side of the window's start it was written: the lines
//! from before go first in the buffer handed to the scanner, those from during the window after
//! them, so `in_window` is exact even where stdout and stderr interleave out of order. Only the
//! last `--log-tail-bytes` are kept (two ring buffers, one per side), and at most [`CONCURRENT`]
//! containers are read at once; what is read is also bounded by the time the engine has (it
//! sends about 10 MB/s of json-file log here).
//!
//! What the engine sends (moby `api/server/httputils/write_log_stream.go`, `WriteLogStream`):
//! one entry per line, written as `<RFC 3339, 9 fraction digits, UTC> <line>`; a line longer than
//! 16 KiB (moby `daemon/logger/copier.go`) is sent as several entries, each with its own
//! timestamp, all but the last without the final newline. A container
//! without a TTY has its entries in frames marked stdout or stderr (bollard's `LogOutput`); one with
//! a TTY sends a raw stream, which bollard splits at newlines (`LogOutput::Console`). A container
//! whose logging driver keeps nothing the engine can read (`--log-driver none`, syslog, ...) is
//! an error source with the engine's answer (501 "configured logging driver does not support
//! reading").

use super::engine::{ContainerRef, Engine, api_failure, short};
use crate::collect::logs::LogsRead;
use crate::scan::{ScanOptions, Scanner, YearHint, failed_source};
use crate::snapshot::{LogSource, SourceKind};
use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptions;
use futures_util::StreamExt;
use std::io::Read;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Without `--container`, at most this many containers' output is read (by name), with a note
/// when more run.
pub const MAX_CONTAINERS: usize = 50;
/// Containers whose output is streamed and held at the same time.
const CONCURRENT: usize = 4;
/// A line sent in several entries (longer than the engine's 16 KiB) is kept up to this length;
/// the scanner looks at a line's first [`crate::scan::MAX_LINE`] bytes anyway.
const MAX_JOINED_LINE: usize = crate::scan::MAX_LINE + 1024;

/// What to read, decided before the window starts.
#[derive(Debug, Clone)]
pub struct LogRequest {
    pub scanner: Scanner,
    /// `--container` names (or ids); empty means every running container.
    pub names: Vec<String>,
    /// How long before the window's start the output is read from (`--container-log-since`).
    pub look_back: Duration,
    /// Bytes kept per container, the last ones (`--log-tail-bytes`).
    pub tail_bytes: u64,
    /// The window's start on the wall clock (`window.start`): lines the engine stamped at or
    /// after it are `in_window`.
    pub window_start: SystemTime,
    /// When reading the output must be over; a container not read by then is an error source.
    pub deadline: Instant,
}

/// Reads the containers' output on a thread of its own, which takes over the engine connection:
/// however long the engine takes to send it, the `containers` section is not held up. The answer
/// comes on the channel; the `logs` section waits for it until the snapshot's deadline.
pub(super) fn spawn(
    engine: Engine,
    running: Vec<ContainerRef>,
    req: LogRequest,
) -> mpsc::Receiver<LogsRead> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("doctor-container-logs".to_owned())
        .spawn({
            let tx = tx.clone();
            move || {
                let t = Instant::now();
                let mut read = read(&engine, &running, &req);
                read.elapsed = t.elapsed();
                // The receiver is gone when the deadline passed: nobody wants the answer any more.
                let _ = tx.send(read);
            }
        });
    if let Err(e) = spawned {
        let _ = tx.send(LogsRead {
            sources: Vec::new(),
            notes: vec![format!(
                "container output not read: cannot start its thread: {e}"
            )],
            elapsed: Duration::ZERO,
        });
    }
    rx
}

/// Reads and scans the output of the containers `req` selects among `running`.
fn read(engine: &Engine, running: &[ContainerRef], req: &LogRequest) -> LogsRead {
    let (chosen, mut sources, notes) = select(running, &req.names, MAX_CONTAINERS);
    if chosen.is_empty() {
        return LogsRead {
            sources,
            notes,
            ..LogsRead::default()
        };
    }
    let since = req
        .window_start
        .checked_sub(req.look_back)
        .unwrap_or(UNIX_EPOCH);
    // Whole seconds (the API also takes fractions; bollard's field is an i32), rounded down: up
    // to a second more history. 0 would mean "from the beginning", so at least 1.
    let since = i32::try_from(since.duration_since(UNIX_EPOCH).map_or(1, |d| d.as_secs()))
        .unwrap_or(i32::MAX)
        .max(1);
    let started = Instant::now();
    let each = chosen
        .into_iter()
        .map(|c| async move { read_one(engine, &c, req, since, started).await });
    let all = futures_util::stream::iter(each)
        .buffer_unordered(CONCURRENT)
        .collect::<Vec<_>>();
    // The per-container deadlines fire first; this one is the backstop.
    match engine.block_on(
        req.deadline + Duration::from_secs(1),
        "send the containers' output",
        all,
    ) {
        Ok(read) => sources.extend(read),
        Err(e) => {
            return LogsRead {
                sources,
                notes: vec![format!("container output not read: {e}")],
                ..LogsRead::default()
            };
        }
    }
    LogsRead {
        sources,
        notes,
        ..LogsRead::default()
    }
}

/// The first read asks for this many of the newest lines (`tail`), each next one for
/// [`GROWTH`] times more, until a read holds every line since the look-back, fills the tail, or
/// the deadline comes.
const FIRST_LINES: u64 = 1024;
const GROWTH: u64 = 8;

/// One container's output, newest first in the sense that matters: a read with `since` alone
/// makes the engine decode its whole log file from the beginning to find where `since` starts
/// (0.3 s for 20 MB of json-file log here, and a container's log without `max-size` grows for
/// ever), while `tail=N` makes it seek back N lines from the end (moby `daemon/logger/loggerutils`
/// `tailFiles`) and then apply `since` to those. So the newest lines are asked for, more each
/// time, and the last read that completed is kept: when the deadline comes, what is held is
/// always the most recent output, the window's lines included.
async fn read_one(
    engine: &Engine,
    c: &ContainerRef,
    req: &LogRequest,
    since: i32,
    started: Instant,
) -> LogSource {
    let cap = usize::try_from(req.tail_bytes.saturating_add(1)).unwrap_or(usize::MAX);
    let deadline = tokio::time::Instant::from_std(req.deadline);
    let mut kept: Option<(Split, u64, bool)> = None;
    let mut asked = FIRST_LINES;
    loop {
        let options = LogsOptions {
            follow: false,
            stdout: true,
            stderr: true,
            since,
            until: 0,
            timestamps: true,
            tail: asked.to_string(),
        };
        let mut split = Split::new(req.window_start, cap);
        let stream = engine.client().logs(&c.id, Some(options));
        match tokio::time::timeout_at(deadline, feed(stream, &mut split, c, engine)).await {
            Err(_) => break,
            Ok(Err(message)) => return failed(c, message),
            Ok(Ok(entries)) => {
                // Fewer lines than asked: the engine had no more since the look-back.
                let complete = entries < asked;
                let full = split.dropped();
                kept = Some((split, entries, complete));
                if complete || full {
                    break;
                }
                asked = asked.saturating_mul(GROWTH);
            }
        }
    }
    let Some((split, entries, complete)) = kept else {
        return failed(
            c,
            format!(
                "the Docker engine had not sent this container's output after {:.1} s, the \
                 collector's deadline (hung or overloaded?)",
                started.elapsed().as_secs_f64()
            ),
        );
    };
    let mut source = scan(&req.scanner, c, split, req.tail_bytes, req.window_start);
    if !complete && !source.tail_truncated {
        source.tail_truncated = true;
        source.notes.push(format!(
            "only the last {entries} lines were read: the engine did not send more before the \
             deadline, so older lines (history, and the window's first lines if it wrote more \
             than that during it) are not counted"
        ));
    }
    source
}

fn failed(c: &ContainerRef, message: impl Into<String>) -> LogSource {
    let mut s = failed_source(&c.name, SourceKind::Container, None, message);
    s.container_id = Some(short(&c.id).to_owned());
    s
}

/// Streams one container's output into `split`; the number of entries (log lines) the engine
/// sent, or the error worded for the user.
async fn feed(
    mut stream: impl futures_util::Stream<Item = Result<LogOutput, bollard::errors::Error>> + Unpin,
    split: &mut Split,
    c: &ContainerRef,
    engine: &Engine,
) -> Result<u64, String> {
    let mut entries = 0;
    while let Some(item) = stream.next().await {
        entries += 1;
        match item {
            Ok(LogOutput::StdOut { message }) => split.push(Stream::Out, &message),
            Ok(LogOutput::StdErr { message }) => split.push(Stream::Err, &message),
            Ok(LogOutput::Console { message } | LogOutput::StdIn { message }) => {
                split.push(Stream::Console, &message);
            }
            Err(e) => {
                return Err(api_failure(
                    &engine.target,
                    &format!("read the output of {}", c.name),
                    &e,
                )
                .to_string());
            }
        }
    }
    split.end();
    Ok(entries)
}

/// Which containers to read: every running one (at most `limit`, by name), or the ones named,
/// each by its name or a unique prefix of its id. A name that matches no running container is a
/// failed source of its own.
fn select(
    running: &[ContainerRef],
    names: &[String],
    limit: usize,
) -> (Vec<ContainerRef>, Vec<LogSource>, Vec<String>) {
    let mut notes = Vec::new();
    if names.is_empty() {
        let mut all = running.to_vec();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        if all.len() > limit {
            notes.push(format!(
                "{} containers run; the output of the first {limit} by name was read (name the \
                 others with --container)",
                all.len()
            ));
            all.truncate(limit);
        }
        return (all, Vec::new(), notes);
    }
    let mut chosen: Vec<ContainerRef> = Vec::new();
    let mut failed = Vec::new();
    for name in names {
        let wanted = name.trim_start_matches('/');
        let by_name = running.iter().find(|c| c.name == wanted);
        let by_id = || {
            let mut m = running
                .iter()
                .filter(|c| !wanted.is_empty() && c.id.starts_with(wanted));
            match (m.next(), m.next()) {
                (Some(c), None) => Some(c),
                _ => None,
            }
        };
        match by_name.or_else(by_id) {
            Some(c) if chosen.iter().any(|x| x.id == c.id) => {}
            Some(c) => chosen.push(c.clone()),
            None => failed.push(failed_source(
                name,
                SourceKind::Container,
                None,
                format!("no running container named {name} (`docker ps` lists them)"),
            )),
        }
    }
    (chosen, failed, notes)
}

/// The two streams of a container without a TTY, and the raw stream of one with a TTY.
#[derive(Debug, Clone, Copy)]
enum Stream {
    Out = 0,
    Err = 1,
    Console = 2,
}

/// A line still being received in several entries.
#[derive(Debug, Default)]
struct Open {
    line: Vec<u8>,
    during: bool,
}

/// A container's output split at the window's start by the engine's timestamps, each side
/// keeping its last bytes.
#[derive(Debug)]
struct Split {
    window_start: SystemTime,
    before: Tail,
    during: Tail,
    /// Per stream, a line whose first entries came without the final newline.
    open: [Option<Open>; 3],
    /// The side of the last line, for an entry without a timestamp (which the engine does not
    /// send; kept with its neighbours rather than guessed).
    last_during: bool,
}

impl Split {
    fn new(window_start: SystemTime, cap: usize) -> Self {
        Split {
            window_start,
            before: Tail::new(cap),
            during: Tail::new(cap),
            open: [None, None, None],
            last_during: false,
        }
    }

    /// One entry as the engine sent it: `<timestamp> <text>`, ending in a newline unless the
    /// line continues in the next entry of the same stream.
    fn push(&mut self, stream: Stream, entry: &[u8]) {
        let complete = entry.ends_with(b"\n");
        let slot = &mut self.open[stream as usize];
        if let Some(open) = slot {
            // A continuation: its own timestamp would land in the middle of the line.
            let text = stamp(entry).map_or(entry, |(_, rest)| rest);
            let room = MAX_JOINED_LINE.saturating_sub(open.line.len());
            let text = if text.len() > room {
                &text[..room]
            } else {
                text
            };
            open.line.extend_from_slice(text);
            if complete {
                if !open.line.ends_with(b"\n") {
                    open.line.push(b'\n');
                }
                let open = slot.take().unwrap_or_default();
                self.keep(open.during, &open.line);
            }
            return;
        }
        let during = match stamp(entry) {
            Some((t, _)) => t >= self.window_start,
            None => self.last_during,
        };
        self.last_during = during;
        if complete {
            self.keep(during, entry);
        } else {
            let len = entry.len().min(MAX_JOINED_LINE);
            *slot = Some(Open {
                line: entry[..len].to_vec(),
                during,
            });
        }
    }

    /// The end of the output: a last line without a newline is kept, ended, so the next side's
    /// first line does not join it.
    fn end(&mut self) {
        for i in 0..self.open.len() {
            if let Some(mut open) = self.open[i].take() {
                open.line.push(b'\n');
                self.keep(open.during, &open.line);
            }
        }
    }

    /// More was written than the tail holds.
    fn dropped(&self) -> bool {
        self.before.dropped()
            || self.during.dropped()
            || self.before.len() + self.during.len() > self.during.cap
    }

    fn keep(&mut self, during: bool, line: &[u8]) {
        if during {
            self.during.push(line);
        } else {
            self.before.push(line);
        }
    }
}

/// The engine's timestamp at the start of an entry (`2026-11-27T07:53:41.539014405Z `) and the
/// text after it.
fn stamp(entry: &[u8]) -> Option<(SystemTime, &[u8])> {
    let space = entry.iter().take(40).position(|&b| b == b' ')?;
    let text = std::str::from_utf8(&entry[..space]).ok()?;
    let t = humantime::parse_rfc3339(text).ok()?;
    Some((t, &entry[space + 1..]))
}

/// The last `cap` bytes written to it (a ring that grows up to `cap` as needed).
#[derive(Debug)]
struct Tail {
    buf: Vec<u8>,
    cap: usize,
    /// Where the oldest byte is once the ring is full.
    head: usize,
    written: u64,
}

impl Tail {
    fn new(cap: usize) -> Self {
        Tail {
            buf: Vec::new(),
            cap: cap.max(1),
            head: 0,
            written: 0,
        }
    }

    fn push(&mut self, mut data: &[u8]) {
        self.written += data.len() as u64;
        if data.len() >= self.cap {
            data = &data[data.len() - self.cap..];
            self.buf.clear();
            self.head = 0;
        }
        if self.buf.len() < self.cap {
            let n = (self.cap - self.buf.len()).min(data.len());
            let need = self.buf.len() + n;
            if need > self.buf.capacity() {
                // Double as a Vec does, but never beyond the cap.
                let target = (self.buf.capacity() * 2).max(need).max(4096).min(self.cap);
                self.buf.reserve_exact(target - self.buf.len());
            }
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        while !data.is_empty() {
            let n = (self.cap - self.head).min(data.len());
            self.buf[self.head..self.head + n].copy_from_slice(&data[..n]);
            self.head = (self.head + n) % self.cap;
            data = &data[n..];
        }
    }

    fn len(&self) -> usize {
        self.buf.len()
    }

    fn dropped(&self) -> bool {
        self.written > self.buf.len() as u64
    }

    /// The last `n` bytes held, oldest first, as two slices.
    fn last(&self, n: usize) -> (&[u8], &[u8]) {
        let (a, b) = (&self.buf[self.head..], &self.buf[..self.head]);
        let skip = self.buf.len() - n.min(self.buf.len());
        if skip >= a.len() {
            (&b[skip - a.len()..], &[])
        } else {
            (&a[skip..], b)
        }
    }
}

/// Scans what was kept: the lines from before the window, then those from during it.
fn scan(
    scanner: &Scanner,
    c: &ContainerRef,
    split: Split,
    tail_bytes: u64,
    window_start: SystemTime,
) -> LogSource {
    let Split { before, during, .. } = split;
    // Both sides share the tail: the window's lines first, then as much history as fits. One
    // byte more than the tail is kept, so a line starting exactly at the tail's start is kept
    // whole (the scanner skips up to the first newline of a truncated stream).
    let cap = during.cap;
    let before_kept = before.len().min(cap - during.len());
    let truncated = before.dropped() || during.dropped() || before_kept < before.len();
    let (b1, b2) = before.last(before_kept);
    let (d1, d2) = during.last(during.len());
    let reader = b1.chain(b2).chain(d1).chain(d2);
    let opts = ScanOptions {
        window_from: Some(before_kept as u64),
        skip_partial_first_line: truncated,
        year_hint: Some(YearHint::at(window_start)),
        record_lines: false,
    };
    let mut source = match scanner.scan(reader, opts) {
        Ok(s) => s.into_source(&c.name, SourceKind::Container, None),
        // Reading from memory does not fail; kept for the type.
        Err(e) => return failed(c, format!("cannot scan the output: {e}")),
    };
    source.container_id = Some(short(&c.id).to_owned());
    source.tail_truncated = truncated;
    source.window_bytes = Some(during.written);
    if during.dropped() {
        source.notes.push(format!(
            "wrote {} bytes during the window, more than the {tail_bytes}-byte tail read: only \
             the last part of the window was scanned",
            during.written
        ));
    }
    source
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Status;

    fn at(s: &str) -> SystemTime {
        humantime::parse_rfc3339(s).unwrap()
    }

    fn container(name: &str, id: &str) -> ContainerRef {
        ContainerRef {
            id: id.to_owned(),
            name: name.to_owned(),
            image: "busybox".to_owned(),
        }
    }

    const START: &str = "2025-01-03T10:09:19.000000000Z";

    fn scanned(split: Split, tail: u64) -> LogSource {
        let s = Scanner::builtin().unwrap();
        scan(
            &s,
            &container("app", "0123456789abcdef"),
            split,
            tail,
            at(START),
        )
    }

    #[test]
    fn lines_are_placed_by_their_timestamp_not_their_arrival() {
        let mut s = Split::new(at(START), 1 << 20);
        s.push(
            Stream::Out,
            b"2025-01-03T10:09:18.000000000Z Error: Queue limit reached.\n",
        );
        s.push(
            Stream::Out,
            b"2025-01-03T10:09:19.000000000Z Error: Queue limit reached.\n",
        );
        // stderr's entry from before the window arrives after stdout's from during it.
        s.push(
            Stream::Err,
            b"2025-01-03T10:09:18.999999999Z Error: read ECONNRESET\n",
        );
        s.push(
            Stream::Err,
            b"2025-01-03T10:09:20.500000000Z Error: read ECONNRESET\n",
        );
        s.end();
        let src = scanned(s, 64 << 20);
        assert_eq!(src.status, Status::Ok);
        assert_eq!(src.kind, SourceKind::Container);
        assert_eq!(src.container_id.as_deref(), Some("0123456789ab"));
        let q = &src.matches["mysql-queue-limit"];
        assert_eq!((q.count, q.in_window), (2, 1), "at the start is inside");
        let r = &src.matches["node-econnreset"];
        assert_eq!((r.count, r.in_window), (2, 1));
        assert_eq!(
            r.first_ts.as_deref(),
            Some("2025-01-03T10:09:18.999999999Z")
        );
        assert_eq!(src.window_bytes, Some(59 + 54));
        assert!(!src.tail_truncated);
    }

    #[test]
    fn a_long_line_sent_in_parts_is_one_line_and_streams_do_not_mix() {
        let mut s = Split::new(at(START), 1 << 20);
        s.push(Stream::Out, b"2025-01-03T10:09:20.000000000Z Error: Queue ");
        s.push(
            Stream::Err,
            b"2025-01-03T10:09:20.000000001Z Error: read ECONNRESET\n",
        );
        s.push(
            Stream::Out,
            b"2025-01-03T10:09:20.000000002Z limit reached.\n",
        );
        // A last line without a newline, from before the window, is ended at the end.
        s.push(
            Stream::Console,
            b"2025-01-03T10:09:10.000000000Z Too many connections",
        );
        s.end();
        let src = scanned(s, 64 << 20);
        let q = &src.matches["mysql-queue-limit"];
        assert_eq!((q.count, q.in_window), (1, 1));
        assert_eq!(
            q.sample,
            "2025-01-03T10:09:20.000000000Z Error: Queue limit reached."
        );
        assert_eq!(src.matches["node-econnreset"].in_window, 1);
        let t = &src.matches["mysql-too-many-connections"];
        assert_eq!((t.count, t.in_window), (1, 0));
        assert_eq!(src.matched_lines, 3);
    }

    #[test]
    fn only_the_tail_is_kept_the_window_first() {
        let line =
            |t: &str| format!("2025-01-03T10:09:{t}.000000000Z Error: Queue limit reached.\n");
        let len = line("00").len() as u64; // 59
        let mut s = Split::new(at(START), (3 * len + 1) as usize);
        for t in ["01", "02", "03", "04", "05"] {
            s.push(Stream::Out, line(t).as_bytes());
        }
        for t in ["20", "21"] {
            s.push(Stream::Out, line(t).as_bytes());
        }
        s.end();
        let src = scanned(s, 3 * len);
        assert!(src.tail_truncated);
        let q = &src.matches["mysql-queue-limit"];
        assert_eq!(
            (q.count, q.in_window),
            (3, 2),
            "the last 3 lines: 1 before, 2 during"
        );
        assert_eq!(
            q.first_ts.as_deref(),
            Some("2025-01-03T10:09:05.000000000Z")
        );
        assert!(src.notes.is_empty(), "{:?}", src.notes);

        // More during the window than the tail: the window's last lines only, and a note.
        let mut s = Split::new(at(START), (2 * len + 1) as usize);
        for t in ["01", "20", "21", "22", "23"] {
            s.push(Stream::Out, line(t).as_bytes());
        }
        s.end();
        let src = scanned(s, 2 * len);
        let q = &src.matches["mysql-queue-limit"];
        assert_eq!((q.count, q.in_window), (2, 2));
        assert_eq!(
            q.first_ts.as_deref(),
            Some("2025-01-03T10:09:22.000000000Z")
        );
        assert_eq!(src.window_bytes, Some(4 * len));
        assert!(src.notes[0].contains("more than the"), "{:?}", src.notes);

        // A tail cutting a line: the cut line is not counted.
        let mut s = Split::new(at(START), (2 * len - 3 + 1) as usize);
        for t in ["01", "02", "20"] {
            s.push(Stream::Out, line(t).as_bytes());
        }
        s.end();
        let q = scanned(s, 2 * len - 3).matches["mysql-queue-limit"].clone();
        assert_eq!((q.count, q.in_window), (1, 1));
    }

    #[test]
    fn the_ring_keeps_the_last_bytes() {
        let mut t = Tail::new(5);
        t.push(b"abc");
        assert_eq!(t.last(5), (&b"abc"[..], &b""[..]));
        t.push(b"defg");
        let (a, b) = t.last(5);
        assert_eq!([a, b].concat(), b"cdefg");
        let (a, b) = t.last(2);
        assert_eq!([a, b].concat(), b"fg");
        t.push(b"0123456789");
        let (a, b) = t.last(5);
        assert_eq!([a, b].concat(), b"56789");
        assert!(t.dropped());
        assert_eq!(t.buf.capacity(), 5, "never more than the cap");
    }

    #[test]
    fn containers_are_chosen_by_name_or_id() {
        let running = vec![
            container("web", "aaaa1111"),
            container("db", "bbbb2222"),
            container("backend_prod", "bbbc3333"),
        ];
        let (all, failed, notes) = select(&running, &[], 2);
        let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["backend_prod", "db"]);
        assert!(failed.is_empty());
        assert!(notes[0].starts_with("3 containers run"), "{notes:?}");

        let names = ["/backend_prod", "aaaa", "bbb", "db", "bbbb2", "nope"].map(String::from);
        let (chosen, failed, notes) = select(&running, &names, 2);
        let got: Vec<&str> = chosen.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(got, ["backend_prod", "web", "db"], "bbbb2 is db again");
        let missing: Vec<&str> = failed.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            missing,
            ["bbb", "nope"],
            "an ambiguous prefix matches nothing"
        );
        assert_eq!(
            failed[1].message.as_deref(),
            Some("no running container named nope (`docker ps` lists them)")
        );
        assert!(notes.is_empty());
    }
}
