//! The reasons a rule was not checked on a snapshot `doctor import` built, in the words that
//! apply to pasted text: a counter with a total and no `delta` is one sample only (a rule that
//! needs a rate is not checked, rather than guessing); a rate missing beside a delta means the
//! time between two readings is unknown; any other field missing is not in the text.
//!
//! The engine itself stays as it is: a missing field is "not checked" with the evaluator's
//! reason; only the reason's words change, after the fact.

use super::Analysis;
use crate::snapshot::Snapshot;

/// Rewrites the not-checked reasons of `analysis`, when `snapshot` was imported.
pub fn reword(analysis: &mut Analysis, snapshot: &Snapshot) {
    let Some(imported) = &snapshot.imported else {
        return;
    };
    let samples = imported.samples;
    let no_window = snapshot.window.elapsed_ms <= 0.0;
    let fix = |reason: &mut String| *reason = words(reason, samples, no_window);
    for n in &mut analysis.not_checked {
        fix(&mut n.reason);
    }
    for p in &mut analysis.partly_checked {
        for u in &mut p.unchecked {
            fix(&mut u.reason);
        }
    }
    for f in &mut analysis.findings {
        for g in &mut f.from {
            if let Some(r) = &mut g.reason {
                fix(r);
            }
        }
    }
}

/// One reason in the words of an import.
fn words(reason: &str, samples: u32, no_window: bool) -> String {
    let one = reason.contains("the snapshot has no `delta`")
        || reason.contains("the snapshot has no `in_window`")
        || (samples < 2 && reason.contains("the snapshot has no `per_s`"));
    if one {
        let why = if samples < 2 {
            "one sample only: the text holds one reading of these counters (totals since boot or \
             server start), so there is no growth nor rate; paste a second reading taken later"
        } else {
            "this counter was read once only in the text, so there is no growth nor rate"
        };
        return format!("{why} ({reason})");
    }
    if reason.contains("the snapshot has no `per_s`") {
        return format!("no rate: the time between the two readings is not in the text ({reason})");
    }
    if no_window && reason.contains("no matching overload") {
        // A growth divided by a window of 0 s: not a number, and not a finding.
        return format!(
            "no window: a rate needs two readings and the time between them ({reason})"
        );
    }
    reason.replace("the snapshot has no", "the imported text has no")
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn one_sample_is_said_so() {
        let r =
            "`let.x` (tcp.counters.A.delta) could not be evaluated: the snapshot has no `delta`";
        assert!(words(r, 1, true).starts_with("one sample only"));
        assert!(words(r, 2, false).contains("read once only"));
        assert!(words("… the snapshot has no `per_s`", 2, true).starts_with("no rate"));
        assert!(words("… the snapshot has no `per_s`", 1, true).starts_with("one sample only"));
        assert!(words("… no matching overload …", 1, true).starts_with("no window"));
        assert_eq!(
            words("x: the snapshot has no `conntrack`", 1, true),
            "x: the imported text has no `conntrack`"
        );
    }
}
