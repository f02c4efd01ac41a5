//! The test file format as written: each key with its position, and the errors that point at
//! them (`file:line:column`). Read by [`super::file`], whose cases' expectations
//! [`super::expect`] checks against the rules.

use crate::engine::RuleError;
use crate::engine::rules::line_col;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// Why the tests could not be run. Each error names the file and, where it can, the line.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {problem}")]
    At {
        path: String,
        line: usize,
        column: usize,
        problem: String,
    },
    #[error(transparent)]
    Rules(#[from] RuleError),
    #[error(
        "no rule tests found (looked in {looked}); a rule <id>.toml is tested by tests/<id>.toml \
         beside it, see docs/rules.md"
    )]
    NoTests { looked: String },
}

/// What a case expects of its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The rule fires.
    Fires,
    /// Every evidence group was evaluated and none fired (the rule is in `passed`).
    Quiet,
    /// Quiet where it could look, some groups not checked (`partly_checked`).
    PartlyChecked,
    /// Not evaluated at all (`not_checked`).
    NotChecked,
}

impl Outcome {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Fires => "fires",
            Outcome::Quiet => "quiet",
            Outcome::PartlyChecked => "partly-checked",
            Outcome::NotChecked => "not-checked",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    #[serde(default, rename = "case")]
    pub(super) cases: Vec<Spanned<RawCase>>,
}

pub(super) type Keyed = IndexMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCase {
    pub(super) name: Spanned<String>,
    pub(super) expect: Spanned<Outcome>,
    #[serde(default)]
    pub(super) snapshot: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) snapshot_json: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) hand_written: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) set: Keyed,
    #[serde(default)]
    pub(super) reason: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) severity: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) score: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) rank: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) below: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) above: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) explained_by: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) from: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub(super) evidence: Keyed,
    #[serde(default)]
    pub(super) findings: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub(super) summary: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) fix: Option<Spanned<toml::Value>>,
}

/// The text of a test file, to point into.
pub(super) struct Src<'a> {
    pub(super) shown: &'a str,
    pub(super) text: &'a str,
}

impl Src<'_> {
    pub(super) fn at(&self, offset: usize, problem: impl Into<String>) -> TestError {
        let (line, column) = line_col(self.text, offset);
        TestError::At {
            path: self.shown.to_owned(),
            line,
            column,
            problem: problem.into(),
        }
    }
}
