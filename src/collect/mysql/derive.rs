//! Pure computations on what the server answered: no I/O here, so every figure is unit-tested
//! on literal values, including a freshly started server whose counters are all zero (the
//! case the Debian build of MySQLTuner divides by zero on).

use crate::snapshot::{Counter, Flavor, Variable, pct, round2};
use std::collections::BTreeMap;

/// `SHOW GLOBAL STATUS` at both ends of the window: integers become counters, anything else
/// is kept as text (end value).
#[must_use]
pub fn split_status(
    start: &[(String, String)],
    end: &[(String, String)],
    seconds: f64,
) -> (BTreeMap<String, Counter>, BTreeMap<String, String>) {
    let start: BTreeMap<&str, i64> = start
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.trim().parse::<i64>().ok()?)))
        .collect();
    let mut counters = BTreeMap::new();
    let mut text = BTreeMap::new();
    for (k, v) in end {
        match v.trim().parse::<i64>() {
            Ok(e) => {
                let c = match start.get(k.as_str()) {
                    Some(s) => Counter::between(*s, e, seconds),
                    None => Counter::gauge(e),
                };
                counters.insert(k.clone(), c);
            }
            Err(_) => {
                text.insert(k.clone(), v.clone());
            }
        }
    }
    (counters, text)
}

/// `Innodb_history_list_length` (MariaDB's status; MySQL has none) at the end of the window and
/// its growth over it; absent when the server does not report it.
#[must_use]
pub fn history_list(
    start: &[(String, String)],
    end: &[(String, String)],
) -> (Option<u64>, Option<i64>) {
    let read = |rows: &[(String, String)]| {
        rows.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Innodb_history_list_length"))
            .and_then(|(_, v)| v.trim().parse::<i64>().ok())
    };
    let end_value = read(end);
    (
        end_value.map(|v| v.max(0) as u64),
        end_value.zip(read(start)).map(|(e, s)| e - s),
    )
}

/// Variables whose value can be a credential (MariaDB's `wsrep_sst_auth` is `user:password`).
#[must_use]
pub fn is_secret_variable(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("password") || n.contains("secret") || n.ends_with("_auth")
}

/// A variable's value as a number when it is exactly one (`-1`, `16384`, `10.000000`), the
/// text otherwise. Credentials are replaced by `(redacted)`.
#[must_use]
pub fn variable(name: &str, value: &str) -> Variable {
    if is_secret_variable(name) && !value.is_empty() {
        return Variable::Text("(redacted)".to_owned());
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = value.strip_prefix('-').unwrap_or(value);
    let numeric = match unsigned.split_once('.') {
        Some((i, f)) => digits(i) && digits(f),
        None => digits(unsigned),
    };
    if numeric {
        if let Ok(i) = value.parse::<i64>() {
            return Variable::Int(i);
        }
        if let Ok(u) = value.parse::<u64>() {
            return Variable::UInt(u);
        }
        if !value.contains('.') {
            // An integer too large even for u64: keep the digits rather than round them.
            return Variable::Text(value.to_owned());
        }
        if let Ok(f) = value.parse::<f64>()
            && f.is_finite()
        {
            return Variable::Float(f);
        }
    }
    Variable::Text(value.to_owned())
}

/// Flavour and numeric version from `@@version` and `@@version_comment`
/// (`10.11.6-MariaDB-0+deb12u1`, `8.0.36-0ubuntu0.22.04.1`, `5.5.5-10.1.48-MariaDB`).
#[must_use]
pub fn flavor_and_version(version: &str, comment: &str) -> (Flavor, u32, u32, u32) {
    let mariadb = version.to_ascii_lowercase().contains("mariadb")
        || comment.to_ascii_lowercase().contains("mariadb");
    // Old MariaDB replication handshakes prefix `5.5.5-`; `@@version` normally does not.
    let v = if mariadb {
        version.strip_prefix("5.5.5-").unwrap_or(version)
    } else {
        version
    };
    let mut nums = v
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map(|s| s.parse::<u32>().unwrap_or(0));
    let (a, b, c) = (
        nums.next().unwrap_or(0),
        nums.next().unwrap_or(0),
        nums.next().unwrap_or(0),
    );
    (
        if mariadb {
            Flavor::Mariadb
        } else {
            Flavor::Mysql
        },
        a,
        b,
        c,
    )
}

/// `hits / requests` as a %, where hits are the requests not answered by a miss. Absent with no
/// requests, so a zero window or a fresh server gives no figure rather than NaN.
#[must_use]
pub fn hit_rate_pct(misses: i64, requests: i64) -> Option<f64> {
    if requests <= 0 {
        return None;
    }
    pct(
        (requests - misses.clamp(0, requests)) as f64,
        requests as f64,
    )
}

/// The derived figures of the snapshot, from the status counters and the variables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    pub buffer_pool_hit_rate_pct: Option<f64>,
    pub buffer_pool_hit_rate_since_start_pct: Option<f64>,
    pub buffer_pool_size_bytes: Option<u64>,
    pub buffer_pool_vs_data_pct: Option<f64>,
    pub buffer_pool_vs_ram_pct: Option<f64>,
    pub connections_used_pct: Option<f64>,
    pub max_used_connections_pct: Option<f64>,
    pub thread_cache_hit_rate_pct: Option<f64>,
    pub thread_cache_hit_rate_since_start_pct: Option<f64>,
    pub connection_errors_delta: Option<i64>,
}

/// Computes [`Derived`]. `ram_bytes` is this host's RAM, given only when the server runs on
/// this host; `data_bytes` the InnoDB data size when known.
#[must_use]
pub fn derive(
    status: &BTreeMap<String, Counter>,
    variables: &BTreeMap<String, Variable>,
    data_bytes: Option<u64>,
    ram_bytes: Option<u64>,
) -> Derived {
    let total = |k: &str| status.get(k).map(|c| c.total);
    let delta = |k: &str| status.get(k).and_then(|c| c.delta);
    let var = |k: &str| variables.get(k).and_then(Variable::as_f64);

    let pool = var("innodb_buffer_pool_size").filter(|v| *v > 0.0);
    let max_conn = var("max_connections").unwrap_or(0.0);
    let errors: Vec<i64> = status
        .iter()
        .filter(|(k, _)| k.starts_with("Connection_errors_"))
        .filter_map(|(_, c)| c.delta)
        .collect();
    Derived {
        buffer_pool_hit_rate_pct: delta("Innodb_buffer_pool_reads")
            .zip(delta("Innodb_buffer_pool_read_requests"))
            .and_then(|(m, r)| hit_rate_pct(m, r)),
        buffer_pool_hit_rate_since_start_pct: total("Innodb_buffer_pool_reads")
            .zip(total("Innodb_buffer_pool_read_requests"))
            .and_then(|(m, r)| hit_rate_pct(m, r)),
        buffer_pool_size_bytes: pool.map(|p| p as u64),
        buffer_pool_vs_data_pct: pool.zip(data_bytes).and_then(|(p, d)| pct(p, d as f64)),
        buffer_pool_vs_ram_pct: pool.zip(ram_bytes).and_then(|(p, r)| pct(p, r as f64)),
        connections_used_pct: total("Threads_connected").and_then(|t| pct(t as f64, max_conn)),
        max_used_connections_pct: total("Max_used_connections")
            .and_then(|t| pct(t as f64, max_conn)),
        thread_cache_hit_rate_pct: delta("Threads_created")
            .zip(delta("Connections"))
            .and_then(|(m, r)| hit_rate_pct(m, r)),
        thread_cache_hit_rate_since_start_pct: total("Threads_created")
            .zip(total("Connections"))
            .and_then(|(m, r)| hit_rate_pct(m, r)),
        connection_errors_delta: (!errors.is_empty()).then(|| errors.iter().sum()),
    }
}

/// Whether "Aborted connection" notes reach the error log with these settings.
/// MySQL 8.0 manual, "Priority-Based Error Log Filtering": aborted connections and access-denied
/// errors are logged at `log_error_verbosity` 3; the default is 2 from 8.0 (3 in 5.7). MySQL
/// 5.6 and MariaDB log them when `log_warnings` is above 1 (MariaDB's default is 2; checked
/// against a MariaDB 10.11 server: logged at 2, not at 1).
#[must_use]
pub fn aborted_connections_logged(
    flavor: Flavor,
    major: u32,
    minor: u32,
    variables: &BTreeMap<String, Variable>,
) -> Option<bool> {
    let var = |k: &str| variables.get(k).and_then(Variable::as_f64);
    match flavor {
        Flavor::Mariadb => var("log_warnings").map(|v| v >= 2.0),
        Flavor::Mysql if (major, minor) >= (5, 7) => var("log_error_verbosity").map(|v| v >= 3.0),
        Flavor::Mysql => var("log_warnings").map(|v| v >= 2.0),
    }
}

/// What a reader must know to interpret the figures: that the error log cannot show aborted
/// connections with these settings, and where MariaDB counts refused connections.
#[must_use]
pub fn caveats(flavor: Flavor, aborted_logged: Option<bool>, d: &Derived) -> Vec<String> {
    let mut out = Vec::new();
    if aborted_logged == Some(false) {
        out.push(
            match flavor {
                Flavor::Mariadb => {
                    "the error log gets no \"Aborted connection\" lines at log_warnings < 2: their \
                     absence proves nothing; see global_status.Aborted_clients / Aborted_connects"
                }
                Flavor::Mysql => {
                    "the error log gets no \"Aborted connection\" notes at log_error_verbosity < 3 \
                     (MySQL 8's default is 2): their absence proves nothing; see \
                     global_status.Aborted_clients / Aborted_connects"
                }
            }
            .to_owned(),
        );
    }
    // Checked on MariaDB 10.11: a burst past max_connections raised Aborted_connects by the
    // number refused and Connection_errors_max_connections not at all.
    if flavor == Flavor::Mariadb && d.max_used_connections_pct.is_some_and(|p| p >= 100.0) {
        out.push(
            "max_connections was reached (max_used_connections_pct >= 100): MariaDB counts most \
             refused connections in Aborted_connects, not in Connection_errors_max_connections, \
             which only counts refusals before the handshake"
                .to_owned(),
        );
    }
    out
}

/// The error log's path from `log_error` and `datadir`: absolute as given, relative to the
/// datadir otherwise (the server's own rule); none when the server logs to stderr (empty, or
/// `stderr`), which under systemd means the journal.
#[must_use]
pub fn error_log_path(log_error: &str, datadir: &str) -> Option<std::path::PathBuf> {
    let v = log_error.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("stderr") {
        return None;
    }
    let p = std::path::Path::new(v);
    if p.is_absolute() {
        Some(p.to_path_buf())
    } else if datadir.is_empty() {
        None
    } else {
        Some(std::path::Path::new(datadir).join(p))
    }
}

/// The median of a few samples (the mean of the middle two for an even count).
#[must_use]
pub fn median(samples: &[f64]) -> Option<f64> {
    let mut s: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    Some(round2(if s.len() % 2 == 0 {
        f64::midpoint(s[m - 1], s[m])
    } else {
        s[m]
    }))
}

/// The largest sample.
#[must_use]
pub fn max(samples: &[f64]) -> Option<f64> {
    samples
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .reduce(f64::max)
        .map(round2)
}

#[cfg(test)]
mod tests {
    use super::super::processlist::summarize;
    use super::*;

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// MariaDB reports the history list in its status (growth over the window from both
    /// readings); MySQL does not, and then nothing is made up.
    #[test]
    fn history_list_from_the_status() {
        let start = kv(&[("Innodb_history_list_length", "20235")]);
        let end = kv(&[("Innodb_history_list_length", "22243")]);
        assert_eq!(history_list(&start, &end), (Some(22243), Some(2008)));
        assert_eq!(history_list(&[], &end), (Some(22243), None));
        let mysql = kv(&[("Uptime", "10")]);
        assert_eq!(history_list(&mysql, &mysql), (None, None));
    }

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, Variable> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), variable(k, v)))
            .collect()
    }

    #[test]
    fn status_counters_and_text() {
        let (c, t) = split_status(
            &kv(&[("Connections", "100"), ("Uptime", "10")]),
            &kv(&[
                ("Connections", "160"),
                ("Uptime", "12"),
                (
                    "Innodb_buffer_pool_load_status",
                    "Buffer pool(s) load completed",
                ),
                ("Last_query_cost", "0.000000"),
                ("Threads_running", "3"),
            ]),
            2.0,
        );
        assert_eq!(c["Connections"].delta, Some(60));
        assert_eq!(c["Connections"].per_s, Some(30.0));
        assert_eq!(c["Threads_running"], Counter::gauge(3));
        assert_eq!(t["Last_query_cost"], "0.000000");
        assert!(t.contains_key("Innodb_buffer_pool_load_status"));
    }

    #[test]
    fn variables_as_numbers_or_text() {
        assert_eq!(variable("max_connections", "151"), Variable::Int(151));
        assert_eq!(
            variable("performance_schema_max_cond_classes", "-1"),
            Variable::Int(-1)
        );
        assert_eq!(
            variable("max_binlog_cache_size", "18446744073709547520"),
            Variable::UInt(18_446_744_073_709_547_520)
        );
        assert_eq!(
            variable("long_query_time", "10.000000"),
            Variable::Float(10.0)
        );
        assert_eq!(
            variable("slow_query_log", "OFF"),
            Variable::Text("OFF".into())
        );
        assert_eq!(
            variable("version", "10.11.6-MariaDB"),
            Variable::Text("10.11.6-MariaDB".into())
        );
        assert_eq!(
            variable("innodb_version", "10.11.6"),
            Variable::Text("10.11.6".into())
        );
        assert_eq!(variable("x", "1e5"), Variable::Text("1e5".into()));
        assert_eq!(variable("x", ""), Variable::Text(String::new()));
        assert_eq!(variable("x", "-"), Variable::Text("-".into()));
        assert_eq!(
            variable("wsrep_sst_auth", "sst:hunter2"),
            Variable::Text("(redacted)".into())
        );
        assert_eq!(
            variable("report_password", ""),
            Variable::Text(String::new())
        );
    }

    #[test]
    fn flavours_and_versions() {
        assert_eq!(
            flavor_and_version("10.11.6-MariaDB-0+deb12u1", "Debian 12"),
            (Flavor::Mariadb, 10, 11, 6)
        );
        assert_eq!(
            flavor_and_version("5.5.5-10.1.48-MariaDB", ""),
            (Flavor::Mariadb, 10, 1, 48)
        );
        assert_eq!(
            flavor_and_version("8.0.36-0ubuntu0.22.04.1", "(Ubuntu)"),
            (Flavor::Mysql, 8, 0, 36)
        );
        assert_eq!(
            flavor_and_version("8.0.35-27", "Percona Server (GPL), Release 27"),
            (Flavor::Mysql, 8, 0, 35)
        );
        assert_eq!(
            flavor_and_version("11.4.2-MariaDB", ""),
            (Flavor::Mariadb, 11, 4, 2)
        );
        assert_eq!(flavor_and_version("garbage", ""), (Flavor::Mysql, 0, 0, 0));
    }

    fn status(pairs: &[(&str, i64, i64)]) -> BTreeMap<String, Counter> {
        pairs
            .iter()
            .map(|(k, a, b)| ((*k).to_owned(), Counter::between(*a, *b, 5.0)))
            .collect()
    }

    #[test]
    fn buffer_pool_figures() {
        let s = status(&[
            ("Innodb_buffer_pool_reads", 1_000, 1_500),
            ("Innodb_buffer_pool_read_requests", 100_000, 110_000),
        ]);
        let v = vars(&[("innodb_buffer_pool_size", "134217728")]);
        let d = derive(&s, &v, Some(536_870_912), Some(4 * 1_073_741_824));
        assert_eq!(d.buffer_pool_hit_rate_pct, Some(95.0)); // 500 misses in 10 000
        assert_eq!(d.buffer_pool_hit_rate_since_start_pct, Some(98.64)); // 1 500 in 110 000
        assert_eq!(d.buffer_pool_size_bytes, Some(134_217_728));
        assert_eq!(d.buffer_pool_vs_data_pct, Some(25.0));
        assert_eq!(d.buffer_pool_vs_ram_pct, Some(3.13));
    }

    #[test]
    fn connection_figures() {
        let s = status(&[
            ("Threads_connected", 140, 150),
            ("Max_used_connections", 151, 151),
            ("Threads_created", 10, 40),
            ("Connections", 1_000, 1_100),
            ("Connection_errors_max_connections", 5, 25),
            ("Connection_errors_internal", 0, 1),
        ]);
        let v = vars(&[("max_connections", "151")]);
        let d = derive(&s, &v, None, None);
        assert_eq!(d.connections_used_pct, Some(99.34));
        assert_eq!(d.max_used_connections_pct, Some(100.0));
        assert_eq!(d.thread_cache_hit_rate_pct, Some(70.0));
        assert_eq!(d.thread_cache_hit_rate_since_start_pct, Some(96.36));
        assert_eq!(d.connection_errors_delta, Some(21));
        assert_eq!(d.buffer_pool_vs_data_pct, None);
    }

    /// A server restarted a moment ago: every counter zero, no requests, an empty window.
    /// Nothing may be NaN or infinite; the figures without data are absent.
    #[test]
    fn fresh_server_has_no_nan_anywhere() {
        let names = [
            "Innodb_buffer_pool_reads",
            "Innodb_buffer_pool_read_requests",
            "Threads_connected",
            "Max_used_connections",
            "Threads_created",
            "Connections",
            "Connection_errors_max_connections",
        ];
        let s: BTreeMap<String, Counter> = names
            .iter()
            .map(|k| ((*k).to_owned(), Counter::between(0, 0, 0.0)))
            .collect();
        let v = vars(&[("innodb_buffer_pool_size", "0"), ("max_connections", "0")]);
        let d = derive(&s, &v, Some(0), Some(0));
        assert_eq!(
            d,
            Derived {
                connection_errors_delta: Some(0),
                ..Derived::default()
            }
        );
        let d = derive(&BTreeMap::new(), &BTreeMap::new(), None, None);
        assert_eq!(d, Derived::default());
        assert_eq!(hit_rate_pct(5, 0), None);
        assert_eq!(hit_rate_pct(-5, 10), Some(100.0));
        assert_eq!(hit_rate_pct(50, 10), Some(0.0));
        let p = summarize(&[], 1, false);
        assert_eq!(p.sleeping_max_idle_s, None);
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN]), None);
    }

    #[test]
    fn aborted_connection_logging_by_flavour() {
        let v = vars(&[("log_error_verbosity", "2"), ("log_warnings", "2")]);
        assert_eq!(
            aborted_connections_logged(Flavor::Mysql, 8, 0, &v),
            Some(false)
        );
        let v3 = vars(&[("log_error_verbosity", "3")]);
        assert_eq!(
            aborted_connections_logged(Flavor::Mysql, 5, 7, &v3),
            Some(true)
        );
        assert_eq!(
            aborted_connections_logged(Flavor::Mariadb, 10, 11, &v),
            Some(true)
        );
        let v1 = vars(&[("log_warnings", "1")]);
        assert_eq!(
            aborted_connections_logged(Flavor::Mariadb, 10, 11, &v1),
            Some(false)
        );
        assert_eq!(
            aborted_connections_logged(Flavor::Mysql, 5, 6, &v),
            Some(true)
        );
        assert_eq!(
            aborted_connections_logged(Flavor::Mysql, 8, 0, &BTreeMap::new()),
            None
        );
    }

    #[test]
    fn caveats_say_what_the_figures_cannot() {
        let full = Derived {
            max_used_connections_pct: Some(105.0),
            ..Derived::default()
        };
        let c = caveats(Flavor::Mysql, Some(false), &full);
        assert_eq!(c.len(), 1);
        assert!(c[0].contains("log_error_verbosity < 3"), "{c:?}");
        let c = caveats(Flavor::Mariadb, Some(true), &full);
        assert_eq!(c.len(), 1);
        assert!(c[0].contains("Aborted_connects"), "{c:?}");
        assert!(caveats(Flavor::Mariadb, None, &Derived::default()).is_empty());
    }

    #[test]
    fn error_log_paths() {
        use std::path::PathBuf;
        assert_eq!(
            error_log_path("/var/log/mysql/error.log", "/var/lib/mysql/"),
            Some(PathBuf::from("/var/log/mysql/error.log"))
        );
        assert_eq!(
            error_log_path("./vm.err", "/var/lib/mysql/"),
            Some(PathBuf::from("/var/lib/mysql/./vm.err"))
        );
        assert_eq!(error_log_path("", "/var/lib/mysql/"), None);
        assert_eq!(error_log_path("stderr", "/var/lib/mysql/"), None);
        assert_eq!(error_log_path("x.err", ""), None);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[0.3, 0.1, 0.2]), Some(0.2));
        assert_eq!(median(&[0.4, 0.1, 0.2, 0.3]), Some(0.25));
        assert_eq!(max(&[0.4, 0.1, f64::INFINITY]), Some(0.4));
        assert_eq!(max(&[]), None);
    }
}
