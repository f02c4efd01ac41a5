//! The `logs` section: what the log scanner found in application, proxy, database and container
//! logs, per source and in total.

use super::Status;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Matches of the log patterns, per source and in total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Logs {
    /// Every source that was asked for, read or not.
    pub sources: Vec<LogSource>,
    /// Totals over all sources per pattern id; every known pattern is present (zero when it never
    /// matched), so `logs.patterns['mysql-queue-limit'].count == 0` means "looked, not found".
    pub patterns: BTreeMap<String, PatternTotal>,
    /// Totals per category (`db-pool-exhausted`, `oom-kill`, ...): a line counts once per category
    /// even when several of its patterns match it. Every known category is present.
    pub categories: BTreeMap<String, CategoryTotal>,
}

/// What a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A file named with `--log`.
    File,
    /// The MySQL/MariaDB error log (`log_error`).
    MysqlErrorLog,
    /// A container's output (Docker's logs API).
    Container,
}

/// One log source and what was found in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LogSource {
    /// What the user named: a path, a glob that matched nothing, a container name.
    pub name: String,
    pub kind: SourceKind,
    /// The file read, when the source is a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The container's id (12 hex digits, as in the `containers` section), when the source is a
    /// container's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// `ok`, or `error` when this source could not be read (the others still are).
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Caveats: rotated or truncated during the window, binary content, symlinks not followed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Bytes read and matched (the tail of the file at the window's end).
    pub bytes_scanned: u64,
    /// Only the last `--log-tail-bytes` of the source were read.
    pub tail_truncated: bool,
    /// How much the source grew during the window (for a container, the bytes of output it wrote
    /// during the window, docker's timestamps included); absent when unknown (rotated, truncated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_bytes: Option<u64>,
    /// Lines that matched at least one pattern (what `grep -c` with every pattern would count).
    pub matched_lines: u64,
    /// Per pattern id, only the patterns that matched.
    pub matches: BTreeMap<String, PatternMatch>,
    /// Per category, only the categories that matched (a line counts once per category).
    pub categories: BTreeMap<String, CategoryTotal>,
}

/// One pattern's matches in one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PatternMatch {
    /// Matching lines in the bytes scanned.
    pub count: u64,
    /// Of those, the lines written during the window.
    pub in_window: u64,
    /// Leading timestamp of the first and last matching line that has one, as written in the log
    /// (normalised to ISO 8601, no zone conversion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_ts: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ts: Option<String>,
    /// The last matching line, secrets redacted, cut to 500 characters.
    pub sample: String,
}

/// One pattern over all sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PatternTotal {
    pub category: String,
    pub count: u64,
    pub in_window: u64,
}

/// One category over all sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct CategoryTotal {
    pub count: u64,
    pub in_window: u64,
}
