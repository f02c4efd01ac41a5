//! Collectors: the only code that reads `/proc`, `/sys`, sockets and services.
//!
//! A snapshot is taken over a window: every collector reads its counters at the start, doctor
//! sleeps (sampling a few cheap gauges on each tick), and every collector reads again at the end.
//! A collector that fails becomes an `error` section with the reason; the others carry on.

mod addresses;
pub mod blockdev;
mod conntrack;
mod cpu;
mod disk;
pub mod docker;
mod end;
mod failure;
mod hostinfo;
mod listeners;
pub mod load_test;
pub mod local_ports;
pub mod logs;
mod memory;
mod mounts;
pub mod mysql;
mod mysql_run;
mod open_files;
mod options;
mod overhead;
pub mod owners;
pub mod parse;
mod pending;
mod pressure;
mod processes;
pub mod remote;
pub mod sample;
mod sockdiag;
pub mod tcp;

pub use end::End;
pub use failure::{Failure, read};
pub use options::Options;

use crate::snapshot::{
    HostFacts, Overhead, SCHEMA_VERSION, Section, Snapshot, SourceKind, Window, round_ms,
};
use pending::Pending;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Starts the Docker collector, which also reads the containers' output for `logs`.
fn spawn_docker(
    opts: &Options,
    start_wall: SystemTime,
    end: &End,
) -> remote::Pending<docker::Collected> {
    let window_end = end.when();
    // Each engine call gets most of the grace, so a hung engine is reported with its own
    // reason before the deadline abandons the thread.
    let budget = opts.grace.mul_f64(0.8).max(Duration::from_secs(1));
    let mut collector = docker::Collector::new(budget, opts.interval);
    // The containers' output, read at the end with the containers' list, for `logs`. Its
    // window starts at `window.start`, the time the snapshot shows.
    if let Some(scanner) = &opts.logs.scanner {
        collector = collector.with_logs(docker::LogRequest {
            scanner: scanner.clone(),
            names: opts.logs.containers.clone(),
            look_back: opts.logs.container_since,
            tail_bytes: opts.logs.tail(),
            window_start: start_wall,
            // Reading stops here; scanning what was read fits before the logs section's
            // deadline (window end + grace).
            deadline: window_end + opts.grace.mul_f64(0.6),
        });
    }
    remote::spawn("containers", collector, end.clone())
}

/// The window as the snapshot shows it.
fn window(start_wall: SystemTime, requested: Duration, elapsed_ms: f64) -> Window {
    Window {
        interrupted: None,
        start: humantime::format_rfc3339_millis(start_wall).to_string(),
        start_unix_ms: start_wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        requested_ms: requested.as_millis() as u64,
        elapsed_ms,
    }
}

/// The `load_test` section: `skipped` when no load test was declared.
fn finish_load_test(
    pending: Option<Pending<load_test::Start>>,
    seconds: f64,
) -> Section<crate::snapshot::LoadTest> {
    let Some(pending) = pending else {
        return Section::skipped(load_test::NOT_DECLARED);
    };
    let mut notes = Vec::new();
    let section = pending.finish(|s| {
        load_test::finish(s, seconds).map(|(data, n)| {
            notes = n;
            data
        })
    });
    section.with_notes(notes)
}

/// The processes holding a listening socket.
fn listening(listeners: &Section<crate::snapshot::Listeners>) -> std::collections::BTreeSet<i32> {
    listeners.get().map_or_else(Default::default, |l| {
        l.sockets
            .iter()
            .filter_map(|s| s.process.as_ref().map(|p| p.pid))
            .collect()
    })
}

/// What a window's caller wants after a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Carry on to the planned end.
    Continue,
    /// End the window now (the watched command exited, the user pressed Ctrl-C): every
    /// collector takes its end reading at once, and the rates divide by the time measured.
    Stop,
    /// End the window now and wait at most [`HURRY`] for a collector still reading (a server
    /// that hangs): someone is waiting for the report (SIGINT, SIGTERM).
    Hurry,
}

/// How long a hurried snapshot ([`Tick::Hurry`]) waits for a collector after its window.
pub const HURRY: Duration = Duration::from_millis(500);

/// The MySQL error log, once the server says where it is, is scanned with the other logs.
fn add_error_logs(logs: &mut Pending<logs::Start>, mysql: &mysql_run::MysqlRun) {
    for path in mysql.error_logs() {
        logs.tick(|s| s.add(&path, SourceKind::MysqlErrorLog));
    }
}

/// Takes one snapshot of this host. `on_tick` is called with the time elapsed in the window, for
/// a progress indicator.
pub fn snapshot(opts: &Options, on_tick: &mut dyn FnMut(Duration)) -> Snapshot {
    snapshot_until(opts, &mut |elapsed| {
        on_tick(elapsed);
        Tick::Continue
    })
}

/// [`snapshot`], with a window its caller may end early: after every tick (`opts.tick`)
/// `on_tick` is called with the time elapsed, and ends the window by answering [`Tick::Stop`].
/// `doctor watch` samples its series there.
pub fn snapshot_until(opts: &Options, on_tick: &mut dyn FnMut(Duration) -> Tick) -> Snapshot {
    let started = Instant::now();
    let host = hostinfo::read();
    let start_wall = SystemTime::now();
    let mut cpu = Pending::begin(cpu::begin);
    let memory = Pending::begin(memory::begin);
    let disks = Pending::begin(disk::begin);
    let tcp = Pending::begin(tcp::begin);
    let mut listeners = Pending::begin(listeners::begin);
    let mut processes = Pending::begin(processes::begin);
    let pressure = Pending::begin(pressure::begin);
    let mut logs = Pending::begin(|| logs::begin(&opts.logs));
    let mut load_test = opts
        .load_test
        .map(|r| Pending::begin(|| load_test::begin(r)));
    let mut mysql = mysql_run::MysqlRun::begin(opts);
    let window_start = Instant::now();
    let end = End::at(window_start + opts.interval);
    // Remote collectors are spawned here with `remote::spawn(name, collector, window_end)`: their
    // connect and start reading overlap the window; they are collected with
    // `wait(window_end + opts.grace)` after the host ones and measure their own window.
    let containers = opts.docker.then(|| spawn_docker(opts, start_wall, &end));
    mysql.spawn(opts, &host, end.clone());

    let deadline = end.when();
    let mut grace = opts.grace;
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        std::thread::sleep(opts.tick.min(deadline - now));
        cpu.tick(cpu::sample);
        listeners.tick(listeners::sample);
        if let Some(l) = &mut load_test {
            l.tick(load_test::sample);
        }
        if window_start.elapsed() >= opts.interval / 2 {
            processes.tick(processes::sample_midway);
        }
        add_error_logs(&mut logs, &mysql);
        match on_tick(window_start.elapsed()) {
            Tick::Continue => {}
            stop => {
                end.now();
                if stop == Tick::Hurry {
                    grace = HURRY;
                }
                break;
            }
        }
    }
    let window_end = end.when();

    let seconds = window_start.elapsed().as_secs_f64();
    add_error_logs(&mut logs, &mysql);
    let cpu = cpu.finish(|s| cpu::finish(s, seconds));
    let memory = memory.finish(|s| memory::finish(s, seconds));
    let disks = disks.finish(|s| disk::finish(s, seconds));
    let tcp = tcp.finish(|s| tcp::finish(s, seconds));
    let listeners = listeners.finish(listeners::finish);
    let processes = processes.finish(|s| processes::finish(s, seconds, &listening(&listeners)));
    let pressure = pressure.finish(|s| pressure::finish(s, seconds));
    let load_test = finish_load_test(load_test, seconds);
    let (mysql, mut mysql_server) = mysql.finish(window_end + grace, seconds);
    // Logs last: scanning takes longer than reading counters, and the counters' window ends above.
    // Files are scanned while the Docker collector reads the containers' output.
    let log_files = logs.finish(|s| Ok(logs::scan(s)));
    // The window is measured from the first to the last reading, which is what the rates divide by.
    let elapsed_ms = round_ms(Duration::from_secs_f64(seconds));
    let (containers, container_logs) = containers.map_or_else(
        || {
            (
                Section::skipped("switched off with --no-docker"),
                logs::FromContainers::Off,
            )
        },
        |p| docker::split(p.wait(window_end + grace)),
    );
    let logs = logs::section(log_files, container_logs, window_end + grace);
    if let (Some(server), Some(c)) = (mysql_server.data.as_mut(), containers.get()) {
        mysql::server::name_containers(server, c);
    }

    let usage = overhead::read();
    Snapshot {
        schema: SCHEMA_VERSION,
        doctor_version: env!("CARGO_PKG_VERSION").to_owned(),
        host,
        window: window(start_wall, opts.interval, elapsed_ms),
        overhead: Overhead {
            cpu_ms: usage.cpu_ms,
            max_rss_bytes: usage.max_rss_bytes,
            wall_ms: round_ms(started.elapsed()),
        },
        cpu,
        memory,
        disks,
        tcp,
        listeners,
        processes,
        pressure,
        containers,
        mysql,
        mysql_server,
        logs,
        load_test,
        imported: None,
        series: None,
    }
}

/// Host facts alone, for callers that only need to know the machine.
#[must_use]
pub fn host_facts() -> HostFacts {
    hostinfo::read()
}
