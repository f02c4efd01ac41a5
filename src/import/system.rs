//! The `cpu` and `memory` sections from pasted `vmstat`, iostat's `avg-cpu:` block, `free`,
//! `uptime` / `/proc/loadavg` and sysstat's first line (the CPU count). Each figure comes from
//! the output that shows it and is absent when none does — the busiest core, interrupts apart
//! from system time, dirty memory and major faults are in none of them.
//!
//! Where the CPU time went is taken over an interval when the text has one: `vmstat`'s rows after
//! its first, or an `avg-cpu:` block after iostat's first. A lone first row or block averages
//! since boot, and the section says so.

use super::Output;
use super::host::{Free, Kind};
use super::iostat::AvgCpu;
use super::sections::NOT_IN_TEXT;
use super::vmstat::Vmstat;
use crate::snapshot::{Cpu, HostFacts, Memory, Provenance, Section, pct, round2};
use std::collections::BTreeMap;
use std::time::Duration;

/// The page size swap rates are counted in: vmstat prints KiB/s, the section pages/s. Every
/// `x86_64` Linux uses 4 KiB pages, the only size doctor is built for.
const PAGE: f64 = 4096.0;

/// The outputs of one kind, in the text's order, each with its index among all outputs.
fn all<'a, T>(
    outputs: &'a [(Output, Provenance)],
    pick: impl Fn(&'a Output) -> Option<&'a T>,
) -> Vec<(usize, &'a T, &'a Provenance)> {
    outputs
        .iter()
        .enumerate()
        .filter_map(|(i, (o, p))| pick(o).map(|t| (i, t, p)))
        .collect()
}

/// The mean of `v`, to two decimals; `None` for no values.
fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| round2(v.iter().sum::<f64>() / v.len() as f64))
}

/// A vmstat column's mean over the rows after the first (the intervals), or over the first
/// alone (since boot) when there is no other.
fn vm_mean(v: &Vmstat, column: &str) -> Option<f64> {
    let all = v.column(column)?;
    let rows = if all.len() > 1 { &all[1..] } else { &all[..] };
    mean(&rows.iter().map(|x| *x as f64).collect::<Vec<_>>())
}

/// Where the CPU time went, and what the note says of it.
struct Shares {
    user: f64,
    nice: Option<f64>,
    system: f64,
    iowait: f64,
    steal: Option<f64>,
    idle: f64,
    note: String,
}

fn from_vmstat(v: &Vmstat) -> Option<Shares> {
    let user = vm_mean(v, "us")? + vm_mean(v, "gu").unwrap_or(0.0);
    let over = if v.rows.len() > 1 {
        format!("the mean of vmstat's {} intervals", v.rows.len() - 1)
    } else {
        "vmstat's first row, an average since boot (vmstat 1 2 gives one over a second)".to_owned()
    };
    Some(Shares {
        user: round2(user),
        nice: None,
        system: vm_mean(v, "sy")?,
        iowait: vm_mean(v, "wa")?,
        steal: vm_mean(v, "st"),
        idle: vm_mean(v, "id")?,
        note: format!(
            "CPU shares from {over}: whole percents; nice is counted in user and interrupts in \
             system, as vmstat prints them"
        ),
    })
}

fn from_iostat(c: &AvgCpu, blocks: usize) -> Shares {
    let over = if blocks > 1 {
        format!("the last of {blocks} iostat avg-cpu blocks, its interval's")
    } else {
        "one iostat avg-cpu block: if it was iostat's first, an average since boot (iostat -c 1 2 \
         gives one over a second)"
            .to_owned()
    };
    Shares {
        user: c.user,
        nice: c.nice,
        system: c.system,
        iowait: c.iowait,
        steal: c.steal,
        idle: c.idle,
        note: format!(
            "CPU shares from {over}; interrupts are counted in system, as iostat prints them"
        ),
    }
}

/// The `cpu` section, when the text shows where the CPU time went. Marks the outputs it used.
pub(super) fn cpu(
    outputs: &[(Output, Provenance)],
    host: &HostFacts,
    used: &mut BTreeMap<usize, &'static str>,
) -> Section<Cpu> {
    let vm = all(outputs, |o| match o {
        Output::Vmstat(v) => Some(v),
        _ => None,
    });
    let io = all(outputs, |o| match o {
        Output::IostatCpu(c) => Some(c),
        _ => None,
    });
    let loads = all(outputs, |o| match o {
        Output::Host(Kind::Uptime | Kind::Loadavg, f) => f.load.as_ref(),
        _ => None,
    });
    let last_vm = vm.last().filter(|(_, v, _)| v.column("id").is_some());
    let vm_intervals = last_vm.filter(|(_, v, _)| v.rows.len() > 1);
    let io_intervals = io.last().filter(|_| io.len() > 1);
    // An interval over an average since boot; vmstat (whole percents) over iostat only when
    // both cover one or neither does.
    let (shares, from) = match (vm_intervals, io_intervals, last_vm, io.last()) {
        (Some((i, v, p)), ..) | (None, None, Some((i, v, p)), _) => {
            let Some(s) = from_vmstat(v) else {
                return Section::skipped(NOT_IN_TEXT);
            };
            (s, vec![(*i, *p)])
        }
        (None, Some((i, c, p)), ..) | (None, None, None, Some((i, c, p))) => {
            (from_iostat(c, io.len()), vec![(*i, *p)])
        }
        (None, None, None, None) => return Section::skipped(NOT_IN_TEXT),
    };
    let mut notes = vec![shares.note.clone()];
    let mut imported: Vec<Provenance> = Vec::new();
    for (i, p) in from {
        used.insert(i, "cpu");
        imported.push(p.clone());
    }

    let queue = run_queue(last_vm.map(|(_, v, _)| *v));
    if let Some((i, _, p)) = last_vm.filter(|_| queue.samples > 0) {
        notes.push(format!(
            "run queue from vmstat's r over its {} rows, less one: vmstat counts itself \
             (r is 1 on an idle machine); blocked from its b",
            queue.samples
        ));
        if used.insert(*i, "cpu").is_none() {
            imported.push((*p).clone());
        }
    } else {
        notes.push("run queue not in the imported text (vmstat)".to_owned());
    }
    let load = loads.last();
    if let Some((i, _, p)) = load {
        used.entry(*i).or_insert("cpu");
        imported.push((*p).clone());
    } else {
        notes.push("load averages not in the imported text (uptime, /proc/loadavg)".to_owned());
    }
    if host.cpus.is_none() {
        notes.push(
            "the CPU count is not in the imported text (sysstat's first line shows it: paste \
             iostat's or mpstat's whole output)"
                .to_owned(),
        );
    }
    notes.push(
        "not in pasted text: the busiest core (mpstat -P ALL), the ctxt, intr and fork counters"
            .to_owned(),
    );
    let busy = round2((100.0 - shares.idle - shares.iowait).max(0.0));
    let mut s = Section::ok(
        Cpu {
            cores: host.cpus,
            user_pct: shares.user,
            nice_pct: shares.nice,
            system_pct: shares.system,
            iowait_pct: shares.iowait,
            irq_pct: None,
            softirq_pct: None,
            steal_pct: shares.steal,
            idle_pct: shares.idle,
            busy_pct: busy,
            busiest_core_pct: None,
            load_1: load.map(|l| l.1[0]),
            load_5: load.map(|l| l.1[1]),
            load_15: load.map(|l| l.1[2]),
            run_queue_avg: queue.running.0,
            run_queue_max: queue.running.1,
            blocked_avg: queue.blocked.0,
            blocked_max: queue.blocked.1,
            run_queue_samples: queue.samples,
            counters: BTreeMap::new(),
        },
        Duration::ZERO,
    )
    .with_notes(notes);
    imported.sort_by(|a, b| (&a.input, a.first_line).cmp(&(&b.input, b.first_line)));
    s.imported = imported;
    s
}

/// vmstat's `r` and `b` over its rows: (mean, max) of each, and how many rows.
struct Queue {
    running: (Option<f64>, Option<u32>),
    blocked: (Option<f64>, Option<u32>),
    samples: u32,
}

fn run_queue(v: Option<&Vmstat>) -> Queue {
    // vmstat's `r` counts vmstat itself (1 on an idle machine); doctor's run queue does not.
    let column = |name: &str, less: u64| {
        v.and_then(|v| v.column(name)).map_or((None, None, 0), |c| {
            let c: Vec<u64> = c.into_iter().map(|x| x.saturating_sub(less)).collect();
            let f: Vec<f64> = c.iter().map(|x| *x as f64).collect();
            let max = c
                .iter()
                .max()
                .map(|m| u32::try_from(*m).unwrap_or(u32::MAX));
            (mean(&f), max, c.len())
        })
    };
    let (r_mean, r_max, rows) = column("r", 1);
    let (b_mean, b_max, _) = column("b", 0);
    Queue {
        running: (r_mean, r_max),
        blocked: (b_mean, b_max),
        samples: u32::try_from(rows).unwrap_or(u32::MAX),
    }
}

/// The `memory` section from the last `free` whose unit is known and the last `vmstat`: sizes
/// from `free` (vmstat's where `free` lacks them), swap rates from vmstat's `si`/`so`.
pub(super) fn memory(
    outputs: &[(Output, Provenance)],
    used: &mut BTreeMap<usize, &'static str>,
) -> Section<Memory> {
    let free = all(outputs, |o| match o {
        Output::Host(Kind::Free, f) => f.free.as_ref(),
        _ => None,
    });
    let vm = all(outputs, |o| match o {
        Output::Vmstat(v) => Some(v),
        _ => None,
    });
    let free = free.last();
    let vm = vm.last().filter(|(_, v, _)| v.column("si").is_some());
    if free.is_none() && vm.is_none() {
        return Section::skipped(NOT_IN_TEXT);
    }
    let mut notes = Vec::new();
    let mut imported = Vec::new();
    let f = |name: &str| free.and_then(|(_, f, _)| f.mem.get(name).copied());
    // vmstat's last row, in bytes: its sizes are what they were then.
    let v = |column: &str| vm.and_then(|(_, v, _)| Some(v.last(column)? * v.unit?));
    if let Some((i, fr, p)) = free {
        used.insert(*i, "memory");
        imported.push((*p).clone());
        notes.push(free_note(fr));
    }
    let (swap_in, swap_out) = if let Some((i, vmstat, p)) = vm {
        used.entry(*i).or_insert("memory");
        imported.push((*p).clone());
        let (rates, note) = swap_rates(vmstat);
        notes.push(note);
        rates.map_or((None, None), |(a, b)| (Some(a), Some(b)))
    } else {
        notes.push("swap rates not in the imported text (vmstat 1 5: si, so)".to_owned());
        (None, None)
    };
    let total = f("total");
    let available = f("available");
    if total.is_some() && available.is_none() {
        notes.push(
            "available memory not shown: free before procps 3.3.10 has no available column"
                .to_owned(),
        );
    }
    notes.push("not in pasted text: dirty memory, major faults, the page size".to_owned());
    let mut s = Section::ok(
        Memory {
            total_bytes: total,
            available_bytes: available,
            available_pct: available
                .zip(total)
                .and_then(|(a, t)| pct(a as f64, t as f64)),
            free_bytes: f("free").or_else(|| v("free")),
            cached_bytes: f("cache").or_else(|| f("cached")).or_else(|| v("cache")),
            buffers_bytes: f("buffers").or_else(|| v("buff")),
            dirty_bytes: None,
            swap_total_bytes: free.and_then(|(_, f, _)| f.swap_total),
            swap_used_bytes: free.and_then(|(_, f, _)| f.swap_used).or_else(|| v("swpd")),
            swap_in_pages_per_s: swap_in,
            swap_out_pages_per_s: swap_out,
            major_faults_per_s: None,
            page_size_bytes: None,
            counters: BTreeMap::new(),
        },
        Duration::ZERO,
    )
    .with_notes(notes);
    s.imported = imported;
    s
}

fn free_note(f: &Free) -> String {
    let mut note = "sizes from free".to_owned();
    if f.rounded {
        note.push_str(" -h, rounded as it prints them");
    }
    if f.mem.contains_key("buff/cache") && !f.mem.contains_key("buffers") {
        note.push_str("; its buff/cache is one figure (free -w splits it), kept out of cached");
    }
    note
}

/// Pages swapped in and out per second from vmstat's `si`/`so`, and what the note says of them.
fn swap_rates(v: &Vmstat) -> (Option<(f64, f64)>, String) {
    let Some(unit) = v.unit else {
        return (
            None,
            "swap rates not used: vmstat's -S asks for a unit doctor does not know".to_owned(),
        );
    };
    let (Some(si), Some(so)) = (vm_mean(v, "si"), vm_mean(v, "so")) else {
        return (None, "swap rates not in this vmstat".to_owned());
    };
    let pages = |x: f64| round2(x * unit as f64 / PAGE);
    let over = if v.rows.len() > 1 {
        format!("the mean of vmstat's {} intervals", v.rows.len() - 1)
    } else {
        "vmstat's first row, an average since boot".to_owned()
    };
    let unit_words = if v.unit_shown {
        format!("{unit}-byte units, as its command line asks")
    } else {
        "KiB, vmstat's default (no command line was pasted to say otherwise)".to_owned()
    };
    (
        Some((pages(si), pages(so))),
        format!("swap in/out from {over}: si/so in {unit_words}, counted in 4 KiB pages"),
    )
}
