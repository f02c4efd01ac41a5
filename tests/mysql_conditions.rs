//! Real conditions on a real, private MariaDB, and doctor's numbers checked against the
//! server's own answers (`SHOW GLOBAL STATUS`, `information_schema`, read over a separate
//! connection with the `mariadb` client): idle connections under `wait_timeout=28800`, a burst
//! into `max_connections`, and a buffer pool too small for a read workload.
//!
//! Ports 33101–33103.

mod support;
use support::disk_by_util_linux;

#[path = "support/mariadb.rs"]
mod mariadb;

#[path = "support/doctor_mysql.rs"]
mod run;

use mariadb::{MariaDb, point_lookups};
use run::{assert_close, doctor, int, num, snapshot, wait_until};
use std::time::{Duration, Instant};

/// The grants doctor's README recommends: everything it reads, nothing it could change.
const DOCTOR_GRANTS: [&str; 4] = [
    "PROCESS, SLAVE MONITOR ON *.*",
    "SELECT ON performance_schema.*",
    "SELECT ON mysql.innodb_table_stats",
    "USAGE ON *.*",
];

fn count(db: &MariaDb, sql: &str) -> i64 {
    db.sql(sql).trim().parse().expect("a count")
}

/// Where the data lives: the private datadir, on the disk util-linux names.
fn assert_datadir(m: &serde_json::Value, db: &MariaDb) {
    let d = &m["datadir"];
    let datadir = db.datadir();
    assert_eq!(
        d["path"].as_str().unwrap().trim_end_matches('/'),
        datadir.to_str().unwrap()
    );
    assert_eq!(d["local"], true);
    let (disk, rotational) = disk_by_util_linux(&datadir);
    assert_eq!(d["device"], disk.as_str());
    assert_eq!(d["rotational"], rotational);
}

#[test]
fn idle_connections_under_a_long_wait_timeout() {
    let db = MariaDb::start(
        33101,
        &[("wait_timeout", "28800"), ("max_connections", "300")],
    );
    db.create_user("app", "apppw", &[]);
    db.create_user("doctor", "doctorpw", &DOCTOR_GRANTS);

    let opened = Instant::now();
    let idle: Vec<mysql::Conn> = (0..120)
        .map(|_| db.connect("app", Some("apppw")).expect("app connects"))
        .collect();
    let sleeping_sql =
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND = 'Sleep'";
    wait_until("120 sleeping connections", Duration::from_secs(10), || {
        count(&db, sleeping_sql) == 120
    });
    // One long statement from another account, with a literal that must not reach the output.
    db.create_user("report", "reportpw", &[]);
    let mut long = db
        .connect("report", Some("reportpw"))
        .expect("report connects");
    let long_id = u64::from(long.connection_id());
    let long_query = std::thread::spawn(move || {
        use mysql::prelude::Queryable;
        // Ended by the KILL QUERY below (MariaDB: ERROR 1317, query interrupted).
        let _ = long.query::<mysql::Row, _>("SELECT SLEEP(30), 'card-4111-1111'");
    });
    // Idle for over a second before the window, so none is in the "under 1 s" bucket.
    std::thread::sleep(Duration::from_millis(1200));

    let r = snapshot(
        doctor(db.dir()),
        &[
            "--interval",
            "1s",
            "--mysql",
            &db.url("doctor", Some("doctorpw")),
        ],
    );
    let idle_for = opened.elapsed().as_secs_f64();
    // The server's own view, over another connection, right after doctor's window.
    let server_sleeping = count(&db, sleeping_sql);
    let server_threads = db.global_status("Threads_connected");
    let m = r.mysql();
    assert_eq!(m["status"], "ok", "{m:#}");
    assert_eq!(m["flavor"], "mariadb");
    assert!(
        db.global_variable("version")
            .starts_with(m["version"].as_str().unwrap()),
        "{}",
        m["version"]
    );

    let p = &m["processlist"];
    assert_eq!(int(p, "/sleeping"), server_sleeping);
    assert_eq!(int(p, "/sleeping"), 120);
    assert_eq!(int(p, "/by_command/Sleep"), 120);
    assert_eq!(int(p, "/by_user/app"), 120);
    assert_eq!(
        int(p, "/by_host/127.0.0.1"),
        121,
        "the app and the report connection"
    );
    assert!(
        p["by_user"].get("doctor").is_none(),
        "doctor's own connection is left out: {p:#}"
    );
    let max_idle = num(p, "/sleeping_max_idle_s");
    assert!(
        (2.0..=idle_for + 0.5).contains(&max_idle),
        "longest idle {max_idle} s, connections opened {idle_for:.1} s ago"
    );
    let h = &p["idle_histogram"];
    assert_eq!(int(h, "/lt_1s"), 0, "{h}");
    let total: i64 = ["lt_1s", "lt_10s", "lt_1m", "lt_10m", "lt_1h", "ge_1h"]
        .iter()
        .map(|k| int(h, &format!("/{k}")))
        .sum();
    assert_eq!(total, 120);

    // Threads_connected: each reader counts itself once (doctor then, the client now).
    assert_eq!(
        int(m, "/global_status/Threads_connected/total"),
        server_threads
    );
    assert_eq!(int(m, "/variables/wait_timeout"), 28800);
    assert_eq!(db.global_variable("wait_timeout"), "28800");
    let max_conn: f64 = db.global_variable("max_connections").parse().unwrap();
    let used = (server_threads as f64 / max_conn * 10_000.0).round() / 100.0;
    assert_close(num(m, "/connections_used_pct"), used);

    // The grants in DOCTOR_GRANTS are all doctor needs.
    assert_eq!(m.get("missing_privileges"), None, "{m:#}");
    assert_eq!(m["replica"]["configured"], false);

    assert_datadir(m, &db);
    assert_eq!(int(m, "/server_pid"), i64::from(db.pid()));

    // The long statement, as the server lists it, with its literals redacted.
    let top = &p["longest_running"][0];
    assert_eq!(int(top, "/id"), i64::try_from(long_id).unwrap(), "{p:#}");
    assert_eq!(top["user"], "report");
    assert_eq!(top["info"], "SELECT SLEEP(?), ?");
    assert!((2.0..=30.0).contains(&num(top, "/time_s")), "{top}");
    assert_eq!(int(p, "/by_command/Query"), 1);
    assert!(!r.all_text().contains("card-4111"));
    db.sql(&format!("KILL QUERY {long_id}"));
    long_query.join().unwrap();
    drop(idle);
}

#[test]
fn burst_into_max_connections() {
    let db = MariaDb::start(33102, &[("max_connections", "20")]);
    db.create_user("app", "apppw", &[]);
    db.create_user("doctor", "doctorpw", &DOCTOR_GRANTS);
    let read = |db: &MariaDb| {
        (
            db.global_status("Connection_errors_max_connections"),
            db.global_status("Aborted_connects"),
        )
    };
    let before = read(&db);

    let url = db.url("doctor", Some("doctorpw"));
    let home = db.dir().to_path_buf();
    let reads = db.global_status_quiet("Com_show_status");
    let doctor_run =
        std::thread::spawn(move || snapshot(doctor(&home), &["--interval", "3s", "--mysql", &url]));
    // The burst starts once doctor has read the window's start.
    db.wait_for_status_read(reads);

    let mut held = Vec::new();
    let mut refused = 0_i64;
    for _ in 0..30 {
        match db.connect("app", Some("apppw")) {
            Ok(c) => held.push(c),
            Err(mysql::Error::MySqlError(e)) if e.code == 1040 => refused += 1,
            Err(e) => panic!("unexpected connect error: {e}"),
        }
    }
    let r = doctor_run.join().expect("doctor thread");
    // The server's own count (root gets the one connection kept for SUPER).
    let after = read(&db);

    assert_eq!(
        held.len() + 1,
        20,
        "doctor and the app fill max_connections"
    );
    assert_eq!(refused, 11);
    // MariaDB refuses most of these after the handshake, counting them in Aborted_connects;
    // Connection_errors_max_connections only counts refusals at accept time (checked on 10.11).
    // doctor must show whatever the server counted.
    assert_eq!(after.1 - before.1, refused);
    let m = r.mysql();
    assert_eq!(m["status"], "ok", "{m:#}");
    assert_eq!(int(m, "/global_status/Aborted_connects/delta"), refused);
    assert_eq!(
        int(m, "/global_status/Connection_errors_max_connections/delta"),
        after.0 - before.0
    );
    assert!(
        r.mysql()["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("max_connections was reached")),
        "{:#}",
        r.mysql()["notes"]
    );
    assert_eq!(int(m, "/global_status/Threads_connected/total"), 20);
    assert_eq!(int(m, "/variables/max_connections"), 20);
    assert_close(num(m, "/connections_used_pct"), 100.0);
    // A refused connection holds a slot until it is refused, so the high-water mark can pass
    // max_connections; doctor reports the server's figure.
    let max_used = db.global_status("Max_used_connections");
    assert!(max_used >= 20);
    assert_eq!(
        int(m, "/global_status/Max_used_connections/total"),
        max_used
    );
    assert_close(
        num(m, "/max_used_connections_pct"),
        max_used as f64 / 20.0 * 100.0,
    );
    assert_eq!(int(m, "/processlist/by_user/app"), 19);

    // The server's error log, found from `log_error`, is handed to the logs section and scanned
    // over the same window.
    let error_log = db.dir().join("error.log");
    assert_eq!(m["error_log"], error_log.to_str().unwrap());
    let sources = r.snapshot["logs"]["sources"]
        .as_array()
        .expect("logs scanned");
    let source = sources
        .iter()
        .find(|s| s["kind"] == "mysql_error_log")
        .unwrap_or_else(|| panic!("the error log is a logs source: {sources:#?}"));
    assert_eq!(source["path"], error_log.to_str().unwrap());
    assert_eq!(source["status"], "ok", "{source:#}");
    // The whole (small) log as it was at the window's end; it may have grown since.
    let scanned = int(source, "/bytes_scanned");
    let now = i64::try_from(std::fs::metadata(&error_log).unwrap().len()).unwrap();
    assert!(scanned > 0 && scanned <= now, "{scanned} of {now} bytes");
    drop(held);
}

#[test]
fn small_buffer_pool_under_a_read_workload() {
    let db = MariaDb::start(
        33103,
        &[
            ("innodb_buffer_pool_size", "6M"),
            // No background statistics reads to blur the counters between the readings.
            ("innodb_stats_auto_recalc", "OFF"),
        ],
    );
    db.create_user("doctor", "doctorpw", &DOCTOR_GRANTS);
    // 16 Ki rows of 1 KiB: about three times the pool.
    db.create_wide_table();
    let pool: f64 = db
        .global_variable("innodb_buffer_pool_size")
        .parse()
        .unwrap();
    assert!(pool <= 8.0 * 1024.0 * 1024.0, "the pool is small: {pool}");

    let read = |db: &MariaDb| {
        (
            db.global_status("Innodb_buffer_pool_reads"),
            db.global_status("Innodb_buffer_pool_read_requests"),
        )
    };
    let before = read(&db);
    let url = db.url("doctor", Some("doctorpw"));
    let home = db.dir().to_path_buf();
    let reads = db.global_status_quiet("Com_show_status");
    let spawned = Instant::now();
    let doctor_run =
        std::thread::spawn(move || snapshot(doctor(&home), &["--interval", "4s", "--mysql", &url]));
    // The workload runs after doctor's start reading and ends well before its end reading.
    db.wait_for_status_read(reads);
    let t = Instant::now();
    let mut seed = 1_u64;
    while t.elapsed() < Duration::from_millis(1500) {
        db.sql(&point_lookups(&mut seed, 2000));
    }
    assert!(
        spawned.elapsed() < Duration::from_millis(3500),
        "the machine is too loaded: the workload ran past doctor's 4 s window"
    );
    let r = doctor_run.join().expect("doctor thread");
    let after = read(&db);

    let m = r.mysql();
    assert_eq!(m["status"], "ok", "{m:#}");
    let server_misses = (after.0 - before.0) as f64;
    let server_requests = (after.1 - before.1) as f64;
    let server_hit = 100.0 * (1.0 - server_misses / server_requests);
    let misses = num(m, "/global_status/Innodb_buffer_pool_reads/delta");
    let requests = num(m, "/global_status/Innodb_buffer_pool_read_requests/delta");
    // doctor's window lies inside the test's two readings, and the workload inside the window.
    assert!(
        misses <= server_misses && misses >= 0.95 * server_misses,
        "doctor {misses} misses, server {server_misses}"
    );
    assert!(
        requests <= server_requests && requests >= 0.95 * server_requests,
        "doctor {requests} requests, server {server_requests}"
    );
    let hit = num(m, "/buffer_pool_hit_rate_pct");
    assert!(
        (hit - server_hit).abs() < 1.0,
        "doctor {hit}%, server {server_hit:.2}% ({server_misses} misses, {server_requests} requests, read-ahead {})",
        db.global_status("Innodb_buffer_pool_read_ahead")
    );
    assert!(
        (5.0..95.0).contains(&hit),
        "a pool a third of the data: the tree's top pages hit, most leaves miss: {hit}%"
    );
    assert_close(num(m, "/buffer_pool_size_bytes"), pool);

    // Data size from the persistent statistics, against information_schema's figure.
    let data: f64 = db
        .sql("SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES WHERE ENGINE = 'InnoDB'")
        .trim()
        .parse()
        .unwrap();
    let ours = num(m, "/innodb_data_bytes");
    assert!(
        (ours - data).abs() <= 0.02 * data,
        "doctor {ours} bytes of InnoDB data, information_schema {data}"
    );
    let vs_data = num(m, "/buffer_pool_vs_data_pct");
    assert!(
        (vs_data - pool / ours * 100.0).abs() < 0.01 && vs_data < 50.0,
        "{vs_data}"
    );
}
