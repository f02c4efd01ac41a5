//! What `doctor analyze` shows of a `doctor watch` recording: the run section (when each
//! finding held, the load plateau, the sparklines) in the table, Markdown and JSON reports, as
//! insta snapshots. The recording, `tests/watch/pool-ramp.json`, is a real run of
//! `tests/watch_live.rs`'s ramp (`doctor watch --log app.log --mysql ... -- k6 run ramp.js`
//! against the scenario lab's pool app).

use doctor::engine::Catalogue;
use doctor::report::{self, Color, Report};
use doctor::snapshot::Snapshot;
use std::path::PathBuf;

fn recording() -> Snapshot {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/watch/pool-ramp.json");
    doctor::snapshot::load(&path).expect("the recording loads")
}

fn report() -> Report {
    Report::new(&recording(), &Catalogue::load(None).unwrap())
}

#[test]
fn table() {
    let mut out = Vec::new();
    report::render_table(&report(), Color::Never, Some(120), &mut out).unwrap();
    insta::assert_snapshot!("watch__pool-ramp.table", String::from_utf8(out).unwrap());
}

#[test]
fn markdown() {
    let mut out = Vec::new();
    report::render_markdown(&report(), &mut out).unwrap();
    insta::assert_snapshot!("watch__pool-ramp.md", String::from_utf8(out).unwrap());
}

#[test]
fn json_run() {
    let value = serde_json::to_value(report()).unwrap();
    insta::assert_json_snapshot!("watch__pool-ramp.run.json", value["run"]);
}

/// The timeline agrees with the series it was read from: the pool finding holds exactly in
/// the windows where the app's log gained pool-exhausted lines.
#[test]
fn the_pool_finding_holds_where_the_log_counted_refusals() {
    let snap = recording();
    let series = snap.series.as_ref().unwrap();
    let lines = series
        .column("logs.categories[db-pool-exhausted].per_s")
        .unwrap();
    let with_lines: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].is_some_and(|v| v > 0.0))
        .collect();
    let report = report();
    let run = report.run.as_ref().unwrap();
    assert_eq!(run.samples_per_window, 1);
    let held = run
        .timeline
        .iter()
        .find(|h| h.id == "db-pool-exhausted")
        .unwrap();
    let strip: Vec<usize> = held
        .strip
        .chars()
        .enumerate()
        .filter(|(_, c)| *c == '█')
        .map(|(i, _)| i)
        .collect();
    assert_eq!(strip, with_lines);
    let t = |i: usize| series.t_ms[i] as f64 / 1000.0;
    assert!(
        (held.from_s - t(with_lines[0] - 1)).abs() < 1e-9,
        "{}",
        held.from_s
    );
    assert!(
        (held.to_s - t(*with_lines.last().unwrap())).abs() < 1e-9,
        "{}",
        held.to_s
    );
}

/// A snapshot without `series` (every fixture, every `check`) has no run section.
#[test]
fn a_snapshot_without_series_has_no_run() {
    let mut snap = recording();
    snap.series = None;
    let r = Report::new(&snap, &Catalogue::load(None).unwrap());
    assert!(r.run.is_none());
    let json = serde_json::to_value(&r).unwrap();
    assert!(json.get("run").is_none());
}
