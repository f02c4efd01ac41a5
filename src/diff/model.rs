//! What `doctor diff` reports, and how it is put together from the three comparisons.

use super::findings::{self, FindingChange, Holds};
use super::{config, config::ConfigChange, load, load::LoadChange};
use crate::engine::{self, Catalogue};
use crate::snapshot::Snapshot;
use schemars::JsonSchema;
use serde::Serialize;

/// One side of the comparison: which file, which host, which window.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Side {
    /// The file as named on the command line (`<stdin>` for `-`).
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Window start, RFC 3339.
    pub start: String,
    pub window_s: f64,
    /// True when `doctor import` built it from pasted text.
    pub imported: bool,
}

/// How many things were compared and found equal (not listed without `--all`).
#[derive(Debug, Clone, Copy, Default, Serialize, JsonSchema)]
pub struct Equal {
    pub findings: usize,
    pub config: usize,
    pub load: usize,
}

/// Everything `doctor diff` reports; its JSON form is `--format json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Diff {
    pub doctor_version: String,
    pub a: Side,
    pub b: Side,
    /// Rules firing on one side only (first), then on both with a changed score.
    pub findings: Vec<FindingChange>,
    /// Configuration facts that differ; those read by a differing finding's evidence first.
    pub config: Vec<ConfigChange>,
    /// Load and saturation figures that differ, the largest factor first.
    pub load: Vec<LoadChange>,
    pub equal: Equal,
}

impl Diff {
    /// Compares `a` (named `name_a`) with `b`; `all` also lists what is equal.
    #[must_use]
    pub fn new(
        (name_a, a): (&str, &Snapshot),
        (name_b, b): (&str, &Snapshot),
        catalogue: &Catalogue,
        all: bool,
    ) -> Self {
        // The two analyses need nothing from each other: side B's on a second thread halves
        // the wait on a machine with two cores (benches/diff.sh).
        let (fa, fb) = std::thread::scope(|scope| {
            let fb = scope.spawn(|| engine::eval::analyze_findings(catalogue, b));
            let fa = engine::eval::analyze_findings(catalogue, a);
            // A panic in the engine is a bug either way: carried on as if B ran here.
            (
                fa,
                fb.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            )
        });
        let (findings, equal_findings) = findings::compare(&fa, &fb, all);
        let evidence: Vec<(String, Vec<String>)> = findings
            .iter()
            .filter(|f| f.holds != Holds::Both)
            .map(|f| (f.id.clone(), f.exprs.clone()))
            .collect();
        let (config, equal_config) = config::compare(a, b, &evidence, all);
        let (load, equal_load) = load::compare(a, b, all);
        Diff {
            doctor_version: env!("CARGO_PKG_VERSION").to_owned(),
            a: side(name_a, a),
            b: side(name_b, b),
            findings,
            config,
            load,
            equal: Equal {
                findings: equal_findings,
                config: equal_config,
                load: equal_load,
            },
        }
    }

    /// Whether a finding holds on one side only: what `doctor diff` exits 1 for.
    #[must_use]
    pub fn findings_differ(&self) -> bool {
        self.findings.iter().any(|f| f.holds != Holds::Both)
    }

    /// Whether nothing at all differs (the files may still differ in what doctor does not
    /// compare: timestamps, figures below the noise floor).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        !self.findings.iter().any(FindingChange::differs)
            && !self.config.iter().any(|c| c.a != c.b)
            && !self.load.iter().any(|l| l.differs)
    }
}

fn side(file: &str, s: &Snapshot) -> Side {
    Side {
        file: file.to_owned(),
        hostname: s.host.hostname.clone(),
        start: s.window.start.clone(),
        window_s: s.window.seconds(),
        imported: s.imported.is_some(),
    }
}

/// The JSON Schema of `doctor diff --format json`.
#[must_use]
pub fn json_schema() -> schemars::Schema {
    schemars::schema_for!(Diff)
}
