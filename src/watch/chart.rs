//! `--chart FILE.svg`: a recording drawn for a person — the key series as small multiples on
//! one time axis, the load plateau shaded, and a lane on top with a band for each finding over
//! the time it held.
//!
//! Pure: the recording and its [`Run`] in, an SVG string out ([`write`] only puts it on disk).
//! Drawn with plotters' SVG backend and no font feature: its text becomes SVG `<text>`
//! elements (escaped by the backend) that the viewer renders with its own fonts, so nothing
//! here reads a font file or links a C library and the static musl binary stays static.
//! Grid lines, ticks and markers are drawn as thin rectangles, so the series are the only
//! `<polyline>`s in the file, each series in its own colour (one line, broken where samples
//! were not read: a gap is not bridged).

use super::timeline::{Run, Spark};
use crate::engine::Severity;
use crate::engine::eval::fmt_number;
use crate::snapshot::{Series, Snapshot};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::{Path, PathBuf};

/// Panels drawn at most: the first of the run's key series (see `timeline::sparks`).
pub const MAX_PANELS: usize = 8;
/// Points drawn per series at most: longer series are reduced by time-weighted means.
pub const MAX_POINTS: usize = 600;

const WIDTH: u32 = 1200;
/// Left of the plots: the y-axis labels.
const LEFT: u32 = 80;
const RIGHT: u32 = 24;
const TITLE_H: u32 = 44;
const LANE_ROW_H: u32 = 24;
const PANEL_H: u32 = 108;
/// Above each panel's plot: its label.
const PANEL_LABEL_H: u32 = 22;
const AXIS_H: u32 = 46;
const CAPTION_LINE_H: u32 = 17;
const FONT: &str = "sans-serif";

const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED: RGBColor = RGBColor(0x66, 0x66, 0x66);
const GRID: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);
const PLATEAU: RGBColor = RGBColor(0x4a, 0x90, 0xd9);
/// Tableau 10, one per panel.
const PALETTE: [RGBColor; MAX_PANELS] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0x17, 0xbe, 0xcf),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
];

/// Why no chart came out.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the recording has no series: --chart needs a recording from doctor watch")]
    NoSeries,
    #[error("cannot draw the chart: {0}")]
    Draw(String),
    #[error("cannot write the chart to {}: {error}; check that its directory exists and is writable", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// The chart of `snap`'s series and `run`'s findings, as an SVG document.
pub fn svg(snap: &Snapshot, run: &Run) -> Result<String, ChartError> {
    let series = snap.series.as_ref().ok_or(ChartError::NoSeries)?;
    let drawn: Vec<&Spark> = run.series.iter().take(MAX_PANELS).collect();
    let left_out: Vec<&str> = run.series[drawn.len()..]
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let caption = caption(run, &left_out);
    let rows = usize::from(run.plateau.is_some()) + run.timeline.len().max(1);
    let lane_h = rows as u32 * LANE_ROW_H + 10;
    let panels_h = drawn.len().max(1) as u32 * PANEL_H;
    let height = TITLE_H + lane_h + panels_h + AXIS_H + caption.len() as u32 * CAPTION_LINE_H + 12;
    let duration = run.duration_s.max(0.001);

    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        let d = |e: DrawingAreaErrorKind<std::io::Error>| ChartError::Draw(e.to_string());
        root.fill(&WHITE).map_err(d)?;
        let (what, how) = title(series, run);
        root.draw(&text(&what, (12, 14), 16, INK, HPos::Left))
            .map_err(d)?;
        root.draw(&text(&how, (12, 34), 12, MUTED, HPos::Left))
            .map_err(d)?;

        let (_, rest) = root.split_vertically(TITLE_H);
        let (lane_area, rest) = rest.split_vertically(lane_h);
        lane(&lane_area, run, duration, rows).map_err(d)?;
        let (panels_area, rest) = rest.split_vertically(panels_h);
        let areas = panels_area.split_evenly((drawn.len().max(1), 1));
        for (i, (spark, area)) in drawn.iter().zip(&areas).enumerate() {
            let values = series.column(&spark.name).unwrap_or(&[]);
            panel(
                area,
                spark,
                &reduce(&series.t_ms, values, MAX_POINTS),
                run,
                duration,
                PALETTE[i],
            )
            .map_err(d)?;
        }
        let (axis_area, caption_area) = rest.split_vertically(AXIS_H);
        axis(&axis_area, duration).map_err(d)?;
        for (i, line) in caption.iter().enumerate() {
            let y = 8 + i as i32 * CAPTION_LINE_H as i32;
            caption_area
                .draw(&text(line, (12, y), 13, MUTED, HPos::Left))
                .map_err(d)?;
        }
        root.present().map_err(d)?;
    }
    Ok(out)
}

/// Writes `svg` to `path` through a temporary file in the same directory, so a reader never
/// sees half a chart.
pub fn write(path: &Path, svg: &str) -> Result<(), ChartError> {
    crate::atomic::write(path, svg.as_bytes(), false).map_err(|error| ChartError::Write {
        path: path.to_owned(),
        error,
    })
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// A chart on `area` with the shared x-axis (seconds from the start) and `y` as its y-axis:
/// every panel and the lane map time to the same pixels.
fn frame<'a, 'b>(
    area: &'a Area<'b>,
    duration: f64,
    y: std::ops::Range<f64>,
    top: u32,
) -> Result<Chart<'a, 'b>, DrawingAreaErrorKind<std::io::Error>> {
    ChartBuilder::on(area)
        .margin_top(top)
        .margin_bottom(4)
        .margin_right(RIGHT)
        .y_label_area_size(LEFT)
        .build_cartesian_2d(0.0..duration, y)
}

/// The findings lane: a row for the plateau, then one per finding of the timeline, each a band
/// over the time it held, labelled with its id and severity.
fn lane(area: &Area, run: &Run, duration: f64, rows: usize) -> Drawn {
    let chart = frame(area, duration, 0.0..rows as f64, 6)?;
    let plot = chart.plotting_area();
    let at = |t: f64, v: f64| relative(area, plot.map_coordinate(&(t, v)));
    let (left, right) = (at(0.0, 0.0).0, at(duration, 0.0).0);
    // Row 0 at the top.
    let middle = |row: usize| rows as f64 - row as f64 - 0.5;
    area.draw(&text(
        "findings",
        (8, at(0.0, middle(0)).1),
        13,
        MUTED,
        HPos::Left,
    ))?;
    let band = |row: usize, from: f64, to: f64, color: RGBColor, label: &str| -> Drawn {
        let y = middle(row);
        // A light fill the label reads on, edged in the full colour.
        let corners = [(from, y + 0.38), (to, y - 0.38)];
        plot.draw(&Rectangle::new(corners, color.mix(0.3).filled()))?;
        plot.draw(&Rectangle::new(corners, color.stroke_width(1)))?;
        let ((x0, y), (x1, _)) = (at(from, y), at(to, y));
        let width = label_width(label, 12);
        // Inside the band when it fits, else after it, else before it, else from its start on.
        let (x, anchor) = if x1 - x0 >= width + 10 {
            (x0 + 5, HPos::Left)
        } else if x1 + 6 + width <= right {
            (x1 + 6, HPos::Left)
        } else if x0 - 6 - width >= left {
            (x0 - 6, HPos::Right)
        } else {
            (x0 + 5, HPos::Left)
        };
        area.draw(&text(label, (x, y), 12, INK, anchor))
    };
    let mut row = 0;
    if let Some(p) = &run.plateau {
        let label = format!(
            "load plateau: {} ≥ {} ({}–{} s)",
            p.series,
            fmt_number(p.level),
            fmt_number(p.from_s),
            fmt_number(p.to_s)
        );
        band(row, p.from_s, p.to_s, PLATEAU, &label)?;
        row += 1;
    }
    for h in &run.timeline {
        let label = format!(
            "{} · {} ({}–{} s)",
            h.id,
            h.severity.as_str(),
            fmt_number(h.from_s),
            fmt_number(h.to_s)
        );
        band(row, h.from_s, h.to_s, severity_color(h.severity), &label)?;
        row += 1;
    }
    if run.timeline.is_empty() {
        let (x, y) = at(0.0, middle(row));
        area.draw(&text(
            "no finding held in a window of the run",
            (x + 4, y),
            12,
            MUTED,
            HPos::Left,
        ))?;
    }
    Ok(())
}

/// A point of the root's pixels (what `map_coordinate` answers) in `area`'s own, which is
/// what an element drawn on `area` is placed by.
fn relative(area: &Area, (x, y): (i32, i32)) -> (i32, i32) {
    let base = area.get_base_pixel();
    (x - base.0, y - base.1)
}

/// A line one pixel wide between two points of `area` on one row or one column.
fn rule_line(area: &Area, a: (i32, i32), b: (i32, i32), color: RGBAColor) -> Drawn {
    let (x1, y1) = (a.0.max(b.0) + 1, a.1.max(b.1) + 1);
    area.draw(&Rectangle::new(
        [(a.0.min(b.0), a.1.min(b.1)), (x1, y1)],
        color.filled(),
    ))
}

/// The runs of consecutive points between gaps: each is drawn as one line, so a time nothing
/// was read stays blank instead of bridged.
fn segments(points: &[Option<(f64, f64)>]) -> Vec<Vec<(f64, f64)>> {
    points
        .split(Option::is_none)
        .filter(|run| !run.is_empty())
        .map(|run| run.iter().flatten().copied().collect())
        .collect()
}

/// One series: its label, the plateau shaded, a mark where each finding began, the line (a
/// point alone between gaps, a dot).
fn panel(
    area: &Area,
    spark: &Spark,
    points: &[Option<(f64, f64)>],
    run: &Run,
    duration: f64,
    color: RGBColor,
) -> Drawn {
    let (lo, hi) = y_range(spark.min, spark.max);
    let mut chart = frame(area, duration, lo..hi, PANEL_LABEL_H)?;
    let label = format!(
        "{}{}   min {} · max {} · last {}",
        spark.name,
        unit(&spark.name).map_or(String::new(), |u| format!(" ({u})")),
        fmt_number(spark.min),
        fmt_number(spark.max),
        fmt_number(spark.last)
    );
    area.draw(&text(&label, (LEFT as i32, 12), 13, INK, HPos::Left))?;
    let plot = chart.plotting_area();
    let at = |t: f64, v: f64| relative(area, plot.map_coordinate(&(t, v)));
    if let Some(p) = &run.plateau {
        plot.draw(&Rectangle::new(
            [(p.from_s, lo), (p.to_s, hi)],
            PLATEAU.mix(0.13).filled(),
        ))?;
    }
    // Horizontal grid at the bottom, middle and top, labelled on the left.
    for frac in [0.0, 0.5, 1.0] {
        let v = lo + (spark.max.max(lo) - lo) * frac;
        let (a, b) = (at(0.0, v), at(duration, v));
        rule_line(area, a, b, GRID.mix(1.0))?;
        area.draw(&text(
            &fmt_number(v),
            (a.0 - 6, a.1),
            11,
            MUTED,
            HPos::Right,
        ))?;
    }
    for (t, _) in ticks(duration) {
        rule_line(area, at(t, lo), at(t, hi), GRID.mix(0.6))?;
    }
    for h in &run.timeline {
        rule_line(
            area,
            at(h.from_s, lo),
            at(h.from_s, hi),
            severity_color(h.severity).mix(0.7),
        )?;
    }
    for line in segments(points) {
        if let [alone] = line.as_slice() {
            chart.draw_series([Circle::new(*alone, 2, color.filled())])?;
        } else {
            chart.draw_series(LineSeries::new(line, color.stroke_width(2)))?;
        }
    }
    Ok(())
}

/// The time axis under the panels: a tick and a label every few seconds, and its title.
fn axis(area: &Area, duration: f64) -> Drawn {
    let chart = frame(area, duration, 0.0..1.0, 0)?;
    let plot = chart.plotting_area();
    let at = |t: f64| relative(area, plot.map_coordinate(&(t, 1.0)));
    let (start, end) = (at(0.0), at(duration));
    rule_line(area, start, end, MUTED.mix(1.0))?;
    for (t, label) in ticks(duration) {
        let (x, y) = at(t);
        rule_line(area, (x, y), (x, y + 4), MUTED.mix(1.0))?;
        area.draw(&text(&label, (x, y + 14), 12, INK, HPos::Center))?;
    }
    area.draw(&text(
        "seconds from the start of the run",
        ((start.0 + end.0) / 2, start.1 + 32),
        12,
        MUTED,
        HPos::Center,
    ))
}

/// Text anchored at its vertical middle.
fn text(
    s: &str,
    at: (i32, i32),
    size: u32,
    color: RGBColor,
    h: HPos,
) -> Text<'_, (i32, i32), &str> {
    Text::new(
        s,
        at,
        (FONT, f64::from(size) * 1.24)
            .into_font()
            .color(&color)
            .pos(Pos::new(h, VPos::Center)),
    )
}

/// About how wide `s` is at `size` px in a sans-serif font (the SVG has no font metrics).
fn label_width(s: &str, size: u32) -> i32 {
    (s.chars().count() as f64 * f64::from(size) * 0.58).ceil() as i32
}

fn severity_color(s: Severity) -> RGBColor {
    match s {
        Severity::Critical => RGBColor(0xd6, 0x27, 0x28),
        Severity::Warning => RGBColor(0xf0, 0x8c, 0x00),
        Severity::Info => RGBColor(0x64, 0x95, 0xb5),
    }
}

/// The title: the command watched (its arguments cut at about a line), then how long and how
/// sampled.
fn title(series: &Series, run: &Run) -> (String, String) {
    let mut what = run.command.as_ref().map_or_else(
        || "doctor watch".to_owned(),
        |c| format!("doctor watch -- {}", c.argv.join(" ")),
    );
    if what.chars().count() > 130 {
        what = what.chars().take(129).chain(['…']).collect();
    }
    let exit = run
        .command
        .as_ref()
        .and_then(|c| c.exit_status)
        .map_or(String::new(), |s| format!(", exit status {s}"));
    let how = format!(
        "{} s, {} samples every {} ms; ended by {}{exit}{}",
        fmt_number(run.duration_s),
        series.len(),
        run.every_ms,
        run.ended_by,
        if run.partial { " (partial run)" } else { "" }
    );
    (what, how)
}

/// The lines under the axis: what is shaded, what was left out.
fn caption(run: &Run, left_out: &[&str]) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(p) = &run.plateau {
        lines.push(format!(
            "Shaded blue: the load plateau ({} at or above {}); a coloured mark in a panel: where a finding began.",
            p.series,
            fmt_number(p.level)
        ));
    }
    if !run.whole_run_only.is_empty() {
        lines.push(format!(
            "Over the whole run, in no single window: {}.",
            run.whole_run_only.join(", ")
        ));
    }
    if !left_out.is_empty() {
        let mut line = format!("Not drawn ({MAX_PANELS} panels at most):");
        for (i, name) in left_out.iter().enumerate() {
            let sep = if i + 1 == left_out.len() { "." } else { "," };
            if line.len() + name.len() > 170 {
                lines.push(line);
                line = String::from("  ");
            }
            line.push(' ');
            line.push_str(name);
            line.push_str(sep);
        }
        lines.push(line);
    }
    lines
}

/// The unit a series' name states (`_pct`, `.per_s`, `_ms`), if any.
fn unit(name: &str) -> Option<&'static str> {
    if name.ends_with("_pct") {
        Some("%")
    } else if name.ends_with("per_s") {
        Some("per s")
    } else if name.ends_with("_ms") {
        Some("ms")
    } else {
        None
    }
}

/// The y-range of a panel: from 0 (so a line's height reads as its size), unless the values
/// move within less than a quarter of their highest (a gauge far above 0, as 4016–4076
/// established sockets: from 0 it would be flat) or go below 0; a flat series gets a range
/// around it.
fn y_range(min: f64, max: f64) -> (f64, f64) {
    let lo = if min < 0.0 || max - min < max * 0.25 {
        min
    } else {
        0.0
    };
    let span = max - lo;
    if span <= f64::EPSILON * max.abs().max(1.0) {
        return (lo - 1.0, max + 1.0);
    }
    (lo, max + span * 0.08)
}

/// Labelled ticks of the time axis: a round step giving at most about 12 of them.
fn ticks(duration: f64) -> Vec<(f64, String)> {
    const STEPS: [f64; 13] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
    ];
    let step = STEPS
        .iter()
        .copied()
        .find(|s| duration / s <= 12.0)
        .unwrap_or(7200.0);
    let count = (duration / step + 1e-9).floor() as u32 + 1;
    (0..count)
        .map(|i| f64::from(i) * step)
        .map(|t| (t, format!("{} s", fmt_number(t))))
        .collect()
}

/// The points of one column, at most `max` of them: samples merged in runs of equal count,
/// each point the time-weighted mean of its run's values (a sample weighs the time it covers,
/// from the previous sample's end to its own), placed at the middle of the time the run covers,
/// in seconds. A sample not read counts for nothing; a run with none read is a gap (`None`).
pub fn reduce(t_ms: &[u64], values: &[Option<f64>], max: usize) -> Vec<Option<(f64, f64)>> {
    let n = t_ms.len().min(values.len());
    let per = n.div_ceil(max.max(1)).max(1);
    let start = |i: usize| if i == 0 { 0 } else { t_ms[i - 1] };
    (0..n)
        .step_by(per)
        .map(|a| {
            let b = (a + per).min(n);
            let (mut sum, mut weight, mut plain, mut count) = (0.0, 0.0, 0.0, 0.0);
            for i in a..b {
                if let Some(v) = values[i] {
                    let dt = t_ms[i].saturating_sub(start(i)) as f64;
                    sum += v * dt;
                    weight += dt;
                    plain += v;
                    count += 1.0;
                }
            }
            let mean = if weight > 0.0 {
                sum / weight
            } else if count > 0.0 {
                plain / count
            } else {
                return None;
            };
            let mid = (start(a) + t_ms[b - 1]) as f64 / 2000.0;
            Some((mid, mean))
        })
        .collect()
}

#[cfg(test)]
#[path = "chart_tests.rs"]
mod tests;
