//! The `logs` section: the files' sources and the containers' output the Docker collector hands
//! over (waited for until the snapshot's deadline), or why that output is missing.

use super::files::{Scanned, Start, scan};
use crate::collect::Failure;
use crate::scan::failed_source;
use crate::snapshot::{LogSource, Logs, Section, SourceKind, Status};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The containers' output as the Docker collector read it: their sources and the notes for the
/// `logs` section.
#[derive(Debug, Default)]
pub struct LogsRead {
    pub sources: Vec<LogSource>,
    pub notes: Vec<String>,
    /// Time spent reading and scanning, for the `logs` section's `elapsed_ms`.
    pub elapsed: Duration,
}

/// What the Docker collector gives the `logs` section.
#[derive(Debug)]
pub enum FromContainers {
    /// Not asked for (`--no-docker`).
    Off,
    /// No Docker engine here (the `containers` section is skipped): nothing to add.
    Absent(String),
    /// The Docker collector failed or hung: why.
    Failed(String),
    /// The containers' output, scanned.
    Read(LogsRead),
    /// The containers' output, still being read on the Docker collector's logs thread.
    Pending(mpsc::Receiver<LogsRead>),
}

impl FromContainers {
    /// Waits for output still being read, until `deadline`.
    fn settle(self, deadline: Instant) -> Self {
        let FromContainers::Pending(rx) = self else {
            return self;
        };
        let started = Instant::now();
        match rx.recv_timeout(deadline.saturating_duration_since(started)) {
            Ok(read) => FromContainers::Read(read),
            Err(mpsc::RecvTimeoutError::Timeout) => FromContainers::Failed(
                "the Docker engine did not send it before the snapshot's deadline (hung or \
                 overloaded?)"
                    .to_owned(),
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                FromContainers::Failed("its reader crashed".to_owned())
            }
        }
    }
}

/// The section from the files and the containers' output. Also returns the section's notes
/// (files left out, symlinks not followed, containers not read), which stand whether or not
/// anything could be read.
pub fn complete(
    scanned: Scanned,
    containers: FromContainers,
) -> (Result<Logs, Failure>, Vec<String>) {
    let Scanned {
        scanner,
        mut sources,
        mut notes,
        containers: named,
    } = scanned;
    // Only `section` hands over output still being read, after waiting for it.
    let containers = containers.settle(Instant::now());
    let unread = |why: &str, sources: &mut Vec<LogSource>| {
        for name in &named {
            sources.push(failed_source(
                name,
                SourceKind::Container,
                None,
                format!("container output not read: {why}"),
            ));
        }
    };
    match containers {
        FromContainers::Off => {}
        // No engine and no container named: nothing was expected, nothing to say.
        FromContainers::Absent(why) => unread(&why, &mut sources),
        FromContainers::Failed(why) => {
            if named.is_empty() {
                notes.push(format!("container output not read: {why}"));
            }
            unread(&why, &mut sources);
        }
        FromContainers::Read(read) => {
            sources.extend(read.sources);
            notes.extend(read.notes);
        }
        FromContainers::Pending(_) => unreachable!("settled above"),
    }
    if sources.is_empty() {
        let e = Failure::Skipped(
            "no log to scan: name application, proxy or database logs with --log PATH (the \
             output of running containers is read when Docker answers)"
                .into(),
        );
        return (Err(e), notes);
    }
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    if !sources.iter().any(|s| s.status == Status::Ok) {
        let why: Vec<String> = sources
            .iter()
            .map(|s| format!("{}: {}", s.name, s.message.clone().unwrap_or_default()))
            .collect();
        let e = Failure::Error(format!("no log could be read: {}", why.join("; ")));
        return (Err(e), notes);
    }
    (Ok(scanner.summarize(sources)), notes)
}

/// Files only: [`scan`] then [`complete`] without containers.
pub fn finish(start: Start) -> (Result<Logs, Failure>, Vec<String>) {
    complete(scan(start), FromContainers::Off)
}

/// The `logs` section from the files' section (its time and status) and the containers' output,
/// waited for until `deadline`.
pub fn section(
    files: Section<Scanned>,
    containers: FromContainers,
    deadline: Instant,
) -> Section<Logs> {
    let containers = containers.settle(deadline);
    let reading = match &containers {
        FromContainers::Read(read) => read.elapsed,
        _ => Duration::ZERO,
    };
    let Section {
        status,
        message,
        mut notes,
        elapsed_ms,
        imported,
        data,
    } = files;
    let Some(scanned) = data else {
        return Section {
            status,
            message,
            notes,
            elapsed_ms,
            imported,
            data: None,
        };
    };
    let (result, more) = complete(scanned, containers);
    notes.extend(more);
    let section = match result {
        Ok(logs) => Section::ok(logs, Duration::ZERO),
        Err(Failure::Skipped(m)) => Section::skipped(m),
        Err(Failure::Error(m)) => Section::error(m, Duration::ZERO),
    };
    Section {
        notes,
        elapsed_ms: crate::snapshot::round_ms(
            Duration::from_secs_f64(elapsed_ms / 1000.0) + reading,
        ),
        ..section
    }
}
