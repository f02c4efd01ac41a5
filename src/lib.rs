//! doctor: tells a backend developer why their server is slow.
//!
//! `collect` reads the machine into a [`snapshot::Snapshot`] (the versioned JSON contract),
//! `report` turns a snapshot into what the user reads. `app` wires the commands together; the
//! binary's `main` only calls it.

// Figures are rounded to two decimals before they are compared, so exact float equality in tests
// checks the rounding too.
#![cfg_attr(test, allow(clippy::float_cmp))]

pub mod app;
pub mod atomic;
pub mod cli;
pub mod collect;
pub mod diff;
pub mod engine;
#[doc(hidden)]
pub mod fuzzing;
pub mod import;
pub mod install;
pub mod report;
pub mod ruletest;
pub mod scan;
pub mod snapshot;
pub mod stalk;
pub mod watch;
