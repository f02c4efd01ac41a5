//! Reading a saved snapshot back, with errors a user can act on.

use super::bundle::{BUNDLE_VERSION, Bundle};
use super::top::{SCHEMA_VERSION, Snapshot};
use std::path::{Path, PathBuf};

/// What a file holds: one host's snapshot, or a bundle of several hosts' (schema 2).
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    One(Box<Snapshot>),
    Bundle(Bundle),
}

/// Why a snapshot file could not be read. Each variant names the file and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is empty: expected a snapshot written by `doctor snapshot`")]
    Empty { path: PathBuf },
    #[error("{path}: line {line}, column {column}: {problem}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        problem: String,
    },
    #[error("{path}: not a doctor snapshot: the top level must be an object with a `schema` field")]
    NotASnapshot { path: PathBuf },
    #[error(
        "{path}: snapshot schema version {found} is not supported (this doctor reads version {SCHEMA_VERSION}, \
         and {BUNDLE_VERSION} for several hosts in one file); re-record it with this doctor or use the doctor that wrote it"
    )]
    Version { path: PathBuf, found: String },
    #[error(
        "{path} holds {hosts} hosts (a bundle, schema {BUNDLE_VERSION}); this command reads one host's snapshot: \
         take one out with `jq '.hosts[0].snapshot'`, or use `doctor analyze`, which reads bundles"
    )]
    Bundle { path: PathBuf, hosts: usize },
    #[error("{path}: at `{field}`: {problem}")]
    Invalid {
        path: PathBuf,
        field: String,
        problem: String,
    },
}

/// Reads and validates a snapshot file.
pub fn load(path: &Path) -> Result<Snapshot, LoadError> {
    let text = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    from_json(&text, path)
}

/// Parses snapshot JSON; `path` is only used in error messages. A bundle of several hosts is
/// refused with a message saying so (see [`any_from_json`]).
pub fn from_json(text: &[u8], path: &Path) -> Result<Snapshot, LoadError> {
    match any_from_json(text, path)? {
        Loaded::One(s) => Ok(*s),
        Loaded::Bundle(b) => {
            let hosts = b.hosts.len();
            match (b.hosts.into_iter().next(), hosts) {
                (Some(one), 1) => Ok(one.snapshot),
                _ => Err(LoadError::Bundle {
                    path: path.to_owned(),
                    hosts,
                }),
            }
        }
    }
}

/// Reads a file holding a snapshot or a bundle of them.
pub fn load_any(path: &Path) -> Result<Loaded, LoadError> {
    let text = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    any_from_json(&text, path)
}

/// Parses a snapshot or a bundle; `path` is only used in error messages.
pub fn any_from_json(text: &[u8], path: &Path) -> Result<Loaded, LoadError> {
    let path = path.to_owned();
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(LoadError::Empty { path });
    }
    // A well-formed snapshot of this version is read in one pass, straight into the types. Any
    // problem at all (bad syntax, another version, a wrong field, a key given twice) takes the
    // two steps below instead, which say exactly what and where; they also decide a file this
    // pass refuses but they accept (a key given twice: the last one counts), so what loads
    // is what loaded before.
    if let Some(snapshot) = one_pass(text) {
        return Ok(Loaded::One(Box::new(snapshot)));
    }
    two_steps(text, path)
}

/// Syntax first (`serde_json` reports line and column), then the structure (reported as a field
/// path), so a truncated file and a wrong field both say exactly where.
fn two_steps(text: &[u8], path: PathBuf) -> Result<Loaded, LoadError> {
    let value: serde_json::Value = serde_json::from_slice(text).map_err(|e| LoadError::Syntax {
        path: path.clone(),
        line: e.line(),
        column: e.column(),
        problem: syntax_problem(&e),
    })?;
    let Some(schema) = value.as_object().and_then(|o| o.get("schema")) else {
        return Err(LoadError::NotASnapshot { path });
    };
    let invalid = |path: PathBuf| {
        move |e: serde_path_to_error::Error<serde_json::Error>| LoadError::Invalid {
            path,
            field: e.path().to_string(),
            problem: e.into_inner().to_string(),
        }
    };
    match schema.as_u64() {
        Some(v) if v == u64::from(SCHEMA_VERSION) => serde_path_to_error::deserialize(value)
            .map(|s| Loaded::One(Box::new(s)))
            .map_err(invalid(path)),
        Some(v) if v == u64::from(BUNDLE_VERSION) && value.get("hosts").is_none() => {
            Err(LoadError::Invalid {
                path,
                field: "hosts".to_owned(),
                problem: format!(
                    "schema {BUNDLE_VERSION} is a bundle of several hosts' snapshots and needs \
                     `hosts`; a one-host snapshot is schema {SCHEMA_VERSION}"
                ),
            })
        }
        Some(v) if v == u64::from(BUNDLE_VERSION) => {
            let bundle: Bundle =
                serde_path_to_error::deserialize(value).map_err(invalid(path.clone()))?;
            bundle_checked(bundle, path)
        }
        _ => Err(LoadError::Version {
            path,
            found: schema.to_string(),
        }),
    }
}

/// A bundle's hosts are snapshots this doctor reads, and there is at least one.
fn bundle_checked(bundle: Bundle, path: PathBuf) -> Result<Loaded, LoadError> {
    if bundle.hosts.is_empty() {
        return Err(LoadError::Invalid {
            path,
            field: "hosts".to_owned(),
            problem: "a bundle holds at least one host".to_owned(),
        });
    }
    if let Some((i, h)) = bundle
        .hosts
        .iter()
        .enumerate()
        .find(|(_, h)| h.snapshot.schema != SCHEMA_VERSION)
    {
        return Err(LoadError::Invalid {
            path,
            field: format!("hosts[{i}].snapshot.schema"),
            problem: format!(
                "version {} is not supported (a bundle's hosts are version {SCHEMA_VERSION})",
                h.snapshot.schema
            ),
        });
    }
    Ok(Loaded::Bundle(bundle))
}

/// The snapshot, when `text` is one of the supported version that deserializes in one pass.
fn one_pass(text: &[u8]) -> Option<Snapshot> {
    use serde::Deserialize;
    let mut de = serde_json::Deserializer::from_slice(text);
    let snapshot = Snapshot::deserialize(&mut de).ok()?;
    de.end().ok()?;
    (snapshot.schema == SCHEMA_VERSION).then_some(snapshot)
}

fn syntax_problem(e: &serde_json::Error) -> String {
    let text = e.to_string();
    // serde_json appends " at line L column C", which the error already says.
    let text = text.split(" at line ").next().unwrap_or(&text).to_owned();
    if e.is_eof() {
        format!("{text} (the file is truncated)")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name);
        std::fs::read(path).unwrap()
    }

    /// Whenever the one pass reads a file, it reads what the two steps read.
    fn same(text: &[u8]) -> Option<Snapshot> {
        let fast = one_pass(text);
        if let Some(s) = &fast {
            let slow = two_steps(text, "t.json".into()).map_err(|e| e.to_string());
            assert_eq!(Ok(Loaded::One(Box::new(s.clone()))), slow);
        }
        fast
    }

    #[test]
    fn every_fixture_is_read_in_one_pass_as_in_two_steps() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                assert!(
                    same(&std::fs::read(&path).unwrap()).is_some(),
                    "{}",
                    path.display()
                );
                n += 1;
            }
        }
        assert!(n >= 10);
    }

    #[test]
    fn files_the_one_pass_refuses_load_as_before() {
        let text = String::from_utf8(fixture("healthy.json")).unwrap();
        let cases = [
            // a top-level key given twice: the two steps keep the last one
            text.replacen('{', "{\"schema\": 7,", 1),
            // another version, trailing text
            text.replacen("\"schema\": 1", "\"schema\": 3", 1),
            format!("{text} x"),
        ];
        for (i, case) in cases.iter().enumerate() {
            assert_ne!(case, &text, "case {i} changes the file");
            assert!(same(case.as_bytes()).is_none(), "case {i}");
        }
        assert!(from_json(cases[0].as_bytes(), Path::new("t.json")).is_ok());
        assert!(matches!(
            from_json(cases[1].as_bytes(), Path::new("t.json")),
            Err(LoadError::Version { .. })
        ));
        assert!(matches!(
            from_json(cases[2].as_bytes(), Path::new("t.json")),
            Err(LoadError::Syntax { .. })
        ));
    }

    /// The messages for a wrong section, as doctor gave them before sections were read in one
    /// pass (commit 154a8ac, `doctor analyze` on these files).
    #[test]
    fn a_wrong_section_is_named_as_before() {
        let healthy: serde_json::Value = serde_json::from_slice(&fixture("healthy.json")).unwrap();
        let cases: [(&str, serde_json::Value, &str); 5] = [
            (
                "busy_pct",
                "x".into(),
                "at `cpu`: busy_pct: invalid type: string \"x\", expected f64",
            ),
            (
                "message",
                5.into(),
                "at `cpu`: message: expected a string, found 5",
            ),
            (
                "status",
                "bogus".into(),
                "at `cpu`: status: unknown variant `bogus`, expected one of `ok`, `skipped`, `error`",
            ),
            (
                "idle_pct",
                serde_json::Value::Null,
                "at `cpu`: missing field `idle_pct`",
            ),
            (
                "",
                "x".into(),
                "at `cpu`: invalid type: string \"x\", expected a map",
            ),
        ];
        for (field, value, expected) in cases {
            let mut v = healthy.clone();
            match field {
                "" => v["cpu"] = value,
                "idle_pct" => {
                    v["cpu"].as_object_mut().unwrap().remove("idle_pct");
                }
                _ => v["cpu"][field] = value,
            }
            let text = serde_json::to_vec_pretty(&v).unwrap();
            let e = from_json(&text, Path::new("t.json"))
                .unwrap_err()
                .to_string();
            assert_eq!(e, format!("t.json: {expected}"));
        }
    }

    #[test]
    fn files_the_one_pass_reads_are_read_as_before() {
        let text = String::from_utf8(fixture("healthy.json")).unwrap();
        // keys in another order, an unknown field, a section's key given twice
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut reordered = serde_json::to_string(&v).unwrap();
        reordered.insert_str(1, "\"from_the_future\": [1, {}],");
        let twice = text.replacen(
            "\"status\": \"ok\"",
            "\"status\": \"error\", \"status\": \"ok\"",
            1,
        );
        // an envelope key given twice in a section in doctor's order: the last one counts (the
        // first section's own elapsed_ms, whatever the recording measured)
        let key = "\"status\": \"ok\",\n    \"elapsed_ms\": ";
        let at = text.find(key).expect("a section that is ok") + key.len();
        let value = &text[at..at + text[at..].find(',').unwrap()];
        let envelope_twice = text.replacen(
            &format!("{key}{value},"),
            &format!("{key}99, \"elapsed_ms\": {value},"),
            1,
        );
        assert_ne!(envelope_twice, text);
        assert!(one_pass(envelope_twice.as_bytes()).is_none());
        assert_eq!(
            from_json(envelope_twice.as_bytes(), Path::new("t.json")).unwrap(),
            from_json(text.as_bytes(), Path::new("t.json")).unwrap()
        );
        for case in [reordered, twice] {
            assert_ne!(case, text);
            assert!(same(case.as_bytes()).is_some(), "{}", &case[..80]);
        }
    }

    #[test]
    fn a_bundle_loads_and_a_one_host_reader_names_it() {
        let healthy: serde_json::Value = serde_json::from_slice(&fixture("healthy.json")).unwrap();
        let host = |name: &str| serde_json::json!({"name": name, "snapshot": healthy.clone()});
        let two = serde_json::json!({"schema": 2, "doctor_version": "x", "hosts": [host("a"), host("b")]});
        let text = serde_json::to_vec(&two).unwrap();
        let Ok(Loaded::Bundle(b)) = any_from_json(&text, Path::new("b.json")) else {
            panic!("a bundle")
        };
        assert_eq!(b.hosts.len(), 2);
        assert_eq!(b.hosts[1].name, "b");
        let e = from_json(&text, Path::new("b.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("b.json holds 2 hosts"), "{e}");
        // One host in a bundle is that host's snapshot.
        let one = serde_json::json!({"schema": 2, "doctor_version": "x", "hosts": [host("a")]});
        assert!(from_json(&serde_json::to_vec(&one).unwrap(), Path::new("o.json")).is_ok());
    }

    #[test]
    fn a_bad_host_in_a_bundle_is_named_by_its_place() {
        let mut healthy: serde_json::Value =
            serde_json::from_slice(&fixture("healthy.json")).unwrap();
        let good = healthy.clone();
        healthy["cpu"]["busy_pct"] = "x".into();
        let bundle = serde_json::json!({"schema": 2, "doctor_version": "x", "hosts": [
            {"name": "a", "snapshot": good.clone()}, {"name": "b", "snapshot": healthy}]});
        let e = any_from_json(&serde_json::to_vec(&bundle).unwrap(), Path::new("b.json"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("b.json: at `hosts[1].snapshot.cpu"), "{e}");
        let mut old = good.clone();
        old["schema"] = 7.into();
        let bundle = serde_json::json!({"schema": 2, "doctor_version": "x", "hosts": [{"name": "a", "snapshot": old}]});
        let e = any_from_json(&serde_json::to_vec(&bundle).unwrap(), Path::new("b.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("hosts[0].snapshot.schema"), "{e}");
        let empty = serde_json::json!({"schema": 2, "doctor_version": "x", "hosts": []});
        let e = any_from_json(&serde_json::to_vec(&empty).unwrap(), Path::new("b.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least one host"), "{e}");
    }
}
