//! Turning a snapshot into what the user reads. Building the [`Report`] is pure (no I/O): it runs
//! the rule engine and gathers the headline figures; the renderers write it to any `impl Write`
//! as a table, JSON or Markdown.

mod headline;
mod json;
mod markdown;
mod table;

pub use headline::{Figure, headline};
pub use json::render as render_json;
pub use markdown::render as render_markdown;
pub use table::render as render_table;

use crate::engine::{self, Catalogue, Finding, NotChecked, PartlyChecked, Severity};
use crate::snapshot::{HostFacts, Snapshot, Status, Window};
use schemars::JsonSchema;
use serde::Serialize;

/// Everything a renderer needs, derived from one snapshot. Its JSON form is `--format json`;
/// `doctor schema --report` prints its schema.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Report {
    /// The doctor that made the report.
    pub doctor_version: String,
    pub host: HostFacts,
    pub window: Window,
    /// Firing rules, most likely cause first; a symptom follows the root cause that explains it
    /// (its `explained_by`).
    pub findings: Vec<Finding>,
    /// Rules that could not be evaluated (a section missing, a field absent), with the reason.
    /// Never counted as fine.
    pub not_checked: Vec<NotChecked>,
    /// Rules that found nothing from the evidence groups they could evaluate while others could
    /// not be (a section missing): checked in part, not counted as fine either.
    pub partly_checked: Vec<PartlyChecked>,
    /// Ids of rules evaluated that found nothing.
    pub passed: Vec<String>,
    /// How each collector fared.
    pub collectors: Vec<Collector>,
    /// The headline figures per layer.
    pub headline: Vec<Figure>,
}

/// One collector's status, as recorded in the snapshot.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Collector {
    pub name: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub elapsed_ms: f64,
}

impl Report {
    #[must_use]
    pub fn new(snapshot: &Snapshot, catalogue: &Catalogue) -> Self {
        let analysis = engine::analyze(catalogue, snapshot);
        Report {
            doctor_version: env!("CARGO_PKG_VERSION").to_owned(),
            host: snapshot.host.clone(),
            window: snapshot.window.clone(),
            findings: analysis.findings,
            not_checked: analysis.not_checked,
            partly_checked: analysis.partly_checked,
            passed: analysis.passed,
            collectors: snapshot
                .collectors()
                .into_iter()
                .map(|c| Collector {
                    name: c.name.to_owned(),
                    status: c.status,
                    message: c.message.map(ToOwned::to_owned),
                    notes: c.notes.to_vec(),
                    elapsed_ms: c.elapsed_ms,
                })
                .collect(),
            headline: headline(snapshot),
        }
    }

    /// The most severe finding, if any.
    #[must_use]
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// "no bottleneck found in a 5.0 s window; checked: ..." — said when nothing fired, naming
    /// what was checked only in part and what not at all.
    #[must_use]
    pub fn healthy_line(&self) -> String {
        let mut line = format!(
            "no bottleneck found in a {:.1} s window; checked: {}",
            self.window.elapsed_ms / 1000.0,
            if self.passed.is_empty() {
                "nothing".to_owned()
            } else {
                self.passed.join(", ")
            }
        );
        if !self.partly_checked.is_empty() {
            line.push_str("; checked in part: ");
            line.push_str(
                &self
                    .partly_checked
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        if !self.not_checked.is_empty() {
            line.push_str("; not checked: ");
            line.push_str(
                &self
                    .not_checked
                    .iter()
                    .map(|n| n.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        line
    }
}

/// One partly checked rule in a line: `quiet from a; not checked from b: why`.
#[must_use]
pub fn partly_line(p: &PartlyChecked) -> String {
    let mut parts = Vec::with_capacity(1 + p.unchecked.len());
    if !p.checked.is_empty() {
        parts.push(format!("quiet from {}", p.checked.join(", ")));
    }
    for u in &p.unchecked {
        parts.push(format!("not checked from {}: {}", u.from, u.reason));
    }
    parts.join("; ")
}

/// How one evidence group of a finding came out, in a few words: `fired, score 90`, `quiet`,
/// `not checked: why`.
#[must_use]
pub fn group_line(g: &engine::GroupOutcome) -> String {
    match (g.outcome, g.score, &g.reason) {
        (engine::GroupStatus::Fired, Some(score), _) => {
            format!("fired, score {}", engine::eval::fmt_number(score))
        }
        (status, _, Some(reason)) => format!("{}: {reason}", status.as_str()),
        (status, _, None) => status.as_str().to_owned(),
    }
}

/// The JSON Schema of `--format json`, as `doctor schema --report` prints it.
#[must_use]
pub fn json_schema() -> schemars::Schema {
    schemars::schema_for!(Report)
}

/// Whether to colour the terminal output. Decided once by the caller (TTY and `NO_COLOR`), so the
/// renderers stay pure and the snapshot tests see plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Never,
    Always,
}

/// Human-readable bytes with binary units, as `free -h` prints them.
#[must_use]
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_units() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(4_005_180.0 * 1024.0), "3.8 GiB");
        assert_eq!(bytes(1536.0), "1.5 KiB");
    }
}
