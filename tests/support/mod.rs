//! Helpers shared by the integration tests: running the real binary and requiring the standard
//! tools doctor is cross-checked against.
#![allow(dead_code)]

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

/// The whole disk a path lives on (`vda` for a file on `/dev/vda1`), as `/sys/block` names it.
pub fn disk_of(path: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let dev = std::fs::metadata(path).expect("path exists").dev();
    let (major, minor) = ((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00));
    let sys = std::fs::canonicalize(format!("/sys/dev/block/{major}:{minor}"))
        .expect("block device in sysfs");
    let disk = if sys.join("partition").exists() {
        sys.parent().unwrap().to_path_buf()
    } else {
        sys
    };
    disk.file_name().unwrap().to_string_lossy().into_owned()
}
