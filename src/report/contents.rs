//! What a report holds: the engine's analysis of one snapshot, how each collector fared and the
//! headline figures. Its JSON form is `--format json`.

use crate::engine::{self, Catalogue, Figure, Finding, NotChecked, PartlyChecked, Severity};
use crate::snapshot::{HostFacts, Imported, Provenance, Snapshot, Status, Window};
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
    /// The headline figures (`rules/figures/`).
    pub headline: Vec<Figure>,
    /// For a snapshot `doctor import` built: the inputs, what was recognised where, and the
    /// line ranges not understood (as in the snapshot).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported: Option<Imported>,
    /// A `doctor watch` recording's run: when each finding held, the load plateau, the key
    /// series. Absent for a snapshot without a `series`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<crate::watch::timeline::Run>,
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
    /// The pasted outputs the section was built from (imported snapshots only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub imported: Vec<Provenance>,
}

impl Report {
    #[must_use]
    pub fn new(snapshot: &Snapshot, catalogue: &Catalogue) -> Self {
        Report::of(snapshot, catalogue, engine::analyze(catalogue, snapshot))
    }

    /// The report of `snapshot` given the engine's `analysis` of it.
    #[must_use]
    pub fn of(snapshot: &Snapshot, catalogue: &Catalogue, analysis: engine::Analysis) -> Self {
        let fired: Vec<String> = analysis.findings.iter().map(|f| f.id.clone()).collect();
        Report {
            run: crate::watch::timeline::analyze(catalogue, snapshot, &fired),
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
                    imported: c.imported.to_vec(),
                })
                .collect(),
            headline: analysis.figures,
            imported: snapshot.imported.clone(),
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

/// The JSON Schema of `--format json`, as `doctor schema --report` prints it.
#[must_use]
pub fn json_schema() -> schemars::Schema {
    schemars::schema_for!(Report)
}
