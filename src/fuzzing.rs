//! The entry points of the fuzz targets (`fuzz/`), here so the normal test suite runs the same
//! code over the kept corpus and every crash found (`tests/fuzz_corpus.rs`): a target and its
//! regression test cannot drift apart.
//!
//! Each function takes arbitrary bytes, drives one reader of untrusted input through to what a
//! user would see, and must return without panicking whatever the input. An error is a fine
//! outcome; the checks here are the promises a bad input still gets (an error names the file and
//! where), asserted so the fuzzer counts a broken one as a crash.

use crate::engine::{self, Catalogue, rules::Source};
use crate::import::build::{Input, snapshot as import_snapshot};
use crate::report::{self, Color, Report};
use crate::scan::{ScanOptions, Scanner, pattern};
use crate::snapshot::{self, Loaded, NamedSnapshot, Snapshot, SourceKind};
use std::path::Path;
use std::sync::OnceLock;

/// The file name the inputs are given in errors.
const NAME: &str = "fuzz-input";

fn catalogue() -> &'static Catalogue {
    static C: OnceLock<Catalogue> = OnceLock::new();
    C.get_or_init(|| Catalogue::load(None).expect("the built-in rules compile"))
}

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| Scanner::builtin().expect("the built-in log patterns load"))
}

/// A real snapshot (a recorded fixture, built in) for rules to be evaluated on.
fn recorded() -> &'static Snapshot {
    static S: OnceLock<Snapshot> = OnceLock::new();
    S.get_or_init(|| {
        let text = include_bytes!("../fixtures/mysql-sleepers.json");
        snapshot::from_json(text, Path::new("fixtures/mysql-sleepers.json"))
            .expect("the fixture loads")
    })
}

/// Renders `snapshot`'s report in every format a user can ask for.
fn render_all(snapshot: &Snapshot) {
    let report = Report::new(snapshot, catalogue());
    let mut out = Vec::new();
    report::render_table(&report, Color::Never, Some(100), &mut out).expect("writes to memory");
    report::render_json(&report, &mut out).expect("writes to memory");
    report::render_markdown(&report, &mut out).expect("writes to memory");
}

/// The snapshot loader (`doctor analyze FILE`): a snapshot or a bundle, then its report.
pub fn snapshot_file(data: &[u8]) {
    match snapshot::any_from_json(data, Path::new(NAME)) {
        Ok(Loaded::One(s)) => render_all(&s),
        Ok(Loaded::Bundle(b)) => {
            let hosts: Vec<NamedSnapshot> = b.hosts;
            let r = report::HostsReport::new(&hosts, catalogue());
            let mut out = Vec::new();
            report::render_hosts_table(&r, Color::Never, Some(100), &mut out)
                .expect("writes to memory");
            report::render_hosts_markdown(&r, &mut out).expect("writes to memory");
        }
        Err(e) => names_the_file(&e),
    }
}

/// A bad input's error says which file it was.
fn names_the_file(e: &dyn std::fmt::Display) {
    let message = e.to_string();
    assert!(
        message.contains(NAME),
        "the error names the file: {message}"
    );
}

/// One rule file (`--rules DIR`), TOML with CEL inside, then evaluated on a recorded snapshot.
pub fn rule_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    rule_source(text);
}

/// A CEL expression as a rule's `when`, compiled and evaluated on a recorded snapshot.
pub fn cel_expression(data: &[u8]) {
    let Ok(expr) = std::str::from_utf8(data) else {
        return;
    };
    // A TOML basic string holds any text once escaped; serde's TOML writer does that.
    let when = toml::Value::String(expr.to_owned()).to_string();
    let text = format!(
        "id = \"fuzz-input\"\ntitle = \"fuzz\"\nlayer = \"host\"\nkind = \"symptom\"\n\
         requires = [\"cpu\"]\nwhen = {when}\nscore = \"50\"\nsummary = \"x\"\nfix = \"y\"\n\
         doc = \"z\"\n"
    );
    rule_source(&text);
}

fn rule_source(text: &str) {
    let source = Source {
        path: format!("{NAME}.toml"),
        text: text.to_owned(),
        doc: None,
        builtin: false,
    };
    match Catalogue::from_sources(&[source]) {
        Ok(c) => {
            let _ = engine::analyze(&c, recorded());
        }
        Err(e) => names_the_file(&e),
    }
}

/// One log pattern file (`--patterns DIR`).
pub fn pattern_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = pattern::parse(&format!("{NAME}.toml"), text) {
        let s = Scanner::new(vec![p]);
        let _ = s.scan(
            &b"Error: Queue limit reached.\nanything else\n"[..],
            opts(true),
        );
    }
}

fn opts(record_lines: bool) -> ScanOptions {
    ScanOptions {
        window_from: Some(0),
        skip_partial_first_line: false,
        year_hint: None,
        record_lines,
    }
}

/// The log scanner over any bytes (a log file, container output), the first byte choosing the
/// options so both ways of reading are covered.
pub fn log_bytes(data: &[u8]) {
    let (first, rest) = data.split_first().unwrap_or((&0, &[]));
    let mut o = opts(first & 1 == 1);
    o.skip_partial_first_line = first & 2 == 2;
    o.window_from = (first & 4 == 4).then(|| u64::from(first >> 3) * 16);
    let scan = scanner().scan(rest, o).expect("reading memory cannot fail");
    assert!(scan.bytes_scanned <= rest.len() as u64, "{scan:?}");
    let source = scan.into_source(NAME, SourceKind::File, None);
    let _ = scanner().summarize(vec![source]);
}

/// `doctor import` of pasted text, then its report.
pub fn pasted_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let snapshot = import_snapshot(
        &[Input {
            name: NAME,
            text: &text,
        }],
        scanner(),
    );
    render_all(&snapshot);
}
