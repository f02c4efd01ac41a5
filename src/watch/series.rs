//! Recording the series of a watch, within a fixed memory bound.
//!
//! Bound: at most [`MAX_SAMPLES`] samples per column. When one more would exceed it, the older
//! half of the series is merged by pairs (each pair becomes one sample spanning both, its values
//! the time-weighted mean), so the newest samples keep the full resolution and older ones lose
//! it by halves. Memory is then `columns × MAX_SAMPLES × 16 bytes` whatever the run's length:
//! about 2 MiB for 64 columns. At 1 s, a 1-hour watch keeps the last ~17 minutes at 1 s and
//! the rest at 2 to 4 s.

use crate::snapshot::{Series, SeriesBound};

/// The most samples kept per column.
pub const MAX_SAMPLES: usize = 2048;

/// Columns whose figure is known to have been 0 before they first appear (a listener's queue is
/// given a column when first seen non-empty; a log category's when first counted).
const ZERO_BEFORE: [&str; 2] = ["listeners.", "logs."];

/// A series being recorded.
pub struct Recorder {
    series: Series,
    max: usize,
}

impl Recorder {
    #[must_use]
    pub fn new(every_ms: u64, start_unix_ms: u64) -> Recorder {
        Recorder::with_bound(every_ms, start_unix_ms, MAX_SAMPLES)
    }

    /// A recorder keeping at most `max` samples (at least 4).
    #[must_use]
    pub fn with_bound(every_ms: u64, start_unix_ms: u64, max: usize) -> Recorder {
        let max = max.max(4);
        Recorder {
            series: Series {
                every_ms,
                start_unix_ms,
                bound: SeriesBound {
                    max_samples: max as u32,
                    taken: 0,
                    merges: 0,
                },
                ..Series::default()
            },
            max,
        }
    }

    /// Adds the sample ending `t_ms` after the start. A column not in `values` gets `null` for
    /// it; a new column gets `null` (or 0, see [`ZERO_BEFORE`]) for the samples before.
    /// A sample not later than the last one is dropped: time only goes forward.
    pub fn push(&mut self, t_ms: u64, values: &[(String, f64)]) {
        if self.series.t_ms.last().is_some_and(|&last| t_ms <= last) {
            return;
        }
        let n = self.series.t_ms.len();
        for (name, v) in values {
            if !v.is_finite() {
                continue;
            }
            let col = self.series.columns.entry(name.clone()).or_insert_with(|| {
                let before = ZERO_BEFORE
                    .iter()
                    .any(|p| name.starts_with(p))
                    .then_some(0.0);
                vec![before; n]
            });
            if col.len() == n {
                col.push(Some(*v));
            } else if let Some(last) = col.last_mut() {
                *last = Some(*v);
            }
        }
        for col in self.series.columns.values_mut() {
            if col.len() == n {
                col.push(None);
            }
        }
        self.series.t_ms.push(t_ms);
        self.series.bound.taken += 1;
        if self.series.t_ms.len() > self.max {
            self.merge_older_half();
        }
    }

    /// Samples recorded so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.series.t_ms.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.series.t_ms.is_empty()
    }

    /// The series as recorded.
    #[must_use]
    pub fn finish(self) -> Series {
        self.series
    }

    fn merge_older_half(&mut self) {
        let n = self.series.t_ms.len();
        let half = (n / 2) & !1;
        if half < 2 {
            return;
        }
        let t = &self.series.t_ms;
        let span = |i: usize| {
            let from = if i == 0 { 0 } else { t[i - 1] };
            t[i].saturating_sub(from) as f64
        };
        let spans: Vec<f64> = (0..half).map(span).collect();
        for col in self.series.columns.values_mut() {
            let mut merged = Vec::with_capacity(n - half / 2);
            for pair in 0..half / 2 {
                let (a, b) = (2 * pair, 2 * pair + 1);
                merged.push(weighted(col[a], spans[a], col[b], spans[b]));
            }
            merged.extend_from_slice(&col[half..]);
            *col = merged;
        }
        let mut times = Vec::with_capacity(n - half / 2);
        times.extend((0..half / 2).map(|p| self.series.t_ms[2 * p + 1]));
        times.extend_from_slice(&self.series.t_ms[half..]);
        self.series.t_ms = times;
        self.series.bound.merges += 1;
    }
}

/// The time-weighted mean of two samples; one missing gives the other.
fn weighted(a: Option<f64>, wa: f64, b: Option<f64>, wb: f64) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) if wa + wb > 0.0 => {
            Some(crate::snapshot::round2((x * wa + y * wb) / (wa + wb)))
        }
        (Some(x), Some(y)) => Some(f64::midpoint(x, y)),
        (Some(x), None) | (None, Some(x)) => Some(x),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(name: &str, x: f64) -> Vec<(String, f64)> {
        vec![(name.to_owned(), x)]
    }

    #[test]
    fn columns_stay_aligned_when_figures_come_and_go() {
        let mut r = Recorder::new(1000, 0);
        r.push(1000, &v("cpu.busy_pct", 10.0));
        r.push(2000, &v("mysql.global_status.Threads_running", 3.0));
        r.push(3000, &v("logs.categories[db-pool-exhausted].per_s", 2.0));
        r.push(3000, &v("cpu.busy_pct", 99.0)); // not later: dropped
        let s = r.finish();
        assert_eq!(s.t_ms, vec![1000, 2000, 3000]);
        assert_eq!(s.column("cpu.busy_pct").unwrap(), &[Some(10.0), None, None]);
        assert_eq!(
            s.column("mysql.global_status.Threads_running").unwrap(),
            &[None, Some(3.0), None]
        );
        assert_eq!(
            s.column("logs.categories[db-pool-exhausted].per_s")
                .unwrap(),
            &[Some(0.0), Some(0.0), Some(2.0)]
        );
        assert_eq!(s.bound.taken, 3);
    }

    #[test]
    fn an_hour_at_one_second_stays_within_the_bound() {
        let mut r = Recorder::new(1000, 0);
        for i in 1..=3600u64 {
            r.push(i * 1000, &v("cpu.busy_pct", (i % 100) as f64));
            assert!(r.len() <= MAX_SAMPLES, "{} samples after {i}", r.len());
        }
        let s = r.finish();
        assert_eq!(s.bound.taken, 3600);
        assert!(s.bound.merges >= 1);
        assert_eq!(s.t_ms.last(), Some(&3_600_000));
        assert_eq!(s.columns["cpu.busy_pct"].len(), s.t_ms.len());
        // Time still increases, and the newest samples keep the full resolution.
        assert!(s.t_ms.windows(2).all(|w| w[0] < w[1]));
        let n = s.t_ms.len();
        assert_eq!(s.t_ms[n - 1] - s.t_ms[n - 2], 1000);
    }

    #[test]
    fn merging_keeps_the_time_weighted_mean() {
        let mut r = Recorder::with_bound(1000, 0, 4);
        // Spans 1, 3, 1, 1, 1 s.
        for (t, x) in [
            (1000, 10.0),
            (4000, 30.0),
            (5000, 1.0),
            (6000, 2.0),
            (7000, 3.0),
        ] {
            r.push(t, &v("x", x));
        }
        let s = r.finish();
        assert_eq!(s.t_ms, vec![4000, 5000, 6000, 7000]);
        // (10 × 1 + 30 × 3) / 4 = 25
        assert_eq!(
            s.columns["x"],
            vec![Some(25.0), Some(1.0), Some(2.0), Some(3.0)]
        );
        assert_eq!(s.bound.merges, 1);
    }

    #[test]
    fn a_value_that_is_not_a_number_is_not_recorded() {
        let mut r = Recorder::new(1000, 0);
        r.push(1000, &v("x", f64::NAN));
        r.push(2000, &v("x", 1.0));
        assert_eq!(r.finish().columns["x"], vec![None, Some(1.0)]);
    }
}
