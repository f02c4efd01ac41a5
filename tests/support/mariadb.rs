//! A private, throwaway MariaDB server for integration tests.
//!
//! ```ignore
//! #[path = "support/mariadb.rs"]
//! mod mariadb;
//!
//! let db = mariadb::MariaDb::start(33101, &[("max_connections", "20"), ("wait_timeout", "28800")]);
//! db.sql("CREATE USER app@'%' IDENTIFIED BY 'pw'");
//! let n = db.global_status("Threads_connected");
//! let conn = db.connect("app", "pw"); // a mysql::Conn held open by the test
//! ```
//!
//! What it does: `mariadb-install-db --no-defaults` into a fresh temporary directory, then
//! `mariadbd --no-defaults` on that datadir with its own socket, its own TCP port on 127.0.0.1 and
//! the server variables the test asks for; it waits until the server accepts connections and
//! removes the anonymous accounts the installer creates (they would shadow test users connecting
//! from localhost). `root@localhost` / `root@127.0.0.1` have no password.
//!
//! Teardown: dropping the handle (also while a test panics) resumes the server if it was stopped,
//! kills it, waits for it and deletes the directory. If the whole test process dies instead, the
//! server is started under `setpriv --pdeathsig KILL`, so it dies with the thread that started
//! it: keep the handle in the test function that owns the server, not in a `static`.
//!
//! Rules for tests: each test uses its own port in 33100–33199 (the range reserved for these
//! tests) and everything else lives in the temporary directory. Runs as root (`--user=root`).
//! A missing `mariadbd` fails the test with what to install, never a silent pass.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian installs the server binaries; the tests also look on `PATH`.
const SBIN: &str = "/usr/sbin";

/// A running private server; killed and deleted on drop.
pub struct MariaDb {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
    pid: u32,
    /// The extra server variables it was started with, for [`restart`](MariaDb::restart).
    variables: Vec<(String, String)>,
}

fn binary(name: &str) -> PathBuf {
    let sbin = Path::new(SBIN).join(name);
    if sbin.exists() {
        return sbin;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.exists() {
                return candidate;
            }
        }
    }
    panic!(
        "`{name}` is missing: install the `mariadb-server` package (bash tests/run.sh installs it)"
    );
}

impl MariaDb {
    /// Installs and starts a server on `port` (33100–33199 for the MySQL tests, 33300–33399 for
    /// the scenario lab in `tests/scenarios/`) with extra server variables, given as `mariadbd`
    /// spells them on its command line (`max_connections`, `innodb_buffer_pool_size` ...; `-` and
    /// `_` are the same). Panics with the server's error log if it does not come up.
    pub fn start(port: u16, variables: &[(&str, &str)]) -> MariaDb {
        MariaDb::start_in(&std::env::temp_dir(), port, variables)
    }

    /// [`start`](Self::start) with the server's directory (datadir, socket, logs, tmpdir)
    /// created under `parent`: a test puts a datadir on a device of its choosing (a slow one,
    /// `tests/support/slowdev.rs`).
    pub fn start_in(parent: &Path, port: u16, variables: &[(&str, &str)]) -> MariaDb {
        assert!(
            (33100..=33199).contains(&port) || (33300..=33399).contains(&port),
            "the MariaDB tests own ports 33100-33199 and the scenario lab 33300-33399, not {port}"
        );
        // A bind, not a connect: connecting to a port nothing listens on can succeed when the
        // kernel picks that very port as the ephemeral one (a TCP self-connect: the port is in
        // 32768-60999).
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} is already taken (a leftover mariadbd from a killed test run? \
             `ss -tanp 'sport = :{port}'` shows who holds it; a client's TIME-WAIT there means \
             the test ports are not reserved from the ephemeral range: run the tests with \
             `bash tests/run.sh`, which reserves them)"
        );
        let dir = tempfile::Builder::new()
            .prefix("doctor-mariadb-")
            .tempdir_in(parent)
            .expect("temporary directory");
        let datadir = dir.path().join("data");
        let install = Command::new(binary("mariadb-install-db"))
            .arg("--no-defaults")
            .arg("--auth-root-authentication-method=normal")
            .arg(format!("--datadir={}", datadir.display()))
            .arg("--user=root")
            .arg("--skip-test-db")
            // A small redo log: the installer writes the whole file, 96 MiB by default.
            .arg("--innodb-log-file-size=8M")
            // The bootstrap's temporary tables in this server's own directory, not the shared
            // /tmp (seen failing there with "Could not remove temporary table" when several
            // servers were installed at once).
            .arg(format!("--tmpdir={}", dir.path().display()))
            .output()
            .expect("run mariadb-install-db");
        assert!(
            install.status.success(),
            "mariadb-install-db failed: {}{}",
            String::from_utf8_lossy(&install.stdout),
            String::from_utf8_lossy(&install.stderr)
        );

        let variables: Vec<(String, String)> = variables
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let child = spawn(dir.path(), port, &variables);
        let pid = child.id();
        let mut db = MariaDb {
            dir,
            port,
            child,
            pid,
            variables,
        };
        db.wait_until_ready();
        db.sql("DELETE FROM mysql.global_priv WHERE User = ''; FLUSH PRIVILEGES");
        db
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "mariadbd exited during start-up ({status}); its error log:\n{}",
                    self.error_log()
                );
            }
            if self.socket().exists() && self.try_sql("SELECT 1").is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "mariadbd did not accept connections within 60 s; its error log:\n{}",
                self.error_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's process id (for `kill -STOP`, `/proc/<pid>/stat`). `setpriv` execs the
    /// server, so this is `mariadbd` itself.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The Unix socket the server listens on.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("mysqld.sock")
    }

    /// The datadir (a subdirectory of the temporary directory).
    pub fn datadir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The temporary directory holding everything of this server, for files a test wants
    /// deleted with it (a `.my.cnf`, a `HOME`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `mysql://user:password@127.0.0.1:port`, percent-encoding nothing: use simple passwords.
    pub fn url(&self, user: &str, password: Option<&str>) -> String {
        match password {
            Some(p) => format!("mysql://{user}:{p}@127.0.0.1:{}", self.port),
            None => format!("mysql://{user}@127.0.0.1:{}", self.port),
        }
    }

    /// `mysql://root@127.0.0.1:port`: root over TCP, no password.
    pub fn root_url(&self) -> String {
        self.url("root", None)
    }

    /// Runs SQL as root over the socket with the `mariadb` command-line client and returns its
    /// tab-separated output without headers, one line per row.
    pub fn sql(&self, sql: &str) -> String {
        self.try_sql(sql)
            .unwrap_or_else(|e| panic!("SQL failed: {sql}\n{e}"))
    }

    /// Like [`sql`](Self::sql), returning the client's error message instead of panicking.
    ///
    /// root has the one connection the server keeps beyond `max_connections`; a scenario that
    /// fills the server while clients keep retrying can hold it for a moment (a connection being
    /// refused counts until it is), so a 1040 is retried for up to a second.
    pub fn try_sql(&self, sql: &str) -> Result<String, String> {
        let mut last = String::new();
        for _ in 0..50 {
            match self.try_sql_once(sql) {
                Err(e) if e.contains("ERROR 1040") => {
                    last = e;
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => return other,
            }
        }
        Err(last)
    }

    fn try_sql_once(&self, sql: &str) -> Result<String, String> {
        let out = Command::new(binary("mariadb"))
            .arg("--no-defaults")
            .arg(format!("--socket={}", self.socket().display()))
            // No TLS, so the harness's own connections never show in a test's TLS counters.
            .args([
                "--user=root",
                "--batch",
                "--skip-column-names",
                "--raw",
                "--skip-ssl",
            ])
            .arg("--execute")
            .arg(sql)
            .output()
            .map_err(|e| format!("cannot run the mariadb client: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// One value of `SHOW GLOBAL STATUS`, as the server reports it now.
    pub fn global_status(&self, name: &str) -> i64 {
        let out = self.sql(&format!("SHOW GLOBAL STATUS LIKE '{name}'"));
        parse_pair(&out, name)
            .parse()
            .unwrap_or_else(|e| panic!("status {name} is not a number: {e}"))
    }

    /// One status value read from `information_schema.GLOBAL_STATUS`, which (unlike
    /// [`global_status`](Self::global_status)) does not count as a `SHOW STATUS`: poll
    /// `Com_show_status` with it to see when another client has read the status.
    pub fn global_status_quiet(&self, name: &str) -> i64 {
        let out = self.sql(&format!(
            "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
             WHERE VARIABLE_NAME = UPPER('{name}')"
        ));
        out.trim()
            .parse()
            .unwrap_or_else(|e| panic!("status {name} is not a number: {e}"))
    }

    /// Waits until some client has run `SHOW GLOBAL STATUS` since `Com_show_status` was
    /// `before`: doctor's start reading of the window is then done.
    pub fn wait_for_status_read(&self, before: i64) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.global_status_quiet("Com_show_status") <= before {
            assert!(
                Instant::now() < deadline,
                "nobody read SHOW GLOBAL STATUS within 20 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// One value of `SHOW GLOBAL VARIABLES`, as text.
    pub fn global_variable(&self, name: &str) -> String {
        let out = self.sql(&format!("SHOW GLOBAL VARIABLES LIKE '{name}'"));
        parse_pair(&out, name)
    }

    /// Creates `user@'%'` with `password` and the given grants (`"PROCESS ON *.*"`, or `""`
    /// for none).
    pub fn create_user(&self, user: &str, password: &str, grants: &[&str]) {
        let mut sql = format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{password}';");
        for g in grants {
            let _ = write!(sql, "GRANT {g} TO '{user}'@'%';");
        }
        self.sql(&sql);
    }

    /// Opens a connection with the `mysql` crate as `user` over TCP, for tests that hold
    /// connections open (idle sessions, a burst up to `max_connections`).
    pub fn connect(&self, user: &str, password: Option<&str>) -> mysql::Result<mysql::Conn> {
        let opts = mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .tcp_port(self.port)
            .user(Some(user))
            .pass(password)
            .prefer_socket(false)
            .tcp_connect_timeout(Some(Duration::from_secs(5)))
            .read_timeout(Some(Duration::from_secs(30)));
        mysql::Conn::new(opts)
    }

    /// Stops the server with SIGSTOP (it hangs: connections stay open, nothing answers) and
    /// waits until the kernel shows it stopped (`T` in `/proc/PID/stat`): `kill` returns before
    /// the signal is delivered, and a busy machine was seen still running it right after.
    /// [`resume`](Self::resume) or dropping the handle continues it.
    pub fn pause(&self) {
        signal(self.pid, "STOP");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let stat =
                std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
            // The state follows the command name, which is in parentheses.
            let state = stat
                .rsplit_once(") ")
                .and_then(|(_, rest)| rest.split_whitespace().next());
            if state == Some("T") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "mariadbd not stopped 10 s after SIGSTOP: {stat}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Continues a server stopped with [`pause`](Self::pause).
    pub fn resume(&self) {
        signal(self.pid, "CONT");
    }

    /// Kills the server with SIGKILL, as the OOM killer does, and waits until it is gone:
    /// reaped, and its port refusing connections.
    pub fn crash(&mut self) {
        signal(self.pid, "KILL");
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "port {} still open", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same datadir, port and variables (InnoDB recovers a
    /// crashed one), and waits until it accepts connections.
    pub fn restart(&mut self) {
        self.child = spawn(self.dir.path(), self.port, &self.variables);
        self.pid = self.child.id();
        self.wait_until_ready();
    }

    /// The server's error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

/// Starts `mariadbd` on the server directory `dir` (datadir `dir/data`), as `start_in` and
/// `restart` do.
fn spawn(dir: &Path, port: u16, variables: &[(String, String)]) -> Child {
    let mut cmd = Command::new("setpriv");
    cmd.arg("--pdeathsig")
        .arg("KILL")
        .arg("--")
        .arg(binary("mariadbd"))
        .arg("--no-defaults")
        .arg("--user=root")
        .arg(format!("--datadir={}", dir.join("data").display()))
        .arg(format!("--socket={}", dir.join("mysqld.sock").display()))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
        .arg(format!("--log-error={}", dir.join("error.log").display()))
        .arg(format!("--tmpdir={}", dir.display()))
        .arg("--skip-log-bin")
        .arg("--innodb-log-file-size=8M")
        .arg("--skip-name-resolve");
    for (name, value) in variables {
        cmd.arg(format!("--{name}={value}"));
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mariadbd under setpriv (util-linux)")
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{sig} {pid} failed");
}

fn parse_pair(out: &str, name: &str) -> String {
    let line = out
        .lines()
        .next()
        .unwrap_or_else(|| panic!("the server has no {name}"));
    line.split('\t').nth(1).unwrap_or("").to_owned()
}

/// The read workload of the buffer-pool tests: `w.t`, 16 Ki rows of 1 KiB (16 MiB of pages).
pub const WIDE_TABLE_ROWS: u64 = 16_384;

impl MariaDb {
    /// Creates and fills `w.t` ([`WIDE_TABLE_ROWS`] rows of 1 KiB) and refreshes its statistics.
    pub fn create_wide_table(&self) {
        self.sql(
            "CREATE DATABASE w; CREATE TABLE w.t (id INT AUTO_INCREMENT PRIMARY KEY, pad VARCHAR(1000)) ENGINE=InnoDB; \
             INSERT INTO w.t (pad) VALUES (REPEAT('x', 1000));",
        );
        // Each pass doubles the rows: 2^14.
        for _ in 0..14 {
            self.sql("INSERT INTO w.t (pad) SELECT pad FROM w.t");
        }
        self.sql("ANALYZE TABLE w.t");
    }
}

/// One statement of `n` primary-key lookups spread over `w.t` by a fixed pseudo-random sequence
/// (a small LCG, no rand): random pages, so no read-ahead, and the tree's top pages stay cached
/// while most leaves do not fit a small pool.
pub fn point_lookups(seed: &mut u64, n: usize) -> String {
    let ids: Vec<String> = (0..n)
        .map(|_| {
            *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ((*seed >> 33) % WIDE_TABLE_ROWS + 1).to_string()
        })
        .collect();
    format!(
        "SELECT SUM(LENGTH(pad)) FROM w.t WHERE id IN ({})",
        ids.join(",")
    )
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too; the SIGCONT only makes sure nothing is left
        // stopped should the kill fail.
        let _ = Command::new("kill")
            .args(["-CONT", &self.pid.to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
