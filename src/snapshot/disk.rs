//! Block devices, figured exactly as `iostat -x` figures them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Disks {
    /// Every whole block device that did I/O since boot or backs a mounted filesystem, by
    /// name, whatever its kind (disks, loop, device-mapper, md, nbd, rbd, ...; partitions are
    /// counted in their disk, ram and zram devices are left out). A slow volume is often not
    /// a plain disk: a datadir on LVM, on a loop file or on a network block device must be
    /// as visible as one on `sda`.
    pub devices: Vec<Disk>,
}

/// One whole block device over the window. Formulas follow sysstat's `iostat -x`
/// (`rd_ios`, `rd_ticks`, `tot_ticks`, `rq_ticks` from `/proc/diskstats`, see the kernel's
/// Documentation/admin-guide/iostats.rst).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Disk {
    /// The `/sys/block` name (`sda`, `nvme0n1`, `loop0`, `dm-0`, `md0`), `!` spelled `/`.
    pub name: String,
    /// What the device is, from sysfs rather than its name: `disk` (hardware or a virtual
    /// machine's disk: sd, nvme, virtio, xen), `loop`, `dm` (device-mapper: LVM, dm-crypt,
    /// multipath), `md` (software RAID), `nbd`, `rbd`, `drbd`, or `virtual` (another driver
    /// without hardware under it). Absent in snapshots written before doctor read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The whole devices this one sits on, each listed in `devices` with its own figures, so a
    /// chain (`dm-0` → `md0` → `sda`, `sdb`) can be followed: `/sys/block/<dev>/slaves` for
    /// device-mapper and md, partitions resolved to their disks; for a loop device, the
    /// device of the filesystem holding its backing file (none when that filesystem has no
    /// block device: FUSE, NFS, tmpfs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub under: Vec<String>,
    /// Device-mapper name (`/sys/block/dm-N/dm/name`: `vg0-data`, `luks-…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dm_name: Option<String>,
    /// The file behind a loop device (`/sys/block/loopN/loop/backing_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backing_file: Option<String>,
    /// Mount points of the filesystems on this device or its partitions (doctor's mount
    /// namespace), sorted, at most 5.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<String>,
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

impl Disk {
    /// Nothing completed and nothing was in flight during the window (an idle snap loop, a
    /// mounted but unused volume): kept in the snapshot, left out of the rendered report.
    #[must_use]
    pub fn idle(&self) -> bool {
        self.reads_per_s == 0.0
            && self.writes_per_s == 0.0
            && self.util_pct == 0.0
            && self.in_flight == 0
    }
}
