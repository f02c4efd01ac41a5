//! The containers' part of a watch sample: each running container's CPU, read from its cgroup.
//!
//! The engine's stats API answers in 1 s rounds and costs the engine a stats collection per
//! container; the cgroup's own CPU counter (v2 `cpu.stat` `usage_usec`, v1 `cpuacct.usage`) is
//! one small file per container, kept open. The containers are listed once, from the engine,
//! at the start of the run (`Sampler::start`, for the log files too); one started later is not followed (the run's end reading still
//! shows it in `containers`).

use super::kept::Kept;
use crate::collect::docker::{ContainerRef, cgroup};
use std::path::{Path, PathBuf};

/// At most this many containers are followed.
const MAX_CONTAINERS: usize = 50;

/// One followed container.
struct Followed {
    name: String,
    file: Kept,
    v2: bool,
    prev_ns: Option<u64>,
}

pub struct Cgroups {
    followed: Vec<Followed>,
    pub notes: Vec<String>,
}

impl Cgroups {
    /// Opens the CPU counters of the `running` containers (as the engine listed them at the
    /// start of the run).
    pub fn start(running: &[ContainerRef]) -> Cgroups {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mounts = cgroup::mounts(&mountinfo);
        let mut followed = Vec::new();
        let mut missing = Vec::new();
        for c in running.iter().take(MAX_CONTAINERS) {
            match cpu_file(&mounts, &c.id) {
                Some((path, v2)) => match Kept::open(&path) {
                    Ok(file) => followed.push(Followed {
                        name: c.name.clone(),
                        file,
                        v2,
                        prev_ns: None,
                    }),
                    Err(_) => missing.push(c.name.clone()),
                },
                None => missing.push(c.name.clone()),
            }
        }
        let mut notes = Vec::new();
        if !missing.is_empty() {
            notes.push(format!(
                "no CPU series for {} (their cgroup's CPU counter was not found or not readable: \
                 not root, or an engine on another host)",
                missing.join(", ")
            ));
        }
        let mut out = Cgroups { followed, notes };
        out.sample(0.0, &mut Vec::new());
        out
    }

    /// Each container's CPU over the last `seconds`, % of one core (as `docker stats`).
    pub fn sample(&mut self, seconds: f64, out: &mut Vec<(String, f64)>) {
        for f in &mut self.followed {
            let Some(text) = f.file.read() else { continue };
            let ns = if f.v2 {
                text.lines()
                    .find_map(|l| l.strip_prefix("usage_usec "))
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|us| us.saturating_mul(1000))
            } else {
                text.trim().parse::<u64>().ok()
            };
            let Some(ns) = ns else { continue };
            if let Some(prev) = f.prev_ns.replace(ns)
                && seconds > 0.0
                && ns >= prev
            {
                out.push((
                    format!("containers.containers[{}].cpu_pct", f.name),
                    crate::snapshot::round2((ns - prev) as f64 / (seconds * 1e9) * 100.0),
                ));
            }
        }
    }
}

/// The container's CPU counter under the cgroup mounts: Docker names the cgroup after the full
/// id under both its cgroup drivers (`docker/<id>` with cgroupfs, `system.slice/docker-<id>.scope`
/// with systemd).
fn cpu_file(mounts: &[cgroup::Mount], id: &str) -> Option<(PathBuf, bool)> {
    let dirs = [
        format!("docker/{id}"),
        format!("system.slice/docker-{id}.scope"),
    ];
    for m in mounts {
        let (file, v2) = if m.v2 {
            ("cpu.stat", true)
        } else if m.controllers.iter().any(|c| c == "cpuacct") {
            ("cpuacct.usage", false)
        } else {
            continue;
        };
        for d in &dirs {
            let path = Path::new(&m.point).join(d).join(file);
            if path.exists() {
                return Some((path, v2));
            }
        }
    }
    None
}
