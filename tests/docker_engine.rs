//! The `containers` section when the Docker engine answers, hangs and is gone: a private dockerd
//! the test can stop with SIGSTOP and kill.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::docker::{PrivateDockerd, docker, exclusive, require_docker, snapshot};

/// A private dockerd: answered, then hung (SIGSTOP), then stopped. A hung engine is an `error`
/// with the reason inside the deadline, a stopped one an `error` saying so, and the rest of the
/// snapshot comes out either way — the `logs` section too, with its files read and a note that
/// the containers' output was not; `--no-docker` skips the section.
#[test]
fn private_daemon_answers_then_hangs_then_stops() {
    let _one = exclusive();
    require_docker();
    let mut d = PrivateDockerd::start();
    let host = d.host();
    let env = [("DOCKER_HOST", host.as_str())];

    let (snap, _, _) = snapshot("300ms", &env, &[]);
    let section = &snap["containers"];
    assert_eq!(section["status"], "ok", "{section}\n{}", d.log());
    assert_eq!(section["engine"]["host"], host);
    assert_eq!(
        section["engine"]["version"],
        docker(&["-H", &host, "version", "-f", "{{.Server.Version}}"])
    );
    // The engine is older than bollard: doctor speaks the engine's newest API.
    assert_eq!(
        section["engine"]["api_version"],
        docker(&["-H", &host, "version", "-f", "{{.Server.APIVersion}}"])
    );
    assert_eq!(section["containers"], serde_json::json!([]));

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "Error: Queue limit reached.\n").unwrap();
    let log_args = ["--log", log.to_str().unwrap()];
    let logs_still_read = |snap: &Value| {
        let logs = &snap["logs"];
        assert_eq!(logs["status"], "ok", "{logs}");
        assert_eq!(logs["patterns"]["mysql-queue-limit"]["count"], 1, "{logs}");
        assert!(
            logs["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n.as_str().unwrap().starts_with("container output not read")),
            "{logs}"
        );
    };

    d.signal("STOP");
    let (snap, wall, _) = snapshot("300ms", &env, &log_args);
    d.signal("CONT");
    let section = &snap["containers"];
    assert_eq!(section["status"], "error", "{section}");
    let message = section["message"].as_str().unwrap();
    assert!(
        message.contains("did not answer") && message.contains(&host),
        "{message}"
    );
    // 0.3 s window + 5 s grace is the deadline; the engine call gives up at 4 s.
    assert!(wall < Duration::from_millis(5_300 + 1_500), "took {wall:?}");
    assert_eq!(snap["cpu"]["status"], "ok", "the rest still comes out");
    logs_still_read(&snap);

    d.stop();
    let (snap, wall, _) = snapshot("300ms", &env, &log_args);
    let section = &snap["containers"];
    assert_eq!(section["status"], "error", "{section}");
    let message = section["message"].as_str().unwrap();
    assert!(
        message.contains("is the Docker daemon running?")
            && message.contains(d.socket.to_str().unwrap()),
        "{message}"
    );
    assert!(
        wall < Duration::from_secs(3),
        "a stopped daemon is told at once: {wall:?}"
    );
    logs_still_read(&snap);

    let (snap, _, _) = snapshot("300ms", &env, &["--no-docker"]);
    assert_eq!(snap["containers"]["status"], "skipped");
    assert_eq!(
        snap["containers"]["message"],
        "switched off with --no-docker"
    );
}
