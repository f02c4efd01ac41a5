//! The load plateau of a run: the part between the ramp-up and the ramp-down, where the load
//! test held its load. clinic.js doctor analyses only such an interval for the same reason: a
//! run's first and last seconds (the load starting, stopping) look like a different server.
//!
//! Method: on a load series (see [`LOAD_SERIES`]), the level half-way between its lowest value
//! and its 90th percentile (robust to a few spikes); the plateau runs from the first sample at
//! or above that level to the last. A series that barely moves (90th percentile within 10 % of
//! its lowest value, or all zero) has no ramp to cut: no plateau is claimed.

use crate::snapshot::Series;

/// The series a plateau is looked for on, in order: requests reaching MySQL, established TCP
/// connections, CPU. The first with a plateau is used.
pub const LOAD_SERIES: [&str; 3] = [
    "mysql.global_status.Questions.per_s",
    "tcp.counters.TcpCurrEstab",
    "cpu.busy_pct",
];

/// The plateau found: samples `from..=to` of `series`.
#[derive(Debug, Clone, PartialEq)]
pub struct Plateau {
    pub series: &'static str,
    pub from: usize,
    pub to: usize,
    /// The level the load had to reach.
    pub level: f64,
}

/// The plateau on the first load series that has one.
#[must_use]
pub fn of(series: &Series) -> Option<Plateau> {
    LOAD_SERIES.iter().find_map(|name| {
        let (from, to, level) = find(series.column(name)?)?;
        Some(Plateau {
            series: name,
            from,
            to,
            level,
        })
    })
}

/// `(from, to, level)` of the plateau of `values`, if it has a ramp to cut.
#[must_use]
pub fn find(values: &[Option<f64>]) -> Option<(usize, usize, f64)> {
    let mut present: Vec<f64> = values.iter().flatten().copied().collect();
    if present.len() < 5 {
        return None;
    }
    present.sort_by(f64::total_cmp);
    let lo = present[0];
    let hi = present[(present.len() - 1) * 9 / 10];
    if hi <= 0.0 || hi - lo <= 0.1 * hi.abs() {
        return None;
    }
    let level = lo + (hi - lo) / 2.0;
    let held = |v: &Option<f64>| v.is_some_and(|x| x >= level);
    let from = values.iter().position(held)?;
    let to = values.iter().rposition(held)?;
    Some((from, to, crate::snapshot::round2(level)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(v: &[f64]) -> Vec<Option<f64>> {
        v.iter().copied().map(Some).collect()
    }

    #[test]
    fn ramp_up_and_down_are_cut_off() {
        let load = some(&[
            0.0, 2.0, 8.0, 19.0, 20.0, 21.0, 20.0, 19.5, 20.0, 9.0, 1.0, 0.0,
        ]);
        assert_eq!(find(&load), Some((3, 8, 10.0)));
    }

    #[test]
    fn a_spike_does_not_set_the_level() {
        // One 500 among twenties: the 90th percentile is still about 20.
        let mut load = vec![0.0, 0.0];
        load.extend([20.0; 16]);
        load[10] = 500.0;
        load.extend([0.0, 0.0]);
        assert_eq!(find(&some(&load)).map(|(f, t, _)| (f, t)), Some((2, 17)));
    }

    #[test]
    fn a_flat_or_idle_series_has_no_plateau() {
        assert_eq!(find(&some(&[20.0, 21.0, 20.5, 20.0, 19.5, 20.0])), None);
        assert_eq!(find(&some(&[0.0; 10])), None);
        assert_eq!(find(&some(&[1.0, 5.0])), None, "too few samples");
    }

    #[test]
    fn missing_samples_are_skipped() {
        let mut load = some(&[0.0, 0.0, 10.0, 10.0, 10.0, 10.0, 0.0]);
        load[3] = None;
        assert_eq!(find(&load), Some((2, 5, 5.0)));
    }

    #[test]
    fn the_first_load_series_with_a_plateau_is_used() {
        let mut s = Series {
            t_ms: (1..=8).map(|i| i * 1000).collect(),
            ..Series::default()
        };
        s.columns.insert(
            "mysql.global_status.Questions.per_s".into(),
            some(&[5.0; 8]), // flat: no ramp
        );
        s.columns.insert(
            "tcp.counters.TcpCurrEstab".into(),
            some(&[1.0, 1.0, 21.0, 21.0, 21.0, 21.0, 1.0, 1.0]),
        );
        let p = of(&s).unwrap();
        assert_eq!(
            (p.series, p.from, p.to),
            ("tcp.counters.TcpCurrEstab", 2, 5)
        );
    }
}
