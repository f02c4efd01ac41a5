//! Where a report goes: standard output in `--format`, the metrics file of `--textfile`, the
//! chart of `--chart`. Each function says whether the report holds something at or above
//! `--fail-on`; the caller turns that into the exit status.

use crate::cli::{Format, OutputArgs};
use crate::engine::Catalogue;
use crate::report::{self, Color, HostMetrics, Report};
use crate::snapshot::{NamedSnapshot, Snapshot};
use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The file `--textfile DIR` writes: `node_exporter`'s textfile collector reads `DIR/*.prom`.
pub const TEXTFILE_NAME: &str = "doctor.prom";

/// Whether the report is printed on standard output (`check --quiet --textfile DIR` leaves
/// only the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Print {
    Report,
    Nothing,
}

/// Refuses a `--textfile` directory that does not exist before anything is sampled, naming it.
pub fn check_textfile_dir(output: &OutputArgs) -> Result<()> {
    match &output.textfile {
        Some(dir) if !dir.is_dir() => Err(anyhow::anyhow!(
            "cannot write the metrics in {}: it is not a directory; create it or name \
             node_exporter's --collector.textfile.directory",
            dir.display()
        )),
        _ => Ok(()),
    }
}

/// Prints the report of `snap` and writes its metrics file; with `chart`, then draws its run
/// there (a snapshot with a series): the report of a long watch is out even when the chart
/// cannot be written. True when a finding is at or above `--fail-on`.
pub fn render(
    snap: &Snapshot,
    rules: &Catalogue,
    output: &OutputArgs,
    chart: Option<&Path>,
    print: Print,
) -> Result<bool> {
    let report = Report::new(snap, rules);
    let metrics = || {
        let mut text = Vec::new();
        let host = HostMetrics {
            host: None,
            report: &report,
            overhead: &snap.overhead,
        };
        report::render_prometheus(&[host], rules, &mut text).map(|()| text)
    };
    if print == Print::Report {
        let stdout = std::io::stdout();
        let tty = stdout.is_terminal();
        // One write at the end: stdout is line-buffered, and a report is hundreds of lines
        // (one system call each).
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
        match output.format() {
            Format::Json => report::render_json(&report, &mut out),
            Format::Markdown => report::render_markdown(&report, &mut out),
            Format::Prometheus => metrics().and_then(|m| out.write_all(&m)),
            Format::Table => {
                let width = if tty { terminal_width() } else { None };
                report::render_table(&report, color(tty), width, &mut out)
            }
        }
        .context("cannot write the report")?;
        out.flush().context("cannot write the report")?;
    }
    if let Some(dir) = &output.textfile {
        write_textfile(dir, &metrics().context("cannot render the metrics")?)?;
    }
    if let Some(path) = chart {
        let run = report
            .run
            .as_ref()
            .ok_or(crate::watch::chart::ChartError::NoSeries)?;
        crate::watch::chart::write(path, &crate::watch::chart::svg(snap, run)?)?;
    }
    Ok(output
        .fail_on
        .threshold()
        .is_some_and(|t| report.worst().is_some_and(|w| w >= t)))
}

/// The report of several hosts (`hosts`, in the report's order), printed and written as
/// [`render`] does; in the metrics every series has a `host` label.
pub fn render_hosts(
    hosts: &[NamedSnapshot],
    report: &report::HostsReport,
    rules: &Catalogue,
    output: &OutputArgs,
) -> Result<bool> {
    let metrics = || {
        let parts: Vec<HostMetrics<'_>> = report
            .host_reports()
            .zip(hosts)
            .map(|((name, r), h)| HostMetrics {
                host: Some(name),
                report: r,
                overhead: &h.snapshot.overhead,
            })
            .collect();
        let mut text = Vec::new();
        report::render_prometheus(&parts, rules, &mut text).map(|()| text)
    };
    let stdout = std::io::stdout();
    let tty = stdout.is_terminal();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    match output.format() {
        Format::Json => serde_json::to_writer_pretty(&mut out, report)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        Format::Markdown => report::render_hosts_markdown(report, &mut out),
        Format::Prometheus => metrics().and_then(|m| out.write_all(&m)),
        Format::Table => {
            let width = if tty { terminal_width() } else { None };
            report::render_hosts_table(report, color(tty), width, &mut out)
        }
    }
    .context("cannot write the report")?;
    out.flush().context("cannot write the report")?;
    if let Some(dir) = &output.textfile {
        write_textfile(dir, &metrics().context("cannot render the metrics")?)?;
    }
    Ok(output
        .fail_on
        .threshold()
        .is_some_and(|t| report.worst().is_some_and(|w| w >= t)))
}

/// Writes `DIR/doctor.prom` whole (`crate::atomic`: a scrape sees the last run's file or this
/// one, never half of one). Not synced to disk: a file rewritten every minute need not survive a
/// power cut, and a sync a minute is I/O for nothing.
pub fn write_textfile(dir: &Path, metrics: &[u8]) -> Result<PathBuf> {
    let path = dir.join(TEXTFILE_NAME);
    crate::atomic::write(&path, metrics, false).with_context(|| {
        format!(
            "cannot write the metrics to {}; check doctor may write in {}",
            path.display(),
            dir.display()
        )
    })?;
    Ok(path)
}

/// Colour on a terminal, never with `NO_COLOR`.
fn color(tty: bool) -> Color {
    if tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) {
        Color::Always
    } else {
        Color::Never
    }
}

fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or_else(|| comfy_table::Table::new().width())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_textfile_replaces_the_old_one_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(TEXTFILE_NAME), "old\n").unwrap();
        let path = write_textfile(dir.path(), b"doctor_build_info{version=\"x\"} 1\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "doctor_build_info{version=\"x\"} 1\n"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [TEXTFILE_NAME]);
    }

    #[test]
    fn a_textfile_that_cannot_be_written_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let e = write_textfile(&missing, b"x 1\n").unwrap_err();
        let text = format!("{e:#}");
        assert!(
            text.contains(&missing.join(TEXTFILE_NAME).display().to_string()),
            "{text}"
        );
    }
}
