//! A genuinely slow block device for tests: a FUSE filesystem whose every read, write and
//! fsync waits a set time (`tests/support/slowfs.py`, Python fusepy), a file on it attached to
//! a loop device, `mkfs.ext4` on that, mounted. Whatever sits on the mount (a MariaDB datadir)
//! waits on real block I/O that the kernel accounts to the loop device, so `iostat -x` and
//! `/proc/diskstats` see the latency, and the server sees it in its own counters.
//!
//! Why FUSE under a loop device rather than device-mapper's `delay` target: this kernel has
//! no device-mapper (`dmsetup targets` cannot open /dev/mapper/control), while FUSE and loop
//! devices are in every distribution kernel and need nothing but root. The delay can be changed
//! while mounted ([`SlowDev::set_delay`]), so a test sets up at full speed and slows down only
//! the part it measures.
//!
//! ```ignore
//! let dev = SlowDev::new(512, Duration::from_secs(120));
//! let db = MariaDb::start_in(dev.mount_point(), 33306, &[]);
//! dev.set_delay(Duration::from_millis(10));
//! ```
//!
//! Teardown on drop (also while a test panics): unmount the ext4, detach the loop device,
//! unmount the FUSE filesystem, end the Python process, delete the directory. Bounded: the
//! FUSE process unmounts itself and exits after `max_life` whatever happens to the test, and
//! dies with the test thread (`setpriv --pdeathsig`). Mounts left behind by a killed test
//! process are cleaned up by the next [`SlowDev::new`] (their owner pid is in the path). Each
//! device has its own directory (`/var/tmp/doctor-slowdev-<pid>-XXXXXX`) and loop device
//! (`losetup --find`). A missing tool fails loudly with the package to install.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PREFIX: &str = "doctor-slowdev-";
const BASE: &str = "/var/tmp";

pub struct SlowDev {
    dir: Option<tempfile::TempDir>,
    fs: Option<Child>,
    /// `/dev/loopN`
    loop_dev: String,
    mounted: bool,
}

/// `cmd args`, failing the test with its stderr; a missing command names its package.
fn run(cmd: &str, args: &[&str], package: &str) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `{cmd}` ({e}): install `{package}` (bash tests/run.sh installs it)")
    });
    assert!(
        out.status.success(),
        "`{cmd} {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The Python that has fusepy: Debian's (`python3-fusepy`, module `fusepy`) at
/// `/usr/bin/python3`, else the one on `PATH` (`PyPI`'s `fusepy`, module `fuse`).
fn python() -> String {
    for py in ["/usr/bin/python3", "python3"] {
        let ok = Command::new(py)
            .args([
                "-c",
                "try:\n import fusepy\nexcept ImportError:\n import fuse",
            ])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return py.to_owned();
        }
    }
    panic!(
        "fusepy is missing: apt-get install python3-fusepy (it brings libfuse2), or pip install \
         fusepy with libfuse2 installed (bash tests/run.sh installs it)"
    );
}

/// Mount points in this mount namespace.
fn mount_points() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_owned))
        .collect()
}

impl SlowDev {
    /// A `size_mib` ext4 filesystem on a loop device over a FUSE file, mounted, at full speed
    /// (delay 0). The FUSE process ends by itself after `max_life`.
    pub fn new(size_mib: u64, max_life: Duration) -> SlowDev {
        assert!(
            Path::new("/dev/fuse").exists(),
            "/dev/fuse is missing: this kernel has no FUSE (modprobe fuse)"
        );
        sweep_leftovers();
        let python = python();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir_in(BASE)
            .expect("/var/tmp is writable");
        let d = dir.path();
        let (fuse, mnt) = (d.join("fuse"), d.join("mnt"));
        std::fs::create_dir(&fuse).unwrap();
        std::fs::create_dir(&mnt).unwrap();
        let size = size_mib << 20;
        std::fs::File::create(d.join("store"))
            .unwrap()
            .set_len(size)
            .unwrap();
        std::fs::write(d.join("delay_ms"), "0").unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/slowfs.py");
        let log = std::fs::File::create(d.join("slowfs.log")).unwrap();
        let fs = Command::new("setpriv")
            .args(["--pdeathsig", "KILL", "--", &python])
            .arg(&script)
            .arg(&fuse)
            .arg(d.join("store"))
            .arg(size.to_string())
            .arg(d.join("delay_ms"))
            .arg(max_life.as_secs().to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start slowfs.py under setpriv (util-linux)");
        let mut dev = SlowDev {
            dir: Some(dir),
            fs: Some(fs),
            loop_dev: String::new(),
            mounted: false,
        };
        dev.wait_for_fuse();
        let image = dev.backing_file();
        let found = run(
            "losetup",
            &["--find", "--show", image.to_str().unwrap()],
            "mount",
        );
        found.trim().clone_into(&mut dev.loop_dev);
        // Everything initialised now, at full speed: no lazy inode-table or journal zeroing
        // in the background later, while the test measures.
        run(
            "mkfs.ext4",
            &[
                "-q",
                "-F",
                "-E",
                "lazy_itable_init=0,lazy_journal_init=0",
                &dev.loop_dev,
            ],
            "e2fsprogs",
        );
        run("mount", &[&dev.loop_dev, mnt.to_str().unwrap()], "mount");
        dev.mounted = true;
        dev
    }

    fn wait_for_fuse(&mut self) {
        let fuse = self.path().join("fuse");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(Ok(Some(status))) = self.fs.as_mut().map(Child::try_wait) {
                panic!(
                    "slowfs.py exited ({status}) before mounting: {}",
                    std::fs::read_to_string(self.path().join("slowfs.log")).unwrap_or_default()
                );
            }
            let mounted = mount_points().iter().any(|p| Path::new(p) == fuse);
            if mounted && self.backing_file().exists() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "slowfs.py did not mount {} within 15 s: {}",
                fuse.display(),
                std::fs::read_to_string(self.path().join("slowfs.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn path(&self) -> &Path {
        self.dir.as_ref().expect("not torn down").path()
    }

    /// Where the slow filesystem is mounted.
    pub fn mount_point(&self) -> PathBuf {
        self.path().join("mnt")
    }

    /// The loop device's name as `/sys/block` and doctor's `disks` name it (`loop3`).
    pub fn device(&self) -> String {
        self.loop_dev.trim_start_matches("/dev/").to_owned()
    }

    /// The FUSE file behind the loop device.
    pub fn backing_file(&self) -> PathBuf {
        self.path().join("fuse/disk.img")
    }

    /// Every read, write and fsync of the device waits `delay` from now on (the FUSE process
    /// reads the setting every 100 ms; this returns once it has).
    pub fn set_delay(&self, delay: Duration) {
        std::fs::write(self.path().join("delay_ms"), delay.as_millis().to_string()).unwrap();
        std::thread::sleep(Duration::from_millis(250));
    }
}

impl Drop for SlowDev {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else { return };
        let _ = std::fs::write(dir.path().join("delay_ms"), "0");
        std::thread::sleep(Duration::from_millis(150));
        if self.mounted {
            unmount(&dir.path().join("mnt"));
        }
        if !self.loop_dev.is_empty() {
            let _ = Command::new("losetup")
                .args(["-d", &self.loop_dev])
                .status();
        }
        unmount(&dir.path().join("fuse"));
        if let Some(mut fs) = self.fs.take() {
            // Unmounted, libfuse leaves its loop and the process exits; give it a moment.
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && matches!(fs.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = fs.kill();
            let _ = fs.wait();
        }
        drop(dir);
    }
}

/// `umount`, retried for a few seconds while busy (a process still closing its files), then
/// lazily (detached now, freed when the last user goes).
fn unmount(point: &Path) {
    let mounted = |p: &Path| mount_points().iter().any(|m| Path::new(m) == p);
    let deadline = Instant::now() + Duration::from_secs(5);
    while mounted(point) {
        let ok = Command::new("umount")
            .arg(point)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return;
        }
        if Instant::now() > deadline {
            let _ = Command::new("umount").arg("-l").arg(point).status();
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Cleans up the devices of test processes that were killed before their teardown ran: their
/// mounts under `/var/tmp/doctor-slowdev-<pid>-*` whose pid is gone.
fn sweep_leftovers() {
    let mut dirs: Vec<PathBuf> = mount_points()
        .iter()
        .filter_map(|p| {
            let rest = p.strip_prefix(&format!("{BASE}/{PREFIX}"))?;
            let pid = rest.split('-').next()?;
            let alive = Path::new("/proc").join(pid).exists();
            let dir = Path::new(p).parent()?.to_path_buf();
            (!alive).then_some(dir)
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        unmount(&dir.join("mnt"));
        let listing = Command::new("losetup")
            .args(["--list", "--noheadings", "--output", "NAME,BACK-FILE"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for line in listing.lines() {
            if let Some((dev, file)) = line.split_once(' ')
                && Path::new(file.trim()).starts_with(&dir)
            {
                let _ = Command::new("losetup").args(["-d", dev.trim()]).status();
            }
        }
        unmount(&dir.join("fuse"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
