//! The rule engine: `Snapshot + Rules → Analysis`, a pure function.
//!
//! Rules are data (`rules/*.toml`, embedded at build time, extendable with `--rules DIR`). They are
//! read and validated once ([`rules`]), their CEL expressions compiled once ([`compile`]), then
//! evaluated against a snapshot ([`eval`], which sees the snapshot through [`view`]) and the
//! firing ones ranked ([`rank`]) into an [`Analysis`] ([`outcome`]; a rule and a finding share
//! the words of [`class`]). The headline figures are data too ([`figures`], `rules/figures/`),
//! compiled and checked with the rules and evaluated with them ([`headline`]). Nothing here reads the machine: the only I/O is reading a `--rules`
//! folder. How a rule is printed (`doctor rules explain`) is the report's business.
//!
//! A rule that cannot be evaluated — a section it needs was skipped or failed, or a field it reads
//! is missing — is *not checked*, with the reason. It is never counted as fine.

mod class;
pub mod compile;
pub mod eval;
mod expr;
pub mod figures;
#[cfg(test)]
mod group_tests;
mod headline;
pub mod hosts;
mod imported;
mod outcome;
pub mod rank;
pub mod rules;
pub mod view;

pub use class::{Kind, Layer, Severity};
pub use compile::{Catalogue, Rule};
pub use eval::analyze;
pub use outcome::{
    Analysis, Evidence, Figure, Finding, GroupOutcome, GroupStatus, NotChecked, PartlyChecked,
    Unchecked,
};
pub use rules::RuleError;
