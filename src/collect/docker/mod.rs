//! Docker containers, through the engine API (bollard) and the host's own view of each container.
//!
//! At each end of the window every running container is inspected and its stats are read, all
//! containers at once; `docker stats`' figures are computed from the two readings ([`stats`]).
//! The stats come from the kernel's files when doctor is root on the engine's host ([`kstats`]:
//! no wait for the engine's 1 s stats round), else from the engine's one-shot stats API (30
//! containers cost one round, not 30). From the host side, each container's network namespace
//! ([`netns`]) and cgroup ([`cgroup`]) are read at both ends too.
//!
//! Async stays inside this module: [`Engine`] owns a current-thread tokio runtime and blocks on
//! it, so the rest of doctor is synchronous. Every call to the engine is bounded by a deadline;
//! a hung engine becomes an `error` section with the reason, and the remote-collector deadline
//! ([`super::remote`]) is the backstop.
//!
//! Here the collector's two readings; in [`engine`] the endpoint and the API version, in
//! [`observe`] one end's reading of every container, in [`build`] a container's entry from both.
//!
//! With a [`LogRequest`], the end reading also reads the running containers' output through the
//! logs API ([`logs`]), on the same connection and with the same list of containers; the sources
//! go to the `logs` section ([`split`]).

mod blkio;
mod build;
pub mod cgroup;
mod engine;
mod kstats;
mod logs;
mod netns;
mod observe;
mod stats;

pub use engine::{ContainerRef, Engine};
pub use logs::{LogRequest, MAX_CONTAINERS as MAX_LOG_CONTAINERS};

use super::Failure;
use super::logs::{FromContainers, LogsRead};
use super::remote::Remote;
use crate::snapshot::{Container, Containers, Engine as EngineFacts, Section};
use build::{BlockCheck, build};
use engine::version_text;
use observe::{EndView, HostContext, NetView, Reading, is_root};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// The Docker collector, run as a [`Remote`] on its own thread.
pub struct Collector {
    budget: Duration,
    interval: Duration,
    lead: Duration,
    logs: Option<LogRequest>,
}

impl Collector {
    /// `budget` bounds each reading (connecting, listing, inspecting and reading stats); keep it
    /// below the remote deadline's grace so a hung engine is reported with its own reason.
    /// `interval` is the window's length.
    #[must_use]
    pub fn new(budget: Duration, interval: Duration) -> Self {
        Collector {
            budget,
            interval,
            lead: Duration::ZERO,
            logs: None,
        }
    }

    /// Also read the containers' output at the window's end, for the `logs` section.
    #[must_use]
    pub fn with_logs(mut self, request: LogRequest) -> Self {
        self.logs = Some(request);
        self
    }
}

/// The engine's stats cadence: Engine 20.10 collects stats in rounds, each followed by a 1 s
/// sleep, and a stats request (one-shot or not) is answered at the next round. The request that
/// wakes an idle engine is answered at once; the others sent with it wait for the next round
/// (moby `daemon/stats/collector.go`, `Collector.Run`).
const ENGINE_STATS_INTERVAL: Duration = Duration::from_secs(1);

/// The `containers` section with the collector's notes moved into the envelope, and what the
/// `logs` section gets of the containers' output: the sources read, or why there are none (the
/// engine absent, failed or hung, as the `containers` section says).
#[must_use]
pub fn split(s: Section<Collected>) -> (Section<Containers>, FromContainers) {
    let Section {
        status,
        message,
        mut notes,
        elapsed_ms,
        imported,
        data,
    } = s;
    let why = || message.clone().unwrap_or_default();
    let mut from = match status {
        crate::snapshot::Status::Ok => FromContainers::Off,
        crate::snapshot::Status::Skipped => FromContainers::Absent(why()),
        crate::snapshot::Status::Error => FromContainers::Failed(why()),
    };
    let data = data.map(|c| {
        notes.extend(c.notes);
        if let Some(rx) = c.logs {
            from = FromContainers::Pending(rx);
        }
        c.containers
    });
    let section = Section {
        status,
        message,
        notes,
        elapsed_ms,
        imported,
        data,
    };
    (section, from)
}

/// The collector's result: the section's fields, the notes for its envelope, and the containers'
/// output when it was asked for.
pub struct Collected {
    containers: Containers,
    notes: Vec<String>,
    logs: Option<std::sync::mpsc::Receiver<LogsRead>>,
}

pub struct Start {
    engine: Engine,
    host: HostContext,
    readings: BTreeMap<String, Reading>,
}

impl Remote for Collector {
    type Start = Start;
    type Data = Collected;

    fn begin(&mut self) -> Result<Start, Failure> {
        let engine = Engine::connect(self.budget)?;
        let host = HostContext::read(&engine);
        // Notes about containers that could not be read at the start are not kept: those still
        // running at the end are read then, and say what they lack.
        let t = Instant::now();
        let readings = host.observe(&engine)?.readings;
        // The end reading will likely wait as long for the engine as this one did: start it that
        // much before the window's end, so the snapshot is not late by an engine round.
        self.lead = (t.elapsed() + Duration::from_millis(50))
            .min(ENGINE_STATS_INTERVAL + Duration::from_millis(100))
            .min(self.interval / 2);
        let readings = readings
            .into_iter()
            .map(|r| (r.observed.container.id.clone(), r))
            .collect();
        Ok(Start {
            engine,
            host,
            readings,
        })
    }

    fn lead(&self) -> Duration {
        self.lead
    }

    fn finish(&mut self, start: Start, _seconds: f64) -> Result<Collected, Failure> {
        let Start {
            engine,
            host,
            readings: mut before,
        } = start;
        let EndView {
            readings: after,
            mut notes,
            running,
        } = host.observe(&engine)?;

        // One thread per namespace enters it; containers sharing a namespace share the answer.
        let mut entering = BTreeMap::new();
        for r in &after {
            if let (NetView::Own { namespace, .. }, Some(pid)) = (&r.net, r.observed.pid()) {
                entering
                    .entry(namespace)
                    .or_insert_with(|| netns::spawn_inside(pid));
            }
        }
        let engine_facts = EngineFacts {
            host: Some(engine.target.shown()),
            version: engine.version.clone(),
            api_version: Some(version_text(&engine.api_version)),
            cgroup_version: None,
        };
        // The output is read right after the end reading, so it reaches the window's end, on a
        // thread of its own that takes the connection over.
        let logs = self
            .logs
            .take()
            .map(|req| logs::spawn(engine, running, req));
        let inside: BTreeMap<&u64, Result<netns::Inside, String>> = entering
            .into_iter()
            .map(|(ns, handle)| {
                let result = handle
                    .join()
                    .unwrap_or_else(|_| Err("the namespace reader crashed".to_owned()));
                (ns, result)
            })
            .collect();

        // Whether the kernel counts the containers' block I/O at all: on cgroup v1 it may not,
        // and then the engine's 0 is no figure (see `blkio`).
        let coverage = BlockCheck::coverage(&host, &after);
        let mut containers: Vec<Container> = after
            .iter()
            .map(|end| {
                let start = before.remove(&end.observed.container.id);
                let inside = match &end.net {
                    NetView::Own { namespace, .. } => inside.get(namespace),
                    _ => None,
                };
                let block = BlockCheck::of(coverage.as_ref(), end);
                build(start.as_ref(), end, inside, block.as_ref())
            })
            .collect();
        containers.sort_by(|a, b| a.name.cmp(&b.name));
        notes.extend(BlockCheck::notes(coverage.as_ref(), &containers));

        let running: BTreeSet<&str> = after
            .iter()
            .map(|r| r.observed.container.id.as_str())
            .collect();
        for gone in before.values() {
            if !running.contains(gone.observed.container.id.as_str()) {
                notes.push(format!(
                    "{} stopped during the window",
                    gone.observed.container.name
                ));
            }
        }

        let cgroup_version = after
            .iter()
            .find_map(|r| r.cgroup.as_ref().ok().map(|c| c.dirs.version));
        match cgroup_version {
            Some(1) => notes.push(
                "cgroup v1: throttling from cpu.stat nr_periods/nr_throttled/throttled_time, limits from cpu.cfs_quota_us/cpu.cfs_period_us and memory.limit_in_bytes; block I/O is only what a container's own tasks submit (the writeback of its buffered writes is charged to the root cgroup)".to_owned(),
            ),
            Some(_) => notes.push(
                "cgroup v2: throttling from cpu.stat nr_periods/nr_throttled/throttled_usec, limits from cpu.max and memory.max".to_owned(),
            ),
            None => {}
        }
        if !containers.is_empty() {
            notes.push(match &host.kstats {
                Ok(_) => "container stats (CPU, memory, block I/O, pids, network) read from each container's cgroup, /proc/stat and /proc/<pid>/net/dev as the engine reads them (stats_source = cgroup); the engine's stats API only where that failed".to_owned(),
                Err(why) => format!("container stats asked of the engine's stats API, which answers in rounds 1 s apart (stats_source = engine): {why}"),
            });
        }
        if !is_root() && !containers.is_empty() {
            notes.push(
                "doctor is not running as root: containers' namespaces and cgroups may be unreadable (each container's notes say what is missing)".to_owned(),
            );
        }

        Ok(Collected {
            containers: Containers {
                engine: EngineFacts {
                    cgroup_version,
                    ..engine_facts
                },
                containers,
            },
            notes,
            logs,
        })
    }
}
