//! Ordering the firing rules.
//!
//! By score, with one exception that makes the report read as an explanation: a firing root cause
//! that lists a firing finding in `explains` comes first and that finding is shown under it (a
//! slow disk explains a full pool queue). What a root cause explains is usually a symptom, but
//! may be another root cause it brings about (full table scans explain a saturated CPU, which
//! explains an overflowing accept queue): chains are followed to the cause at their start, and
//! everything along them is shown under it, each finding naming the cause that explains it
//! directly. A finding explained by several firing causes goes under the strongest; two causes
//! that explain each other put the weaker under the stronger. A group ranks by its strongest
//! member, so a loud symptom pulls its cause up rather than pushing it down.

use super::class::Kind;
use super::outcome::Finding;
use std::cmp::Ordering;
use std::collections::HashMap;

/// Ranks `fired` (in any order); `explains` maps every rule id to the ids it explains.
#[must_use]
pub fn rank<S: std::hash::BuildHasher>(
    fired: Vec<Finding>,
    explains: &HashMap<&str, &[String], S>,
) -> Vec<Finding> {
    let by_strength = |a: &Finding, b: &Finding| -> Ordering {
        b.score
            .total_cmp(&a.score)
            .then(b.severity.cmp(&a.severity))
            .then(a.id.cmp(&b.id))
    };
    let mut causes: Vec<&Finding> = fired.iter().filter(|f| f.kind == Kind::RootCause).collect();
    causes.sort_by(|a, b| by_strength(a, b));

    // Each firing finding's direct explainer: the strongest firing cause (not itself) that lists it.
    let mut parent: HashMap<&str, &str> = HashMap::new();
    for f in &fired {
        if let Some(cause) = causes.iter().find(|c| {
            c.id != f.id
                && explains
                    .get(c.id.as_str())
                    .is_some_and(|ids| ids.contains(&f.id))
        }) {
            parent.insert(f.id.as_str(), cause.id.as_str());
        }
    }
    // Causes that explain each other in a circle: the strongest of the circle starts it.
    for c in &causes {
        let mut seen = vec![c.id.as_str()];
        let mut at = c.id.as_str();
        while let Some(&next) = parent.get(at) {
            if let Some(i) = seen.iter().position(|s| *s == next) {
                let circle = &seen[i..];
                let start = causes
                    .iter()
                    .find(|k| circle.contains(&k.id.as_str()))
                    .map(|k| k.id.as_str());
                if let Some(start) = start {
                    parent.remove(start);
                }
                break;
            }
            seen.push(next);
            at = next;
        }
    }
    // The cause at the start of each finding's chain.
    let top_of = |id: &str| -> Option<&str> {
        let mut at = parent.get(id).copied()?;
        while let Some(&next) = parent.get(at) {
            at = next;
        }
        Some(at)
    };

    // Groups: a top-level finding and everything its chains explain.
    let mut groups: Vec<(&Finding, Vec<&Finding>)> = fired
        .iter()
        .filter(|f| !parent.contains_key(f.id.as_str()))
        .map(|top| {
            let mut children: Vec<&Finding> = fired
                .iter()
                .filter(|f| top_of(f.id.as_str()) == Some(top.id.as_str()))
                .collect();
            children.sort_by(|a, b| by_strength(a, b));
            (top, children)
        })
        .collect();
    let strongest = |g: &(&Finding, Vec<&Finding>)| -> f64 {
        g.1.iter().map(|c| c.score).fold(g.0.score, f64::max)
    };
    groups.sort_by(|a, b| {
        strongest(b)
            .total_cmp(&strongest(a))
            .then_with(|| by_strength(a.0, b.0))
    });

    let mut out = Vec::with_capacity(fired.len());
    for (top, children) in groups {
        let mut head = top.clone();
        head.explains = children.iter().map(|c| c.id.clone()).collect();
        out.push(head);
        for c in children {
            let mut child = c.clone();
            child.explained_by = parent.get(c.id.as_str()).map(|p| (*p).to_owned());
            out.push(child);
        }
    }
    for (i, f) in out.iter_mut().enumerate() {
        f.rank = i as u32 + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Layer, Severity};

    fn f(id: &str, kind: Kind, score: f64) -> Finding {
        Finding {
            rank: 0,
            host: None,
            id: id.into(),
            title: id.into(),
            layer: Layer::Cpu,
            kind,
            severity: if score >= 80.0 {
                Severity::Critical
            } else {
                Severity::Warning
            },
            score,
            summary: String::new(),
            evidence: Vec::new(),
            fix: String::new(),
            explains: Vec::new(),
            explained_by: None,
            from: Vec::new(),
        }
    }

    fn ids(v: &[Finding]) -> Vec<(&str, u32)> {
        v.iter().map(|f| (f.id.as_str(), f.rank)).collect()
    }

    #[test]
    fn by_score_when_nothing_explains_anything() {
        let out = rank(
            vec![f("a", Kind::RootCause, 60.0), f("b", Kind::Symptom, 90.0)],
            &HashMap::new(),
        );
        assert_eq!(ids(&out), [("b", 1), ("a", 2)]);
    }

    #[test]
    fn cause_above_the_symptom_it_explains_even_when_weaker() {
        let slow = vec!["pool".to_owned()];
        let unrelated: Vec<String> = Vec::new();
        let explains = HashMap::from([("disk", slow.as_slice()), ("cpu", unrelated.as_slice())]);
        let out = rank(
            vec![
                f("pool", Kind::Symptom, 95.0),
                f("cpu", Kind::RootCause, 70.0),
                f("disk", Kind::RootCause, 55.0),
            ],
            &explains,
        );
        assert_eq!(ids(&out), [("disk", 1), ("pool", 2), ("cpu", 3)]);
        assert_eq!(out[0].explains, ["pool"]);
        assert_eq!(out[1].explained_by.as_deref(), Some("disk"));
        assert!(out[2].explains.is_empty());
    }

    #[test]
    fn symptom_goes_under_the_strongest_of_its_causes() {
        let e = vec!["q".to_owned()];
        let explains = HashMap::from([("a", e.as_slice()), ("b", e.as_slice())]);
        let out = rank(
            vec![
                f("q", Kind::Symptom, 50.0),
                f("a", Kind::RootCause, 60.0),
                f("b", Kind::RootCause, 70.0),
            ],
            &explains,
        );
        assert_eq!(ids(&out), [("b", 1), ("q", 2), ("a", 3)]);
    }

    /// Full scans explain the CPU they saturate, which explains the overflowing accept queue:
    /// all of it under the scans, each naming its direct explainer.
    #[test]
    fn a_cause_explains_another_cause_and_chains_end_at_their_start() {
        let scans = vec!["cpu".to_owned(), "pool".to_owned()];
        let cpu = vec!["queue".to_owned()];
        let explains = HashMap::from([("scans", scans.as_slice()), ("cpu", cpu.as_slice())]);
        let out = rank(
            vec![
                f("queue", Kind::Symptom, 95.0),
                f("cpu", Kind::RootCause, 90.0),
                f("scans", Kind::RootCause, 60.0),
                f("other", Kind::RootCause, 70.0),
            ],
            &explains,
        );
        assert_eq!(
            ids(&out),
            [("scans", 1), ("queue", 2), ("cpu", 3), ("other", 4)]
        );
        assert_eq!(out[0].explains, ["queue", "cpu"]);
        assert_eq!(out[1].explained_by.as_deref(), Some("cpu"));
        assert_eq!(out[2].explained_by.as_deref(), Some("scans"));
        assert_eq!(out[3].explained_by, None);
    }

    /// Two causes that list each other: the stronger starts, the weaker goes under it, and
    /// nothing is lost or shown twice.
    #[test]
    fn causes_explaining_each_other_put_the_weaker_under_the_stronger() {
        let a = vec!["b".to_owned()];
        let b = vec!["a".to_owned()];
        let explains = HashMap::from([("a", a.as_slice()), ("b", b.as_slice())]);
        let out = rank(
            vec![f("a", Kind::RootCause, 50.0), f("b", Kind::RootCause, 80.0)],
            &explains,
        );
        assert_eq!(ids(&out), [("b", 1), ("a", 2)]);
        assert_eq!(out[1].explained_by.as_deref(), Some("b"));
    }
}
