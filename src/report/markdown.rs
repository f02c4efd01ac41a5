//! The report as Markdown, ready to paste into a GitHub issue: the ranked table up front, each
//! finding's evidence in a collapsible block, the fix as text.

use super::contents::Report;
use super::table::Unfired;
use crate::engine::eval::fmt_number;
use std::io::Write;

/// Table cells cannot hold `|` or newlines.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "### doctor report: {}",
        cell(report.host.hostname.as_deref().unwrap_or("host unknown"))
    )?;
    writeln!(out)?;
    intro(report, out)?;
    findings_part(
        &Unfired {
            findings: &report.findings,
            not_checked: &report.not_checked,
            partly_checked: &report.partly_checked,
            healthy: &report.healthy_line(),
        },
        out,
    )?;
    host_part(report, out)
}

/// The host's kernel, CPUs and window (or an import's inputs), and a watch's run.
pub(super) fn intro(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    imported_line(report, out)?;
    let kernel = cell(report.host.kernel.as_deref().unwrap_or("unknown"));
    let cpus = report
        .host
        .cpus
        .map_or_else(|| "unknown".to_owned(), |c| c.to_string());
    if report.imported.is_some() {
        // No window to speak of: the line above says how the counters were read.
        writeln!(out, "Kernel {kernel}, {cpus} CPUs.")?;
    } else {
        writeln!(
            out,
            "Kernel {kernel}, {cpus} CPUs, {:.1} s window from {}{}, doctor {}.",
            report.window.elapsed_ms / 1000.0,
            report.window.start,
            super::text::interrupted(&report.window),
            report.doctor_version
        )?;
    }
    writeln!(out)?;
    if let Some(run) = &report.run {
        // Sparklines and the aligned timeline need a fixed-width font.
        writeln!(out, "#### The run")?;
        writeln!(out)?;
        writeln!(out, "```text")?;
        for line in super::run::lines(run) {
            writeln!(out, "{line}")?;
        }
        writeln!(out, "```")?;
        writeln!(out)?;
    }
    Ok(())
}

/// The ranked table, each finding's evidence and fix, what was not checked.
pub(super) fn findings_part(part: &Unfired<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    let on = |host: &Option<String>| {
        host.as_ref()
            .map(|h| format!(" on {}", cell(h)))
            .unwrap_or_default()
    };
    if part.findings.is_empty() {
        writeln!(out, "**{}**", cell(part.healthy))?;
    } else {
        writeln!(out, "| # | severity | cause | score | key evidence |")?;
        writeln!(out, "| --- | --- | --- | --- | --- |")?;
        for f in part.findings {
            let id = match &f.host {
                Some(h) => format!("`{}` ({})", f.id, cell(h)),
                None => format!("`{}`", f.id),
            };
            let cause = if f.explained_by.is_some() {
                format!("↳ {id}")
            } else {
                id
            };
            writeln!(
                out,
                "| {} | **{}** | {cause} | {} | {} |",
                f.rank,
                f.severity,
                fmt_number(f.score),
                cell(&f.summary)
            )?;
        }
        for f in part.findings {
            writeln!(out)?;
            finding(f, out)?;
        }
    }
    if !part.not_checked.is_empty() {
        writeln!(out)?;
        writeln!(out, "#### Not checked")?;
        writeln!(out)?;
        for n in part.not_checked {
            writeln!(out, "- `{}`{}: {}", n.id, on(&n.host), cell(&n.reason))?;
        }
    }
    if !part.partly_checked.is_empty() {
        writeln!(out)?;
        writeln!(out, "#### Checked in part")?;
        writeln!(out)?;
        for p in part.partly_checked {
            writeln!(
                out,
                "- `{}`{}: {}",
                p.id,
                on(&p.host),
                cell(&super::text::partly_line(p))
            )?;
        }
    }
    Ok(())
}

/// One host's own part: its figures, its collectors, what an import read.
pub(super) fn host_part(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(out, "<details><summary>Figures</summary>")?;
    writeln!(out)?;
    writeln!(out, "| layer | figure | value |")?;
    writeln!(out, "| --- | --- | --- |")?;
    for f in &report.headline {
        writeln!(
            out,
            "| {} | {} | {} |",
            f.layer.as_str(),
            cell(&f.name),
            cell(&f.value)
        )?;
    }
    writeln!(out)?;
    writeln!(out, "</details>")?;
    writeln!(out)?;
    collectors(report, out)?;
    writeln!(out)?;
    writeln!(out, "</details>")?;
    imported_part(report, out)
}

/// How each collector fared (and, for an import, which lines each section came from).
fn collectors(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "<details><summary>Collectors</summary>")?;
    writeln!(out)?;
    for c in &report.collectors {
        write!(
            out,
            "- `{}`: {} ({} ms)",
            c.name,
            c.status.as_str(),
            c.elapsed_ms
        )?;
        if let Some(m) = &c.message {
            write!(out, ": {}", cell(m))?;
        }
        for p in &c.imported {
            write!(
                out,
                "; from {} lines {}-{} ({})",
                cell(&p.input),
                p.first_line,
                p.last_line,
                cell(&p.output)
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// For an import, where the figures come from, above the usual line.
fn imported_line(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(i) = &report.imported {
        writeln!(
            out,
            "Imported from {}: {}, doctor {}.",
            cell(&super::imported::input_names(i)),
            super::imported::window_words(i),
            report.doctor_version
        )?;
        writeln!(out)?;
    }
    Ok(())
}

/// For an import: what was recognised where, and what was not understood.
fn imported_part(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(i) = &report.imported {
        writeln!(out)?;
        writeln!(out, "<details><summary>Imported</summary>")?;
        writeln!(out)?;
        for line in super::imported::output_lines(i) {
            writeln!(out, "- {}", cell(&line))?;
        }
        let not = super::imported::not_understood_lines(i);
        if !not.is_empty() {
            writeln!(out)?;
            writeln!(out, "Not understood (left out, never guessed):")?;
            writeln!(out)?;
            for line in not {
                writeln!(out, "- {}", cell(&line))?;
            }
        }
        writeln!(out)?;
        writeln!(out, "</details>")?;
    }
    Ok(())
}

fn finding(f: &crate::engine::Finding, out: &mut dyn Write) -> std::io::Result<()> {
    match &f.host {
        Some(h) => writeln!(
            out,
            "#### {}. `{}` on {}: {}",
            f.rank,
            f.id,
            cell(h),
            f.title
        )?,
        None => writeln!(out, "#### {}. `{}`: {}", f.rank, f.id, f.title)?,
    }
    writeln!(out)?;
    write!(
        out,
        "**{}**, score {}, {} {}",
        f.severity,
        fmt_number(f.score),
        f.layer.as_str(),
        f.kind.as_str()
    )?;
    if let Some(cause) = &f.explained_by {
        write!(out, ", explained by `{cause}`")?;
    }
    if !f.explains.is_empty() {
        write!(
            out,
            ", explains {}",
            f.explains
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    writeln!(out, ".")?;
    writeln!(out)?;
    if !f.from.is_empty() {
        writeln!(out, "From:")?;
        writeln!(out)?;
        for g in &f.from {
            writeln!(
                out,
                "- *{}*: {}",
                cell(&g.name),
                cell(&super::text::group_line(g))
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out, "<details><summary>Evidence</summary>")?;
    writeln!(out)?;
    writeln!(out, "| evidence | value | threshold |")?;
    writeln!(out, "| --- | --- | --- |")?;
    for e in &f.evidence {
        let mut label = match &e.from {
            Some(from) => format!("{} (from {from})", e.label),
            None => e.label.clone(),
        };
        if let Some(h) = e.host.as_ref().filter(|_| e.host != f.host) {
            label = format!("{label} ({h})");
        }
        writeln!(
            out,
            "| {} | {} | {} |",
            cell(&label),
            cell(&e.value),
            cell(e.threshold.as_deref().unwrap_or(""))
        )?;
    }
    writeln!(out)?;
    writeln!(out, "</details>")?;
    writeln!(out)?;
    writeln!(out, "Fix:")?;
    writeln!(out)?;
    writeln!(out, "```text")?;
    writeln!(out, "{}", f.fix)?;
    writeln!(out, "```")?;
    Ok(())
}
