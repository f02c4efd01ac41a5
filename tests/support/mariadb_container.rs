//! A throwaway MariaDB server inside a real Docker container: the diary's `mysql_prod`.
//!
//! ```ignore
//! mod support;
//! use support::mariadb_container::{ContainerOptions, MariaDbContainer};
//!
//! let db = MariaDbContainer::start(
//!     "pool",
//!     33401,
//!     &[("max_connections", "20"), ("wait_timeout", "28800")],
//!     &ContainerOptions { memory: Some("512m"), cpus: Some("1"), ..ContainerOptions::default() },
//! );
//! db.create_user("app", "pw", &["PROCESS ON *.*"]);
//! let conn = db.connect("app", "pw")?; // through the published port, as the app connects
//! let pid = db.pid();                  // mariadbd's pid on the host
//! ```
//!
//! The image ([`IMAGE`], built once with `docker import`, nothing pulled) is a busybox-static
//! rootfs whose `/lib` and `/lib64` are symlinks into `usr/`, with `/etc/passwd` and
//! `/etc/group` (root, mysql), `/tmp`, `/run/mysqld`, `/var/log/mysql` and `/var/lib/mysql`. The
//! host's `/usr`, bind-mounted read-only, supplies `mariadbd`, the `mariadb` client and their
//! libraries, so the server is the host's MariaDB version with no image to download.
//!
//! [`MariaDbContainer::start`] installs a datadir on the host (`mariadb-install-db
//! --no-defaults` into a temporary directory, as `tests/support/mariadb.rs` does), then runs
//! `mariadbd --no-defaults --user=root` in a container named `doctor-test-mdb-<suffix>-<pid>`
//! with that datadir bind-mounted at `/var/lib/mysql`, port 3306 published on
//! `127.0.0.1:<host_port>`, its socket at `/run/mysqld/mysqld.sock` and its error log at
//! `/var/log/mysql/error.log` — both inside the container's own filesystem, not on a mount, so
//! the host sees the log only through `/proc/<pid>/root` (what doctor must read). It waits until
//! the server answers over its socket (`docker exec`) and through the published port (a real
//! login, so no "Aborted connection" line is logged), and removes the anonymous accounts.
//! Connections through the published port come from the bridge's gateway address
//! (docker-proxy), so accounts must be `user@'%'` ([`create_user`]); root has no password and is
//! reached over the socket only ([`sql`]). The host needs `mariadb-server` and `mariadb-client`
//! installed (their `/usr` is what the container runs), `busybox-static` and a dockerd.
//!
//! Teardown: dropping the handle (also while a test panics) runs `docker rm -f` (which kills the
//! server and waits until the container is gone) and then deletes the datadir. A container left
//! by a test process that was killed is removed by the next start (its name carries a pid that
//! no longer runs).
//!
//! Rules for tests: host ports 33400–33449 for tests, 33450–33499 for the scenario lab (checked,
//! and the port must be free); `name_suffix` unique per test binary. A missing `docker`,
//! `busybox`, `mariadbd` or `mariadb-install-db` fails the test with what to install.
//!
//! [`create_user`]: MariaDbContainer::create_user
//! [`sql`]: MariaDbContainer::sql

use super::docker::{busybox_rootfs, docker, import, require_docker};
use mysql::prelude::Queryable as _;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The image the server runs in.
pub const IMAGE: &str = "doctor-test-mariadb:latest";

/// Changed whenever the rootfs recipe changes, so an image built by an older recipe is rebuilt
/// instead of reused.
const RECIPE: &str = "1";

/// Inside the container.
pub const SOCKET: &str = "/run/mysqld/mysqld.sock";
pub const ERROR_LOG: &str = "/var/log/mysql/error.log";
pub const DATADIR: &str = "/var/lib/mysql";

/// How long the server may take to come up.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// Container options beyond the defaults (`docker run` spells them the same).
#[derive(Debug, Clone, Copy, Default)]
pub struct ContainerOptions<'a> {
    /// `--memory`, e.g. `512m`.
    pub memory: Option<&'a str>,
    /// `--cpus`, e.g. `0.5`.
    pub cpus: Option<&'a str>,
    /// `--network`: a user-defined network the app's container also joins (the server is then
    /// reachable there by its container name); the default bridge without one.
    pub network: Option<&'a str>,
    /// Any other `docker run` options, passed as given.
    pub docker_args: &'a [&'a str],
}

/// A running server in its container; removed with its datadir on drop.
pub struct MariaDbContainer {
    name: String,
    id: String,
    port: u16,
    dir: tempfile::TempDir,
}

fn binary(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "`{name}` is missing: install the `mariadb-server` package (bash tests/run.sh installs it)"
    );
}

/// Builds [`IMAGE`] once per test binary, or reuses it when it was built by this [`RECIPE`].
pub fn image() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        require_docker();
        let label = Command::new("docker")
            .args([
                "image",
                "inspect",
                "-f",
                "{{index .Config.Labels \"doctor.rootfs\"}}",
                IMAGE,
            ])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        if label.as_deref() == Some(RECIPE) {
            return;
        }
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        busybox_rootfs(r);
        std::os::unix::fs::symlink("usr/lib", r.join("lib")).unwrap();
        std::os::unix::fs::symlink("usr/lib64", r.join("lib64")).unwrap();
        for d in ["etc", "run/mysqld", "var/log/mysql", "var/lib/mysql"] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        std::fs::write(
            r.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nmysql:x:999:999:MariaDB Server:/nonexistent:/bin/false\n",
        )
        .unwrap();
        std::fs::write(r.join("etc/group"), "root:x:0:\nmysql:x:999:\n").unwrap();
        import(r, IMAGE, &[&format!("LABEL doctor.rootfs={RECIPE}")]);
    });
    IMAGE
}

/// Removes containers of this harness left by test processes that no longer run.
fn remove_leftovers() {
    let names = docker(&[
        "ps",
        "-a",
        "--filter",
        "name=^doctor-test-mdb-",
        "--format",
        "{{.Names}}",
    ]);
    for name in names.lines() {
        let dead = name
            .rsplit('-')
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
        if dead {
            let _ = Command::new("docker")
                .args(["rm", "-f", name])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Whether `127.0.0.1:port` cannot be bound: a bind, not a connect, which can succeed on a port
/// nothing listens on when the kernel picks that very port as the ephemeral one (a TCP
/// self-connect).
fn port_taken(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_err()
}

/// The account the readiness check logs in with through the published port; dropped again
/// before [`MariaDbContainer::start`] returns.
const PROBE_USER: &str = "doctor_harness_probe";

impl MariaDbContainer {
    /// Installs a datadir and starts the server in a container publishing `host_port`
    /// (33400–33449 for tests, 33450–33499 for the scenario lab), with server variables as
    /// `mariadbd` spells them on its command line (`max_connections`, `innodb_buffer_pool_size`
    /// ...). Panics with the container's output and the server's error log if it does not come
    /// up within 60 s.
    pub fn start(
        name_suffix: &str,
        host_port: u16,
        variables: &[(&str, &str)],
        options: &ContainerOptions,
    ) -> MariaDbContainer {
        assert!(
            (33400..=33499).contains(&host_port),
            "the MariaDB container tests own ports 33400-33449 and the scenario lab 33450-33499, not {host_port}"
        );
        require_docker();
        let image = image();
        remove_leftovers();
        assert!(
            !port_taken(host_port),
            "port {host_port} is already taken (another test run? `ss -ltnp 'sport = :{host_port}'` \
             and `docker ps --filter publish={host_port}` show who holds it)"
        );
        let dir = tempfile::Builder::new()
            .prefix("doctor-mdb-container-")
            .tempdir()
            .expect("temporary directory");
        let datadir = dir.path().join("data");
        let install = Command::new(binary("mariadb-install-db"))
            .arg("--no-defaults")
            .arg("--auth-root-authentication-method=normal")
            .arg(format!("--datadir={}", datadir.display()))
            .arg("--user=root")
            .arg("--skip-test-db")
            .arg("--innodb-log-file-size=8M")
            .arg(format!("--tmpdir={}", dir.path().display()))
            .output()
            .expect("run mariadb-install-db");
        assert!(
            install.status.success(),
            "mariadb-install-db failed: {}{}",
            String::from_utf8_lossy(&install.stdout),
            String::from_utf8_lossy(&install.stderr)
        );

        let name = format!("doctor-test-mdb-{name_suffix}-{}", std::process::id());
        // The guard exists before the container, so a failed start is cleaned up too.
        let mut db = MariaDbContainer {
            name,
            id: String::new(),
            port: host_port,
            dir,
        };
        let volume = format!("{}:{DATADIR}", datadir.display());
        let publish = format!("127.0.0.1:{host_port}:3306");
        let mut args: Vec<String> = ["run", "-d", "--name", &db.name, "-v", "/usr:/usr:ro"]
            .iter()
            .map(ToString::to_string)
            .collect();
        args.extend(["-v".into(), volume, "-p".into(), publish]);
        for (flag, value) in [
            ("--memory", options.memory),
            ("--cpus", options.cpus),
            ("--network", options.network),
        ] {
            if let Some(v) = value {
                args.extend([flag.to_owned(), v.to_owned()]);
            }
        }
        args.extend(options.docker_args.iter().map(ToString::to_string));
        args.push(image.to_owned());
        args.extend(
            [
                "/usr/sbin/mariadbd",
                "--no-defaults",
                "--user=root",
                &format!("--datadir={DATADIR}"),
                &format!("--socket={SOCKET}"),
                "--port=3306",
                "--bind-address=0.0.0.0",
                &format!("--log-error={ERROR_LOG}"),
                "--pid-file=/run/mysqld/mysqld.pid",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--innodb-log-file-size=8M",
            ]
            .iter()
            .map(ToString::to_string),
        );
        args.extend(variables.iter().map(|(n, v)| format!("--{n}={v}")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        db.id = docker(&args);
        db.wait_until_ready();
        db.sql("DELETE FROM mysql.global_priv WHERE User = ''; FLUSH PRIVILEGES");
        db
    }

    /// Waits until the server answers over its socket inside the container, then through the
    /// published port with a real login (docker-proxy accepts connections even when nothing
    /// listens behind it). The login completes and quits, so the check leaves no "Aborted
    /// connection" line in the error log, which tests of doctor's log scan read.
    fn wait_until_ready(&self) {
        let deadline = Instant::now() + READY_WITHIN;
        let late = |what: &str, why: &str| -> ! {
            panic!(
                "mariadbd in container {} did not answer {what} within {} s ({why}):\n{}",
                self.name,
                READY_WITHIN.as_secs(),
                self.diagnostics()
            )
        };
        loop {
            self.still_running();
            match self.try_sql("SELECT 1") {
                Ok(_) => break,
                Err(e) if Instant::now() >= deadline => late(&format!("on {SOCKET}"), &e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        self.sql(&format!(
            "CREATE USER '{PROBE_USER}'@'%' IDENTIFIED BY 'probe'"
        ));
        loop {
            self.still_running();
            let login = self
                .connect(PROBE_USER, "probe")
                .and_then(|mut c| c.query_drop("SELECT 1"));
            match login {
                Ok(()) => break,
                Err(e) if Instant::now() >= deadline => {
                    late(&format!("through 127.0.0.1:{}", self.port), &e.to_string());
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        self.sql(&format!("DROP USER '{PROBE_USER}'@'%'"));
    }

    fn still_running(&self) {
        assert!(
            self.inspect("{{.State.Running}}") == "true",
            "the MariaDB container {} stopped during start-up ({}):\n{}",
            self.name,
            self.inspect(
                "exit code {{.State.ExitCode}}{{if .State.Error}}, {{.State.Error}}{{end}}"
            ),
            self.diagnostics()
        );
    }

    /// The container's output and the server's error log, for a failure message.
    fn diagnostics(&self) -> String {
        let logs = Command::new("docker")
            .args(["logs", "--tail", "50", &self.name])
            .output()
            .map_or_else(
                |e| format!("(docker logs failed: {e})"),
                |o| {
                    format!(
                        "{}{}",
                        String::from_utf8_lossy(&o.stdout),
                        String::from_utf8_lossy(&o.stderr)
                    )
                },
            );
        let mut out = format!("--- docker logs {}:\n{logs}", self.name);
        let _ = write!(out, "--- {ERROR_LOG}:\n{}", self.error_log());
        out
    }

    /// `docker inspect -f FORMAT` of the container.
    pub fn inspect(&self, format: &str) -> String {
        docker(&["inspect", "-f", format, &self.name])
    }

    /// The container's name, `doctor-test-mdb-<suffix>-<pid>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The container's full id (64 hex digits).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The port published on 127.0.0.1.
    pub fn host_port(&self) -> u16 {
        self.port
    }

    /// The host pid of `mariadbd` (the container's main process), checked by its
    /// `/proc/<pid>/comm`.
    pub fn pid(&self) -> i32 {
        let pid: i32 = self.inspect("{{.State.Pid}}").parse().unwrap();
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        assert_eq!(
            comm.trim(),
            "mariadbd",
            "pid {pid} of container {} is not mariadbd",
            self.name
        );
        pid
    }

    /// The datadir as the host sees it (bind-mounted at `/var/lib/mysql` inside).
    pub fn datadir_on_host(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `mysql://user:password@127.0.0.1:host_port`; use simple passwords.
    pub fn url(&self, user: &str, password: &str) -> String {
        format!("mysql://{user}:{password}@127.0.0.1:{}", self.port)
    }

    /// Runs SQL as root over the socket inside the container (`docker exec` with the
    /// `mariadb` client) and returns its tab-separated output without headers.
    pub fn sql(&self, sql: &str) -> String {
        self.try_sql(sql)
            .unwrap_or_else(|e| panic!("SQL failed in {}: {sql}\n{e}", self.name))
    }

    /// Like [`sql`](Self::sql), returning the client's error instead of panicking.
    pub fn try_sql(&self, sql: &str) -> Result<String, String> {
        let out = Command::new("docker")
            .args([
                "exec",
                &self.name,
                "/usr/bin/mariadb",
                "--no-defaults",
                &format!("--socket={SOCKET}"),
                "--user=root",
                "--batch",
                "--skip-column-names",
                "--raw",
                "--skip-ssl",
                "--execute",
                sql,
            ])
            .output()
            .map_err(|e| format!("cannot run docker exec: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Creates `user@'%'` with `password` and the given grants (`"PROCESS ON *.*"`).
    pub fn create_user(&self, user: &str, password: &str, grants: &[&str]) {
        let mut sql = format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{password}';");
        for g in grants {
            let _ = write!(sql, "GRANT {g} TO '{user}'@'%';");
        }
        self.sql(&sql);
    }

    /// A connection as `user` through the published port, as an app outside connects.
    pub fn connect(&self, user: &str, password: &str) -> mysql::Result<mysql::Conn> {
        let opts = mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .tcp_port(self.port)
            .user(Some(user))
            .pass(Some(password))
            .prefer_socket(false)
            .tcp_connect_timeout(Some(Duration::from_secs(5)))
            .read_timeout(Some(Duration::from_secs(30)));
        mysql::Conn::new(opts)
    }

    /// One value of `SHOW GLOBAL STATUS`.
    pub fn global_status(&self, name: &str) -> i64 {
        let out = self.sql(&format!("SHOW GLOBAL STATUS LIKE '{name}'"));
        let value = out
            .lines()
            .next()
            .and_then(|l| l.split('\t').nth(1))
            .unwrap_or_else(|| panic!("the server has no status {name}"));
        value
            .parse()
            .unwrap_or_else(|e| panic!("status {name} = {value:?} is not a number: {e}"))
    }

    /// The server's error log so far, read inside the container (`docker exec cat`), or copied
    /// out of it (`docker cp`) once it has stopped.
    pub fn error_log(&self) -> String {
        let out = Command::new("docker")
            .args(["exec", &self.name, "cat", ERROR_LOG])
            .output();
        if let Ok(o) = &out
            && o.status.success()
        {
            return String::from_utf8_lossy(&o.stdout).into_owned();
        }
        // A stopped container: `docker cp` still reads its filesystem, as a tar stream.
        let cp = Command::new("sh")
            .args([
                "-c",
                &format!("docker cp {}:{ERROR_LOG} - | tar -xO", self.name),
            ])
            .output();
        match cp {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
            Ok(o) => format!(
                "(error log not readable: {})",
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => format!("(error log not readable: {e})"),
        }
    }
}

impl Drop for MariaDbContainer {
    fn drop(&mut self) {
        // `docker rm -f` kills the server and returns once the container is gone, so the
        // datadir is no longer in use when the temporary directory is deleted after this.
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        // Bounded, and never a panic: this may run while a test is already panicking.
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline
            && Command::new("docker")
                .args(["inspect", &self.name])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
