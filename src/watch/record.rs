//! Recording a watch: one snapshot over the whole run (every collector reads at its start and
//! its end, as `check` does over its window: `collect::snapshot_until`), the series sampled on
//! each tick of that window by long-lived readers (`collect::sample`), and the command run
//! inside it.

use super::child::{Child, SpawnError};
use super::series::Recorder;
use super::signals::Signals;
use crate::collect::{self, Options, Tick, sample::Sampler};
use crate::snapshot::{Snapshot, WatchedCommand};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A watch without `--duration` ends with its command (or a signal), and at the latest after a
/// day: the series is bounded, but the run's end readings should not wait forever.
pub const LONGEST: Duration = Duration::from_secs(24 * 3600);
/// How long the command may take to exit after doctor passed a signal on (k6 stops its
/// iterations gracefully, 30 s at most by default); then it is killed.
const COMMAND_GRACE: Duration = Duration::from_secs(30);

/// What to watch.
#[derive(Debug, Clone)]
pub struct Plan {
    pub every: Duration,
    pub duration: Option<Duration>,
    /// The command and its arguments; empty: none.
    pub argv: Vec<String>,
}

/// A finished recording.
pub struct Recording {
    pub snapshot: Snapshot,
    /// The signal that ended the run, if one did.
    pub signal: Option<i32>,
    /// The command's exit status.
    pub command_status: Option<i32>,
}

/// Starts the plan's command, if it has one. Call it before [`Signals::catch`]: a child gets
/// the signal mask of the thread that starts it (the standard library leaves it as it is), and
/// one started with SIGINT and SIGTERM blocked would never see them (`sleep` would run on;
/// k6, a Go program, unblocks what it handles).
pub fn start_command(plan: &Plan) -> Result<Option<Child>, SpawnError> {
    if plan.argv.is_empty() {
        Ok(None)
    } else {
        Child::spawn(&plan.argv).map(Some)
    }
}

/// Runs the watch: starts the readers, samples until the command (`child`, from
/// [`start_command`]) exits, the duration passes or a signal comes, and returns the snapshot
/// with its series.
pub fn record(
    mut opts: Options,
    plan: &Plan,
    signals: &Signals,
    mut child: Option<Child>,
) -> Recording {
    opts.interval = plan.duration.unwrap_or(LONGEST);
    // The window's own gauges (run queue, accept queues) are sampled at the series' pace.
    opts.tick = plan.every;
    let mut sampler = Sampler::start(&opts, plan.every);
    let started = Instant::now();
    let start_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut recorder = Recorder::new(plan.every.as_millis() as u64, start_unix_ms);
    if let Some(c) = &child {
        signals.set_child(c.pid());
    }
    let mut ended_by = "duration";
    let mut signal = None;
    let mut snapshot = collect::snapshot_until(&opts, &mut |_elapsed| {
        let values = sampler.sample();
        recorder.push(started.elapsed().as_millis() as u64, &values);
        if let Some(sig) = signals.received() {
            if let Some(c) = &mut child {
                c.signal(sig);
            }
            ended_by = "signal";
            signal = Some(sig as i32);
            return Tick::Stop;
        }
        if let Some(c) = &mut child
            && c.exited().is_some()
        {
            ended_by = "command";
            return Tick::Stop;
        }
        Tick::Continue
    });
    let command_status = child.as_mut().and_then(|c| {
        if c.exited().is_none() {
            // The duration ended first: the command is stopped as a signal would stop it.
            if signal.is_none() {
                c.signal(nix::sys::signal::Signal::SIGTERM);
            }
            c.wait_or_kill(COMMAND_GRACE)
        } else {
            c.exited()
        }
    });
    let mut series = recorder.finish();
    ended_by.clone_into(&mut series.ended_by);
    series.notes = sampler.notes();
    series.command = (!plan.argv.is_empty()).then(|| WatchedCommand {
        argv: plan.argv.clone(),
        exit_status: command_status,
    });
    snapshot.series = Some(series);
    Recording {
        snapshot,
        signal,
        command_status,
    }
}
