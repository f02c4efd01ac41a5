//! `doctor import`: the diary (a pasted issue body) read as the acceptance test of issue 12, inputs
//! combined, text not understood reported by line range, and no panic on any input.

use assert_cmd::Command;
use doctor::engine::Catalogue;
use doctor::import::build::{Input, snapshot};
use doctor::report::{self, Color, Report};
use doctor::scan::Scanner;
use doctor::snapshot::{LineRange, Snapshot, Status};
use std::path::Path;

fn doctor() -> Command {
    Command::cargo_bin("doctor").unwrap()
}

fn samples() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/import/samples"))
}

fn sample(name: &str) -> String {
    std::fs::read_to_string(samples().join(name)).unwrap()
}

fn import(inputs: &[(&str, &str)]) -> Snapshot {
    let inputs: Vec<Input<'_>> = inputs
        .iter()
        .map(|(name, text)| Input { name, text })
        .collect();
    snapshot(&inputs, &Scanner::builtin().unwrap())
}

fn report(snap: &Snapshot) -> Report {
    Report::new(snap, &Catalogue::load(None).unwrap())
}

/// The acceptance test: the diary names the accept-queue overflow and the exhausted pool, and
/// says which lines it did not understand.
#[test]
fn the_diary_names_its_two_causes() {
    let text = sample("diary-mokakbab-issue.md");
    let snap = import(&[("diary-mokakbab-issue.md", &text)]);
    let r = report(&snap);
    let ids: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
    assert!(ids.contains(&"tcp-accept-queue-overflow"), "{ids:?}");
    assert!(ids.contains(&"db-pool-exhausted"), "{ids:?}");
    let overflow = r
        .findings
        .iter()
        .find(|f| f.id == "tcp-accept-queue-overflow")
        .unwrap();
    assert!(
        overflow
            .summary
            .contains("3008 listen-queue overflows since boot"),
        "{}",
        overflow.summary
    );
    // The rate could not be judged from one reading, and the report says so.
    assert!(overflow.from.iter().any(|g| {
        g.reason
            .as_deref()
            .is_some_and(|r| r.starts_with("one sample only"))
    }));
    let pool = r
        .findings
        .iter()
        .find(|f| f.id == "db-pool-exhausted")
        .unwrap();
    assert!(pool.summary.contains("imported text"), "{}", pool.summary);

    // Where each section came from: the quoted sentences (lines 621-622) and the stack trace.
    assert_eq!(snap.tcp.status, Status::Ok);
    assert!(
        snap.tcp
            .imported
            .iter()
            .any(|p| (p.first_line, p.last_line) == (621, 622)),
        "{:?}",
        snap.tcp.imported
    );
    assert!(
        snap.logs
            .imported
            .iter()
            .any(|p| p.first_line <= 591 && 591 <= p.last_line)
    );
    // Not understood: the prose, by range, inside the text, not touching what was understood.
    let input = &snap.imported.as_ref().unwrap().inputs[0];
    assert!(!input.not_understood.is_empty());
    let lines = text.lines().count();
    for r in &input.not_understood {
        assert!(r.first_line <= r.last_line && r.last_line <= lines, "{r:?}");
        for o in &input.outputs {
            assert!(
                r.last_line < o.first_line || o.last_line < r.first_line,
                "{r:?} overlaps {o:?}"
            );
        }
    }
    // The diary's first lines are prose.
    assert_eq!(input.not_understood[0].first_line, 1);
    // Unknown host facts stay unknown.
    assert_eq!(snap.host.cpus, None);
    assert_eq!(snap.host.memory_bytes, None);
    // Sections the text does not hold say so.
    assert_eq!(snap.cpu.status, Status::Skipped);
    assert_eq!(
        snap.cpu.message.as_deref(),
        Some("not in the imported text")
    );
}

#[test]
fn the_diary_report_as_the_user_reads_it() {
    let text = sample("diary-mokakbab-issue.md");
    let r = report(&import(&[("diary-mokakbab-issue.md", &text)]));
    let mut table = Vec::new();
    report::render_table(&r, Color::Never, Some(110), &mut table).unwrap();
    let mut md = Vec::new();
    report::render_markdown(&r, &mut md).unwrap();
    let mut json = Vec::new();
    report::render_json(&r, &mut json).unwrap();
    insta::assert_snapshot!("diary.table", String::from_utf8(table).unwrap());
    insta::assert_snapshot!("diary.md", String::from_utf8(md).unwrap());
    insta::assert_snapshot!("diary.json", String::from_utf8(json).unwrap());
}

/// Several inputs combine into one snapshot: the counters of one, the sysctls of another.
#[test]
fn several_inputs_make_one_snapshot() {
    let netstat = sample("netstat-s.txt");
    let sysctl = "net.core.somaxconn = 128\nkernel.hostname = web-1\n";
    let log = "2025-01-03 08:29:05 Error: Queue limit reached.\n";
    let snap = import(&[("a.txt", &netstat), ("b.txt", sysctl), ("c.log", log)]);
    let tcp = snap.tcp.get().unwrap();
    assert!(tcp.counters.contains_key("TcpExtListenOverflows"));
    assert_eq!(tcp.sysctls["net.core.somaxconn"].to_string(), "128");
    assert_eq!(snap.host.hostname.as_deref(), Some("web-1"));
    let inputs: Vec<&str> = snap.tcp.imported.iter().map(|p| p.input.as_str()).collect();
    assert!(
        inputs.contains(&"a.txt") && inputs.contains(&"b.txt"),
        "{inputs:?}"
    );
    assert_eq!(
        snap.logs.get().unwrap().categories["db-pool-exhausted"].count,
        1
    );
    let names: Vec<&str> = snap
        .imported
        .as_ref()
        .unwrap()
        .inputs
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(names, ["a.txt", "b.txt", "c.log"]);
}

/// Two readings of the same counters one after the other become growth, and say the time
/// between them is unknown.
#[test]
fn two_readings_are_growth() {
    let text = "$ nstat -az TcpExtListenOverflows\n#kernel\nTcpExtListenOverflows 3008 0.0\n\n\
                $ nstat -az TcpExtListenOverflows\n#kernel\nTcpExtListenOverflows 3108 0.0\n";
    let snap = import(&[("paste", text)]);
    let c = snap.tcp.get().unwrap().counters["TcpExtListenOverflows"];
    assert_eq!((c.total, c.delta, c.per_s), (3108, Some(100), None));
    assert_eq!(snap.imported.as_ref().unwrap().samples, 2);
    let r = report(&snap);
    let f = r
        .findings
        .iter()
        .find(|f| f.id == "tcp-accept-queue-overflow")
        .unwrap();
    assert!(
        f.summary.contains("between the two readings"),
        "{}",
        f.summary
    );
}

/// Text with nothing doctor knows: every line not understood, every section skipped.
#[test]
fn nothing_recognised_is_said_so() {
    let snap = import(&[("notes.txt", "hello\n\nworld\n")]);
    let input = &snap.imported.as_ref().unwrap().inputs[0];
    assert_eq!(
        input.not_understood,
        [LineRange {
            first_line: 1,
            last_line: 3
        }]
    );
    assert!(
        snap.collectors()
            .iter()
            .all(|c| c.status == Status::Skipped)
    );
}

/// No panic on any input: every sample cut at every 97th byte and garbled.
#[test]
fn truncated_and_garbled_samples_never_panic() {
    let scanner = Scanner::builtin().unwrap();
    let mut names: Vec<_> = std::fs::read_dir(samples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    names.extend(
        std::fs::read_dir(samples().join("percona"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    for path in names {
        let bytes = std::fs::read(&path).unwrap();
        let bytes = &bytes[..bytes.len().min(40_000)];
        let mut cut = 0;
        while cut < bytes.len() {
            let text = String::from_utf8_lossy(&bytes[..cut]);
            let _ = snapshot(
                &[Input {
                    name: "t",
                    text: &text,
                }],
                &scanner,
            );
            // Garbled: every 7th byte of the rest replaced by a table border or a digit.
            let garbled: Vec<u8> = bytes[cut..]
                .iter()
                .enumerate()
                .map(|(i, b)| match i % 7 {
                    0 => b'|',
                    3 => b'9',
                    _ => *b,
                })
                .collect();
            let text = String::from_utf8_lossy(&garbled);
            let _ = snapshot(
                &[Input {
                    name: "t",
                    text: &text,
                }],
                &scanner,
            );
            cut += 97.max(bytes.len() / 40);
        }
    }
}

#[test]
fn the_command_reads_files_and_standard_input() {
    let diary = samples().join("diary-mokakbab-issue.md");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap.json");
    let assert = doctor()
        .args(["import", "--format", "json", "--fail-on", "never", "--out"])
        .arg(&out)
        .arg(&diary)
        .assert()
        .success();
    let report: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert!(report["imported"]["inputs"][0]["not_understood"].is_array());
    // The saved snapshot replays to the same findings.
    let replay = doctor()
        .args(["analyze", "--format", "json", "--fail-on", "never"])
        .arg(&out)
        .assert()
        .success();
    let again: serde_json::Value = serde_json::from_slice(&replay.get_output().stdout).unwrap();
    assert_eq!(report["findings"], again["findings"]);
    // Standard input.
    doctor()
        .args(["import", "-", "--fail-on", "never"])
        .write_stdin("TcpExtListenOverflows 5 0.0\n")
        .assert()
        .success()
        .stdout(predicates::str::contains("imported from <stdin>"));
    // `--fail-on info` exits 1 on the diary (its findings are info).
    doctor()
        .args(["import", "--fail-on", "info"])
        .arg(&diary)
        .assert()
        .code(1);
    // A missing file is a usage error naming it.
    doctor()
        .args(["import", "no-such-file.txt"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot read no-such-file.txt"));
}

/// `ss -lnt` fills the listeners (a full queue is evidence beside the totals), `ss -s` the states.
#[test]
fn ss_outputs_fill_listeners_and_states() {
    let text = format!(
        "{}\n{}\n{}",
        sample("ss-lntp.txt"),
        sample("ss-s.txt"),
        sample("nstat-az.txt")
    );
    let snap = import(&[("paste", &text)]);
    let l = snap.listeners.get().unwrap();
    let full = l.sockets.iter().find(|s| s.port == 33396).unwrap();
    assert_eq!((full.queue_max, full.backlog), (2, 1));
    assert_eq!(full.process.as_ref().unwrap().name, "python3");
    assert_eq!(full.inode, None);
    let states = &snap.tcp.get().unwrap().states;
    assert!(states.contains_key("ESTABLISHED") && states.contains_key("LISTEN"));
    let r = report(&snap);
    // The recorded nstat -az has overflows since boot (the lab's scenarios ran on this machine).
    let f = r
        .findings
        .iter()
        .find(|f| f.id == "tcp-accept-queue-overflow")
        .unwrap();
    let ev = f
        .evidence
        .iter()
        .find(|e| {
            e.label
                .starts_with("listeners at their backlog in the text")
        })
        .unwrap();
    assert!(ev.value.contains("127.0.0.1:33396 2/1"), "{}", ev.value);
}

/// Host facts come from the outputs that show them (free with its command line, uptime, iostat's
/// first line); those no output shows stay unknown.
#[test]
fn host_facts_from_free_uptime_and_sysstat() {
    let text = format!(
        "$ free -m\n{}\n{}\n{}",
        sample("free-m.txt"),
        sample("uptime.txt"),
        sample("iostat-x.txt").lines().next().unwrap()
    );
    let snap = import(&[("paste", &text)]);
    let h = &snap.host;
    assert!(h.memory_bytes.is_some_and(|b| b > 1 << 30), "{h:?}");
    assert!(h.uptime_s.is_some_and(|s| s > 0.0), "{h:?}");
    assert!(h.cpus.is_some_and(|c| c > 0), "{h:?}");
    assert!(h.kernel.is_some() && h.hostname.is_some(), "{h:?}");
    // free without its command line: recognised, its unit unknown, not used.
    let snap = import(&[("paste", &sample("free.txt"))]);
    assert_eq!(snap.host.memory_bytes, None);
    let o = &snap.imported.as_ref().unwrap().inputs[0].outputs[0];
    assert_eq!(o.output, "free");
    assert!(
        o.unused.as_deref().is_some_and(|u| u.contains("unit")),
        "{o:?}"
    );
}

/// The cpu and memory sections from vmstat, iostat's avg-cpu, free and uptime, recorded on this
/// machine under load (`tests/import/samples/VERSIONS.txt`). Every expected figure is read off
/// the sample files by eye: vmstat's two interval rows (us 99, 96; sy 1, 4; id 0, 0; r 5, 4, 4 on
/// all three rows), iostat's `(2 CPU)`, `free -h`'s 23Gi / 22Gi, uptime's 4.73 4.57 4.05.
#[test]
fn cpu_and_memory_from_vmstat_iostat_free_uptime() {
    let snap = import(&[
        ("vmstat", &sample("vmstat-1-3.txt")),
        ("iostat", &sample("iostat-x-1-2.txt")),
        ("free", &sample("free-h.txt")),
        ("uptime", &sample("uptime.txt")),
    ]);
    let cpu = snap.cpu.get().unwrap();
    assert_eq!(cpu.cores, Some(2));
    assert_eq!((cpu.user_pct, cpu.system_pct), (97.5, 2.5));
    assert_eq!(
        (cpu.idle_pct, cpu.iowait_pct, cpu.busy_pct),
        (0.0, 0.0, 100.0)
    );
    assert_eq!(
        (cpu.nice_pct, cpu.irq_pct, cpu.busiest_core_pct),
        (None, None, None)
    );
    // vmstat's r less vmstat itself: 4, 3, 3.
    assert_eq!(
        (cpu.run_queue_avg, cpu.run_queue_max),
        (Some(3.33), Some(4))
    );
    assert_eq!(cpu.run_queue_samples, 3);
    assert_eq!((cpu.load_1, cpu.load_15), (Some(4.73), Some(4.05)));
    let from: Vec<(&str, usize)> = snap
        .cpu
        .imported
        .iter()
        .map(|p| (p.output.as_str(), p.first_line))
        .collect();
    assert_eq!(from, [("uptime", 1), ("vmstat", 1)]);
    let memory = snap.memory.get().unwrap();
    assert_eq!(memory.total_bytes, Some(23 << 30));
    assert_eq!(memory.available_bytes, Some(22 << 30));
    assert_eq!(memory.available_pct, Some(95.65));
    assert_eq!(
        (memory.swap_in_pages_per_s, memory.swap_out_pages_per_s),
        (Some(0.0), Some(0.0))
    );
    assert_eq!(
        (memory.major_faults_per_s, memory.dirty_bytes),
        (None, None)
    );
    // Four run-queue tasks on two busy cores: saturation, read from the run queue.
    let r = report(&snap);
    let first = &r.findings[0];
    assert_eq!(first.id, "cpu-saturation");
    // Without major faults in the text, the swap rule is checked in part, never called fine.
    let swap = r
        .partly_checked
        .iter()
        .find(|p| p.id == "memory-swapping")
        .expect("memory-swapping checked in part");
    assert_eq!(swap.unchecked[0].from, "major faults");
}

/// iostat alone tells where the CPU time went but not the run queue: cpu-saturation says so
/// rather than calling the CPUs fine; the interval's block is taken over the one since boot.
#[test]
fn iostat_alone_has_no_run_queue() {
    let snap = import(&[("iostat", &sample("iostat-x-1-2.txt"))]);
    let cpu = snap.cpu.get().unwrap();
    assert_eq!(
        (cpu.user_pct, cpu.nice_pct, cpu.steal_pct),
        (97.49, Some(0.0), Some(0.0))
    );
    assert_eq!((cpu.run_queue_avg, cpu.run_queue_samples), (None, 0));
    assert!(snap.memory.get().is_none());
    let r = report(&snap);
    let sat = r
        .partly_checked
        .iter()
        .find(|p| p.id == "cpu-saturation")
        .expect("cpu-saturation checked in part");
    assert_eq!(sat.checked, ["steal"]);
    assert!(sat.unchecked[0].reason.contains("run_queue_avg"), "{sat:?}");
}

/// Swap traffic in a pasted vmstat (its unit from the command line above it): memory-swapping
/// fires from the swap group. Written by hand: the recorded swapping paste is the live test's
/// (`tests/live.rs`, `pasted_memory_swapping`); this one pins the unit arithmetic.
#[test]
fn vmstat_swap_rates_in_its_unit() {
    let rows = "procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----\n \
                r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st\n \
                2  1 402400  60536  10180 204800  120  340   900  1500  800 2000 40 10 20 30  0\n \
                3  2 402800  51200  10180 204000 2048 4096  9000  1500  800 2000 40 10 20 30  0\n \
                3  2 403200  50200  10180 203000 1024 2048  9000  1500  800 2000 40 10 20 30  0\n";
    for (command, pages_in) in [("$ vmstat 1 3", 384.0), ("$ vmstat -S M 1 3", 393_216.0)] {
        let text = format!("{command}\n{rows}");
        let snap = import(&[("paste", &text)]);
        let memory = snap.memory.get().unwrap();
        // (2048 + 1024) / 2 KiB/s = 1536 KiB/s = 384 pages of 4 KiB; in MiB, 1024 times that.
        assert_eq!(memory.swap_in_pages_per_s, Some(pages_in), "{command}");
        let r = report(&snap);
        assert_eq!(r.findings[0].id, "memory-swapping", "{command}");
        assert_eq!(snap.imported.as_ref().unwrap().inputs[0].not_understood, []);
    }
}

/// `ss -tan` gives the ephemeral ports its connections hold (what `tcp.local_ports` counts
/// live), over Linux's default range when the text does not give it; its listeners still go to
/// `listeners`. Figures counted off the recorded file with awk: 9 sockets not listening whose
/// local port is in 32768-60999, 3 of them the clients' connections to 127.0.0.1:33397.
#[test]
fn ss_tan_fills_the_ephemeral_ports() {
    let snap = import(&[("ss", &sample("ss-tan.txt"))]);
    let tcp = snap.tcp.get().unwrap();
    let ports = tcp.local_ports.as_ref().unwrap();
    assert_eq!(
        (ports.range_low, ports.range_high, ports.usable),
        (32768, 60999, 28232)
    );
    assert_eq!(ports.in_range, 9);
    let top = &ports.destinations[0];
    assert_eq!(
        (
            top.remote.as_str(),
            top.sockets,
            top.established,
            top.loopback
        ),
        ("127.0.0.1:33397", 3, 3, true)
    );
    assert!(
        snap.tcp
            .notes
            .iter()
            .any(|n| n.contains("Linux's default 32768-60999"))
    );
    assert!(
        snap.listeners
            .get()
            .unwrap()
            .sockets
            .iter()
            .any(|l| l.port == 33397)
    );
    // With the range pasted, it is the one used.
    let text = format!(
        "$ sysctl net.ipv4.ip_local_port_range\nnet.ipv4.ip_local_port_range = 33000\t33600\n{}",
        sample("ss-tan.txt")
    );
    let snap = import(&[("ss", &text)]);
    let ports = snap.tcp.get().unwrap().local_ports.clone().unwrap();
    // In 33000-33600: the six server-side sockets on 33397; the clients' 33610-33622 are not.
    assert_eq!((ports.range_low, ports.range_high), (33000, 33600));
    assert_eq!(ports.in_range, 6);
}

/// iostat -x builds the disks from its last report, docker stats the containers (what it
/// shows, and nothing it does not); every output names the section it went to.
#[test]
fn iostat_vmstat_docker_stats() {
    let snap = import(&[
        ("iostat", &sample("iostat-x-1-2.txt")),
        ("vmstat", &sample("vmstat-1-3.txt")),
        ("docker", &sample("docker-stats-no-stream.txt")),
    ]);
    let disks = snap.disks.get().unwrap();
    assert!(disks.devices.iter().any(|d| d.name == "vda"));
    assert_eq!(snap.disks.imported[0].first_line, 14);
    let imported = snap.imported.as_ref().unwrap();
    for input in &imported.inputs {
        assert!(input.not_understood.is_empty(), "{input:?}");
        for o in &input.outputs {
            assert!(o.section.is_some() != o.unused.is_some(), "{o:?}");
        }
    }
    let to_disks: Vec<_> = imported.inputs[0]
        .outputs
        .iter()
        .filter(|o| o.section.as_deref() == Some("disks"))
        .collect();
    assert_eq!(to_disks.len(), 1);
    assert!(snap.host.cpus.is_some());
    // The recorded row: `f78af2e12ee6   doctor-import-rec   0.00%   852KiB / 23.54GiB   0.00%
    // 736B / 0B   0B / 0B   1`.
    let containers = snap.containers.get().unwrap();
    assert_eq!(containers.engine.host, None);
    let c = &containers.containers[0];
    assert_eq!(
        (c.name.as_str(), c.id.as_str(), c.state.as_str()),
        ("doctor-import-rec", "f78af2e12ee6", "running")
    );
    assert_eq!((c.memory_bytes, c.pids), (Some(852 * 1024), Some(1)));
    assert_eq!(c.net_rx_bytes.as_ref().map(|n| n.total), Some(736));
    assert_eq!(
        (&c.image, &c.restart_count, c.oom_killed),
        (&None, &None, None)
    );
    // Its cgroup is not in the paste: throttling is not checked, not called fine.
    let r = report(&snap);
    assert!(
        r.not_checked
            .iter()
            .any(|n| n.id == "container-cpu-throttled" && n.reason.contains("no `cgroup`")),
        "{:?}",
        r.not_checked
    );
}

/// Secrets in pasted log lines are redacted as in scanned logs: the sample kept is the redacted
/// line.
#[test]
fn secrets_in_pasted_logs_are_redacted() {
    let text = "Error: Queue limit reached. password=hunter2 Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc\n";
    let snap = import(&[("paste", text)]);
    let json = serde_json::to_string(&snap).unwrap();
    assert!(!json.contains("hunter2"), "{json}");
    assert!(!json.contains("eyJhbGciOiJIUzI1NiJ9"), "{json}");
    assert_eq!(
        snap.logs.get().unwrap().categories["db-pool-exhausted"].count,
        1
    );
}

/// The report of an import of several recorded outputs at once, as the user reads it: host facts,
/// listeners, states, disks, counters, each section naming its inputs and lines.
#[test]
fn several_outputs_report_as_the_user_reads_it() {
    let names = [
        "iostat-x-1-2.txt",
        "free-h.txt",
        "uptime.txt",
        "ss-lntp.txt",
        "ss-s.txt",
        "nstat-az.txt",
        "vmstat-1-3.txt",
        "docker-stats-no-stream.txt",
    ];
    let texts: Vec<(String, String)> = names.iter().map(|n| ((*n).to_owned(), sample(n))).collect();
    let inputs: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let r = report(&import(&inputs));
    let mut table = Vec::new();
    report::render_table(&r, Color::Never, Some(110), &mut table).unwrap();
    insta::assert_snapshot!("samples.table", String::from_utf8(table).unwrap());
}

/// The mysql section from pasted result sets, figured as the collector figures a connected
/// server: one reading keeps totals (rate rules not checked, "one sample only").
#[test]
fn mysql_from_status_variables_and_processlist() {
    let text = format!(
        "{}\n{}\n{}",
        sample("mariadb-status-table.txt"),
        sample("mariadb-variables-tab.txt"),
        sample("mariadb-processlist-vertical.txt")
    );
    let snap = import(&[("paste", &text)]);
    let m = snap.mysql.get().unwrap();
    assert_eq!(m.flavor, Some(doctor::snapshot::Flavor::Mariadb));
    assert!(m.version.as_deref().is_some_and(|v| v.contains("MariaDB")));
    assert!(m.connections_used_pct.is_some());
    assert!(m.global_status["Connections"].delta.is_none());
    assert!(m.processlist.as_ref().is_some_and(|p| p.threads >= 1));
    assert_eq!(m.connection, None);
    assert!(snap.window.elapsed_ms.abs() < f64::EPSILON);
    let r = report(&snap);
    let churn = r
        .not_checked
        .iter()
        .find(|n| n.id == "mysql-connection-churn")
        .unwrap();
    assert!(
        churn.reason.starts_with("one sample only"),
        "{}",
        churn.reason
    );
    // Percona's MySQL 8.0.32 dumps (tab form, \G processlist) read the same way.
    let p = |n: &str| std::fs::read_to_string(samples().join("percona").join(n)).unwrap();
    let text = format!(
        "{}\n{}\n{}",
        p("mysql-8.0.32-status-tab.txt"),
        p("mysql-8.0.32-variables-tab.txt"),
        p("mysql-8.0.32-processlist-vertical.txt")
    );
    let snap = import(&[("percona", &text)]);
    let m = snap.mysql.get().unwrap();
    assert_eq!(m.flavor, Some(doctor::snapshot::Flavor::Mysql));
    assert_eq!((m.version_major, m.version_minor), (Some(8), Some(0)));
}

/// Two SHOW GLOBAL STATUS readings: rates over the gap their Uptime tells, which is the window.
#[test]
fn two_status_readings_are_rates_over_their_uptime_gap() {
    let text = "mysql> SHOW GLOBAL STATUS LIKE 'Connections';\n\
                +---------------+-------+\n| Variable_name | Value |\n+---------------+-------+\n\
                | Connections   | 500   |\n| Uptime        | 1000  |\n| Threads_created | 400 |\n\
                +---------------+-------+\n\n\
                mysql> SHOW GLOBAL STATUS LIKE 'Connections';\n\
                +---------------+-------+\n| Variable_name | Value |\n+---------------+-------+\n\
                | Connections   | 1500  |\n| Uptime        | 1010  |\n| Threads_created | 1300 |\n\
                +---------------+-------+\n";
    let snap = import(&[("paste", text)]);
    let m = snap.mysql.get().unwrap();
    assert_eq!(m.global_status["Connections"].per_s, Some(100.0));
    assert!((snap.window.elapsed_ms - 10_000.0).abs() < 1e-9);
    let i = snap.imported.as_ref().unwrap();
    assert_eq!((i.samples, i.gap_s), (2, Some(10.0)));
    let r = report(&snap);
    assert!(
        r.findings.iter().any(|f| f.id == "mysql-connection-churn"),
        "{:?}",
        r.findings.iter().map(|f| &f.id).collect::<Vec<_>>()
    );
}

/// `mysqladmin extended-status -r -i 1 -c 2`, recorded: totals, then the interval's differences.
#[test]
fn mysqladmin_relative_readings() {
    let snap = import(&[(
        "paste",
        &sample("mariadb-admin-extended-status-r-i1-c2.txt"),
    )]);
    let m = snap.mysql.get().unwrap();
    assert!(m.global_status["Questions"].delta.is_some());
    assert!(
        snap.mysql.notes.iter().any(|n| n.contains("mysqladmin -r")),
        "{:?}",
        snap.mysql.notes
    );
    assert_eq!(snap.imported.as_ref().unwrap().samples, 2);
}

/// `SHOW ENGINE INNODB STATUS`: understood whole; its history list length is what
/// `mysql-long-transaction` reads, its hit rate and pending I/O are notes.
#[test]
fn innodb_status_lines_that_matter() {
    let snap = import(&[("paste", &sample("mariadb-innodb-status-vertical.txt"))]);
    assert!(
        snap.imported.as_ref().unwrap().inputs[0]
            .not_understood
            .is_empty()
    );
    let m = snap.mysql.get().unwrap();
    assert_eq!(m.global_status["Innodb_history_list_length"].total, 0);
    assert!(
        snap.mysql
            .notes
            .iter()
            .any(|n| n.contains("hit rate 819 / 1000"))
    );
    let r = report(&snap);
    assert!(r.passed.contains(&"mysql-long-transaction".to_owned()));
}
