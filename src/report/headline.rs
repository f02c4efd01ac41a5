//! The headline figures per layer: what a person would look at first in `vmstat`, `iostat -x`,
//! `netstat -s` and `ss -lnt`, read off the snapshot.

use super::text::bytes;
use crate::snapshot::{Disk, Snapshot, Status};
use schemars::JsonSchema;
use serde::Serialize;
use std::fmt::Write as _;

/// One figure of the headline.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Figure {
    /// `host`, `cpu`, `memory`, `disk`, `network`, `process`, `pressure`, `logs`.
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
    load_test(s, &mut out);
    processes(s, &mut out);
    containers(s, &mut out);
    logs(s, &mut out);
    mysql(s, &mut out);
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

/// What reached the load test's port (`--under-load PORT`), beside the host's network figures.
fn load_test(s: &Snapshot, out: &mut Vec<Figure>) {
    let Some(l) = s.load_test.get() else { return };
    match (l.port, &l.target) {
        (Some(port), Some(t)) => out.push(fig(
            "network",
            format!("load test on port {port}"),
            format!(
                "{} data segments/s (~requests/s), {} new connections/s, {} connections at most",
                opt(t.data_segs_in_per_s, ""),
                t.new_connections_per_s,
                t.connections_max
            ),
            "load_test.target.data_segs_in_per_s",
        )),
        _ => out.push(fig(
            "network",
            "load test",
            "declared, no port named",
            "load_test.port",
        )),
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

/// One figure per device that did something in the window, named with what it is; the idle
/// ones (a snap's loop devices, a mounted spare volume) in one line, so they stay out of the
/// way without vanishing.
fn disks(s: &Snapshot, out: &mut Vec<Figure>) {
    const IDLE_NAMED: usize = 8;
    let Some(d) = s.disks.get() else { return };
    let (idle, busy): (Vec<&Disk>, Vec<&Disk>) = d.devices.iter().partition(|d| d.idle());
    for disk in busy {
        out.push(fig(
            "disk",
            describe_disk(disk),
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
    if !idle.is_empty() {
        let names: Vec<&str> = idle
            .iter()
            .take(IDLE_NAMED)
            .map(|d| d.name.as_str())
            .collect();
        let more = match idle.len().saturating_sub(IDLE_NAMED) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        out.push(fig(
            "disk",
            "idle in the window",
            format!("{}{more}", names.join(", ")),
            "disks.devices",
        ));
    }
}

/// `vda (rotational)`, `loop0 (loop over /srv/slow.img, on vda, non-rotational)`,
/// `dm-0 (dm vg0-data, on md0, non-rotational)`: what the device is and what it sits on.
fn describe_disk(disk: &Disk) -> String {
    let mut parts = Vec::new();
    match disk.kind.as_deref() {
        None | Some("disk") => {}
        Some("loop") => parts.push(
            disk.backing_file
                .as_ref()
                .map_or_else(|| "loop".to_owned(), |f| format!("loop over {f}")),
        ),
        Some("dm") => parts.push(
            disk.dm_name
                .as_ref()
                .map_or_else(|| "dm".to_owned(), |n| format!("dm {n}")),
        ),
        Some(kind) => parts.push(kind.to_owned()),
    }
    if !disk.under.is_empty() {
        parts.push(format!("on {}", disk.under.join(", ")));
    }
    parts.push(
        match disk.rotational {
            Some(true) => "rotational",
            Some(false) => "non-rotational",
            None => "unknown type",
        }
        .to_owned(),
    );
    format!("{} ({})", disk.name, parts.join(", "))
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

/// One figure per category found (most frequent pattern's last line as the example), one per
/// source that could not be read, or one saying nothing known was found.
fn logs(s: &Snapshot, out: &mut Vec<Figure>) {
    let Some(l) = s.logs.get() else {
        return;
    };
    for src in l.sources.iter().filter(|x| x.status != Status::Ok) {
        out.push(fig(
            "logs",
            format!("{} (not read)", src.name),
            src.message.clone().unwrap_or_default(),
            "logs.sources",
        ));
    }
    let read = l.sources.iter().filter(|x| x.status == Status::Ok).count();
    let mut any = false;
    for (cat, total) in l.categories.iter().filter(|(_, t)| t.count > 0) {
        any = true;
        // The pattern of this category with the most lines, and its latest sample.
        let top = l
            .patterns
            .iter()
            .filter(|(_, p)| &p.category == cat && p.count > 0)
            .max_by_key(|(id, p)| (p.count, std::cmp::Reverse(*id)));
        let example = top.and_then(|(id, _)| {
            l.sources
                .iter()
                .filter_map(|src| src.matches.get(id))
                .max_by_key(|m| m.count)
                .map(|m| short(&m.sample, 120))
        });
        let lines = if total.count == 1 { "line" } else { "lines" };
        let mut value = format!(
            "{} {lines} ({} during the window)",
            total.count, total.in_window
        );
        if let Some((id, _)) = top {
            let _ = write!(value, ", most from {id}");
        }
        if let Some(e) = example {
            let _ = write!(value, ": {e}");
        }
        out.push(fig(
            "logs",
            cat.clone(),
            value,
            format!("logs.categories['{cat}']"),
        ));
    }
    if !any && read > 0 {
        let bytes_scanned: u64 = l.sources.iter().map(|x| x.bytes_scanned).sum();
        out.push(fig(
            "logs",
            "known errors",
            format!(
                "none in {read} source(s), {} scanned",
                bytes(bytes_scanned as f64)
            ),
            "logs.categories",
        ));
    }
}

fn mysql(s: &Snapshot, out: &mut Vec<Figure>) {
    let Some(m) = s.mysql.get() else {
        return;
    };
    let flavor = match m.flavor {
        crate::snapshot::Flavor::Mariadb => "MariaDB",
        crate::snapshot::Flavor::Mysql => "MySQL",
    };
    out.push(fig(
        "mysql",
        "server",
        format!(
            "{flavor} {}.{}.{}, up {}, {} {}",
            m.version_major,
            m.version_minor,
            m.version_patch,
            humantime::format_duration(std::time::Duration::from_secs(
                m.uptime_s.max(0).unsigned_abs()
            )),
            m.connection.via,
            m.connection.address
        ),
        "mysql.version",
    ));
    let total = |k: &str| m.global_status.get(k).map(|c| c.total);
    let delta = |k: &str| {
        m.global_status
            .get(k)
            .and_then(|c| c.delta)
            .map_or_else(|| "n/a".to_owned(), |d| d.to_string())
    };
    let var = |k: &str| m.variables.get(k).map(ToString::to_string);
    let mut conns = format!(
        "{} of {} ({}), max used {}",
        total("Threads_connected").map_or_else(|| "n/a".into(), |t| t.to_string()),
        var("max_connections").unwrap_or_else(|| "n/a".into()),
        opt(m.connections_used_pct, "%"),
        total("Max_used_connections").map_or_else(|| "n/a".into(), |t| t.to_string()),
    );
    if let Some(p) = &m.processlist {
        let _ = write!(conns, "; {} sleeping", p.sleeping);
        if let Some(idle) = p.sleeping_max_idle_s {
            let _ = write!(conns, ", longest idle {idle} s");
        }
    }
    if let Some(w) = var("wait_timeout") {
        let _ = write!(conns, " (wait_timeout {w})");
    }
    out.push(fig(
        "mysql",
        "connections",
        conns,
        "mysql.global_status.Threads_connected",
    ));
    out.push(fig(
        "mysql",
        "refused / aborted connects / aborted clients",
        format!(
            "{} / {} / {} in {:.1} s",
            delta("Connection_errors_max_connections"),
            delta("Aborted_connects"),
            delta("Aborted_clients"),
            s.window.seconds()
        ),
        "mysql.global_status.Aborted_connects.delta",
    ));
    mysql_storage(m, out);
}

/// The buffer pool, where the data lives, and the round trip.
fn mysql_storage(m: &crate::snapshot::Mysql, out: &mut Vec<Figure>) {
    let mut pool = format!(
        "{} in the window, {} since start",
        opt(m.buffer_pool_hit_rate_pct, "%"),
        opt(m.buffer_pool_hit_rate_since_start_pct, "%")
    );
    if let Some(size) = m.buffer_pool_size_bytes {
        let _ = write!(pool, "; pool {}", bytes(size as f64));
        if let Some(v) = m.buffer_pool_vs_data_pct {
            let _ = write!(pool, " = {v}% of the InnoDB data");
        }
    }
    out.push(fig(
        "mysql",
        "buffer pool hit rate",
        pool,
        "mysql.buffer_pool_hit_rate_pct",
    ));
    if let Some(d) = &m.datadir {
        let value = match (&d.device, d.rotational) {
            (Some(dev), Some(true)) => format!("{} on {dev} (rotational)", d.path),
            (Some(dev), _) => format!("{} on {dev}", d.path),
            (None, _) if !d.local => format!("{} (not on this machine)", d.path),
            (None, _) => format!("{} (disk not determined)", d.path),
        };
        out.push(fig("mysql", "datadir", value, "mysql.datadir"));
    }
    if let Some(st) = &m.storage {
        out.push(fig(
            "mysql",
            "storage as the server waits on it",
            server_storage(st),
            "mysql.storage",
        ));
    }
    out.push(fig(
        "mysql",
        "SELECT 1 round trip",
        format!(
            "{} (slowest {})",
            opt(m.select1_rtt_ms, " ms"),
            opt(m.select1_rtt_max_ms, " ms")
        ),
        "mysql.select1_rtt_ms",
    ));
}

/// `redo log fsync 12.5 ms ×150, data files fsync 40 ms ×9; 14.5 fsyncs/s, 0 log waits`: the
/// timed syncs of the window (`performance_schema`), then the status counters.
fn server_storage(st: &crate::snapshot::Storage) -> String {
    let parts: Vec<String> = [
        ("redo log", &st.redo_log),
        ("data files", &st.data_files),
        ("binlog", &st.binlog),
    ]
    .iter()
    .filter_map(|(name, w)| {
        // A file without operations in the window (the binary log when it is off) is noise.
        let w = w.as_ref().filter(|w| w.syncs > 0 || w.writes > 0)?;
        Some(format!(
            "{name} fsync {} ×{}",
            opt(w.sync_avg_ms, " ms"),
            w.syncs
        ))
    })
    .collect();
    let timed = st.redo_log.is_some() || st.data_files.is_some() || st.binlog.is_some();
    let mut v = match (parts.is_empty(), timed) {
        (false, _) => parts.join(", "),
        (true, true) => "no file syncs or writes in the window".to_owned(),
        (true, false) => "no file I/O timings (performance_schema off or unreadable)".to_owned(),
    };
    let _ = write!(v, "; {} fsyncs/s", opt(st.data_fsyncs_per_s, ""));
    if let Some(p) = st.data_pending_fsyncs {
        let _ = write!(v, ", pending fsyncs {} → {}", p.start, p.end);
    }
    if let Some(w) = st.log_waits {
        let _ = write!(v, ", {w} log waits");
    }
    v
}

/// At most `n` characters, with an ellipsis when cut.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(n).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot with only a `logs` section, as `doctor snapshot --log` writes it.
    fn snapshot(logs: &str) -> Snapshot {
        let text = format!(
            r#"{{"schema":1,"doctor_version":"0","host":{{"hostname":"h","kernel":"k","cpus":2,"memory_bytes":1,"uptime_s":1}},
            "window":{{"start":"2025-01-03T10:09:19Z","start_unix_ms":0,"requested_ms":5000,"elapsed_ms":5000}},
            "overhead":{{"cpu_ms":1,"max_rss_bytes":1,"wall_ms":1}},"logs":{logs}}}"#
        );
        crate::snapshot::from_json(text.as_bytes(), std::path::Path::new("t.json")).unwrap()
    }

    fn logs_figures(s: &Snapshot) -> Vec<(String, String)> {
        headline(s)
            .into_iter()
            .filter(|f| f.layer == "logs")
            .map(|f| (f.name, f.value))
            .collect()
    }

    #[test]
    fn log_categories_found_and_sources_not_read_are_figures() {
        let s = snapshot(
            r#"{"status":"ok","elapsed_ms":1,
            "sources":[
              {"name":"/gone.log","kind":"file","status":"error","message":"cannot read /gone.log: No such file",
               "bytes_scanned":0,"tail_truncated":false,"matched_lines":0,"matches":{},"categories":{}},
              {"name":"/app.log","kind":"file","path":"/app.log","status":"ok","bytes_scanned":100,"tail_truncated":false,
               "matched_lines":3,"matches":{"mysql-queue-limit":{"count":3,"in_window":2,"sample":"Error: Queue limit reached."}},
               "categories":{"db-pool-exhausted":{"count":3,"in_window":2}}}],
            "patterns":{"mysql-queue-limit":{"category":"db-pool-exhausted","count":3,"in_window":2},
                        "kernel-oom-kill":{"category":"oom-kill","count":0,"in_window":0}},
            "categories":{"db-pool-exhausted":{"count":3,"in_window":2},"oom-kill":{"count":0,"in_window":0}}}"#,
        );
        assert_eq!(
            logs_figures(&s),
            vec![
                (
                    "/gone.log (not read)".to_owned(),
                    "cannot read /gone.log: No such file".to_owned()
                ),
                (
                    "db-pool-exhausted".to_owned(),
                    "3 lines (2 during the window), most from mysql-queue-limit: Error: Queue limit reached."
                        .to_owned()
                ),
            ]
        );
    }

    #[test]
    fn mysql_figures() {
        let text = r#"{"schema":1,"doctor_version":"0","host":{"hostname":"h","kernel":"k","cpus":2,"memory_bytes":1,"uptime_s":1},
            "window":{"start":"2025-01-03T10:09:19Z","start_unix_ms":0,"requested_ms":5000,"elapsed_ms":5000},
            "overhead":{"cpu_ms":1,"max_rss_bytes":1,"wall_ms":1},
            "mysql":{"status":"ok","elapsed_ms":3,"flavor":"mariadb","version":"10.11.6-MariaDB","version_major":10,
              "version_minor":11,"version_patch":6,"connection":{"via":"tcp","address":"127.0.0.1:3306","user":"u",
              "source":"url","tls":false},"uptime_s":3700,
              "global_status":{"Threads_connected":{"total":121},"Max_used_connections":{"total":151},
                "Aborted_connects":{"total":20,"delta":11,"per_s":2.2}},
              "global_status_text":{},"variables":{"max_connections":151,"wait_timeout":28800},
              "connections_used_pct":80.13,"buffer_pool_hit_rate_pct":93.5,"buffer_pool_size_bytes":134217728,
              "buffer_pool_vs_data_pct":25.0,"select1_rtt_ms":0.21,"select1_rtt_max_ms":0.4,
              "processlist":{"threads":120,"by_command":{"Sleep":120},"by_state":{},"by_user":{},"by_host":{},
                "sleeping":120,"sleeping_max_idle_s":4200.0,"idle_histogram":{"lt_1s":0,"lt_10s":0,"lt_1m":0,
                "lt_10m":0,"lt_1h":0,"ge_1h":120},"longest_running":[]},
              "performance_schema":{"enabled":false},
              "datadir":{"path":"/var/lib/mysql/","local":true,"device":"sda","rotational":true}}}"#;
        let s =
            crate::snapshot::from_json(text.as_bytes(), std::path::Path::new("t.json")).unwrap();
        let figs: Vec<(String, String)> = headline(&s)
            .into_iter()
            .filter(|f| f.layer == "mysql")
            .map(|f| (f.name, f.value))
            .collect();
        let want = [
            (
                "server",
                "MariaDB 10.11.6, up 1h 1m 40s, tcp 127.0.0.1:3306",
            ),
            (
                "connections",
                "121 of 151 (80.13%), max used 151; 120 sleeping, longest idle 4200 s (wait_timeout 28800)",
            ),
            (
                "refused / aborted connects / aborted clients",
                "n/a / 11 / n/a in 5.0 s",
            ),
            (
                "buffer pool hit rate",
                "93.5% in the window, n/a since start; pool 128.0 MiB = 25% of the InnoDB data",
            ),
            ("datadir", "/var/lib/mysql/ on sda (rotational)"),
            ("SELECT 1 round trip", "0.21 ms (slowest 0.4 ms)"),
        ];
        assert_eq!(
            figs,
            want.iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn busy_devices_say_what_they_are_and_idle_ones_share_a_line() {
        let dev = |name: &str, extra: &str, util: f64| {
            format!(
                r#"{{"name":"{name}",{extra}"reads_per_s":0,"writes_per_s":{util},"read_bytes_per_s":0,
                "write_bytes_per_s":0,"read_merges_per_s":0,"write_merges_per_s":0,"aqu_sz":0,
                "util_pct":{util},"in_flight":0}}"#
            )
        };
        let devices = [
            dev(
                "dm-0",
                r#""kind":"dm","dm_name":"vg0-data","under":["md0"],"rotational":false,"#,
                5.0,
            ),
            dev(
                "loop0",
                r#""kind":"loop","backing_file":"/srv/slow.img","under":["vda"],"#,
                99.0,
            ),
            dev("loop1", r#""kind":"loop","#, 0.0),
            dev("md0", r#""kind":"md","under":["sda","sdb"],"#, 5.0),
            dev("loop2", r#""kind":"loop","#, 0.0),
            dev("vda", r#""rotational":true,"#, 3.0),
        ];
        let text = format!(
            r#"{{"schema":1,"doctor_version":"0","host":{{"hostname":"h","kernel":"k","cpus":2,"memory_bytes":1,"uptime_s":1}},
            "window":{{"start":"2025-01-03T10:09:19Z","start_unix_ms":0,"requested_ms":5000,"elapsed_ms":5000}},
            "overhead":{{"cpu_ms":1,"max_rss_bytes":1,"wall_ms":1}},
            "disks":{{"status":"ok","elapsed_ms":1,"devices":[{}]}}}}"#,
            devices.join(",")
        );
        let s =
            crate::snapshot::from_json(text.as_bytes(), std::path::Path::new("t.json")).unwrap();
        let names: Vec<String> = headline(&s)
            .into_iter()
            .filter(|f| f.layer == "disk")
            .map(|f| {
                let value = f
                    .value
                    .split_once(" util")
                    .map_or(f.value.clone(), |(u, _)| u.to_owned());
                format!("{} = {value}", f.name)
            })
            .collect();
        assert_eq!(
            names,
            [
                "dm-0 (dm vg0-data, on md0, non-rotational) = 5%",
                "loop0 (loop over /srv/slow.img, on vda, unknown type) = 99%",
                "md0 (md, on sda, sdb, unknown type) = 5%",
                "vda (rotational) = 3%",
                "idle in the window = loop1, loop2",
            ]
        );
    }

    #[test]
    fn clean_logs_say_so() {
        let s = snapshot(
            r#"{"status":"ok","elapsed_ms":1,
            "sources":[{"name":"/app.log","kind":"file","status":"ok","bytes_scanned":2048,"tail_truncated":false,
               "matched_lines":0,"matches":{},"categories":{}}],
            "patterns":{"kernel-oom-kill":{"category":"oom-kill","count":0,"in_window":0}},
            "categories":{"oom-kill":{"count":0,"in_window":0}}}"#,
        );
        assert_eq!(
            logs_figures(&s),
            vec![(
                "known errors".to_owned(),
                "none in 1 source(s), 2.0 KiB scanned".to_owned()
            )]
        );
        let skipped = snapshot(r#"{"status":"skipped","message":"no log to scan"}"#);
        assert!(logs_figures(&skipped).is_empty());
    }
}
