//! Connecting to one [`Target`] with doctor's timeouts (and TLS as asked, through rustls), and
//! what a failed attempt means: the server unreachable, silent, full, refusing the account, or
//! something else, each with one line a person can act on and the server's own message kept.

use super::settings::Target;
use super::url::{Endpoint, Secret, Tls};
use crate::snapshot::MysqlConnection as Connection;
use std::collections::HashMap;
use std::time::Duration;

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
