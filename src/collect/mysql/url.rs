//! The `--mysql` URL, and the words for reaching a server that every way of naming one shares:
//! the endpoint, the TLS mode and the password, held in a [`Secret`] that never prints. No error
//! message here quotes the URL.

use std::fmt;
use std::path::PathBuf;

/// A password. `Debug` and `Display` print `***`, so it cannot leak through a log or an error.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub(super) String);

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
    pub(super) fn parse(mode: &str, ca: Option<PathBuf>) -> Result<Tls, String> {
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
}
