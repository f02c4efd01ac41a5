//! The snapshot a case runs on: a file found from the test file's folder, or sections written
//! in the case on a plain host, then the fields the case sets.
//!
//! Both end up as snapshot JSON read by `snapshot::from_json`, the reader `doctor analyze`
//! uses, so a case sees exactly what a saved snapshot would give, and a field set to the wrong
//! type is refused with the path to it.

use crate::snapshot::{self, Snapshot};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Snapshot files read so far: the cases of a folder often share a fixture.
#[derive(Default)]
pub struct Cache {
    files: HashMap<PathBuf, Arc<Vec<u8>>>,
}

impl Cache {
    pub fn read(&mut self, path: &Path) -> Result<Arc<Vec<u8>>, String> {
        if let Some(bytes) = self.files.get(path) {
            return Ok(Arc::clone(bytes));
        }
        let bytes = Arc::new(
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        );
        self.files.insert(path.to_owned(), Arc::clone(&bytes));
        Ok(bytes)
    }
}

/// `written` as it is when absolute; else from `dir`, or the first folder above it that has it
/// (so `fixtures/x.json` in `rules/tests/` is the repository's `fixtures/x.json`).
pub fn resolve(dir: &Path, written: &str) -> Option<PathBuf> {
    let p = Path::new(written);
    if p.is_absolute() {
        return p.is_file().then(|| p.to_owned());
    }
    dir.ancestors().map(|d| d.join(p)).find(|c| c.is_file())
}

/// What a case's snapshot starts from.
pub enum Base {
    /// A file: as written in the case, and its bytes.
    File(String, Arc<Vec<u8>>),
    /// Sections written by hand (in the case, or a `.toml` file of them), as JSON, and how
    /// results name them.
    Sections(Value, String),
}

impl Base {
    /// How results name it.
    pub fn shown(&self) -> String {
        match self {
            Base::File(path, _) => path.clone(),
            Base::Sections(_, shown) => shown.clone(),
        }
    }
}

/// A hand-written snapshot file (`written`, its `bytes`): TOML tables of the snapshot's
/// sections, like a case's `[case.snapshot.<section>]`, with `hand_written = "why"` at the top.
/// Returns the sections as JSON and why.
pub fn hand_written_file(written: &str, bytes: &[u8]) -> Result<(Value, String), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("{written}: not UTF-8 text: {e}"))?;
    let mut table: toml::Table = toml::from_str(text).map_err(|e| {
        let (line, column) = crate::engine::rules::line_col(text, e.span().map_or(0, |s| s.start));
        format!("{written}:{line}:{column}: {}", e.message().trim_end())
    })?;
    let why = match table.remove("hand_written") {
        Some(toml::Value::String(why)) if !why.trim().is_empty() => why.trim().to_owned(),
        _ => {
            return Err(format!(
                "{written}: a hand-written snapshot file says why it is written by hand: \
                 `hand_written = \"why\"` at its top"
            ));
        }
    };
    let value = serde_json::to_value(table).map_err(|e| format!("{written}: {e}"))?;
    Ok((value, why))
}

/// One step of a `set` path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(usize),
    /// `[field='value']`: the one item of a list whose `field` is `value`.
    Item {
        field: String,
        value: String,
    },
}

/// Parses `mysql.global_status.Threads_connected.total`, `disks.devices[0].util_pct`,
/// `tcp.sysctls['net.core.somaxconn']`: names as CEL reads them; and `disks.devices[name='vda']`,
/// the item of a list with that name (which a re-recorded fixture keeps, unlike its position).
pub fn parse_path(text: &str) -> Result<Vec<Step>, String> {
    let bad = |why: &str| {
        format!(
            "`{text}` is not a field path ({why}); write it as a rule reads it: \
             `mysql.global_status.Threads_connected.total`, `disks.devices[0].util_pct`, \
             `disks.devices[name='vda'].util_pct`, `tcp.sysctls['net.core.somaxconn']`"
        )
    };
    let mut steps = Vec::new();
    let mut rest = text;
    let mut first = true;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']').ok_or_else(|| bad("a `[` is not closed"))?;
            let inner = after[..close].trim();
            let quoted = |text: &str| {
                ['\'', '"'].iter().find_map(|q| {
                    text.strip_prefix(*q)
                        .and_then(|s| s.strip_suffix(*q))
                        .filter(|s| !s.contains(*q))
                        .map(ToOwned::to_owned)
                })
            };
            let item = inner
                .split_once('=')
                .filter(|(field, _)| !field.trim().is_empty() && !field.contains(['\'', '"']))
                .and_then(|(field, value)| {
                    quoted(value.trim()).map(|value| Step::Item {
                        field: field.trim().to_owned(),
                        value,
                    })
                });
            steps.push(match (item, quoted(inner)) {
                (Some(item), _) => item,
                (None, Some(key)) => Step::Key(key),
                (None, None) => Step::Index(inner.parse().map_err(|_| {
                    bad("inside `[...]` goes an index, a quoted key or `name='value'`")
                })?),
            });
            rest = &after[close + 1..];
        } else {
            let name = if first {
                rest
            } else {
                rest.strip_prefix('.')
                    .ok_or_else(|| bad("names are joined by `.`"))?
            };
            let end = name.find(['.', '[']).unwrap_or(name.len());
            if end == 0 {
                return Err(bad("an empty name"));
            }
            steps.push(Step::Key(name[..end].to_owned()));
            rest = &name[end..];
        }
        first = false;
    }
    if steps.is_empty() {
        return Err(bad("it is empty"));
    }
    Ok(steps)
}

/// Why a case's snapshot could not be built.
pub enum BuildError {
    /// A `set` whose key starts at `offset` in the test file.
    Set { offset: usize, problem: String },
    /// The snapshot itself.
    Load(String),
}

/// The snapshot: `base`, then each `(path as written, its offset, steps, value)` set.
pub fn build(base: Base, sets: &[(&str, usize, Vec<Step>, Value)]) -> Result<Snapshot, BuildError> {
    let (mut value, shown) = match base {
        Base::File(path, bytes) => {
            if sets.is_empty() {
                return snapshot::from_json(&bytes, Path::new(&path))
                    .map_err(|e| BuildError::Load(e.to_string()));
            }
            let value: Value = serde_json::from_slice(&bytes).map_err(|_| {
                // The reader's message says where.
                let e = snapshot::from_json(&bytes, Path::new(&path)).err();
                BuildError::Load(e.map_or_else(|| format!("{path}: not JSON"), |e| e.to_string()))
            })?;
            (value, format!("{path} with the fields the case sets"))
        }
        Base::Sections(sections, shown) => {
            (on_a_plain_host(sections).map_err(BuildError::Load)?, shown)
        }
    };
    for (written, offset, steps, new) in sets {
        set(&mut value, steps, new.clone()).map_err(|problem| BuildError::Set {
            offset: *offset,
            problem: format!("`{written}`: {problem}"),
        })?;
    }
    let text = serde_json::to_vec(&value).map_err(|e| BuildError::Load(e.to_string()))?;
    snapshot::from_json(&text, Path::new(&shown)).map_err(|e| BuildError::Load(e.to_string()))
}

/// Replaces the value at `steps`, which must exist: a misspelt name is an error, not a new
/// field no rule reads. (To add a field a snapshot lacks, set its parent object whole.)
fn set(root: &mut Value, steps: &[Step], new: Value) -> Result<(), String> {
    let mut at = root;
    let mut walked = String::new();
    for step in steps {
        let here = if walked.is_empty() {
            "the snapshot".to_owned()
        } else {
            format!("`{walked}`")
        };
        at = match (step, at) {
            (Step::Key(k), Value::Object(map)) => {
                let missing = match closest(k, map.keys()) {
                    Some(near) => format!("{here} has no `{k}` (did you mean `{near}`?)"),
                    None => format!("{here} has no `{k}`; it has: {}", keys(map)),
                };
                map.get_mut(k).ok_or(missing)?
            }
            (Step::Index(i), Value::Array(list)) => {
                let n = list.len();
                list.get_mut(*i)
                    .ok_or_else(|| format!("{here} has {n} items, so no [{i}]"))?
            }
            (Step::Key(k), other) => {
                return Err(format!(
                    "{here} is {}, not an object with `{k}`",
                    kind(other)
                ));
            }
            (Step::Item { field, value }, Value::Array(list)) => {
                let found: Vec<usize> = list
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.get(field).and_then(Value::as_str) == Some(value.as_str()))
                    .map(|(i, _)| i)
                    .collect();
                match found[..] {
                    [i] => &mut list[i],
                    [] => {
                        let names: Vec<String> = list
                            .iter()
                            .filter_map(|v| v.get(field).and_then(Value::as_str))
                            .map(|n| format!("'{n}'"))
                            .collect();
                        return Err(format!(
                            "no item of {here} has {field} '{value}'; they have: {}",
                            if names.is_empty() {
                                "none".to_owned()
                            } else {
                                names.join(", ")
                            }
                        ));
                    }
                    _ => {
                        return Err(format!(
                            "{} items of {here} have {field} '{value}': name one by its \
                             position ([0], [1], ...)",
                            found.len()
                        ));
                    }
                }
            }
            (Step::Index(i), other) => {
                return Err(format!("{here} is {}, not a list with [{i}]", kind(other)));
            }
            (Step::Item { field, value }, other) => {
                return Err(format!(
                    "{here} is {}, not a list with [{field}='{value}']",
                    kind(other)
                ));
            }
        };
        match step {
            Step::Key(k) if walked.is_empty() => walked.clone_from(k),
            Step::Key(k) if k.contains(['.', '[', ']']) => {
                let _ = write!(walked, "['{k}']");
            }
            Step::Key(k) => {
                walked.push('.');
                walked.push_str(k);
            }
            Step::Index(i) => {
                let _ = write!(walked, "[{i}]");
            }
            Step::Item { field, value } => {
                let _ = write!(walked, "[{field}='{value}']");
            }
        }
    }
    *at = new;
    Ok(())
}

/// The name nearest to `wanted` within two edits, if there is one.
fn closest<'a>(wanted: &str, names: impl Iterator<Item = &'a String>) -> Option<&'a str> {
    names
        .map(|n| (edits(wanted, n), n.as_str()))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| n)
}

/// Levenshtein distance, by characters.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

fn keys(map: &Map<String, Value>) -> String {
    const SHOWN: usize = 12;
    let mut names: Vec<&str> = map.keys().map(String::as_str).collect();
    names.sort_unstable();
    let more = names.len().saturating_sub(SHOWN);
    let mut text = names
        .into_iter()
        .take(SHOWN)
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        let _ = write!(text, " and {more} more");
    }
    if text.is_empty() {
        text.push_str("nothing");
    }
    text
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The message of a section a hand-written snapshot leaves out.
pub const LEFT_OUT: &str = "not in this hand-written snapshot";

/// The sections a case writes, on a 2-CPU, 4 GiB host over a 5 s window (`host`, `window` and
/// `overhead` given in the case change those fields); every other section `skipped`, so a
/// rule that needs one is "not checked" and says so.
fn on_a_plain_host(sections: Value) -> Result<Value, String> {
    let Value::Object(given) = sections else {
        return Err("the case's snapshot is not an object of sections".into());
    };
    let mut snap = serde_json::json!({
        "schema": snapshot::SCHEMA_VERSION,
        "doctor_version": "hand-written",
        "host": {"hostname": "hand-written", "kernel": "6.1.0", "cpus": 2,
                 "memory_bytes": 4_294_967_296_u64, "uptime_s": 86400.0},
        "window": {"start": "2025-01-01T00:00:00Z", "start_unix_ms": 1_735_689_600_000_u64,
                   "requested_ms": 5000, "elapsed_ms": 5000.0},
        "overhead": {"cpu_ms": 0.0, "max_rss_bytes": 0, "wall_ms": 0.0},
    });
    let top = snap.as_object_mut().expect("an object");
    for (key, value) in given {
        match (top.get_mut(&key), value) {
            (Some(Value::Object(ours)), Value::Object(theirs))
                if matches!(key.as_str(), "host" | "window" | "overhead") =>
            {
                ours.extend(theirs);
            }
            (_, value) => {
                top.insert(key, value);
            }
        }
    }
    for name in section_names() {
        top.entry(name)
            .or_insert_with(|| serde_json::json!({"status": "skipped", "message": LEFT_OUT}));
    }
    Ok(snap)
}

/// The names of the snapshot's sections, from the snapshot's own types.
fn section_names() -> Vec<String> {
    let empty = serde_json::json!({
        "schema": snapshot::SCHEMA_VERSION,
        "doctor_version": "",
        "host": {"hostname": "", "kernel": "", "cpus": 0, "memory_bytes": 0, "uptime_s": 0.0},
        "window": {"start": "", "start_unix_ms": 0, "requested_ms": 0, "elapsed_ms": 0.0},
        "overhead": {"cpu_ms": 0.0, "max_rss_bytes": 0, "wall_ms": 0.0},
    });
    let snap: Snapshot =
        serde_json::from_value(empty).expect("the empty snapshot matches the snapshot types");
    snap.collectors()
        .into_iter()
        .map(|c| c.name.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_as_cel_writes_them() {
        use Step::{Index, Key};
        let k = |s: &str| Key(s.to_owned());
        assert_eq!(
            parse_path("mysql.global_status.Threads_connected.total").unwrap(),
            [
                k("mysql"),
                k("global_status"),
                k("Threads_connected"),
                k("total")
            ]
        );
        assert_eq!(
            parse_path("disks.devices[0].util_pct").unwrap(),
            [k("disks"), k("devices"), Index(0), k("util_pct")]
        );
        assert_eq!(
            parse_path("tcp.sysctls['net.core.somaxconn']").unwrap(),
            [k("tcp"), k("sysctls"), k("net.core.somaxconn")]
        );
        assert_eq!(
            parse_path("disks.devices[name='vda'].util_pct").unwrap(),
            [
                k("disks"),
                k("devices"),
                Step::Item {
                    field: "name".into(),
                    value: "vda".into()
                },
                k("util_pct")
            ]
        );
        assert_eq!(
            parse_path("logs.categories[\"db-pool-exhausted\"].count").unwrap(),
            [
                k("logs"),
                k("categories"),
                k("db-pool-exhausted"),
                k("count")
            ]
        );
        for bad in ["", "a..b", "a[", "a[x]", ".a", "a.[0]"] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_set_path_must_exist() {
        let mut v = serde_json::json!({"cpu": {"cores": 2, "top": [{"pct": 1, "name": "a"}]}});
        let steps = |s| parse_path(s).unwrap();
        set(&mut v, &steps("cpu.top[0].pct"), 5.into()).unwrap();
        assert_eq!(v["cpu"]["top"][0]["pct"], 5);
        set(&mut v, &steps("cpu.top[name='a'].pct"), 6.into()).unwrap();
        assert_eq!(v["cpu"]["top"][0]["pct"], 6);
        let e = set(&mut v, &steps("cpu.top[name='b'].pct"), 1.into()).unwrap_err();
        assert_eq!(e, "no item of `cpu.top` has name 'b'; they have: 'a'");
        let e = set(&mut v, &steps("cpu.coers"), 1.into()).unwrap_err();
        assert_eq!(e, "`cpu` has no `coers` (did you mean `cores`?)");
        let e = set(&mut v, &steps("cpu.threads"), 1.into()).unwrap_err();
        assert_eq!(e, "`cpu` has no `threads`; it has: `cores`, `top`");
        let e = set(&mut v, &steps("cpu.top[3]"), 1.into()).unwrap_err();
        assert_eq!(e, "`cpu.top` has 1 items, so no [3]");
        let e = set(&mut v, &steps("cpu.cores.total"), 1.into()).unwrap_err();
        assert_eq!(e, "`cpu.cores` is a number, not an object with `total`");
    }

    #[test]
    fn a_hand_written_snapshot_skips_what_it_leaves_out() {
        let v = on_a_plain_host(serde_json::json!({"window": {"elapsed_ms": 3000.0}})).unwrap();
        let snap: Snapshot = serde_json::from_value(v).unwrap();
        assert!(snap.window.elapsed_ms == 3000.0 && snap.window.requested_ms == 5000);
        assert!(
            snap.collectors()
                .iter()
                .all(|c| c.message == Some(LEFT_OUT))
        );
    }
}
