//! One container's entry in the `containers` section, from its readings at both ends of the
//! window: `docker stats`' figures, its namespace's TCP counters and sysctls, its cgroup's
//! throttling, limits and OOM kills, and whether the kernel counts its block I/O at all.

use super::engine::short;
use super::observe::{CgroupView, HostContext, NetView, Reading};
use super::{blkio, cgroup, netns, stats};
use crate::snapshot::{
    Container, ContainerCgroup, ContainerNet, Counter, StatsSource, pct, round2,
};
use std::collections::BTreeMap;
use std::time::Instant;

fn source_text(s: StatsSource) -> &'static str {
    match s {
        StatsSource::Cgroup => "kernel's files",
        StatsSource::Engine => "engine",
    }
}

pub(super) fn seconds(a: Instant, b: Instant) -> f64 {
    b.saturating_duration_since(a).as_secs_f64()
}

/// The namespace counters always kept, zero or not: the ones that tell a full accept queue, lost
/// or refused connections and retransmits apart. The ~140 others are kept only when not zero,
/// so thirty idle containers do not fill the snapshot with zeros.
pub const KEY_COUNTERS: &[&str] = &[
    "TcpActiveOpens",
    "TcpPassiveOpens",
    "TcpAttemptFails",
    "TcpEstabResets",
    "TcpCurrEstab",
    "TcpInSegs",
    "TcpOutSegs",
    "TcpRetransSegs",
    "TcpInErrs",
    "TcpOutRsts",
    "TcpExtListenOverflows",
    "TcpExtListenDrops",
    "TcpExtSyncookiesSent",
    "TcpExtTCPReqQFullDrop",
    "TcpExtTCPReqQFullDoCookies",
    "TcpExtTCPBacklogDrop",
    "TcpExtTCPTimeouts",
    "TcpExtTCPSynRetrans",
    "TcpExtTCPLostRetransmit",
    "TcpExtTCPAbortOnData",
    "TcpExtTCPAbortOnClose",
    "TcpExtTCPAbortOnMemory",
    "TcpExtTCPAbortOnTimeout",
    "TcpExtTCPMemoryPressures",
    "TcpExtTCPRcvQDrop",
    "TcpExtTCPZeroWindowDrop",
    "TcpExtTCPToZeroWindowAdv",
    "TcpExtTCPWantZeroWindowAdv",
    "TcpExtTCPOFODrop",
    "TcpExtPruneCalled",
    "TcpExtEmbryonicRsts",
];

/// `end - start` over the time between them, or only the end value without a start reading.
fn counter(start: Option<(u64, Instant)>, end: (u64, Instant)) -> Counter {
    match start {
        Some((a, at)) => Counter::between(a as i64, end.0 as i64, seconds(at, end.1)),
        None => Counter::gauge(end.0 as i64),
    }
}

/// What decides whether a v1 container's block I/O figures are the kernel's count.
pub(super) struct BlockCheck<'a> {
    coverage: &'a blkio::Coverage,
    /// [`blkio::processes_bytes`], when doctor could read it.
    processes: Option<u64>,
}

impl<'a> BlockCheck<'a> {
    /// Which disks the kernel counts block I/O on, when it matters: cgroup v1 containers of an
    /// engine on this host (the files read are the engine's too).
    pub(super) fn coverage(
        host: &HostContext,
        after: &[Reading],
    ) -> Option<Result<blkio::Coverage, String>> {
        (host.local && after.iter().any(|r| Self::v1(r).is_some()))
            .then(|| blkio::Coverage::read(&host.mounts))
    }

    fn v1(r: &Reading) -> Option<&CgroupView> {
        r.cgroup.as_ref().ok().filter(|c| c.dirs.version == 1)
    }

    /// The check for one container, reading what its processes sent to storage.
    pub(super) fn of(
        coverage: Option<&'a Result<blkio::Coverage, String>>,
        end: &Reading,
    ) -> Option<Self> {
        let coverage = coverage?.as_ref().ok()?;
        let view = Self::v1(end)?;
        Some(BlockCheck {
            coverage,
            processes: view
                .blkio
                .as_deref()
                .and_then(|d| blkio::processes_bytes(d).ok()),
        })
    }

    /// The section's notes: the containers whose block I/O is not counted, or why that could
    /// not be checked.
    pub(super) fn notes(
        coverage: Option<&Result<blkio::Coverage, String>>,
        containers: &[Container],
    ) -> Vec<String> {
        let mut notes = Vec::new();
        let uncounted: Vec<&str> = containers
            .iter()
            .filter(|c| c.block_io_unaccounted.is_some())
            .map(|c| c.name.as_str())
            .collect();
        if !uncounted.is_empty() {
            notes.push(format!(
                "block I/O not counted by the kernel for {}: block_read_bytes and block_write_bytes left out (block_io_unaccounted says why)",
                uncounted.join(", ")
            ));
        }
        if let (Some(Err(why)), false) = (coverage, containers.is_empty()) {
            notes.push(format!(
                "not checked whether the kernel counts the containers' block I/O (cgroup v1 may not): {why}"
            ));
        }
        notes
    }
}

/// One container from its readings at both ends (`start` is `None` when it started inside the
/// window), what was read inside its namespace, and whether its block I/O is counted.
#[allow(clippy::too_many_lines)]
pub(super) fn build(
    start: Option<&Reading>,
    end: &Reading,
    inside: Option<&Result<netns::Inside, String>>,
    block: Option<&BlockCheck>,
) -> Container {
    let o = &end.observed;
    let mut notes = Vec::new();
    let state = o.inspect.state.as_ref();
    let pid = o.pid();
    // A different main process means the container restarted: its counters started again.
    let start = match start {
        Some(s) if s.observed.pid() == pid => Some(s),
        Some(s) => {
            notes.push(format!(
                "restarted during the window (pid {} → {}): figures cover the new process only",
                s.observed.pid().unwrap_or(0),
                pid.unwrap_or(0)
            ));
            None
        }
        None => {
            notes.push("started during the window: totals only, no rates".to_owned());
            None
        }
    };

    let restarts = |r: &Reading| r.observed.inspect.restart_count.unwrap_or(0).max(0) as u64;
    let restart_count = match start {
        Some(s) => counter(Some((restarts(s), s.observed.at)), (restarts(end), o.at)),
        None => Counter::gauge(restarts(end) as i64),
    };

    let mut c = Container {
        name: o.container.name.clone(),
        id: short(&o.container.id).to_owned(),
        image: Some(o.container.image.clone()),
        state: state
            .and_then(|s| s.status)
            .map_or_else(|| "unknown".to_owned(), |s| s.to_string()),
        health: state
            .and_then(|s| s.health.as_ref())
            .and_then(|h| h.status)
            .map(|h| h.to_string())
            .filter(|h| !h.is_empty() && h != "none"),
        restart_count: Some(restart_count),
        oom_killed: Some(state.and_then(|s| s.oom_killed).unwrap_or(false)),
        network_mode: o
            .inspect
            .host_config
            .as_ref()
            .and_then(|h| h.network_mode.clone())
            .or_else(|| Some(String::new())),
        pid,
        cpu_pct: None,
        online_cpus: None,
        memory_bytes: None,
        memory_limit_bytes: None,
        memory_pct: None,
        net_rx_bytes: None,
        net_tx_bytes: None,
        block_read_bytes: None,
        block_write_bytes: None,
        block_io_unaccounted: None,
        pids: None,
        stats_source: o.stats.is_ok().then_some(o.source),
        net: None,
        cgroup: None,
        notes: Vec::new(),
    };

    if let Some(why) = &o.local_failure {
        notes.push(format!(
            "stats asked of the engine: not read from the kernel ({why})"
        ));
    }
    if let Some(s) = start.filter(|s| s.observed.stats.is_ok() && s.observed.source != o.source) {
        notes.push(format!(
            "stats read from the {} at the start and the {} at the end",
            source_text(s.observed.source),
            source_text(o.source)
        ));
    }
    match &o.stats {
        Ok(e) => {
            let s =
                start.and_then(|s| s.observed.stats.as_ref().ok().map(|st| (st, s.observed.at)));
            if let (Some((a, _)), Some(b)) = (s, e.cpu_stats.as_ref()) {
                c.cpu_pct = a.cpu_stats.as_ref().and_then(|a| stats::cpu_pct(a, b));
            }
            c.online_cpus = e.cpu_stats.as_ref().and_then(stats::online_cpus);
            c.memory_bytes = stats::memory_usage(e);
            c.memory_limit_bytes = stats::memory_limit(e);
            if let (Some(u), Some(l)) = (c.memory_bytes, c.memory_limit_bytes) {
                c.memory_pct = stats::memory_pct(u, l);
            }
            if let Some((rx, tx)) = stats::network(e) {
                let before = s.and_then(|(a, at)| stats::network(a).map(|n| (n, at)));
                c.net_rx_bytes = Some(counter(before.map(|((r, _), at)| (r, at)), (rx, o.at)));
                c.net_tx_bytes = Some(counter(before.map(|((_, t), at)| (t, at)), (tx, o.at)));
            }
            if let Some((r, w)) = stats::block_io(e) {
                match block.map(|b| blkio::judge(b.coverage, r + w, b.processes)) {
                    Some(blkio::Judgement::NotCounted(why)) => c.block_io_unaccounted = Some(why),
                    judgement => {
                        if let Some(blkio::Judgement::Partly(note)) = judgement {
                            notes.push(note);
                        }
                        let before = s.and_then(|(a, at)| stats::block_io(a).map(|n| (n, at)));
                        c.block_read_bytes =
                            Some(counter(before.map(|((r, _), at)| (r, at)), (r, o.at)));
                        c.block_write_bytes =
                            Some(counter(before.map(|((_, w), at)| (w, at)), (w, o.at)));
                    }
                }
            }
            c.pids = stats::pids(e);
        }
        Err(e) => notes.push(e.clone()),
    }

    match &end.net {
        NetView::Own {
            namespace,
            counters,
            at,
        } => {
            let before = start.and_then(|s| match &s.net {
                NetView::Own {
                    namespace: n,
                    counters,
                    at,
                } if n == namespace => Some((counters, *at)),
                _ => None,
            });
            let mut counters = match before {
                Some((a, t)) => crate::collect::tcp::combine(a, counters, seconds(t, *at)),
                None => crate::collect::tcp::combine(&BTreeMap::new(), counters, 0.0),
            };
            counters.retain(|name, c| c.total != 0 || KEY_COUNTERS.contains(&name.as_str()));
            let (sysctls, listeners) = match inside {
                Some(Ok(i)) => (Some(i.sysctls.clone()), Some(i.listeners.clone())),
                Some(Err(e)) => {
                    notes.push(format!("sysctls and listeners not read: {e}"));
                    (None, None)
                }
                None => (None, None),
            };
            c.net = Some(ContainerNet {
                namespace: *namespace,
                counters,
                sysctls,
                listeners,
            });
        }
        NetView::Host => notes.push(
            "shares the host's network namespace: its TCP counters and sysctls are the tcp section's"
                .to_owned(),
        ),
        NetView::Failed(e) => notes.push(format!("network namespace not read: {e}")),
    }

    match &end.cgroup {
        Ok(view) => {
            let before = start
                .and_then(|s| s.cgroup.as_ref().ok())
                .filter(|s| s.dirs == view.dirs);
            let t = |f: fn(&cgroup::Throttling) -> i64| match before {
                Some(b) => Counter::between(
                    f(&b.reading.throttling),
                    f(&view.reading.throttling),
                    seconds(b.at, view.at),
                ),
                None => Counter::gauge(f(&view.reading.throttling)),
            };
            let nr_periods = t(|t| t.nr_periods);
            let nr_throttled = t(|t| t.nr_throttled);
            let throttled_us = t(|t| t.throttled_us);
            let oom_kills =
                view.reading
                    .oom_kills
                    .map(|end| match before.and_then(|b| b.reading.oom_kills) {
                        Some(a) => Counter::between(
                            a,
                            end,
                            seconds(before.map_or(view.at, |b| b.at), view.at),
                        ),
                        None => Counter::gauge(end),
                    });
            let (quota, period, memory_limit) = cgroup::limits(&view.dirs);
            c.cgroup = Some(ContainerCgroup {
                version: view.dirs.version,
                cpu_path: view.dirs.cpu.display().to_string(),
                cpu_limit_cores: match (quota, period) {
                    (Some(q), Some(p)) if p > 0 => Some(round2(q as f64 / p as f64)),
                    _ => None,
                },
                cpu_quota_us: quota,
                cpu_period_us: period,
                throttled_periods_pct: match (nr_throttled.delta, nr_periods.delta) {
                    (Some(t), Some(p)) => pct(t as f64, p as f64),
                    _ => None,
                },
                nr_periods,
                nr_throttled,
                throttled_us,
                memory_limit_bytes: memory_limit,
                oom_kills,
            });
        }
        Err(e) => notes.push(format!("cgroup not read: {e}")),
    }
    c.notes = notes;
    c
}
