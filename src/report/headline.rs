//! The headline figures per layer: what a person would look at first in `vmstat`, `iostat -x`,
//! `netstat -s` and `ss -lnt`, read off the snapshot.

use super::bytes;
use crate::snapshot::Snapshot;
use serde::Serialize;
use std::fmt::Write as _;

/// One figure of the headline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// `host`, `cpu`, `memory`, `disk`, `network`, `process`, `pressure`.
    pub layer: &'static str,
    pub name: String,
    /// The figure as text, with its unit.
    pub value: String,
    /// The snapshot field the figure comes from, for looking it up or writing a rule on it.
    pub field: String,
}

fn fig(
    layer: &'static str,
    name: impl Into<String>,
    value: impl Into<String>,
    field: impl Into<String>,
) -> Figure {
    Figure {
        layer,
        name: name.into(),
        value: value.into(),
        field: field.into(),
    }
}

fn opt(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v}{unit}"))
}

/// The headline figures of a snapshot; sections that were not collected give no figures (the
/// collectors list says why).
#[must_use]
pub fn headline(s: &Snapshot) -> Vec<Figure> {
    let mut out = Vec::new();
    host(s, &mut out);
    cpu(s, &mut out);
    memory(s, &mut out);
    disks(s, &mut out);
    network(s, &mut out);
    processes(s, &mut out);
    containers(s, &mut out);
    out
}

fn host(s: &Snapshot, out: &mut Vec<Figure>) {
    let h = &s.host;
    let mut machine = format!("{} CPUs, {}", h.cpus, bytes(h.memory_bytes as f64));
    if let Some(v) = &h.virtualization {
        if v == "vm" {
            machine.push_str(", VM");
        } else {
            let _ = write!(machine, ", VM ({v})");
        }
    }
    if let Some(c) = &h.container {
        let _ = write!(machine, ", in a {c} container");
    }
    out.push(fig("host", "machine", machine, "host"));
    out.push(fig("host", "kernel", h.kernel.clone(), "host.kernel"));
}

fn cpu(s: &Snapshot, out: &mut Vec<Figure>) {
    if let Some(c) = s.cpu.get() {
        out.push(fig(
            "cpu",
            "busy / iowait / steal",
            format!("{}% / {}% / {}%", c.busy_pct, c.iowait_pct, c.steal_pct),
            "cpu.busy_pct",
        ));
        out.push(fig(
            "cpu",
            "run queue (avg / max) vs cores",
            format!("{} / {} vs {}", c.run_queue_avg, c.run_queue_max, c.cores),
            "cpu.run_queue_avg",
        ));
        out.push(fig(
            "cpu",
            "load average 1/5/15 min",
            format!("{} {} {}", c.load_1, c.load_5, c.load_15),
            "cpu.load_1",
        ));
        out.push(fig(
            "cpu",
            "busiest core",
            format!("{}%", c.busiest_core_pct),
            "cpu.busiest_core_pct",
        ));
    }
}

fn memory(s: &Snapshot, out: &mut Vec<Figure>) {
    if let Some(m) = s.memory.get() {
        out.push(fig(
            "memory",
            "available",
            format!(
                "{} of {} ({}%)",
                bytes(m.available_bytes as f64),
                bytes(m.total_bytes as f64),
                m.available_pct
            ),
            "memory.available_pct",
        ));
        out.push(fig(
            "memory",
            "swap used / in / out",
            format!(
                "{} / {} / {} pages/s",
                bytes(m.swap_used_bytes as f64),
                opt(m.swap_in_pages_per_s, ""),
                opt(m.swap_out_pages_per_s, "")
            ),
            "memory.swap_in_pages_per_s",
        ));
        out.push(fig(
            "memory",
            "major page faults",
            opt(m.major_faults_per_s, "/s"),
            "memory.major_faults_per_s",
        ));
    }
}

fn disks(s: &Snapshot, out: &mut Vec<Figure>) {
    if let Some(d) = s.disks.get() {
        for disk in &d.devices {
            let kind = match disk.rotational {
                Some(true) => "rotational",
                Some(false) => "non-rotational",
                None => "unknown type",
            };
            out.push(fig(
                "disk",
                format!("{} ({kind})", disk.name),
                format!(
                    "{}% util, r_await {} w_await {}, aqu-sz {}, {} r/s {} w/s",
                    disk.util_pct,
                    opt(disk.r_await_ms, " ms"),
                    opt(disk.w_await_ms, " ms"),
                    disk.aqu_sz,
                    disk.reads_per_s,
                    disk.writes_per_s
                ),
                format!("disks.devices[name={}]", disk.name),
            ));
        }
    }
}

fn network(s: &Snapshot, out: &mut Vec<Figure>) {
    if let Some(t) = s.tcp.get() {
        let delta = |k: &str| {
            t.counters
                .get(k)
                .and_then(|c| c.delta)
                .map_or_else(|| "n/a".into(), |d| d.to_string())
        };
        let somaxconn = t
            .sysctls
            .get("net.core.somaxconn")
            .map_or_else(|| "n/a".into(), ToString::to_string);
        out.push(fig(
            "network",
            "listen queue overflows / drops",
            format!(
                "{} / {} in {:.1} s (somaxconn {somaxconn})",
                delta("TcpExtListenOverflows"),
                delta("TcpExtListenDrops"),
                s.window.seconds()
            ),
            "tcp.counters.TcpExtListenOverflows.delta",
        ));
        out.push(fig(
            "network",
            "retransmits / resets sent",
            format!("{} / {}", delta("TcpRetransSegs"), delta("TcpOutRsts")),
            "tcp.counters.TcpRetransSegs.delta",
        ));
        let state = |k: &str| t.states.get(k).copied().unwrap_or(0);
        out.push(fig(
            "network",
            "connections",
            format!(
                "{} established, {} time-wait, {} listening",
                state("ESTABLISHED"),
                state("TIME_WAIT"),
                state("LISTEN")
            ),
            "tcp.states",
        ));
    }
    if let Some(l) = s.listeners.get()
        && let Some(fullest) = l.sockets.iter().filter(|x| x.backlog > 0).max_by(|a, b| {
            let f = |x: &crate::snapshot::Listener| f64::from(x.queue_max) / f64::from(x.backlog);
            f(a).total_cmp(&f(b)).then(b.port.cmp(&a.port))
        })
    {
        let owner = fullest
            .process
            .as_ref()
            .map_or(String::new(), |p| format!(" ({} {})", p.name, p.pid));
        out.push(fig(
            "network",
            "fullest accept queue",
            format!(
                "{}{owner}: {} of {} at most",
                fullest.local, fullest.queue_max, fullest.backlog
            ),
            "listeners.sockets",
        ));
    }
}

fn processes(s: &Snapshot, out: &mut Vec<Figure>) {
    if let Some(p) = s.processes.get() {
        for proc in p.top.iter().take(3) {
            out.push(fig(
                "process",
                format!("{} ({})", proc.name, proc.pid),
                format!("{}% of one core, {} threads", proc.cpu_pct, proc.threads),
                "processes.top",
            ));
        }
    }
    if let Some(p) = s.pressure.get() {
        let w = |r: &Option<crate::snapshot::PressureResource>| {
            r.as_ref()
                .and_then(|r| r.some.window_pct)
                .map_or_else(|| "n/a".into(), |v| format!("{v}%"))
        };
        out.push(fig(
            "pressure",
            "stalled (some) cpu / io / memory",
            format!("{} / {} / {}", w(&p.cpu), w(&p.io), w(&p.memory)),
            "pressure",
        ));
    }
}

/// The busiest containers, with what the host view hides about them when it matters.
fn containers(s: &Snapshot, out: &mut Vec<Figure>) {
    const SHOWN: usize = 5;
    let Some(c) = s.containers.get() else { return };
    if c.containers.is_empty() {
        out.push(fig("container", "running", "none", "containers.containers"));
        return;
    }
    let mut busiest: Vec<_> = c.containers.iter().collect();
    busiest.sort_by(|a, b| {
        b.cpu_pct
            .unwrap_or(0.0)
            .total_cmp(&a.cpu_pct.unwrap_or(0.0))
            .then(a.name.cmp(&b.name))
    });
    for k in busiest.iter().take(SHOWN) {
        let mut v = format!("{} CPU", opt(k.cpu_pct, "%"));
        if let (Some(m), Some(l)) = (k.memory_bytes, k.memory_limit_bytes) {
            let _ = write!(v, ", memory {} of {}", bytes(m as f64), bytes(l as f64));
        }
        if let Some(g) = &k.cgroup
            && let (Some(t), Some(cores)) = (g.throttled_periods_pct, g.cpu_limit_cores)
            && t > 0.0
        {
            let _ = write!(v, ", throttled in {t}% of periods (limit {cores} CPUs)");
        }
        if let Some(n) = &k.net
            && let Some(d) = n
                .counters
                .get("TcpExtListenOverflows")
                .and_then(|c| c.delta)
            && d > 0
        {
            let somaxconn = n
                .sysctls
                .as_ref()
                .and_then(|s| s.get("net.core.somaxconn"))
                .map_or_else(|| "n/a".into(), ToString::to_string);
            let _ = write!(v, ", {d} listen overflows (somaxconn {somaxconn})");
        }
        if let Some(d) = k.restart_count.delta.filter(|d| *d > 0) {
            let _ = write!(v, ", restarted {d}×");
        }
        if let Some(d) = k
            .cgroup
            .as_ref()
            .and_then(|g| g.oom_kills?.delta)
            .filter(|d| *d > 0)
        {
            let _ = write!(v, ", {d} OOM kills");
        }
        if let Some(h) = &k.health
            && h != "healthy"
        {
            let _ = write!(v, ", {h}");
        }
        out.push(fig(
            "container",
            k.name.clone(),
            v,
            format!("containers.containers[name={}]", k.name),
        ));
    }
    if busiest.len() > SHOWN {
        out.push(fig(
            "container",
            "others",
            format!("{} more running", busiest.len() - SHOWN),
            "containers.containers",
        ));
    }
}
