//! What the engine says about one snapshot: the findings ranked, with their evidence, and the
//! rules it could check only in part or not at all. This is the report's content (`--format
//! json` serializes it as is), so a field here is part of the JSON report's contract.

use super::class::{Kind, Layer, Severity};
use schemars::JsonSchema;
use serde::Serialize;

/// What the rules found in one snapshot.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Analysis {
    /// Firing rules, ranked: a root cause comes before the symptoms it explains.
    pub findings: Vec<Finding>,
    /// Rules that could not be evaluated, with why.
    pub not_checked: Vec<NotChecked>,
    /// Rules that found nothing where they could look, but could not look everywhere: some of
    /// their evidence groups were not checked. Not counted as fine either.
    pub partly_checked: Vec<PartlyChecked>,
    /// Ids of the rules that were evaluated and did not fire.
    pub passed: Vec<String>,
    /// The headline figures, read off the snapshot by the catalogue's figures
    /// (`rules/figures/`).
    pub figures: Vec<Figure>,
}

/// One figure of the headline: what a person would look at first in `vmstat`, `iostat -x`,
/// `netstat -s` or `ss -lnt`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Figure {
    pub layer: Layer,
    pub name: String,
    /// The figure as text, with its unit.
    pub value: String,
    /// The CEL expression of the value, as a rule would read it (an item of a list selected by
    /// its key: `disks.devices.filter(disk, disk.name == 'vda').map(disk, disk.util_pct)[0]`).
    pub field: String,
}

/// One firing rule.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Finding {
    /// 1 is the most likely cause.
    pub rank: u32,
    pub id: String,
    /// The host it was found on, in a report of several hosts (`doctor analyze a.json b.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub title: String,
    pub layer: Layer,
    pub kind: Kind,
    pub severity: Severity,
    /// 0–100: how strong the evidence is (the strongest firing group's score).
    pub score: f64,
    /// The observed value and the limit, in one line.
    pub summary: String,
    pub evidence: Vec<Evidence>,
    /// What to do, with this machine's values filled in.
    pub fix: String,
    /// Ids of the firing symptoms this root cause explains; they follow it in `findings`. In a
    /// report of several hosts each is `id@host`.
    pub explains: Vec<String>,
    /// The root cause this symptom is shown under, if one fired (`id@host` in a report of
    /// several hosts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explained_by: Option<String>,
    /// How each of the rule's evidence groups (`[[from]]`) came out, in the order written;
    /// absent for a rule without groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<GroupOutcome>,
}

/// A value the rule looked at.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Evidence {
    /// The host the value was read on, in a report of several hosts (`doctor analyze a.json b.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub label: String,
    /// The value in this snapshot, or `n/a (why)` when it could not be read.
    pub value: String,
    /// The limit it is judged against, with its source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<String>,
    /// The CEL expression the value comes from (snapshot field names).
    pub expr: String,
    /// The evidence group it belongs to; absent for the rule's own evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// A rule that could not be evaluated on this snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct NotChecked {
    pub id: String,
    /// The host it could not be checked on, in a report of several hosts (`doctor analyze a.json b.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,

    pub title: String,
    pub layer: Layer,
    /// Why; for a rule with evidence groups, each group's reason (`from <name>: ...; ...`).
    pub reason: String,
}

/// A rule that did not fire on the groups it could evaluate while others were not checked.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PartlyChecked {
    pub id: String,
    /// The host it was checked in part on, in a report of several hosts (`doctor analyze a.json b.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,

    pub title: String,
    pub layer: Layer,
    /// The groups evaluated, which found nothing.
    pub checked: Vec<String>,
    /// The groups that could not be evaluated, with why.
    pub unchecked: Vec<Unchecked>,
}

/// An evidence group that could not be evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Unchecked {
    /// The group's name.
    pub from: String,
    pub reason: String,
}

/// How one evidence group of a firing rule came out.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct GroupOutcome {
    /// The group's name, as written in its `[[from]]` table.
    pub name: String,
    pub outcome: GroupStatus,
    /// Its score, when it fired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Why it could not be evaluated, when it was not checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GroupStatus {
    Fired,
    Quiet,
    NotChecked,
}

impl GroupStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            GroupStatus::Fired => "fired",
            GroupStatus::Quiet => "quiet",
            GroupStatus::NotChecked => "not checked",
        }
    }
}
