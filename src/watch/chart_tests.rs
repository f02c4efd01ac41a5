//! Tests of `watch::chart`: the reduction, the scales, escaping, the cap and writing.

use super::*;
use std::path::Path;

#[test]
fn reduce_weighs_samples_by_the_time_they_cover() {
    // 1 s at 10, then 3 s at 2: the mean over 4 s is 4, not 6.
    let t = [1000, 4000];
    let v = [Some(10.0), Some(2.0)];
    assert_eq!(reduce(&t, &v, 1), vec![Some((2.0, 4.0))]);
    // Short enough: every sample kept, at the middle of its own span.
    assert_eq!(
        reduce(&t, &v, 600),
        vec![Some((0.5, 10.0)), Some((2.5, 2.0))]
    );
    // A sample not read weighs nothing; a run of none is a gap.
    let v = [None, Some(2.0)];
    assert_eq!(reduce(&t, &v, 1), vec![Some((2.0, 2.0))]);
    assert_eq!(reduce(&t, &[None, None], 1), vec![None]);
}

#[test]
fn gaps_split_the_line() {
    let p = |x: f64| Some((x, x));
    assert_eq!(
        segments(&[None, p(1.0), p(2.0), None, None, p(5.0), None]),
        vec![vec![(1.0, 1.0), (2.0, 2.0)], vec![(5.0, 5.0)]]
    );
    assert!(segments(&[None]).is_empty());
}

#[test]
fn reduce_keeps_at_most_max_points() {
    let t: Vec<u64> = (1..=3600).map(|i| i * 1000).collect();
    let v: Vec<Option<f64>> = (0..3600).map(|i| Some(f64::from(i % 2))).collect();
    let points = reduce(&t, &v, MAX_POINTS);
    assert_eq!(points.len(), 600);
    // Six 1 s samples alternating 0 and 1 per point.
    let points: Vec<(f64, f64)> = points.into_iter().flatten().collect();
    assert!(points.iter().all(|(_, y)| (*y - 0.5).abs() < 1e-12));
    assert_eq!(points[0].0, 3.0);
    assert_eq!(points[599].0, 3597.0);
}

#[test]
fn y_ranges_start_at_zero_unless_the_values_move_little_above_it() {
    assert_eq!(y_range(3.0, 21.0), (0.0, 21.0 + 21.0 * 0.08));
    // Threads_connected 4–6: a third of its highest, drawn from 0.
    assert_eq!(y_range(4.0, 6.0), (0.0, 6.0 + 6.0 * 0.08));
    let (lo, hi) = y_range(4016.0, 4076.0);
    assert_eq!(lo, 4016.0);
    assert!((hi - (4076.0 + 60.0 * 0.08)).abs() < 1e-9);
    assert_eq!(y_range(0.0, 0.0), (-1.0, 1.0));
    assert_eq!(y_range(-2.0, 5.0), (-2.0, 5.0 + 7.0 * 0.08));
}

#[test]
fn ticks_are_round_and_at_most_about_twelve() {
    let t = ticks(21.1);
    assert_eq!(
        t.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>(),
        [
            "0 s", "2 s", "4 s", "6 s", "8 s", "10 s", "12 s", "14 s", "16 s", "18 s", "20 s"
        ]
    );
    assert_eq!(ticks(600.0).len(), 11);
    assert_eq!(ticks(3600.0)[1].0, 300.0);
    assert_eq!(ticks(0.001).len(), 1);
}

#[test]
fn units_come_from_the_name() {
    assert_eq!(unit("cpu.busy_pct"), Some("%"));
    assert_eq!(
        unit("tcp.counters.TcpExtListenOverflows.per_s"),
        Some("per s")
    );
    assert_eq!(unit("disks.devices[vda].r_await_ms"), Some("ms"));
    assert_eq!(unit("tcp.states.TIME_WAIT"), None);
}

/// A snapshot without series, to give one.
fn healthy() -> Snapshot {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/healthy.json");
    crate::snapshot::load(&path).expect("the fixture loads")
}

fn recording(names: &[&str]) -> (Snapshot, Run) {
    let t_ms: Vec<u64> = (1..=30).map(|i| i * 1000).collect();
    let mut series = Series {
        every_ms: 1000,
        t_ms,
        ended_by: "command".to_owned(),
        ..Series::default()
    };
    for (k, name) in names.iter().enumerate() {
        let v = (0..30)
            .map(|i| Some(f64::from(i * (k as i32 + 1))))
            .collect();
        series.columns.insert((*name).to_owned(), v);
    }
    let mut snap = healthy();
    snap.series = Some(series);
    let catalogue =
        crate::engine::Catalogue::load_with(None, &crate::engine::compile::LogNames::builtin())
            .expect("the built-in rules load");
    let run = super::super::timeline::analyze(&catalogue, &snap, &[]).expect("a series");
    (snap, run)
}

#[test]
fn names_are_escaped_and_the_document_parses() {
    let (snap, run) = recording(&["listeners.sockets[<a & \"b\">].queue"]);
    let svg = svg(&snap, &run).expect("drawn");
    assert!(svg.contains("listeners.sockets[&lt;a &amp; &quot;b&quot;&gt;].queue"));
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .count(),
        1
    );
    assert!(
        doc.descendants()
            .any(|n| n.text().is_some_and(|t| t.contains("no finding held")))
    );
}

#[test]
fn panels_are_capped_and_the_rest_named() {
    let names: Vec<String> = (0..11).map(|i| format!("x.s{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (snap, run) = recording(&refs);
    assert_eq!(run.series.len(), 11);
    let svg = svg(&snap, &run).expect("drawn");
    assert_eq!(svg.matches("<polyline").count(), MAX_PANELS);
    assert!(svg.contains("Not drawn (8 panels at most): x.s08, x.s09, x.s10."));
}

#[test]
fn a_snapshot_without_series_has_no_chart() {
    let (_, run) = recording(&["cpu.busy_pct"]);
    let e = svg(&healthy(), &run).unwrap_err();
    assert!(matches!(e, ChartError::NoSeries));
}

#[test]
fn write_replaces_the_file_and_names_the_path_when_it_cannot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.svg");
    write(&path, "<svg/>").expect("written");
    write(&path, "<svg></svg>").expect("replaced");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "<svg></svg>");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let missing = dir.path().join("no/such/dir/c.svg");
    let e = write(&missing, "<svg/>").unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("cannot write the chart to {}:", missing.display())),
        "{e}"
    );
}
