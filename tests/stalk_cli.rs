//! `doctor stalk` without services (host sources only: no MySQL, no Docker): a `--when` it cannot
//! use is a usage error (exit 2) that says why before anything is sampled, and a trigger that
//! holds at once records into the folder and stops after `--iterations`.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn stalk(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_doctor"))
        .args(["stalk", "--no-docker", "--no-mysql", "--dir"])
        .arg(dir)
        .args(args)
        .output()
        .expect("doctor runs")
}

/// Runs a `--when` that must be refused; returns its stderr.
fn refused(when: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let out = stalk(dir.path(), &["--when", when]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    // Refused before anything is sampled or written.
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(!err.contains("checking"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    err
}

#[test]
fn an_unknown_rule_suggests_the_nearest_id() {
    let err = refused("tcp-accept-queue-overflw");
    assert!(
        err.contains(
            "there is no rule `tcp-accept-queue-overflw` (did you mean `tcp-accept-queue-overflow`?)"
        ),
        "{err}"
    );
    assert!(err.contains("doctor rules list"), "{err}");
}

#[test]
fn a_bad_expression_names_the_column_and_the_problem() {
    let err = refused("tcp.counters.TcpRetransSegs.per_s > 10.0 && cpu.busy_pctt > 90.0");
    assert_eq!(
        err.trim(),
        "doctor: --when: column 49: `cpu.busy_pctt` is not in the snapshot; did you mean \
         `cpu.busy_pct`?"
    );
    let err = refused("cpu.busy_pct >");
    assert!(err.starts_with("doctor: --when: column "), "{err}");
    // The synthetic rule the expression is compiled as stays out of sight.
    assert!(!err.contains("stalk-when"), "{err}");
}

#[test]
fn a_rule_that_reads_no_sampled_figure_is_refused_with_those_that_can_trigger() {
    let err = refused("mysql-idle-connections");
    assert!(
        err.contains("rule `mysql-idle-connections` reads none of the figures sampled"),
        "{err}"
    );
    assert!(err.contains("cannot change between checks"), "{err}");
    assert!(
        err.contains("rules that can trigger: ") && err.contains("tcp-accept-queue-overflow"),
        "{err}"
    );
    // An expression too.
    let err = refused("cpu.cores > 0.0");
    assert!(err.contains("`cpu.cores > 0.0` reads none"), "{err}");
}

#[test]
fn a_trigger_that_holds_at_once_records_into_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let out = stalk(
        dir.path(),
        &[
            "--when",
            "cpu.busy_pct >= 0.0",
            "--cycles",
            "2",
            "--record",
            "2s",
            "--iterations",
            "1",
            "--every",
            "200ms",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    // One line at the start, one for the trigger, one at the end; each with its time.
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(lines[0].contains("doctor stalk: checking `cpu.busy_pct >= 0.0` every 200ms"));
    assert!(
        lines[1].contains("`cpu.busy_pct >= 0.0` held 2 checks in a row (cpu.busy_pct "),
        "{err}"
    );
    assert!(
        lines[2].contains("1 recording(s) made (--iterations)"),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("20") && l.contains("Z doctor stalk: "))
    );

    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    let stem = names[0].strip_suffix(".json").expect("the snapshot");
    assert!(
        stem.starts_with("doctor-stalk-20") && stem.ends_with('Z'),
        "{stem}"
    );
    assert_eq!(
        names,
        [
            format!("{stem}.json"),
            format!("{stem}.md"),
            format!("{stem}.svg"),
            format!("{stem}.txt")
        ]
    );
    assert!(lines[1].contains(&format!("{stem}.json")), "{err}");

    // The snapshot has its series, and `doctor analyze` reads it.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(&names[0])).unwrap()).unwrap();
    let series = &json["series"];
    assert!(series["t_ms"].as_array().unwrap().len() >= 5, "{series}");
    assert_eq!(series["ended_by"], "duration");
    assert!(series["columns"]["cpu.busy_pct"].is_array(), "{series}");
    // The report, without colour.
    let text = std::fs::read_to_string(dir.path().join(format!("{stem}.txt"))).unwrap();
    assert!(!text.trim().is_empty());
    assert!(!text.contains('\u{1b}'), "colour in the report file");
    let md = std::fs::read_to_string(dir.path().join(format!("{stem}.md"))).unwrap();
    assert!(!md.trim().is_empty());
    // The chart of the recording (tests/watch_chart.rs checks what a chart draws).
    let svg = std::fs::read_to_string(dir.path().join(format!("{stem}.svg"))).unwrap();
    assert!(
        svg.contains("<svg") && svg.contains("cpu.busy_pct"),
        "{svg:.300}"
    );
    let analyze = Command::new(env!("CARGO_BIN_EXE_doctor"))
        .args(["analyze", "--fail-on", "never", "--format", "json"])
        .arg(dir.path().join(&names[0]))
        .output()
        .unwrap();
    assert_eq!(analyze.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&analyze.stdout).unwrap();
    assert!(report["run"]["samples"].as_u64().unwrap() >= 5, "{report}");
}

#[test]
fn max_recordings_counts_the_folder_and_stops_with_1() {
    let dir = tempfile::tempdir().unwrap();
    for s in ["20260101T000000Z", "20260101T000100Z"] {
        std::fs::write(dir.path().join(format!("doctor-stalk-{s}.json")), "{}").unwrap();
    }
    let out = stalk(
        dir.path(),
        &[
            "--when",
            "cpu.busy_pct >= 0.0",
            "--cycles",
            "1",
            "--every",
            "200ms",
            "--max-recordings",
            "2",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("held 1 check, but no recording in ")
            && err.contains("holds 2 recordings, --max-recordings is 2"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn sigterm_while_checking_ends_it_with_0() {
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_doctor"))
        .args(["stalk", "--no-docker", "--no-mysql", "--dir"])
        .arg(dir.path())
        .args(["--when", "cpu.busy_pct > 1000.0", "--every", "200ms"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let t = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("stopped by SIGTERM"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn sigterm_while_recording_writes_the_partial_recording() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_doctor"))
        .args(["stalk", "--no-docker", "--no-mysql", "--dir"])
        .arg(dir.path())
        .args([
            "--when",
            "cpu.busy_pct >= 0.0",
            "--cycles",
            "1",
            "--every",
            "200ms",
            "--record",
            "1m",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a trigger line");
        if line.contains("held") {
            break;
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let t = Instant::now();
    let status = child.wait().unwrap();
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    let rest: Vec<String> = rx.try_iter().collect();
    assert_eq!(status.code(), Some(0), "{rest:?}");
    assert!(
        rest.iter().any(
            |l| l.contains("stopped by SIGTERM; the recording doctor-stalk-")
                && l.ends_with(" is partial")
        ),
        "{rest:?}"
    );
    let json = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("the partial recording");
    let snap: serde_json::Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    assert_eq!(snap["series"]["ended_by"], "signal");
    assert!(snap["series"]["t_ms"].as_array().unwrap().len() >= 3);
}
