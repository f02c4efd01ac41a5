//! `vmstat [DELAY [COUNT]]` (and `-w`): its two header lines, then one row per sample; the first
//! row averages since boot, the next ones cover their delay. Columns by header (`r b swpd free
//! buff cache si so bi bo in cs us sy id wa st`, and `gu` since procps 4; `-a`'s `inact active`;
//! `-t`'s timestamp after them). Its memory and swap columns are in KiB unless `-S` says
//! otherwise: the command line typed above the output, when pasted, gives the unit.

use super::lines::Line;

/// A `vmstat` output.
#[derive(Debug, Clone, PartialEq)]
pub struct Vmstat {
    /// The column names of the second header line.
    pub columns: Vec<String>,
    /// One row per sample, in the columns' order.
    pub rows: Vec<Vec<u64>>,
    /// Bytes per unit of the memory and swap columns (`swpd free buff cache si so`): 1024, vmstat's
    /// default, unless the command line above the output asks for another with `-S`; `None` when
    /// it asks for one vmstat does not have.
    pub unit: Option<u64>,
    /// Whether the command line was pasted with the output (the unit is then known, not assumed).
    pub unit_shown: bool,
    pub lines: (usize, usize),
}

impl Vmstat {
    /// A column of the last row (the latest sample).
    #[must_use]
    pub fn last(&self, column: &str) -> Option<u64> {
        let i = self.columns.iter().position(|c| c == column)?;
        self.rows.last()?.get(i).copied()
    }

    /// A column of every row.
    #[must_use]
    pub fn column(&self, column: &str) -> Option<Vec<u64>> {
        let i = self.columns.iter().position(|c| c == column)?;
        self.rows.iter().map(|r| r.get(i).copied()).collect()
    }
}

/// Bytes per unit a vmstat command line asks for; `None` for a unit vmstat does not have.
struct CommandUnit(Option<u64>);

/// The unit `vmstat`'s `-S`/`--unit` asks for, from the command line typed above its output.
fn command_unit(text: &str) -> Option<CommandUnit> {
    let mut w = text.split_whitespace();
    if w.next()? != "vmstat" {
        return None;
    }
    let words: Vec<&str> = w.collect();
    let mut unit = Some(1024);
    for (i, word) in words.iter().enumerate() {
        let letter = if let Some(u) = word.strip_prefix("--unit=") {
            u
        } else if *word == "--unit" {
            words.get(i + 1).copied().unwrap_or("")
        } else if let Some((_, u)) = word
            .strip_prefix('-')
            .filter(|f| !f.starts_with('-'))
            .and_then(|flags| flags.split_once('S'))
        {
            // `-S M`, `-SM`, `-tSM`, `-tS M`.
            if u.is_empty() {
                words.get(i + 1).copied().unwrap_or("")
            } else {
                u
            }
        } else {
            continue;
        };
        unit = match letter {
            "k" => Some(1000),
            "K" => Some(1024),
            "m" => Some(1_000_000),
            "M" => Some(1 << 20),
            _ => None,
        };
    }
    Some(CommandUnit(unit))
}

/// `vmstat` from its `procs ---memory---` line on.
#[must_use]
pub fn vmstat(lines: &[Line<'_>], start: usize) -> Option<(Vmstat, usize)> {
    let first = lines[start].text.trim_start();
    if !first.starts_with("procs") || !first.contains("memory") {
        return None;
    }
    let mut columns: Vec<String> = lines
        .get(start + 1)?
        .text
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if columns.len() < 4 || columns[0] != "r" || columns[1] != "b" {
        return None;
    }
    // `-t`: a time zone's name heads the date and time each row ends with.
    let stamped = first.contains("timestamp");
    if stamped {
        columns.pop();
    }
    let mut rows = Vec::new();
    for line in &lines[start + 2..] {
        let words: Vec<&str> = line.text.split_whitespace().collect();
        if words.len() != columns.len() + if stamped { 2 } else { 0 } {
            break;
        }
        let row: Option<Vec<u64>> = words[..columns.len()]
            .iter()
            .map(|x| x.parse().ok())
            .collect();
        match row {
            Some(row) => rows.push(row),
            None => break,
        }
    }
    if rows.is_empty() {
        return None;
    }
    let taken = 2 + rows.len();
    let lines_before = lines;
    let lines = (lines[start].no, lines[start + taken - 1].no);
    let command = start
        .checked_sub(1)
        .and_then(|i| lines_before.get(i))
        .and_then(|l| command_unit(l.text));
    Some((
        Vmstat {
            columns,
            rows,
            unit_shown: command.is_some(),
            unit: command.map_or(Some(1024), |c| c.0),
            lines,
        },
        taken,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::lines::{lines, sample};

    #[test]
    fn recorded_vmstat_1_3() {
        let text = sample("vmstat-1-3.txt");
        let ls = lines(&text);
        let (v, taken) = vmstat(&ls, 0).unwrap();
        assert_eq!((taken, v.rows.len()), (5, 3));
        assert!(v.last("id").is_some() && v.last("si").is_some());
    }

    #[test]
    fn published_older_vmstat_without_st() {
        // procps 3.2 (CentOS 5), no `st` column.
        let text = "procs -----------memory---------- ---swap-- -----io---- --system-- -----cpu------\n\
                     r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa\n\
                     3  1 102400  20480  10240 204800  120  340   900  1500  800 2000 40 10 20 30\n";
        let (v, _) = vmstat(&lines(text), 0).unwrap();
        assert_eq!((v.last("so"), v.last("st")), (Some(340), None));
        assert_eq!((v.unit, v.unit_shown), (Some(1024), false));
    }

    #[test]
    fn the_unit_and_timestamps() {
        let rows = "procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu----- -----timestamp-----\n\
                     r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st                 UTC\n\
                     1  0      0  13057  170  9721    0    0     6     5  689 1224 53  7 39  2  0 2026-12-06 21:30:01\n\
                     0  0      0  13057  170  9721    0    0     0     0  674  459  1  1 98  0  0 2026-12-06 21:30:02\n";
        for (command, unit) in [
            ("$ vmstat -t -S M 1 2", Some(1 << 20)),
            ("$ vmstat -tSm 1 2", Some(1_000_000)),
            ("$ vmstat --unit=k -t 1 2", Some(1000)),
            ("$ vmstat -t 1 2", Some(1024)),
            ("$ vmstat -S x -t 1 2", None),
        ] {
            let text = format!("{command}\n{rows}");
            let (v, taken) = vmstat(&lines(&text), 1).unwrap();
            assert_eq!((taken, v.unit, v.unit_shown), (4, unit, true), "{command}");
            assert_eq!(v.column("free"), Some(vec![13057, 13057]));
            assert_eq!(v.last("st"), Some(0));
        }
    }
}
