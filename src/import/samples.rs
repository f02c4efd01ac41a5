//! One reading of a family of counters or two: pasted counter outputs grouped into readings, and
//! readings into the snapshot's [`Counter`]s.
//!
//! A paste often quotes one reading in pieces (the diary quotes `netstat -s` sentences in three
//! bullet lists): outputs with different counters are parts of one reading. A counter seen again
//! starts the next reading — the text then holds two samples of the same counters, and their
//! difference is what happened between them. With one reading, counters keep their `total`
//! (since boot, or since the server started) and have no `delta` or `per_s`: a rule that needs a
//! rate is then not checked ("one sample only"), one that can judge a total says it did.

use crate::snapshot::{Counter, Provenance};
use std::collections::BTreeMap;

/// One reading: counter → value, and the outputs it was read from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reading {
    pub values: BTreeMap<String, u64>,
    pub from: Vec<Provenance>,
}

/// Groups outputs (in the order of the text) into readings: a counter already in the current
/// reading starts a new one.
#[must_use]
pub fn readings<'a>(
    outputs: impl IntoIterator<Item = (&'a BTreeMap<String, u64>, Provenance)>,
) -> Vec<Reading> {
    let mut out: Vec<Reading> = Vec::new();
    for (values, from) in outputs {
        let repeats = out
            .last()
            .is_some_and(|r| values.keys().any(|k| r.values.contains_key(k)));
        if out.is_empty() || repeats {
            out.push(Reading::default());
        }
        if let Some(r) = out.last_mut() {
            r.values.extend(values.iter().map(|(k, v)| (k.clone(), *v)));
            r.from.push(from);
        }
    }
    out
}

/// The counters of the readings: the last reading's totals, with the growth since the first
/// reading when there are two or more, and a rate when `gap_s` (the seconds between the first
/// and the last) is known.
#[must_use]
pub fn counters(readings: &[Reading], gap_s: Option<f64>) -> BTreeMap<String, Counter> {
    let (Some(first), Some(last)) = (readings.first(), readings.last()) else {
        return BTreeMap::new();
    };
    let two = readings.len() >= 2;
    last.values
        .iter()
        .map(|(name, &end)| {
            let end = i64::try_from(end).unwrap_or(i64::MAX);
            let counter = match first.values.get(name) {
                Some(&start) if two => Counter::between(
                    i64::try_from(start).unwrap_or(i64::MAX),
                    end,
                    gap_s.unwrap_or(0.0),
                ),
                _ => Counter::gauge(end),
            };
            (name.clone(), counter)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: usize) -> Provenance {
        Provenance {
            input: "paste".into(),
            first_line: line,
            last_line: line,
            output: "netstat -s".into(),
        }
    }

    fn values(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    #[test]
    fn pieces_of_one_reading_are_one_reading() {
        let a = values(&[("TcpExtListenOverflows", 3008)]);
        let b = values(&[("TcpRetransSegs", 266)]);
        let r = readings([(&a, p(1)), (&b, p(5))]);
        assert_eq!(r.len(), 1);
        let c = counters(&r, None);
        assert_eq!(c["TcpExtListenOverflows"], Counter::gauge(3008));
        assert_eq!(c["TcpRetransSegs"].delta, None);
    }

    #[test]
    fn a_counter_seen_again_is_a_second_reading() {
        let a = values(&[("TcpExtListenOverflows", 3008), ("TcpRetransSegs", 1)]);
        let b = values(&[("TcpExtListenOverflows", 3108)]);
        let r = readings([(&a, p(1)), (&b, p(9))]);
        assert_eq!(r.len(), 2);
        let unknown_gap = counters(&r, None);
        assert_eq!(unknown_gap["TcpExtListenOverflows"].delta, Some(100));
        assert_eq!(unknown_gap["TcpExtListenOverflows"].per_s, None);
        let known = counters(&r, Some(10.0));
        assert_eq!(known["TcpExtListenOverflows"].per_s, Some(10.0));
        // Only in the first reading: not a counter of the last, left out.
        assert!(!known.contains_key("TcpRetransSegs"));
    }

    #[test]
    fn a_reset_between_readings_has_no_delta() {
        let a = values(&[("X", 500)]);
        let b = values(&[("X", 3)]);
        let c = counters(&readings([(&a, p(1)), (&b, p(2))]), Some(1.0));
        assert_eq!(c["X"], Counter::gauge(3));
    }
}
