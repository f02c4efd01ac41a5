//! Docker containers, through the engine API (bollard) and the host's own view of each container.
//!
//! At each end of the window every running container is inspected and its stats are read, all
//! containers at once; `docker stats`' figures are computed from the two readings ([`stats`]).
//! The stats come from the kernel's files when doctor is root on the engine's host ([`kstats`]:
//! no wait for the engine's 1 s stats round), else from the engine's one-shot stats API (30
//! containers cost one round, not 30). From the host side, each container's network namespace
//! ([`netns`]) and cgroup ([`cgroup`]) are read at both ends too.
//!
//! Async stays inside this module: [`Engine`] owns a current-thread tokio runtime and blocks on
//! it, so the rest of doctor is synchronous. Every call to the engine is bounded by a deadline;
//! a hung engine becomes an `error` section with the reason, and the remote-collector deadline
//! ([`super::remote`]) is the backstop.
//!
//! With a [`LogRequest`], the end reading also reads the running containers' output through the
//! logs API ([`logs`]), on the same connection and with the same list of containers; the sources
//! go to the `logs` section ([`split`]).

mod blkio;
pub mod cgroup;
mod kstats;
mod logs;
mod netns;
mod stats;

pub use logs::{LogRequest, MAX_CONTAINERS as MAX_LOG_CONTAINERS};

use super::Failure;
use super::logs::{FromContainers, LogsRead};
use super::remote::Remote;
use crate::snapshot::{
    Container, ContainerCgroup, ContainerNet, Containers, Counter, Engine as EngineFacts, Section,
    StatsSource, pct, round2,
};
use bollard::errors::Error as ApiError;
use bollard::models::{ContainerInspectResponse, ContainerStatsResponse};
use bollard::query_parameters::StatsOptions;
use bollard::{ClientVersion, Docker};
use futures_util::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::{Duration, Instant};

/// The engine's default socket, as the docker CLI uses it when `DOCKER_HOST` is not set.
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// At most this many containers are read (two requests each, all at once), so a host running
/// thousands does not get thousands of simultaneous requests from doctor.
const MAX_CONTAINERS: usize = 200;

/// The Docker collector, run as a [`Remote`] on its own thread.
pub struct Collector {
    budget: Duration,
    interval: Duration,
    lead: Duration,
    logs: Option<LogRequest>,
}

impl Collector {
    /// `budget` bounds each reading (connecting, listing, inspecting and reading stats); keep it
    /// below the remote deadline's grace so a hung engine is reported with its own reason.
    /// `interval` is the window's length.
    #[must_use]
    pub fn new(budget: Duration, interval: Duration) -> Self {
        Collector {
            budget,
            interval,
            lead: Duration::ZERO,
            logs: None,
        }
    }

    /// Also read the containers' output at the window's end, for the `logs` section.
    #[must_use]
    pub fn with_logs(mut self, request: LogRequest) -> Self {
        self.logs = Some(request);
        self
    }
}

/// The engine's stats cadence: Engine 20.10 collects stats in rounds, each followed by a 1 s
/// sleep, and a stats request (one-shot or not) is answered at the next round. The request that
/// wakes an idle engine is answered at once; the others sent with it wait for the next round
/// (moby `daemon/stats/collector.go`, `Collector.Run`).
const ENGINE_STATS_INTERVAL: Duration = Duration::from_secs(1);

/// The `containers` section with the collector's notes moved into the envelope, and what the
/// `logs` section gets of the containers' output: the sources read, or why there are none (the
/// engine absent, failed or hung, as the `containers` section says).
#[must_use]
pub fn split(s: Section<Collected>) -> (Section<Containers>, FromContainers) {
    let Section {
        status,
        message,
        mut notes,
        elapsed_ms,
        data,
    } = s;
    let why = || message.clone().unwrap_or_default();
    let mut from = match status {
        crate::snapshot::Status::Ok => FromContainers::Off,
        crate::snapshot::Status::Skipped => FromContainers::Absent(why()),
        crate::snapshot::Status::Error => FromContainers::Failed(why()),
    };
    let data = data.map(|c| {
        notes.extend(c.notes);
        if let Some(rx) = c.logs {
            from = FromContainers::Pending(rx);
        }
        c.containers
    });
    let section = Section {
        status,
        message,
        notes,
        elapsed_ms,
        data,
    };
    (section, from)
}

/// The collector's result: the section's fields, the notes for its envelope, and the containers'
/// output when it was asked for.
pub struct Collected {
    containers: Containers,
    notes: Vec<String>,
    logs: Option<std::sync::mpsc::Receiver<LogsRead>>,
}

/// Where to reach the engine, decided as the docker CLI decides it.
#[derive(Debug, Clone)]
struct Target {
    url: String,
    /// Named by `DOCKER_HOST`: a missing socket is then an error, not "no Docker here".
    explicit: bool,
}

impl Target {
    fn from_env() -> Self {
        match std::env::var("DOCKER_HOST") {
            Ok(url) if !url.is_empty() => Target {
                url,
                explicit: true,
            },
            _ => Target {
                url: DEFAULT_HOST.to_owned(),
                explicit: false,
            },
        }
    }

    /// The URL without credentials (`tcp://user:secret@host` → `tcp://host`).
    fn shown(&self) -> String {
        match self.url.split_once("://") {
            Some((scheme, rest)) => match rest.split_once('@') {
                Some((_, host)) if !scheme.starts_with("unix") => format!("{scheme}://{host}"),
                _ => self.url.clone(),
            },
            None => self.url.clone(),
        }
    }
}

/// A bollard client for `target` speaking API `version`. bollard's own timeout is whole seconds;
/// doctor's deadline ([`Engine::block_on`]) is the one that normally fires.
fn client(target: &Target, budget: Duration, version: &ClientVersion) -> Result<Docker, Failure> {
    let secs = budget.as_secs().max(1) + 1;
    let url = target.url.as_str();
    let result = if url.starts_with("unix://") {
        Docker::connect_with_unix(url, secs, version)
    } else if url.starts_with("tcp://") || url.starts_with("http://") {
        Docker::connect_with_http(url, secs, version)
    } else {
        return Err(Failure::Error(format!(
            "DOCKER_HOST={} is not an address doctor can use: give unix:///path/to/docker.sock or tcp://host:port",
            target.shown()
        )));
    };
    result.map_err(|e| match e {
        ApiError::SocketNotFoundError(path) if target.explicit => Failure::Error(format!(
            "DOCKER_HOST names {path}, but there is no socket there: is the Docker daemon running?"
        )),
        ApiError::SocketNotFoundError(path) => Failure::Skipped(format!(
            "no Docker daemon here: {path} does not exist (set DOCKER_HOST if it listens elsewhere)"
        )),
        e => Failure::Error(format!(
            "cannot set up a client for {}: {}",
            target.shown(),
            chain(&e)
        )),
    })
}

/// An error with its causes, which is where bollard's connection errors keep the useful part.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The first `std::io::Error` among an error's causes.
fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = s.source();
    }
    None
}

/// A failed call, worded for the user: what was asked of which engine and the likely cause.
fn api_failure(target: &Target, what: &str, e: &ApiError) -> Failure {
    let host = target.shown();
    let why = match (e, io_kind(e)) {
        (
            ApiError::DockerResponseServerError {
                status_code,
                message,
            },
            _,
        ) => {
            format!("the engine answered {status_code}: {}", message.trim())
        }
        (_, Some(std::io::ErrorKind::ConnectionRefused)) => {
            "connection refused: nothing listens there (is the Docker daemon running?)".to_owned()
        }
        (_, Some(std::io::ErrorKind::PermissionDenied)) => {
            "permission denied (run doctor as root or as a member of the docker group)".to_owned()
        }
        (ApiError::RequestTimeoutError, _) => "timed out".to_owned(),
        _ => chain(e),
    };
    Failure::Error(format!(
        "cannot {what} from the Docker engine at {host}: {why}"
    ))
}

/// `1.41` → the API version; `None` for anything else.
fn parse_version(s: &str) -> Option<ClientVersion> {
    let (major, minor) = s.trim().split_once('.')?;
    Some(ClientVersion {
        major_version: major.parse().ok()?,
        minor_version: minor.parse().ok()?,
    })
}

/// The newest API the engine accepts, from its refusal of a newer client. The engine's words
/// (moby `api/server/middleware/version.go`): "client version 1.53 is too new. Maximum supported
/// API version is 1.41".
fn max_supported(message: &str) -> Option<ClientVersion> {
    let (_, rest) = message.split_once("Maximum supported API version is ")?;
    parse_version(rest.split_whitespace().next()?.trim_end_matches('.'))
}

fn version_text(v: &ClientVersion) -> String {
    format!("{}.{}", v.major_version, v.minor_version)
}

/// A running container as other sources (the container logs) need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRef {
    /// The full id.
    pub id: String,
    /// The name without the leading slash.
    pub name: String,
    pub image: String,
}

/// A connection to the engine and the runtime that drives it.
pub struct Engine {
    rt: tokio::runtime::Runtime,
    docker: Docker,
    target: Target,
    version: Option<String>,
    api_version: ClientVersion,
    budget: Duration,
}

impl Engine {
    /// Connects to `DOCKER_HOST` or the default socket and agrees on the API version: the newest
    /// bollard speaks, or the engine's newest when that is older (an Engine 20.10 refuses
    /// requests for a newer API instead of downgrading them).
    pub fn connect(budget: Duration) -> Result<Engine, Failure> {
        let target = Target::from_env();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::Error(format!("cannot start the Docker client runtime: {e}")))?;
        let newest = bollard::API_DEFAULT_VERSION;
        let docker = client(&target, budget, newest)?;
        let mut engine = Engine {
            rt,
            docker,
            target,
            version: None,
            api_version: *newest,
            budget,
        };
        let deadline = Instant::now() + budget;
        let first = engine.block_on(deadline, "read the version", engine.docker.version())?;
        let answer = match first {
            Ok(v) => {
                let server = v.api_version.as_deref().and_then(parse_version);
                if let Some(s) = server.filter(|s| key(s) < key(newest)) {
                    engine.reconnect(s)?;
                }
                v
            }
            Err(e) => {
                let older = match &e {
                    ApiError::DockerResponseServerError {
                        status_code: 400,
                        message,
                    } => max_supported(message),
                    _ => None,
                };
                let Some(older) = older else {
                    return Err(api_failure(&engine.target, "read the version", &e));
                };
                engine.reconnect(older)?;
                engine
                    .block_on(deadline, "read the version", engine.docker.version())?
                    .map_err(|e| api_failure(&engine.target, "read the version", &e))?
            }
        };
        engine.version = answer.version;
        Ok(engine)
    }

    fn reconnect(&mut self, version: ClientVersion) -> Result<(), Failure> {
        self.docker = client(&self.target, self.budget, &version)?;
        self.api_version = version;
        Ok(())
    }

    /// Runs `future` on the runtime until `deadline`; a missed deadline is an error naming what
    /// was asked.
    pub fn block_on<T>(
        &self,
        deadline: Instant,
        what: &str,
        future: impl Future<Output = T>,
    ) -> Result<T, Failure> {
        let deadline = tokio::time::Instant::from_std(deadline);
        self.rt
            .block_on(async { tokio::time::timeout_at(deadline, future).await })
            .map_err(|_| {
                Failure::Error(format!(
                    "the Docker engine at {} did not answer within {:.1} s when asked to {what} (hung or overloaded?)",
                    self.target.shown(),
                    self.budget.as_secs_f64()
                ))
            })
    }

    /// The bollard client, for calls made through [`Engine::block_on`].
    pub fn client(&self) -> &Docker {
        &self.docker
    }

    /// The running containers (`docker ps`).
    pub fn running(&self, deadline: Instant) -> Result<Vec<ContainerRef>, Failure> {
        let list = self
            .block_on(
                deadline,
                "list the containers",
                self.docker.list_containers(None),
            )?
            .map_err(|e| api_failure(&self.target, "list the containers", &e))?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let name = c
                    .names
                    .as_ref()
                    .and_then(|n| n.first())
                    .map(|n| n.trim_start_matches('/').to_owned());
                let id = c.id?;
                Some(ContainerRef {
                    name: name.unwrap_or_else(|| short(&id).to_owned()),
                    image: c.image.unwrap_or_default(),
                    id,
                })
            })
            .collect())
    }

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

/// Orders API versions.
fn key(v: &ClientVersion) -> (usize, usize) {
    (v.major_version, v.minor_version)
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

/// `docker ps`'s short id.
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// One container as the engine described it at one end of the window.
struct Observed {
    container: ContainerRef,
    at: Instant,
    inspect: ContainerInspectResponse,
    stats: Result<ContainerStatsResponse, String>,
    source: StatsSource,
    local_failure: Option<String>,
}

impl Observed {
    fn pid(&self) -> Option<i32> {
        let pid = self.inspect.state.as_ref()?.pid?;
        (pid > 0).then_some(pid as i32)
    }
}

/// What the host shows of one container's network namespace at one end.
enum NetView {
    Own {
        namespace: u64,
        counters: BTreeMap<String, i64>,
        at: Instant,
    },
    /// It is the host's namespace (`--network host`).
    Host,
    Failed(String),
}

struct CgroupView {
    dirs: cgroup::Dirs,
    /// The v1 blkio directory, whose processes [`blkio::processes_bytes`] reads.
    blkio: Option<std::path::PathBuf>,
    reading: cgroup::Reading,
    at: Instant,
}

/// One container at one end of the window, engine and host views together.
struct Reading {
    observed: Observed,
    net: NetView,
    cgroup: Result<CgroupView, String>,
}

/// Facts about the host read once.
struct HostContext {
    mounts: Vec<cgroup::Mount>,
    /// The engine is on this host (a `unix://` socket), so its containers' files are these.
    local: bool,
    own_namespace: Result<u64, String>,
    /// What reading the containers' stats from the kernel needs, or why doctor cannot.
    kstats: Result<kstats::Host, String>,
}

impl HostContext {
    fn read(engine: &Engine) -> Self {
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
    fn observe(&self, engine: &Engine) -> Result<EndView, Failure> {
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
struct EndView {
    readings: Vec<Reading>,
    notes: Vec<String>,
    running: Vec<ContainerRef>,
}

pub struct Start {
    engine: Engine,
    host: HostContext,
    readings: BTreeMap<String, Reading>,
}

impl Remote for Collector {
    type Start = Start;
    type Data = Collected;

    fn begin(&mut self) -> Result<Start, Failure> {
        let engine = Engine::connect(self.budget)?;
        let host = HostContext::read(&engine);
        // Notes about containers that could not be read at the start are not kept: those still
        // running at the end are read then, and say what they lack.
        let t = Instant::now();
        let readings = host.observe(&engine)?.readings;
        // The end reading will likely wait as long for the engine as this one did: start it that
        // much before the window's end, so the snapshot is not late by an engine round.
        self.lead = (t.elapsed() + Duration::from_millis(50))
            .min(ENGINE_STATS_INTERVAL + Duration::from_millis(100))
            .min(self.interval / 2);
        let readings = readings
            .into_iter()
            .map(|r| (r.observed.container.id.clone(), r))
            .collect();
        Ok(Start {
            engine,
            host,
            readings,
        })
    }

    fn lead(&self) -> Duration {
        self.lead
    }

    fn finish(&mut self, start: Start, _seconds: f64) -> Result<Collected, Failure> {
        let Start {
            engine,
            host,
            readings: mut before,
        } = start;
        let EndView {
            readings: after,
            mut notes,
            running,
        } = host.observe(&engine)?;

        // One thread per namespace enters it; containers sharing a namespace share the answer.
        let mut entering = BTreeMap::new();
        for r in &after {
            if let (NetView::Own { namespace, .. }, Some(pid)) = (&r.net, r.observed.pid()) {
                entering
                    .entry(namespace)
                    .or_insert_with(|| netns::spawn_inside(pid));
            }
        }
        let engine_facts = EngineFacts {
            host: engine.target.shown(),
            version: engine.version.clone(),
            api_version: version_text(&engine.api_version),
            cgroup_version: None,
        };
        // The output is read right after the end reading, so it reaches the window's end, on a
        // thread of its own that takes the connection over.
        let logs = self
            .logs
            .take()
            .map(|req| logs::spawn(engine, running, req));
        let inside: BTreeMap<&u64, Result<netns::Inside, String>> = entering
            .into_iter()
            .map(|(ns, handle)| {
                let result = handle
                    .join()
                    .unwrap_or_else(|_| Err("the namespace reader crashed".to_owned()));
                (ns, result)
            })
            .collect();

        // Whether the kernel counts the containers' block I/O at all: on cgroup v1 it may not,
        // and then the engine's 0 is no figure (see `blkio`).
        let coverage = BlockCheck::coverage(&host, &after);
        let mut containers: Vec<Container> = after
            .iter()
            .map(|end| {
                let start = before.remove(&end.observed.container.id);
                let inside = match &end.net {
                    NetView::Own { namespace, .. } => inside.get(namespace),
                    _ => None,
                };
                let block = BlockCheck::of(coverage.as_ref(), end);
                build(start.as_ref(), end, inside, block.as_ref())
            })
            .collect();
        containers.sort_by(|a, b| a.name.cmp(&b.name));
        notes.extend(BlockCheck::notes(coverage.as_ref(), &containers));

        let running: BTreeSet<&str> = after
            .iter()
            .map(|r| r.observed.container.id.as_str())
            .collect();
        for gone in before.values() {
            if !running.contains(gone.observed.container.id.as_str()) {
                notes.push(format!(
                    "{} stopped during the window",
                    gone.observed.container.name
                ));
            }
        }

        let cgroup_version = after
            .iter()
            .find_map(|r| r.cgroup.as_ref().ok().map(|c| c.dirs.version));
        match cgroup_version {
            Some(1) => notes.push(
                "cgroup v1: throttling from cpu.stat nr_periods/nr_throttled/throttled_time, limits from cpu.cfs_quota_us/cpu.cfs_period_us and memory.limit_in_bytes; block I/O is only what a container's own tasks submit (the writeback of its buffered writes is charged to the root cgroup)".to_owned(),
            ),
            Some(_) => notes.push(
                "cgroup v2: throttling from cpu.stat nr_periods/nr_throttled/throttled_usec, limits from cpu.max and memory.max".to_owned(),
            ),
            None => {}
        }
        if !containers.is_empty() {
            notes.push(match &host.kstats {
                Ok(_) => "container stats (CPU, memory, block I/O, pids, network) read from each container's cgroup, /proc/stat and /proc/<pid>/net/dev as the engine reads them (stats_source = cgroup); the engine's stats API only where that failed".to_owned(),
                Err(why) => format!("container stats asked of the engine's stats API, which answers in rounds 1 s apart (stats_source = engine): {why}"),
            });
        }
        if !is_root() && !containers.is_empty() {
            notes.push(
                "doctor is not running as root: containers' namespaces and cgroups may be unreadable (each container's notes say what is missing)".to_owned(),
            );
        }

        Ok(Collected {
            containers: Containers {
                engine: EngineFacts {
                    cgroup_version,
                    ..engine_facts
                },
                containers,
            },
            notes,
            logs,
        })
    }
}

fn source_text(s: StatsSource) -> &'static str {
    match s {
        StatsSource::Cgroup => "kernel's files",
        StatsSource::Engine => "engine",
    }
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn seconds(a: Instant, b: Instant) -> f64 {
    b.saturating_duration_since(a).as_secs_f64()
}

/// The namespace counters always kept, zero or not: the ones that tell a full accept queue, lost
/// or refused connections and retransmits apart. The ~140 others are kept only when not zero,
/// so thirty idle containers do not fill the snapshot with zeros.
pub const KEY_COUNTERS: &[&str] = &[
    "TcpActiveOpens",
    "TcpPassiveOpens",
    "TcpAttemptFails",
    "TcpEstabResets",
    "TcpCurrEstab",
    "TcpInSegs",
    "TcpOutSegs",
    "TcpRetransSegs",
    "TcpInErrs",
    "TcpOutRsts",
    "TcpExtListenOverflows",
    "TcpExtListenDrops",
    "TcpExtSyncookiesSent",
    "TcpExtTCPReqQFullDrop",
    "TcpExtTCPReqQFullDoCookies",
    "TcpExtTCPBacklogDrop",
    "TcpExtTCPTimeouts",
    "TcpExtTCPSynRetrans",
    "TcpExtTCPLostRetransmit",
    "TcpExtTCPAbortOnData",
    "TcpExtTCPAbortOnClose",
    "TcpExtTCPAbortOnMemory",
    "TcpExtTCPAbortOnTimeout",
    "TcpExtTCPMemoryPressures",
    "TcpExtTCPRcvQDrop",
    "TcpExtTCPZeroWindowDrop",
    "TcpExtTCPToZeroWindowAdv",
    "TcpExtTCPWantZeroWindowAdv",
    "TcpExtTCPOFODrop",
    "TcpExtPruneCalled",
    "TcpExtEmbryonicRsts",
];

/// `end - start` over the time between them, or only the end value without a start reading.
fn counter(start: Option<(u64, Instant)>, end: (u64, Instant)) -> Counter {
    match start {
        Some((a, at)) => Counter::between(a as i64, end.0 as i64, seconds(at, end.1)),
        None => Counter::gauge(end.0 as i64),
    }
}

/// What decides whether a v1 container's block I/O figures are the kernel's count.
struct BlockCheck<'a> {
    coverage: &'a blkio::Coverage,
    /// [`blkio::processes_bytes`], when doctor could read it.
    processes: Option<u64>,
}

impl<'a> BlockCheck<'a> {
    /// Which disks the kernel counts block I/O on, when it matters: cgroup v1 containers of an
    /// engine on this host (the files read are the engine's too).
    fn coverage(host: &HostContext, after: &[Reading]) -> Option<Result<blkio::Coverage, String>> {
        (host.local && after.iter().any(|r| Self::v1(r).is_some()))
            .then(|| blkio::Coverage::read(&host.mounts))
    }

    fn v1(r: &Reading) -> Option<&CgroupView> {
        r.cgroup.as_ref().ok().filter(|c| c.dirs.version == 1)
    }

    /// The check for one container, reading what its processes sent to storage.
    fn of(coverage: Option<&'a Result<blkio::Coverage, String>>, end: &Reading) -> Option<Self> {
        let coverage = coverage?.as_ref().ok()?;
        let view = Self::v1(end)?;
        Some(BlockCheck {
            coverage,
            processes: view
                .blkio
                .as_deref()
                .and_then(|d| blkio::processes_bytes(d).ok()),
        })
    }

    /// The section's notes: the containers whose block I/O is not counted, or why that could
    /// not be checked.
    fn notes(
        coverage: Option<&Result<blkio::Coverage, String>>,
        containers: &[Container],
    ) -> Vec<String> {
        let mut notes = Vec::new();
        let uncounted: Vec<&str> = containers
            .iter()
            .filter(|c| c.block_io_unaccounted.is_some())
            .map(|c| c.name.as_str())
            .collect();
        if !uncounted.is_empty() {
            notes.push(format!(
                "block I/O not counted by the kernel for {}: block_read_bytes and block_write_bytes left out (block_io_unaccounted says why)",
                uncounted.join(", ")
            ));
        }
        if let (Some(Err(why)), false) = (coverage, containers.is_empty()) {
            notes.push(format!(
                "not checked whether the kernel counts the containers' block I/O (cgroup v1 may not): {why}"
            ));
        }
        notes
    }
}

/// One container from its readings at both ends (`start` is `None` when it started inside the
/// window), what was read inside its namespace, and whether its block I/O is counted.
#[allow(clippy::too_many_lines)]
fn build(
    start: Option<&Reading>,
    end: &Reading,
    inside: Option<&Result<netns::Inside, String>>,
    block: Option<&BlockCheck>,
) -> Container {
    let o = &end.observed;
    let mut notes = Vec::new();
    let state = o.inspect.state.as_ref();
    let pid = o.pid();
    // A different main process means the container restarted: its counters started again.
    let start = match start {
        Some(s) if s.observed.pid() == pid => Some(s),
        Some(s) => {
            notes.push(format!(
                "restarted during the window (pid {} → {}): figures cover the new process only",
                s.observed.pid().unwrap_or(0),
                pid.unwrap_or(0)
            ));
            None
        }
        None => {
            notes.push("started during the window: totals only, no rates".to_owned());
            None
        }
    };

    let restarts = |r: &Reading| r.observed.inspect.restart_count.unwrap_or(0).max(0) as u64;
    let restart_count = match start {
        Some(s) => counter(Some((restarts(s), s.observed.at)), (restarts(end), o.at)),
        None => Counter::gauge(restarts(end) as i64),
    };

    let mut c = Container {
        name: o.container.name.clone(),
        id: short(&o.container.id).to_owned(),
        image: o.container.image.clone(),
        state: state
            .and_then(|s| s.status)
            .map_or_else(|| "unknown".to_owned(), |s| s.to_string()),
        health: state
            .and_then(|s| s.health.as_ref())
            .and_then(|h| h.status)
            .map(|h| h.to_string())
            .filter(|h| !h.is_empty() && h != "none"),
        restart_count,
        oom_killed: state.and_then(|s| s.oom_killed).unwrap_or(false),
        network_mode: o
            .inspect
            .host_config
            .as_ref()
            .and_then(|h| h.network_mode.clone())
            .unwrap_or_default(),
        pid,
        cpu_pct: None,
        online_cpus: None,
        memory_bytes: None,
        memory_limit_bytes: None,
        memory_pct: None,
        net_rx_bytes: None,
        net_tx_bytes: None,
        block_read_bytes: None,
        block_write_bytes: None,
        block_io_unaccounted: None,
        pids: None,
        stats_source: o.stats.is_ok().then_some(o.source),
        net: None,
        cgroup: None,
        notes: Vec::new(),
    };

    if let Some(why) = &o.local_failure {
        notes.push(format!(
            "stats asked of the engine: not read from the kernel ({why})"
        ));
    }
    if let Some(s) = start.filter(|s| s.observed.stats.is_ok() && s.observed.source != o.source) {
        notes.push(format!(
            "stats read from the {} at the start and the {} at the end",
            source_text(s.observed.source),
            source_text(o.source)
        ));
    }
    match &o.stats {
        Ok(e) => {
            let s =
                start.and_then(|s| s.observed.stats.as_ref().ok().map(|st| (st, s.observed.at)));
            if let (Some((a, _)), Some(b)) = (s, e.cpu_stats.as_ref()) {
                c.cpu_pct = a.cpu_stats.as_ref().and_then(|a| stats::cpu_pct(a, b));
            }
            c.online_cpus = e.cpu_stats.as_ref().and_then(stats::online_cpus);
            c.memory_bytes = stats::memory_usage(e);
            c.memory_limit_bytes = stats::memory_limit(e);
            if let (Some(u), Some(l)) = (c.memory_bytes, c.memory_limit_bytes) {
                c.memory_pct = stats::memory_pct(u, l);
            }
            if let Some((rx, tx)) = stats::network(e) {
                let before = s.and_then(|(a, at)| stats::network(a).map(|n| (n, at)));
                c.net_rx_bytes = Some(counter(before.map(|((r, _), at)| (r, at)), (rx, o.at)));
                c.net_tx_bytes = Some(counter(before.map(|((_, t), at)| (t, at)), (tx, o.at)));
            }
            if let Some((r, w)) = stats::block_io(e) {
                match block.map(|b| blkio::judge(b.coverage, r + w, b.processes)) {
                    Some(blkio::Judgement::NotCounted(why)) => c.block_io_unaccounted = Some(why),
                    judgement => {
                        if let Some(blkio::Judgement::Partly(note)) = judgement {
                            notes.push(note);
                        }
                        let before = s.and_then(|(a, at)| stats::block_io(a).map(|n| (n, at)));
                        c.block_read_bytes =
                            Some(counter(before.map(|((r, _), at)| (r, at)), (r, o.at)));
                        c.block_write_bytes =
                            Some(counter(before.map(|((_, w), at)| (w, at)), (w, o.at)));
                    }
                }
            }
            c.pids = stats::pids(e);
        }
        Err(e) => notes.push(e.clone()),
    }

    match &end.net {
        NetView::Own {
            namespace,
            counters,
            at,
        } => {
            let before = start.and_then(|s| match &s.net {
                NetView::Own {
                    namespace: n,
                    counters,
                    at,
                } if n == namespace => Some((counters, *at)),
                _ => None,
            });
            let mut counters = match before {
                Some((a, t)) => crate::collect::tcp::combine(a, counters, seconds(t, *at)),
                None => crate::collect::tcp::combine(&BTreeMap::new(), counters, 0.0),
            };
            counters.retain(|name, c| c.total != 0 || KEY_COUNTERS.contains(&name.as_str()));
            let (sysctls, listeners) = match inside {
                Some(Ok(i)) => (Some(i.sysctls.clone()), Some(i.listeners.clone())),
                Some(Err(e)) => {
                    notes.push(format!("sysctls and listeners not read: {e}"));
                    (None, None)
                }
                None => (None, None),
            };
            c.net = Some(ContainerNet {
                namespace: *namespace,
                counters,
                sysctls,
                listeners,
            });
        }
        NetView::Host => notes.push(
            "shares the host's network namespace: its TCP counters and sysctls are the tcp section's"
                .to_owned(),
        ),
        NetView::Failed(e) => notes.push(format!("network namespace not read: {e}")),
    }

    match &end.cgroup {
        Ok(view) => {
            let before = start
                .and_then(|s| s.cgroup.as_ref().ok())
                .filter(|s| s.dirs == view.dirs);
            let t = |f: fn(&cgroup::Throttling) -> i64| match before {
                Some(b) => Counter::between(
                    f(&b.reading.throttling),
                    f(&view.reading.throttling),
                    seconds(b.at, view.at),
                ),
                None => Counter::gauge(f(&view.reading.throttling)),
            };
            let nr_periods = t(|t| t.nr_periods);
            let nr_throttled = t(|t| t.nr_throttled);
            let throttled_us = t(|t| t.throttled_us);
            let oom_kills =
                view.reading
                    .oom_kills
                    .map(|end| match before.and_then(|b| b.reading.oom_kills) {
                        Some(a) => Counter::between(
                            a,
                            end,
                            seconds(before.map_or(view.at, |b| b.at), view.at),
                        ),
                        None => Counter::gauge(end),
                    });
            let (quota, period, memory_limit) = cgroup::limits(&view.dirs);
            c.cgroup = Some(ContainerCgroup {
                version: view.dirs.version,
                cpu_path: view.dirs.cpu.display().to_string(),
                cpu_limit_cores: match (quota, period) {
                    (Some(q), Some(p)) if p > 0 => Some(round2(q as f64 / p as f64)),
                    _ => None,
                },
                cpu_quota_us: quota,
                cpu_period_us: period,
                throttled_periods_pct: match (nr_throttled.delta, nr_periods.delta) {
                    (Some(t), Some(p)) => pct(t as f64, p as f64),
                    _ => None,
                },
                nr_periods,
                nr_throttled,
                throttled_us,
                memory_limit_bytes: memory_limit,
                oom_kills,
            });
        }
        Err(e) => notes.push(format!("cgroup not read: {e}")),
    }
    c.notes = notes;
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_refusal_names_its_newest_api() {
        // The answer of Engine 20.10.24 to a request for API 1.53.
        let v =
            max_supported("client version 1.53 is too new. Maximum supported API version is 1.41")
                .unwrap();
        assert_eq!(version_text(&v), "1.41");
        assert!(max_supported("page not found").is_none());
        assert_eq!(parse_version("1.x"), None);
    }

    #[test]
    fn credentials_never_leave_the_host_url() {
        let t = Target {
            url: "tcp://admin:hunter2@10.0.0.5:2375".into(),
            explicit: true,
        };
        assert_eq!(t.shown(), "tcp://10.0.0.5:2375");
        let t = Target {
            url: DEFAULT_HOST.into(),
            explicit: false,
        };
        assert_eq!(t.shown(), DEFAULT_HOST);
    }

    #[test]
    fn missing_socket_is_skipped_by_default_and_an_error_when_named() {
        let v = bollard::API_DEFAULT_VERSION;
        let default = Target {
            url: "unix:///nonexistent/doctor/docker.sock".into(),
            explicit: false,
        };
        let err = client(&default, Duration::from_secs(1), v).unwrap_err();
        assert!(
            matches!(&err, Failure::Skipped(m) if m.contains("no Docker daemon here")),
            "{err:?}"
        );
        let named = Target {
            explicit: true,
            ..default
        };
        let err = client(&named, Duration::from_secs(1), v).unwrap_err();
        assert!(
            matches!(&err, Failure::Error(m) if m.contains("DOCKER_HOST names")),
            "{err:?}"
        );
        let odd = Target {
            url: "ssh://me@host".into(),
            explicit: true,
        };
        assert!(matches!(
            client(&odd, Duration::from_secs(1), v),
            Err(Failure::Error(m)) if m.contains("not an address doctor can use")
        ));
    }
}
