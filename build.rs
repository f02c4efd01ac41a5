//! Embeds the log patterns (`rules/logs/*.toml`) into the binary, so doctor is one file that needs
//! no data directory. A build script rather than a proc macro because cargo re-runs it when a file
//! is *added* to the folder, not only when a listed one changes.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    embed_log_patterns(Path::new(&manifest), Path::new(&out));
}

/// Writes `$OUT_DIR/log_patterns.rs`: `&[(name, contents)]` of every `rules/logs/*.toml`, sorted by
/// name. Parsing happens at run time (and in the catalogue test) so a bad file gives a proper error.
fn embed_log_patterns(manifest: &Path, out: &Path) {
    let dir = manifest.join("rules").join("logs");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut code = String::from("&[\n");
    for f in &files {
        let name = format!(
            "rules/logs/{}",
            f.file_name().expect("a file name").to_string_lossy()
        );
        let _ = writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            f.display().to_string()
        );
    }
    code.push_str("]\n");
    std::fs::write(out.join("log_patterns.rs"), code).expect("OUT_DIR is writable");
}
