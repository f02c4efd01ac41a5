//! Containers' output in the `logs` section, against the real Docker engine (tests/run.sh starts
//! it): counts are checked against what `docker logs --timestamps` shows for the same container,
//! split at the window's start the snapshot reports.

mod support;

use serde_json::Value;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};
use support::docker::{Container, require_docker, wait_until};
use support::doctor;

/// What `docker logs --timestamps NAME` shows, stdout and stderr: each line with the engine's
/// timestamp in ns since the epoch.
fn docker_logs(name: &str) -> Vec<(u128, Vec<u8>)> {
    let out = Command::new("docker")
        .args(["logs", "--timestamps", name])
        .output()
        .expect("docker logs runs");
    assert!(out.status.success(), "docker logs {name}: {out:?}");
    let mut lines = Vec::new();
    for text in [out.stdout, out.stderr] {
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let space = line.iter().position(|&b| b == b' ').expect("a timestamp");
            let stamp = std::str::from_utf8(&line[..space]).unwrap();
            let t = humantime::parse_rfc3339(stamp)
                .unwrap_or_else(|e| panic!("{stamp}: {e}"))
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            lines.push((t, line[space + 1..].to_vec()));
        }
    }
    lines
}

/// `grep -c` of `needle` in `docker logs`, and how many of those lines the engine stamped at or
/// after `start_ms` (the snapshot's `window.start_unix_ms`).
fn count(lines: &[(u128, Vec<u8>)], needle: &[u8], start_ms: u64) -> (u64, u64) {
    let start = u128::from(start_ms) * 1_000_000;
    let hits: Vec<u128> = lines
        .iter()
        .filter(|(_, l)| l.windows(needle.len()).any(|w| w == needle))
        .map(|(t, _)| *t)
        .collect();
    // The snapshot gives the start in whole ms; doctor compares at ns. A line inside that one
    // millisecond would be ambiguous here (the test writes none near it).
    assert!(
        !hits.iter().any(|t| (start..start + 1_000_000).contains(t)),
        "a line was written in the window's first millisecond"
    );
    let in_window = hits.iter().filter(|&&t| t >= start).count();
    (hits.len() as u64, in_window as u64)
}

fn source<'a>(snap: &'a Value, name: &str) -> &'a Value {
    snap["logs"]["sources"]
        .as_array()
        .unwrap_or_else(|| panic!("no logs sources: {}", snap["logs"]))
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} not among {}", snap["logs"]["sources"]))
}

fn snapshot(args: &[&str]) -> Value {
    let out = doctor()
        .args(["snapshot", "--quiet"])
        .args(args)
        .output()
        .expect("doctor runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

const QUEUE: &[u8] = b"Queue limit reached.";

/// The app container of the diary (`backend_prod`): mysql2's `Error: Queue limit reached.` 25
/// times, then, once `/sig/go` exists, 10 more (5 on stdout, 5 on stderr). With it, a container
/// writing binary and non-UTF-8 bytes and one with a TTY (`\r\n` line ends, a raw stream instead
/// of frames). Returns them once their first output is there.
fn start_containers(signal: &std::path::Path) -> [Container; 3] {
    let mount = format!("{}:/sig", signal.display());
    let app = Container::run(
        "clogs-app",
        &["-v", &mount],
        &[
            "sh",
            "-c",
            "for i in $(seq 25); do echo 'Error: Queue limit reached.'; done; \
             echo 'GET /api/posts 200'; \
             until [ -e /sig/go ]; do sleep 0.05; done; \
             for i in $(seq 5); do echo 'Error: Queue limit reached.'; \
             echo 'Error: Queue limit reached.' >&2; done; exec sleep 600",
        ],
    );
    let binary = Container::run(
        "clogs-bin",
        &[],
        &[
            "sh",
            "-c",
            r"printf 'bin\000ary \377\376 Error: Queue limit reached.\n'; \
              printf '\377\000 Error: Queue limit reached.\n' >&2; \
              printf '\300\301 no match\n'; echo ready; exec sleep 600",
        ],
    );
    let tty = Container::run(
        "clogs-tty",
        &["-t"],
        &[
            "sh",
            "-c",
            "for i in $(seq 4); do echo 'Error: Queue limit reached.'; done; echo ready; exec sleep 600",
        ],
    );
    let wrote = |c: &Container, what: &[u8]| {
        docker_logs(&c.name)
            .iter()
            .any(|(_, l)| l.windows(what.len()).any(|w| w == what))
    };
    wait_until("the app wrote its history", Duration::from_secs(20), || {
        wrote(&app, b"GET /api/posts")
    });
    wait_until(
        "the other containers wrote theirs",
        Duration::from_secs(20),
        || wrote(&binary, b"ready") && wrote(&tty, b"ready"),
    );
    [app, binary, tty]
}

/// Each container's `mysql-queue-limit` count and in-window count are what `docker logs` shows
/// split at the snapshot's window start; returns their sums.
fn assert_counts_as_docker_logs(snap: &Value, containers: &[Container]) -> (u64, u64) {
    let start_ms = snap["window"]["start_unix_ms"].as_u64().unwrap();
    let mut total = (0, 0);
    for c in containers {
        let expected = count(&docker_logs(&c.name), QUEUE, start_ms);
        let s = source(snap, &c.name);
        assert_eq!(s["status"], "ok", "{s}");
        assert_eq!(s["kind"], "container");
        assert_eq!(s["container_id"], c.inspect("{{.Id}}")[..12], "{s}");
        let m = &s["matches"]["mysql-queue-limit"];
        assert_eq!(
            (
                m["count"].as_u64().unwrap(),
                m["in_window"].as_u64().unwrap()
            ),
            expected,
            "{}: {s}",
            c.name
        );
        total.0 += expected.0;
        total.1 += expected.1;
    }
    total
}

/// The diary's `docker logs backend_prod`: the app's 25 lines from before the window are history,
/// the 10 written during it (stdout and stderr) are `in_window`; the binary and TTY containers are
/// read as well. Every count is what `docker logs` shows, split at the snapshot's window start by
/// the engine's own timestamps; a name that is not running is an error for that source only. Then,
/// without `--container`, every running container is read, and a window in which the app wrote
/// nothing counts its lines as history only.
#[test]
fn queue_limit_lines_in_container_output_are_counted_as_docker_logs_shows_them() {
    require_docker();
    let signal = tempfile::tempdir().unwrap();
    let containers = start_containers(signal.path());
    let [app, binary, tty] = &containers;

    let t = Instant::now();
    let mut child = doctor()
        .args(["snapshot", "--quiet", "--interval", "3s"])
        .args(["--container", &app.name, "--container", &binary.name])
        .args([
            "--container",
            &tty.name,
            "--container",
            "doctor-test-no-such",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Inside the window (the snapshot's window.start, checked below against the timestamps).
    std::thread::sleep(Duration::from_secs(1));
    std::fs::write(signal.path().join("go"), "").unwrap();
    wait_until(
        "the app wrote during the window",
        Duration::from_secs(2),
        || {
            docker_logs(&app.name)
                .iter()
                .filter(|(_, l)| l.ends_with(QUEUE))
                .count()
                == 35
        },
    );
    let mut json = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut json).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
    let snap: Value = serde_json::from_slice(&json).unwrap();
    let logs = &snap["logs"];
    assert_eq!(logs["status"], "ok", "{logs}");

    let total = assert_counts_as_docker_logs(&snap, &containers);
    // The design of the app container: 25 before, 10 during (else the machine was too slow for
    // the signal to land inside the 3 s window).
    let start_ms = snap["window"]["start_unix_ms"].as_u64().unwrap();
    assert_eq!(
        count(&docker_logs(&app.name), QUEUE, start_ms),
        (35, 10),
        "window starts at {start_ms}"
    );
    let app_src = source(&snap, &app.name);
    assert_eq!(app_src["categories"]["db-pool-exhausted"]["in_window"], 10);
    assert!(app_src["window_bytes"].as_u64().unwrap() > 0);
    assert_eq!(app_src["tail_truncated"], false);
    // The totals cover exactly the containers named.
    for total_of in [
        &logs["patterns"]["mysql-queue-limit"],
        &logs["categories"]["db-pool-exhausted"],
    ] {
        assert_eq!(
            (
                total_of["count"].as_u64().unwrap(),
                total_of["in_window"].as_u64().unwrap()
            ),
            total,
            "{logs}"
        );
    }
    let bin = source(&snap, &binary.name);
    assert!(
        bin["notes"][0].as_str().unwrap().contains("NUL"),
        "binary output is noted: {bin}"
    );
    let missing = source(&snap, "doctor-test-no-such");
    assert_eq!(missing["status"], "error");
    assert_eq!(
        missing["message"],
        "no running container named doctor-test-no-such (`docker ps` lists them)"
    );

    // Without --container: every running container (other tests' too); nothing written in this
    // window, so the app's lines are all history.
    let snap = snapshot(&["--interval", "300ms"]);
    assert_eq!(snap["logs"]["status"], "ok", "{}", snap["logs"]);
    assert_counts_as_docker_logs(&snap, &containers);
    assert_eq!(
        source(&snap, &app.name)["matches"]["mysql-queue-limit"]["in_window"],
        0
    );
}

/// `--container-log-since 0s` reads only the window: the history is not asked for; `--no-docker`
/// reads no container and cannot be combined with `--container`.
#[test]
fn the_look_back_bounds_the_history_and_no_docker_reads_no_container() {
    require_docker();
    let c = Container::run(
        "clogs-since",
        &[],
        &[
            "sh",
            "-c",
            "echo 'Error: Queue limit reached.'; echo ready; exec sleep 600",
        ],
    );
    wait_until("the container wrote", Duration::from_secs(20), || {
        docker_logs(&c.name).len() == 2
    });
    // The engine's `since` is whole seconds: let the line be more than a second old.
    std::thread::sleep(Duration::from_millis(2100));
    let snap = snapshot(&[
        "--interval",
        "200ms",
        "--container",
        &c.name,
        "--container-log-since",
        "0s",
    ]);
    let s = source(&snap, &c.name);
    assert_eq!(s["status"], "ok", "{s}");
    assert_eq!(s["bytes_scanned"], 0, "{s}");
    assert_eq!(snap["logs"]["patterns"]["mysql-queue-limit"]["count"], 0);

    let snap = snapshot(&["--interval", "200ms", "--container", &c.name]);
    assert_eq!(snap["logs"]["patterns"]["mysql-queue-limit"]["count"], 1);

    let snap = snapshot(&["--interval", "200ms", "--no-docker"]);
    assert_eq!(snap["logs"]["status"], "skipped", "{}", snap["logs"]);
    let out = doctor()
        .args(["snapshot", "--no-docker", "--container", &c.name])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot be used with"),
        "{out:?}"
    );
}

/// 3000 lines of history: more than the first read asks for (1024 newest lines), so the reads grow
/// until every line is held; with a 10 KiB tail, only the lines wholly inside the last 10240 bytes
/// of what `docker logs --timestamps` prints are counted, and the source says it was truncated.
#[test]
fn a_long_history_is_read_whole_or_to_the_tail() {
    require_docker();
    let c = Container::run(
        "clogs-long",
        &[],
        &[
            "sh",
            "-c",
            "for i in $(seq 3000); do echo \"Error: Queue limit reached. $i\"; done; exec sleep 600",
        ],
    );
    wait_until("the container wrote", Duration::from_secs(20), || {
        docker_logs(&c.name).len() == 3000
    });
    let snap = snapshot(&["--interval", "200ms", "--container", &c.name]);
    let s = source(&snap, &c.name);
    assert_eq!(s["matches"]["mysql-queue-limit"]["count"], 3000, "{s}");
    assert_eq!(s["tail_truncated"], false);

    let all = Command::new("docker")
        .args(["logs", "--timestamps", &c.name])
        .output()
        .unwrap()
        .stdout;
    let tail = 10_240;
    let cut = all.len() - tail;
    let first = if all[cut - 1] == b'\n' {
        cut
    } else {
        cut + all[cut..].iter().position(|&b| b == b'\n').unwrap() + 1
    };
    let expected = all[first..]
        .split(|&b| b == b'\n')
        .filter(|l| l.windows(QUEUE.len()).any(|w| w == QUEUE))
        .count();
    let snap = snapshot(&[
        "--interval",
        "200ms",
        "--container",
        &c.name,
        "--log-tail-bytes",
        "10k",
    ]);
    let s = source(&snap, &c.name);
    assert_eq!(s["matches"]["mysql-queue-limit"]["count"], expected, "{s}");
    assert_eq!(s["tail_truncated"], true);
    assert!(s["bytes_scanned"].as_u64().unwrap() <= 10_241, "{s}");
}

/// `doctor watch` follows a container's output per sample, from the engine's json-file log: a
/// container that starts writing mysql2's pool error after the run began shows as a
/// `db-pool-exhausted` lines/s series whose samples add up to what `docker logs` shows was
/// written in the run, within the lines of the first and last sample's edges.
#[test]
fn watch_follows_container_output_per_sample() {
    require_docker();
    let signal = tempfile::tempdir().unwrap();
    // Waits for a file the test creates, then writes 300 pool errors over about 3 s
    // (bounded), then idles until removed.
    let c = Container::run(
        "watch-output",
        &["-v", &format!("{}:/signal", signal.path().display())],
        &[
            "sh",
            "-c",
            "while [ ! -e /signal/go ]; do sleep 0.05; done; \
             i=0; while [ $i -lt 300 ]; do echo 'Error: Queue limit reached.'; \
             i=$((i+1)); sleep 0.01; done; sleep 3600",
        ],
    );
    assert_eq!(c.inspect("{{.HostConfig.LogConfig.Type}}"), "json-file");
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec.json");
    let mut child = doctor()
        .args([
            "watch",
            "--every",
            "1s",
            "--duration",
            "7s",
            "--no-mysql",
            "--container",
        ])
        .arg(&c.name)
        .arg("--out")
        .arg(&rec)
        .args(["--fail-on", "never", "--format", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("doctor watch starts");
    // The run has begun (its readers are open) before the container writes anything.
    std::thread::sleep(Duration::from_millis(1500));
    std::fs::write(signal.path().join("go"), "").unwrap();
    let status = child.wait().expect("doctor watch ends");
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{status}: {err}");
    let written = docker_logs(&c.name)
        .iter()
        .filter(|(_, l)| l.windows(12).any(|w| w == b"Queue limit "))
        .count();
    assert_eq!(
        written, 300,
        "the container wrote all its lines within the run"
    );

    let snap: Value = serde_json::from_slice(&std::fs::read(&rec).unwrap()).unwrap();
    let series = &snap["series"];
    let column = series["columns"]["logs.categories[db-pool-exhausted].per_s"]
        .as_array()
        .unwrap_or_else(|| panic!("no pool-error series: {}", series["columns"]));
    let t: Vec<f64> = series["t_ms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() / 1000.0)
        .collect();
    // lines/s × each sample's seconds = lines seen in that sample.
    let mut seen = 0.0;
    for (i, v) in column.iter().enumerate() {
        let dt = t[i] - if i == 0 { 0.0 } else { t[i - 1] };
        seen += v.as_f64().unwrap_or(0.0) * dt;
    }
    // Rates are rounded to 2 decimals: a few lines' slack, none missing or counted twice.
    assert!(
        (seen - 300.0).abs() <= 3.0,
        "{seen} lines in the series: {column:?}"
    );
    let first = column.iter().position(|v| v.as_f64().unwrap_or(0.0) > 0.0);
    assert!(
        first.is_some_and(|i| i >= 1),
        "nothing before the container wrote: {column:?}"
    );
}
