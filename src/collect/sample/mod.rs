//! `doctor watch`'s samples: the key figures read at every tick of a run by long-lived
//! readers (kept `/proc` files, one `sock_diag` socket, one MySQL connection on its own thread,
//! the containers' cgroup counters, the appended lines of the `--log` files and of the
//! containers' output), never a fresh snapshot
//! per sample. What a sample reads is listed in docs/snapshot.md (`series`).

mod cgroups;
mod host;
mod kept;
mod logs;
mod mysql;

use super::docker::Engine;
use super::options::Options;
use std::time::{Duration, Instant};

/// Every column a sample can hold, a name in brackets written `*` (`disks.devices[*].util_pct`):
/// what a rule must read to see anything change from one sample to the next.
#[must_use]
pub fn columns() -> Vec<String> {
    let mut out: Vec<String> = [
        "cpu.busy_pct",
        "cpu.iowait_pct",
        "cpu.steal_pct",
        "cpu.run_queue",
        "cpu.blocked",
        "disks.devices[*].util_pct",
        "disks.devices[*].aqu_sz",
        "disks.devices[*].r_await_ms",
        "disks.devices[*].w_await_ms",
        "tcp.counters.TcpCurrEstab",
        "tcp.states.TIME_WAIT",
        "listeners.sockets[*].queue",
        "containers.containers[*].cpu_pct",
        "logs.categories[*].per_s",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    out.extend(
        host::TCP_RATES
            .iter()
            .map(|n| format!("tcp.counters.{n}.per_s")),
    );
    out.extend(
        mysql::GAUGES
            .iter()
            .map(|n| format!("mysql.global_status.{n}")),
    );
    out.extend(
        mysql::RATES
            .iter()
            .map(|n| format!("mysql.global_status.{n}.per_s")),
    );
    out
}

/// The readers of one run and when they last read.
pub struct Sampler {
    host: host::Host,
    mysql: Option<mysql::Follower>,
    containers: Option<cgroups::Cgroups>,
    logs: Option<logs::Tails>,
    last: Instant,
}

impl Sampler {
    /// Opens every reader and takes the first reading (rates start from it).
    pub fn start(opts: &Options, every: Duration) -> Sampler {
        // The engine is asked once for the running containers: their CPU counters and their
        // output files are followed from that one list.
        let budget = Duration::from_secs(2);
        let engine = opts
            .docker
            .then(|| {
                let engine = Engine::connect(budget).ok()?;
                let running = engine.running(Instant::now() + budget).ok()?;
                Some((engine, running))
            })
            .flatten();
        let containers = engine
            .as_ref()
            .map(|(_, running)| cgroups::Cgroups::start(running));
        let (container_logs, container_notes) = match &engine {
            Some((engine, running)) if opts.logs.scanner.is_some() => {
                logs::container_files(engine, running, &opts.logs, Instant::now() + budget)
            }
            _ => (Vec::new(), Vec::new()),
        };
        let logs = opts.logs.scanner.clone().and_then(|s| {
            logs::Tails::start(s, &opts.logs.paths, &container_logs, container_notes)
        });
        Sampler {
            host: host::Host::start(),
            mysql: mysql::Follower::start(&opts.mysql, every),
            containers,
            logs,
            last: Instant::now(),
        }
    }

    /// One sample: every figure read now, by column name (rates over the time since the last
    /// sample). MySQL's are its thread's newest reading, absent when none came since.
    pub fn sample(&mut self) -> Vec<(String, f64)> {
        let now = Instant::now();
        let seconds = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        let mut out = Vec::with_capacity(64);
        self.host.sample(seconds, &mut out);
        if let Some(c) = &mut self.containers {
            c.sample(seconds, &mut out);
        }
        if let Some(l) = &mut self.logs {
            l.sample(seconds, &mut out);
        }
        if let Some(m) = &mut self.mysql
            && let Some(values) = m.latest()
        {
            out.extend(values);
        }
        out
    }

    /// What could not be sampled, for the series' notes.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = self.host.notes.clone();
        if let Some(c) = &self.containers {
            notes.extend(c.notes.iter().cloned());
        }
        if let Some(l) = &self.logs {
            notes.extend(l.notes.iter().cloned());
        }
        if let Some(m) = &self.mysql
            && let Some(e) = &m.last_error
        {
            notes.push(format!(
                "MySQL: {} sample(s) failed, the last with: {e}",
                m.failures
            ));
        }
        notes
    }
}
