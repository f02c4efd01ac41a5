//! `SHOW ENGINE INNODB STATUS` as pasted (`\G`, or the table form wrapping the same text): the
//! monitor output from its `INNODB MONITOR OUTPUT` banner to `END OF INNODB MONITOR OUTPUT`, and
//! the lines of it that matter here: the history list length (undo a long transaction holds back),
//! the buffer pool hit rate (per 1000, since the last monitor output) and the pending I/O
//! (reads, writes, fsyncs: a storage that does not keep up).

use super::lines::Line;

/// The figures read from one monitor output.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// `History list length 24`.
    pub history_list_length: Option<u64>,
    /// `Buffer pool hit rate 819 / 1000`: hits per 1000 page requests.
    pub hit_rate_per_1000: Option<u64>,
    /// The `Pending ...` lines, as printed.
    pub pending: Vec<String>,
    pub lines: (usize, usize),
}

/// The monitor output starting at `lines[start]`: its `*** 1. row ***` / `Type: InnoDB` head,
/// its `=====` banner or the banner's text line.
#[must_use]
pub fn status(lines: &[Line<'_>], start: usize) -> Option<(Status, usize)> {
    let text = |i: usize| lines.get(i).map_or("", |l| l.text.trim());
    // How far the banner is from `start`: the row head and `Type:` lines come first in `\G`.
    let banner = (start..lines.len().min(start + 8))
        .find(|&i| text(i).ends_with("INNODB MONITOR OUTPUT") && !text(i).contains("END OF"))?;
    for i in start..banner {
        let t = text(i);
        let head = t.starts_with("***")
            || t.starts_with("Type:")
            || t.starts_with("Name:")
            || t.starts_with("Status:")
            || t.starts_with("| InnoDB")
            || t.starts_with("+-")
            || t.starts_with("| Type")
            || t.trim_matches(|c| c == '=' || c == '|' || c == ' ')
                .is_empty();
        if !head {
            return None;
        }
    }
    let mut s = Status::default();
    let mut end = None;
    for i in banner + 1..lines.len() {
        let t = text(i).trim_matches(|c| c == '|' || c == ' ');
        if t.starts_with("END OF INNODB MONITOR OUTPUT") {
            end = Some(i);
            break;
        }
        if let Some(n) = t.strip_prefix("History list length ") {
            s.history_list_length = n.trim().parse().ok();
        } else if let Some(rest) = t.strip_prefix("Buffer pool hit rate ") {
            s.hit_rate_per_1000 = rest
                .split_once(" / 1000")
                .and_then(|(n, _)| n.trim().parse().ok());
        } else if t.starts_with("Pending ") {
            s.pending.push(t.to_owned());
        }
    }
    let mut last = end?;
    // The closing `=====` (and the table form's border) belong to it.
    while last + 1 < lines.len() {
        let t = text(last + 1);
        if !t.is_empty()
            && t.trim_matches(|c| c == '=' || c == '|' || c == ' ' || c == '+' || c == '-')
                .is_empty()
        {
            last += 1;
        } else {
            break;
        }
    }
    s.lines = (lines[start].no, lines[last].no);
    Some((s, last + 1 - start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::lines::{lines, sample};

    #[test]
    fn recorded_vertical_form() {
        let text = sample("mariadb-innodb-status-vertical.txt");
        let ls = lines(&text);
        let (s, taken) = status(&ls, 0).unwrap();
        let last = ls.iter().rposition(|l| !l.is_blank()).unwrap();
        assert_eq!(taken, last + 1);
        assert_eq!(s.history_list_length, Some(0));
        assert_eq!(s.hit_rate_per_1000, Some(819));
        assert!(s.pending.iter().any(|p| p.starts_with("Pending reads")));
    }

    #[test]
    fn published_mysql_8_fragment() {
        // MySQL 8.0 reference manual, "InnoDB Standard Monitor and Lock Monitor Output".
        let text = "=====================================\n\
                    2018-04-12 15:14:08 0x7f971c063700 INNODB MONITOR OUTPUT\n\
                    =====================================\n\
                    Trx id counter 2381\nPurge done for trx's n:o < 2380 undo n:o < 0 state: running but idle\n\
                    History list length 18\n\
                    Pending normal aio reads: [0, 0, 0, 0] , aio writes: [0, 0, 0, 0] ,\n\
                    Pending flushes (fsync) log: 0; buffer pool: 0\n\
                    Buffer pool hit rate 1000 / 1000, young-making rate 0 / 1000 not 0 / 1000\n\
                    ----------------------------\nEND OF INNODB MONITOR OUTPUT\n============================\n";
        let (s, taken) = status(&lines(text), 0).unwrap();
        assert_eq!(taken, lines(text).len());
        assert_eq!(
            (s.history_list_length, s.hit_rate_per_1000),
            (Some(18), Some(1000))
        );
        assert_eq!(s.pending.len(), 2);
        // Without its end it is not taken whole: not recognised.
        assert!(status(&lines("INNODB MONITOR OUTPUT\nHistory list length 3\n"), 0).is_none());
    }
}
