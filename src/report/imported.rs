//! Wording for a report on an imported snapshot: where its figures came from, and which lines of
//! the pasted text doctor did not understand (said by range, never guessed at).

use crate::snapshot::{Imported, LineRange};

/// The header's words for the window: `one reading (totals since boot, no rates)`, ...
#[must_use]
pub fn window_words(i: &Imported) -> String {
    match (i.samples, i.gap_s) {
        (0 | 1, _) => "one reading of each counter (totals since boot, no rates)".to_owned(),
        (n, Some(gap)) => format!("{n} readings {gap:.1} s apart"),
        (n, None) => format!("{n} readings, time between them unknown (growth, no rates)"),
    }
}

/// The inputs' names, `a.md, b.txt`.
#[must_use]
pub fn input_names(i: &Imported) -> String {
    i.inputs
        .iter()
        .map(|x| x.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line per recognised output of each input: `diary.md 621-622: netstat -s → tcp`.
#[must_use]
pub fn output_lines(i: &Imported) -> Vec<String> {
    let mut out = Vec::new();
    for input in &i.inputs {
        for o in &input.outputs {
            let range = LineRange {
                first_line: o.first_line,
                last_line: o.last_line,
            };
            let to = match (&o.section, &o.unused) {
                (Some(s), _) => format!("→ {s}"),
                (None, Some(why)) => format!("not used: {why}"),
                (None, None) => "not used".to_owned(),
            };
            out.push(format!("{} {range}: {} {to}", input.name, o.output));
        }
    }
    out
}

/// One line per input with lines not understood: `diary.md: lines 1-28, 30-41`.
#[must_use]
pub fn not_understood_lines(i: &Imported) -> Vec<String> {
    i.inputs
        .iter()
        .filter(|x| !x.not_understood.is_empty())
        .map(|x| {
            let ranges: Vec<String> = x.not_understood.iter().map(ToString::to_string).collect();
            format!(
                "{} (of {} lines): lines {}",
                x.name,
                x.lines,
                ranges.join(", ")
            )
        })
        .collect()
}
