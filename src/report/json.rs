//! The report as JSON: stable field names, for attaching to an issue or gating a CI job.

use super::contents::Report;
use std::io::Write;

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}
