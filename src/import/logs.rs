//! Log lines in pasted text: the lines no command-output recogniser took are handed to the log
//! scanner (`src/scan/`, the patterns of `rules/logs/`), exactly as a log file would be, so a
//! pasted stack trace counts as the error it reports (the diary's mysql2 `Queue limit reached.`).
//! Matching lines are understood; so are the stack frames right under one (`    at f (file:1:2)`,
//! `... 12 more`), which belong to the error and say nothing of their own.

use super::lines::Line;
use crate::scan::{ScanOptions, Scanner};
use crate::snapshot::{LogSource, SourceKind};
use std::collections::BTreeSet;

/// What the scanner found in one input's unclaimed lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The input as a log source; `None` when no line matched.
    pub source: Option<LogSource>,
    /// The lines understood as log lines (matches and their stack frames).
    pub lines: BTreeSet<usize>,
}

/// Scans the lines numbered `unclaimed` (ascending) of `ls`, as the source named `name`.
#[must_use]
pub fn scan(scanner: &Scanner, name: &str, ls: &[Line<'_>], unclaimed: &[usize]) -> Found {
    let mut buf = Vec::new();
    // (offset of the line's start in `buf`, line number), ascending in both.
    let mut at = Vec::with_capacity(unclaimed.len());
    for &n in unclaimed {
        let Some(line) = ls.get(n.wrapping_sub(1)) else {
            continue;
        };
        at.push((buf.len() as u64, n));
        buf.extend_from_slice(line.text.as_bytes());
        buf.push(b'\n');
    }
    let opts = ScanOptions {
        // No window: a paste has no "during the window" (`in_window` stays 0).
        window_from: None,
        skip_partial_first_line: false,
        year_hint: None,
        record_lines: true,
    };
    let Ok(scan) = scanner.scan(&buf[..], opts) else {
        // Reading from memory does not fail; were it to, nothing is claimed.
        return Found {
            source: None,
            lines: BTreeSet::new(),
        };
    };
    let mut lines = BTreeSet::new();
    for offset in &scan.matched_at {
        let Ok(k) = at.binary_search_by_key(offset, |(o, _)| *o) else {
            continue;
        };
        lines.insert(at[k].1);
        // The stack frames that follow, on the very next lines of the input.
        let mut prev = at[k].1;
        for &(_, n) in &at[k + 1..] {
            let text = ls.get(n.wrapping_sub(1)).map_or("", |l| l.text.trim());
            if n != prev + 1 || !frame(text) {
                break;
            }
            lines.insert(n);
            prev = n;
        }
    }
    let source = (scan.matched_lines > 0).then(|| {
        let mut s = scan.into_source(name, SourceKind::File, None);
        s.notes
            .push("pasted text given to `doctor import`: no timestamps window".to_owned());
        s
    });
    Found { source, lines }
}

/// A stack frame line: Node.js/Java `at ...`, Java's `... 12 more`, Python's `File "...", line`.
fn frame(text: &str) -> bool {
    text.starts_with("at ")
        || (text.starts_with("... ") && text.ends_with(" more"))
        || text.starts_with("File \"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::lines::lines;

    #[test]
    fn a_stack_trace_is_one_pool_error_with_its_frames() {
        let text = "prose\nError: Queue limit reached.\n    at Pool.getConnection (/app/node_modules/mysql2/lib/base/pool.js:72:17)\n    at new Promise (<anonymous>)\nmore prose\n";
        let ls = lines(text);
        let scanner = Scanner::builtin().unwrap();
        let found = scan(&scanner, "paste", &ls, &[1, 2, 3, 4, 5]);
        assert_eq!(found.lines.iter().copied().collect::<Vec<_>>(), [2, 3, 4]);
        let source = found.source.unwrap();
        assert_eq!(source.categories["db-pool-exhausted"].count, 1);
        assert_eq!(source.categories["db-pool-exhausted"].in_window, 0);
    }

    #[test]
    fn nothing_matching_is_no_source() {
        let ls = lines("just words\n");
        let found = scan(&Scanner::builtin().unwrap(), "paste", &ls, &[1]);
        assert!(found.source.is_none() && found.lines.is_empty());
    }
}
