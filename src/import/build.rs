//! A snapshot from pasted text: every input is recognised ([`super::claim`]), its left-over lines
//! handed to the log scanner ([`super::logs`]), and what was found goes to the sections the
//! collectors would have filled — each with the inputs and lines it came from. A section the text
//! says nothing about is `skipped`, "not in the imported text"; host facts the text does not show
//! are absent (unknown), never 0.

use super::{Output, claim, lines, logs, not_understood, samples};
use crate::scan::Scanner;
use crate::snapshot::{
    Disk, Disks, HostFacts, Imported, ImportedInput, ImportedOutput, LineRange, Listener,
    Listeners, Overhead, Provenance, SCHEMA_VERSION, Section, Snapshot, SysctlValue, Tcp, Window,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// One pasted input.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// As the user named it; `<stdin>` for `-`.
    pub name: &'a str,
    pub text: &'a str,
}

/// Why a section is skipped when the text holds nothing for it.
pub const NOT_IN_TEXT: &str = "not in the imported text";

/// Outputs of every input, in order, each with where it came from.
struct Found {
    outputs: Vec<(Output, Provenance)>,
    log_sources: Vec<crate::snapshot::LogSource>,
    log_from: Vec<Provenance>,
    inputs: Vec<ImportedInput>,
}

/// Builds the snapshot of `inputs`, scanning log lines with `scanner`.
#[must_use]
pub fn snapshot(inputs: &[Input<'_>], scanner: &Scanner) -> Snapshot {
    let started = std::time::Instant::now();
    let mut found = read(inputs, scanner);

    let mut used: BTreeMap<usize, &'static str> = BTreeMap::new();
    let tcp = tcp(&found.outputs, &mut used);
    let logs = if found.log_sources.is_empty() {
        Section::skipped(NOT_IN_TEXT)
    } else {
        let mut s = Section::ok(
            scanner.summarize(std::mem::take(&mut found.log_sources)),
            Duration::ZERO,
        );
        s.imported = std::mem::take(&mut found.log_from);
        s.notes.push(
            "log lines from pasted text: they have no window, so none counts as \"in the \
             window\"; counts are over the text"
                .to_owned(),
        );
        s
    };
    let host = host(&found.outputs, &mut used);
    let disks = disks(&found.outputs, &mut used);
    let listeners = listeners(&found.outputs, &mut used);
    let samples = tcp.1;

    // Which section each output went to, or why it did not.
    let mut k = 0;
    for input in &mut found.inputs {
        for o in &mut input.outputs {
            if o.output == "log lines" {
                o.section = Some("logs".to_owned());
                continue;
            }
            match used.get(&k) {
                Some(section) => o.section = Some((*section).to_owned()),
                None => {
                    o.unused = found.outputs.get(k).map(|(out, _)| unused(out).to_owned());
                }
            }
            k += 1;
        }
    }

    let mysql_recognised = found
        .outputs
        .iter()
        .any(|(o, _)| matches!(o, Output::MysqlNames { .. } | Output::Processlist { .. }));
    let mysql_why = if mysql_recognised {
        "the imported text holds MySQL result sets (see `imported.inputs`), but doctor does not \
         build the mysql section from pasted text yet"
    } else {
        NOT_IN_TEXT
    };

    Snapshot {
        schema: SCHEMA_VERSION,
        doctor_version: env!("CARGO_PKG_VERSION").to_owned(),
        host,
        window: Window {
            start: "unknown".to_owned(),
            start_unix_ms: 0,
            requested_ms: 0,
            elapsed_ms: 0.0,
        },
        overhead: Overhead {
            cpu_ms: 0.0,
            max_rss_bytes: 0,
            wall_ms: crate::snapshot::round_ms(started.elapsed()),
        },
        cpu: Section::skipped(NOT_IN_TEXT),
        memory: Section::skipped(NOT_IN_TEXT),
        disks,
        tcp: tcp.0,
        listeners,
        processes: Section::skipped(NOT_IN_TEXT),
        pressure: Section::skipped(NOT_IN_TEXT),
        containers: Section::skipped(NOT_IN_TEXT),
        logs,
        mysql: Section::skipped(mysql_why),
        mysql_server: Section::skipped(NOT_IN_TEXT),
        load_test: Section::skipped(NOT_IN_TEXT),
        imported: Some(Imported {
            inputs: found.inputs,
            samples,
            gap_s: None,
        }),
    }
}

/// Why a recognised output went to no section.
fn unused(o: &Output) -> &'static str {
    match o {
        Output::Host(super::host::Kind::Free, f) if f.memory_bytes.is_none() => {
            "the unit of its figures is not in the text (paste the command line above it, or use \
             free -b or free -h)"
        }
        Output::Host(..) => "its load averages only: the cpu section needs more than they tell",
        Output::Sysctl(_) => "none of the settings doctor reads",
        Output::Iostat(_) => "an earlier report: the disks section takes the last one",
        Output::IostatCpu(_) | Output::Vmstat(_) => {
            "recognised; the cpu and memory sections need more than it tells, so doctor builds \
             none from it yet"
        }
        Output::DockerStats(_) => {
            "recognised; doctor does not build the containers section from pasted text yet"
        }
        Output::MysqlNames { .. } | Output::Processlist { .. } => {
            "recognised; doctor does not build the mysql section from pasted text yet"
        }
        _ => "recognised; doctor does not build a section from this output yet",
    }
}

/// Recognises every input and scans its left-over lines for log lines.
fn read(inputs: &[Input<'_>], scanner: &Scanner) -> Found {
    let mut found = Found {
        outputs: Vec::new(),
        log_sources: Vec::new(),
        log_from: Vec::new(),
        inputs: Vec::new(),
    };
    for input in inputs {
        let ls = lines::lines(input.text);
        let (outputs, unclaimed) = claim(&ls);
        let logged = logs::scan(scanner, input.name, &ls, &unclaimed);
        let mut listed: Vec<ImportedOutput> = Vec::new();
        for o in outputs {
            let (first_line, last_line) = o.lines();
            listed.push(ImportedOutput {
                output: o.what().to_owned(),
                first_line,
                last_line,
                section: None,
                unused: None,
            });
            let from = Provenance {
                input: input.name.to_owned(),
                first_line,
                last_line,
                output: o.what().to_owned(),
            };
            found.outputs.push((o, from));
        }
        for (first_line, last_line) in lines::ranges(logged.lines.iter().copied()) {
            listed.push(ImportedOutput {
                output: "log lines".to_owned(),
                first_line,
                last_line,
                section: Some("logs".to_owned()),
                unused: None,
            });
            found.log_from.push(Provenance {
                input: input.name.to_owned(),
                first_line,
                last_line,
                output: "log lines".to_owned(),
            });
        }
        listed.sort_by_key(|o| o.first_line);
        if let Some(source) = logged.source {
            found.log_sources.push(source);
        }
        let left: Vec<usize> = unclaimed
            .into_iter()
            .filter(|n| !logged.lines.contains(n))
            .collect();
        found.inputs.push(ImportedInput {
            name: input.name.to_owned(),
            lines: ls.len(),
            outputs: listed,
            not_understood: not_understood(&ls, left)
                .into_iter()
                .map(|(first_line, last_line)| LineRange {
                    first_line,
                    last_line,
                })
                .collect(),
        });
    }
    found
}

/// The `tcp` section from the kernel's counters and sysctls, and how many readings of the
/// counters there were. Marks the outputs it used (by index in `outputs`, log lines excluded).
fn tcp(
    outputs: &[(Output, Provenance)],
    used: &mut BTreeMap<usize, &'static str>,
) -> (Section<Tcp>, u32) {
    let mut counter_outputs = Vec::new();
    let mut listening = None;
    let mut sysctls = BTreeMap::new();
    let mut states = BTreeMap::new();
    let mut from_other = Vec::new();
    for (i, (o, from)) in outputs.iter().enumerate() {
        match o {
            Output::NetstatS(c) | Output::Nstat(c) => {
                counter_outputs.push((&c.values, from.clone()));
                used.insert(i, "tcp");
            }
            Output::SsListen(l) => {
                // `ss -s` does not count listeners; the last `ss -lnt` does.
                listening = Some(l.sockets.len());
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
    if readings.is_empty() && sysctls.is_empty() && states.is_empty() {
        return (Section::skipped(NOT_IN_TEXT), 1);
    }
    let mut counters = samples::counters(&readings, None);
    // The `Tcp:` gauges have no growth, whatever the readings.
    for g in crate::collect::tcp::GAUGES {
        if let Some(c) = counters.get_mut(*g) {
            *c = crate::snapshot::Counter::gauge(c.total);
        }
    }
    let n = u32::try_from(readings.len()).unwrap_or(u32::MAX).max(1);
    let mut notes = Vec::new();
    match readings.len() {
        0 => notes.push("no counters in the imported text (netstat -s, nstat)".to_owned()),
        1 => notes.push(
            "one reading of the counters: totals since boot, no rates (paste a second netstat -s \
             or nstat -az taken later for the rates)"
                .to_owned(),
        ),
        _ => notes.push(format!(
            "{} readings of the counters: growth from the first to the last; the time between \
             them is not in the text, so there are no rates",
            readings.len()
        )),
    }
    if sysctls.is_empty() {
        notes.push("sysctls not in the imported text (sysctl -a)".to_owned());
    }
    if states.is_empty() {
        notes.push("socket states not in the imported text (ss -s)".to_owned());
    } else {
        notes.push(
            "socket states from ss -s: ESTABLISHED and TIME_WAIT only (the states it counts by name)"
                .to_owned(),
        );
    }
    let mut section = Section::ok(
        Tcp {
            counters,
            sysctls,
            states,
            local_ports: None,
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

/// The `listeners` section from `ss -lnt`: each listener's queue as the last output showed it,
/// the highest of every output as its `queue_max`.
fn listeners(
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
fn disks(
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
fn host(outputs: &[(Output, Provenance)], used: &mut BTreeMap<usize, &'static str>) -> HostFacts {
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
    host
}
