//! The report as Markdown, ready to paste into a GitHub issue: the ranked table up front, each
//! finding's evidence in a collapsible block, the fix as text.

use super::contents::Report;
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
            "Kernel {kernel}, {cpus} CPUs, {:.1} s window from {}, doctor {}.",
            report.window.elapsed_ms / 1000.0,
            report.window.start,
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
    if report.findings.is_empty() {
        writeln!(out, "**{}**", cell(&report.healthy_line()))?;
    } else {
        writeln!(out, "| # | severity | cause | score | key evidence |")?;
        writeln!(out, "| --- | --- | --- | --- | --- |")?;
        for f in &report.findings {
            let cause = if f.explained_by.is_some() {
                format!("↳ `{}`", f.id)
            } else {
                format!("`{}`", f.id)
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
        for f in &report.findings {
            writeln!(out)?;
            finding(f, out)?;
        }
    }
    if !report.not_checked.is_empty() {
        writeln!(out)?;
        writeln!(out, "#### Not checked")?;
        writeln!(out)?;
        for n in &report.not_checked {
            writeln!(out, "- `{}`: {}", n.id, cell(&n.reason))?;
        }
    }
    if !report.partly_checked.is_empty() {
        writeln!(out)?;
        writeln!(out, "#### Checked in part")?;
        writeln!(out)?;
        for p in &report.partly_checked {
            writeln!(out, "- `{}`: {}", p.id, cell(&super::text::partly_line(p)))?;
        }
    }
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
    writeln!(out, "#### {}. `{}`: {}", f.rank, f.id, f.title)?;
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
        let label = match &e.from {
            Some(from) => format!("{} (from {from})", e.label),
            None => e.label.clone(),
        };
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
