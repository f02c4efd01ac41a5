//! What `doctor rules test` prints: one line per case (a failing one followed by what differed),
//! then a summary; or the same as JSON.

use super::{CaseResult, Failure, Outcome, Run};
use serde::Serialize;
use std::io::Write;

/// One line per case, what differed under a failing one, then the summary and the notes.
pub fn text(run: &Run, out: &mut dyn Write) -> std::io::Result<()> {
    let at = |r: &CaseResult| format!("{}:{}", r.file, r.line);
    let width = run.results.iter().map(|r| at(r).len()).max().unwrap_or(0);
    let kind = run
        .results
        .iter()
        .map(|r| r.expect.as_str().len())
        .max()
        .unwrap_or(0);
    for r in &run.results {
        writeln!(
            out,
            "{:<6}  {:<width$}  {:<kind$}  {}",
            if r.passed() { "ok" } else { "FAILED" },
            at(r),
            r.expect.as_str(),
            r.name,
        )?;
        if r.passed() {
            continue;
        }
        let set = match r.set.len() {
            0 => String::new(),
            1 => ", 1 field set".to_owned(),
            n => format!(", {n} fields set"),
        };
        match &r.hand_written {
            Some(why) => writeln!(out, "        on {}{set} ({why})", r.snapshot)?,
            None => writeln!(out, "        on {}{set}", r.snapshot)?,
        }
        for f in &r.failures {
            writeln!(out, "        - {}", f.check)?;
            writeln!(out, "            expected: {}", f.expected)?;
            writeln!(out, "            got:      {}", f.actual)?;
        }
    }
    let failed = run.failed();
    let mut rules: Vec<&str> = run.results.iter().map(|r| r.rule.as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    writeln!(out)?;
    writeln!(
        out,
        "rules test: {}. {} passed, {failed} failed ({} of {})",
        if failed == 0 { "ok" } else { "FAILED" },
        run.results.len() - failed,
        plural(run.results.len(), "case"),
        plural(rules.len(), "rule"),
    )?;
    if !run.untested.is_empty() {
        writeln!(
            out,
            "note: rules without tests: {} (a rule <id>.toml is tested by tests/<id>.toml)",
            run.untested.join(", ")
        )?;
    }
    for note in &run.notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[derive(Serialize)]
struct JsonRun<'a> {
    passed: usize,
    failed: usize,
    cases: Vec<JsonCase<'a>>,
    untested: &'a [String],
    notes: &'a [String],
}

#[derive(Serialize)]
struct JsonCase<'a> {
    file: &'a str,
    line: usize,
    rule: &'a str,
    name: &'a str,
    expect: Outcome,
    snapshot: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hand_written: Option<&'a str>,
    /// The fields the case sets in the snapshot.
    set: &'a [String],
    /// `ok` or `failed`.
    result: &'static str,
    failures: &'a [Failure],
}

/// The results as one JSON object: `passed`, `failed`, `cases[]` (each with the fields it
/// `set` and its `failures[]`: `check`, `expected`, `actual`), `untested`, `notes`.
pub fn json(run: &Run, out: &mut dyn Write) -> std::io::Result<()> {
    let failed = run.failed();
    let doc = JsonRun {
        passed: run.results.len() - failed,
        failed,
        cases: run
            .results
            .iter()
            .map(|r| JsonCase {
                file: &r.file,
                line: r.line,
                rule: &r.rule,
                name: &r.name,
                expect: r.expect,
                snapshot: &r.snapshot,
                hand_written: r.hand_written.as_deref(),
                set: &r.set,
                result: if r.passed() { "ok" } else { "failed" },
                failures: &r.failures,
            })
            .collect(),
        untested: &run.untested,
        notes: &run.notes,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
