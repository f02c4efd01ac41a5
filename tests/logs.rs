//! The logs section through the real binary: secrets never reach any output (from a file or from a
//! container's output), bad pattern files are a usage error naming file and line, and counts agree
//! with `grep -c`. The file-only tests pass `--no-docker`, so other tests' containers running on
//! the same engine do not add to their totals.

mod support;

use assert_cmd::Command;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// Secrets as they turn up in real application logs, each on a line matched by a pattern of its
/// own (so every line is some pattern's sample) — and the secret strings that must never be printed.
const SECRETS: &[(&str, &str)] = &[
    (
        "2025-01-03T10:09:19.001Z ERROR GET /api/me Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c Error: Queue limit reached.",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    ),
    (
        "2025-01-03T10:09:20.001Z ERROR connect mysql://shop:Pa55w0rd-Very-Secret@db:3306/shop failed: Too many connections",
        "Pa55w0rd-Very-Secret",
    ),
    (
        r#"{"level":"error","msg":"No connections available.","config":{"user":"shop","password":"json-secret-9f8e7d"}}"#,
        "json-secret-9f8e7d",
    ),
    (
        "2025-01-03T10:09:21.001Z WARN retry pwd=pwd-secret-4411 Error: read ECONNRESET",
        "pwd-secret-4411",
    ),
    (
        "2025/01/03 10:09:22 dsn shop:go-dsn-secret-77@tcp(db:3306)/shop: driver: bad connection",
        "go-dsn-secret-77",
    ),
    (
        "2025-01-03T10:09:23.001Z ERROR s3 upload AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY Error: connect ETIMEDOUT 52.1.2.3:443",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    (
        "2025/01/03 10:09:23 [error] 29#29: *1 upstream timed out (110: Connection timed out), key AKIAIOSFODNN7EXAMPLE",
        "AKIAIOSFODNN7EXAMPLE",
    ),
    (
        r"2025-01-03T10:09:24.001Z ERROR Timed out fetching a new connection from the connection pool, tls key -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAprivatekeybody\n-----END RSA PRIVATE KEY-----",
        "MIIEpAIBAAKCAQEAprivatekeybody",
    ),
    (
        "2025-01-03T10:09:25.001Z ERROR secret=sk-live-secret-000 token: tok-secret-111 Error: connect ECONNREFUSED 127.0.0.1:3306",
        "tok-secret-111",
    ),
];

fn doctor() -> Command {
    let mut c = Command::cargo_bin("doctor").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn assert_clean(what: &str, output: &[u8]) {
    let text = String::from_utf8_lossy(output);
    for (_, secret) in SECRETS {
        assert!(
            !text.contains(secret),
            "{secret} leaked into {what}:\n{text}"
        );
    }
}

#[test]
fn secrets_in_logs_reach_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let lines: Vec<&str> = SECRETS.iter().map(|(l, _)| *l).collect();
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let log = log.to_str().unwrap();
    assert_no_secret_anywhere(&["--no-docker", "--log", log], log, dir.path());
}

/// The same lines written by a container to its stdout, read through the engine's logs API.
#[test]
fn secrets_in_container_output_reach_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let lines: Vec<&str> = SECRETS.iter().map(|(l, _)| *l).collect();
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let mount = format!("{}:/secrets.log:ro", log.display());
    let c = support::docker::Container::run(
        "clogs-secrets",
        &["-v", &mount],
        &["sh", "-c", "cat /secrets.log; echo ready; exec sleep 600"],
    );
    support::docker::wait_until("the container wrote", Duration::from_secs(20), || {
        support::docker::docker(&["logs", &c.name]).ends_with("ready")
    });
    assert_no_secret_anywhere(&["--container", &c.name], &c.name, dir.path());
}

/// Snapshot, `check` in every format and `analyze` of the snapshot with `source_args`: the source
/// named `source` has every line as a redacted sample, and no secret is in any output.
fn assert_no_secret_anywhere(source_args: &[&str], source: &str, dir: &Path) {
    let snap = dir.join("snap.json");
    let out = doctor()
        .args(["snapshot", "-q", "-i", "200ms"])
        .args(source_args)
        .arg("-o")
        .arg(&snap)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_clean("snapshot stdout/stderr", &[out.stdout, out.stderr].concat());
    let json = std::fs::read(&snap).unwrap();
    assert_clean("the snapshot file", &json);
    // The lines were read and each one is a sample, redacted.
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let src = v["logs"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == source)
        .unwrap_or_else(|| panic!("{source} not in {}", v["logs"]));
    assert_eq!(src["status"], "ok", "{src}");
    assert_eq!(src["matched_lines"], SECRETS.len(), "{src}");
    let matches = src["matches"].as_object().unwrap();
    assert_eq!(matches.len(), SECRETS.len(), "one pattern per line: {src}");
    for (id, m) in matches {
        let sample = m["sample"].as_str().unwrap();
        assert!(sample.contains("[REDACTED"), "{id}: {sample}");
    }

    for format in ["table", "json", "markdown"] {
        let out = doctor()
            .args(["analyze", "--fail-on", "never", "--format", format])
            .arg(&snap)
            .output()
            .unwrap();
        assert!(out.status.success(), "{format}: {out:?}");
        assert_clean(&format!("analyze --format {format}"), &out.stdout);
        let out = doctor()
            .args([
                "check",
                "-q",
                "-i",
                "200ms",
                "--fail-on",
                "never",
                "--format",
                format,
            ])
            .args(source_args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{format}: {out:?}");
        assert_clean(
            &format!("check --format {format}"),
            &[out.stdout.as_slice(), &out.stderr].concat(),
        );
        if format == "markdown" {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("db-pool-exhausted"), "{text}");
        }
    }
}

#[test]
fn a_bad_pattern_file_is_a_usage_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        "id = \"mine\"\ncategory = \"app\"\nregex = 'unclosed ('\nmeaning = \"m\"\nsamples = [\"x\"]\n",
    )
    .unwrap();
    let out = doctor()
        .args(["snapshot", "-q", "-i", "200ms", "--patterns"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let file = dir.path().join("mine.toml");
    assert!(
        err.contains(&format!(
            "{}:3:9: the regex does not compile",
            file.display()
        )),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing sampled");
}

#[test]
fn extra_patterns_and_counts_agree_with_grep() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("payment.toml"),
        r#"
id = "payment-gateway-timeout"
category = "upstream-timeout"
regex = 'payment gateway timed out after [0-9]+ ms'
meaning = "The payment provider did not answer in time."
samples = ["ERROR payment gateway timed out after 30000 ms"]
"#,
    )
    .unwrap();
    let log = dir.path().join("app.log");
    let mut text = String::new();
    for i in 0..500 {
        match i % 7 {
            0 => text.push_str("Error: Queue limit reached.\n"),
            3 => writeln!(text, "ERROR payment gateway timed out after {i} ms").unwrap(),
            5 => text.push_str("2025/01/03 10:09:19 [error] 29#29: *1 upstream timed out (110: Connection timed out)\n"),
            _ => text.push_str("INFO GET /api/posts 200 12ms\n"),
        }
    }
    std::fs::write(&log, &text).unwrap();
    let out = doctor()
        .args(["snapshot", "-q", "-i", "200ms", "--no-docker", "--patterns"])
        .arg(dir.path())
        .arg("--log")
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let grep = |re: &str| -> u64 {
        let out = std::process::Command::new("grep")
            .args(["-c", "-E", re])
            .arg(&log)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    let logs = &v["logs"];
    assert_eq!(
        logs["patterns"]["mysql-queue-limit"]["count"],
        grep(r"Queue limit reached\.")
    );
    assert_eq!(
        logs["patterns"]["payment-gateway-timeout"]["count"],
        grep("payment gateway timed out after [0-9]+ ms")
    );
    assert_eq!(
        logs["categories"]["upstream-timeout"]["count"],
        grep("payment gateway timed out|upstream timed out")
    );
    assert_eq!(
        logs["categories"]["oom-kill"]["count"], 0,
        "known categories are listed at 0"
    );
    assert_eq!(
        logs["sources"][0]["matched_lines"],
        grep("Queue limit|timed out")
    );
}

#[test]
fn without_logs_the_section_says_how_to_get_one() {
    let out = doctor()
        .args(["snapshot", "-q", "-i", "200ms", "--no-docker"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["logs"]["status"], "skipped");
    assert!(v["logs"]["message"].as_str().unwrap().contains("--log"));
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("rules/logs")
            .is_dir()
    );
}
