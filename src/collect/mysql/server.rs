//! The `mysql_server` section: the server seen from outside its SQL connection.
//!
//! Read on doctor's main thread like the host collectors (only `/proc`, `/sys` and `sock_diag`,
//! no query), so it comes out whatever the server does: at the start of the window the server's
//! process is located and its settings read (the MySQL collector is handed both, to find a door
//! when the regular one is full, and to read a container's files); at the end, its connections
//! from the kernel's view and its cgroup. How doctor's own login went is reported by the MySQL
//! collector's thread and joined here.

use super::locate::{self, Located};
use super::settings::Plan;
use super::{clients, options};
use crate::collect::Failure;
use crate::collect::docker::cgroup;
use crate::snapshot::{Counter, Login, MysqlServer, ServerOption, ServerProcess, round2};
use std::collections::BTreeMap;

/// What the MySQL collector is told about the server's process.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub located: Located,
    pub options: BTreeMap<String, ServerOption>,
}

impl View {
    /// A setting as a number, when the server's command line or option files give one.
    #[must_use]
    pub fn number(&self, name: &str) -> Option<f64> {
        self.options.get(name).and_then(|o| o.value.as_f64())
    }

    /// A setting as text.
    #[must_use]
    pub fn text(&self, name: &str) -> Option<String> {
        self.options.get(name).map(|o| o.value.to_string())
    }
}

/// The section between its two readings.
pub struct Start {
    address: String,
    user: String,
    view: Result<View, String>,
    option_files: Vec<String>,
    cgroup: Option<cgroup::Dirs>,
    oom_kills_before: Option<i64>,
    notes: Vec<String>,
}

impl Start {
    /// What the MySQL collector needs, when the server's process was found.
    #[must_use]
    pub fn view(&self) -> Option<View> {
        self.view.as_ref().ok().cloned()
    }
}

/// Locates the server doctor is about to log into and reads its settings.
#[must_use]
pub fn begin(plan: &Plan) -> Start {
    let endpoints: Vec<_> = plan.targets.iter().map(|t| t.endpoint.clone()).collect();
    let mut notes = Vec::new();
    let mut option_files = Vec::new();
    let view = locate::locate(&endpoints).map(|located| {
        let args = std::fs::read(format!("/proc/{}/cmdline", located.pid))
            .map(|raw| locate::cmdline_args(&raw))
            .unwrap_or_default();
        let settings = options::read(&args, located.root());
        notes.extend(settings.notes);
        option_files = settings.files;
        View {
            located,
            options: settings.options,
        }
    });
    let cgroup = view.as_ref().ok().and_then(|v| cgroup_dirs(v.located.pid));
    let oom_kills_before = cgroup
        .as_ref()
        .and_then(|d| cgroup::reading(d).ok())
        .and_then(|r| r.oom_kills);
    Start {
        address: endpoints
            .first()
            .map(ToString::to_string)
            .unwrap_or_default(),
        user: plan
            .targets
            .first()
            .and_then(|t| t.user.clone())
            .unwrap_or_default(),
        view,
        option_files,
        cgroup,
        oom_kills_before,
        notes,
    }
}

fn cgroup_dirs(pid: u32) -> Option<cgroup::Dirs> {
    let mounts = cgroup::mounts(&std::fs::read_to_string("/proc/self/mountinfo").ok()?);
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    cgroup::locate(&own, &mounts)
}

/// The section at the end of the window; `login` is what the MySQL collector reported (`None`:
/// it did not report in time). Also returns the notes.
pub fn finish(
    start: Start,
    login: Option<Login>,
    seconds: f64,
) -> (Result<MysqlServer, Failure>, Vec<String>) {
    let Start {
        address,
        user,
        view,
        option_files,
        cgroup,
        oom_kills_before,
        mut notes,
    } = start;
    let login = login.unwrap_or_else(|| Login {
        outcome: "no-answer".to_owned(),
        error_code: None,
        message: Some(
            "the MySQL collector did not report its login before the snapshot's deadline (the \
             server hung?)"
                .to_owned(),
        ),
        user,
        door: None,
        attempts: Vec::new(),
    });
    let (process, options, connections) = match view {
        Ok(v) => {
            // MariaDB's `pool-of-threads`, Percona's and MySQL Enterprise's thread pools.
            let thread_pool = v
                .text("thread_handling")
                .is_some_and(|t| t.contains("pool"));
            let connections = match clients::read(&v.located, thread_pool) {
                Ok((c, n)) => {
                    notes.extend(n);
                    Some(c)
                }
                Err(e) => {
                    notes.push(format!("the server's connections could not be read: {e}"));
                    None
                }
            };
            let process = process(&v.located, cgroup.as_ref(), oom_kills_before, seconds);
            (Some(process), v.options, connections)
        }
        Err(why) => {
            notes.push(format!(
                "the server's process was not found on this machine: {why}"
            ));
            (None, BTreeMap::new(), None)
        }
    };
    (
        Ok(MysqlServer {
            address,
            login,
            process,
            options,
            option_files,
            connections,
        }),
        notes,
    )
}

fn process(
    l: &Located,
    dirs: Option<&cgroup::Dirs>,
    oom_kills_before: Option<i64>,
    seconds: f64,
) -> ServerProcess {
    let status = std::fs::read_to_string(format!("/proc/{}/status", l.pid)).unwrap_or_default();
    let rss_bytes = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kb| kb * 1024);
    let uptime_s = procfs::process::Process::new(l.pid as i32)
        .and_then(|p| p.stat())
        .ok()
        .zip(
            std::fs::read_to_string("/proc/uptime")
                .ok()
                .and_then(|t| t.split_whitespace().next()?.parse::<f64>().ok()),
        )
        .map(|(stat, up)| round2(up - stat.starttime as f64 / procfs::ticks_per_second() as f64));
    let (quota, period, memory_limit_bytes) = dirs.map_or((None, None, None), cgroup::limits);
    let oom_end = dirs
        .and_then(|d| cgroup::reading(d).ok())
        .and_then(|r| r.oom_kills);
    ServerProcess {
        pid: l.pid,
        name: l.name.clone(),
        found_by: l.found_by.to_owned(),
        ports: l.ports.clone(),
        container_id: l.container_id.clone(),
        container: None,
        root: l.root.as_ref().map(|r| r.display().to_string()),
        same_network_namespace: l.same_network_namespace,
        rss_bytes,
        uptime_s,
        memory_limit_bytes,
        cpu_limit_cores: quota
            .zip(period)
            .filter(|(_, p)| *p > 0)
            .map(|(q, p)| round2(q as f64 / p as f64)),
        oom_kills: oom_end.map(|end| match oom_kills_before {
            Some(s) => Counter::between(s, end, seconds),
            None => Counter::gauge(end),
        }),
    }
}

/// Names the containers `mysql_server` refers to by id, from the `containers` section.
pub fn name_containers(server: &mut MysqlServer, containers: &crate::snapshot::Containers) {
    let name = |id: &Option<String>| {
        id.as_ref().and_then(|id| {
            containers
                .containers
                .iter()
                .find(|c| &c.id == id)
                .map(|c| c.name.clone())
        })
    };
    if let Some(p) = &mut server.process {
        p.container = name(&p.container_id);
    }
    if let Some(c) = &mut server.connections {
        for client in &mut c.by_client {
            client.container = name(&client.container_id);
        }
    }
}
