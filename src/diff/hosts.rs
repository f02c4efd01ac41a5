//! `doctor diff` of two bundles (or a bundle and a snapshot): each host of A compared with its
//! counterpart in B. Hosts pair by name first (`db1` with `db1`); those left pair in order when
//! both sides have as many left, the database-serving ones with each other first — the
//! laptop's app with the server's app, the laptop's database with the server's. A host with
//! no counterpart is listed, never compared with a stranger.

use super::model::Diff;
use super::render;
use crate::engine::Catalogue;
use crate::snapshot::NamedSnapshot;
use schemars::JsonSchema;
use serde::Serialize;
use std::io::{self, Write};

/// The comparison of several hosts.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HostsDiff {
    pub pairs: Vec<Pair>,
    /// Hosts of A with no counterpart in B, and the other way round.
    pub only_in_a: Vec<String>,
    pub only_in_b: Vec<String>,
}

/// Two hosts compared.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Pair {
    pub a: String,
    pub b: String,
    /// `name` (the same name on both sides) or `order` (the names differ; paired as given,
    /// database hosts with database hosts).
    pub paired_by: String,
    pub diff: Diff,
}

impl HostsDiff {
    #[must_use]
    pub fn new(
        (file_a, a): (&str, &[NamedSnapshot]),
        (file_b, b): (&str, &[NamedSnapshot]),
        catalogue: &Catalogue,
        all: bool,
    ) -> HostsDiff {
        let (pairs, only_a, only_b) = pair(a, b);
        let label = |file: &str, h: &NamedSnapshot| format!("{file} [{}]", h.name);
        HostsDiff {
            pairs: pairs
                .into_iter()
                .map(|(i, j, by)| Pair {
                    a: a[i].name.clone(),
                    b: b[j].name.clone(),
                    paired_by: by.to_owned(),
                    diff: Diff::new(
                        (&label(file_a, &a[i]), &a[i].snapshot),
                        (&label(file_b, &b[j]), &b[j].snapshot),
                        catalogue,
                        all,
                    ),
                })
                .collect(),
            only_in_a: only_a.into_iter().map(|i| a[i].name.clone()).collect(),
            only_in_b: only_b.into_iter().map(|j| b[j].name.clone()).collect(),
        }
    }

    /// Whether a finding holds on one side only for some pair, or a host is on one side only.
    #[must_use]
    pub fn findings_differ(&self) -> bool {
        self.pairs.iter().any(|p| p.diff.findings_differ())
            || !self.only_in_a.is_empty()
            || !self.only_in_b.is_empty()
    }
}

/// Index pairs (A, B, how), then A's and B's hosts left without a counterpart.
#[allow(clippy::type_complexity)]
fn pair(
    a: &[NamedSnapshot],
    b: &[NamedSnapshot],
) -> (Vec<(usize, usize, &'static str)>, Vec<usize>, Vec<usize>) {
    let mut pairs = Vec::new();
    let mut left_b: Vec<usize> = (0..b.len()).collect();
    let mut left_a = Vec::new();
    for (i, h) in a.iter().enumerate() {
        if let Some(k) = left_b.iter().position(|&j| b[j].name == h.name) {
            pairs.push((i, left_b.remove(k), "name"));
        } else {
            left_a.push(i);
        }
    }
    if left_a.len() == left_b.len() {
        for db in [true, false] {
            let of = |side: &[NamedSnapshot], idx: &[usize]| -> Vec<usize> {
                idx.iter()
                    .copied()
                    .filter(|&k| crate::engine::hosts::serves_database(&side[k].snapshot) == db)
                    .collect()
            };
            let (xa, xb) = (of(a, &left_a), of(b, &left_b));
            if xa.len() == xb.len() {
                for (i, j) in xa.into_iter().zip(xb) {
                    pairs.push((i, j, "order"));
                    left_a.retain(|&k| k != i);
                    left_b.retain(|&k| k != j);
                }
            }
        }
        // Roles that do not match up: in order.
        if left_a.len() == left_b.len() {
            for (i, j) in left_a.drain(..).zip(left_b.drain(..)) {
                pairs.push((i, j, "order"));
            }
        }
    }
    pairs.sort_by_key(|p| p.0);
    (pairs, left_a, left_b)
}

/// `--format json`.
pub fn json(d: &HostsDiff, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, d)?;
    writeln!(out)
}

/// `--format table`: each pair's comparison under its hosts' names.
pub fn table(d: &HostsDiff, out: &mut impl Write) -> io::Result<()> {
    for (n, p) in d.pairs.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        writeln!(out, "── {} ↔ {} (paired by {}) ──", p.a, p.b, p.paired_by)?;
        render::table(&p.diff, out)?;
    }
    unpaired(d, out, "")
}

/// `--format markdown`.
pub fn markdown(d: &HostsDiff, out: &mut impl Write) -> io::Result<()> {
    for p in &d.pairs {
        writeln!(out, "## {} ↔ {} (paired by {})\n", p.a, p.b, p.paired_by)?;
        render::markdown(&p.diff, out)?;
        writeln!(out)?;
    }
    unpaired(d, out, "- ")
}

fn unpaired(d: &HostsDiff, out: &mut impl Write, bullet: &str) -> io::Result<()> {
    if !d.only_in_a.is_empty() || !d.only_in_b.is_empty() {
        writeln!(out)?;
    }
    for h in &d.only_in_a {
        writeln!(
            out,
            "{bullet}only in A: {h} (no host of B to compare it with)"
        )?;
    }
    for h in &d.only_in_b {
        writeln!(
            out,
            "{bullet}only in B: {h} (no host of A to compare it with)"
        )?;
    }
    Ok(())
}

/// The JSON Schema of `doctor diff --format json` with several hosts.
#[must_use]
pub fn json_schema() -> schemars::Schema {
    schemars::schema_for!(HostsDiff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, fixture: &str) -> NamedSnapshot {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(format!("{fixture}.json"));
        NamedSnapshot {
            name: name.to_owned(),
            snapshot: crate::snapshot::load(&path).unwrap(),
        }
    }

    #[test]
    fn by_name_then_database_with_database_then_in_order() {
        let a = [
            host("db1", "mysql-slow-disk"),
            host("app1", "accept-queue-overflow"),
        ];
        let b = [host("app1", "healthy"), host("db1", "pool-queue-limit")];
        let (p, oa, ob) = pair(&a, &b);
        assert_eq!(p, [(0, 1, "name"), (1, 0, "name")]);
        assert!(oa.is_empty() && ob.is_empty());

        // laptop vs server: names differ; the database hosts pair, then the rest.
        let a = [
            host("laptop-app", "accept-queue-overflow"),
            host("laptop-db", "mysql-slow-disk"),
        ];
        let b = [
            host("srv-db", "pool-queue-limit"),
            host("srv-app", "cpu-saturation"),
        ];
        let (p, _, _) = pair(&a, &b);
        assert_eq!(p, [(0, 1, "order"), (1, 0, "order")]);

        // Three against two with no names in common: nothing is compared with a stranger.
        let c = [
            host("x", "healthy"),
            host("y", "healthy"),
            host("z", "healthy"),
        ];
        let (p, oa, ob) = pair(&c, &b);
        assert!(p.is_empty());
        assert_eq!((oa.len(), ob.len()), (3, 2));
    }
}
