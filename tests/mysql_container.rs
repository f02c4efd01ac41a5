//! The MariaDB-in-a-container harness (`tests/support/mariadb_container.rs`) against the real
//! Docker engine and the host's real `mariadbd`: what it starts is the diary's `mysql_prod`, a
//! server whose files are the container's and whose limits are its cgroup's.

mod support;

use mysql::prelude::Queryable;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Instant;
use support::mariadb_container::{ContainerOptions, ERROR_LOG, MariaDbContainer};

/// The directory of `pid`'s cgroup that holds its memory limit, and the limit file's name:
/// cgroup v1 `memory.limit_in_bytes` under the mount carrying the `memory` controller, v2
/// `memory.max` under the unified mount (`/proc/<pid>/cgroup` and `/proc/self/mountinfo`,
/// proc(5)). Also the `/proc/<pid>/cgroup` line it came from.
fn memory_limit_file(pid: i32) -> (PathBuf, String) {
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mount = |v2: bool| {
        mountinfo.lines().find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let point = left.split(' ').nth(4)?;
            let mut r = right.split(' ');
            let fstype = r.next()?;
            let options = r.nth(1).unwrap_or("");
            let fits = if v2 {
                fstype == "cgroup2"
            } else {
                fstype == "cgroup" && options.split(',').any(|o| o == "memory")
            };
            fits.then(|| point.to_owned())
        })
    };
    let v1 = cgroup.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (_, controllers, path) = (f.next()?, f.next()?, f.next()?);
        controllers
            .split(',')
            .any(|c| c == "memory")
            .then(|| (path.to_owned(), l.to_owned()))
    });
    if let Some((path, line)) = v1 {
        let point = mount(false).expect("the v1 memory controller is mounted");
        let dir = Path::new(&point).join(path.trim_start_matches('/'));
        return (dir.join("memory.limit_in_bytes"), line);
    }
    let line = cgroup
        .lines()
        .find(|l| l.starts_with("0::"))
        .expect("a v2 line in /proc/<pid>/cgroup")
        .to_owned();
    let point = mount(true).expect("the v2 hierarchy is mounted");
    let dir = Path::new(&point).join(line[3..].trim_start_matches('/'));
    (dir.join("memory.max"), line)
}

/// A server started with `--memory 512m` and `max_connections=20` answers through the published
/// port with those settings; its error log is a file of the container's own filesystem, which the
/// host reaches through `/proc/<pid>/root` only (what doctor will read); its cgroup, named after
/// the container, holds the 512 MiB limit; and what it writes lands in the datadir on the host.
#[test]
fn mariadb_in_a_container_has_its_own_files_and_limits() {
    let t = Instant::now();
    let db = MariaDbContainer::start(
        "smoke",
        33400,
        &[("max_connections", "20")],
        &ContainerOptions {
            memory: Some("512m"),
            ..ContainerOptions::default()
        },
    );
    let started = t.elapsed();

    db.create_user("app", "pw", &[]);
    let mut conn = db
        .connect("app", "pw")
        .expect("app@'%' connects through the published port");
    let max: u64 = conn
        .query_first("SELECT @@max_connections")
        .unwrap()
        .unwrap();
    assert_eq!(max, 20, "max_connections as started");
    let (datadir, log_error): (String, String) = conn
        .query_first("SELECT @@datadir, @@log_error")
        .unwrap()
        .unwrap();
    assert_eq!(datadir, "/var/lib/mysql/");
    assert_eq!(log_error, ERROR_LOG);
    let seen_as: String = conn.query_first("SELECT USER()").unwrap().unwrap();
    assert!(
        seen_as.starts_with("app@") && !seen_as.ends_with("@localhost"),
        "a TCP client from outside the container, not a local one: {seen_as}"
    );
    assert!(
        db.global_status("Threads_connected") >= 1,
        "the app's connection is counted"
    );

    // The error log: inside the container, read from the host through /proc/<pid>/root.
    let pid = db.pid();
    let inside = PathBuf::from(format!("/proc/{pid}/root{ERROR_LOG}"));
    let text = std::fs::read_to_string(&inside)
        .unwrap_or_else(|e| panic!("{} is readable from the host: {e}", inside.display()));
    assert!(
        text.contains("/usr/sbin/mariadbd: ready for connections.") && text.contains("port: 3306"),
        "the server's start-up lines are in {}:\n{text}",
        inside.display()
    );
    assert!(
        db.error_log().starts_with(&text),
        "docker exec cat reads the same file as /proc/{pid}/root"
    );
    let meta = std::fs::metadata(&inside).unwrap();
    if let Ok(host) = std::fs::metadata(ERROR_LOG) {
        assert!(
            (host.dev(), host.ino()) != (meta.dev(), meta.ino()),
            "the host's {ERROR_LOG} must not be the container's file"
        );
    }
    let mounts = db.inspect("{{range .Mounts}}{{.Destination}} {{end}}");
    assert!(
        !mounts.split_whitespace().any(|m| ERROR_LOG.starts_with(m)),
        "the error log must not be on a mount ({mounts})"
    );

    // The cgroup: named after the container, with the --memory limit.
    let (limit_file, line) = memory_limit_file(pid);
    assert!(
        line.contains(db.id()),
        "mariadbd's cgroup is container {}'s: {line}",
        db.id()
    );
    let limit = std::fs::read_to_string(&limit_file).unwrap();
    assert_eq!(
        limit.trim(),
        (512u64 << 20).to_string(),
        "{}",
        limit_file.display()
    );

    // The datadir is the host's directory.
    db.sql("CREATE DATABASE smoke");
    assert!(
        db.datadir_on_host().join("smoke").is_dir(),
        "a database created in the container is a directory in {}",
        db.datadir_on_host().display()
    );

    drop(conn);
    assert!(
        !db.error_log().contains("Aborted connection"),
        "the harness's own connections leave the error log clean for log-scan tests:\n{}",
        db.error_log()
    );
    let name = db.name().to_owned();
    drop(db);
    let gone = std::process::Command::new("docker")
        .args(["inspect", &name])
        .output()
        .unwrap();
    assert!(!gone.status.success(), "{name} is removed on drop");
    eprintln!(
        "mariadb container: up in {:.1} s, whole test {:.1} s",
        started.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );
}
