//! The server-side patterns against a real MariaDB error log: a private `mariadbd` (own datadir,
//! socket only, `wait_timeout=1`) writes `Aborted connection` lines for a client killed before the
//! window and for one that idles past `wait_timeout` inside it; doctor's counts must agree with the
//! server's own `Aborted_clients` and with `grep -c`, and the in-window split with when they happened.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private MariaDB server, killed and waited for on drop.
struct Server {
    child: Child,
    dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let mariadbd = Path::new("/usr/sbin/mariadbd");
        assert!(
            mariadbd.exists(),
            "this test needs a MariaDB server: apt-get install mariadb-server (tests/run.sh does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let out = Command::new("mariadb-install-db")
            .args(["--no-defaults", "--user=root", "--skip-test-db"])
            .arg(format!("--datadir={}", data.display()))
            .output()
            .expect("mariadb-install-db runs");
        assert!(out.status.success(), "mariadb-install-db: {out:?}");
        let child = Command::new(mariadbd)
            .args(["--no-defaults", "--user=root", "--skip-networking"])
            .args([
                "--wait-timeout=1",
                "--interactive-timeout=1",
                "--log-warnings=2",
            ])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", dir.path().join("sock").display()))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()))
            .arg(format!(
                "--log-error={}",
                dir.path().join("error.log").display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mariadbd starts");
        let server = Server { child, dir };
        server.wait_for_log("ready for connections", 1);
        server
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("error.log")
    }

    fn client(&self) -> Command {
        let mut c = Command::new("mariadb");
        c.arg(format!(
            "--socket={}",
            self.dir.path().join("sock").display()
        ))
        .args(["-u", "root", "-N", "-B"]);
        c
    }

    fn status(&self, name: &str) -> u64 {
        let out = self
            .client()
            .args(["-e", &format!("SHOW GLOBAL STATUS LIKE '{name}'")])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        text.split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {text:?} {out:?}"))
    }

    /// A client connected and idle (its stdin stays open and empty), once the server counts it.
    fn idle_client(&self) -> Child {
        let before = self.status("Threads_connected");
        let child = self
            .client()
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t = Instant::now();
        while self.status("Threads_connected") <= before {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "the client never connected"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    /// Waits until `needle` occurs `n` times in the error log.
    fn wait_for_log(&self, needle: &str, n: usize) {
        let t = Instant::now();
        loop {
            let text = std::fs::read_to_string(self.log()).unwrap_or_default();
            if text.matches(needle).count() >= n {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "{needle:?} did not appear {n} times in the error log:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn grep_c(re: &str, file: &Path) -> u64 {
    let out = Command::new("grep")
        .args(["-c", "-E", re])
        .arg(file)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn aborted_connections_in_a_real_mariadb_error_log() {
    let server = Server::start();

    // Before the window: a client killed without saying goodbye.
    let mut killed = server.idle_client();
    killed.kill().unwrap();
    killed.wait().unwrap();
    server.wait_for_log("Got an error reading communication packets", 1);

    // The window is 6 s (the event takes about 2 s: connect, then 1 s idle); it must be logged
    // well before the window's end, or the machine is too overloaded for this test to mean anything.
    let deadline = Duration::from_secs(5);
    let started = Instant::now();
    let mut doctor = Command::new(env!("CARGO_BIN_EXE_doctor"))
        .args(["snapshot", "-q", "-i", "6s", "--no-docker", "--log"])
        .arg(server.log())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Inside the window: a client idle past wait_timeout (1 s), cut by the server.
    std::thread::sleep(Duration::from_millis(800));
    let mut idle = server.idle_client();
    server.wait_for_log("Got timeout reading communication packets", 1);
    assert!(
        started.elapsed() < deadline,
        "the timeout was logged too late to be inside the window ({:?}); machine overloaded?",
        started.elapsed()
    );
    let mut json = Vec::new();
    doctor
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut json)
        .unwrap();
    assert!(doctor.wait().unwrap().success());
    let _ = idle.kill();
    let _ = idle.wait();

    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let src = &v["logs"]["sources"][0];
    assert_eq!(src["status"], "ok", "{src}");
    let error = &src["matches"]["mysql-aborted-connection-error"];
    let timeout = &src["matches"]["mysql-aborted-connection-timeout"];
    let log = server.log();
    assert_eq!(
        error["count"],
        grep_c("Got an error reading communication packets", &log)
    );
    assert_eq!(
        timeout["count"],
        grep_c("Got timeout reading communication packets", &log)
    );
    assert_eq!(error["in_window"], 0, "killed before the window: {src}");
    assert_eq!(timeout["in_window"], 1, "cut during the window: {src}");
    // The server's own count of connections it aborted.
    let aborted = server.status("Aborted_clients");
    assert_eq!(
        v["logs"]["categories"]["db-connection-aborted"]["count"],
        aborted
    );
    assert!(src["window_bytes"].as_u64().unwrap() > 0);

    // The timestamp is the line's own, as MariaDB wrote it (`2026-11-27  7:07:44`).
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .rfind(|l| l.contains("Got timeout reading"))
        .unwrap();
    assert_eq!(timeout["sample"], line);
    let mut parts = line.split_whitespace();
    let (date, time) = (parts.next().unwrap(), parts.next().unwrap());
    let time = if time.len() == 7 {
        format!("0{time}")
    } else {
        time.to_owned()
    };
    assert_eq!(timeout["last_ts"], format!("{date}T{time}"));
}
