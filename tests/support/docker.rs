//! Real containers for the tests: a busybox image built locally (nothing can be pulled), containers
//! that are always removed, and a private Docker daemon that a test may hang or stop.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// The image every container test runs: a busybox-static rootfs imported with `docker import`.
pub const IMAGE: &str = "doctor-test-busybox:latest";

/// Fails loudly unless the system dockerd answers: a missing daemon must never be a silent pass.
pub fn require_docker() {
    let ok = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "`docker info` fails: the container tests need a running dockerd; run `bash tests/run.sh`, \
         which installs docker.io and starts the daemon"
    );
}

/// `docker ARGS`, failing the test with docker's stderr.
pub fn docker(args: &[&str]) -> String {
    super::run("docker", args).trim().to_owned()
}

/// Builds [`IMAGE`] once per test binary, or reuses it when present: [`busybox_rootfs`]
/// imported with `docker import`.
pub fn image() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        require_docker();
        let present = Command::new("docker")
            .args(["image", "inspect", IMAGE])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if present {
            return;
        }
        let root = tempfile::tempdir().unwrap();
        busybox_rootfs(root.path());
        import(root.path(), IMAGE, &[]);
    });
    IMAGE
}

/// Fills `root` with a minimal rootfs: `/bin/busybox` from the `busybox-static` package, a
/// symlink for every applet, and `/tmp`.
pub fn busybox_rootfs(root: &Path) {
    super::require("busybox", "busybox-static");
    let busybox = which("busybox");
    let bin = root.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::copy(&busybox, bin.join("busybox")).unwrap();
    for applet in super::run(busybox.to_str().unwrap(), &["--list"]).lines() {
        if applet != "busybox" && !applet.is_empty() {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
        }
    }
    let tmp = root.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o1777)).unwrap();
}

/// `tar -C ROOT -c . | docker import [--change CHANGE]... - TAG`.
pub fn import(root: &Path, tag: &str, changes: &[&str]) {
    let mut tar = Command::new("tar")
        .args(["-C", root.to_str().unwrap(), "-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .expect("tar runs");
    let mut import = Command::new("docker");
    import.arg("import");
    for c in changes {
        import.args(["--change", c]);
    }
    let import = import
        .args(["-", tag])
        .stdin(tar.stdout.take().unwrap())
        .output()
        .expect("docker import runs");
    assert!(tar.wait().unwrap().success(), "tar of the rootfs failed");
    assert!(
        import.status.success(),
        "docker import failed: {}",
        String::from_utf8_lossy(&import.stderr)
    );
}

fn which(cmd: &str) -> PathBuf {
    for dir in ["/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
        let p = Path::new(dir).join(cmd);
        if p.exists() {
            return p;
        }
    }
    panic!("{cmd} not found");
}

/// A container named `doctor-test-<test>-<pid>`, removed (`docker rm -f`) when dropped.
pub struct Container {
    pub name: String,
}

impl Container {
    /// `docker run -d --name ... OPTIONS IMAGE COMMAND...`
    pub fn run(test: &str, options: &[&str], command: &[&str]) -> Self {
        Self::run_image(test, image(), options, command)
    }

    /// [`run`](Self::run) with another locally built image, e.g. the MariaDB harness's
    /// (`mariadb_container::image()`: busybox with `/lib` and `/lib64` pointing into `usr/`, so a
    /// host program bind-mounted with `-v /usr:/usr:ro` runs in it).
    pub fn run_image(test: &str, image: &str, options: &[&str], command: &[&str]) -> Self {
        let name = format!("doctor-test-{test}-{}", std::process::id());
        // A container left by a killed earlier run of this test would block the name.
        let _ = Command::new("docker")
            .args(["rm", "-f", &name])
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .status();
        // The guard exists before the container, so a failed start is cleaned up too.
        let container = Container { name };
        let mut args = vec!["run", "-d", "--name", &container.name];
        args.extend_from_slice(options);
        args.push(image);
        args.extend_from_slice(command);
        docker(&args);
        container
    }

    /// `docker inspect -f FORMAT`.
    pub fn inspect(&self, format: &str) -> String {
        docker(&["inspect", "-f", format, &self.name])
    }

    /// The host pid of the main process.
    pub fn pid(&self) -> i32 {
        self.inspect("{{.State.Pid}}").parse().unwrap()
    }

    /// This container in a snapshot's `containers` section.
    pub fn find<'a>(&self, snap: &'a serde_json::Value) -> &'a serde_json::Value {
        assert_eq!(
            snap["containers"]["status"], "ok",
            "containers section: {}",
            snap["containers"]
        );
        snap["containers"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == self.name.as_str())
            .unwrap_or_else(|| panic!("{} not in the snapshot", self.name))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A user-defined Docker network named `doctor-test-<test>-<pid>` (containers on it reach each
/// other by name, as Compose's do), removed when dropped — after the containers on it, so drop
/// them first. Networks of this kind left by test processes that no longer run are removed
/// first, with the containers still on them (each network takes an address range from the
/// engine's pool).
pub struct Network {
    pub name: String,
}

impl Network {
    pub fn create(test: &str) -> Self {
        require_docker();
        let leftovers = docker(&[
            "network",
            "ls",
            "--filter",
            "name=^doctor-test-",
            "--format",
            "{{.Name}}",
        ]);
        for name in leftovers.lines() {
            let dead = name
                .rsplit('-')
                .next()
                .and_then(|p| p.parse::<u32>().ok())
                .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
            if dead {
                // Its containers were left by the same dead process.
                let attached = Command::new("docker")
                    .args(["network", "inspect", "-f"])
                    .arg("{{range .Containers}}{{.Name}} {{end}}")
                    .arg(name)
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                    .unwrap_or_default();
                for c in attached.split_whitespace() {
                    let _ = Command::new("docker")
                        .args(["rm", "-f", c])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status();
                }
                let _ = Command::new("docker")
                    .args(["network", "rm", name])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        let name = format!("doctor-test-{test}-{}", std::process::id());
        let _ = Command::new("docker")
            .args(["network", "rm", &name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        docker(&["network", "create", &name]);
        Network { name }
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["network", "rm", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Polls `cond` every 100 ms until it holds, failing the test with `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A second dockerd, private to one test: its own data root, exec root, pid file and socket, and
/// its own bridge interface (`--bridge=none` would make dockerd delete the host's `docker0`,
/// which the system daemon's containers use). It uses TEST-NET-1 addresses, no iptables, no
/// `ip_forward` change. Stopped and cleaned up when dropped.
pub struct PrivateDockerd {
    dir: tempfile::TempDir,
    pub socket: PathBuf,
    bridge: String,
    child: std::process::Child,
}

impl PrivateDockerd {
    pub fn start() -> Self {
        super::require("dockerd", "docker.io");
        super::require("ip", "iproute2");
        // Short: a unix socket path must fit in 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("dtd")
            .tempdir_in("/tmp")
            .unwrap();
        let bridge = format!("dtb{}", std::process::id() % 10_000_000);
        let _ = Command::new("ip")
            .args(["link", "del", &bridge])
            .stderr(Stdio::null())
            .status();
        super::run("ip", &["link", "add", &bridge, "type", "bridge"]);
        super::run("ip", &["addr", "add", "192.0.2.1/24", "dev", &bridge]);
        let socket = dir.path().join("sock");
        let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let child = Command::new(which("dockerd"))
            .args([
                "--data-root",
                &p("data"),
                "--exec-root",
                &p("exec"),
                "--pidfile",
                &p("pid"),
                "-H",
                &format!("unix://{}", socket.display()),
                "--bridge",
                &bridge,
                "--iptables=false",
                "--ip6tables=false",
                "--ip-forward=false",
                "--ip-masq=false",
                "--containerd-namespace",
                "doctor-test",
                "--containerd-plugins-namespace",
                "doctor-test-plugins",
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("dockerd starts");
        let d = PrivateDockerd {
            dir,
            socket,
            bridge,
            child,
        };
        let host = d.host();
        wait_until(
            "the private dockerd answers",
            Duration::from_secs(30),
            || {
                Command::new("docker")
                    .args(["-H", &host, "version"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            },
        );
        d
    }

    /// Its `DOCKER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, signal: &str) {
        super::run("kill", &[&format!("-{signal}"), &self.pid().to_string()]);
    }

    /// Stops it the way an administrator does (SIGTERM) and waits for it to exit.
    pub fn stop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-CONT", &self.pid().to_string()])
            .status();
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

impl Drop for PrivateDockerd {
    fn drop(&mut self) {
        self.stop();
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .status();
    }
}

/// The container tests run one at a time: two busy loops on a 2-core machine would measure
/// their contention, not doctor.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

pub fn exclusive() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `doctor snapshot` with extra environment and arguments; the JSON, the wall time and the output.
pub fn snapshot(interval: &str, env: &[(&str, &str)], args: &[&str]) -> (Value, Duration, Output) {
    let t = Instant::now();
    let out = super::doctor()
        .args(["snapshot", "--interval", interval, "--quiet"])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("doctor runs");
    let wall = t.elapsed();
    assert!(
        out.status.success(),
        "doctor snapshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = serde_json::from_slice(&out.stdout).expect("snapshot is JSON");
    (json, wall, out)
}

pub fn f64_of(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}
