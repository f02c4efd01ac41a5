//! What a watch run's series says: when each finding held, the load plateau, and the key
//! series to draw. Pure: the recording and the rules in, a [`Run`] out (`doctor analyze`
//! replays it from the file).
//!
//! Evaluation plan, kept cheap (the goal: `doctor analyze` of a 10-minute recording within
//! 50 ms; one with 20 idle containers and 50 MySQL sessions went from 91 to about 20 ms of CPU,
//! 36 ms with the 20 containers busy, `benches/watch.sh`). Only the rules
//! whose outcome can differ between windows are evaluated per window: those whose `when` reads
//! a sampled figure that moved, or that fired on the whole run and whose score reads one (a rule
//! whose `when` reads none fires in a window exactly when it fires on the run). Windows are runs
//! of consecutive samples — as many per window as keeps their number within [`MAX_WINDOWS`] (1
//! sample per window up to 1 minute at 1 s, 10 for 10 minutes). Rules that read all of MySQL's
//! ~500 status counters (iterating `mysql.global_status`: building it is most of an
//! evaluation's cost), and those that iterate the containers when a container's sampled CPU
//! moved (each container is built whole, counters and all, and copied at every step of the
//! iteration: 20 busy containers took 121 ms on 60 windows, 41 ms on 10), are evaluated on at
//! most [`COARSE_WINDOWS`] longer windows. A rule that binds a `let` to a path and selects from
//! it reads only what it selects (`view::Aliases`). Each window's
//! view is the run's snapshot with the sampled fields set to their values over the window
//! ([`super::view`]); the sections where the rules read no sampled figure that moves are built
//! once for all windows (`eval::Windows`). Only whether a rule fires and how severely is computed, not
//! its texts. What is left: a list a rule iterates (`containers.containers.map(...)`) counts as
//! read whole, so one sampled field of its elements (each container's CPU) rebuilds the whole
//! list every window; tracking what a comprehension reads of each element (through the lets its
//! elements flow into) would build only that, and let those rules have fine windows again.

use super::plateau;
use super::view::{self, Stats};
use crate::engine::view::Reads;
use crate::engine::{Catalogue, Severity, eval};
use crate::snapshot::{Series, Snapshot, WatchedCommand};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// The most windows the rules are evaluated on.
pub const MAX_WINDOWS: usize = 60;
/// The most windows the rules reading every MySQL status counter are evaluated on.
pub const COARSE_WINDOWS: usize = 10;
/// Points kept of each series for its sparkline.
pub const SPARK_POINTS: usize = 60;
/// Series drawn at most.
const MAX_SPARKS: usize = 24;

/// A watch run as the report shows it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Run {
    /// Samples in the recording, and how many were taken (more when older ones were merged).
    pub samples: usize,
    pub samples_taken: u64,
    pub every_ms: u64,
    /// From the first reading to the last sample.
    pub duration_s: f64,
    /// `command`, `duration` or `signal`.
    pub ended_by: String,
    /// Ended by SIGINT/SIGTERM before the command or the duration: what was recorded so far.
    pub partial: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<WatchedCommand>,
    /// The load plateau, ramp-up and ramp-down cut off; absent when the load series did not
    /// ramp (or was not sampled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plateau: Option<PlateauSpan>,
    /// Samples per window the rules were evaluated on.
    pub samples_per_window: usize,
    /// Rules evaluated per window: those whose outcome can differ from window to window (their
    /// `when` reads a sampled figure that moved, or they fired on the run and their score
    /// reads one).
    pub rules_per_window: Vec<String>,
    /// When each finding held, earliest first.
    pub timeline: Vec<Held>,
    /// Findings of the whole run that held in no single window: they read no sampled figure
    /// (nothing of theirs changes from window to window), or need the whole run's evidence.
    pub whole_run_only: Vec<String>,
    /// The key series, for sparklines and charts.
    pub series: Vec<Spark>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The plateau, in seconds from the run's start.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlateauSpan {
    /// The load series it was found on.
    pub series: String,
    pub from_s: f64,
    pub to_s: f64,
    /// The level the load had to reach (half-way from its lowest to its 90th percentile).
    pub level: f64,
}

/// A finding over time: the first and last window that held it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Held {
    pub id: String,
    /// The most severe it was in a window.
    pub severity: Severity,
    /// Start of the first window that held it, seconds from the run's start.
    pub from_s: f64,
    /// End of the last window that held it.
    pub to_s: f64,
    /// Windows that held it, of `windows` (of `samples_per_window` samples each).
    pub windows_held: usize,
    pub windows: usize,
    pub samples_per_window: usize,
    /// The run in at most [`SPARK_POINTS`] equal slices of time: `█` where it held, `·` not.
    pub strip: String,
}

/// One series, reduced to at most [`SPARK_POINTS`] points (means of consecutive samples).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Spark {
    pub name: String,
    pub min: f64,
    pub max: f64,
    pub last: f64,
    pub points: Vec<Option<f64>>,
}

/// The run's analysis; `None` when the snapshot has no series.
#[must_use]
pub fn analyze(catalogue: &Catalogue, snap: &Snapshot, fired_on_run: &[String]) -> Option<Run> {
    let series = snap.series.as_ref()?;
    let n = series.len();
    let t_s = |i: usize| series.t_ms.get(i).map_or(0.0, |t| *t as f64 / 1000.0);
    let start_s = |i: usize| if i == 0 { 0.0 } else { t_s(i - 1) };
    let per_window = n.div_ceil(MAX_WINDOWS).max(1);

    // A column that never changed cannot make one window differ from another: the rules that
    // read only such columns decide the same in every window, as the whole run shows.
    let paths: Vec<Vec<&str>> = series
        .columns
        .iter()
        .filter(|(_, v)| changes(v))
        .map(|(c, _)| view::path(c))
        .collect();
    let touches = |reads: &Reads| paths.iter().any(|p| reads.touches(p));
    let heavy = |reads: &Reads| {
        reads.whole_at(&["mysql", "global_status"]) || reads.whole_at(&["containers", "containers"])
    };
    // Whether a window can differ: its `when` reads a column that moved, or it fired on the
    // whole run and its score reads one (its severity may differ). A rule whose `when` reads
    // none and that did not fire on the run fires in no window: not evaluated (a recording
    // with 20 containers spent a third of its analysis on container-cpu-throttled so).
    let differs = |id: &str, decides: &Reads, holds: &Reads| {
        touches(holds) || (fired_on_run.iter().any(|f| f == id) && touches(decides))
    };
    let fine = eval::Subset::of_rules(catalogue, &|id, d, h| differs(id, d, h) && !heavy(d));
    let coarse = eval::Subset::of_rules(catalogue, &|id, d, h| differs(id, d, h) && heavy(d));
    let mut view_snap = snap.clone();
    view_snap.series = None;
    let mut held: BTreeMap<String, Held> = BTreeMap::new();
    let mut spans: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for (subset, per) in [
        (&fine, per_window),
        (&coarse, n.div_ceil(COARSE_WINDOWS).max(1)),
    ] {
        hold(
            catalogue,
            subset,
            series,
            per,
            &mut view_snap,
            &mut held,
            &mut spans,
        );
    }
    let duration = t_s(n.saturating_sub(1));
    // The strip's slices: runs of consecutive samples, at most SPARK_POINTS of them.
    let per_slot = n.div_ceil(SPARK_POINTS).max(1);
    let slots: Vec<(f64, f64)> = (0..n)
        .step_by(per_slot)
        .map(|a| (start_s(a), t_s((a + per_slot).min(n) - 1)))
        .collect();
    for (id, h) in &mut held {
        h.strip = strip(spans.get(id).map_or(&[][..], Vec::as_slice), &slots);
    }
    let mut timeline: Vec<Held> = held.into_values().collect();
    timeline.sort_by(|a, b| a.from_s.total_cmp(&b.from_s).then(a.id.cmp(&b.id)));
    let per_window_ids: Vec<String> = fine
        .ids(catalogue)
        .chain(coarse.ids(catalogue))
        .map(str::to_owned)
        .collect();
    let whole_run_only = fired_on_run
        .iter()
        .filter(|id| !timeline.iter().any(|h| &h.id == *id))
        .cloned()
        .collect();

    // What each finding of the timeline read to decide and when it held, earliest finding
    // first: the series it saw move are drawn right after the load's.
    let read_by: Vec<(Reads, (f64, f64))> = timeline
        .iter()
        .filter_map(|h| {
            Some((
                eval::Subset::reads_of(catalogue, &h.id)?,
                (h.from_s, h.to_s),
            ))
        })
        .collect();
    let plateau = plateau::of(series).map(|p| PlateauSpan {
        series: p.series.to_owned(),
        from_s: start_s(p.from),
        to_s: t_s(p.to),
        level: p.level,
    });
    let load_span = plateau.as_ref().map(|p| (p.from_s, p.to_s));
    Some(Run {
        samples: n,
        samples_taken: series.bound.taken,
        every_ms: series.every_ms,
        duration_s: duration,
        ended_by: series.ended_by.clone(),
        partial: series.ended_by == "signal",
        command: series.command.clone(),
        plateau,
        samples_per_window: per_window,
        rules_per_window: per_window_ids,
        timeline,
        whole_run_only,
        series: sparks(series, &read_by, load_span),
        notes: series.notes.clone(),
    })
}

/// Whether a column holds two different values.
fn changes(values: &[Option<f64>]) -> bool {
    let mut present = values.iter().flatten();
    present
        .next()
        .is_some_and(|first| present.any(|v| v.total_cmp(first).is_ne()))
}

/// Evaluates `subset` on windows of `per` consecutive samples, and records in `held` and
/// `spans` when each rule fired.
fn hold(
    catalogue: &Catalogue,
    subset: &eval::Subset,
    series: &Series,
    per: usize,
    view_snap: &mut Snapshot,
    held: &mut BTreeMap<String, Held>,
    spans: &mut BTreeMap<String, Vec<(f64, f64)>>,
) {
    let n = series.len();
    if subset.is_empty() || n == 0 {
        return;
    }
    let t_s = |i: usize| series.t_ms.get(i).map_or(0.0, |t| *t as f64 / 1000.0);
    let start_s = |i: usize| if i == 0 { 0.0 } else { t_s(i - 1) };
    let windows = n.div_ceil(per);
    // What a window changes of what these rules read: the sections where they read a sampled
    // column, `cpu` (its idle share is settled from the samples) and `window` (its length).
    // The rest is built once for all windows.
    let sections = changing_sections(series, subset);
    let mut eval = eval::Windows::new(catalogue, subset, &|name| sections.contains(&name));
    for a in (0..n).step_by(per) {
        let b = (a + per).min(n);
        let (from, to) = (start_s(a), t_s(b - 1));
        let seconds = (to - from).max(0.001);
        let columns = series.columns.iter().filter_map(|(name, values)| {
            Stats::of(&values[a.min(values.len())..b.min(values.len())])
                .map(|stats| (name.as_str(), stats))
        });
        view::set_window(view_snap, columns, seconds);
        for (id, severity) in eval.fired(view_snap) {
            let h = held.entry(id.clone()).or_insert_with(|| Held {
                id: id.clone(),
                severity,
                from_s: from,
                to_s: to,
                windows_held: 0,
                windows,
                samples_per_window: per,
                strip: String::new(),
            });
            h.severity = h.severity.max(severity);
            h.to_s = to;
            h.windows_held += 1;
            spans.entry(id).or_default().push((from, to));
        }
    }
}

/// The top-level sections in which `subset` reads a column of `series` that moves, with `cpu`
/// and `window`, which every window sets. A column that never changes has the same value in
/// every window, the first one's, on which the other sections are built.
fn changing_sections<'s>(series: &'s Series, subset: &eval::Subset) -> Vec<&'s str> {
    series
        .columns
        .iter()
        .filter(|(_, v)| changes(v))
        .map(|(c, _)| view::path(c))
        .filter(|p| subset.reads().touches(p))
        .filter_map(|p| p.first().copied())
        .chain(["cpu", "window"])
        .collect()
}

/// One character per slice of the run (`slots`, each from its first sample's start to its
/// last sample's end): `█` for a slice that overlaps a span where the finding held, `·`
/// otherwise.
fn strip(spans: &[(f64, f64)], slots: &[(f64, f64)]) -> String {
    slots
        .iter()
        .map(|&(a, b)| {
            // Touching at an end is not overlapping.
            if spans
                .iter()
                .any(|&(from, to)| from < b - 1e-9 && to > a + 1e-9)
            {
                '█'
            } else {
                '·'
            }
        })
        .collect()
}

/// A series counts as moving with a span when the difference of its means inside and outside
/// the span is at least this part of its whole range.
const MOVED: f64 = 0.25;

/// The series worth drawing, in order of interest: the load series; then those a finding of
/// the timeline read to decide and that moved with it (`read_by`: what each read and when it
/// held, earliest finding first; most moved first); then the others, those that moved most
/// with the load plateau first, else by area: CPU, TCP, listeners, disks, MySQL, containers,
/// logs. So a chart capped to the first few shows the load and what the findings saw. A series
/// that stayed at 0 is left out.
fn sparks(
    series: &Series,
    read_by: &[(Reads, (f64, f64))],
    plateau: Option<(f64, f64)>,
) -> Vec<Spark> {
    let area = |name: &str| -> usize {
        [
            "cpu.",
            "tcp.",
            "listeners.",
            "disks.",
            "mysql.",
            "containers.",
            "logs.",
        ]
        .iter()
        .position(|p| name.starts_with(p))
        .unwrap_or(7)
    };
    // Moved parts in hundredths, most first: a total order on integers.
    let rank = |m: f64| 100 - (m * 100.0).round() as i64;
    let order = |name: &str| -> (usize, usize, i64, usize) {
        if let Some(i) = plateau::LOAD_SERIES.iter().position(|l| *l == name) {
            return (0, i, 0, 0);
        }
        let path = view::path(name);
        let values = &series.columns[name];
        let finding = read_by.iter().enumerate().find_map(|(i, (reads, span))| {
            let m = moved(series, values, *span);
            (reads.touches(&path) && m >= MOVED).then_some((i, m))
        });
        if let Some((i, m)) = finding {
            return (1, i, rank(m), area(name));
        }
        let m = plateau.map_or(0.0, |span| moved(series, values, span));
        (2, 0, rank(m), area(name))
    };
    let mut names: Vec<&String> = series
        .columns
        .iter()
        .filter(|(_, v)| v.iter().flatten().any(|x| *x != 0.0))
        .map(|(k, _)| k)
        .collect();
    names.sort_by_key(|n| (order(n), n.as_str()));
    names
        .into_iter()
        .take(MAX_SPARKS)
        .filter_map(|name| {
            let values = &series.columns[name];
            let all = Stats::of(values)?;
            let min = values
                .iter()
                .flatten()
                .copied()
                .fold(f64::INFINITY, f64::min);
            Some(Spark {
                name: name.clone(),
                min,
                max: all.max,
                last: all.last,
                points: reduce(values, SPARK_POINTS),
            })
        })
        .collect()
}

/// How much `values` moved with the time span `from_s..to_s`: the difference of its means over
/// the samples inside the span and those outside, as a part of its range (0 when it has no
/// range, or no sample inside or outside).
fn moved(series: &Series, values: &[Option<f64>], (from_s, to_s): (f64, f64)) -> f64 {
    let t_s = |i: usize| series.t_ms.get(i).map_or(0.0, |t| *t as f64 / 1000.0);
    let (mut inside, mut outside) = ((0.0, 0.0), (0.0, 0.0));
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (i, v) in values.iter().enumerate() {
        let Some(v) = *v else { continue };
        let start = if i == 0 { 0.0 } else { t_s(i - 1) };
        // A sample inside the span covers time inside it only (the span's ends are sample ends).
        let side = if start >= from_s - 1e-6 && t_s(i) <= to_s + 1e-6 {
            &mut inside
        } else {
            &mut outside
        };
        side.0 += v;
        side.1 += 1.0;
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if inside.1 == 0.0 || outside.1 == 0.0 || hi <= lo {
        return 0.0;
    }
    ((inside.0 / inside.1 - outside.0 / outside.1).abs() / (hi - lo)).min(1.0)
}

/// At most `points` values: means of consecutive runs of samples.
#[must_use]
pub fn reduce(values: &[Option<f64>], points: usize) -> Vec<Option<f64>> {
    let per = values.len().div_ceil(points.max(1)).max(1);
    values
        .chunks(per)
        .map(|c| Stats::of(c).map(|s| s.mean))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeping the sections a window does not change from one window to the next decides as a
    /// fresh evaluation of every window does: every rule, on every sample of a real recording
    /// (the k6 run of `tests/watch/pool-ramp.json`), and one rule that reads what no column
    /// samples (the processes) alone, so that part is only ever built once.
    #[test]
    fn windows_kept_between_views_decide_as_fresh_ones() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/watch/pool-ramp.json");
        let snap = crate::snapshot::load(&path).unwrap();
        let catalogue = Catalogue::load(None).unwrap();
        let series = snap.series.clone().unwrap();
        let mut fired_somewhere = 0;
        for subset in [
            eval::Subset::of(&catalogue, &|_| true),
            eval::Subset::rule(&catalogue, "app-single-core-bound").unwrap(),
        ] {
            let sections = changing_sections(&series, &subset);
            let mut kept = eval::Windows::new(&catalogue, &subset, &|n| sections.contains(&n));
            let mut view_snap = snap.clone();
            view_snap.series = None;
            for i in 0..series.len() {
                let columns = series.columns.iter().filter_map(|(name, values)| {
                    Stats::of(&values[i..=i]).map(|stats| (name.as_str(), stats))
                });
                view::set_window(&mut view_snap, columns, 1.0);
                let fresh = eval::fired(&catalogue, &subset, &view_snap);
                assert_eq!(kept.fired(&view_snap), fresh, "sample {i}");
                fired_somewhere += fresh.len();
            }
        }
        assert!(
            fired_somewhere > 0,
            "the recording's pool errors fire in some window"
        );
    }

    #[test]
    fn strips_slice_the_run_by_time() {
        let seconds: Vec<(f64, f64)> = (0..4).map(|i| (f64::from(i), f64::from(i + 1))).collect();
        assert_eq!(strip(&[(1.0, 3.0)], &seconds), "·██·");
        // A coarse window marks every slice it covers.
        let tens: Vec<(f64, f64)> = (0..60)
            .map(|i| (f64::from(i) * 10.0, f64::from(i + 1) * 10.0))
            .collect();
        assert_eq!(
            strip(&[(0.0, 50.0)], &tens),
            format!("{}{}", "█".repeat(5), "·".repeat(55))
        );
        assert_eq!(strip(&[], &seconds[..3]), "···");
        assert_eq!(strip(&[(0.0, 1.0)], &[]), "");
    }

    #[test]
    fn a_column_changes_when_two_values_differ() {
        assert!(changes(&[Some(0.0), None, Some(1.0)]));
        assert!(!changes(&[Some(2.0), None, Some(2.0)]));
        assert!(!changes(&[None, None]));
    }

    #[test]
    fn a_series_moves_with_a_span_when_its_means_differ() {
        let series = Series {
            t_ms: (1..=6).map(|i| i * 1000).collect(),
            ..Series::default()
        };
        let v = |xs: [f64; 6]| xs.map(Some).to_vec();
        // 0 outside, 10 inside 2–4 s: moved by its whole range.
        let step = v([0.0, 0.0, 10.0, 10.0, 0.0, 0.0]);
        assert!((moved(&series, &step, (2.0, 4.0)) - 1.0).abs() < 1e-12);
        // A spike outside the span: moved against it by a quarter.
        let spike = v([0.0, 0.0, 0.0, 0.0, 0.0, 8.0]);
        assert!((moved(&series, &spike, (2.0, 4.0)) - 0.25).abs() < 1e-12);
        assert_eq!(moved(&series, &v([3.0; 6]), (2.0, 4.0)), 0.0);
        assert_eq!(moved(&series, &step, (0.0, 6.0)), 0.0);
    }

    #[test]
    fn reduce_keeps_means() {
        let v: Vec<Option<f64>> = (0..10).map(|i| Some(f64::from(i))).collect();
        assert_eq!(
            reduce(&v, 5),
            vec![Some(0.5), Some(2.5), Some(4.5), Some(6.5), Some(8.5)]
        );
        assert_eq!(reduce(&v[..3], 60).len(), 3);
    }
}
