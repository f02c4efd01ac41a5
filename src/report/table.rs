//! The report for a terminal.

use super::{Color, Report};
use crate::snapshot::Status;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use owo_colors::OwoColorize;
use std::io::Write;

pub fn render(
    report: &Report<'_>,
    color: Color,
    width: Option<u16>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "doctor — {} ({}), {:.1} s window from {}",
        report.host.hostname,
        report.host.kernel,
        report.window.elapsed_ms / 1000.0,
        report.window.start
    )?;
    writeln!(out)?;
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_header(["layer", "figure", "value"]);
    if let Some(w) = width {
        table
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(w);
    }
    for f in &report.headline {
        table.add_row([f.layer, f.name.as_str(), f.value.as_str()]);
    }
    writeln!(out, "{table}")?;
    writeln!(out)?;
    writeln!(out, "collectors:")?;
    for c in &report.collectors {
        let status = match (color, c.status) {
            (Color::Never, s) => s.as_str().to_owned(),
            (Color::Always, Status::Ok) => c.status.as_str().green().to_string(),
            (Color::Always, Status::Skipped) => c.status.as_str().yellow().to_string(),
            (Color::Always, Status::Error) => c.status.as_str().red().to_string(),
        };
        write!(out, "  {:<10} {status} ({} ms)", c.name, c.elapsed_ms)?;
        if let Some(m) = c.message {
            write!(out, ": {m}")?;
        }
        writeln!(out)?;
        for n in c.notes {
            writeln!(out, "             note: {n}")?;
        }
    }
    Ok(())
}
