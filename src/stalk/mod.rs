//! `doctor stalk`: pt-stalk's idea with doctor's rules as triggers. Check cheaply until a
//! condition holds for a few checks in a row, then record a watch of the moment and write it
//! down, unattended.
//!
//! A check is one sample of the watch's long-lived readers (`collect::sample`, a few small
//! `/proc` reads and one `sock_diag` dump) set on a baseline snapshot (`watch::view`), and the
//! [`trigger`] evaluated on that view. The baseline — everything not sampled: sysctls, limits,
//! processes, listeners' backlogs — is read once at the start, every [`REFRESH`] after, and again
//! after each recording. Once triggered, the [`bounds`] are checked, a watch is recorded
//! (`watch::record`, as `doctor watch --duration` records it) and its [`files`] written; then
//! a cool-down, and checking starts afresh. Logging is one line on stderr at the start, one per
//! trigger and one at the end, each with its time: under systemd or nohup there is no terminal.

pub mod bounds;
pub mod files;
pub mod trigger;

use crate::collect::{self, Options, sample::Sampler};
use crate::engine::Catalogue;
use crate::report::Report;
use crate::snapshot::Snapshot;
use crate::watch::record::{self, Recording};
use crate::watch::signals::Signals;
use crate::watch::view::{self, Stats};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};
use trigger::{Cycles, Trigger};

/// How often the baseline is read again while checking, so that what is not sampled (a
/// listener started since, a sysctl changed, MySQL's variables) stays current. Reading it costs
/// one `doctor check` window of a second: once in ten minutes is ~0.2 % of the time.
pub const REFRESH: Duration = Duration::from_secs(600);
/// The baseline's own window.
const BASELINE_WINDOW: Duration = Duration::from_secs(1);
/// The longest doctor sleeps without looking for SIGINT or SIGTERM.
const SIGNAL_POLL: Duration = Duration::from_millis(250);
/// Sampled values named in a trigger's log line, at most.
const VALUES_LOGGED: usize = 6;

/// What to stalk for, and the bounds.
#[derive(Debug, Clone)]
pub struct Plan {
    pub every: Duration,
    pub cycles: u32,
    pub record: Duration,
    /// Recordings to make before stopping; `None`: until a bound or a signal.
    pub iterations: Option<u32>,
    pub limits: bounds::Limits,
    pub cooldown: Duration,
    pub dir: PathBuf,
}

/// Why a stalk ended.
#[derive(Debug)]
pub enum End {
    /// `--iterations` recordings were made.
    Done,
    /// SIGINT or SIGTERM (its number).
    Signal(i32),
    /// A bound forbade the next recording.
    Bound(bounds::Stop),
}

/// Stalks until the plan is done, a bound stops it or a signal comes. Fails only when a
/// recording cannot be written (or its folder read).
pub fn run(
    opts: &Options,
    plan: &Plan,
    trigger: &Trigger,
    catalogue: &Catalogue,
    signals: &Signals,
) -> std::io::Result<End> {
    let mut made = 0;
    let mut announce = Some(format!(
        "checking {} every {} ({} in a row to trigger; then {} recorded into {}, at most {} \
         recordings there)",
        trigger.label,
        humantime::format_duration(plan.every),
        plan.cycles,
        humantime::format_duration(plan.record),
        plan.dir.display(),
        plan.limits.max_recordings,
    ));
    loop {
        let checking = wait_for(opts, plan, trigger, catalogue, signals, announce.take());
        let Some((sample, held)) = checking else {
            return Ok(stopped(signals));
        };
        let folder = bounds::read(&plan.dir)?;
        if let Err(stop) = bounds::check(plan.limits, folder) {
            log(&format!(
                "{} held {}, but no recording in {}: {stop}; stopping",
                trigger.label,
                in_a_row(held),
                plan.dir.display()
            ));
            return Ok(End::Bound(stop));
        }
        let stem = files::free_stem(&plan.dir, SystemTime::now());
        log(&format!(
            "{} held {} ({}): recording {} into {}",
            trigger.label,
            in_a_row(held),
            trigger.values(&sample, VALUES_LOGGED),
            humantime::format_duration(plan.record),
            plan.dir.join(format!("{stem}.json")).display(),
        ));
        let recording = record_once(opts, plan, signals);
        let report = Report::new(&recording.snapshot, catalogue);
        files::write(&plan.dir, &stem, &recording.snapshot, &report)?;
        made += 1;
        if let Some(sig) = recording.signal {
            log(&format!(
                "stopped by {}; the recording {stem} is partial",
                signal_name(sig)
            ));
            return Ok(End::Signal(sig));
        }
        if plan.iterations.is_some_and(|n| made >= n) {
            log(&format!(
                "{made} recording(s) made (--iterations): stopping"
            ));
            return Ok(End::Done);
        }
        if !pause(Instant::now() + plan.cooldown, signals) {
            return Ok(stopped(signals));
        }
    }
}

/// Checks every `plan.every` until the trigger held `plan.cycles` checks in a row; returns the
/// last sample and the checks it held. `None`: a signal came. `announce` is logged once the
/// baseline is read and the readers are open: from then on a condition is seen.
fn wait_for(
    opts: &Options,
    plan: &Plan,
    trigger: &Trigger,
    catalogue: &Catalogue,
    signals: &Signals,
    announce: Option<String>,
) -> Option<(Vec<(String, f64)>, u32)> {
    let mut view = baseline(opts);
    let mut read_at = Instant::now();
    let mut sampler = Sampler::start(opts, plan.every);
    if let Some(line) = announce {
        log(&line);
    }
    let mut cycles = Cycles::new(plan.cycles);
    let mut first = true;
    let mut last = Instant::now();
    let mut next = last + plan.every;
    loop {
        if !pause(next, signals) {
            return None;
        }
        let values = sampler.sample();
        let now = Instant::now();
        let seconds = now.duration_since(last).as_secs_f64();
        last = now;
        // A late tick (the machine was suspended, the baseline was read) is not caught up.
        next = (next + plan.every).max(now + plan.every / 2);
        let stats = values
            .iter()
            .filter_map(|(c, v)| Stats::of(&[Some(*v)]).map(|s| (c.as_str(), s)));
        view::set_window(&mut view, stats, seconds);
        if first {
            first = false;
            if let Some(why) = trigger.not_checked(catalogue, &view) {
                log(&format!(
                    "warning: {} cannot be evaluated, so it cannot hold until that changes: {why}",
                    trigger.label
                ));
            }
        }
        if cycles.check(trigger.holds(catalogue, &view)) {
            return Some((values, cycles.held()));
        }
        if read_at.elapsed() >= REFRESH {
            view = baseline(opts);
            read_at = Instant::now();
        }
    }
}

/// Everything read once over [`BASELINE_WINDOW`], as `doctor check` reads it: what the samples
/// are set on.
fn baseline(opts: &Options) -> Snapshot {
    let mut o = opts.clone();
    o.interval = BASELINE_WINDOW;
    collect::snapshot(&o, &mut |_| {})
}

/// One recording of `plan.record`, its samples every `plan.every`.
fn record_once(opts: &Options, plan: &Plan, signals: &Signals) -> Recording {
    let watch = record::Plan {
        every: plan.every,
        duration: Some(plan.record),
        argv: Vec::new(),
    };
    record::record(opts.clone(), &watch, signals, None)
}

/// Sleeps until `deadline`, looking for a signal every [`SIGNAL_POLL`]; `false` when one came.
fn pause(deadline: Instant, signals: &Signals) -> bool {
    loop {
        if signals.received().is_some() {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        std::thread::sleep((deadline - now).min(SIGNAL_POLL));
    }
}

fn stopped(signals: &Signals) -> End {
    let sig = signals.received().map_or(15, |s| s as i32);
    log(&format!("stopped by {}", signal_name(sig)));
    End::Signal(sig)
}

/// `1 check`, `3 checks in a row`.
fn in_a_row(n: u32) -> String {
    if n == 1 {
        "1 check".to_owned()
    } else {
        format!("{n} checks in a row")
    }
}

/// `SIGTERM`, or the number of a signal nix does not name.
fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig)
        .map_or_else(|_| format!("signal {sig}"), |s| s.to_string())
}

/// One line on stderr, with its time (nohup's log has no other). A stderr that is closed or
/// full does not stop the stalk (`eprintln!` would panic).
fn log(line: &str) {
    use std::io::Write;
    let now = humantime::format_rfc3339_seconds(SystemTime::now());
    let _ = writeln!(std::io::stderr().lock(), "{now} doctor stalk: {line}");
}
