//! The log scanner: counts the lines of a byte stream that match the log patterns, in constant
//! memory and at the speed of a multi-literal search.
//!
//! It does no I/O of its own: it is handed a reader (a file's tail, a container's output) and the
//! offset where the sampling window starts, and returns what it found for that source. Files are
//! opened by `collect::logs`; container output by the Docker collector.
//!
//! How it is fast: every pattern has a set of required literals ([`literal`]); one aho-corasick
//! search (SIMD) over 1 MiB blocks finds the lines holding any of them, and only on those lines
//! are the regexes run — only the regexes of the patterns whose literals the line holds. Patterns
//! without a usable literal are searched with their own regex over the block.
//! `benches/logscan.sh` measures it against `grep -c -E`.
//!
//! Using it for another source (the Docker collector's container output): build the scanner once
//! (`Scanner::load(&pattern_dirs)`, cheap to clone into a thread), put the output in one buffer —
//! the lines from before the window, then those written during it — and call
//! `scanner.scan(&buf[..], ScanOptions { window_from: Some(boundary), year_hint: Some(YearHint::now()), ..Default::default() })`;
//! `scan.into_source(name, SourceKind::Container, None)` is the section's entry for it, and
//! `scanner.summarize(all_sources)` makes the section (its totals) from file and container sources.
//!
//! What it copes with: non-UTF-8 and binary content (regexes run on bytes, a NUL is only noted),
//! lines of any length (matched on their first [`MAX_LINE`] bytes, still counted), a missing final
//! newline, and a tail that starts mid-line (that partial line is skipped).

pub mod literal;
pub mod pattern;
pub mod redact;
pub mod timestamp;

pub use pattern::{Pattern, PatternError, Source};
pub use timestamp::YearHint;

use crate::snapshot::{
    CategoryTotal, LogSource, Logs, PatternMatch, PatternTotal, SourceKind, Status,
};
use aho_corasick::AhoCorasick;
use memchr::{memchr, memrchr};
use std::collections::BTreeMap;
use std::io::{ErrorKind, Read};
use std::path::Path;
use std::sync::Arc;

/// Lines are matched on their first 64 KiB; the rest of a longer line is skipped (it still counts
/// as one line).
pub const MAX_LINE: usize = 64 * 1024;
/// Bytes read and searched at a time: large enough for the SIMD search to run at full speed,
/// small enough to stay in the CPU cache and keep memory constant.
const BLOCK: usize = 1024 * 1024;
/// Samples are cut to this many characters after redaction.
pub const SAMPLE_CHARS: usize = 500;

/// The compiled patterns. Cheap to clone (shared), `Send + Sync`: build it once and hand it to
/// every collector that has logs to scan.
#[derive(Clone)]
pub struct Scanner {
    inner: Arc<Inner>,
}

struct Inner {
    patterns: Vec<Pattern>,
    /// Sorted, unique.
    categories: Vec<String>,
    /// Pattern index → category index.
    category_of: Vec<usize>,
    /// Number of patterns searched through their literals.
    fast: usize,
    /// Finds the first literal of a line, fast (leftmost-first: SIMD).
    literals: Option<AhoCorasick>,
    /// Literal index → the patterns that may match where it is found: those requiring it and
    /// those requiring a longer literal it is a prefix of (at one position leftmost-first
    /// reports only the first literal in sorted order, which is the shortest).
    owners: Vec<Vec<usize>>,
    /// Patterns without a usable literal: (pattern index, the regex in multi-line mode).
    slow: Vec<(usize, regex::bytes::Regex)>,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("patterns", &self.inner.patterns.len())
            .field("fast", &self.inner.fast)
            .field("slow", &self.inner.slow.len())
            .finish()
    }
}

/// How to scan one source.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanOptions {
    /// Offset in the stream where the window starts: lines starting at or after it count as
    /// `in_window`. `None` when unknown (nothing counts as in the window).
    pub window_from: Option<u64>,
    /// The stream starts somewhere inside a line (a file's tail): skip up to the first newline.
    pub skip_partial_first_line: bool,
    /// The year for timestamps without one (syslog).
    pub year_hint: Option<YearHint>,
    /// Keep the stream offset of every matching line (`Scan::matched_at`): `doctor import` marks
    /// those lines of a paste as understood. Off for logs read from the machine.
    pub record_lines: bool,
}

/// What one scan found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scan {
    pub bytes_scanned: u64,
    pub matched_lines: u64,
    /// A NUL byte was seen: binary content, or the hole a copytruncate rotation leaves.
    pub binary: bool,
    pub matches: BTreeMap<String, PatternMatch>,
    pub categories: BTreeMap<String, CategoryTotal>,
    /// The stream offsets of the matching lines' starts, ascending, when
    /// `ScanOptions::record_lines` asked for them; empty otherwise.
    pub matched_at: Vec<u64>,
}

impl Scan {
    /// This scan as a source of the `logs` section.
    pub fn into_source(self, name: &str, kind: SourceKind, path: Option<&Path>) -> LogSource {
        let mut notes = Vec::new();
        if self.binary {
            notes.push(
                "contains NUL bytes (binary data, or the hole a copytruncate rotation leaves); \
                 text around them was still scanned"
                    .to_owned(),
            );
        }
        LogSource {
            name: name.to_owned(),
            kind,
            path: path.map(|p| p.display().to_string()),
            container_id: None,
            status: Status::Ok,
            message: None,
            notes,
            bytes_scanned: self.bytes_scanned,
            tail_truncated: false,
            window_bytes: None,
            matched_lines: self.matched_lines,
            matches: self.matches,
            categories: self.categories,
        }
    }
}

/// A source that could not be read.
pub fn failed_source(
    name: &str,
    kind: SourceKind,
    path: Option<&Path>,
    message: impl Into<String>,
) -> LogSource {
    LogSource {
        name: name.to_owned(),
        kind,
        path: path.map(|p| p.display().to_string()),
        container_id: None,
        status: Status::Error,
        message: Some(message.into()),
        notes: Vec::new(),
        bytes_scanned: 0,
        tail_truncated: false,
        window_bytes: None,
        matched_lines: 0,
        matches: BTreeMap::new(),
        categories: BTreeMap::new(),
    }
}

#[derive(Default)]
struct PatternAcc {
    count: u64,
    in_window: u64,
    first_ts: Option<timestamp::Stamp>,
    last_ts: Option<timestamp::Stamp>,
    /// The raw last matching line (at most [`MAX_LINE`] bytes), redacted at the end.
    sample: Vec<u8>,
}

struct Acc {
    opts: ScanOptions,
    patterns: Vec<PatternAcc>,
    categories: Vec<CategoryTotal>,
    matched_lines: u64,
    binary: bool,
    /// (line start, line end, pattern) found in the current block.
    hits: Vec<(usize, usize, usize)>,
    cats: Vec<usize>,
    candidates: Vec<usize>,
    matched_at: Vec<u64>,
}

impl Scanner {
    /// The built-in patterns plus those in `dirs` (`--patterns`).
    pub fn load(dirs: &[impl AsRef<Path>]) -> Result<Self, PatternError> {
        Ok(Self::new(pattern::load(dirs)?))
    }

    /// The built-in patterns only.
    pub fn builtin() -> Result<Self, PatternError> {
        Self::load(&[] as &[&Path])
    }

    /// Compiles validated patterns.
    ///
    /// # Panics
    /// Not on patterns from [`pattern::parse`]: each regex compiled alone there.
    pub fn new(patterns: Vec<Pattern>) -> Self {
        let mut categories: Vec<String> = patterns.iter().map(|p| p.category.clone()).collect();
        categories.sort();
        categories.dedup();
        let category_of = patterns
            .iter()
            .map(|p| {
                categories
                    .binary_search(&p.category)
                    .expect("every category was collected")
            })
            .collect();
        let mut fast = 0;
        let mut owned: BTreeMap<Vec<u8>, Vec<usize>> = BTreeMap::new();
        let mut slow = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            let hir = regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(&p.regex);
            if let Some(set) = hir.ok().as_ref().and_then(literal::required) {
                fast += 1;
                for lit in set {
                    owned.entry(lit).or_default().push(i);
                }
            } else {
                let multi = pattern::compile(&format!("(?m:{})", p.regex))
                    .expect("a valid regex stays valid in a multi-line group");
                slow.push((i, multi));
            }
        }
        let (literals, mut owners): (Vec<Vec<u8>>, Vec<Vec<usize>>) = owned.into_iter().unzip();
        for (i, lit) in literals.iter().enumerate() {
            for (j, longer) in literals.iter().enumerate() {
                if i != j && longer.starts_with(lit) {
                    let extra = owners[j].clone();
                    owners[i].extend(extra);
                }
            }
            owners[i].sort_unstable();
            owners[i].dedup();
        }
        let build = |kind| {
            (!literals.is_empty()).then(|| {
                AhoCorasick::builder()
                    .match_kind(kind)
                    .build(&literals)
                    .expect("a few dozen short literals always build")
            })
        };
        Scanner {
            inner: Arc::new(Inner {
                // Leftmost-first: only then does aho-corasick use its SIMD "Teddy" searcher (any
                // hit will do to make the line a candidate).
                literals: build(aho_corasick::MatchKind::LeftmostFirst),
                owners,
                patterns,
                categories,
                category_of,
                fast,
                slow,
            }),
        }
    }

    pub fn patterns(&self) -> &[Pattern] {
        &self.inner.patterns
    }

    /// Every category, sorted.
    pub fn categories(&self) -> &[String] {
        &self.inner.categories
    }

    /// Ids of the patterns searched with their own regex because they have no literal to look
    /// for (slower; doctor notes them).
    pub fn slow_patterns(&self) -> Vec<&str> {
        self.inner
            .slow
            .iter()
            .map(|(i, _)| self.inner.patterns[*i].id.as_str())
            .collect()
    }

    /// Scans everything `reader` yields. I/O errors other than `Interrupted` end the scan and are
    /// returned; what was found before them is lost (the caller reports the source as failed).
    pub fn scan(&self, mut reader: impl Read, opts: ScanOptions) -> std::io::Result<Scan> {
        let n = self.inner.patterns.len();
        let mut acc = Acc {
            opts,
            patterns: (0..n).map(|_| PatternAcc::default()).collect(),
            categories: vec![CategoryTotal::default(); self.inner.categories.len()],
            matched_lines: 0,
            binary: false,
            hits: Vec::new(),
            cats: Vec::new(),
            candidates: Vec::new(),
            matched_at: Vec::new(),
        };
        let mut buf = vec![0u8; BLOCK];
        let mut len = 0; // valid bytes in buf
        let mut base: u64 = 0; // stream offset of buf[0]
        let mut skipping = opts.skip_partial_first_line;
        loop {
            let (read, eof) = fill(&mut reader, &mut buf[len..])?;
            len += read;
            let mut start = 0;
            if skipping {
                if let Some(nl) = memchr(b'\n', &buf[..len]) {
                    start = nl + 1;
                    skipping = false;
                } else {
                    base += len as u64;
                    len = 0;
                    if eof {
                        break;
                    }
                    continue;
                }
            }
            let end = if eof {
                len
            } else {
                memrchr(b'\n', &buf[start..len]).map_or(start, |i| start + i + 1)
            };
            if end > start {
                self.block(&buf[start..end], base + start as u64, &mut acc);
            }
            if eof {
                break;
            }
            let rest = len - end;
            if rest >= MAX_LINE {
                // The start of a line longer than the cap: match its first MAX_LINE bytes, skip the rest.
                self.block(&buf[end..end + MAX_LINE], base + end as u64, &mut acc);
                skipping = true;
                base += len as u64;
                len = 0;
            } else {
                buf.copy_within(end..len, 0);
                base += end as u64;
                len = rest;
            }
        }
        Ok(self.finish(acc, base + len as u64))
    }

    /// Finds and records the matching lines of `block` (whole lines; the last may lack its
    /// newline). `base` is the stream offset of `block[0]`.
    fn block(&self, block: &[u8], base: u64, acc: &mut Acc) {
        if !acc.binary && memchr(0, block).is_some() {
            acc.binary = true;
        }
        let inner = &*self.inner;
        acc.hits.clear();
        if let Some(ac) = &inner.literals {
            let mut pos = 0;
            while pos < block.len() {
                let Some(m) = ac.find(aho_corasick::Input::new(block).range(pos..)) else {
                    break;
                };
                let ls = memrchr(b'\n', &block[pos..m.start()]).map_or(pos, |i| pos + i + 1);
                let le = memchr(b'\n', &block[m.end()..]).map_or(block.len(), |i| m.end() + i);
                if m.start() - ls < MAX_LINE {
                    self.check_line(ac, block, m, ls, le, acc);
                }
                pos = le + 1;
            }
        }
        for (p, multi) in &inner.slow {
            let mut pos = 0;
            while pos < block.len() {
                let Some(m) = multi.find_at(block, pos) else {
                    break;
                };
                let ls = memrchr(b'\n', &block[pos..m.start()]).map_or(pos, |i| pos + i + 1);
                let le = memchr(b'\n', &block[m.start()..]).map_or(block.len(), |i| m.start() + i);
                let line = &block[ls..le.min(ls + MAX_LINE)];
                if inner.patterns[*p].compiled.is_match(line) {
                    acc.hits.push((ls, le, *p));
                }
                pos = le + 1;
            }
        }
        if acc.hits.is_empty() {
            return;
        }
        // Literal hits come in line order; only regex-searched patterns add out-of-order ones.
        if !inner.slow.is_empty() {
            acc.hits.sort_unstable();
            acc.hits.dedup();
        }
        let hits = std::mem::take(&mut acc.hits);
        let mut i = 0;
        while i < hits.len() {
            let (ls, le, _) = hits[i];
            let j = i + hits[i..].iter().take_while(|h| h.0 == ls).count();
            let line = &block[ls..le.min(ls + MAX_LINE)];
            self.record(line, base + ls as u64, hits[i..j].iter().map(|h| h.2), acc);
            i = j;
        }
        acc.hits = hits;
    }

    /// Runs the regexes of the patterns whose literals the line `block[ls..le]` holds; `first` is
    /// its leftmost literal. Every later start position is searched too (`start + 1`, not `end`),
    /// so overlapping literals are not missed.
    fn check_line(
        &self,
        ac: &AhoCorasick,
        block: &[u8],
        first: aho_corasick::Match,
        ls: usize,
        le: usize,
        acc: &mut Acc,
    ) {
        let inner = &*self.inner;
        let end = le.min(ls + MAX_LINE);
        let line = &block[ls..end];
        acc.candidates.clear();
        let mut m = first;
        loop {
            acc.candidates
                .extend_from_slice(&inner.owners[m.pattern().as_usize()]);
            match ac.find(aho_corasick::Input::new(block).range(m.start() + 1..end)) {
                Some(next) => m = next,
                None => break,
            }
        }
        acc.candidates.sort_unstable();
        acc.candidates.dedup();
        for &p in &acc.candidates {
            if inner.patterns[p].compiled.is_match(line) {
                acc.hits.push((ls, le, p));
            }
        }
    }

    fn record(
        &self,
        line: &[u8],
        offset: u64,
        patterns: impl Iterator<Item = usize>,
        acc: &mut Acc,
    ) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let ts = timestamp::stamp(line, acc.opts.year_hint);
        let in_window = acc.opts.window_from.is_some_and(|w| offset >= w);
        acc.matched_lines += 1;
        if acc.opts.record_lines {
            acc.matched_at.push(offset);
        }
        acc.cats.clear();
        for p in patterns {
            let a = &mut acc.patterns[p];
            a.count += 1;
            if in_window {
                a.in_window += 1;
            }
            if ts.is_some() {
                a.first_ts = a.first_ts.or(ts);
                a.last_ts = ts;
            }
            a.sample.clear();
            a.sample.extend_from_slice(line);
            acc.cats.push(self.inner.category_of[p]);
        }
        acc.cats.sort_unstable();
        acc.cats.dedup();
        for &c in &acc.cats {
            acc.categories[c].count += 1;
            if in_window {
                acc.categories[c].in_window += 1;
            }
        }
    }

    fn finish(&self, acc: Acc, bytes: u64) -> Scan {
        let inner = &*self.inner;
        let matches = acc
            .patterns
            .into_iter()
            .enumerate()
            .filter(|(_, a)| a.count > 0)
            .map(|(i, a)| {
                (
                    inner.patterns[i].id.clone(),
                    PatternMatch {
                        count: a.count,
                        in_window: a.in_window,
                        first_ts: a.first_ts.map(|t| t.to_string()),
                        last_ts: a.last_ts.map(|t| t.to_string()),
                        sample: sample(&a.sample),
                    },
                )
            })
            .collect();
        let categories = acc
            .categories
            .into_iter()
            .enumerate()
            .filter(|(_, c)| c.count > 0)
            .map(|(i, c)| (inner.categories[i].clone(), c))
            .collect();
        Scan {
            bytes_scanned: bytes,
            matched_lines: acc.matched_lines,
            binary: acc.binary,
            matches,
            categories,
            matched_at: acc.matched_at,
        }
    }

    /// The `logs` section for these sources: totals over every known pattern and category (zero
    /// when not found), so a rule can tell "looked, found nothing" from "did not look".
    pub fn summarize(&self, sources: Vec<LogSource>) -> Logs {
        let mut patterns: BTreeMap<String, PatternTotal> = self
            .inner
            .patterns
            .iter()
            .map(|p| {
                (
                    p.id.clone(),
                    PatternTotal {
                        category: p.category.clone(),
                        count: 0,
                        in_window: 0,
                    },
                )
            })
            .collect();
        let mut categories: BTreeMap<String, CategoryTotal> = self
            .inner
            .categories
            .iter()
            .map(|c| (c.clone(), CategoryTotal::default()))
            .collect();
        for s in &sources {
            for (id, m) in &s.matches {
                if let Some(t) = patterns.get_mut(id) {
                    t.count += m.count;
                    t.in_window += m.in_window;
                }
            }
            for (c, m) in &s.categories {
                let t = categories.entry(c.clone()).or_default();
                t.count += m.count;
                t.in_window += m.in_window;
            }
        }
        Logs {
            sources,
            patterns,
            categories,
        }
    }
}

/// Reads until `buf` is full or the reader ends: (bytes read, reached the end).
fn fill(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<(usize, bool)> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => return Ok((n, true)),
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((n, false))
}

/// A line fit for output: lossy UTF-8, secrets redacted, control characters replaced, cut to
/// [`SAMPLE_CHARS`] characters.
pub fn sample(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let redacted = redact::redact(&text);
    let mut out = String::new();
    for (n, ch) in redacted.chars().enumerate() {
        if n == SAMPLE_CHARS {
            out.push('…');
            break;
        }
        out.push(if ch.is_control() && ch != '\t' {
            '\u{fffd}'
        } else {
            ch
        });
    }
    out
}

#[cfg(test)]
mod tests;
