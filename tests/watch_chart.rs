//! `--chart` on a real recording (tests/watch/pool-ramp.json: k6 ramping a Node app whose
//! MySQL pool runs out): the SVG is well-formed, draws one line per series the run lists to
//! draw, marks every finding of the timeline over the time it held (checked against the time
//! axis the chart itself labels), and renders to a PNG with rsvg-convert (librsvg2-bin), the
//! renderer a person's viewer stands for.
//!
//! `DOCTOR_CHART_PNG=path` keeps the rendered PNG there, to be looked at.

use roxmltree::{Document, Node};
use std::path::Path;
use std::process::Command;

const RECORDING: &str = "tests/watch/pool-ramp.json";

fn doctor() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_doctor"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    c
}

/// The run as `analyze --format json` reports it, read without the chart.
fn run() -> serde_json::Value {
    let out = doctor()
        .args([
            "analyze",
            RECORDING,
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["run"].clone()
}

fn chart(dir: &Path) -> String {
    let path = dir.join("x.svg");
    let out = doctor()
        .args(["analyze", RECORDING, "--fail-on", "never", "--chart"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&path).unwrap()
}

fn num(n: Node, attr: &str) -> f64 {
    n.attribute(attr)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{attr} of {n:?}"))
}

fn texts<'a>(doc: &'a Document) -> Vec<(Node<'a, 'a>, String)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| (n, n.text().unwrap_or("").trim().to_owned()))
        .collect()
}

/// Seconds → pixels, from the labels of the time axis ("0 s", "2 s", ...): the first and last
/// ticks fix the scale. Returns the mapping's offset and pixels per second.
fn time_axis(doc: &Document) -> (f64, f64) {
    let ticks: Vec<(f64, f64)> = texts(doc)
        .into_iter()
        .filter_map(|(n, t)| Some((t.strip_suffix(" s")?.parse::<f64>().ok()?, num(n, "x"))))
        .collect();
    assert!(ticks.len() >= 3, "time axis labels: {ticks:?}");
    let ((t0, x0), (t1, x1)) = (ticks[0], ticks[ticks.len() - 1]);
    let per_s = (x1 - x0) / (t1 - t0);
    assert!(per_s > 0.0, "{ticks:?}");
    for (t, x) in &ticks {
        assert!(
            (x0 + (t - t0) * per_s - x).abs() <= 1.0,
            "uneven axis: {ticks:?}"
        );
    }
    (x0 - t0 * per_s, per_s)
}

/// The band on the row of the label that starts with `label`: a rectangle whose height spans
/// the label's middle, narrower than the chart (not a panel or the background).
fn band<'a>(doc: &'a Document, label: &str) -> Vec<Node<'a, 'a>> {
    let svg_width = num(doc.root_element(), "width");
    let (text, content) = texts(doc)
        .into_iter()
        .find(|(_, t)| t.starts_with(label))
        .unwrap_or_else(|| panic!("no label starting {label:?}"));
    let y = num(text, "y");
    let bands: Vec<Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect"))
        .filter(|r| {
            let (ry, h) = (num(*r, "y"), num(*r, "height"));
            ry <= y && y <= ry + h && h < 40.0 && num(*r, "width") < svg_width * 0.9
        })
        .collect();
    assert!(!bands.is_empty(), "no band on the row of {content:?}");
    bands
}

#[test]
fn the_chart_draws_one_line_per_series_the_run_lists() {
    let dir = tempfile::tempdir().unwrap();
    let svg = chart(dir.path());
    let run = run();
    let doc = Document::parse(&svg).expect("the chart is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let labels = texts(&doc);

    // The series: the run's in order, as many as drawn; those left out named in the caption.
    let listed: Vec<&str> = run["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    // The caption is drawn last; its lines may wrap between names.
    let left_out: Vec<String> = labels
        .iter()
        .position(|(_, t)| t.contains("panels at most):"))
        .map(|i| {
            let caption: Vec<&str> = labels[i..].iter().map(|(_, t)| t.as_str()).collect();
            let caption = caption.join(" ");
            let names = caption.split_once("):").unwrap().1.trim();
            names
                .strip_suffix('.')
                .unwrap()
                .split(',')
                .map(|n| n.trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let panel_of = |name: &str| {
        labels
            .iter()
            .position(|(_, t)| t.starts_with(&format!("{name} ")))
    };
    let drawn: Vec<&str> = listed
        .iter()
        .copied()
        .filter(|n| panel_of(n).is_some())
        .collect();
    assert!(drawn.len() >= 4, "drawn: {drawn:?} of {listed:?}");
    assert_eq!(drawn, listed[..drawn.len()], "panels in the run's order");
    assert_eq!(
        left_out,
        listed[drawn.len()..],
        "the caption names exactly the series not drawn"
    );
    for name in [
        "mysql.global_status.Questions.per_s",
        "logs.categories[db-pool-exhausted].per_s",
    ] {
        assert!(drawn.contains(&name), "{name} not drawn: {drawn:?}");
    }
    let polylines: Vec<Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .collect();
    let mut colours: Vec<&str> = polylines
        .iter()
        .map(|p| p.attribute("stroke").unwrap())
        .collect();
    colours.sort_unstable();
    colours.dedup();
    assert_eq!(
        colours.len(),
        drawn.len(),
        "one line (colour) per drawn series: {colours:?}"
    );
    assert!(polylines.len() >= drawn.len());
}

#[test]
fn the_chart_marks_each_finding_over_the_time_it_held() {
    let dir = tempfile::tempdir().unwrap();
    let svg = chart(dir.path());
    let run = run();
    let doc = Document::parse(&svg).expect("the chart is well-formed XML");
    // Each finding of the timeline labelled with its severity, its band over from_s..to_s;
    // the plateau's too.
    let (offset, per_s) = time_axis(&doc);
    // Whole pixels at both ends of the band and of the axis labels.
    let tolerance = 2.0;
    let x = |t: f64| offset + t * per_s;
    let timeline = run["timeline"].as_array().unwrap();
    assert!(!timeline.is_empty());
    let mut spans: Vec<(String, f64, f64)> = timeline
        .iter()
        .map(|h| {
            (
                format!(
                    "{} · {}",
                    h["id"].as_str().unwrap(),
                    h["severity"].as_str().unwrap()
                ),
                h["from_s"].as_f64().unwrap(),
                h["to_s"].as_f64().unwrap(),
            )
        })
        .collect();
    let p = &run["plateau"];
    spans.push((
        "load plateau:".to_owned(),
        p["from_s"].as_f64().unwrap(),
        p["to_s"].as_f64().unwrap(),
    ));
    for (label, from_s, to_s) in spans {
        let bands = band(&doc, &label);
        let at = |r: &Node| (num(*r, "x"), num(*r, "x") + num(*r, "width"));
        assert!(
            bands.iter().any(|r| {
                let (a, b) = at(r);
                (a - x(from_s)).abs() <= tolerance && (b - x(to_s)).abs() <= tolerance
            }),
            "{label}: {from_s}–{to_s} s is {:.1}–{:.1} px; bands on its row: {:?}",
            x(from_s),
            x(to_s),
            bands.iter().map(at).collect::<Vec<_>>()
        );
    }
}

#[test]
fn the_chart_renders_to_a_png() {
    let dir = tempfile::tempdir().unwrap();
    let svg = chart(dir.path());
    let svg_path = dir.path().join("x.svg");
    let png = dir.path().join("x.png");
    let out = match Command::new("rsvg-convert")
        .arg(&svg_path)
        .arg("-o")
        .arg(&png)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "rsvg-convert is missing: the chart must be rendered to be checked; \
             apt-get install librsvg2-bin"
        ),
        Err(e) => panic!("cannot run rsvg-convert: {e}"),
    };
    assert!(
        out.status.success(),
        "rsvg-convert: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        bytes.len() > 30_000,
        "{} bytes: hardly a chart",
        bytes.len()
    );
    // IHDR: the PNG is the SVG's size.
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let doc = Document::parse(&svg).unwrap();
    let root = doc.root_element();
    assert_eq!(
        Some(be(&bytes[16..20]).to_string().as_str()),
        root.attribute("width")
    );
    assert_eq!(
        Some(be(&bytes[20..24]).to_string().as_str()),
        root.attribute("height")
    );
    if let Some(keep) = std::env::var_os("DOCTOR_CHART_PNG") {
        std::fs::copy(&png, keep).unwrap();
    }
}

#[test]
fn a_snapshot_without_series_has_no_chart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.svg");
    let out = doctor()
        .args(["analyze", "fixtures/healthy.json", "--chart"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "fixtures/healthy.json has no series: --chart needs a recording from doctor watch"
        ),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    assert!(!path.exists());
}
