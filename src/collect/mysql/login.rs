//! Logging in: where to try (as the `mysql` client decides it), each attempt and how it ended,
//! reported to `mysql_server`, and the doors a full server keeps for an operator.

use super::collector::Collector;
use super::settings::{self, Plan, Settings, Source, Target};
use super::url::Endpoint;
use super::{connect, derive};
use crate::collect::Failure;
use crate::snapshot::{Login, LoginAttempt};
use connect::Outcome;
use mysql::Conn;
use std::os::unix::fs::PermissionsExt;

impl Collector {
    /// Logs in at the first target that answers. When the server refuses because it is full,
    /// tries the doors a full server keeps open (MariaDB's `extra_port`, MySQL 8's
    /// `admin_port`) when its settings name them, and reports every attempt to `mysql_server`.
    pub(super) fn connect(&mut self, plan: &Plan) -> Result<(Conn, Target), Failure> {
        let mut tried = Vec::new();
        let mut attempts = Vec::new();
        let (ct, rt) = (self.settings.connect_timeout, self.settings.read_timeout);
        let mut failed: Option<connect::ConnectError> = None;
        for t in &plan.targets {
            match connect::connect(t, ct, rt) {
                Ok(c) => {
                    attempts.push(attempt("regular", t, None));
                    self.report(t, attempts, None, Some("regular"));
                    return Ok((c, t.clone()));
                }
                Err(e) if e.outcome == Outcome::Unreachable => {
                    attempts.push(attempt("regular", t, Some(&e)));
                    tried.push(e.message);
                }
                Err(e) => {
                    attempts.push(attempt("regular", t, Some(&e)));
                    if e.outcome == Outcome::Refused {
                        for (door, d) in self.doors(t) {
                            match connect::connect(&d, ct, rt) {
                                Ok(c) => {
                                    attempts.push(attempt(door, &d, None));
                                    self.notes.push(format!(
                                        "the server refused doctor at {} ({}); doctor came in \
                                         through its {door} at {}",
                                        t.endpoint, e.message, d.endpoint
                                    ));
                                    self.report(t, attempts, Some(&e), Some(door));
                                    return Ok((c, d));
                                }
                                Err(de) => attempts.push(attempt(door, &d, Some(&de))),
                            }
                        }
                    }
                    failed = Some(e);
                    break;
                }
            }
        }
        let first = plan.targets.first();
        if let Some(e) = failed {
            let t = first.expect("an attempt was made");
            self.report(t, attempts, Some(&e), None);
            self.hand_over_error_log_from_settings();
            let mut message = e.message;
            if e.outcome == Outcome::Refused {
                message.push_str(
                    "; doctor's own connection was refused, so the server is full: the \
                     mysql_server section shows who holds the connections (kernel view)",
                );
            }
            return Err(Failure::Error(message));
        }
        if let Some(t) = first {
            let last = connect::ConnectError {
                outcome: Outcome::Unreachable,
                code: None,
                message: tried.join("; "),
            };
            self.report(t, attempts, Some(&last), None);
        }
        if plan.explicit {
            self.hand_over_error_log_from_settings();
            Err(Failure::Error(tried.join("; ")))
        } else {
            let places: Vec<String> = plan
                .targets
                .iter()
                .map(|t| t.endpoint.to_string())
                .collect();
            Err(Failure::Skipped(format!(
                "no MySQL/MariaDB server found at {}; point doctor at one with \
                 --mysql mysql://user:password@host:port (or MYSQL_HOST, ~/.my.cnf [client], \
                 --defaults-file), or pass --no-mysql",
                places.join(" or ")
            )))
        }
    }

    /// Sends how the login went to `mysql_server`.
    pub(super) fn report(
        &mut self,
        t: &Target,
        attempts: Vec<LoginAttempt>,
        regular: Option<&connect::ConnectError>,
        door: Option<&str>,
    ) {
        let Some(tx) = &self.login_tx else { return };
        let login = Login {
            outcome: regular.map_or("ok", |e| e.outcome.as_str()).to_owned(),
            error_code: regular.and_then(|e| e.code),
            message: regular.map(|e| e.message.clone()),
            user: t.user.clone().unwrap_or_default(),
            door: door.map(str::to_owned),
            attempts,
        };
        let _ = tx.send(login);
    }

    /// The doors a full server keeps for an operator, learnt from its settings: MariaDB's
    /// `extra_port` (its own `extra_max_connections` slots, MariaDB "Thread Pool in MariaDB":
    /// `extra_port`), and MySQL 8's administrative interface (`admin_address`, `admin_port`,
    /// "Administrative Connection Management": connections there are not limited by
    /// `max_connections`). Reached at the server's own address from here (loopback, or the
    /// container's address). The account's `SUPER`/`CONNECTION ADMIN` extra slot needs no door:
    /// the regular attempt already uses it.
    pub(super) fn doors(&self, regular: &Target) -> Vec<(&'static str, Target)> {
        let Some(v) = &self.view else {
            return Vec::new();
        };
        let reach = match (&regular.endpoint, v.located.same_network_namespace) {
            (Endpoint::Tcp { host, .. }, true) => Some(host.clone()),
            _ => v.located.reach.map(|a| a.to_string()),
        };
        let Some(host) = reach else {
            return Vec::new();
        };
        let at = |port: f64| Target {
            endpoint: Endpoint::Tcp {
                host: host.clone(),
                port: port as u16,
            },
            ..regular.clone()
        };
        let mut out = Vec::new();
        if let Some(p) = v.number("extra_port").filter(|p| *p > 0.0 && *p < 65536.0) {
            out.push(("extra_port", at(p)));
        }
        if let Some(addr) = v.text("admin_address").filter(|a| !a.is_empty()) {
            let port = v.number("admin_port").unwrap_or(33062.0);
            let loopback_elsewhere = !v.located.same_network_namespace
                && addr
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|a| a.is_loopback());
            if !loopback_elsewhere && port > 0.0 && port < 65536.0 {
                out.push(("admin_port", at(port)));
            }
        }
        out
    }

    /// Hands the server's error log, as its settings name it, to the logs collector when doctor
    /// could not log in to ask (`log_error`, relative to `datadir`).
    pub(super) fn hand_over_error_log_from_settings(&mut self) {
        let Some(v) = &self.view else { return };
        let (Some(log), Some(datadir)) = (v.text("log_error"), v.text("datadir")) else {
            return;
        };
        let Some(path) = derive::error_log_path(&log, &datadir) else {
            return;
        };
        let readable = v.located.file(&path);
        if readable.is_file() {
            if let Some(tx) = &self.error_log_tx {
                let _ = tx.send(readable.clone());
            }
            self.error_log = Some(readable);
        }
    }
}

fn attempt(door: &str, t: &Target, e: Option<&connect::ConnectError>) -> LoginAttempt {
    LoginAttempt {
        door: door.to_owned(),
        address: t.endpoint.to_string(),
        outcome: e.map_or("ok", |e| e.outcome.as_str()).to_owned(),
        error_code: e.and_then(|e| e.code),
        message: e.map(|e| e.message.clone()),
    }
}

/// Reads the option file and the environment and decides what to try, as the `mysql` client
/// would. Done before the collector starts, so `mysql_server` can look for the server's process
/// at the same addresses.
pub fn plan(settings: &Settings) -> Result<Plan, Failure> {
    let env = settings::Env::from_process();
    let mut notes = Vec::new();
    let file = if let Some(path) = &settings.defaults_file {
        let opts = settings::read_option_file(path)
            .map_err(|e| Failure::Error(format!("--defaults-file {e}")))?;
        Some((opts, Source::DefaultsFile))
    } else if let Some(path) = env.home.as_ref().map(|h| h.join(".my.cnf"))
        && path.exists()
    {
        // The client ignores a world-writable option file, and says so; so does doctor.
        let world_writable =
            std::fs::metadata(&path).is_ok_and(|m| m.permissions().mode() & 0o002 != 0);
        if world_writable {
            notes.push(format!(
                "{} is world-writable and was ignored, as the mysql client ignores it",
                path.display()
            ));
            None
        } else {
            let opts = settings::read_option_file(&path)
                .map_err(|e| Failure::Error(format!("cannot use {e}")))?;
            Some((opts, Source::MyCnf))
        }
    } else {
        None
    };
    let mut plan = settings::plan(
        settings.url.as_ref(),
        file.as_ref().map(|(o, s)| (o, *s)),
        &env,
        &settings::existing_default_sockets(),
    )
    .map_err(Failure::Error)?;
    plan.notes.extend(notes);
    Ok(plan)
}
