//! The `containers` section from the last pasted `docker stats --no-stream`: each running
//! container's CPU, memory against its limit, network and block I/O since it started, and
//! processes. What `docker stats` does not print — the image, the restart count, the OOM flag,
//! the network mode, the cgroup's throttling and limits — stays absent, so the rules that need it
//! are not checked.

use super::Output;
use super::docker::Stats;
use super::sections::NOT_IN_TEXT;
use crate::snapshot::{Container, Containers, Counter, Engine, Provenance, Section};
use std::collections::BTreeMap;
use std::time::Duration;

/// The `containers` section, when the text holds a `docker stats`. Marks the output it used.
pub(super) fn containers(
    outputs: &[(Output, Provenance)],
    used: &mut BTreeMap<usize, &'static str>,
) -> Section<Containers> {
    let Some((i, stats, from)) = outputs
        .iter()
        .enumerate()
        .filter_map(|(i, (o, p))| match o {
            Output::DockerStats(s) => Some((i, s, p)),
            _ => None,
        })
        .next_back()
    else {
        return Section::skipped(NOT_IN_TEXT);
    };
    used.insert(i, "containers");
    let (containers, stopped) = read(stats);
    let mut notes = vec![
        "from a pasted docker stats: CPU over the second before it printed, memory then, network and block \
         I/O totals since each container started (no rates), sizes rounded as Docker prints \
         them; the image, restarts, OOM kills, network mode and cgroup limits are not in it"
            .to_owned(),
    ];
    if stopped > 0 {
        notes.push(format!(
            "{stopped} container{} shown without figures (stopped, under docker stats -a): left out",
            if stopped == 1 { "" } else { "s" }
        ));
    }
    let mut s = Section::ok(
        Containers {
            engine: Engine {
                host: None,
                version: None,
                api_version: None,
                cgroup_version: None,
            },
            containers,
        },
        Duration::ZERO,
    )
    .with_notes(notes);
    s.imported = vec![from.clone()];
    s
}

/// The running containers of `stats`, by name, and how many rows had no figures.
fn read(stats: &Stats) -> (Vec<Container>, usize) {
    let total = |b: Option<u64>| b.map(|b| Counter::gauge(i64::try_from(b).unwrap_or(i64::MAX)));
    let mut stopped = 0;
    let mut containers: Vec<Container> = Vec::new();
    for r in &stats.rows {
        // docker stats prints `--` for a container that is not running (only under -a).
        if r.cpu_pct.is_none() {
            stopped += 1;
            continue;
        }
        containers.push(Container {
            name: r.name.clone(),
            id: r.id.clone(),
            image: None,
            // docker stats shows figures for running containers only.
            state: "running".to_owned(),
            health: None,
            restart_count: None,
            oom_killed: None,
            network_mode: None,
            pid: None,
            cpu_pct: r.cpu_pct,
            online_cpus: None,
            memory_bytes: r.mem_used,
            memory_limit_bytes: r.mem_limit,
            memory_pct: r.mem_pct,
            net_rx_bytes: total(r.net_rx),
            net_tx_bytes: total(r.net_tx),
            block_read_bytes: total(r.block_read),
            block_write_bytes: total(r.block_write),
            block_io_unaccounted: None,
            pids: r.pids,
            stats_source: None,
            net: None,
            cgroup: None,
            notes: Vec::new(),
        });
    }
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    (containers, stopped)
}
