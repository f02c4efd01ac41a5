//! The database causes of the scenario lab (issue 11), each on a private MariaDB
//! (`tests/support/mariadb.rs`) that doctor reads as the ordinary account of
//! [`DOCTOR_GRANTS`](super::DOCTOR_GRANTS): statements scanning a table without an index
//! (`mysql-full-scans`), sessions queued on a row lock an idle transaction holds
//! (`mysql-row-lock-waits`), statements queued behind an `ALTER TABLE` that waits for the
//! metadata lock of an idle transaction (`mysql-metadata-lock`). Every client loop stops by
//! itself after [`MAX_LIFE_S`](super::MAX_LIFE_S), every statement that waits has a lock timeout,
//! and all traffic goes to 127.0.0.1.

use super::{DOCTOR_GRANTS, MAX_LIFE_S, Running, doctor_url, processlist_count, wait_until};
use mysql::prelude::Queryable;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Rows of `shop.orders` in the full-scan scenario: a scan of it takes a few ms (6 ms here),
/// far under the 1 s `long_query_time`.
pub const ORDERS_ROWS: u64 = 65_536;

/// The server's status values the live test brackets doctor's window with.
pub const BRACKETED: &[&str] = &[
    "Handler_read_rnd_next",
    "Questions",
    "Select_scan",
    "Slow_queries",
    "Innodb_row_lock_waits",
    "Innodb_row_lock_time",
];

/// Reads [`BRACKETED`] as the server counts them (`information_schema.GLOBAL_STATUS`, which
/// is not a `SHOW STATUS`).
pub fn status_now(db: &crate::mariadb::MariaDb) -> std::collections::BTreeMap<String, i64> {
    BRACKETED
        .iter()
        .map(|n| ((*n).to_owned(), db.global_status_quiet(n)))
        .collect()
}

/// doctor's arguments: the scenario's server as the ordinary account, and no Docker: the
/// scenarios run no container, and another lab's containers on this machine (an app logging
/// "Queue limit reached.") are not theirs to report.
fn doctor_args(port: u16) -> Vec<String> {
    vec!["--mysql".into(), doctor_url(port), "--no-docker".into()]
}

/// `shop.orders`: [`ORDERS_ROWS`] orders with a `customer_id` that has no index.
fn create_orders(db: &crate::mariadb::MariaDb) {
    db.sql(
        "CREATE DATABASE shop; \
         CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, \
         amount INT NOT NULL, note VARCHAR(100)) ENGINE=InnoDB; \
         INSERT INTO shop.orders (customer_id, amount, note) \
         SELECT seq % 5000, seq % 997, REPEAT('n', 60) FROM shop.seq_1_to_65536; \
         ANALYZE TABLE shop.orders",
    );
}

/// The diary's "MySQL at 50% CPU, slow queries 0": an application looks orders up by
/// `customer_id`, which has no index, one statement after another on one connection. Each
/// scans the 65 536-row table in a few ms (6 ms here) — under `long_query_time` 1 s, so the slow
/// log (on) counts none — and together they keep about one core of the server busy.
/// `performance_schema` is on (MySQL's default) so the statement's digest can be named. Holds
/// once the server counts full scans and rows read by them, no slow query, and the digest
/// with no index used.
pub fn mysql_full_scans(port: u16) -> Running {
    let mut run = Running::new("mysql-full-scans");
    let db = Arc::new(crate::mariadb::MariaDb::start(
        port,
        &[
            ("performance_schema", "ON"),
            ("slow_query_log", "ON"),
            ("long_query_time", "1"),
        ],
    ));
    create_orders(&db);
    db.create_user("app", "app", &["SELECT ON shop.*"]);
    db.create_user("doctor", "doctor", DOCTOR_GRANTS);
    let stop = Arc::new(AtomicBool::new(false));
    let client = {
        let (db, stop) = (Arc::clone(&db), Arc::clone(&stop));
        let deadline = Instant::now() + Duration::from_secs(MAX_LIFE_S);
        std::thread::spawn(move || {
            let mut conn = db.connect("app", Some("app")).expect("app connects");
            let mut customer = 1_u64;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                customer = (customer * 7919 + 13) % 5000;
                let _ = conn.query_drop(format!(
                    "SELECT id, amount FROM shop.orders WHERE customer_id = {customer}"
                ));
            }
        })
    };
    let slow_before = db.global_status_quiet("Slow_queries");
    wait_until(
        "full scans counted, none slow",
        Duration::from_secs(20),
        || {
            let a = status_now(&db);
            std::thread::sleep(Duration::from_secs(1));
            let b = status_now(&db);
            let d = |k: &str| b[k] - a[k];
            let no_index: i64 = db
                .sql(
                    "SELECT COALESCE(SUM(SUM_NO_INDEX_USED), 0) \
                     FROM performance_schema.events_statements_summary_by_digest \
                     WHERE DIGEST_TEXT LIKE '%`orders`%customer_id%'",
                )
                .trim()
                .parse()
                .unwrap_or(0);
            let slow = b["Slow_queries"] - slow_before;
            if d("Select_scan") >= 5
                && d("Handler_read_rnd_next") >= 200_000
                && no_index > 0
                && slow == 0
            {
                Ok(())
            } else {
                Err(format!(
                    "SHOW GLOBAL STATUS over 1 s: Select_scan +{}, Handler_read_rnd_next +{}; \
                     the digest's SUM_NO_INDEX_USED {no_index}; Slow_queries +{slow}",
                    d("Select_scan"),
                    d("Handler_read_rnd_next")
                ))
            }
        },
    );
    run.doctor_args = doctor_args(port);
    run.mysql_root_url = Some(db.root_url());
    run.server_before = status_now(&db);
    let db_for_check = Arc::clone(&db);
    run.mariadb = Some(db_for_check);
    run.on_drop(move || {
        stop.store(true, Ordering::Relaxed);
        let _ = client.join();
        drop(db);
    });
    run
}

/// The row-lock queue: an `app` session updates a row in a transaction and goes idle without
/// committing (a transaction left open across a network call); four other `app` sessions
/// update the same row and wait, time out after `innodb_lock_wait_timeout` (3 s), and retry.
/// Holds once the server shows (`INNODB_TRX`) three or more transactions in `LOCK WAIT`, the
/// blocker idle (`Sleep`), and waits counted (`Innodb_row_lock_waits`).
pub fn mysql_row_lock_waits(port: u16) -> Running {
    let mut run = Running::new("mysql-row-lock-waits");
    let db = Arc::new(crate::mariadb::MariaDb::start(
        port,
        &[("innodb_lock_wait_timeout", "3")],
    ));
    db.sql(
        "CREATE DATABASE shop; \
         CREATE TABLE shop.stock (id INT PRIMARY KEY, qty INT NOT NULL) ENGINE=InnoDB; \
         INSERT INTO shop.stock SELECT seq, 100 FROM shop.seq_1_to_10",
    );
    db.create_user("app", "app", &["SELECT, UPDATE ON shop.*"]);
    db.create_user("doctor", "doctor", DOCTOR_GRANTS);
    let mut blocker = db.connect("app", Some("app")).expect("app connects");
    blocker
        .query_drop("BEGIN")
        .and_then(|()| blocker.query_drop("UPDATE shop.stock SET qty = qty - 1 WHERE id = 1"))
        .expect("the blocker's update");
    let blocker_id = blocker.connection_id();
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(MAX_LIFE_S);
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let (db, stop) = (Arc::clone(&db), Arc::clone(&stop));
            std::thread::spawn(move || {
                let Ok(mut conn) = db.connect("app", Some("app")) else {
                    return;
                };
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    // Error 1205 after innodb_lock_wait_timeout; the application retries.
                    let _ = conn.query_drop("UPDATE shop.stock SET qty = qty - 1 WHERE id = 1");
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        })
        .collect();
    wait_until(
        "three sessions waiting for the idle blocker's row lock",
        Duration::from_secs(30),
        || {
            let waiting: u32 = db
                .sql("SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'")
                .trim()
                .parse()
                .unwrap_or(0);
            let idle = processlist_count(&db, &format!("ID = {blocker_id} AND COMMAND = 'Sleep'"));
            let waits = db.global_status_quiet("Innodb_row_lock_waits");
            let time = db.global_status_quiet("Innodb_row_lock_time");
            if waiting >= 3 && idle == 1 && waits >= 8 && time > 0 {
                Ok(())
            } else {
                Err(format!(
                    "INNODB_TRX: {waiting} in LOCK WAIT; blocker {blocker_id} idle: {idle}; \
                     Innodb_row_lock_waits {waits}, Innodb_row_lock_time {time} ms"
                ))
            }
        },
    );
    run.doctor_args = doctor_args(port);
    run.mysql_root_url = Some(db.root_url());
    run.blocker = Some(u64::from(blocker_id));
    run.server_before = status_now(&db);
    run.mariadb = Some(Arc::clone(&db));
    run.on_drop(move || {
        stop.store(true, Ordering::Relaxed);
        drop(blocker); // rolls the transaction back; the waiters get the row or time out
        for w in waiters {
            let _ = w.join();
        }
        drop(db);
    });
    run
}

/// The metadata-lock queue: an `app` session reads `shop.orders` in a transaction and goes
/// idle without committing; a migration runs `ALTER TABLE shop.orders ADD COLUMN` and waits
/// for the table's metadata lock, and three `app` sessions reading the table queue behind the
/// ALTER. Every wait is bounded by `lock_wait_timeout` (80 s, set per session) and the
/// scenario's teardown stops the server. Holds once the processlist shows four sessions in
/// `Waiting for table metadata lock`, the ALTER for 5 s, and the blocker idle in `INNODB_TRX`.
pub fn mysql_metadata_lock(port: u16) -> Running {
    let mut run = Running::new("mysql-metadata-lock");
    let db = Arc::new(crate::mariadb::MariaDb::start(port, &[]));
    db.sql(
        "CREATE DATABASE shop; \
         CREATE TABLE shop.orders (id INT PRIMARY KEY, amount INT NOT NULL) ENGINE=InnoDB; \
         INSERT INTO shop.orders SELECT seq, seq % 997 FROM shop.seq_1_to_1000",
    );
    db.create_user("app", "app", &["SELECT, INSERT, CREATE, ALTER ON shop.*"]);
    db.create_user("doctor", "doctor", DOCTOR_GRANTS);
    let mut blocker = db.connect("app", Some("app")).expect("app connects");
    blocker
        .query_drop("BEGIN")
        .and_then(|()| blocker.query_drop("SELECT amount FROM shop.orders WHERE id = 1"))
        .expect("the blocker's read");
    let blocker_id = blocker.connection_id();
    let session = |sql: String| {
        let db = Arc::clone(&db);
        std::thread::spawn(move || {
            if let Ok(mut conn) = db.connect("app", Some("app")) {
                let _ = conn.query_drop("SET SESSION lock_wait_timeout = 80");
                let _ = conn.query_drop(sql);
            }
        })
    };
    let alter = session("ALTER TABLE shop.orders ADD COLUMN note VARCHAR(40)".into());
    std::thread::sleep(Duration::from_millis(300));
    let readers: Vec<_> = (1..=3)
        .map(|i| session(format!("SELECT amount FROM shop.orders WHERE id = {i}")))
        .collect();
    let mdl = "STATE = 'Waiting for table metadata lock'";
    wait_until(
        "the ALTER and three readers waiting for the metadata lock",
        Duration::from_secs(30),
        || {
            let waiting = processlist_count(&db, mdl);
            let alter_5s =
                processlist_count(&db, &format!("{mdl} AND INFO LIKE 'ALTER%' AND TIME >= 5"));
            let open: u32 = db
                .sql(&format!(
                    "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id = {blocker_id}"
                ))
                .trim()
                .parse()
                .unwrap_or(0);
            let idle = processlist_count(&db, &format!("ID = {blocker_id} AND COMMAND = 'Sleep'"));
            if waiting >= 4 && alter_5s == 1 && open == 1 && idle == 1 {
                Ok(())
            } else {
                Err(format!(
                    "processlist: {waiting} waiting for the metadata lock, the ALTER for 5 s: \
                     {alter_5s}; blocker {blocker_id} in INNODB_TRX: {open}, idle: {idle}"
                ))
            }
        },
    );
    run.doctor_args = doctor_args(port);
    run.mysql_root_url = Some(db.root_url());
    run.blocker = Some(u64::from(blocker_id));
    run.mariadb = Some(Arc::clone(&db));
    run.on_drop(move || {
        drop(blocker); // ends the transaction: the ALTER, then the readers, go through
        let _ = alter.join();
        for r in readers {
            let _ = r.join();
        }
        drop(db);
    });
    run
}

/// A transaction left open for minutes while the application keeps writing: an `app` session
/// takes a consistent snapshot (`START TRANSACTION WITH CONSISTENT SNAPSHOT` and a read) and goes
/// idle; another `app` session updates rows in autocommit a few hundred times a second. Purge
/// cannot remove the undo the snapshot may still need, so the history list grows. Holds once
/// `INNODB_TRX` shows the transaction open for 61 s with its session idle, and
/// `Innodb_history_list_length` has passed 1000 and is growing.
pub fn mysql_long_transaction(port: u16) -> Running {
    let mut run = Running::new("mysql-long-transaction");
    let db = Arc::new(crate::mariadb::MariaDb::start(port, &[]));
    db.sql(
        "CREATE DATABASE shop; \
         CREATE TABLE shop.stock (id INT PRIMARY KEY, qty INT NOT NULL) ENGINE=InnoDB; \
         INSERT INTO shop.stock SELECT seq, 100 FROM shop.seq_1_to_1000",
    );
    db.create_user("app", "app", &["SELECT, UPDATE ON shop.*"]);
    db.create_user("doctor", "doctor", DOCTOR_GRANTS);
    let mut holder = db.connect("app", Some("app")).expect("app connects");
    holder
        .query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        .and_then(|()| holder.query_drop("SELECT SUM(qty) FROM shop.stock"))
        .expect("the long transaction's read");
    let holder_id = holder.connection_id();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop) = (Arc::clone(&db), Arc::clone(&stop));
        let deadline = Instant::now() + Duration::from_secs(MAX_LIFE_S);
        std::thread::spawn(move || {
            let Ok(mut conn) = db.connect("app", Some("app")) else {
                return;
            };
            let mut i = 0_u32;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                i = (i + 1) % 1000;
                let _ = conn.query_drop(format!(
                    "UPDATE shop.stock SET qty = qty + 1 WHERE id = {}",
                    i + 1
                ));
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let mut last = 0;
    wait_until(
        "a transaction open for 61 s, its session idle, the history list growing",
        Duration::from_secs(80),
        || {
            let age: i64 = db
                .sql(&format!(
                    "SELECT COALESCE(MAX(TIMESTAMPDIFF(SECOND, trx_started, NOW())), -1) \
                     FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id = {holder_id}"
                ))
                .trim()
                .parse()
                .unwrap_or(-1);
            let idle = processlist_count(&db, &format!("ID = {holder_id} AND COMMAND = 'Sleep'"));
            let hll = db.global_status_quiet("Innodb_history_list_length");
            let growing = hll > last;
            last = hll;
            if age >= 61 && idle == 1 && hll >= 1000 && growing {
                Ok(())
            } else {
                std::thread::sleep(Duration::from_secs(1));
                Err(format!(
                    "INNODB_TRX: session {holder_id}'s transaction open {age} s, idle: {idle}; \
                     Innodb_history_list_length {hll} (growing: {growing})"
                ))
            }
        },
    );
    run.doctor_args = doctor_args(port);
    run.mysql_root_url = Some(db.root_url());
    run.blocker = Some(u64::from(holder_id));
    run.mariadb = Some(Arc::clone(&db));
    run.on_drop(move || {
        stop.store(true, Ordering::Relaxed);
        let _ = writer.join();
        drop(holder);
        drop(db);
    });
    run
}
