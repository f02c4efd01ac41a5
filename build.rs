//! Embeds the built-in rules: every `rules/*.toml` and `rules/*.md` at the top of `rules/` (not in
//! its subfolders, which hold other data such as log patterns) becomes a `(path, text)` pair in
//! `$OUT_DIR/builtin_rules.rs`, included by `src/engine/rules.rs`; the headline figures,
//! `rules/figures/*.toml`, likewise in `$OUT_DIR/builtin_figures.rs`, included by
//! `src/engine/figures.rs`.
//!
//! Also writes `$OUT_DIR/snapshot_shapes.rs`, the snapshot's fields and their types for checking
//! the names rules read (`build/shapes.rs`), from the snapshot types themselves: `src/snapshot/`
//! is plain serde data, compiled here as well.
//!
//! And sets `DOCTOR_VERSION`, what `doctor --version` prints: the commit as well when built from
//! a git checkout (`build/version.rs`).

#[path = "build/shapes.rs"]
mod shapes;
#[path = "build/version.rs"]
mod version;
// Linted where it belongs, in the library; here only a part of it is used, privately.
#[path = "src/snapshot/mod.rs"]
#[allow(dead_code, unused_imports, clippy::all, clippy::pedantic)]
mod snapshot;

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    version();
    snapshot_shapes();
    embed("rules", &["toml", "md"], "builtin_rules.rs");
    embed("rules/figures", &["toml"], "builtin_figures.rs");
}

/// Every file of `folder` (its top only) ending in one of `extensions`, as `(path, text)` pairs
/// in `$OUT_DIR/<target>`.
fn embed(folder: &str, extensions: &[&str], target: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{folder}/ is readable: {e}"))
        .map(|e| e.expect("the folder is readable").path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|e| extensions.iter().any(|x| e == *x))
        })
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy();
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            format!("{folder}/{name}"),
            path.display().to_string()
        )
        .unwrap();
    }
    out.push(']');
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join(target);
    std::fs::write(target, out).unwrap();
}

fn snapshot_shapes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    println!(
        "cargo:rerun-if-changed={}",
        dir.join("build/shapes.rs").display()
    );
    let snapshot = dir.join("src/snapshot");
    println!("cargo:rerun-if-changed={}", snapshot.display());
    for entry in std::fs::read_dir(&snapshot).expect("src/snapshot/ exists") {
        println!(
            "cargo:rerun-if-changed={}",
            entry.expect("readable").path().display()
        );
    }
    let schema = serde_json::to_value(snapshot::json_schema()).expect("the schema is JSON");
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("snapshot_shapes.rs");
    std::fs::write(target, shapes::generate(&schema)).unwrap();
}

fn version() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    println!(
        "cargo:rerun-if-changed={}",
        dir.join("build/version.rs").display()
    );
    let (version, watch) = version::describe(env!("CARGO_PKG_VERSION"), dir);
    for path in watch {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rustc-env=DOCTOR_VERSION={version}");
}
