//! The report for a terminal: the ranked table, each finding's evidence and fix, what was not
//! checked, the headline figures and the collectors' status.

use super::contents::Report;
use crate::engine::{Finding, Severity};
use crate::snapshot::Status;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use owo_colors::OwoColorize;
use std::io::Write;

/// Whether to colour the terminal output. Decided once by the caller (TTY and `NO_COLOR`), so the
/// renderers stay pure and the snapshot tests see plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Never,
    Always,
}

fn severity(s: Severity, color: Color) -> String {
    match (color, s) {
        (Color::Never, s) => s.as_str().to_owned(),
        (Color::Always, Severity::Critical) => s.as_str().red().bold().to_string(),
        (Color::Always, Severity::Warning) => s.as_str().yellow().bold().to_string(),
        (Color::Always, Severity::Info) => s.as_str().cyan().to_string(),
    }
}

pub(super) fn heading(text: &str, color: Color) -> String {
    match color {
        Color::Never => text.to_owned(),
        Color::Always => text.bold().to_string(),
    }
}

fn table(width: Option<u16>) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    if let Some(w) = width {
        t.set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(w);
    }
    t
}

/// Writes `text` indented by `pad`, line by line.
fn indented(out: &mut dyn Write, pad: &str, text: &str) -> std::io::Result<()> {
    for line in text.lines() {
        if line.is_empty() {
            writeln!(out)?;
        } else {
            writeln!(out, "{pad}{line}")?;
        }
    }
    Ok(())
}

pub fn render(
    report: &Report,
    color: Color,
    width: Option<u16>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    header(report, out)?;
    writeln!(out)?;
    if let Some(run) = &report.run {
        for line in super::run::lines(run) {
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
    }

    findings_part(
        &Unfired {
            findings: &report.findings,
            not_checked: &report.not_checked,
            partly_checked: &report.partly_checked,
            healthy: &report.healthy_line(),
        },
        color,
        width,
        out,
    )?;
    host_part(report, color, width, out)
}

/// The findings and the rules that did not fire, of one host or several.
pub(super) struct Unfired<'a> {
    pub findings: &'a [Finding],
    pub not_checked: &'a [crate::engine::NotChecked],
    pub partly_checked: &'a [crate::engine::PartlyChecked],
    /// The line said when nothing fired.
    pub healthy: &'a str,
}

/// The ranked table, each finding's evidence and fix, what was not checked.
pub(super) fn findings_part(
    part: &Unfired<'_>,
    color: Color,
    width: Option<u16>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if part.findings.is_empty() {
        writeln!(out, "{}", heading(part.healthy, color))?;
    } else {
        let mut t = table(width);
        t.set_header(["#", "severity", "cause", "score", "key evidence"]);
        for f in part.findings {
            let id = match &f.host {
                Some(h) => format!("{} ({h})", f.id),
                None => f.id.clone(),
            };
            let cause = if f.explained_by.is_some() {
                format!("↳ {id}")
            } else {
                id
            };
            t.add_row([
                f.rank.to_string(),
                severity(f.severity, color),
                cause,
                crate::engine::eval::fmt_number(f.score),
                f.summary.clone(),
            ]);
        }
        writeln!(out, "{t}")?;
        for f in part.findings {
            writeln!(out)?;
            finding(f, color, out)?;
        }
    }
    let on = |host: &Option<String>| {
        host.as_ref()
            .map(|h| format!(" on {h}"))
            .unwrap_or_default()
    };
    if !part.not_checked.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", heading("not checked:", color))?;
        for n in part.not_checked {
            writeln!(out, "  {}{}: {}", n.id, on(&n.host), n.reason)?;
        }
    }
    if !part.partly_checked.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", heading("checked in part:", color))?;
        for p in part.partly_checked {
            writeln!(
                out,
                "  {}{}: {}",
                p.id,
                on(&p.host),
                super::text::partly_line(p)
            )?;
        }
    }
    Ok(())
}

/// One host's own part: its headline figures, its collectors, what an import read.
pub(super) fn host_part(
    report: &Report,
    color: Color,
    width: Option<u16>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if !report.headline.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", heading("figures:", color))?;
        let mut t = table(width);
        t.set_header(["layer", "figure", "value"]);
        for f in &report.headline {
            t.add_row([f.layer.as_str(), f.name.as_str(), f.value.as_str()]);
        }
        writeln!(out, "{t}")?;
    }

    writeln!(out)?;
    writeln!(out, "{}", heading("collectors:", color))?;
    for c in &report.collectors {
        let status = match (color, c.status) {
            (Color::Never, s) => s.as_str().to_owned(),
            (Color::Always, Status::Ok) => c.status.as_str().green().to_string(),
            (Color::Always, Status::Skipped) => c.status.as_str().yellow().to_string(),
            (Color::Always, Status::Error) => c.status.as_str().red().to_string(),
        };
        write!(out, "  {:<10} {status} ({} ms)", c.name, c.elapsed_ms)?;
        if let Some(m) = &c.message {
            write!(out, ": {m}")?;
        }
        writeln!(out)?;
        for n in &c.notes {
            writeln!(out, "             note: {n}")?;
        }
        for p in &c.imported {
            writeln!(
                out,
                "             from: {} lines {}-{} ({})",
                p.input, p.first_line, p.last_line, p.output
            )?;
        }
    }
    imported_part(report, color, out)
}

/// The first line: the host and the window, or for an import, the inputs and the readings.
pub(super) fn header(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let host = report.host.hostname.as_deref().unwrap_or("host unknown");
    let kernel = report.host.kernel.as_deref().unwrap_or("kernel unknown");
    if let Some(i) = &report.imported {
        writeln!(
            out,
            "doctor — imported from {} ({host}, {kernel}), {}",
            super::imported::input_names(i),
            super::imported::window_words(i)
        )?;
    } else {
        writeln!(
            out,
            "doctor — {host} ({kernel}), {:.1} s window from {}{}",
            report.window.elapsed_ms / 1000.0,
            report.window.start,
            super::text::interrupted(&report.window)
        )?;
    }
    Ok(())
}

/// For an import: what was recognised where, and what was not understood.
fn imported_part(report: &Report, color: Color, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(i) = &report.imported {
        writeln!(out)?;
        writeln!(out, "{}", heading("imported:", color))?;
        for line in super::imported::output_lines(i) {
            writeln!(out, "  {line}")?;
        }
        let not = super::imported::not_understood_lines(i);
        if !not.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "{}",
                heading("not understood (left out, never guessed):", color)
            )?;
            for line in not {
                writeln!(out, "  {line}")?;
            }
        }
    }
    Ok(())
}

fn finding(f: &Finding, color: Color, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{}. {} {} — score {}, {} {}",
        f.rank,
        severity(f.severity, color),
        heading(
            &match &f.host {
                Some(h) => format!("{} on {h}", f.id),
                None => f.id.clone(),
            },
            color
        ),
        crate::engine::eval::fmt_number(f.score),
        f.layer.as_str(),
        f.kind.as_str()
    )?;
    writeln!(out, "   {}", f.title)?;
    if let Some(cause) = &f.explained_by {
        writeln!(out, "   explained by {cause} (above)")?;
    }
    if !f.explains.is_empty() {
        writeln!(out, "   explains {}", f.explains.join(", "))?;
    }
    if !f.from.is_empty() {
        writeln!(out, "   from:")?;
        for g in &f.from {
            writeln!(out, "     - {}: {}", g.name, super::text::group_line(g))?;
        }
    }
    writeln!(out, "   evidence:")?;
    for e in &f.evidence {
        // Evidence read on another host than the finding's names it; the JSON names the
        // host of every piece.
        match &e.host {
            Some(h) if e.host != f.host => write!(out, "     - {} ({h}): {}", e.label, e.value)?,
            _ => write!(out, "     - {}: {}", e.label, e.value)?,
        }
        if let Some(t) = &e.threshold {
            write!(out, "  [{t}]")?;
        }
        if let Some(from) = &e.from {
            write!(out, "  (from {from})")?;
        }
        writeln!(out)?;
    }
    writeln!(out, "   fix:")?;
    indented(out, "     ", &f.fix)
}
