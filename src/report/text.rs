//! Wording the renderers share: a partly checked rule or an evidence group in a few words,
//! bytes as `free -h` prints them.

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

/// Human-readable bytes with binary units, as `free -h` prints them.
#[must_use]
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_units() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(4_005_180.0 * 1024.0), "3.8 GiB");
        assert_eq!(bytes(1536.0), "1.5 KiB");
    }
}
