//! A rule test file, `<rules dir>/tests/<rule id>.toml`: read, then checked against the rules
//! and its snapshots before anything runs, so a typo is an error at its `file:line:column`
//! (exit 2), never a case that passes or fails for the wrong reason.
//!
//! ```toml
//! [[case]]
//! name = "19.9 new connections/s, just under the 20/s it fires at"
//! snapshot = "fixtures/mysql-connection-churn.json"   # from this folder or one above it
//! set = { "mysql.global_status.Connections.per_s" = 19.9 }
//! expect = "quiet"                      # fires | quiet | partly-checked | not-checked
//! ```

use super::expect::{self, Expect};
use super::format::{RawCase, RawFile, Src, TestError};
use super::input::{self, Cache};
use crate::engine::rules::line_col;
use crate::engine::{Catalogue, Rule};
use crate::snapshot::Snapshot;
use std::path::Path;
use toml::Spanned;

/// One `[[case]]`, checked and with its snapshot built.
#[derive(Debug)]
pub struct Case {
    /// The line of its `[[case]]`.
    pub line: usize,
    pub name: String,
    pub rule: String,
    /// The snapshot as results name it: its path, or `a hand-written snapshot`.
    pub source: String,
    pub hand_written: Option<String>,
    /// The paths of the fields the case sets, as written.
    pub set: Vec<String>,
    pub snapshot: Snapshot,
    pub expect: Expect,
}

/// One test file: the cases of one rule.
#[derive(Debug)]
pub struct TestFile {
    /// As shown in results and errors.
    pub shown: String,
    /// The id of the rule it tests: the file's name.
    pub rule: String,
    pub cases: Vec<Case>,
}

/// Reads `real` (shown as `shown`) and checks every case against `catalogue`; every problem
/// found, not only the first.
pub fn load(
    real: &Path,
    shown: &str,
    catalogue: &Catalogue,
    cache: &mut Cache,
) -> Result<TestFile, Vec<TestError>> {
    let text = std::fs::read_to_string(real).map_err(|source| {
        vec![TestError::Io {
            path: shown.to_owned(),
            source,
        }]
    })?;
    let src = Src { shown, text: &text };
    let raw: RawFile = toml::from_str(&text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        vec![src.at(offset, e.message().trim_end())]
    })?;
    let id = real
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(rule) = catalogue.get(&id) else {
        return Err(vec![src.at(
            0,
            format!(
                "tests a rule `{id}` that is not loaded: a test file is named after the rule it \
                 tests (`doctor rules list` shows the rules)"
            ),
        )]);
    };
    if raw.cases.is_empty() {
        return Err(vec![src.at(
            0,
            "has no `[[case]]`: each case names a snapshot and what the rule must make of it \
             (docs/rules.md, \"Testing a rule\")",
        )]);
    }
    let dir = real.parent().unwrap_or(Path::new("."));
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for raw_case in raw.cases {
        let line = line_col(&text, raw_case.span().start).0;
        match case(
            &src,
            dir,
            catalogue,
            rule,
            line,
            raw_case.into_inner(),
            cache,
        ) {
            Ok(c) => cases.push(c),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(TestFile {
            shown: shown.to_owned(),
            rule: id,
            cases,
        })
    } else {
        Err(errors)
    }
}

fn case(
    src: &Src<'_>,
    dir: &Path,
    catalogue: &Catalogue,
    rule: &Rule,
    line: usize,
    raw: RawCase,
    cache: &mut Cache,
) -> Result<Case, TestError> {
    let expect = expect::expectations(src, catalogue, rule, &raw)?;
    let (source, hand_written, snapshot) = build_snapshot(src, dir, &raw, cache)?;
    Ok(Case {
        line,
        name: raw.name.get_ref().clone(),
        rule: rule.id.clone(),
        source,
        hand_written,
        set: raw.set.keys().map(|k| k.get_ref().clone()).collect(),
        snapshot,
        expect,
    })
}

/// The case's snapshot: a file, or written in the case (TOML tables or JSON text), then the
/// fields it sets.
fn build_snapshot(
    src: &Src<'_>,
    dir: &Path,
    raw: &RawCase,
    cache: &mut Cache,
) -> Result<(String, Option<String>, Snapshot), TestError> {
    let (base, key_offset, hand_written) = match (&raw.snapshot, &raw.snapshot_json) {
        (Some(_), Some(json)) => {
            return Err(src.at(
                json.span().start,
                "a case has one snapshot: `snapshot` (a file, or tables) or `snapshot_json`",
            ));
        }
        (None, None) => {
            return Err(src.at(
                raw.name.span().start,
                "the case names no snapshot: `snapshot = \"fixtures/<name>.json\"`, or one \
                 written in the case (`[case.snapshot.<section>]` tables or `snapshot_json`, \
                 with `hand_written = \"why\"`)",
            ));
        }
        (Some(s), None) => match s.get_ref() {
            toml::Value::String(path) => from_file(src, dir, raw, s, path, cache)?,
            toml::Value::Table(t) => {
                let json = serde_json::to_value(t)
                    .map_err(|e| src.at(s.span().start, format!("the snapshot tables: {e}")))?;
                (
                    input::Base::Sections(json, "a hand-written snapshot".into()),
                    s.span().start,
                    Some(hand(src, raw)?),
                )
            }
            _ => {
                return Err(src.at(
                    s.span().start,
                    "`snapshot` is a file (a recorded `\"fixtures/<name>.json\"`, or a \
                     hand-written `.toml` of sections) or tables of the snapshot's sections \
                     (`[case.snapshot.cpu]`)",
                ));
            }
        },
        (None, Some(json)) => {
            let value: serde_json::Value = serde_json::from_str(json.get_ref()).map_err(|e| {
                src.at(
                    json.span().start,
                    format!("`snapshot_json`: {e} (lines and columns of the JSON text)"),
                )
            })?;
            if !value.is_object() {
                return Err(src.at(
                    json.span().start,
                    "`snapshot_json` is a JSON object of the snapshot's sections",
                ));
            }
            (
                input::Base::Sections(value, "a hand-written snapshot".into()),
                json.span().start,
                Some(hand(src, raw)?),
            )
        }
    };
    let mut sets = Vec::with_capacity(raw.set.len());
    for (path, value) in &raw.set {
        let steps = input::parse_path(path.get_ref())
            .map_err(|e| src.at(path.span().start, format!("`set`: {e}")))?;
        let json = serde_json::to_value(value.get_ref())
            .map_err(|e| src.at(value.span().start, format!("`set`: {e}")))?;
        sets.push((path.get_ref().as_str(), path.span().start, steps, json));
    }
    let shown = base.shown();
    let snapshot = input::build(base, &sets).map_err(|e| match e {
        input::BuildError::Set { offset, problem } => src.at(offset, format!("`set`: {problem}")),
        input::BuildError::Load(problem) => src.at(key_offset, problem),
    })?;
    Ok((shown, hand_written, snapshot))
}

/// A snapshot file the case names: recorded JSON, or a hand-written `.toml` of sections.
fn from_file(
    src: &Src<'_>,
    dir: &Path,
    raw: &RawCase,
    s: &Spanned<toml::Value>,
    path: &str,
    cache: &mut Cache,
) -> Result<(input::Base, usize, Option<String>), TestError> {
    if let Some(h) = &raw.hand_written {
        return Err(src.at(
            h.span().start,
            "`hand_written` marks a snapshot written in the case; a recorded file \
             says how it was made in its notes, a hand-written `.toml` file in its \
             own `hand_written`",
        ));
    }
    let resolved = input::resolve(dir, path).ok_or_else(|| {
        src.at(
            s.span().start,
            format!(
                "there is no snapshot `{path}` in {} or a folder above it",
                dir.display()
            ),
        )
    })?;
    let bytes = cache
        .read(&resolved)
        .map_err(|e| src.at(s.span().start, e))?;
    if resolved.extension().is_some_and(|e| e == "toml") {
        let (sections, why) =
            input::hand_written_file(path, &bytes).map_err(|e| src.at(s.span().start, e))?;
        let shown = format!("{path}, hand-written");
        Ok((
            input::Base::Sections(sections, shown),
            s.span().start,
            Some(why),
        ))
    } else {
        Ok((
            input::Base::File(path.to_owned(), bytes),
            s.span().start,
            None,
        ))
    }
}

fn hand(src: &Src<'_>, raw: &RawCase) -> Result<String, TestError> {
    match &raw.hand_written {
        Some(h) if !h.get_ref().trim().is_empty() => Ok(h.get_ref().trim().to_owned()),
        _ => Err(src.at(
            raw.name.span().start,
            "a snapshot written in the case needs `hand_written = \"why\"`: what one machine \
             cannot record, or why a recorded fixture does not do",
        )),
    }
}
