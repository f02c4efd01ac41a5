//! The sections pasted outputs fill, each from the outputs of its kind: `tcp` (kernel counters
//! in readings, sysctls, `ss -s` states), `listeners` (`ss -lnt`), `disks` (`iostat -x`) and the
//! host's facts. Each marks the outputs it used (by index, log lines excluded), so the report can
//! say where every recognised output went.

use super::{Output, samples};
use crate::snapshot::{
    Disk, Disks, HostFacts, Listener, Listeners, Provenance, Section, SysctlValue, Tcp,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// Why a section is skipped when the text holds nothing for it.
pub const NOT_IN_TEXT: &str = "not in the imported text";

/// The `tcp` section from the kernel's counters and sysctls, and how many readings of the
/// counters there were. Marks the outputs it used (by index in `outputs`, log lines excluded).
pub(super) fn tcp(
    outputs: &[(Output, Provenance)],
    used: &mut BTreeMap<usize, &'static str>,
) -> (Section<Tcp>, u32) {
    let mut counter_outputs = Vec::new();
    let mut listening = None;
    let mut sysctls = BTreeMap::new();
    let mut states = BTreeMap::new();
    let mut from_other = Vec::new();
    let mut connections = None;
    let mut reserved = String::new();
    for (i, (o, from)) in outputs.iter().enumerate() {
        match o {
            Output::NetstatS(c) | Output::Nstat(c) => {
                counter_outputs.push((&c.values, from.clone()));
                used.insert(i, "tcp");
            }
            Output::SsListen(l) => {
                // `ss -s` does not count listeners; the last `ss -lnt` does.
                if !l.sockets.is_empty() || l.connections.is_empty() {
                    listening = Some(l.sockets.len());
                }
                // The last `ss -tn` / `ss -tan`: the ephemeral ports its connections hold.
                if !l.connections.is_empty() {
                    connections = Some((i, &l.connections, from));
                }
            }
            Output::SsSummary(s) => {
                // The last summary in the text is the state at its end.
                states.clone_from(&s.states);
                from_other.push(from.clone());
                used.insert(i, "tcp");
            }
            Output::Sysctl(s) => {
                let mut any = false;
                for name in crate::collect::tcp::SYSCTLS {
                    if let Some(v) = s.values.get(*name) {
                        sysctls.insert((*name).to_owned(), sysctl_value(v));
                        any = true;
                    }
                }
                if let Some(r) = s.values.get("net.ipv4.ip_local_reserved_ports") {
                    reserved.clone_from(r);
                    any = true;
                }
                if any {
                    from_other.push(from.clone());
                    used.insert(i, "tcp");
                }
            }
            _ => {}
        }
    }
    let readings = samples::readings(counter_outputs);
    if let Some(n) = listening.filter(|_| !states.is_empty()) {
        states.insert("LISTEN".to_owned(), u32::try_from(n).unwrap_or(u32::MAX));
    }
    if readings.is_empty() && sysctls.is_empty() && states.is_empty() && connections.is_none() {
        return (Section::skipped(NOT_IN_TEXT), 1);
    }
    let mut notes = counter_notes(readings.len(), sysctls.is_empty(), states.is_empty());
    let local_ports = connections.map(|(i, c, from)| {
        used.insert(i, "tcp");
        from_other.push(from.clone());
        let (ports, note) = local_ports(c, &sysctls, &reserved);
        notes.push(note);
        ports
    });
    let mut counters = samples::counters(&readings, None);
    // The `Tcp:` gauges have no growth, whatever the readings.
    for g in crate::collect::tcp::GAUGES {
        if let Some(c) = counters.get_mut(*g) {
            *c = crate::snapshot::Counter::gauge(c.total);
        }
    }
    let n = u32::try_from(readings.len()).unwrap_or(u32::MAX).max(1);
    let mut section = Section::ok(
        Tcp {
            counters,
            sysctls,
            states,
            local_ports,
            conntrack: None,
        },
        Duration::ZERO,
    )
    .with_notes(notes);
    section.imported = readings
        .into_iter()
        .flat_map(|r| r.from)
        .chain(from_other)
        .collect();
    section
        .imported
        .sort_by(|a, b| (&a.input, a.first_line).cmp(&(&b.input, b.first_line)));
    (section, n)
}

/// What the `tcp` section says of its counters, sysctls and socket states.
fn counter_notes(readings: usize, no_sysctls: bool, no_states: bool) -> Vec<String> {
    let mut notes = Vec::new();
    match readings {
        0 => notes.push("no counters in the imported text (netstat -s, nstat)".to_owned()),
        1 => notes.push(
            "one reading of the counters: totals since boot, no rates (paste a second netstat -s \
             or nstat -az taken later for the rates)"
                .to_owned(),
        ),
        _ => notes.push(format!(
            "{readings} readings of the counters: growth from the first to the last; the time \
             between them is not in the text, so there are no rates"
        )),
    }
    if no_sysctls {
        notes.push("sysctls not in the imported text (sysctl -a)".to_owned());
    }
    if no_states {
        notes.push("socket states not in the imported text (ss -s)".to_owned());
    } else {
        notes.push(
            "socket states from ss -s: ESTABLISHED and TIME_WAIT only (the states it counts by name)"
                .to_owned(),
        );
    }
    notes
}

/// The ephemeral ports a pasted `ss -tn`'s connections hold, counted as the collector counts
/// them, over the pasted range or Linux's default; and the note that says which.
fn local_ports(
    connections: &[super::ss::Connection],
    sysctls: &BTreeMap<String, SysctlValue>,
    reserved: &str,
) -> (crate::snapshot::LocalPorts, String) {
    use crate::collect::local_ports::{Endpoints, count, parse_range, state_of};
    let (range, which) = match sysctls
        .get("net.ipv4.ip_local_port_range")
        .and_then(|v| parse_range(&v.to_string()))
    {
        Some(r) => (r, "from the pasted net.ipv4.ip_local_port_range"),
        None => (
            (32768, 60999),
            "Linux's default 32768-60999, net.ipv4.ip_local_port_range not being in the text",
        ),
    };
    let endpoints: Vec<Endpoints> = connections
        .iter()
        .map(|c| Endpoints {
            state: state_of(&c.state),
            local: c.local.ip(),
            port: c.local.port(),
            remote: c.peer.ip(),
            remote_port: c.peer.port(),
        })
        .collect();
    (
        count(range, reserved, &endpoints),
        format!(
            "local_ports from the pasted ss -tn's {} connections; the ephemeral range is {which}",
            connections.len()
        ),
    )
}

/// The `listeners` section from `ss -lnt`: each listener's queue as the last output showed it,
/// the highest of every output as its `queue_max`.
pub(super) fn listeners(
    outputs: &[(Output, Provenance)],
    used: &mut BTreeMap<usize, &'static str>,
) -> Section<Listeners> {
    let mut by_local: BTreeMap<String, Listener> = BTreeMap::new();
    let mut from = Vec::new();
    let mut looks = 0;
    for (i, (o, p)) in outputs.iter().enumerate() {
        let Output::SsListen(l) = o else {
            continue;
        };
        // `ss -tn` lists connections, not listeners: it says nothing of the accept queues.
        if l.sockets.is_empty() && !l.connections.is_empty() {
            continue;
        }
        used.insert(i, "listeners");
        from.push(p.clone());
        looks += 1;
        for s in &l.sockets {
            let e = by_local.entry(s.local.clone()).or_insert_with(|| Listener {
                local: s.local.clone(),
                port: s.port,
                family: if s.local.starts_with('[') || s.local.starts_with('*') {
                    "ipv6".to_owned()
                } else {
                    "ipv4".to_owned()
                },
                backlog: s.backlog,
                queue: s.queue,
                queue_max: s.queue,
                queue_max_pct: None,
                inode: None,
                process: None,
            });
            e.backlog = s.backlog;
            e.queue = s.queue;
            e.queue_max = e.queue_max.max(s.queue);
            if s.process.is_some() {
                e.process.clone_from(&s.process);
            }
        }
    }
    if looks == 0 {
        return Section::skipped(NOT_IN_TEXT);
    }
    let sockets = by_local
        .into_values()
        .map(|mut l| {
            l.queue_max_pct = crate::snapshot::pct(f64::from(l.queue_max), f64::from(l.backlog));
            l
        })
        .collect();
    let mut s = Section::ok(
        Listeners {
            sockets,
            owners_complete: false,
        },
        Duration::ZERO,
    )
    .with_notes(vec![format!(
        "from {looks} pasted ss -lnt output{}: queue_max is the highest Recv-Q they show, not a \
         sampled maximum",
        if looks == 1 { "" } else { "s" }
    )]);
    s.imported = from;
    s
}

/// The `disks` section from the last `iostat -x` device table in the text: the average since
/// boot when it is iostat's first report, the interval's when a later one.
pub(super) fn disks(
    outputs: &[(Output, Provenance)],
    used: &mut BTreeMap<usize, &'static str>,
) -> Section<Disks> {
    let reports: Vec<usize> = outputs
        .iter()
        .enumerate()
        .filter(|(_, (o, _))| matches!(o, Output::Iostat(_)))
        .map(|(i, _)| i)
        .collect();
    let Some(&last) = reports.last() else {
        return Section::skipped(NOT_IN_TEXT);
    };
    let (Output::Iostat(report), from) = &outputs[last] else {
        return Section::skipped(NOT_IN_TEXT);
    };
    used.insert(last, "disks");
    let devices = report
        .devices
        .iter()
        .map(|d| Disk {
            name: d.name.clone(),
            kind: None,
            under: Vec::new(),
            dm_name: None,
            backing_file: None,
            mounts: Vec::new(),
            rotational: None,
            size_bytes: None,
            reads_per_s: d.reads_per_s,
            writes_per_s: d.writes_per_s,
            read_bytes_per_s: d.read_bytes_per_s,
            write_bytes_per_s: d.write_bytes_per_s,
            read_merges_per_s: d.read_merges_per_s,
            write_merges_per_s: d.write_merges_per_s,
            r_await_ms: d.r_await_ms,
            w_await_ms: d.w_await_ms,
            aqu_sz: d.aqu_sz,
            util_pct: d.util_pct,
            in_flight: 0,
        })
        .collect();
    let which = if reports.len() == 1 {
        "one iostat -x report: if it was iostat's first, its figures average since boot (iostat -x 1 2 \
         gives one over the last second)"
    } else {
        "the last of several iostat -x reports: its interval's figures"
    };
    let mut s = Section::ok(Disks { devices }, Duration::ZERO).with_notes(vec![
        which.to_owned(),
        "from pasted iostat -x: in_flight is not printed (0 here), nor the device's kind, \
         rotational flag or mounts"
            .to_owned(),
    ]);
    s.imported = vec![from.clone()];
    s
}

fn sysctl_value(text: &str) -> SysctlValue {
    crate::collect::tcp::sysctl_value(text)
}

/// Host facts the text shows (`sysctl -a`'s `kernel.hostname`, `kernel.osrelease`); the others
/// stay unknown.
pub(super) fn host(
    outputs: &[(Output, Provenance)],
    used: &mut BTreeMap<usize, &'static str>,
) -> HostFacts {
    let mut host = HostFacts::default();
    for (i, (o, _)) in outputs.iter().enumerate() {
        if let Output::Host(_, f) = o {
            let before = host.clone();
            host.hostname = f.hostname.clone().or(host.hostname);
            host.kernel = f.kernel.clone().or(host.kernel);
            host.cpus = f.cpus.or(host.cpus);
            host.memory_bytes = f.memory_bytes.or(host.memory_bytes);
            host.uptime_s = f.uptime_s.or(host.uptime_s);
            if host != before {
                used.entry(i).or_insert("host");
            }
        }
        if let Output::Addresses(_, a) = o {
            for ip in &a.addresses {
                let ip = ip.to_string();
                if !host.addresses.contains(&ip) {
                    host.addresses.push(ip);
                }
            }
            used.entry(i).or_insert("host");
        }
        if let Output::Sysctl(s) = o {
            let before = host.clone();
            if let Some(h) = s.values.get("kernel.hostname") {
                host.hostname = Some(h.clone());
            }
            if let Some(k) = s.values.get("kernel.osrelease") {
                host.kernel = Some(k.clone());
            }
            if host != before {
                used.entry(i).or_insert("host");
            }
        }
    }
    host.addresses
        .sort_by_key(|a| a.parse::<std::net::IpAddr>().ok());
    host
}
