//! What one doctor snapshot costs a busy MySQL server, beside MySQLTuner on the same server.
//!
//! Run with `bash benches/mysql.sh` (it raises the open-files limit and calls
//! `cargo bench --bench mysql`). A private MariaDB (port 33190, throwaway datadir) gets ~5000
//! InnoDB tables and ~2000 open idle connections, with `performance_schema` on, and is left to
//! stop writing (`settle`). Per snapshot doctor then sends 17 statements: `SHOW GLOBAL
//! VARIABLES`, the account's privileges, `SHOW GLOBAL STATUS` at each end of the window, the
//! probe `SHOW GLOBAL STATUS LIKE 'Innodb\_%'`, five `SELECT 1`, the processlist, the open
//! transactions, the statement top list and the synch-instrument check (the synch top list only
//! when one is enabled), the InnoDB data size, replication. On a server that writes, the storage
//! file summary is read at both ends instead of the probe (+2 statements, ~8 ms of server CPU
//! here) and, when it waited on its files, which files (+1, ~3 ms): "where doctor's server time
//! goes" lists every statement sent. Then, per snapshot:
//!
//! - server CPU: `mariadbd`'s utime+stime (`/proc/<pid>/stat`) across the runs, minus the idle
//!   rate measured just before over the same length of time, divided by the number of runs
//!   (clock ticks are 10 ms, so the runs are summed before dividing);
//! - server statement time: `performance_schema.events_statements_summary_by_user_by_event_name`
//!   for the account the tool logs in with (wall time inside the server per statement, so an
//!   upper bound of its CPU; connection set-up is not in it, it is in the CPU figure);
//! - the tool's own CPU, wall time and peak RSS from GNU time (children included: MySQLTuner
//!   runs the `mysql` client once per query); doctor also runs with `--no-mysql`, so the
//!   difference is what the MySQL collector costs doctor.
//!
//! Environment: `MYSQL_BENCH_CONNECTIONS` (2000), `MYSQL_BENCH_TABLES` (5000),
//! `MYSQL_BENCH_RUNS` (10).

#[path = "../tests/support/mariadb.rs"]
mod mariadb;

use mysql::prelude::Queryable;
use std::process::Command;
use std::time::{Duration, Instant};

const PORT: u16 = 33190;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `mariadbd`'s CPU so far, ms: the sum over its threads of the nanoseconds each spent on a
/// CPU (`/proc/<pid>/task/*/schedstat`; kernel Documentation/scheduler/sched-stats.rst). A
/// thread that exited is not counted, but the server keeps connection threads in its thread
/// cache, so none of the measured ones exit.
fn server_cpu_ms(pid: u32) -> f64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("server tasks");
    let ns: f64 = tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .sum();
    ns / 1e6
}

/// The same from `/proc/<pid>/stat` (utime + stime, exited threads included, 10 ms ticks), as a
/// cross-check.
fn server_cpu_ticks_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("server stat");
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    // USER_HZ is 100 on every Linux architecture doctor targets.
    ticks * 10.0
}

/// Statement time (ms) and count the server recorded for `user`.
fn statement_time(root: &mut mysql::Conn, user: &str) -> (f64, u64) {
    let row: Option<(Option<f64>, Option<u64>)> = root
        .query_first(format!(
            "SELECT SUM(SUM_TIMER_WAIT) / 1e9, SUM(COUNT_STAR) \
             FROM performance_schema.events_statements_summary_by_user_by_event_name \
             WHERE USER = '{user}'"
        ))
        .expect("performance_schema readable");
    row.map_or((0.0, 0), |(t, n)| (t.unwrap_or(0.0), n.unwrap_or(0)))
}

/// One measured command: GNU time's figures and the process's exit status.
struct Measured {
    cpu_ms: f64,
    wall_ms: f64,
    max_rss_kib: u64,
    ok: bool,
    stdout: String,
    stderr: String,
}

fn measure(cmd: &[&str]) -> Measured {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "TIME %e %U %S %M"])
        .args(cmd)
        .output()
        .expect("GNU time is missing: install the `time` package");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("TIME "))
        .unwrap_or_else(|| panic!("no GNU time line in: {stderr}"));
    let f: Vec<f64> = line[5..]
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    Measured {
        wall_ms: f[0] * 1000.0,
        cpu_ms: (f[1] + f[2]) * 1000.0,
        max_rss_kib: f[3] as u64,
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    }
}

/// Per-run averages of one tool.
#[derive(Default, Clone, Copy)]
struct Figures {
    server_cpu_ms: f64,
    server_cpu_ticks_ms: f64,
    server_statement_ms: f64,
    statements: f64,
    cpu_ms: f64,
    wall_ms: f64,
    max_rss_kib: u64,
}

/// Runs `cmd` `runs` times and measures each run against the server.
fn bench(
    db: &mariadb::MariaDb,
    root: &mut mysql::Conn,
    user: &str,
    idle_rate: f64,
    runs: usize,
    cmd: &[&str],
    mut check: impl FnMut(&Measured),
) -> Figures {
    let (stmt0, count0) = statement_time(root, user);
    let cpu0 = server_cpu_ms(db.pid());
    let ticks0 = server_cpu_ticks_ms(db.pid());
    let t = Instant::now();
    let mut f = Figures::default();
    for _ in 0..runs {
        let m = measure(cmd);
        check(&m);
        f.cpu_ms += m.cpu_ms;
        f.wall_ms += m.wall_ms;
        f.max_rss_kib = f.max_rss_kib.max(m.max_rss_kib);
    }
    let elapsed = t.elapsed().as_secs_f64();
    let cpu = server_cpu_ms(db.pid()) - cpu0 - idle_rate * elapsed;
    let ticks = server_cpu_ticks_ms(db.pid()) - ticks0 - idle_rate * elapsed;
    let (stmt1, count1) = statement_time(root, user);
    let n = runs as f64;
    f.server_cpu_ms = (cpu / n).max(0.0);
    f.server_cpu_ticks_ms = (ticks / n).max(0.0);
    f.server_statement_ms = (stmt1 - stmt0) / n;
    f.statements = (count1 - count0) as f64 / n;
    f.cpu_ms /= n;
    f.wall_ms /= n;
    f
}

/// The server under test: tables, idle connections, the accounts the tools log in with.
fn prepare(connections: usize, tables: usize) -> (mariadb::MariaDb, Vec<mysql::Conn>) {
    let db = mariadb::MariaDb::start(
        PORT,
        &[
            ("max_connections", &(connections + 100).to_string()),
            ("performance_schema", "ON"),
            ("open_files_limit", "16384"),
            ("table_open_cache", "2000"),
            // Creating thousands of tables is fsync-bound; durability does not matter here.
            ("innodb_flush_log_at_trx_commit", "0"),
        ],
    );
    db.create_user(
        "doctor",
        "doctorpw",
        &[
            "PROCESS, SLAVE MONITOR ON *.*",
            "SELECT ON performance_schema.*",
            "SELECT ON mysql.innodb_table_stats",
        ],
    );
    db.create_user("tuner", "tunerpw", &["ALL PRIVILEGES ON *.*"]);
    db.create_user("app", "apppw", &["SELECT ON bench0.*"]);

    // Tables, created from four connections at once (creation waits on the disk, not the CPU).
    let t = Instant::now();
    let workers = 4;
    std::thread::scope(|s| {
        for w in 0..workers {
            let db = &db;
            s.spawn(move || {
                let mut c = db.connect("root", None).expect("root connects");
                c.query_drop(format!("CREATE DATABASE bench{w}")).unwrap();
                for i in (w..tables).step_by(workers) {
                    c.query_drop(format!(
                        "CREATE TABLE bench{w}.t{i} (id INT PRIMARY KEY, name VARCHAR(64), \
                         created DATETIME, KEY (name)) ENGINE=InnoDB"
                    ))
                    .unwrap();
                }
            });
        }
    });
    let created = t.elapsed();
    let settled = settle(&db);

    // Idle connections, as a pool that is too large holds them.
    let t = Instant::now();
    let idle: Vec<mysql::Conn> = (0..connections)
        .map(|i| {
            db.connect("app", Some("apppw"))
                .unwrap_or_else(|e| panic!("connection {i}: {e} (raise `ulimit -n`)"))
        })
        .collect();
    let opened = t.elapsed();
    println!("{settled}");
    println!(
        "server: MariaDB {}, {} InnoDB tables in bench* (created in {:.1} s), {} connections \
         (opened in {:.1} s), performance_schema on",
        db.global_variable("version"),
        db.sql("SELECT COUNT(*) FROM mysql.innodb_table_stats WHERE database_name LIKE 'bench%'")
            .trim(),
        created.as_secs_f64(),
        db.global_status("Threads_connected"),
        opened.as_secs_f64()
    );
    (db, idle)
}

/// Waits (at most 120 s) until InnoDB has stopped writing what creating the tables left behind
/// (it may keep dirty pages for long, flushing nothing), so "quiet" means quiet: a server still flushing is a server that writes, and
/// doctor then rightly reads its file waits (see `storage::Start` in the collector).
fn settle(db: &mariadb::MariaDb) -> String {
    let t = Instant::now();
    let mut last = -1;
    let mut still = 0;
    while t.elapsed() < Duration::from_secs(120) {
        let written = db.global_status("Innodb_data_written");
        let dirty = db.global_status("Innodb_buffer_pool_pages_dirty");
        still = if written == last && dirty == 0 {
            still + 1
        } else {
            0
        };
        if still == 3 {
            return format!(
                "server quiet (no dirty page, nothing written for 3 s) after {:.0} s",
                t.elapsed().as_secs_f64()
            );
        }
        last = written;
        std::thread::sleep(Duration::from_secs(1));
    }
    format!(
        "server still writing after 120 s (dirty pages: {}): figures include its writes",
        db.global_status("Innodb_buffer_pool_pages_dirty")
    )
}

thread_local! {
    /// The `mysql_server` section's time in each run with MySQL (it runs on doctor's main
    /// thread: the server's threads and connections read from `/proc` and the kernel).
    static SERVER_SECTION_MS: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A run's own figures from doctor's snapshot: the MySQL section's collecting time, doctor's
/// whole-process CPU (getrusage, microsecond resolution) and the MySQL collector thread's CPU
/// (schedstat, nanoseconds).
fn snapshot_figures(path: &str, connections: usize) -> (f64, f64, f64) {
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    if s["mysql"]["status"] != "skipped" {
        assert_eq!(s["mysql"]["status"], "ok", "{:#}", s["mysql"]);
        let sleeping = s["mysql"]["processlist"]["sleeping"].as_u64().unwrap();
        assert!(
            sleeping as usize >= connections,
            "doctor saw {sleeping} sleepers"
        );
    }
    SERVER_SECTION_MS.with(|v| {
        if s["mysql_server"]["status"] == "ok"
            && let Some(ms) = s["mysql_server"]["elapsed_ms"].as_f64()
        {
            v.borrow_mut().push(ms);
        }
    });
    if std::env::var_os("MYSQL_BENCH_SECTIONS").is_some() {
        let times: Vec<String> = s
            .as_object()
            .unwrap()
            .iter()
            .filter_map(|(k, v)| Some(format!("{k} {:.1}", v.get("elapsed_ms")?.as_f64()?)))
            .collect();
        eprintln!("sections' wall ms: {}", times.join(", "));
    }
    (
        s["mysql"]["elapsed_ms"].as_f64().unwrap(),
        s["overhead"]["cpu_ms"].as_f64().unwrap(),
        s["mysql"]["collector_cpu_ms"].as_f64().unwrap_or(0.0),
    )
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// What MySQLTuner said when it did not finish: the first line of its Perl error (`... at
/// /usr/bin/mysqltuner line N.`), or its own complaint.
fn tuner_failure(m: &Measured) -> String {
    m.stderr
        .lines()
        .chain(m.stdout.lines())
        .find(|l| {
            !l.starts_with("TIME ")
                && (l.contains(" at /usr/bin/mysqltuner line ") || l.contains("[!!] Attempted"))
        })
        .map_or_else(|| "(no message)".to_owned(), |l| l.trim().to_owned())
}

/// MySQLTuner against the same server, and how its runs ended.
fn run_tuner(
    db: &mariadb::MariaDb,
    root: &mut mysql::Conn,
    idle_rate: f64,
    runs: usize,
) -> (Figures, String) {
    let port = PORT.to_string();
    let mut status = String::new();
    let figures = bench(
        db,
        root,
        "tuner",
        idle_rate,
        runs,
        // Over TCP: Debian's MySQLTuner 1.9.9 passes `-S socket -P port` to the MariaDB 10.11
        // client, which then connects over TCP to the port and ignores the socket.
        &[
            "mysqltuner",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--user",
            "tuner",
            "--pass",
            "tunerpw",
            "--nocolor",
        ],
        |m| {
            status = if m.ok {
                "completed".to_owned()
            } else {
                format!(
                    "did not finish, figures up to where it stopped (a lower bound): {}",
                    tuner_failure(m)
                )
            };
        },
    );
    (figures, status)
}

/// `MYSQL_BENCH_EXPLORE="SQL;;SQL;;..."`: the server CPU and wall of each statement (20 runs
/// each, as doctor's account), to compare ways of reading the same thing.
fn explore(db: &mariadb::MariaDb, queries: &str) {
    let mut c = db.connect("doctor", Some("doctorpw")).unwrap();
    for q in queries.split(";;") {
        let c0 = server_cpu_ms(db.pid());
        let t = Instant::now();
        for _ in 0..20 {
            let _: Vec<mysql::Row> = c.query(q).unwrap();
        }
        println!(
            "{:>7.2} ms server CPU {:>7.2} ms wall  {q}",
            (server_cpu_ms(db.pid()) - c0) / 20.0,
            t.elapsed().as_secs_f64() * 1000.0 / 20.0
        );
    }
}

/// The server's own CPU rate when nobody asks it anything, ms per s.
fn idle_rate(db: &mariadb::MariaDb) -> f64 {
    let c0 = server_cpu_ms(db.pid());
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs(5));
    let rate = (server_cpu_ms(db.pid()) - c0) / t.elapsed().as_secs_f64();
    println!("server idle: {rate:.1} ms CPU per s (subtracted below)");
    rate
}

/// The statement digests by total time since the table was last truncated.
fn statements_by_time(root: &mut mysql::Conn) -> Vec<(String, f64, f64)> {
    root.query(
        "SELECT LEFT(DIGEST_TEXT, 60), COUNT_STAR, SUM_TIMER_WAIT / 1e9 \
         FROM performance_schema.events_statements_summary_by_digest \
         WHERE DIGEST_TEXT NOT LIKE '%events_statements_summary_by%' \
         ORDER BY SUM_TIMER_WAIT DESC LIMIT 25",
    )
    .unwrap()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
    // and a test run must not start a benchmark of minutes.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let connections = env_or("MYSQL_BENCH_CONNECTIONS", 2000);
    let tables = env_or("MYSQL_BENCH_TABLES", 5000);
    let runs = env_or("MYSQL_BENCH_RUNS", 10);
    let doctor = env!("CARGO_BIN_EXE_doctor");
    let started = Instant::now();
    let (db, idle) = prepare(connections, tables);
    let mut root = db.connect("root", None).expect("root connects");

    if let Ok(queries) = std::env::var("MYSQL_BENCH_EXPLORE") {
        explore(&db, &queries);
        // `MYSQL_BENCH_HOLD=S`: keep the server and its connections up S seconds more, for
        // measuring by hand (doctor under strace or perf, against port 33190).
        let hold = env_or("MYSQL_BENCH_HOLD", 0);
        std::thread::sleep(Duration::from_secs(hold as u64));
        return;
    }
    let idle_rate = idle_rate(&db);
    root.query_drop("TRUNCATE performance_schema.events_statements_summary_by_digest")
        .unwrap();
    let url = format!("mysql://doctor:doctorpw@127.0.0.1:{PORT}");
    let snap_file = db.dir().join("snapshot.json");
    let snap = snap_file.to_str().unwrap();
    let base = [
        doctor,
        "snapshot",
        "--quiet",
        "--interval",
        "1s",
        "-o",
        snap,
    ];
    let (mut collect_ms, mut doctor_cpu, mut collector_cpu) = (Vec::new(), Vec::new(), Vec::new());
    let with_mysql = bench(
        &db,
        &mut root,
        "doctor",
        idle_rate,
        runs,
        &[&base[..], &["--mysql", &url]].concat(),
        |m| {
            assert!(m.ok, "doctor failed: {}", m.stderr);
            let (elapsed, cpu, collector) = snapshot_figures(snap, connections);
            collect_ms.push(elapsed);
            doctor_cpu.push(cpu);
            collector_cpu.push(collector);
        },
    );
    let by_statement = statements_by_time(&mut root);
    let mut host_cpu = Vec::new();
    let host_only = bench(
        &db,
        &mut root,
        "doctor",
        idle_rate,
        runs,
        &[&base[..], &["--no-mysql"]].concat(),
        |m| {
            assert!(m.ok, "doctor --no-mysql failed: {}", m.stderr);
            host_cpu.push(snapshot_figures(snap, connections).1);
        },
    );

    let tuner_runs = runs.min(3);
    let (tuner, tuner_status) = run_tuner(&db, &mut root, idle_rate, tuner_runs);
    drop(idle);

    println!(
        "doctor's MySQL collector, wall while collecting (sleep excluded): median {:.1} ms, max {:.1} ms",
        median(&collect_ms),
        collect_ms.iter().copied().fold(0.0, f64::max)
    );
    println!("where doctor's server time goes (per snapshot):");
    for (text, count, total_ms) in &by_statement {
        println!(
            "  {:>7.2} ms  {:>4.0}x  {text}",
            total_ms / runs as f64,
            count / runs as f64
        );
    }
    println!("mysqltuner 1.9.9, {tuner_runs} runs: {tuner_status}");
    println!();
    report(
        runs,
        &with_mysql,
        &tuner,
        median(&collector_cpu),
        median(&doctor_cpu),
    );
    let server_ms = SERVER_SECTION_MS.with(|v| median(&v.borrow()));
    println!(
        "\n(*) doctor's whole process, host collectors included: {:.1} ms with --no-mysql. The \
         difference is what MySQL costs doctor in all: the collector thread above, the \
         mysql_server section on the main thread (median {server_ms:.1} ms wall: each of the \
         server's {} connection threads read from /proc to tell idle sessions, each connection's \
         holder found by its socket), and the host collectors' walks over {} more sockets.\n\
         doctor --no-mysql peak RSS {:.1} MiB; the benchmark took {:.0} s",
        median(&host_cpu),
        connections,
        connections,
        host_only.max_rss_kib as f64 / 1024.0,
        started.elapsed().as_secs_f64()
    );
}

/// The side-by-side table. doctor's CPU figures are medians of what its snapshot records (its
/// MySQL collector thread's CPU, and getrusage for the whole process; GNU time rounds to 10 ms);
/// MySQLTuner's are GNU time's, its `mysql` client children included.
fn report(runs: usize, d: &Figures, t: &Figures, mysql_cpu: f64, doctor_cpu: f64) {
    println!(
        "{:<46} {:>11} {:>11} {:>18}",
        format!("per snapshot (mean of {runs} runs)"),
        "doctor",
        "mysqltuner",
        "mysqltuner/doctor"
    );
    let row = |name: &str, d: f64, t: f64| {
        let ratio = if d > 0.0 {
            format!("{:.1}x", t / d)
        } else {
            "-".to_owned()
        };
        println!("{name:<46} {d:>11.1} {t:>11.1} {ratio:>18}");
    };
    row(
        "server CPU, ms (doctor's budget: 20)",
        d.server_cpu_ms,
        t.server_cpu_ms,
    );
    row(
        "  the same from /proc/<pid>/stat (10 ms ticks)",
        d.server_cpu_ticks_ms,
        t.server_cpu_ticks_ms,
    );
    row(
        "server statement time, ms",
        d.server_statement_ms,
        t.server_statement_ms,
    );
    row("statements", d.statements, t.statements);
    row(
        "client CPU for MySQL, ms (doctor's budget: 30)",
        mysql_cpu,
        t.cpu_ms,
    );
    row("client CPU, whole run, ms (*)", doctor_cpu, t.cpu_ms);
    row("wall, ms (doctor: a 1 s window)", d.wall_ms, t.wall_ms);
    row(
        "peak RSS, MiB",
        d.max_rss_kib as f64 / 1024.0,
        t.max_rss_kib as f64 / 1024.0,
    );
}
