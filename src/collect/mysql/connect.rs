//! Where the server is and how to log in, found the way the `mysql` client finds it.
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
//! The password is held in a [`Secret`], which never prints; no error message here quotes a
//! URL or an option-file line.

use super::optfile::{self, OptionFileError};
use crate::snapshot::MysqlConnection as Connection;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A password. `Debug` and `Display` print `***`, so it cannot leak through a log or an error.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    #[must_use]
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The password itself, only for handing to the driver.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How to reach the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Socket(PathBuf),
    Tcp { host: String, port: u16 },
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Socket(p) => write!(f, "{}", p.display()),
            Endpoint::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Endpoint::Tcp { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

/// `ssl-mode`, as the `mysql` client spells it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Tls {
    /// `DISABLED` and `PREFERRED` (see the module doc).
    #[default]
    Off,
    /// `REQUIRED`: encrypted, the certificate not checked.
    Required,
    /// `VERIFY_CA`: the certificate must chain to `ssl-ca` (or the system roots).
    VerifyCa(Option<PathBuf>),
    /// `VERIFY_IDENTITY`: `VERIFY_CA` and the host name must match.
    VerifyIdentity(Option<PathBuf>),
}

impl Tls {
    fn parse(mode: &str, ca: Option<PathBuf>) -> Result<Tls, String> {
        match mode.to_ascii_uppercase().as_str() {
            "DISABLED" | "PREFERRED" => Ok(Tls::Off),
            "REQUIRED" => Ok(Tls::Required),
            "VERIFY_CA" => Ok(Tls::VerifyCa(ca)),
            "VERIFY_IDENTITY" => Ok(Tls::VerifyIdentity(ca)),
            other => Err(format!(
                "ssl-mode `{other}` is not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY"
            )),
        }
    }
}

/// What a `--mysql` URL says. Parsed at the command line, so a malformed URL is a usage error
/// before any sampling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlSpec {
    pub endpoint: Endpoint,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub tls: Tls,
}

/// Parses `mysql://user:password@host:port/db?socket=/path&ssl-mode=REQUIRED&ssl-ca=/ca.pem`.
/// The database is accepted and ignored: doctor reads server-wide figures. The error never
/// contains the URL (it may hold a password).
pub fn parse_url(text: &str) -> Result<UrlSpec, String> {
    let url = url::Url::parse(text).map_err(|e| {
        format!("--mysql is not a valid URL ({e}); expected mysql://user:password@host:port")
    })?;
    if url.scheme() != "mysql" && url.scheme() != "mariadb" {
        return Err(format!(
            "--mysql must start with mysql://, not {}://",
            url.scheme()
        ));
    }
    let decode = |s: &str| {
        percent_decode(s)
            .ok_or_else(|| "--mysql has a bad %-escape in its user or password".to_owned())
    };
    let user = (!url.username().is_empty())
        .then(|| decode(url.username()))
        .transpose()?;
    let password = url.password().map(decode).transpose()?.map(Secret);
    let mut socket = None;
    let mut ssl_mode = None;
    let mut ssl_ca = None;
    for (k, v) in url.query_pairs() {
        match k.replace('_', "-").as_str() {
            "socket" => socket = Some(PathBuf::from(v.as_ref())),
            "ssl-mode" => ssl_mode = Some(v.into_owned()),
            "ssl-ca" => ssl_ca = Some(PathBuf::from(v.as_ref())),
            other => {
                return Err(format!(
                    "--mysql has an unknown parameter `{other}` (known: socket, ssl-mode, ssl-ca)"
                ));
            }
        }
    }
    let endpoint = if let Some(s) = socket {
        Endpoint::Socket(s)
    } else {
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => {
                return Err(
                    "--mysql names no host; use mysql://user@host:port or mysql://user@localhost?socket=/path"
                        .to_owned(),
                );
            }
        };
        Endpoint::Tcp {
            host,
            port: url.port().unwrap_or(3306),
        }
    };
    let tls = match ssl_mode {
        Some(m) => Tls::parse(&m, ssl_ca).map_err(|e| format!("--mysql: {e}"))?,
        None if ssl_ca.is_some() => Tls::VerifyCa(ssl_ca),
        None => Tls::Off,
    };
    Ok(UrlSpec {
        endpoint,
        user,
        password,
        tls,
    })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

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

/// Why a connection attempt failed: what kind of failure, the server's error code when it
/// answered with one, and one line a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    pub outcome: Outcome,
    pub code: Option<u32>,
    pub message: String,
}

/// How a login attempt ended, as `mysql_server.login.outcome` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing listens there (no socket file, connection refused): for a default location this
    /// just means "no server here".
    Unreachable,
    /// No answer within the connect or read timeout.
    Timeout,
    /// The server is full: 1040 `max_connections`, 1203 `max_user_connections`, 1226 a
    /// resource limit of the account.
    Refused,
    /// The account may not log in (1045 wrong password, 1044/1130 no access, 1227, 1251, 3118
    /// locked).
    Denied,
    /// Anything else: another server error, TLS, a bad address.
    Error,
}

impl Outcome {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Unreachable => "unreachable",
            Outcome::Timeout => "timeout",
            Outcome::Refused => "refused",
            Outcome::Denied => "denied",
            Outcome::Error => "error",
        }
    }

    /// The outcome of a server error code.
    #[must_use]
    pub fn of_code(code: u32) -> Self {
        if crate::snapshot::Login::FULL.contains(&code) {
            Outcome::Refused
        } else if matches!(code, 1044 | 1045 | 1130 | 1227 | 1251 | 3118) {
            Outcome::Denied
        } else {
            Outcome::Error
        }
    }
}

impl ConnectError {
    fn new(outcome: Outcome, message: String) -> Self {
        ConnectError {
            outcome,
            code: None,
            message,
        }
    }
}

/// Connects to one target with doctor's timeouts. The connection reads and writes with
/// `read_timeout`, so a hung server costs at most that per query.
pub fn connect(
    t: &Target,
    connect_timeout: Duration,
    read_timeout: Duration,
) -> Result<mysql::Conn, ConnectError> {
    let mut b = mysql::OptsBuilder::new()
        .user(t.user.as_deref())
        .pass(t.password.as_ref().map(Secret::expose))
        // Connect where asked: the driver would otherwise switch a loopback TCP connection to
        // the server's socket, and doctor measures the path the application uses.
        .prefer_socket(false)
        .tcp_connect_timeout(Some(connect_timeout))
        .read_timeout(Some(read_timeout))
        .write_timeout(Some(read_timeout))
        // Known up front, so the driver skips its `SELECT @@max_allowed_packet`.
        .max_allowed_packet(Some(16 << 20))
        .connect_attrs(Some(HashMap::from([("program_name", "doctor")])));
    b = match &t.endpoint {
        Endpoint::Socket(p) => b.socket(Some(p.to_string_lossy())),
        Endpoint::Tcp { host, port } => b.ip_or_hostname(Some(host.as_str())).tcp_port(*port),
    };
    let ssl = match &t.tls {
        Tls::Off => None,
        Tls::Required => Some(
            mysql::SslOpts::default()
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
        ),
        Tls::VerifyCa(ca) => Some(
            mysql::SslOpts::default()
                .with_root_cert_path(ca.clone())
                .with_danger_skip_domain_validation(true),
        ),
        Tls::VerifyIdentity(ca) => Some(mysql::SslOpts::default().with_root_cert_path(ca.clone())),
    };
    b = b.ssl_opts(ssl);
    mysql::Conn::new(b).map_err(|e| classify(&e, t, connect_timeout, read_timeout))
}

fn classify(
    e: &mysql::Error,
    t: &Target,
    connect_timeout: Duration,
    read_timeout: Duration,
) -> ConnectError {
    use mysql::{DriverError, Error};
    use std::io::ErrorKind;
    let at = &t.endpoint;
    match e {
        Error::DriverError(DriverError::CouldNotConnect(Some((_, desc, kind)))) => {
            let msg = format!("cannot connect to {at}: {desc}");
            match kind {
                ErrorKind::NotFound | ErrorKind::ConnectionRefused => {
                    ConnectError::new(Outcome::Unreachable, msg)
                }
                _ => ConnectError::new(Outcome::Error, msg),
            }
        }
        Error::DriverError(DriverError::ConnectTimeout) => ConnectError::new(
            Outcome::Timeout,
            format!(
                "cannot connect to {at}: no answer within {} (--mysql-connect-timeout)",
                humantime::format_duration(connect_timeout)
            ),
        ),
        Error::MySqlError(m) => ConnectError {
            outcome: Outcome::of_code(u32::from(m.code)),
            code: Some(u32::from(m.code)),
            message: format!("{at}: {}", describe(e, read_timeout)),
        },
        // rustls reports a refused certificate as an I/O error of the handshake.
        Error::IoError(_) | Error::CodecError(_) | Error::TlsError(_)
            if t.tls != Tls::Off && !is_timeout(e) =>
        {
            ConnectError::new(
                Outcome::Error,
                format!(
                    "TLS connection to {at} failed: {} (check ssl-mode and ssl-ca)",
                    describe(e, read_timeout)
                ),
            )
        }
        other if is_timeout(other) => ConnectError::new(
            Outcome::Timeout,
            format!("{at}: {}", describe(other, read_timeout)),
        ),
        other => ConnectError::new(
            Outcome::Error,
            format!("{at}: {}", describe(other, read_timeout)),
        ),
    }
}

/// The connection's read or write timed out (`SO_RCVTIMEO` shows as `EAGAIN`).
fn io_error(e: &mysql::Error) -> Option<&std::io::Error> {
    use mysql_common::proto::codec::error::PacketCodecError;
    match e {
        mysql::Error::IoError(io) | mysql::Error::CodecError(PacketCodecError::Io(io)) => Some(io),
        _ => None,
    }
}

fn is_timeout(e: &mysql::Error) -> bool {
    io_error(e).is_some_and(|io| {
        matches!(
            io.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )
    })
}

/// A driver error as one line a person can act on, the server's own message kept verbatim.
/// Server messages carry the account name and whether a password was used, never the password.
pub fn describe(e: &mysql::Error, read_timeout: Duration) -> String {
    use mysql::{DriverError, Error};
    use mysql_common::proto::codec::error::PacketCodecError;
    match e {
        Error::MySqlError(m) => {
            let hint = match m.code {
                1045 => {
                    "; check the user and password (--mysql URL, ~/.my.cnf [client], MYSQL_PWD); \
                     if the account or the server requires TLS, add ?ssl-mode=REQUIRED"
                }
                1040 => "; the server is at max_connections",
                3159 => {
                    "; the server requires TLS: add ?ssl-mode=REQUIRED to --mysql (or ssl-mode in [client])"
                }
                _ => "",
            };
            format!(
                "the server said: ERROR {} ({}): {}{hint}",
                m.code, m.state, m.message
            )
        }
        _ if is_timeout(e) => format!(
            "no answer within {} (--mysql-read-timeout): the server is hung or overloaded",
            humantime::format_duration(read_timeout)
        ),
        Error::IoError(io) | Error::CodecError(PacketCodecError::Io(io)) => {
            format!("connection failed: {io}")
        }
        Error::DriverError(DriverError::TlsNotSupported) => {
            "TLS was asked for (ssl-mode) but the server does not offer it".to_owned()
        }
        Error::DriverError(d) => format!("driver error: {d}"),
        Error::TlsError(t) => format!("TLS failed: {t}"),
        Error::CodecError(c) => format!("protocol error: {c}"),
        Error::UrlError(_) => "bad connection options".to_owned(),
        Error::FromValueError(_) | Error::FromRowError(_) => {
            "the server sent a value of an unexpected type".to_owned()
        }
    }
}

/// The envelope's account of the connection.
#[must_use]
pub fn connection_info(t: &Target) -> Connection {
    Connection {
        via: match t.endpoint {
            Endpoint::Socket(_) => "socket",
            Endpoint::Tcp { .. } => "tcp",
        }
        .to_owned(),
        address: t.endpoint.to_string(),
        user: t.user.clone().unwrap_or_default(),
        source: t.source.as_str().to_owned(),
        tls: t.tls != Tls::Off,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_with_everything() {
        let u = parse_url("mysql://app:s%40cret@db.example:3307/shop?ssl-mode=REQUIRED").unwrap();
        assert_eq!(
            u.endpoint,
            Endpoint::Tcp {
                host: "db.example".into(),
                port: 3307
            }
        );
        assert_eq!(u.user.as_deref(), Some("app"));
        assert_eq!(u.password.as_ref().map(Secret::expose), Some("s@cret"));
        assert_eq!(u.tls, Tls::Required);
    }

    #[test]
    fn url_with_socket_and_defaults() {
        let u = parse_url("mysql://root@localhost?socket=/run/mysqld/mysqld.sock").unwrap();
        assert_eq!(
            u.endpoint,
            Endpoint::Socket("/run/mysqld/mysqld.sock".into())
        );
        assert_eq!(u.password, None);
        let u = parse_url("mysql://u@[::1]").unwrap();
        assert_eq!(
            u.endpoint,
            Endpoint::Tcp {
                host: "::1".into(),
                port: 3306
            }
        );
        assert_eq!(u.endpoint.to_string(), "[::1]:3306");
    }

    #[test]
    fn bad_urls_say_why_without_the_password() {
        for (url, why) in [
            ("postgres://u:hunter2@h", "mysql://"),
            ("mysql://u:hunter2@h:99999", "not a valid URL"),
            (
                "mysql://u:hunter2@h?sslmode=1",
                "unknown parameter `sslmode`",
            ),
            ("mysql://u:hunter2@h?ssl-mode=sometimes", "ssl-mode"),
            ("hunter2", "not a valid URL"),
        ] {
            let e = parse_url(url).unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
            assert!(!e.contains("hunter2"), "{url}: {e}");
        }
    }

    #[test]
    fn secret_never_prints() {
        let u = parse_url("mysql://u:hunter2@h").unwrap();
        assert!(!format!("{u:?}").contains("hunter2"));
    }

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
