//! The packages `scripts/package.sh` builds, from the binary under test (`--binary`): what is
//! tested is the packages' layout and metadata, which do not depend on how the binary was built;
//! the static build has its own smoke run in scripts/build-static.sh, and building it here would
//! cost CI minutes. The .deb is installed on this machine and run, then purged (even when a
//! check fails); the .rpm is read with Debian's `rpm` (`-qip`, `-qlp`, `-qpR`).
//!
//! Needs root (dpkg -i), cargo-deb and cargo-generate-rpm (`cargo install --locked cargo-deb
//! cargo-generate-rpm`), rpm, man-db and systemd-analyze: tests/run.sh installs them all.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use support::{require, run};

/// The two packages, built once for both tests (package.sh stages in one fixed folder).
struct Packages {
    _dir: tempfile::TempDir,
    deb: PathBuf,
    rpm: PathBuf,
}

fn packages() -> &'static Packages {
    static PACKAGES: OnceLock<Packages> = OnceLock::new();
    PACKAGES.get_or_init(|| {
        for tool in ["deb", "generate-rpm"] {
            let found = Command::new(env!("CARGO"))
                .args([tool, "--version"])
                .output();
            assert!(
                found.is_ok_and(|o| o.status.success()),
                "`cargo {tool}` is missing: cargo install --locked cargo-deb cargo-generate-rpm \
                 (bash tests/run.sh installs it)"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let started = std::time::Instant::now();
        let out = Command::new("bash")
            .arg(root.join("scripts/package.sh"))
            .args(["--fast", "--binary", env!("CARGO_BIN_EXE_doctor"), "--out"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "scripts/package.sh failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("scripts/package.sh took {:.1?}", started.elapsed());
        let find = |ext: &str| {
            let found: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == ext))
                .collect();
            assert_eq!(found.len(), 1, "one .{ext} in {found:?}");
            found.into_iter().next().unwrap()
        };
        Packages {
            deb: find("deb"),
            rpm: find("rpm"),
            _dir: dir,
        }
    })
}

/// The files every package carries, by their Debian paths (the RPM's differ where noted).
const FILES: &[&str] = &[
    "/usr/bin/doctor",
    "/usr/share/man/man1/doctor.1.gz",
    "/usr/share/man/man1/doctor-check.1.gz",
    "/usr/share/man/man1/doctor-rules-explain.1.gz",
    "/usr/share/bash-completion/completions/doctor",
    "/usr/share/fish/vendor_completions.d/doctor.fish",
    "/etc/cron.d/doctor",
    "/usr/share/doc/doctor/README.md",
];

/// Purges the package when dropped, so a failed check leaves the machine as it was.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let out = Command::new("dpkg")
            .args(["--purge", "doctor"])
            .output()
            .unwrap();
        if !out.status.success() {
            eprintln!(
                "dpkg --purge doctor: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn deb_installs_runs_and_purges() {
    require("dpkg", "dpkg");
    require("man", "man-db");
    require("systemd-analyze", "systemd");
    assert!(
        run("id", &["-u"]).trim() == "0",
        "installing the .deb needs root (dpkg -i)"
    );
    let status = Command::new("dpkg-query")
        .args(["-W", "-f", "${Status}", "doctor"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&status.stdout).contains("installed"),
        "a doctor package is installed on this machine already; the test would replace and \
         purge it: `dpkg --purge doctor` first"
    );
    let deb = &packages().deb;

    let info = run("dpkg-deb", &["--info", deb.to_str().unwrap()]);
    assert!(info.contains("Package: doctor"), "{info}");
    let depends = run("dpkg-deb", &["--field", deb.to_str().unwrap(), "Depends"]);
    assert_eq!(
        depends.trim(),
        "",
        "a static binary depends on nothing\n{info}"
    );
    let conffiles = run("dpkg-deb", &["--info", deb.to_str().unwrap(), "conffiles"]);
    assert_eq!(
        conffiles.trim(),
        "/etc/cron.d/doctor",
        "the cron line is a conffile"
    );

    let installed = Installed;
    run("dpkg", &["-i", deb.to_str().unwrap()]);
    let listed = run("dpkg", &["-L", "doctor"]);
    for file in FILES.iter().chain(&[
        "/usr/share/zsh/vendor-completions/_doctor",
        "/lib/systemd/system/doctor-textfile.service",
        "/lib/systemd/system/doctor-textfile.timer",
    ]) {
        assert!(listed.lines().any(|l| l == *file), "no {file} in\n{listed}");
        assert!(Path::new(file).is_file(), "{file} not installed");
    }

    let version = run("/usr/bin/doctor", &["--version"]);
    let ours = run(env!("CARGO_BIN_EXE_doctor"), &["--version"]);
    assert_eq!(version, ours);
    // The installed binary does its job: a fixture replayed, the finding it holds ranked.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pool-queue-limit.json");
    let report = run(
        "/usr/bin/doctor",
        &[
            "analyze",
            fixture.to_str().unwrap(),
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    assert!(report.contains("\"db-pool-exhausted\""), "{report}");

    check_pages_completion_and_units();

    drop(installed);
    assert!(
        !Path::new("/usr/bin/doctor").exists(),
        "dpkg --purge left /usr/bin/doctor"
    );
    assert!(
        !Path::new("/etc/cron.d/doctor").exists(),
        "dpkg --purge left the conffile"
    );
}

/// What the installed package adds around the binary: its man pages where `man` finds them, the
/// bash completion loading, the units valid and not enabled, the cron line commented out.
fn check_pages_completion_and_units() {
    for page in ["doctor", "doctor-check", "doctor-rules-explain"] {
        let path = run("man", &["-w", page]);
        assert_eq!(path.trim(), format!("/usr/share/man/man1/{page}.1.gz"));
    }
    let shown = Command::new("man")
        .arg("doctor")
        .env("MANPAGER", "cat")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).contains("analyze"));

    let loaded = run(
        "bash",
        &[
            "-c",
            "source /usr/share/bash-completion/completions/doctor && complete -p doctor",
        ],
    );
    assert!(loaded.contains("_doctor"), "{loaded}");

    // Installed, not enabled: the timer is not wanted by timers.target.
    assert!(
        !Path::new("/etc/systemd/system/timers.target.wants/doctor-textfile.timer").exists(),
        "installing enabled the timer"
    );
    let verified = Command::new("systemd-analyze")
        .args([
            "verify",
            "/lib/systemd/system/doctor-textfile.service",
            "/lib/systemd/system/doctor-textfile.timer",
        ])
        .output()
        .unwrap();
    assert!(
        verified.status.success() && verified.stderr.is_empty(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let service = std::fs::read_to_string("/lib/systemd/system/doctor-textfile.service").unwrap();
    assert!(service.contains(
        "ExecStart=/usr/bin/doctor check --quiet --fail-on never --textfile \
         /var/lib/prometheus/node-exporter\n"
    ));
    let cron = std::fs::read_to_string("/etc/cron.d/doctor").unwrap();
    assert!(
        cron.lines().all(|l| l.is_empty() || l.starts_with('#')),
        "the cron line is installed commented out\n{cron}"
    );
}

#[test]
fn rpm_carries_the_same_files_with_a_gzip_payload_and_no_requirement() {
    require("rpm", "rpm");
    let rpm = packages().rpm.to_str().unwrap();

    let info = run("rpm", &["-qip", rpm]);
    assert!(
        info.lines()
            .any(|l| l.starts_with("Name") && l.ends_with(": doctor")),
        "{info}"
    );
    // CentOS 7's rpm 4.11 reads gzip and xz payloads, not zstd.
    let compressor = run("rpm", &["-qp", "--qf", "%{PAYLOADCOMPRESSOR}", rpm]);
    assert_eq!(compressor, "gzip", "{info}");

    let listed = run("rpm", &["-qlp", rpm]);
    for file in FILES.iter().chain(&[
        "/usr/share/zsh/site-functions/_doctor",
        "/usr/lib/systemd/system/doctor-textfile.service",
        "/usr/lib/systemd/system/doctor-textfile.timer",
    ]) {
        assert!(listed.lines().any(|l| l == *file), "no {file} in\n{listed}");
    }
    let config = run("rpm", &["-qcp", rpm]);
    assert_eq!(
        config.trim(),
        "/etc/cron.d/doctor",
        "the cron line is %config"
    );

    // No library (a static binary), no shell (no scriptlets): only rpm's own `config(doctor)`
    // of a package with a %config file, and format features CentOS 7's rpm 4.11 has.
    let requires = run("rpm", &["-qpR", rpm]);
    for line in requires.lines() {
        let feature = line
            .strip_prefix("rpmlib(")
            .and_then(|f| f.split(')').next());
        assert!(
            line.starts_with("config(doctor) = ") || feature.is_some_and(|f| RPM_4_11.contains(&f)),
            "a requirement CentOS 7 cannot meet: {line}\n{requires}"
        );
    }
}

/// The `rpmlib(...)` features of rpm 4.11, CentOS 7's: those of rpm's `rpmlibProvides`
/// (lib/rpmds.c) introduced at 4.10 or before. Later ones (`LargeFiles` and `RichDependencies`
/// at 4.12, `CaretInVersions` at 4.15, `PayloadIsZstd`) would refuse the install there.
const RPM_4_11: &[&str] = &[
    "BuiltinLuaScripts",
    "CompressedFileNames",
    "ConcurrentAccess",
    "ExplicitPackageProvide",
    "FileCaps",
    "FileDigests",
    "HeaderLoadSortsTags",
    "PartialHardlinkSets",
    "PayloadFilesHavePrefix",
    "PayloadIsBzip2",
    "PayloadIsLzma",
    "PayloadIsXz",
    "ScriptletExpansion",
    "ScriptletInterpreterArgs",
    "TildeInVersions",
    "VersionedDependencies",
];
