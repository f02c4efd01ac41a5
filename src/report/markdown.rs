//! The report as Markdown, ready to paste into a GitHub issue.

use super::Report;
use std::io::Write;

/// Table cells cannot hold `|` or newlines.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(report: &Report<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "### doctor report: {}", cell(&report.host.hostname))?;
    writeln!(out)?;
    writeln!(
        out,
        "Kernel {}, {:.1} s window from {}.",
        cell(&report.host.kernel),
        report.window.elapsed_ms / 1000.0,
        report.window.start
    )?;
    writeln!(out)?;
    writeln!(out, "| layer | figure | value |")?;
    writeln!(out, "| --- | --- | --- |")?;
    for f in &report.headline {
        writeln!(
            out,
            "| {} | {} | {} |",
            f.layer,
            cell(&f.name),
            cell(&f.value)
        )?;
    }
    writeln!(out)?;
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
        if let Some(m) = c.message {
            write!(out, ": {}", cell(m))?;
        }
        writeln!(out)?;
    }
    writeln!(out)?;
    writeln!(out, "</details>")
}
