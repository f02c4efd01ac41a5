//! Open descriptors against each process's open-files limit (`RLIMIT_NOFILE`), read at the end
//! of the window from `/proc/<pid>/fd` and `/proc/<pid>/limits` — what `ls /proc/PID/fd | wc -l`
//! and `prlimit --nofile --pid PID` show.
//!
//! Counting is the costly part, so it is bounded. Since Linux 6.2 `stat` of `/proc/<pid>/fd`
//! gives its number of entries as the size (`proc_fd_getattr`, commit f1f1f2569901 "fs/proc: add
//! the number of open files as size of /proc/<pid>/fd"), one `stat` per process: every process
//! is counted. On older kernels the size is 0 and the directory is listed, for the listeners'
//! owners and the busiest processes only. Limits are read for those, and for the processes
//! holding the most descriptors.

use super::mysql::locate::container_id;
use crate::snapshot::{OpenFiles, OpenFilesProcess, round2};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Beyond the listeners' owners and the busiest processes, the limits of this many processes
/// holding the most descriptors are read (one small file each).
const MOST_FDS: usize = 32;

/// How many processes the snapshot lists.
const TOP: usize = 10;

/// Wall-time budget for counting every process's descriptors (a `stat` each, about 5 µs here):
/// a host with tens of thousands of processes is counted in part, the listeners' owners and the
/// busiest processes first.
const COUNT_BUDGET: Duration = Duration::from_millis(20);

/// The soft and hard `Max open files` of a `/proc/<pid>/limits` text (`unlimited` reads as
/// `u64::MAX`; the kernel caps `RLIMIT_NOFILE` at `fs.nr_open`, so it never says so).
#[must_use]
pub fn parse_limits(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let mut f = line["Max open files".len()..].split_whitespace();
    let value = |s: &str| {
        if s == "unlimited" {
            Some(u64::MAX)
        } else {
            s.parse().ok()
        }
    };
    Some((value(f.next()?)?, value(f.next()?)?))
}

/// The cgroup that says where a process was started, from its `/proc/<pid>/cgroup`: the unified
/// hierarchy's path, or v1's `name=systemd` one when that says more (a hybrid setup), with the
/// systemd unit it names (the last `*.service` in the path).
#[must_use]
pub fn cgroup_and_unit(proc_cgroup: &str) -> (Option<String>, Option<String>) {
    let path_of = |prefix: &str| {
        proc_cgroup
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::to_owned)
    };
    let unified = path_of("0::");
    let systemd = path_of("1:name=systemd:").or_else(|| {
        proc_cgroup
            .lines()
            .find_map(|l| l.split_once(":name=systemd:").map(|(_, p)| p.to_owned()))
    });
    let path = match (unified, systemd) {
        (Some(u), Some(s)) if u == "/" && s != "/" => Some(s),
        (Some(u), _) => Some(u),
        (None, s) => s,
    }
    .filter(|p| !p.is_empty());
    let unit = path.as_deref().and_then(|p| {
        p.rsplit('/')
            .find(|s| s.ends_with(".service") && s.len() > ".service".len())
            .map(str::to_owned)
    });
    (path, unit)
}

fn pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The size `stat` gives `/proc/<pid>/fd`: its number of entries on Linux 6.2+, 0 before.
fn fd_dir_size(pid: i32) -> Option<u64> {
    std::fs::metadata(format!("/proc/{pid}/fd"))
        .ok()
        .map(|m| m.len())
}

fn fd_listing(pid: i32) -> Option<u64> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()
        .map(|d| d.count() as u64)
}

fn read_string(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Reads the open-files figures. `listening`: pids holding a listening socket; `busiest`: the
/// busiest processes of the window.
#[must_use]
pub fn read(listening: &BTreeSet<i32>, busiest: &[i32]) -> OpenFiles {
    let me = std::process::id() as i32;
    // doctor itself always has descriptors open: a size of 0 means an older kernel.
    let sized = fd_dir_size(me).is_some_and(|n| n > 0);
    let mut counts: BTreeMap<i32, u64> = BTreeMap::new();
    for pid in listening.iter().chain(busiest) {
        let n = if sized {
            fd_dir_size(*pid)
        } else {
            fd_listing(*pid)
        };
        if let Some(n) = n {
            counts.insert(*pid, n);
        }
    }
    let mut complete = sized;
    if sized {
        let started = Instant::now();
        for pid in pids() {
            if started.elapsed() > COUNT_BUDGET {
                complete = false;
                break;
            }
            if let Some(n) = fd_dir_size(pid) {
                counts.insert(pid, n);
            }
        }
    }
    counts.remove(&me);
    let mut by_fds: Vec<(u64, i32)> = counts.iter().map(|(p, n)| (*n, *p)).collect();
    by_fds.sort_unstable_by(|a, b| b.cmp(a));
    let wanted: BTreeSet<i32> = listening
        .iter()
        .chain(busiest)
        .copied()
        .chain(by_fds.iter().take(MOST_FDS).map(|(_, p)| *p))
        .filter(|p| counts.contains_key(p))
        .collect();
    let mut rows: Vec<OpenFilesProcess> = wanted
        .iter()
        .filter_map(|pid| {
            let (soft, hard) = parse_limits(&read_string(&format!("/proc/{pid}/limits"))?)?;
            let fds = counts[pid];
            Some(OpenFilesProcess {
                pid: *pid,
                name: String::new(),
                fds,
                soft_limit: soft,
                hard_limit: hard,
                used_pct: if soft == 0 {
                    100.0
                } else {
                    round2(fds as f64 / soft as f64 * 100.0)
                },
                listens: listening.contains(pid),
                cgroup: None,
                unit: None,
                container_id: None,
            })
        })
        .collect();
    let limits_read = rows.len() as u32;
    rows.sort_by(|a, b| {
        b.used_pct
            .total_cmp(&a.used_pct)
            .then(b.fds.cmp(&a.fds))
            .then(a.pid.cmp(&b.pid))
    });
    rows.truncate(TOP);
    for row in &mut rows {
        row.name = read_string(&format!("/proc/{}/comm", row.pid))
            .map(|s| s.trim_end().to_owned())
            .unwrap_or_default();
        if let Some(text) = read_string(&format!("/proc/{}/cgroup", row.pid)) {
            (row.cgroup, row.unit) = cgroup_and_unit(&text);
            row.container_id = container_id(&text);
        }
    }
    OpenFiles {
        method: if sized { "fd-dir-size" } else { "listing" }.to_owned(),
        counted: counts.len() as u32,
        complete,
        limits_read,
        top: rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/proc/<pid>/limits` as Linux 6.x prints it.
    const LIMITS: &str = "\
Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max open files            64                   524288               files     
Max locked memory         8388608              8388608              bytes     
";

    #[test]
    fn open_files_limits() {
        assert_eq!(parse_limits(LIMITS), Some((64, 524_288)));
        assert_eq!(
            parse_limits(
                "Max open files            unlimited            unlimited            files\n"
            ),
            Some((u64::MAX, u64::MAX))
        );
        assert_eq!(parse_limits("Max processes 10 10 processes\n"), None);
    }

    #[test]
    fn unit_and_container_from_the_cgroup() {
        let v2 = "0::/system.slice/nginx.service\n";
        assert_eq!(
            cgroup_and_unit(v2),
            (
                Some("/system.slice/nginx.service".into()),
                Some("nginx.service".into())
            )
        );
        // A hybrid host: the unified path is the root, the name=systemd one says more.
        let hybrid =
            "12:memory:/system.slice/app.service\n1:name=systemd:/system.slice/app.service\n0::/\n";
        assert_eq!(cgroup_and_unit(hybrid).1, Some("app.service".into()));
        let docker = "0::/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope\n";
        assert_eq!(cgroup_and_unit(docker).1, None);
        assert_eq!(container_id(docker), Some("0123456789ab".into()));
        let user = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/api.service\n";
        assert_eq!(cgroup_and_unit(user).1, Some("api.service".into()));
        assert_eq!(cgroup_and_unit("0::/\n"), (Some("/".into()), None));
    }
}
