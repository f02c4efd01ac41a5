//! `series`: what `doctor watch` sampled at every tick of a run, beside the run's own start and
//! end readings.
//!
//! Columns, not rows: a 1-hour watch at 1 s is 3 600 samples of some 40 numbers, and a column of
//! numbers is the smallest JSON for that (one name per column instead of one per value) and the
//! shape a chart or a sparkline reads. A column's name is the snapshot path of the figure it
//! samples where one exists (`cpu.busy_pct`, `tcp.counters.TcpExtListenOverflows.per_s`,
//! `disks.devices[sda].util_pct`), so a person who knows the snapshot knows the series.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Samples taken every `every_ms` over a run, as columns of equal length.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Series {
    /// The sampling interval asked for (`--every`).
    pub every_ms: u64,
    /// When the run started (the first reading), milliseconds since the Unix epoch.
    pub start_unix_ms: u64,
    /// The end of each sample, milliseconds after `start_unix_ms`; each sample covers the time
    /// since the one before it (the first, since the start). Increasing.
    pub t_ms: Vec<u64>,
    /// One value per sample (`null`: not read in that sample), by column name. Rates are per
    /// second over the sample, gauges are the value read at its end (averaged when samples are
    /// merged, see `bound`).
    pub columns: BTreeMap<String, Vec<Option<f64>>>,
    /// How the series is kept bounded over a long run.
    pub bound: SeriesBound,
    /// Why sampling ended: `command` (the watched command exited), `duration` (`--duration`
    /// reached), `signal` (SIGINT or SIGTERM: the run is partial).
    pub ended_by: String,
    /// The watched command and how it ended, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<WatchedCommand>,
    /// What could not be sampled, and why (a part that needs root, a server that refused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The memory bound of a series and what it cost in resolution.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct SeriesBound {
    /// At most this many samples are kept. When a new sample would exceed it, the older half
    /// of the series is merged by pairs (time-weighted means), so recent samples keep the
    /// full resolution and old ones lose it gradually.
    pub max_samples: u32,
    /// Samples taken in all (before merging).
    pub taken: u64,
    /// How many times the older half was merged.
    pub merges: u32,
}

/// The command `doctor watch` ran and how it ended.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct WatchedCommand {
    /// The program and its arguments as given.
    pub argv: Vec<String>,
    /// Its exit status: the code it exited with, or 128 + the signal that ended it (the shell's
    /// convention). Absent when it was still running when doctor stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
}

impl Series {
    /// Number of samples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.t_ms.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.t_ms.is_empty()
    }

    /// The column `name`, if it was sampled.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<&[Option<f64>]> {
        self.columns.get(name).map(Vec::as_slice)
    }
}
