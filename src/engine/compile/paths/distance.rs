//! How far a name is from another: the optimal string alignment distance (Damerau–Levenshtein
//! where a swapped pair of neighbours is one edit, each character edited at most once), over
//! characters. Enough to tell `cpu.busy_pctt` from `cpu.busy_pct`, and small enough to write here.

/// The distance between `a` and `b`, or `None` when it is above `max`.
pub(crate) fn within(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    // Three rows of the table: two back (for a swap), the previous one and the current one.
    let mut before: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(row[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            row[j] = d;
        }
        if row.iter().min().is_some_and(|m| *m > max) {
            return None;
        }
        before = std::mem::replace(&mut prev, row);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

/// The candidate nearest to `name` within `max` edits, with its distance; of equals, the one
/// sharing the longest start with `name`, then the first. A candidate equal but for ASCII case
/// counts as one edit, whatever the length.
pub(crate) fn nearest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Option<(&'a str, usize)> {
    let mut best: Option<(&'a str, usize)> = None;
    for c in candidates {
        let limit = best.map_or(max, |(_, d)| d);
        let found = if c.eq_ignore_ascii_case(name) && c != name {
            Some(1)
        } else {
            within(name, c, limit)
        };
        let Some(d) = found else { continue };
        let better = best.is_none_or(|(b, bd)| {
            d < bd || (d == bd && common_start(name, c) > common_start(name, b))
        });
        if better {
            best = Some((c, d));
            if d == 0 {
                break;
            }
        }
    }
    best
}

fn common_start(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(within("busy_pctt", "busy_pct", 2), Some(1));
        assert_eq!(within("Threads_conected", "Threads_connected", 2), Some(1));
        // A swap of neighbours is one edit.
        assert_eq!(within("util_ptc", "util_pct", 2), Some(1));
        assert_eq!(within("abc", "abc", 0), Some(0));
        assert_eq!(within("kitten", "sitting", 3), Some(3));
        assert_eq!(within("kitten", "sitting", 2), None);
        assert_eq!(within("a", "abcd", 2), None);
        assert_eq!(within("", "ab", 2), Some(2));
        // Characters, not bytes.
        assert_eq!(within("pression", "préssion", 1), Some(1));
    }

    #[test]
    fn nearest_prefers_the_closest_then_the_first() {
        let names = ["busy_pct", "idle_pct", "steal_pct"];
        assert_eq!(nearest("busy_pctt", names, 2), Some(("busy_pct", 1)));
        assert_eq!(nearest("xdle_pct", names, 2), Some(("idle_pct", 1)));
        assert_eq!(nearest("nothing_like_it", names, 2), None);
        // Of two one edit away, the one sharing the longer start.
        assert_eq!(
            nearest("lt_1mm", ["lt_10m", "lt_1m"], 2),
            Some(("lt_1m", 1))
        );
        assert_eq!(
            nearest("BUSY_PCT", names, 0),
            Some(("busy_pct", 1)),
            "case only"
        );
    }
}
