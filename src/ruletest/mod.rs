//! `doctor rules test`: a rule tested as data, without a live lab — `promtool test rules` and
//! ruff's per-rule fixtures applied to doctor's rules.
//!
//! A rule `<dir>/<id>.toml` has its tests in `<dir>/tests/<id>.toml` (a subfolder, so the rule
//! loader, which reads only the top of a rules folder, never takes a test for a rule). Each
//! `[[case]]` names a snapshot — a recorded fixture, that fixture with a few fields `set`, or a
//! small snapshot written in the case and marked `hand_written` with the reason — and what the
//! rule must make of it: fire (with a severity, a score, evidence values, a rank among the other
//! findings, the evidence groups that fired), stay quiet, or be (partly) not checked, with why.
//! The format is documented in `docs/rules.md`.
//!
//! Everything a test file says is checked before any case runs ([`file`]): its keys, the rule,
//! the rules and groups it names, the evidence labels, the snapshot and every field a case sets
//! in it. A mistake there is the file's (exit 2, `file:line:column`), not a failing case (exit 1).
//! The cases then run on the same engine `doctor analyze` uses ([`check`]), with the rules loaded
//! as `--rules DIR` loads them.

pub mod check;
pub mod expect;
pub mod file;
pub mod format;
mod input;
pub mod output;

pub use check::Failure;
pub use expect::{Expect, Text};
pub use file::{Case, TestFile};
pub use format::{Outcome, TestError};

use crate::engine::{Catalogue, analyze};
use std::path::{Path, PathBuf};

/// Where the built-in rules' tests are: `rules/tests/` of the source tree doctor was built
/// from. They read recorded fixtures (`fixtures/`, ~1.4 MB), which are not built into the
/// binary, so a binary away from its source tree runs only the tests of the folders it is given.
#[must_use]
pub fn builtin_tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("rules")
        .join("tests")
}

/// How one case came out.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The test file as shown (`rules/tests/<id>.toml` for a built-in rule's).
    pub file: String,
    /// The line of the case's `[[case]]`.
    pub line: usize,
    pub rule: String,
    pub name: String,
    pub expect: Outcome,
    /// The snapshot as the case names it (a path, or `a hand-written snapshot`).
    pub snapshot: String,
    /// Why the snapshot is hand-written, when it is.
    pub hand_written: Option<String>,
    /// The fields the case sets in it.
    pub set: Vec<String>,
    /// Empty when the case passed.
    pub failures: Vec<Failure>,
}

impl CaseResult {
    #[must_use]
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Every case's result, and what the reader should know about what was not run.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub results: Vec<CaseResult>,
    /// Rules loaded from a tested folder that have no case, by id.
    pub untested: Vec<String>,
    /// Folders without tests, built-in tests not found, ...
    pub notes: Vec<String>,
}

impl Run {
    #[must_use]
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed()).count()
    }
}

/// One folder of tests and the rules they run against.
struct Folder {
    catalogue: Catalogue,
    files: Vec<TestFile>,
    /// Ids of the rules this folder brings (the built-in ones for the built-in folder, none for a
    /// folder of tests only).
    own_rules: Vec<String>,
}

/// Runs the built-in rules' tests (when the source tree is there) and those of each rules
/// folder in `dirs` (`<dir>/tests/*.toml`, against the built-in rules plus `<dir>`'s).
///
/// # Errors
/// Every problem with the test files, the rules or the snapshots they name, before any case
/// runs; or that no test was found at all.
pub fn run(dirs: &[PathBuf]) -> Result<Run, Vec<TestError>> {
    run_with(&builtin_tests_dir(), dirs)
}

/// [`run`] with the built-in rules' tests read from `builtin`.
pub fn run_with(builtin: &Path, dirs: &[PathBuf]) -> Result<Run, Vec<TestError>> {
    let mut notes = Vec::new();
    let mut errors = Vec::new();
    let mut folders = Vec::new();
    if builtin.is_dir() {
        match load_folder(None, builtin, "rules/tests") {
            Ok(f) => folders.push(f),
            Err(mut e) => errors.append(&mut e),
        }
    } else {
        notes.push(format!(
            "the built-in rules' tests are not at {} (they are in doctor's source tree); only \
             the given folders' tests ran",
            builtin.display()
        ));
    }
    let builtin_rules = builtin.parent().and_then(|p| p.canonicalize().ok());
    let mut seen = Vec::new();
    for dir in dirs {
        if let Err(source) = std::fs::read_dir(dir) {
            errors.push(TestError::Io {
                path: dir.display().to_string(),
                source,
            });
            continue;
        }
        let canonical = dir.canonicalize().ok();
        if canonical.is_some() && (canonical == builtin_rules || seen.contains(&canonical)) {
            continue;
        }
        seen.push(canonical);
        let tests = dir.join("tests");
        if !tests.is_dir() {
            notes.push(format!(
                "{} has no tests/ folder: a rule <id>.toml is tested by tests/<id>.toml",
                dir.display()
            ));
        }
        match load_folder(Some(dir), &tests, &tests.display().to_string()) {
            Ok(f) => folders.push(f),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut run = Run {
        notes,
        ..Run::default()
    };
    for folder in &folders {
        for file in &folder.files {
            for case in &file.cases {
                let analysis = analyze(&folder.catalogue, &case.snapshot);
                run.results.push(CaseResult {
                    file: file.shown.clone(),
                    line: case.line,
                    rule: case.rule.clone(),
                    name: case.name.clone(),
                    expect: case.expect.outcome,
                    snapshot: case.source.clone(),
                    hand_written: case.hand_written.clone(),
                    set: case.set.clone(),
                    failures: check::check(case, &analysis),
                });
            }
        }
        for id in &folder.own_rules {
            let tested = folder
                .files
                .iter()
                .any(|f| f.rule == *id && !f.cases.is_empty());
            if !tested && !run.untested.contains(id) {
                run.untested.push(id.clone());
            }
        }
    }
    if run.results.is_empty() {
        let mut looked = vec![builtin.display().to_string()];
        looked.extend(dirs.iter().map(|d| d.join("tests").display().to_string()));
        return Err(vec![TestError::NoTests {
            looked: looked.join(", "),
        }]);
    }
    run.untested.sort();
    Ok(run)
}

/// The rules of `dir` (the built-in ones alone for `None`) and the test files of `tests`.
fn load_folder(dir: Option<&Path>, tests: &Path, shown: &str) -> Result<Folder, Vec<TestError>> {
    // A folder holding only tests (of built-in rules) has no rules to add.
    let rules_dir = dir.filter(|d| has_rule_files(d));
    let catalogue = Catalogue::load(rules_dir).map_err(|e| vec![TestError::Rules(e)])?;
    let own_rules = catalogue
        .rules
        .iter()
        .filter(|r| r.builtin == dir.is_none())
        .map(|r| r.id.clone())
        .collect();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut cache = input::Cache::default();
    for (real, name) in test_files(tests).map_err(|e| vec![e])? {
        let shown = format!("{}/{name}", shown.trim_end_matches('/'));
        match file::load(&real, &shown, &catalogue, &mut cache) {
            Ok(f) => files.push(f),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(Folder {
            catalogue,
            files,
            own_rules,
        })
    } else {
        Err(errors)
    }
}

fn has_rule_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let p = e.path();
            p.is_file() && p.extension().is_some_and(|x| x == "toml")
        })
    })
}

/// The `*.toml` files at the top of `tests` (none when it does not exist), sorted, with their
/// names.
fn test_files(tests: &Path) -> Result<Vec<(PathBuf, String)>, TestError> {
    let Ok(entries) = std::fs::read_dir(tests) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| TestError::Io {
                path: tests.display().to_string(),
                source,
            })?
            .path();
        if path.is_file() && path.extension().is_some_and(|e| e == "toml") {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push((path, name));
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary away from its source tree: the given folders' tests run, and it says the
    /// built-in rules' were not found; with no folder either, there is nothing to run.
    #[test]
    fn without_the_source_tree_only_the_given_folders_run() {
        let nowhere = Path::new("/nonexistent/doctor/rules/tests");
        let Err(errors) = run_with(nowhere, &[]) else {
            panic!("ran without tests")
        };
        assert!(
            matches!(errors[..], [TestError::NoTests { .. }]),
            "{errors:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        let healthy = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/healthy.json");
        std::fs::write(
            dir.path().join("tests/cpu-saturation.toml"),
            format!(
                "[[case]]\nname = \"idle\"\nsnapshot = {:?}\nexpect = \"quiet\"\n",
                healthy.display().to_string()
            ),
        )
        .unwrap();
        let run = run_with(nowhere, &[dir.path().to_owned()]).unwrap();
        assert_eq!(run.results.len(), 1);
        assert!(run.results[0].passed(), "{:?}", run.results[0]);
        assert!(
            run.untested.is_empty(),
            "a folder of tests only brings no rules"
        );
        assert!(
            run.notes[0].starts_with("the built-in rules' tests are not at /nonexistent/"),
            "{:?}",
            run.notes
        );
    }
}
