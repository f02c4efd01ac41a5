//! One end of the window: every running container as the engine describes it (inspect and
//! stats, all at once, the stats from the kernel's files where doctor can read them) and as the
//! host sees it (its network namespace's counters, its cgroup).

use super::engine::{ContainerRef, Engine, chain};
use super::{cgroup, kstats, netns};
use crate::collect::Failure;
use crate::snapshot::StatsSource;
use bollard::Docker;
use bollard::errors::Error as ApiError;
use bollard::models::{ContainerInspectResponse, ContainerStatsResponse};
use bollard::query_parameters::StatsOptions;
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::time::Instant;

impl Engine {
    /// Inspects every running container and reads its stats once, all at the same time. Also
    /// returns the whole list of running containers.
    ///
    /// With `local` (root on the engine's host) each container's stats are read from the kernel
    /// ([`kstats`]) right after its inspect answer gives its pid, which costs no engine round;
    /// the engine's stats API is asked only for a container whose local reading fails.
    fn observe(&self, local: Result<&kstats::Host, &str>) -> Result<Observation, Failure> {
        let deadline = Instant::now() + self.budget;
        let running = self.running(deadline)?;
        let mut list = running.clone();
        let mut notes = Vec::new();
        if list.len() > MAX_CONTAINERS {
            list.sort_by(|a, b| a.name.cmp(&b.name));
            notes.push(format!(
                "{} containers run; only the first {MAX_CONTAINERS} by name were read",
                list.len()
            ));
            list.truncate(MAX_CONTAINERS);
        }
        let docker = &self.docker;
        let tokio_deadline = tokio::time::Instant::from_std(deadline);
        let each = list.into_iter().map(|c| async move {
            let both = async {
                let inspect = docker.inspect_container(&c.id, None).await?;
                let pid = inspect
                    .state
                    .as_ref()
                    .and_then(|s| s.pid)
                    .filter(|p| *p > 0)
                    .and_then(|p| i32::try_from(p).ok());
                let kernel = match (local, pid) {
                    (Ok(host), Some(pid)) => Some(kstats::read_stats(host, pid, &c.id)),
                    (Ok(_), None) => Some(Err("no process".to_owned())),
                    (Err(_), _) => None,
                };
                let stats = match kernel {
                    Some(Ok(s)) => Stats {
                        answer: Ok(s),
                        source: StatsSource::Cgroup,
                        local_failure: None,
                    },
                    other => Stats {
                        answer: one_stats(docker, &c.id).await,
                        source: StatsSource::Engine,
                        local_failure: other.and_then(Result::err),
                    },
                };
                Ok::<_, ApiError>((inspect, stats))
            };
            let answer = tokio::time::timeout_at(tokio_deadline, both).await;
            (c, answer, Instant::now())
        });
        let answers = self.block_on(
            deadline,
            "inspect the containers",
            futures_util::future::join_all(each),
        )?;
        let mut observed = Vec::new();
        for (c, answer, at) in answers {
            match answer {
                Err(_) => notes.push(format!(
                    "{}: the engine did not answer for this container within {:.1} s; left out",
                    c.name,
                    self.budget.as_secs_f64()
                )),
                Ok(Err(ApiError::DockerResponseServerError {
                    status_code: 404, ..
                })) => {
                    notes.push(format!("{}: removed while being read; left out", c.name));
                }
                Ok(Err(e)) => notes.push(format!("{}: left out: {}", c.name, chain(&e))),
                Ok(Ok((inspect, stats))) => observed.push(Observed {
                    at,
                    inspect,
                    stats: stats
                        .answer
                        .map_err(|e| format!("no stats from the engine: {e}")),
                    source: stats.source,
                    local_failure: stats.local_failure,
                    container: c,
                }),
            }
        }
        Ok(Observation {
            observed,
            notes,
            running,
        })
    }
}

/// At most this many containers are read (two requests each, all at once), so a host running
/// thousands does not get thousands of simultaneous requests from doctor.
const MAX_CONTAINERS: usize = 200;

/// One container's stats answer and where it came from.
struct Stats {
    answer: Result<ContainerStatsResponse, String>,
    source: StatsSource,
    /// Why the kernel's files were not used, when doctor could have read them.
    local_failure: Option<String>,
}

/// What one reading of the engine found.
struct Observation {
    observed: Vec<Observed>,
    notes: Vec<String>,
    running: Vec<ContainerRef>,
}

/// One stats reading without the engine's wait for a second sample (`one-shot`, API 1.41+).
async fn one_stats(docker: &Docker, id: &str) -> Result<ContainerStatsResponse, String> {
    let options = StatsOptions {
        stream: false,
        one_shot: true,
    };
    match docker.stats(id, Some(options)).next().await {
        Some(Ok(s)) => Ok(s),
        Some(Err(e)) => Err(chain(&e)),
        None => Err("the engine closed the stats stream without a reading".to_owned()),
    }
}

/// One container as the engine described it at one end of the window.
pub(super) struct Observed {
    pub(super) container: ContainerRef,
    pub(super) at: Instant,
    pub(super) inspect: ContainerInspectResponse,
    pub(super) stats: Result<ContainerStatsResponse, String>,
    pub(super) source: StatsSource,
    pub(super) local_failure: Option<String>,
}

impl Observed {
    pub(super) fn pid(&self) -> Option<i32> {
        let pid = self.inspect.state.as_ref()?.pid?;
        (pid > 0).then_some(pid as i32)
    }
}

/// What the host shows of one container's network namespace at one end.
pub(super) enum NetView {
    Own {
        namespace: u64,
        counters: BTreeMap<String, i64>,
        at: Instant,
    },
    /// It is the host's namespace (`--network host`).
    Host,
    Failed(String),
}

pub(super) struct CgroupView {
    pub(super) dirs: cgroup::Dirs,
    /// The v1 blkio directory, whose processes [`blkio::processes_bytes`] reads.
    pub(super) blkio: Option<std::path::PathBuf>,
    pub(super) reading: cgroup::Reading,
    pub(super) at: Instant,
}

/// One container at one end of the window, engine and host views together.
pub(super) struct Reading {
    pub(super) observed: Observed,
    pub(super) net: NetView,
    pub(super) cgroup: Result<CgroupView, String>,
}

/// Facts about the host read once.
pub(super) struct HostContext {
    pub(super) mounts: Vec<cgroup::Mount>,
    /// The engine is on this host (a `unix://` socket), so its containers' files are these.
    pub(super) local: bool,
    own_namespace: Result<u64, String>,
    /// What reading the containers' stats from the kernel needs, or why doctor cannot.
    pub(super) kstats: Result<kstats::Host, String>,
}

impl HostContext {
    pub(super) fn read(engine: &Engine) -> Self {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo")
            .map(|t| cgroup::mounts(&t))
            .unwrap_or_default();
        let own_namespace = netns::own_namespace();
        let local = engine.target.url.starts_with("unix://");
        let kstats = if !local {
            Err(format!(
                "the engine at {} may be on another host",
                engine.target.shown()
            ))
        } else if !is_root() {
            Err("doctor is not running as root".to_owned())
        } else {
            own_namespace
                .clone()
                .and_then(|ns| kstats::Host::read(mounts.clone(), ns))
        };
        HostContext {
            mounts,
            local,
            own_namespace,
            kstats,
        }
    }

    fn net(&self, pid: Option<i32>) -> NetView {
        let Some(pid) = pid else {
            return NetView::Failed("no process: not running".to_owned());
        };
        let namespace = match netns::namespace(pid) {
            Ok(n) => n,
            Err(e) => return NetView::Failed(e),
        };
        if self
            .own_namespace
            .as_ref()
            .is_ok_and(|own| *own == namespace)
        {
            return NetView::Host;
        }
        match netns::counters(pid) {
            Ok(counters) => NetView::Own {
                namespace,
                counters,
                at: Instant::now(),
            },
            Err(e) => NetView::Failed(e),
        }
    }

    fn cgroup(&self, pid: Option<i32>) -> Result<CgroupView, String> {
        let pid = pid.ok_or("no process: not running")?;
        let text = cgroup::read(format!("/proc/{pid}/cgroup"))?;
        let dirs = cgroup::locate_or_why(&text, &self.mounts)?;
        let reading = cgroup::reading(&dirs)?;
        let blkio = (dirs.version == 1)
            .then(|| cgroup::v1_dir(&text, &self.mounts, "blkio"))
            .flatten();
        Ok(CgroupView {
            dirs,
            blkio,
            reading,
            at: Instant::now(),
        })
    }

    /// Both views of every running container.
    pub(super) fn observe(&self, engine: &Engine) -> Result<EndView, Failure> {
        let Observation {
            observed,
            notes,
            running,
        } = engine.observe(self.kstats.as_ref().map_err(String::as_str))?;
        let readings = observed
            .into_iter()
            .map(|o| {
                let pid = o.pid();
                Reading {
                    net: self.net(pid),
                    cgroup: self.cgroup(pid),
                    observed: o,
                }
            })
            .collect();
        Ok(EndView {
            readings,
            notes,
            running,
        })
    }
}

/// One end of the window: both views of every container read, the notes about those left out,
/// and the whole list of running containers.
pub(super) struct EndView {
    pub(super) readings: Vec<Reading>,
    pub(super) notes: Vec<String>,
    pub(super) running: Vec<ContainerRef>,
}

pub(super) fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
