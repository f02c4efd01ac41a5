//! The host's part of a watch sample: CPU, run queue, disks, TCP counters and accept queues.
//!
//! Every file is kept open ([`Kept`]) and the `sock_diag` socket too; a sample reads five
//! small `/proc` files and dumps the listening sockets, nothing per process (reading every
//! `/proc/<pid>/stat` costs ~75 ms per 1000 processes; the processes are read at the run's
//! start and end only, as `check` reads them).

use super::kept::Kept;
use crate::collect::{disk, parse, sockdiag};
use netlink_packet_sock_diag::inet::StateFlags;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many block devices are followed: those with the most I/O since boot.
const MAX_DEVICES: usize = 8;
/// At most this many listeners get a queue column: the first seen with a non-empty queue.
const MAX_LISTENERS: usize = 8;
/// The TCP counters sampled as rates; `TcpCurrEstab` is a gauge.
pub(super) const TCP_RATES: [&str; 4] = [
    "TcpExtListenOverflows",
    "TcpExtListenDrops",
    "TcpRetransSegs",
    "TcpPassiveOpens",
];

/// The host's kept readers and their previous reading.
pub struct Host {
    stat: Option<Kept>,
    diskstats: Option<Kept>,
    snmp: Option<Kept>,
    netstat: Option<Kept>,
    sockstat: Option<Kept>,
    diag: Option<sockdiag::Diag>,
    devices: BTreeMap<String, disk::DeviceInfo>,
    prev_cpu: Option<parse::CpuTicks>,
    prev_disks: BTreeMap<String, disk::DiskCounters>,
    prev_tcp: BTreeMap<String, i64>,
    /// Listeners that get a column (`local` text), once their queue was seen non-empty.
    busy_listeners: BTreeSet<String>,
    pub notes: Vec<String>,
}

fn keep(path: &str, notes: &mut Vec<String>) -> Option<Kept> {
    match Kept::open(path) {
        Ok(k) => Some(k),
        Err(e) => {
            notes.push(format!(
                "{path} cannot be read ({e}): its series are missing"
            ));
            None
        }
    }
}

impl Host {
    /// Opens the files and takes the first reading (no values: rates need two).
    pub fn start() -> Host {
        let mut notes = Vec::new();
        let mut host = Host {
            stat: keep("/proc/stat", &mut notes),
            diskstats: keep("/proc/diskstats", &mut notes),
            snmp: keep("/proc/net/snmp", &mut notes),
            netstat: keep("/proc/net/netstat", &mut notes),
            sockstat: keep("/proc/net/sockstat", &mut notes),
            diag: None,
            devices: BTreeMap::new(),
            prev_cpu: None,
            prev_disks: BTreeMap::new(),
            prev_tcp: BTreeMap::new(),
            busy_listeners: BTreeSet::new(),
            notes: Vec::new(),
        };
        match sockdiag::Diag::open() {
            Ok(d) => host.diag = Some(d),
            Err(e) => notes.push(format!("accept queues are not sampled: {e}")),
        }
        host.notes = notes;
        if let Some(text) = host.diskstats.as_mut().and_then(Kept::read) {
            let counters = disk::parse(text);
            host.devices = followed_devices(&counters);
        }
        let mut ignore = Vec::new();
        host.sample(0.0, &mut ignore);
        host
    }

    /// Reads everything once; `seconds` since the previous sample (0 for the first: no rates).
    pub fn sample(&mut self, seconds: f64, out: &mut Vec<(String, f64)>) {
        self.cpu(seconds, out);
        self.disks(seconds, out);
        self.tcp(seconds, out);
        self.listeners(out);
    }

    fn cpu(&mut self, seconds: f64, out: &mut Vec<(String, f64)>) {
        let Some(text) = self.stat.as_mut().and_then(Kept::read) else {
            return;
        };
        let stat = parse::stat(text);
        if let Some(prev) = self.prev_cpu.replace(stat.total)
            && seconds > 0.0
        {
            let t = stat.total;
            let total = t.total().saturating_sub(prev.total()) as f64;
            if total > 0.0 {
                let pct = |a: u64, b: u64| round2(a.saturating_sub(b) as f64 / total * 100.0);
                let idle = pct(t.idle, prev.idle);
                let iowait = pct(t.iowait, prev.iowait);
                out.push((
                    "cpu.busy_pct".into(),
                    round2(100.0 - idle - iowait).max(0.0),
                ));
                out.push(("cpu.iowait_pct".into(), iowait));
                out.push(("cpu.steal_pct".into(), pct(t.steal, prev.steal)));
            }
            // doctor's own thread is running while it reads the file.
            if let Some(r) = stat.procs_running {
                out.push(("cpu.run_queue".into(), f64::from(r.saturating_sub(1))));
            }
            if let Some(b) = stat.procs_blocked {
                out.push(("cpu.blocked".into(), f64::from(b)));
            }
        }
    }

    fn disks(&mut self, seconds: f64, out: &mut Vec<(String, f64)>) {
        let Some(text) = self.diskstats.as_mut().and_then(Kept::read) else {
            return;
        };
        let now: BTreeMap<String, disk::DiskCounters> = disk::parse(text)
            .into_iter()
            .filter(|(name, _)| self.devices.contains_key(name))
            .collect();
        if seconds > 0.0 {
            let figures = disk::compute(&self.prev_disks, &now, &self.devices, seconds);
            for d in figures.devices {
                let col = |f: &str| format!("disks.devices[{}].{f}", d.name);
                out.push((col("util_pct"), d.util_pct));
                out.push((col("aqu_sz"), d.aqu_sz));
                if let Some(v) = d.r_await_ms {
                    out.push((col("r_await_ms"), v));
                }
                if let Some(v) = d.w_await_ms {
                    out.push((col("w_await_ms"), v));
                }
            }
        }
        self.prev_disks = now;
    }

    fn tcp(&mut self, seconds: f64, out: &mut Vec<(String, f64)>) {
        let mut now = BTreeMap::new();
        if let Some(text) = self.snmp.as_mut().and_then(Kept::read) {
            now.extend(parse::snmp_pairs(text, &["Tcp"]));
        }
        if let Some(text) = self.netstat.as_mut().and_then(Kept::read) {
            now.extend(parse::snmp_pairs(text, &["TcpExt"]));
        }
        if seconds > 0.0 {
            for name in TCP_RATES {
                if let (Some(a), Some(b)) = (self.prev_tcp.get(name), now.get(name))
                    && b >= a
                {
                    out.push((
                        format!("tcp.counters.{name}.per_s"),
                        round2((b - a) as f64 / seconds),
                    ));
                }
            }
            if let Some(v) = now.get("TcpCurrEstab") {
                out.push(("tcp.counters.TcpCurrEstab".into(), *v as f64));
            }
            if let Some(tw) = self
                .sockstat
                .as_mut()
                .and_then(Kept::read)
                .and_then(sockstat_tw)
            {
                out.push(("tcp.states.TIME_WAIT".into(), tw as f64));
            }
        }
        self.prev_tcp = now;
    }

    fn listeners(&mut self, out: &mut Vec<(String, f64)>) {
        let Some(diag) = &self.diag else { return };
        let Ok(sockets) = diag.dump(StateFlags::LISTEN) else {
            return;
        };
        for s in &sockets {
            let local = sockdiag::local_text(s.local, s.port);
            if s.recv_queue > 0
                && self.busy_listeners.len() < MAX_LISTENERS
                && !self.busy_listeners.contains(&local)
            {
                self.busy_listeners.insert(local.clone());
            }
            if self.busy_listeners.contains(&local) {
                out.push((
                    format!("listeners.sockets[{local}].queue"),
                    f64::from(s.recv_queue),
                ));
            }
        }
    }
}

/// The devices to follow: whole devices (a `/sys/block` entry) other than RAM disks, with I/O
/// since boot, the busiest [`MAX_DEVICES`].
fn followed_devices(
    counters: &BTreeMap<String, disk::DiskCounters>,
) -> BTreeMap<String, disk::DeviceInfo> {
    let mut busy: Vec<(&String, u64)> = counters
        .iter()
        .filter(|(name, c)| {
            !name.starts_with("ram")
                && !name.starts_with("zram")
                && c.rd_ios + c.wr_ios > 0
                && std::path::Path::new("/sys/block")
                    .join(name.replace('/', "!"))
                    .exists()
        })
        .map(|(name, c)| (name, c.rd_ios + c.wr_ios))
        .collect();
    busy.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    busy.into_iter()
        .take(MAX_DEVICES)
        .map(|(name, _)| (name.clone(), disk::DeviceInfo::default()))
        .collect()
}

/// `TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1` → the `tw` figure: sockets in `TIME_WAIT`.
fn sockstat_tw(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("TCP:"))?;
    let mut f = line.split_ascii_whitespace();
    while let Some(k) = f.next() {
        if k == "tw" {
            return f.next()?.parse().ok();
        }
    }
    None
}

fn round2(v: f64) -> f64 {
    crate::snapshot::round2(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_wait_from_sockstat() {
        let text =
            "sockets: used 150\nTCP: inuse 5 orphan 0 tw 42 alloc 7 mem 1\nUDP: inuse 2 mem 0\n";
        assert_eq!(sockstat_tw(text), Some(42));
        assert_eq!(sockstat_tw("UDP: inuse 2\n"), None);
    }

    #[test]
    fn a_live_sample_has_the_cpu_figures() {
        let mut host = Host::start();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let mut out = Vec::new();
        host.sample(0.05, &mut out);
        let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"cpu.busy_pct"), "{names:?}");
        assert!(names.contains(&"tcp.counters.TcpCurrEstab"), "{names:?}");
    }
}
