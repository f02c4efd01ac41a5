//! CPU, memory, pressure and process figures of the host.

use super::{Counter, OpenFiles};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where the CPU time went over the window, from `/proc/stat`, as `vmstat`/`mpstat` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Cpu {
    /// Logical CPUs that were online. Absent only in an import whose text does not show them
    /// (sysstat's first line does): so are the other optional figures below, which
    /// `doctor snapshot` always writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<u32>,
    pub user_pct: f64,
    /// Absent when the source folds it into `user_pct` (vmstat's `us`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nice_pct: Option<f64>,
    pub system_pct: f64,
    pub iowait_pct: f64,
    /// Absent when the source folds it into `system_pct` (vmstat's `sy`, iostat's `%system`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub irq_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub softirq_pct: Option<f64>,
    /// Time a hypervisor ran something else while this VM wanted the CPU (absent when the
    /// source does not show it: vmstat before its `st` column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal_pct: Option<f64>,
    pub idle_pct: f64,
    /// Everything but idle and iowait.
    pub busy_pct: f64,
    /// The busiest single CPU's busy %, which shows one pegged core on an otherwise idle box.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busiest_core_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_1: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_5: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_15: Option<f64>,
    /// Runnable tasks (vmstat's `r`), sampled several times over the window, doctor itself
    /// excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_queue_avg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_queue_max: Option<u32>,
    /// Tasks in uninterruptible sleep (vmstat's `b`, mostly waiting for I/O), sampled likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_avg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_max: Option<u32>,
    /// How many samples the run-queue figures come from (0: none, and they are absent).
    pub run_queue_samples: u32,
    /// `ctxt`, `intr`, `processes` (forks) from `/proc/stat`.
    pub counters: BTreeMap<String, Counter>,
}

/// Memory and swap, from `/proc/meminfo` and `/proc/vmstat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Memory {
    /// Absent, like every optional figure here, only in an import whose text does not show it;
    /// `doctor snapshot` always writes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_bytes: Option<u64>,
    /// `MemAvailable`: what can be handed out without swapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffers_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_total_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_used_bytes: Option<u64>,
    /// Pages swapped in per second (vmstat's `si` is this × page size / 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_in_pages_per_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_out_pages_per_s: Option<f64>,
    /// Major page faults per second: faults that had to read from disk — the "thrashing" figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major_faults_per_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size_bytes: Option<u64>,
    /// Selected `/proc/vmstat` counters (`pswpin`, `pswpout`, `pgmajfault`, `pgfault`, `oom_kill`,
    /// ...) by their kernel names; a counter this kernel lacks is absent.
    pub counters: BTreeMap<String, Counter>,
}

/// Pressure stall information (`/proc/pressure/*`, Linux 4.20+).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Pressure {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<PressureResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io: Option<PressureResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<PressureResource>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PressureResource {
    /// Share of time at least one task was stalled on the resource.
    pub some: PressureLine,
    /// Share of time all non-idle tasks were stalled at once (absent for the host's cpu line on
    /// older kernels, where it is meaningless).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full: Option<PressureLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PressureLine {
    pub avg10: f64,
    pub avg60: f64,
    pub avg300: f64,
    /// Total stall time since boot, microseconds.
    pub total_us: u64,
    /// Stall time over the window as a % of the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_pct: Option<f64>,
}

/// The processes that used the most CPU over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Processes {
    /// Processes alive at the end of the window.
    pub count: u32,
    pub threads: u32,
    /// The busiest processes by CPU over the window, busiest first.
    pub top: Vec<ProcessCpu>,
    /// Open descriptors against the open-files limit, read at the end of the window (absent in
    /// snapshots from before doctor read them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_files: Option<OpenFiles>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessCpu {
    pub pid: i32,
    /// The kernel's short name (`comm`), not the command line, which can hold secrets.
    pub name: String,
    /// CPU used over the window in % of one core (200 = two full cores), as `top` shows it.
    pub cpu_pct: f64,
    pub user_pct: f64,
    pub system_pct: f64,
    pub threads: u32,
    pub rss_bytes: u64,
    /// Single-letter scheduler state at the end of the window (R, S, D, ...).
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major_faults_per_s: Option<f64>,
    /// For the busiest multi-threaded processes: the thread that used the most CPU over the
    /// second half of the window. A Node.js event loop at ~100% with idle workers is the
    /// single-core bottleneck `cpu_pct` alone cannot show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busiest_thread: Option<ThreadCpu>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ThreadCpu {
    pub tid: i32,
    pub name: String,
    /// % of one core over `window_s`.
    pub cpu_pct: f64,
    /// The part of the window the thread was measured over (its second half).
    pub window_s: f64,
}
