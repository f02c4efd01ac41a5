//! What doctor was told about a load test running during the window, and what reached its
//! target port.
//!
//! doctor cannot know that a load test is running: the user says so with `--under-load [PORT]`.
//! Without it this section is `skipped`, so the rules that judge a load test
//! (`load-not-reaching-server`) are "not checked" rather than fine.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadTest {
    /// The service port the load targets, as named with `--under-load PORT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The connections to that port over the window (absent when no port was named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<LoadTarget>,
}

/// The TCP connections whose local port is the target port, in doctor's network namespace,
/// sampled at the window's start, on every tick and at its end (what `ss -tni sport = :PORT`
/// shows). A connection that opens and closes between two samples is not seen: the figures are
/// lower bounds, and the host's `TcpPassiveOpens` still counts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadTarget {
    /// Listening sockets on the port at the end of the window (0: nothing listens here, e.g. a
    /// container reached through DNAT in its own network namespace).
    pub listeners: u32,
    /// Established connections to the port at the start and at the end of the window, and the
    /// most seen in one sample.
    pub connections_start: u32,
    pub connections_end: u32,
    pub connections_max: u32,
    /// Connections seen during the window that were not there at its start.
    pub new_connections: u32,
    pub new_connections_per_s: f64,
    /// Segments carrying payload that the port's connections received, per second
    /// (`tcpi_data_segs_in`, Linux 4.6+): a small HTTP request is one, so this is close to the
    /// request rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_segs_in_per_s: Option<f64>,
    /// All segments the port's connections received per second, ACKs included
    /// (`tcpi_segs_in`, Linux 4.2+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segs_in_per_s: Option<f64>,
    /// Payload bytes the port's connections received per second (`tcpi_bytes_received`,
    /// Linux 4.1+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_in_per_s: Option<f64>,
    /// How many times the port's connections were read.
    pub samples: u32,
}
