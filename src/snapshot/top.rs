//! The snapshot's top level: the format's version, the host, the window, doctor's own cost and
//! one section per collector.

use super::{
    Containers, Cpu, Disks, Imported, Listeners, LoadTest, Logs, Memory, Mysql, MysqlServer,
    Pressure, Processes, Provenance, Section, Series, Status, Tcp,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the snapshot format. Readers refuse other versions with a clear message instead of
/// guessing at renamed fields.
pub const SCHEMA_VERSION: u32 = 1;

/// One host observed over one sampling window.
///
/// `doctor watch` adds a `series` of samples over the run beside these fields (old readers
/// ignore it); several hosts in one file (a bundle of snapshots) would be another addition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Snapshot {
    /// Format version, currently 1.
    pub schema: u32,
    /// The doctor version that wrote the file.
    pub doctor_version: String,
    pub host: HostFacts,
    pub window: Window,
    /// What doctor's own collecting cost (sleep excluded).
    pub overhead: Overhead,
    #[serde(default)]
    pub cpu: Section<Cpu>,
    #[serde(default)]
    pub memory: Section<Memory>,
    #[serde(default)]
    pub disks: Section<Disks>,
    #[serde(default)]
    pub tcp: Section<Tcp>,
    #[serde(default)]
    pub listeners: Section<Listeners>,
    #[serde(default)]
    pub processes: Section<Processes>,
    #[serde(default)]
    pub pressure: Section<Pressure>,
    #[serde(default)]
    pub containers: Section<Containers>,
    #[serde(default)]
    pub logs: Section<Logs>,
    #[serde(default)]
    pub mysql: Section<Mysql>,
    /// The MySQL server seen from outside its SQL connection: doctor's login, the server's
    /// process and settings, its connections from the kernel's view.
    #[serde(default)]
    pub mysql_server: Section<MysqlServer>,
    /// A load test declared with `--under-load`; `skipped` without it.
    #[serde(default)]
    pub load_test: Section<LoadTest>,
    /// Present when `doctor import` built the snapshot from pasted text: what it read and what
    /// it did not understand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported: Option<Imported>,
    /// What `doctor watch` sampled at every tick of the run; absent from `check` and
    /// `snapshot`, whose window has only its two readings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Series>,
}

impl Snapshot {
    /// Every section's name and how collecting it went, in a fixed order.
    #[must_use]
    pub fn collectors(&self) -> Vec<CollectorState<'_>> {
        fn state<'a, T>(name: &'static str, s: &'a Section<T>) -> CollectorState<'a> {
            CollectorState {
                name,
                status: s.status,
                message: s.message.as_deref(),
                notes: &s.notes,
                elapsed_ms: s.elapsed_ms,
                imported: &s.imported,
            }
        }
        vec![
            state("cpu", &self.cpu),
            state("memory", &self.memory),
            state("disks", &self.disks),
            state("tcp", &self.tcp),
            state("listeners", &self.listeners),
            state("processes", &self.processes),
            state("pressure", &self.pressure),
            state("containers", &self.containers),
            state("logs", &self.logs),
            state("mysql", &self.mysql),
            state("mysql_server", &self.mysql_server),
            state("load_test", &self.load_test),
        ]
    }
}

/// A borrowed view of one section's envelope, for reports.
#[derive(Debug, Clone, Serialize)]
pub struct CollectorState<'a> {
    pub name: &'static str,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub notes: &'a [String],
    pub elapsed_ms: f64,
    #[serde(skip_serializing_if = "<[Provenance]>::is_empty")]
    pub imported: &'a [Provenance],
}

/// Facts about the machine that do not change over a window.
///
/// `hostname`, `kernel`, `cpus`, `memory_bytes` and `uptime_s` are always present in what
/// `doctor snapshot` writes; they are absent (unknown — never 0 or invented) in a snapshot
/// `doctor import` built from pasted text that did not show them. A rule reading an absent one
/// is "not checked".
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct HostFacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Kernel release (`uname -r`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// `PRETTY_NAME` from `/etc/os-release`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Logical CPUs online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_s: Option<f64>,
    /// The hypervisor when this is a virtual machine and it can be told (`kvm`, `vmware`,
    /// `xen`, `microsoft`, `amazon`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtualization: Option<String>,
    /// The container runtime when doctor itself runs inside a container (`docker`, `podman`,
    /// `lxc`, ...); the figures are then the container's view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Changes at every boot: two snapshots with different ids straddle a reboot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// The IP addresses of the host's interfaces in doctor's network namespace, loopback and
    /// link-local left out (absent in snapshots written before doctor read them, and in
    /// imports): another host's connections to one of them are connections to this host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
}

/// The sampling window: counters are read at its start and its end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Window {
    /// Start, RFC 3339, UTC.
    pub start: String,
    pub start_unix_ms: u64,
    /// The length asked for.
    pub requested_ms: u64,
    /// The length measured between the first and the last reading (the rate divisor).
    pub elapsed_ms: f64,
    /// The signal that ended the window early (`SIGINT`, `SIGTERM`): the snapshot holds what
    /// was read until then, over the shorter window measured. Absent when it ran its length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
}

impl Window {
    #[must_use]
    pub fn seconds(&self) -> f64 {
        self.elapsed_ms / 1000.0
    }
}

/// Doctor's own cost for this snapshot, so "never harm the server" can be checked in every file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Overhead {
    /// CPU time (user + system) doctor used, all threads, sleeping excluded.
    pub cpu_ms: f64,
    /// Peak resident memory of the doctor process.
    pub max_rss_bytes: u64,
    /// Wall time from start to the snapshot being ready.
    pub wall_ms: f64,
}

/// The JSON Schema of the snapshot, as `doctor schema` prints it.
#[must_use]
pub fn json_schema() -> schemars::Schema {
    schemars::schema_for!(Snapshot)
}
