//! A container's cgroup read from the host: CPU quota and throttling, memory limit, OOM kills.
//!
//! Docker's `--cpus` becomes a CFS quota: in every period (100 ms by default) the container may
//! run `quota` µs of CPU, then it is stopped until the next period. A container that hits its
//! quota is *throttled* — slow while the host looks idle — which neither `top` nor `docker stats`
//! shows. The kernel counts it in `cpu.stat`.
//!
//! References: the kernel's `Documentation/scheduler/sched-bwc.rst` (v1 `cpu.cfs_quota_us`,
//! `cpu.cfs_period_us`, `cpu.stat` `nr_periods`/`nr_throttled`/`throttled_time` in ns),
//! `Documentation/admin-guide/cgroup-v2.rst` (`cpu.max` "`$MAX $PERIOD`", `cpu.stat`
//! `nr_periods`/`nr_throttled`/`throttled_usec`, `memory.max`, `memory.events` `oom_kill`),
//! `Documentation/admin-guide/cgroup-v1/memory.rst` (`memory.limit_in_bytes`,
//! `memory.oom_control`), and proc(5) for `/proc/<pid>/cgroup` and `/proc/<pid>/mountinfo`.

use std::path::{Path, PathBuf};

/// A cgroup file system mounted on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The cgroup path mounted there (`/` on the host; deeper inside a cgroup namespace).
    pub root: String,
    pub point: String,
    /// `cgroup` (v1) or `cgroup2`.
    pub v2: bool,
    /// The v1 controllers it carries (`cpu`, `cpuacct`, `memory`, ...), from the super options.
    pub controllers: Vec<String>,
}

/// The cgroup mounts listed in a `mountinfo` file: fields 4 (root) and 5 (mount point), then,
/// after the ` - ` separator, the file system type and the super options.
#[must_use]
pub fn mounts(mountinfo: &str) -> Vec<Mount> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mut l = left.split(' ');
            let root = l.nth(3)?;
            let point = l.next()?;
            let mut r = right.split(' ');
            let fstype = r.next()?;
            let options = r.nth(1).unwrap_or("");
            let v2 = match fstype {
                "cgroup" => false,
                "cgroup2" => true,
                _ => return None,
            };
            Some(Mount {
                root: unescape(root),
                point: unescape(point),
                v2,
                controllers: if v2 {
                    Vec::new()
                } else {
                    options.split(',').map(str::to_owned).collect()
                },
            })
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\040`-style octal.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        if let Some(c) = code {
            out.push(char::from(c));
            rest = &rest[i + 4..];
        } else {
            out.push('\\');
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// Where one process's cgroup files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    /// 1 or 2.
    pub version: u8,
    /// The directory with `cpu.stat` and the quota files.
    pub cpu: PathBuf,
    /// The directory with the memory files.
    pub memory: Option<PathBuf>,
}

/// Finds the process's cgroup directories from its `/proc/<pid>/cgroup` (`hierarchy:controllers:path`
/// lines) and the host's mounts. A v1 `cpu` controller wins over the v2 hierarchy: on a hybrid
/// host (v1 controllers plus an empty `unified` v2 mount) that is where Docker puts the limits.
#[must_use]
pub fn locate(proc_cgroup: &str, mounts: &[Mount]) -> Option<Dirs> {
    if let Some(cpu) = v1_dir(proc_cgroup, mounts, "cpu") {
        return Some(Dirs {
            version: 1,
            cpu,
            memory: v1_dir(proc_cgroup, mounts, "memory"),
        });
    }
    let v2_path = proc_cgroup
        .lines()
        .find_map(|line| line.strip_prefix("0::"));
    let path = v2_path?;
    let mount = mounts.iter().find(|m| m.v2)?;
    let dir = join(mount, path)?;
    Some(Dirs {
        version: 2,
        cpu: dir.clone(),
        memory: Some(dir),
    })
}

/// [`locate`], or why the cgroup is not one doctor can read.
pub fn locate_or_why(proc_cgroup: &str, mounts: &[Mount]) -> Result<Dirs, String> {
    locate(proc_cgroup, mounts).ok_or_else(|| {
        format!(
            "its cgroup ({}) is not under a cgroup mount doctor can see",
            proc_cgroup.trim()
        )
    })
}

/// The directory of the v1 `controller`'s cgroup `path` (from `/proc/<pid>/cgroup`), under the
/// mount that carries that controller.
fn v1_controller_dir(mounts: &[Mount], controller: &str, path: &str) -> Option<PathBuf> {
    let mount = mounts
        .iter()
        .find(|m| !m.v2 && m.controllers.iter().any(|c| c == controller))?;
    join(mount, path)
}

/// The directory of one v1 controller (`cpuacct`, `blkio`, `pids`, ...) for the process whose
/// `/proc/<pid>/cgroup` is `proc_cgroup`; `None` when it is not listed or not mounted.
#[must_use]
pub fn v1_dir(proc_cgroup: &str, mounts: &[Mount], controller: &str) -> Option<PathBuf> {
    proc_cgroup.lines().find_map(|line| {
        let mut f = line.splitn(3, ':');
        let (_, controllers, path) = (f.next()?, f.next()?, f.next()?);
        controllers
            .split(',')
            .any(|c| c == controller)
            .then(|| v1_controller_dir(mounts, controller, path))?
    })
}

/// The directory of cgroup `path` under `mount`, or `None` when the path is outside what the
/// mount shows.
fn join(mount: &Mount, path: &str) -> Option<PathBuf> {
    let rel = if mount.root == "/" {
        path
    } else {
        path.strip_prefix(mount.root.as_str())?
    };
    let rel = rel.trim_start_matches('/');
    Some(if rel.is_empty() {
        PathBuf::from(&mount.point)
    } else {
        Path::new(&mount.point).join(rel)
    })
}

/// The throttling counters of `cpu.stat`, time in µs whatever the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttling {
    pub nr_periods: i64,
    pub nr_throttled: i64,
    pub throttled_us: i64,
}

/// `cpu.stat`: v1 gives `throttled_time` in ns, v2 `throttled_usec`. `None` when the counters are
/// missing (v2 without the `cpu` controller enabled for the group).
#[must_use]
pub fn cpu_stat(text: &str, version: u8) -> Option<Throttling> {
    let get = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == key).then(|| v.trim().parse::<i64>().ok())?
        })
    };
    let throttled_us = if version == 1 {
        get("throttled_time")? / 1000
    } else {
        get("throttled_usec")?
    };
    Some(Throttling {
        nr_periods: get("nr_periods")?,
        nr_throttled: get("nr_throttled")?,
        throttled_us,
    })
}

/// v2 `cpu.max`: `max 100000` (no limit) or `50000 100000` → (quota, period) in µs.
#[must_use]
pub fn cpu_max(text: &str) -> (Option<u64>, Option<u64>) {
    let mut f = text.split_ascii_whitespace();
    let quota = f.next().and_then(|q| q.parse().ok());
    let period = f.next().and_then(|p| p.parse().ok());
    (quota, period)
}

/// v1 `cpu.cfs_quota_us` (`-1` is no limit) → the quota in µs.
#[must_use]
pub fn cfs_quota(text: &str) -> Option<u64> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|q| *q > 0)
        .map(|q| q as u64)
}

/// A memory limit file: v2 `memory.max` says `max`, v1 `memory.limit_in_bytes` says
/// `PAGE_COUNTER_MAX` (9223372036854771712 with 4 KiB pages) when there is none. Anything from
/// 2^62 up is taken as no limit.
#[must_use]
pub fn memory_limit(text: &str) -> Option<u64> {
    text.trim().parse::<u64>().ok().filter(|l| *l < 1 << 62)
}

/// The `oom_kill` line of v1 `memory.oom_control` or v2 `memory.events` (kernel 4.13+).
#[must_use]
pub fn oom_kills(text: &str) -> Option<i64> {
    text.lines()
        .find_map(|l| l.strip_prefix("oom_kill ")?.trim().parse().ok())
}

/// The counters read at each end of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub throttling: Throttling,
    pub oom_kills: Option<i64>,
}

/// A whole file, or an error naming it.
pub fn read(path: impl AsRef<Path>) -> Result<String, String> {
    let path = path.as_ref();
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Reads the counters.
pub fn reading(dirs: &Dirs) -> Result<Reading, String> {
    let path = dirs.cpu.join("cpu.stat");
    let throttling = cpu_stat(&read(&path)?, dirs.version)
        .ok_or_else(|| format!("{} has no throttling counters", path.display()))?;
    let oom_file = if dirs.version == 1 {
        "memory.oom_control"
    } else {
        "memory.events"
    };
    let oom_kills = dirs
        .memory
        .as_ref()
        .and_then(|m| std::fs::read_to_string(m.join(oom_file)).ok())
        .and_then(|t| oom_kills(&t));
    Ok(Reading {
        throttling,
        oom_kills,
    })
}

/// The limits, read once at the end: (quota µs, period µs, memory limit bytes).
#[must_use]
pub fn limits(dirs: &Dirs) -> (Option<u64>, Option<u64>, Option<u64>) {
    let text = |dir: &Path, file: &str| std::fs::read_to_string(dir.join(file)).ok();
    let (quota, period) = if dirs.version == 1 {
        (
            text(&dirs.cpu, "cpu.cfs_quota_us").and_then(|t| cfs_quota(&t)),
            text(&dirs.cpu, "cpu.cfs_period_us").and_then(|t| t.trim().parse().ok()),
        )
    } else {
        text(&dirs.cpu, "cpu.max").map_or((None, None), |t| cpu_max(&t))
    };
    let memory_file = if dirs.version == 1 {
        "memory.limit_in_bytes"
    } else {
        "memory.max"
    };
    let memory = dirs
        .memory
        .as_ref()
        .and_then(|m| text(m, memory_file))
        .and_then(|t| memory_limit(&t));
    (quota, period, memory)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This project's Debian 12 machine: cgroup v1 with every controller on its own mount and an
    /// empty v2 hierarchy at `unified` (hybrid), as `/proc/self/mountinfo` lists them.
    const MOUNTINFO_V1: &str = "\
24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    /// `/proc/<pid>/cgroup` of a container on that machine.
    const PROC_CGROUP_V1: &str = "\
9:name=systemd:/docker/65d5cf20ed7d
4:memory:/docker/65d5cf20ed7d
2:cpuacct:/docker/65d5cf20ed7d
1:cpu:/docker/65d5cf20ed7d
0::/docker/65d5cf20ed7d
";

    #[test]
    fn locates_v1_dirs_on_a_hybrid_host() {
        let m = mounts(MOUNTINFO_V1);
        assert_eq!(m.len(), 5, "{m:?}");
        let dirs = locate(PROC_CGROUP_V1, &m).unwrap();
        assert_eq!(dirs.version, 1);
        assert_eq!(
            dirs.cpu,
            Path::new("/sys/fs/cgroup/cpu/docker/65d5cf20ed7d")
        );
        assert_eq!(
            dirs.memory.as_deref(),
            Some(Path::new("/sys/fs/cgroup/memory/docker/65d5cf20ed7d"))
        );
    }

    #[test]
    fn locates_combined_v1_controllers() {
        // Older distributions mount cpu and cpuacct together.
        let m =
            mounts("32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n");
        let dirs = locate("4:cpu,cpuacct:/docker/abc\n", &m).unwrap();
        assert_eq!(dirs.cpu, Path::new("/sys/fs/cgroup/cpu,cpuacct/docker/abc"));
        assert_eq!(dirs.memory, None);
    }

    #[test]
    fn locates_v2_dirs() {
        // A pure v2 host with the systemd cgroup driver.
        let m = mounts(
            "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
        );
        let dirs = locate("0::/system.slice/docker-0eaa810be5ff.scope\n", &m).unwrap();
        assert_eq!(dirs.version, 2);
        assert_eq!(
            dirs.cpu,
            Path::new("/sys/fs/cgroup/system.slice/docker-0eaa810be5ff.scope")
        );
        assert_eq!(dirs.memory, Some(dirs.cpu.clone()));
    }

    #[test]
    fn a_mount_of_a_sub_tree_is_joined_relative_to_its_root() {
        let m = mounts("30 23 0:26 /docker /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
        let dirs = locate("0::/docker/abc\n", &m).unwrap();
        assert_eq!(dirs.cpu, Path::new("/sys/fs/cgroup/abc"));
        assert_eq!(locate("0::/elsewhere/abc\n", &m), None);
        assert_eq!(locate("", &m), None);
    }

    #[test]
    fn mount_points_are_unescaped() {
        let m = mounts("30 23 0:26 / /mnt/with\\040space rw - cgroup2 cgroup2 rw\n");
        assert_eq!(m[0].point, "/mnt/with space");
    }

    #[test]
    fn cpu_stat_v1_and_v2() {
        // v1, read on this machine from a `--cpus 0.5` container burning a core.
        let v1 = "nr_periods 34\nnr_throttled 32\nthrottled_time 1580647062\nnr_bursts 0\nburst_time 0\n";
        assert_eq!(
            cpu_stat(v1, 1),
            Some(Throttling {
                nr_periods: 34,
                nr_throttled: 32,
                throttled_us: 1_580_647
            })
        );
        // v2, the format of cgroup-v2.rst.
        let v2 = "usage_usec 2101364\nuser_usec 2024148\nsystem_usec 77216\nnr_periods 40\nnr_throttled 21\nthrottled_usec 1204321\nnr_bursts 0\nburst_usec 0\n";
        assert_eq!(
            cpu_stat(v2, 2),
            Some(Throttling {
                nr_periods: 40,
                nr_throttled: 21,
                throttled_us: 1_204_321
            })
        );
        // v2 without the cpu controller: usage only.
        assert_eq!(
            cpu_stat("usage_usec 5\nuser_usec 3\nsystem_usec 2\n", 2),
            None
        );
    }

    #[test]
    fn quotas_and_limits() {
        assert_eq!(cpu_max("50000 100000\n"), (Some(50_000), Some(100_000)));
        assert_eq!(cpu_max("max 100000\n"), (None, Some(100_000)));
        assert_eq!(cfs_quota("-1\n"), None);
        assert_eq!(cfs_quota("50000\n"), Some(50_000));
        assert_eq!(memory_limit("9223372036854771712\n"), None);
        assert_eq!(memory_limit("max\n"), None);
        assert_eq!(memory_limit("33554432\n"), Some(33_554_432));
        assert_eq!(
            oom_kills("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"),
            Some(3)
        );
        assert_eq!(
            oom_kills("low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n"),
            Some(2)
        );
        assert_eq!(oom_kills("oom_kill_disable 0\nunder_oom 0\n"), None);
    }
}
