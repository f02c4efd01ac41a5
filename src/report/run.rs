//! The run section of a `doctor watch` report, as plain lines shared by the table and the
//! Markdown renderers: how the run went, the load plateau, when each finding held and the key
//! series as sparklines.

use super::sparkline;
use crate::engine::eval::fmt_number;
use crate::watch::timeline::Run;

/// Seconds from the run's start, as `+12.0 s`.
fn at(s: f64) -> String {
    format!("+{s:.1} s")
}

/// The section's lines.
#[must_use]
pub fn lines(run: &Run) -> Vec<String> {
    let mut out = Vec::new();
    let ended = match run.ended_by.as_str() {
        "command" => match &run.command {
            Some(c) => format!(
                "when the command `{}` exited{}",
                c.argv.join(" "),
                c.exit_status
                    .map(|s| format!(" with status {s}"))
                    .unwrap_or_default()
            ),
            None => "when the command exited".to_owned(),
        },
        "duration" => "at --duration".to_owned(),
        "signal" => "by a signal (SIGINT/SIGTERM)".to_owned(),
        other => format!("by {other}"),
    };
    out.push(format!(
        "Run: {:.1} s, {} samples every {} ms ({} taken), ended {ended}.",
        run.duration_s, run.samples, run.every_ms, run.samples_taken
    ));
    if run.partial {
        out.push(
            "PARTIAL: interrupted before the command or the duration ended; this is what was \
             recorded so far."
                .to_owned(),
        );
    }
    match &run.plateau {
        Some(p) => out.push(format!(
            "Load plateau: {} … {} on {} (at or above {}); ramp-up and ramp-down cut off.",
            at(p.from_s),
            at(p.to_s),
            p.series,
            fmt_number(p.level)
        )),
        None => out.push(
            "Load plateau: none found (the load series did not ramp up and down, or was not \
             sampled)."
                .to_owned(),
        ),
    }
    out.push(String::new());
    if run.timeline.is_empty() {
        out.push(format!(
            "No finding held in any window ({} rules evaluated per window of {} sample(s)).",
            run.rules_per_window.len(),
            run.samples_per_window
        ));
    } else {
        out.push(format!(
            "When each finding held (windows of {} sample(s)):",
            run.samples_per_window
        ));
        let width = run.timeline.iter().map(|h| h.id.len()).max().unwrap_or(0);
        for h in &run.timeline {
            out.push(format!(
                "  {:width$}  {:8}  {} … {}  {}/{} windows  {}",
                h.id,
                h.severity.as_str(),
                at(h.from_s),
                at(h.to_s),
                h.windows_held,
                h.windows,
                h.strip
            ));
        }
    }
    if !run.whole_run_only.is_empty() {
        out.push(format!(
            "Over the whole run, in no single window (they read no sampled figure, or need the whole run's evidence): {}.",
            run.whole_run_only.join(", ")
        ));
    }
    if !run.series.is_empty() {
        out.push(String::new());
        out.push("Series (lowest … highest, last):".to_owned());
        let width = run.series.iter().map(|s| s.name.len()).max().unwrap_or(0);
        for s in &run.series {
            out.push(format!(
                "  {:width$}  {}  {} … {}, last {}",
                s.name,
                sparkline::line(&s.points, s.min, s.max),
                fmt_number(s.min),
                fmt_number(s.max),
                fmt_number(s.last)
            ));
        }
    }
    for n in &run.notes {
        out.push(format!("Note: {n}"));
    }
    out
}
