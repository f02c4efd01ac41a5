//! What `doctor import` read from pasted text: per input, the outputs it recognised (and the
//! section each went to) and the lines it did not understand. Absent from snapshots read from the
//! machine. The sections themselves carry their provenance in `imported` (see `section.rs`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The pasted inputs a snapshot was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Imported {
    pub inputs: Vec<ImportedInput>,
    /// How many readings the counters came from: 1 when each counter was read once (totals since
    /// boot or server start; no rates), 2 when two readings of the same counters were found
    /// (deltas, and rates when the gap between them is known).
    pub samples: u32,
    /// Seconds between the two readings, when two were found and the text tells the gap (MySQL's
    /// `Uptime`, `mysqladmin -i N`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_s: Option<f64>,
}

/// One input (a file, or standard input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImportedInput {
    /// As named on the command line; `<stdin>` for `-`.
    pub name: String,
    /// Lines in the input.
    pub lines: usize,
    /// What was recognised in it, in the order of the text.
    pub outputs: Vec<ImportedOutput>,
    /// Line ranges with text on them that no recogniser took (prose, commands typed,
    /// configuration files, outputs doctor does not read): reported, never guessed at.
    pub not_understood: Vec<LineRange>,
}

/// One recognised output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImportedOutput {
    /// The command it is the output of (`netstat -s`, `SHOW GLOBAL STATUS`, `log lines`).
    pub output: String,
    pub first_line: usize,
    pub last_line: usize,
    /// The snapshot section its figures went to; absent when doctor recognises the output but
    /// does not build a section from it yet (`unused` says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Why it was not used, when it was not (a second reading beyond two, a section not built
    /// from pasted text yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unused: Option<String>,
}

/// Lines `first_line..=last_line`, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LineRange {
    pub first_line: usize,
    pub last_line: usize,
}

impl std::fmt::Display for LineRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first_line == self.last_line {
            write!(f, "{}", self.first_line)
        } else {
            write!(f, "{}-{}", self.first_line, self.last_line)
        }
    }
}
