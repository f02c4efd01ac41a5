//! How a cause is classed, in words a rule file and a finding share: the layer it lives in,
//! whether it is a root cause or a symptom, and how bad it is.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where in the stack a cause lives.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Network,
    Database,
    App,
    Disk,
    Cpu,
    Memory,
    Container,
    /// The machine as a whole: its size, its kernel, whether it is a virtual machine or doctor
    /// runs in a container, and the kernel's pressure stall figures, which measure waiting on
    /// CPU, I/O and memory together. No built-in rule names a cause here yet; the headline
    /// figures need it for those facts (`rules/figures/`), which belong to no single resource,
    /// and a figure's layer is a rule's layer so the report reads in one set of words.
    Host,
}

impl Layer {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Network => "network",
            Layer::Database => "database",
            Layer::App => "app",
            Layer::Disk => "disk",
            Layer::Cpu => "cpu",
            Layer::Memory => "memory",
            Layer::Container => "container",
            Layer::Host => "host",
        }
    }
}

/// Whether a rule names a cause or what a cause looks like from outside. A firing root cause that
/// lists a firing symptom in `explains` ranks above it, and the symptom is shown under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    RootCause,
    Symptom,
}

impl Kind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::RootCause => "root-cause",
            Kind::Symptom => "symptom",
        }
    }
}

/// How bad a finding is, from its score and the rule's thresholds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
