//! Wording the renderers share: a partly checked rule or an evidence group in a few words.

use crate::engine::{self, PartlyChecked};

/// One partly checked rule in a line: `quiet from a; not checked from b: why`.
#[must_use]
pub fn partly_line(p: &PartlyChecked) -> String {
    let mut parts = Vec::with_capacity(1 + p.unchecked.len());
    if !p.checked.is_empty() {
        parts.push(format!("quiet from {}", p.checked.join(", ")));
    }
    for u in &p.unchecked {
        parts.push(format!("not checked from {}: {}", u.from, u.reason));
    }
    parts.join("; ")
}

/// How one evidence group of a finding came out, in a few words: `fired, score 90`, `quiet`,
/// `not checked: why`.
#[must_use]
pub fn group_line(g: &engine::GroupOutcome) -> String {
    match (g.outcome, g.score, &g.reason) {
        (engine::GroupStatus::Fired, Some(score), _) => {
            format!("fired, score {}", engine::eval::fmt_number(score))
        }
        (status, _, Some(reason)) => format!("{}: {reason}", status.as_str()),
        (status, _, None) => status.as_str().to_owned(),
    }
}

/// `, interrupted by SIGINT after 1.2 s of 5 s: a partial report` for a window a signal cut
/// short; empty otherwise.
#[must_use]
pub fn interrupted(window: &crate::snapshot::Window) -> String {
    window
        .interrupted
        .as_ref()
        .map_or_else(String::new, |signal| {
            format!(
                ", interrupted by {signal} after {:.1} s of {:.1} s: a partial report of what was \
             read so far",
                window.elapsed_ms / 1000.0,
                window.requested_ms as f64 / 1000.0
            )
        })
}
