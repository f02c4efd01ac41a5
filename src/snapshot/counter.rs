//! Counters read at both ends of the sampling window.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A kernel or server counter read at the start and the end of the window.
///
/// `delta` and `per_s` are absent when the counter went backwards (a reboot, a server restart, a
/// wrap) or the window has no length, so a reset never shows as a negative or huge rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Counter {
    /// The value at the end of the window (the total since boot or server start).
    pub total: i64,
    /// Growth over the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<i64>,
    /// Growth per second over the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_s: Option<f64>,
}

impl Counter {
    /// Builds the counter from its two readings over a window of `seconds`.
    #[must_use]
    pub fn between(start: i64, end: i64, seconds: f64) -> Self {
        let delta = end.checked_sub(start).filter(|d| *d >= 0);
        Counter {
            total: end,
            delta,
            per_s: delta.and_then(|d| rate(d as f64, seconds)),
        }
    }

    /// A value that is only known at the end of the window (a gauge or a new counter).
    #[must_use]
    pub fn gauge(value: i64) -> Self {
        Counter {
            total: value,
            delta: None,
            per_s: None,
        }
    }
}

/// `amount / seconds`, or `None` for a window with no length, so no NaN or infinity is ever
/// written into a snapshot.
#[must_use]
pub fn rate(amount: f64, seconds: f64) -> Option<f64> {
    if seconds > 0.0 && amount.is_finite() {
        Some(round2(amount / seconds))
    } else {
        None
    }
}

/// `part / whole * 100`, or `None` when `whole` is zero.
#[must_use]
pub fn pct(part: f64, whole: f64) -> Option<f64> {
    if whole > 0.0 && part.is_finite() {
        Some(round2(part / whole * 100.0))
    } else {
        None
    }
}

/// Two decimals are enough for every figure doctor shows and keep snapshots diff-friendly.
#[must_use]
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_rates_over_the_window() {
        let c = Counter::between(100, 3108, 5.0);
        assert_eq!(
            c,
            Counter {
                total: 3108,
                delta: Some(3008),
                per_s: Some(601.6)
            }
        );
    }

    #[test]
    fn counter_that_went_backwards_has_no_rate() {
        let c = Counter::between(1_000_000, 12, 5.0);
        assert_eq!(c.delta, None);
        assert_eq!(c.per_s, None);
        assert_eq!(c.total, 12);
    }

    #[test]
    fn zero_window_has_no_rate() {
        assert_eq!(Counter::between(1, 2, 0.0).per_s, None);
        assert_eq!(pct(1.0, 0.0), None);
        assert_eq!(rate(f64::NAN, 1.0), None);
    }
}
