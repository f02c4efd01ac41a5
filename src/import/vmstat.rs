//! `vmstat [DELAY [COUNT]]` (and `-w`): its two header lines, then one row per sample; the first
//! row averages since boot, the next ones cover their delay. Columns by header (`r b swpd free
//! buff cache si so bi bo in cs us sy id wa st`, and `gu` since procps 4). Recognised and read;
//! the cpu and memory sections need more than it tells, so it builds none yet.

use super::lines::Line;

/// A `vmstat` output.
#[derive(Debug, Clone, PartialEq)]
pub struct Vmstat {
    /// The column names of the second header line.
    pub columns: Vec<String>,
    /// One row per sample, in the columns' order.
    pub rows: Vec<Vec<u64>>,
    pub lines: (usize, usize),
}

impl Vmstat {
    /// A column of the last row (the latest sample).
    #[must_use]
    pub fn last(&self, column: &str) -> Option<u64> {
        let i = self.columns.iter().position(|c| c == column)?;
        self.rows.last()?.get(i).copied()
    }
}

/// `vmstat` from its `procs ---memory---` line on.
#[must_use]
pub fn vmstat(lines: &[Line<'_>], start: usize) -> Option<(Vmstat, usize)> {
    let first = lines[start].text.trim_start();
    if !first.starts_with("procs") || !first.contains("memory") {
        return None;
    }
    let columns: Vec<String> = lines
        .get(start + 1)?
        .text
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if columns.len() < 4 || columns[0] != "r" || columns[1] != "b" {
        return None;
    }
    let mut rows = Vec::new();
    for line in &lines[start + 2..] {
        let row: Option<Vec<u64>> = line
            .text
            .split_whitespace()
            .map(|x| x.parse().ok())
            .collect();
        match row {
            Some(row) if row.len() == columns.len() => rows.push(row),
            _ => break,
        }
    }
    if rows.is_empty() {
        return None;
    }
    let taken = 2 + rows.len();
    let lines = (lines[start].no, lines[start + taken - 1].no);
    Some((
        Vmstat {
            columns,
            rows,
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
    }
}
