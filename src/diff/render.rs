//! `doctor diff` as the user reads it: a plain table for the terminal, Markdown for an issue,
//! JSON for a program. Each writes to any `impl Write`.

use super::config::ConfigChange;
use super::findings::{FindingChange, Holds};
use super::load::{LoadChange, Measure, Reading};
use super::model::{Diff, Side};
use std::io::{self, Write};

/// `--format json`.
pub fn json(d: &Diff, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, d)?;
    writeln!(out)
}

fn side_line(label: &str, s: &Side) -> String {
    format!(
        "{label}: {} — {}{}, {:.1} s window from {}",
        s.file,
        s.hostname.as_deref().unwrap_or("host unknown"),
        if s.imported { " (imported)" } else { "" },
        s.window_s,
        s.start
    )
}

fn holds(f: &FindingChange) -> &'static str {
    match f.holds {
        Holds::OnlyA => "only in A",
        Holds::OnlyB => "only in B",
        Holds::Both => "in both",
    }
}

fn score(s: Option<f64>) -> String {
    s.map_or_else(|| "—".to_owned(), |s| format!("{s:.0}"))
}

fn scores(f: &FindingChange) -> String {
    format!("score {} → {}", score(f.score_a), score(f.score_b))
}

/// A reading with its unit; a counter with no rate says so with its total.
fn reading(r: &Reading, unit: &str) -> String {
    match r {
        Reading::Value { value } => {
            let v = if value.fract() == 0.0 {
                format!("{value:.0}")
            } else {
                format!("{value:.2}")
            };
            match unit {
                "" => v,
                "%" => format!("{v}%"),
                u if u.starts_with('/') => format!("{v}{u}"),
                u => format!("{v} {u}"),
            }
        }
        Reading::TotalOnly { total } => format!("no rate ({total} since start)"),
        Reading::Absent => "not read".to_owned(),
    }
}

fn ratio(l: &LoadChange) -> String {
    l.ratio.map_or_else(String::new, |r| format!("×{r}"))
}

/// A configuration value, or `absent` when that snapshot does not hold it (a container not
/// running there, a variable the server lacks).
fn value(v: Option<&String>) -> &str {
    v.map_or("absent", String::as_str)
}

fn equal_line(d: &Diff) -> String {
    format!(
        "equal: {} findings, {} configuration values, {} load figures{}",
        d.equal.findings,
        d.equal.config,
        d.equal.load,
        if d.is_empty() {
            " — no difference"
        } else {
            ""
        }
    )
}

fn measure(m: Measure) -> &'static str {
    match m {
        Measure::Rate => "rate",
        Measure::Gauge => "gauge",
    }
}

/// Left-aligned columns, each as wide as its widest cell.
fn columns(out: &mut impl Write, rows: &[Vec<String>]) -> io::Result<()> {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::from("  ");
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// `--format table`: one screen, no colour.
pub fn table(d: &Diff, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "doctor diff")?;
    writeln!(out, "  {}", side_line("A", &d.a))?;
    writeln!(out, "  {}", side_line("B", &d.b))?;
    if !d.findings.is_empty() {
        writeln!(out, "\nfindings")?;
        for f in &d.findings {
            writeln!(
                out,
                "  {:<9}  {:<8}  {} ({}): {}",
                holds(f),
                f.severity.as_str(),
                f.id,
                scores(f),
                f.summary
            )?;
            if let Some(why) = &f.other_side_not_checked {
                writeln!(out, "      not checked on the other side: {why}")?;
            }
            if f.holds != Holds::Both {
                writeln!(out, "      fix:")?;
                for line in f.fix.lines() {
                    writeln!(out, "{}", format!("        {line}").trim_end())?;
                }
            }
        }
    }
    if !d.config.is_empty() {
        writeln!(out, "\nconfiguration")?;
        let mut rows = vec![vec![
            "setting".to_owned(),
            "A".to_owned(),
            "B".to_owned(),
            "read by".to_owned(),
        ]];
        rows.extend(d.config.iter().map(|c: &ConfigChange| {
            vec![
                c.name.clone(),
                value(c.a.as_ref()).to_owned(),
                value(c.b.as_ref()).to_owned(),
                c.explains.join(", "),
            ]
        }));
        columns(out, &rows)?;
    }
    if !d.load.is_empty() {
        writeln!(
            out,
            "\nload (rates per second over each side's own window; gauges as read)"
        )?;
        let mut rows = vec![vec![
            "figure".to_owned(),
            "kind".to_owned(),
            "A".to_owned(),
            "B".to_owned(),
            "B/A".to_owned(),
        ]];
        rows.extend(d.load.iter().map(|l| {
            vec![
                l.name.clone(),
                measure(l.measure).to_owned(),
                reading(&l.a, &l.unit),
                reading(&l.b, &l.unit),
                ratio(l),
            ]
        }));
        columns(out, &rows)?;
    }
    writeln!(out, "\n{}", equal_line(d))
}

/// A table cell: no pipes or newlines.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// `--format markdown`: for pasting into an issue.
pub fn markdown(d: &Diff, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "# doctor diff\n")?;
    writeln!(out, "- {}", side_line("A", &d.a))?;
    writeln!(out, "- {}", side_line("B", &d.b))?;
    if !d.findings.is_empty() {
        writeln!(out, "\n## Findings\n")?;
        for f in &d.findings {
            writeln!(
                out,
                "### {} — `{}` ({}, {})\n",
                holds(f),
                f.id,
                f.severity.as_str(),
                scores(f)
            )?;
            writeln!(out, "{}\n", f.summary)?;
            if let Some(why) = &f.other_side_not_checked {
                writeln!(out, "Not checked on the other side: {why}\n")?;
            }
            if f.holds != Holds::Both {
                writeln!(out, "**Fix**\n\n```text\n{}\n```\n", f.fix.trim_end())?;
            }
        }
    }
    if !d.config.is_empty() {
        writeln!(out, "\n## Configuration\n")?;
        writeln!(
            out,
            "| setting | A | B | read by |\n| --- | --- | --- | --- |"
        )?;
        for c in &d.config {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&c.name),
                cell(value(c.a.as_ref())),
                cell(value(c.b.as_ref())),
                cell(&c.explains.join(", "))
            )?;
        }
    }
    if !d.load.is_empty() {
        writeln!(
            out,
            "\n## Load\n\nRates per second over each side's own window; gauges as read.\n"
        )?;
        writeln!(
            out,
            "| figure | kind | A | B | B/A |\n| --- | --- | --- | --- | --- |"
        )?;
        for l in &d.load {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&l.name),
                measure(l.measure),
                reading(&l.a, &l.unit),
                reading(&l.b, &l.unit),
                ratio(l)
            )?;
        }
    }
    writeln!(out, "\n{}", equal_line(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_without_a_rate_is_never_shown_as_one() {
        assert_eq!(
            reading(&Reading::TotalOnly { total: 5094 }, "/s"),
            "no rate (5094 since start)"
        );
        assert_eq!(reading(&Reading::Value { value: 38.4 }, "/s"), "38.40/s");
        assert_eq!(reading(&Reading::Value { value: 12.0 }, "%"), "12%");
        assert_eq!(reading(&Reading::Absent, "%"), "not read");
    }
}
