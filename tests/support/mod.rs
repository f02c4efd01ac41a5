//! Helpers shared by the integration tests: running the real binary and requiring the standard
//! tools doctor is cross-checked against.
#![allow(dead_code)]

pub mod docker;
pub mod mariadb_container;
pub mod slowdev;

use std::path::Path;
use std::process::{Command, Output};

/// Fails the test loudly when a tool it cross-checks against is missing: a missing tool must
/// never turn into a silent pass.
pub fn require(cmd: &str, package: &str) {
    let found = Command::new("sh")
        .args([
            "-c",
            &format!("command -v {cmd} || test -x /usr/sbin/{cmd}"),
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{cmd}` is missing: install the `{package}` package (bash tests/run.sh installs it)"
    );
}

/// Runs a command and returns its stdout, failing the test with its stderr if it fails.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The doctor binary under test.
pub fn doctor() -> Command {
    Command::new(env!("CARGO_BIN_EXE_doctor"))
}

pub fn doctor_output(args: &[&str]) -> Output {
    doctor().args(args).output().expect("doctor runs")
}

/// Takes a snapshot with the real binary and returns it as JSON.
pub fn snapshot_json(interval: &str) -> serde_json::Value {
    let out = doctor_output(&["snapshot", "--interval", interval, "--quiet"]);
    assert!(
        out.status.success(),
        "doctor snapshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("snapshot is JSON")
}

/// The whole disk holding `path` and whether it is rotational, according to `findmnt` and
/// `lsblk` (util-linux), which read the mount table and sysfs on their own: the independent
/// answer doctor's device mapping is checked against.
pub fn disk_by_util_linux(path: &Path) -> (String, bool) {
    require("findmnt", "util-linux");
    require("lsblk", "util-linux");
    let majmin = run(
        "findmnt",
        &[
            "--noheadings",
            "--output",
            "MAJ:MIN",
            "--target",
            &path.display().to_string(),
        ],
    );
    let majmin = majmin.trim();
    let text = run(
        "lsblk",
        &["--pairs", "--output", "MAJ:MIN,KNAME,PKNAME,TYPE,ROTA"],
    );
    let row = text
        .lines()
        .find(|l| l.starts_with(&format!("MAJ:MIN=\"{majmin}\"")))
        .unwrap_or_else(|| panic!("lsblk does not list {majmin}:\n{text}"));
    let field = |key: &str| {
        let start = row.find(&format!(" {key}=\"")).unwrap() + key.len() + 3;
        row[start..].split('"').next().unwrap().to_owned()
    };
    // A partition's disk is its parent; a disk, LVM volume or md array is itself.
    let disk = if field("TYPE") == "part" {
        field("PKNAME")
    } else {
        field("KNAME")
    };
    (disk, field("ROTA") == "1")
}

/// The pool app's folder, with mysql2 installed from its lock file on first use.
pub fn pool_app() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/pool-app");
    if !dir.join("node_modules/mysql2").exists() {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&dir)
            .output()
            .expect("npm runs (apt-get install nodejs npm)");
        assert!(
            out.status.success(),
            "npm ci in {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}
