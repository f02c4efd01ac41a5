//! The `mysql_server` section against a real private MariaDB: the server's process found behind
//! the socket doctor connects to, its settings read off its command line agreeing with what the
//! server itself says, and the kernel's view of its connections agreeing with its own
//! processlist — a session running a statement is seen as "in a statement" (the client spoke
//! last), idle sessions as idle (the server answered last), each with how long.
//!
//! Ports 33130–33139.

#[path = "support/mariadb.rs"]
mod mariadb;

#[path = "support/doctor_mysql.rs"]
mod run;

use mariadb::MariaDb;
use mysql::prelude::Queryable;
use run::{doctor, snapshot, wait_until};
use std::time::Duration;

#[test]
fn the_kernel_view_agrees_with_the_processlist() {
    let db = MariaDb::start(33130, &[("max_connections", "40"), ("wait_timeout", "600")]);
    db.create_user("app", "app", &[]);
    // Five idle sessions, and one running a statement for 60 s on its own thread.
    let idle: Vec<mysql::Conn> = (0..5)
        .map(|_| db.connect("app", Some("app")).expect("app connects"))
        .collect();
    let mut busy = db.connect("app", Some("app")).expect("app connects");
    let busy_id = busy.connection_id();
    let worker = std::thread::spawn(move || {
        let _ = busy.query_drop("SELECT SLEEP(60)");
    });
    wait_until(
        "five sessions asleep 3 s and one in SLEEP",
        Duration::from_secs(20),
        || {
            let sleeping = db.sql(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE USER = 'app' AND COMMAND = 'Sleep' AND TIME >= 3",
            );
            let running = db.sql(&format!(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE ID = {busy_id} AND COMMAND = 'Query' AND TIME >= 3"
            ));
            sleeping.trim() == "5" && running.trim() == "1"
        },
    );

    // Over the socket as root (the socket's own account): the process is found by the socket
    // file, and the TCP sessions are still the kernel's to describe.
    let home = db.dir().to_path_buf();
    let socket_url = format!("mysql://root@localhost/?socket={}", db.socket().display());
    let r = snapshot(
        doctor(&home),
        &["--interval", "1s", "--no-docker", "--mysql", &socket_url],
    );
    let server = &r.snapshot["mysql_server"];
    assert_eq!(server["status"], "ok", "{server:#}");
    assert_eq!(server["login"]["outcome"], "ok");
    let process = &server["process"];
    assert_eq!(process["pid"], db.pid(), "{process:#}");
    assert_eq!(process["found_by"], "socket", "{process:#}");
    assert!(
        process["ports"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(33130)),
        "{process:#}"
    );
    assert_eq!(process["same_network_namespace"], true);

    // The settings the command line gives agree with the server's own variables.
    let options = &server["options"];
    for name in ["max_connections", "wait_timeout"] {
        assert_eq!(
            options[name]["value"].to_string(),
            db.global_variable(name),
            "{name}: {options:#}"
        );
        assert_eq!(options[name]["from"], "command line");
    }
    assert_eq!(options["interactive_timeout"]["from"], "default");

    // Six TCP sessions (doctor's own went over the socket and is gone by the end reading):
    // five idle for 3 s or more, one in a statement for as long as the processlist says.
    let c = &server["connections"];
    // The statement was sent right after the crate's `SELECT @@max_allowed_packet` was answered
    // (the general log shows it), in the same kernel tick: tcp_info alone would call it idle; the
    // server's threads (doctor runs as root here) tell it apart.
    assert_eq!(c["idle_by"], "server threads", "{c:#}");
    assert_eq!(c["tcp"], 6, "{c:#}");
    assert_eq!(c["idle"], 5, "{c:#}");
    assert_eq!(c["in_statement"], 1, "{c:#}");
    let h = &c["idle_histogram"];
    let idle_3s_plus = h["lt_10s"].as_u64().unwrap() + h["lt_1m"].as_u64().unwrap();
    assert_eq!(idle_3s_plus, 5, "{h}");
    let running_s: f64 = db
        .sql(&format!(
            "SELECT TIME FROM information_schema.PROCESSLIST WHERE ID = {busy_id}"
        ))
        .trim()
        .parse()
        .unwrap();
    let seen = c["in_statement_max_s"].as_f64().unwrap();
    // The processlist's TIME is whole seconds, read a moment after doctor's reading.
    assert!(
        seen <= running_s + 1.0 && seen >= running_s - 3.0,
        "in a statement for {seen} s per tcp_info, {running_s} s per the processlist"
    );
    // All six are this test's: one client process holds them.
    let clients = c["by_client"].as_array().unwrap();
    assert_eq!(clients.len(), 1, "{c:#}");
    assert_eq!(clients[0]["pid"], std::process::id(), "{c:#}");
    assert_eq!(clients[0]["connections"], 6);

    drop(idle);
    let _ = db.sql(&format!("KILL {busy_id}"));
    let _ = worker.join();
}
