//! The fuzz targets' code (`doctor::fuzzing`) run over the corpus the fuzzer kept
//! (`fuzz/corpus/TARGET/`) and over every input that once crashed it
//! (`fuzz/regressions/TARGET/`): a crash found by `bash fuzz/run.sh` stays fixed in the normal
//! suite, without nightly or cargo-fuzz.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("snapshot_file", doctor::fuzzing::snapshot_file),
    ("rule_file", doctor::fuzzing::rule_file),
    ("cel_expression", doctor::fuzzing::cel_expression),
    ("pattern_file", doctor::fuzzing::pattern_file),
    ("log_bytes", doctor::fuzzing::log_bytes),
    ("pasted_text", doctor::fuzzing::pasted_text),
];

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.is_file() && p.file_name().is_some_and(|n| n != ".gitkeep"));
    v.sort();
    v
}

/// Runs `target` over every file of `dir`; the files that panicked, with the message.
fn run(dir: &Path, target: Target) -> (usize, Vec<String>) {
    let inputs = files(dir);
    let mut failed = Vec::new();
    for path in &inputs {
        let data = std::fs::read(path).unwrap();
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| target(&data))) {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failed.push(format!("{}: {why}", path.display()));
        }
    }
    (inputs.len(), failed)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

#[test]
fn every_kept_input_and_every_past_crash_runs_without_panicking() {
    let mut failed = Vec::new();
    for (name, target) in TARGETS {
        let (n, mut f) = run(&root().join("corpus").join(name), *target);
        // The corpus is committed: an empty one means it was lost, and this test would check
        // nothing for that target.
        assert!(
            n > 0,
            "fuzz/corpus/{name} is empty: run `bash fuzz/run.sh 60 {name}`"
        );
        failed.append(&mut f);
        let (_, mut f) = run(&root().join("regressions").join(name), *target);
        failed.append(&mut f);
    }
    assert!(failed.is_empty(), "panicked on:\n{}", failed.join("\n"));
}

/// Every target the fuzz crate builds is run here, and the other way round.
#[test]
fn the_targets_here_are_the_fuzz_crates() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let mut theirs: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "doctor-fuzz")
        .collect();
    theirs.sort_unstable();
    let mut ours: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    ours.sort_unstable();
    assert_eq!(theirs, ours);
    for (name, _) in TARGETS {
        let body = std::fs::read_to_string(root().join("fuzz_targets").join(format!("{name}.rs")))
            .unwrap();
        assert!(
            body.contains(&format!("doctor::fuzzing::{name}(")),
            "{name}.rs"
        );
    }
}
