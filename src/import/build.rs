//! A snapshot from pasted text: every input is recognised ([`super::claim`]), its left-over lines
//! handed to the log scanner ([`super::logs`]), and what was found goes to the sections the
//! collectors would have filled — each with the inputs and lines it came from. A section the text
//! says nothing about is `skipped`, "not in the imported text"; host facts the text does not show
//! are absent (unknown), never 0.

use super::sections::{disks, host, listeners, tcp};
use super::{Output, claim, lines, logs, not_understood};
use crate::scan::Scanner;
use crate::snapshot::{
    Imported, ImportedInput, ImportedOutput, LineRange, Overhead, Provenance, SCHEMA_VERSION,
    Section, Snapshot, Window,
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

pub use super::sections::NOT_IN_TEXT;

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
    let (mut tcp, tcp_readings) = tcp(&found.outputs, &mut used);
    let mysql = super::database::mysql(&found.outputs, &mut used);
    let gap_s = mysql.as_ref().and_then(|m| m.gap_s);
    let mysql_readings = mysql.as_ref().map_or(0, |m| m.readings);
    if gap_s.is_some() && tcp_readings >= 2 {
        // The window is the MySQL readings' gap; the kernel counters' readings may have been
        // taken at other times, so their growth over it would be a made-up rate.
        if let Some(t) = tcp.data.as_mut() {
            for c in t.counters.values_mut() {
                *c = crate::snapshot::Counter::gauge(c.total);
            }
        }
        tcp.notes.push(
            "the window is the time between the MySQL status readings; the kernel counters'              readings are not known to be as far apart, so only their last totals are kept"
                .to_owned(),
        );
    }
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
    let cpu = super::system::cpu(&found.outputs, &host, &mut used);
    let memory = super::system::memory(&found.outputs, &mut used);
    let containers = super::containers::containers(&found.outputs, &mut used);
    let disks = disks(&found.outputs, &mut used);
    let listeners = listeners(&found.outputs, &mut used);
    let samples = u32::try_from(mysql_readings.max(tcp_readings as usize))
        .unwrap_or(u32::MAX)
        .max(1);

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

    Snapshot {
        schema: SCHEMA_VERSION,
        doctor_version: env!("CARGO_PKG_VERSION").to_owned(),
        host,
        window: Window {
            start: "unknown".to_owned(),
            start_unix_ms: 0,
            requested_ms: 0,
            // The time between two readings, when the text tells it; 0 (no window) otherwise.
            elapsed_ms: gap_s.map_or(0.0, |g| g * 1000.0),
            interrupted: None,
        },
        overhead: Overhead {
            cpu_ms: 0.0,
            max_rss_bytes: 0,
            wall_ms: crate::snapshot::round_ms(started.elapsed()),
        },
        cpu,
        memory,
        disks,
        tcp,
        listeners,
        processes: Section::skipped(NOT_IN_TEXT),
        pressure: Section::skipped(NOT_IN_TEXT),
        containers,
        logs,
        mysql: mysql.map_or_else(|| Section::skipped(NOT_IN_TEXT), |m| m.section),
        mysql_server: Section::skipped(NOT_IN_TEXT),
        load_test: Section::skipped(NOT_IN_TEXT),
        series: None,
        imported: Some(Imported {
            inputs: found.inputs,
            samples,
            gap_s,
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
        Output::Host(..) => {
            "its load averages only: the cpu section needs where the CPU time went (vmstat, \
             iostat)"
        }
        Output::Sysctl(_) => "none of the settings doctor reads",
        Output::Iostat(_) => "an earlier report: the disks section takes the last one",
        Output::IostatCpu(_) => {
            "another output covers the CPU time better: the section takes an interval over an \
             average since boot, the last one, and vmstat's before iostat's"
        }
        Output::Vmstat(_) => "an earlier vmstat: the sections take the last one",
        Output::DockerStats(_) => {
            "an earlier docker stats: the containers section takes the last one"
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
