//! The MySQL settings from every place the `mysql` client reads them, and where the server is
//! and how to log in, decided from them the way the client decides it ([`plan`]).
//!
//! Order, first one wins per setting: the `--mysql` URL; the `[client]` group of the option
//! file (`--defaults-file`, else `~/.my.cnf`); the environment (`MYSQL_HOST`, `MYSQL_TCP_PORT`,
//! `MYSQL_UNIX_PORT`, `MYSQL_PWD`, `USER`); then the default socket and 127.0.0.1:3306. This is
//! the precedence of the MySQL manual's "Specifying Program Options" (command line, then option
//! files, then environment). Two deliberate differences from the client: a port given without a
//! host means TCP to 127.0.0.1 (the client would silently use the socket and ignore the port),
//! and `ssl-mode=PREFERRED` connects without TLS (a TLS attempt that falls back would count as an
//! aborted connect on the very server doctor is measuring).
//!
//! The option file's syntax is read by [`super::optfile`]; no error message here quotes an
//! option-file line.

use super::optfile::{self, OptionFileError};
use super::url::{Endpoint, Secret, Tls, UrlSpec};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The MySQL settings from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// False with `--no-mysql`.
    pub enabled: bool,
    pub url: Option<UrlSpec>,
    /// `--defaults-file`: read instead of `~/.my.cnf`.
    pub defaults_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: true,
            url: None,
            defaults_file: None,
            connect_timeout: Duration::from_secs(3),
            read_timeout: Duration::from_secs(5),
        }
    }
}

/// The environment variables the `mysql` client reads, captured once so resolving is a pure
/// function.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub host: Option<String>,
    pub tcp_port: Option<String>,
    pub unix_port: Option<String>,
    pub pwd: Option<Secret>,
    pub user: Option<String>,
    pub home: Option<PathBuf>,
}

impl Env {
    /// The live environment. `USER`, else `LOGNAME`, else the name `/etc/passwd` gives this
    /// process's uid, as the client's own login-name lookup does.
    #[must_use]
    pub fn from_process() -> Env {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            host: var("MYSQL_HOST"),
            tcp_port: var("MYSQL_TCP_PORT"),
            unix_port: var("MYSQL_UNIX_PORT"),
            // MYSQL_PWD may be set to the empty string on purpose (an account without one).
            pwd: std::env::var("MYSQL_PWD").ok().map(Secret),
            user: var("USER").or_else(|| var("LOGNAME")).or_else(login_name),
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }
}

fn login_name() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .nth(1)?
        .to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 2 && f[2] == uid).then(|| f[0].to_owned())
    })
}

/// The `[client]` options doctor uses, from one option file (and the files it includes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientOptions {
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub host: Option<String>,
    pub port: Option<String>,
    pub socket: Option<String>,
    pub protocol: Option<String>,
    pub ssl_mode: Option<String>,
    pub ssl_ca: Option<String>,
    /// `ssl` / `ssl=1` (MariaDB's client): encrypt.
    pub ssl: Option<bool>,
}

/// Reads the `[client]` group of an option file, following `!include` and `!includedir` (files
/// ending in `.cnf`, in name order) up to 10 levels deep.
pub fn read_option_file(path: &Path) -> Result<ClientOptions, OptionFileError> {
    let mut opts = ClientOptions::default();
    optfile::walk(path, Path::new("/"), &mut |entry| {
        if entry.group != "client" {
            return;
        }
        // Later lines override earlier ones, as in the client.
        let v = entry.value.map(str::to_owned);
        match entry.name {
            "user" => opts.user = v,
            "password" => opts.password = v.map(Secret),
            "host" => opts.host = v,
            "port" => opts.port = v,
            "socket" => opts.socket = v,
            "protocol" => opts.protocol = v,
            "ssl_mode" => opts.ssl_mode = v,
            "ssl_ca" => opts.ssl_ca = v,
            "ssl" => {
                opts.ssl = Some(
                    entry
                        .value
                        .is_none_or(|v| !matches!(v, "0" | "OFF" | "off" | "FALSE" | "false")),
                );
            }
            "skip_ssl" => opts.ssl = Some(false),
            _ => {}
        }
    })?;
    Ok(opts)
}

/// Where the connection settings came from, as `mysql.connection.source` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Url,
    DefaultsFile,
    MyCnf,
    Environment,
    Default,
}

impl Source {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Url => "url",
            Source::DefaultsFile => "defaults-file",
            Source::MyCnf => "my.cnf",
            Source::Environment => "environment",
            Source::Default => "default",
        }
    }
}

/// One way to reach and log into the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub endpoint: Endpoint,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub tls: Tls,
    pub source: Source,
}

/// What to try, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub targets: Vec<Target>,
    /// Whether the user named a server (URL, option file, environment). When not, finding no
    /// server is "skipped", not an error: most machines have no MySQL.
    pub explicit: bool,
    pub notes: Vec<String>,
}

/// The sockets distributions put the server's socket at (Debian/Ubuntu, RHEL/Fedora, the
/// upstream tarball's default).
pub const DEFAULT_SOCKETS: [&str; 4] = [
    "/run/mysqld/mysqld.sock",
    "/var/run/mysqld/mysqld.sock",
    "/var/lib/mysql/mysql.sock",
    "/tmp/mysql.sock",
];

/// The existing default sockets, each file once (`/var/run` is usually a link to `/run`).
#[must_use]
pub fn existing_default_sockets() -> Vec<PathBuf> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for s in DEFAULT_SOCKETS {
        if let Ok(real) = std::fs::canonicalize(s)
            && !seen.contains(&real)
        {
            seen.push(real);
            out.push(PathBuf::from(s));
        }
    }
    out
}

/// Decides what to try from the URL, the option file (already read, with where it came from),
/// the environment and the sockets that exist. Pure, so every precedence rule is unit-tested.
pub fn plan(
    url: Option<&UrlSpec>,
    file: Option<(&ClientOptions, Source)>,
    env: &Env,
    sockets: &[PathBuf],
) -> Result<Plan, String> {
    let empty = ClientOptions::default();
    let (cnf, cnf_source) = file.unwrap_or((&empty, Source::MyCnf));
    let user = url
        .and_then(|u| u.user.clone())
        .or_else(|| cnf.user.clone())
        .or_else(|| env.user.clone());
    let password = url
        .and_then(|u| u.password.clone())
        .or_else(|| cnf.password.clone())
        .or_else(|| env.pwd.clone());
    let target = |endpoint: Endpoint, tls: Tls, source: Source| Target {
        endpoint,
        user: user.clone(),
        password: password.clone(),
        tls,
        source,
    };
    if let Some(u) = url {
        return Ok(Plan {
            targets: vec![target(u.endpoint.clone(), u.tls.clone(), Source::Url)],
            explicit: true,
            notes: Vec::new(),
        });
    }
    let tls = match (&cnf.ssl_mode, cnf.ssl) {
        (Some(m), _) => Tls::parse(m, cnf.ssl_ca.as_ref().map(PathBuf::from))?,
        (None, Some(true)) => match &cnf.ssl_ca {
            Some(ca) => Tls::VerifyCa(Some(PathBuf::from(ca))),
            None => Tls::Required,
        },
        _ => Tls::Off,
    };
    let named = named_endpoint(cnf, cnf_source, env)?;
    let explicit = named.is_some()
        || file.is_some_and(|(_, s)| s == Source::DefaultsFile)
        || cnf.protocol.is_some();
    let targets = if let Some((endpoint, source)) = named {
        vec![target(endpoint, tls, source)]
    } else {
        // No server named (or only "localhost"): the default sockets that exist, then the
        // default port on loopback.
        let source = if explicit {
            cnf_source
        } else {
            Source::Default
        };
        sockets
            .iter()
            .map(|s| Endpoint::Socket(s.clone()))
            .chain([Endpoint::Tcp {
                host: "127.0.0.1".to_owned(),
                port: 3306,
            }])
            .map(|e| target(e, tls.clone(), source))
            .collect()
    };
    Ok(Plan {
        targets,
        explicit,
        notes: Vec::new(),
    })
}

/// The endpoint the option file or the environment names, if any, with where it came from
/// (option file first, per setting). `localhost` or no host means the socket, as in the client;
/// a port without a host means TCP to 127.0.0.1.
fn named_endpoint(
    cnf: &ClientOptions,
    cnf_source: Source,
    env: &Env,
) -> Result<Option<(Endpoint, Source)>, String> {
    let pick = |a: &Option<String>, b: &Option<String>| {
        a.clone()
            .map(|v| (v, cnf_source))
            .or_else(|| b.clone().map(|v| (v, Source::Environment)))
    };
    let host = pick(&cnf.host, &env.host);
    let port = pick(&cnf.port, &env.tcp_port);
    let socket = pick(&cnf.socket, &env.unix_port);
    let protocol = cnf.protocol.as_deref().map(str::to_ascii_lowercase);
    let port_num = match &port {
        Some((p, _)) => Some(
            p.trim()
                .parse::<u16>()
                .map_err(|_| format!("the MySQL port `{p}` is not a port number"))?,
        ),
        None => None,
    };
    let local_host = host
        .as_ref()
        .is_none_or(|(h, _)| h.is_empty() || h == "localhost");
    let wants_tcp = protocol.as_deref() == Some("tcp")
        || !local_host
        || (port_num.is_some() && socket.is_none() && protocol.as_deref() != Some("socket"));
    if wants_tcp {
        let (host, source) = match host {
            Some((h, s)) if !h.is_empty() => (h, s),
            _ => (
                "127.0.0.1".to_owned(),
                port.as_ref().map_or(cnf_source, |(_, s)| *s),
            ),
        };
        let port = port_num.unwrap_or(3306);
        return Ok(Some((Endpoint::Tcp { host, port }, source)));
    }
    Ok(socket.map(|(s, source)| (Endpoint::Socket(PathBuf::from(s)), source)))
}

#[cfg(test)]
mod tests {
    use super::super::connect::connection_info;
    use super::super::url::parse_url;
    use super::*;

    #[test]
    fn option_file_client_group_and_includes() {
        let dir = tempfile::tempdir().unwrap();
        let extra = dir.path().join("extra.cnf");
        std::fs::write(&extra, "[client]\nport=3310\n").unwrap();
        let main = dir.path().join("my.cnf");
        std::fs::write(
            &main,
            format!(
                "[mysql]\nuser=wrong\n[client]\nuser=app\npassword=pw\nhost=db\n!include {}\n[mysqld]\nport=1\n",
                extra.display()
            ),
        )
        .unwrap();
        let o = read_option_file(&main).unwrap();
        assert_eq!(o.user.as_deref(), Some("app"));
        assert_eq!(o.password.as_ref().map(Secret::expose), Some("pw"));
        assert_eq!(o.host.as_deref(), Some("db"));
        assert_eq!(o.port.as_deref(), Some("3310"));
        let e = read_option_file(&dir.path().join("missing.cnf")).unwrap_err();
        assert!(e.to_string().contains("missing.cnf"), "{e}");
    }

    fn env() -> Env {
        Env {
            user: Some("alice".into()),
            ..Env::default()
        }
    }

    #[test]
    fn nothing_configured_tries_default_socket_then_port() {
        let p = plan(None, None, &env(), &["/run/mysqld/mysqld.sock".into()]).unwrap();
        assert!(!p.explicit);
        assert_eq!(p.targets.len(), 2);
        assert_eq!(
            p.targets[0].endpoint,
            Endpoint::Socket("/run/mysqld/mysqld.sock".into())
        );
        assert_eq!(p.targets[1].endpoint.to_string(), "127.0.0.1:3306");
        assert_eq!(p.targets[1].user.as_deref(), Some("alice"));
        assert_eq!(p.targets[1].source, Source::Default);
    }

    #[test]
    fn url_beats_option_file_beats_environment() {
        let cnf = ClientOptions {
            user: Some("cnfuser".into()),
            password: Some(Secret::new("cnfpw")),
            host: Some("cnfhost".into()),
            ..ClientOptions::default()
        };
        let e = Env {
            host: Some("envhost".into()),
            pwd: Some(Secret::new("envpw")),
            ..env()
        };
        let url = parse_url("mysql://urluser@urlhost:3310").unwrap();
        let p = plan(Some(&url), Some((&cnf, Source::MyCnf)), &e, &[]).unwrap();
        let t = &p.targets[0];
        assert_eq!(t.endpoint.to_string(), "urlhost:3310");
        assert_eq!(t.user.as_deref(), Some("urluser"));
        // The URL has no password: the option file's is used, as the client does.
        assert_eq!(t.password.as_ref().map(Secret::expose), Some("cnfpw"));
        assert_eq!(t.source, Source::Url);

        let p = plan(None, Some((&cnf, Source::MyCnf)), &e, &[]).unwrap();
        assert_eq!(p.targets[0].endpoint.to_string(), "cnfhost:3306");
        assert_eq!(p.targets[0].source, Source::MyCnf);
        assert!(p.explicit);

        let p = plan(None, None, &e, &[]).unwrap();
        assert_eq!(p.targets[0].endpoint.to_string(), "envhost:3306");
        assert_eq!(p.targets[0].user.as_deref(), Some("alice"));
        assert_eq!(
            p.targets[0].password.as_ref().map(Secret::expose),
            Some("envpw")
        );
        assert_eq!(p.targets[0].source, Source::Environment);
    }

    #[test]
    fn localhost_means_the_socket_and_a_bare_port_means_tcp() {
        let cnf = ClientOptions {
            host: Some("localhost".into()),
            socket: Some("/srv/my.sock".into()),
            ..ClientOptions::default()
        };
        let p = plan(None, Some((&cnf, Source::MyCnf)), &env(), &[]).unwrap();
        assert_eq!(
            p.targets,
            vec![Target {
                endpoint: Endpoint::Socket("/srv/my.sock".into()),
                user: Some("alice".into()),
                password: None,
                tls: Tls::Off,
                source: Source::MyCnf,
            }]
        );
        let e = Env {
            tcp_port: Some("3307".into()),
            ..env()
        };
        let p = plan(None, None, &e, &["/run/mysqld/mysqld.sock".into()]).unwrap();
        assert_eq!(p.targets.len(), 1);
        assert_eq!(p.targets[0].endpoint.to_string(), "127.0.0.1:3307");
        assert!(p.explicit);
        let e = Env {
            tcp_port: Some("many".into()),
            ..env()
        };
        assert!(plan(None, None, &e, &[]).unwrap_err().contains("`many`"));
    }

    #[test]
    fn defaults_file_with_only_credentials_is_explicit() {
        let cnf = ClientOptions {
            user: Some("u".into()),
            ..ClientOptions::default()
        };
        let p = plan(None, Some((&cnf, Source::DefaultsFile)), &env(), &[]).unwrap();
        assert!(p.explicit);
        let p = plan(None, Some((&cnf, Source::MyCnf)), &env(), &[]).unwrap();
        assert!(!p.explicit, "a ~/.my.cnf with only a user names no server");
    }

    #[test]
    fn ssl_options_from_the_option_file() {
        let cnf = ClientOptions {
            host: Some("db".into()),
            ssl_mode: Some("verify_identity".into()),
            ssl_ca: Some("/ca.pem".into()),
            ..ClientOptions::default()
        };
        let p = plan(None, Some((&cnf, Source::MyCnf)), &env(), &[]).unwrap();
        assert_eq!(
            p.targets[0].tls,
            Tls::VerifyIdentity(Some("/ca.pem".into()))
        );
        assert!(connection_info(&p.targets[0]).tls);
    }
}
