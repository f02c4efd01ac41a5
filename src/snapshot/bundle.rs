//! Several hosts in one file: a bundle of snapshots (schema version 2).
//!
//! A bundle is not a new kind of snapshot but a list of them, each exactly what `doctor
//! snapshot` writes on its host (schema 1, its own host facts, window and sections), so every
//! part of the format keeps one meaning and a host can be taken out of a bundle unchanged. A
//! doctor that reads only version 1 refuses a bundle with its version message rather than
//! reading the first host and dropping the others.

use super::top::Snapshot;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the bundle format: the snapshot format's version plus one, so one `schema`
/// field tells a reader which of the two it holds.
pub const BUNDLE_VERSION: u32 = 2;

/// Snapshots of several hosts, analysed together (`doctor analyze a.json b.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Bundle {
    /// Format version: 2.
    pub schema: u32,
    /// The doctor version that wrote the file.
    pub doctor_version: String,
    /// One snapshot per host, in the order given; each is a complete schema-1 snapshot.
    pub hosts: Vec<NamedSnapshot>,
}

/// One host of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NamedSnapshot {
    /// The name the report uses for this host: its hostname, or the file it came from when
    /// the hostname is unknown or shared with another host of the bundle.
    pub name: String,
    pub snapshot: Snapshot,
}

impl Bundle {
    #[must_use]
    pub fn new(hosts: Vec<NamedSnapshot>) -> Bundle {
        Bundle {
            schema: BUNDLE_VERSION,
            doctor_version: env!("CARGO_PKG_VERSION").to_owned(),
            hosts,
        }
    }
}

/// Names for snapshots read from `sources` (file names): each host's hostname, unless it is
/// unknown or two snapshots share it, then `hostname (file stem)` or the file stem, made
/// unique by a number if still needed.
#[must_use]
pub fn names(snapshots: &[(&Snapshot, &str)]) -> Vec<String> {
    let hostname = |s: &Snapshot| s.host.hostname.clone().filter(|h| !h.is_empty());
    let stem = |src: &str| {
        std::path::Path::new(src)
            .file_stem()
            .map_or_else(|| src.to_owned(), |s| s.to_string_lossy().into_owned())
    };
    let mut names: Vec<String> = snapshots
        .iter()
        .map(|(s, src)| {
            let shared = hostname(s).is_some_and(|h| {
                snapshots
                    .iter()
                    .filter(|(o, _)| hostname(o).as_deref() == Some(h.as_str()))
                    .count()
                    > 1
            });
            match hostname(s) {
                Some(h) if !shared => h,
                Some(h) => format!("{h} ({})", stem(src)),
                None => stem(src),
            }
        })
        .collect();
    for i in 0..names.len() {
        let mut n = 2;
        while names[..i].contains(&names[i]) {
            let base = names[i].trim_end_matches(|c: char| c.is_ascii_digit() || c == '#');
            names[i] = format!("{base}#{n}");
            n += 1;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(hostname: Option<&str>) -> Snapshot {
        let text = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/healthy.json"
        ))
        .unwrap();
        let mut s = super::super::from_json(&text, std::path::Path::new("h.json")).unwrap();
        s.host.hostname = hostname.map(ToOwned::to_owned);
        s
    }

    #[test]
    fn hostnames_when_unique_else_the_file_beside() {
        let (a, b, c) = (snap(Some("app1")), snap(Some("db1")), snap(None));
        assert_eq!(
            names(&[(&a, "x/a.json"), (&b, "b.json"), (&c, "paste.txt")]),
            ["app1", "db1", "paste"]
        );
        let (d, e) = (snap(Some("vm")), snap(Some("vm")));
        assert_eq!(
            names(&[(&d, "laptop.json"), (&e, "server.json")]),
            ["vm (laptop)", "vm (server)"]
        );
        assert_eq!(
            names(&[(&d, "s.json"), (&e, "dir/s.json")]),
            ["vm (s)", "vm (s)#2"]
        );
    }
}
