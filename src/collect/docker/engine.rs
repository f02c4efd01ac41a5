//! The Docker engine's endpoint and API version: where the engine is (`DOCKER_HOST` or the
//! default socket, as the docker CLI decides it), which API version both sides speak (an older
//! engine refuses a newer client instead of downgrading), every call bounded by a deadline, and
//! failures worded for the user without the URL's credentials.
//!
//! Async stays here: [`Engine`] owns a current-thread tokio runtime and blocks on it, so the rest
//! of doctor is synchronous.

use crate::collect::Failure;
use bollard::errors::Error as ApiError;
use bollard::{ClientVersion, Docker};
use std::future::Future;
use std::time::{Duration, Instant};

/// The engine's default socket, as the docker CLI uses it when `DOCKER_HOST` is not set.
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// Where to reach the engine, decided as the docker CLI decides it.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub(super) url: String,
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
    pub(super) fn shown(&self) -> String {
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
pub(super) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
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
pub(super) fn api_failure(target: &Target, what: &str, e: &ApiError) -> Failure {
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

pub(super) fn version_text(v: &ClientVersion) -> String {
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
    pub(super) docker: Docker,
    pub(super) target: Target,
    pub(super) version: Option<String>,
    pub(super) api_version: ClientVersion,
    pub(super) budget: Duration,
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
}

/// Where a container's output goes: its `json-file` log (`LogPath`), which a reader on this
/// host can follow like any log file; `Err` names the logging driver when it is another one
/// (`local`'s files are not text, `journald` and the network drivers keep none here).
pub type LogFile = Result<std::path::PathBuf, String>;

impl Engine {
    /// Each container's output file ([`LogFile`]), asked of the engine side by side; a container
    /// the engine does not describe by `deadline` is left out.
    pub fn log_files(
        &self,
        containers: &[ContainerRef],
        deadline: Instant,
    ) -> Vec<(ContainerRef, LogFile)> {
        let docker = &self.docker;
        let each = containers.iter().map(|c| async move {
            let inspect = docker.inspect_container(&c.id, None).await.ok()?;
            let driver = inspect
                .host_config
                .as_ref()
                .and_then(|h| h.log_config.as_ref())
                .and_then(|l| l.typ.clone())
                .unwrap_or_default();
            let path = inspect.log_path.filter(|p| !p.is_empty());
            let file = match path {
                Some(p) if driver == "json-file" => Ok(std::path::PathBuf::from(p)),
                _ => Err(if driver.is_empty() {
                    "unknown".to_owned()
                } else {
                    driver
                }),
            };
            Some((c.clone(), file))
        });
        self.block_on(
            deadline,
            "describe the containers",
            futures_util::future::join_all(each),
        )
        .map(|all| all.into_iter().flatten().collect())
        .unwrap_or_default()
    }
}

/// Orders API versions.
fn key(v: &ClientVersion) -> (usize, usize) {
    (v.major_version, v.minor_version)
}

/// `docker ps`'s short id.
pub(super) fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
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
