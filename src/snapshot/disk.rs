//! Block devices, figured exactly as `iostat -x` figures them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Disks {
    /// Whole devices (partitions, loop and ram devices left out), by name.
    pub devices: Vec<Disk>,
}

/// One whole block device over the window. Formulas follow sysstat's `iostat -x`
/// (`rd_ios`, `rd_ticks`, `tot_ticks`, `rq_ticks` from `/proc/diskstats`, see the kernel's
/// Documentation/admin-guide/iostats.rst).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Disk {
    pub name: String,
    /// From `/sys/block/<dev>/queue/rotational`: true for a spinning disk (or a virtual disk
    /// that says it is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotational: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// `r/s`
    pub reads_per_s: f64,
    /// `w/s`
    pub writes_per_s: f64,
    /// `rkB/s` × 1024
    pub read_bytes_per_s: f64,
    /// `wkB/s` × 1024
    pub write_bytes_per_s: f64,
    /// `rrqm/s`
    pub read_merges_per_s: f64,
    /// `wrqm/s`
    pub write_merges_per_s: f64,
    /// `r_await`: average time a read took, queueing included; absent with no reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r_await_ms: Option<f64>,
    /// `w_await`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w_await_ms: Option<f64>,
    /// `aqu-sz`: average number of requests queued or in flight.
    pub aqu_sz: f64,
    /// `%util`: share of the window the device had at least one request in flight.
    pub util_pct: f64,
    /// Requests in flight at the end of the window.
    pub in_flight: u64,
}
