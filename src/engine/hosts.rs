//! Several hosts analysed together: each host's snapshot through the same rules, then one
//! ranking in which a cause on the database's host explains an application's wait on another
//! host (the app host's exhausted pool under the database host's slow disk).
//!
//! Which host's application uses which host's database is read off the snapshots, never
//! assumed from names: the app host's doctor read the same MySQL server as the database host's
//! (same `@@hostname`, `@@port`, `@@server_id`); or the app host's connections go to one of the
//! database host's addresses, on a port its MySQL server listens on; or the app host reads no
//! MySQL of its own and exactly one host runs one. Only an application-layer symptom — an application waiting on
//! its database — is explained across hosts; a busy CPU on one machine explains nothing about
//! another's accept queue.

use super::class::{Kind, Layer};
use super::outcome::{Analysis, Finding, NotChecked, PartlyChecked};
use super::{Catalogue, rank};
use crate::snapshot::{Mysql, Snapshot, Status, Variable};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// One host to analyse.
#[derive(Debug, Clone, Copy)]
pub struct Host<'a> {
    pub name: &'a str,
    pub snapshot: &'a Snapshot,
}

/// The analysis of several hosts.
#[derive(Debug, Clone)]
pub struct HostsAnalysis {
    /// Every host's findings, ranked together; each names its host, and `explains` and
    /// `explained_by` are `id@host`.
    pub findings: Vec<Finding>,
    /// Rules not checked on a host, unless another host checked them (a database rule is not
    /// checked on an app host without MySQL, and needs not be).
    pub not_checked: Vec<NotChecked>,
    pub partly_checked: Vec<PartlyChecked>,
    /// Rules checked somewhere and firing nowhere.
    pub passed: Vec<String>,
    /// Each host's own analysis (its headline figures; its findings before the joint ranking).
    pub per_host: Vec<Analysis>,
    pub databases: Vec<DatabaseLink>,
    pub clocks: Vec<ClockNote>,
}

/// An application host and the host whose MySQL server it uses.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DatabaseLink {
    pub app: String,
    pub database: String,
    /// How doctor knows.
    pub how: String,
}

/// What the hosts' clocks and windows say about reading them as one moment.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ClockNote {
    pub hosts: [String; 2],
    /// How far the first host's clock is ahead of the second's (negative: behind), when it
    /// could be measured: both read the same MySQL server's `Uptime`, which dates the server's
    /// start by each host's clock (±2 s: `Uptime` is whole seconds, read at each window's end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skew_s: Option<f64>,
    /// Seconds between the two windows (0 when they overlap), on the first host's clock once a
    /// measured skew is taken out.
    pub gap_s: f64,
    pub text: String,
}

/// Skews below this are within the measurement's resolution.
const SKEW_RESOLUTION_S: f64 = 2.0;
/// Two readings of one server whose start dates differ by more than this are of two runs of
/// it (a restart between them), or the clocks are wrong by more than doctor will guess.
const SAME_START_S: f64 = 3600.0;

/// Analyses each host with the catalogue and ranks the findings together.
#[must_use]
pub fn analyze(catalogue: &Catalogue, hosts: &[Host<'_>]) -> HostsAnalysis {
    let per_host: Vec<Analysis> = std::thread::scope(|scope| {
        let jobs: Vec<_> = hosts
            .iter()
            .map(|h| scope.spawn(move || super::analyze(catalogue, h.snapshot)))
            .collect();
        jobs.into_iter()
            .map(|j| j.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let databases = databases(hosts);
    let findings = rank_together(catalogue, hosts, &per_host, &databases);
    let (not_checked, partly_checked, passed) = merge_unfired(hosts, &per_host);
    HostsAnalysis {
        findings,
        not_checked,
        partly_checked,
        passed,
        clocks: clocks(hosts),
        per_host,
        databases,
    }
}

/// Every host's findings in one ranking. Ids are qualified `id@host` for [`rank::rank`], then
/// put back, the host in its own field.
fn rank_together(
    catalogue: &Catalogue,
    hosts: &[Host<'_>],
    per_host: &[Analysis],
    databases: &[DatabaseLink],
) -> Vec<Finding> {
    let qualified = |id: &str, host: &str| format!("{id}@{host}");
    let mut fired = Vec::new();
    let mut origin: HashMap<String, (String, String)> = HashMap::new();
    for (h, a) in hosts.iter().zip(per_host) {
        for f in &a.findings {
            let mut f = f.clone();
            let q = qualified(&f.id, h.name);
            origin.insert(q.clone(), (f.id.clone(), h.name.to_owned()));
            f.id = q;
            f.host = Some(h.name.to_owned());
            f.explains.clear();
            f.explained_by = None;
            for e in &mut f.evidence {
                e.host = Some(h.name.to_owned());
            }
            fired.push(f);
        }
    }
    let rule_explains: HashMap<&str, &[String]> = catalogue
        .rules
        .iter()
        .map(|r| (r.id.as_str(), r.explains.as_slice()))
        .collect();
    let uses = |app: &str, db: &str| databases.iter().any(|l| l.app == app && l.database == db);
    let mut explains: HashMap<String, Vec<String>> = HashMap::new();
    for cause in fired.iter().filter(|f| f.kind == Kind::RootCause) {
        let (cause_id, cause_host) = &origin[&cause.id];
        let Some(targets) = rule_explains.get(cause_id.as_str()) else {
            continue;
        };
        let list = explains.entry(cause.id.clone()).or_default();
        for f in &fired {
            let (id, host) = &origin[&f.id];
            let across = host != cause_host
                && f.layer == Layer::App
                && f.kind == Kind::Symptom
                && uses(host, cause_host);
            if targets.contains(id) && (host == cause_host || across) {
                list.push(f.id.clone());
            }
        }
    }
    let explains_ref: HashMap<&str, &[String]> = explains
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    let mut ranked = rank::rank(fired, &explains_ref);
    for f in &mut ranked {
        if let Some((id, _)) = origin.get(&f.id) {
            f.id.clone_from(id);
        }
    }
    ranked
}

/// Rules that did not fire: not checked (or checked in part) where no other host checked
/// them; passed where they were checked and fired nowhere.
fn merge_unfired(
    hosts: &[Host<'_>],
    per_host: &[Analysis],
) -> (Vec<NotChecked>, Vec<PartlyChecked>, Vec<String>) {
    let fired: BTreeSet<&str> = per_host
        .iter()
        .flat_map(|a| a.findings.iter().map(|f| f.id.as_str()))
        .collect();
    let passed_somewhere: BTreeSet<&str> = per_host
        .iter()
        .flat_map(|a| a.passed.iter().map(String::as_str))
        .collect();
    let checked = |id: &str| fired.contains(id) || passed_somewhere.contains(id);
    let mut not_checked = Vec::new();
    let mut partly_checked = Vec::new();
    for (h, a) in hosts.iter().zip(per_host) {
        for n in a.not_checked.iter().filter(|n| !checked(&n.id)) {
            let mut n = n.clone();
            n.host = Some(h.name.to_owned());
            not_checked.push(n);
        }
        for p in a.partly_checked.iter().filter(|p| !checked(&p.id)) {
            let mut p = p.clone();
            p.host = Some(h.name.to_owned());
            partly_checked.push(p);
        }
    }
    let passed = passed_somewhere
        .iter()
        .filter(|id| !fired.contains(*id))
        .map(|id| (*id).to_owned())
        .collect();
    (not_checked, partly_checked, passed)
}

/// A MySQL server as its variables name it: the machine's hostname, the port, the server id.
fn server_identity(m: &Mysql) -> Option<(String, String, String)> {
    let text = |name: &str| {
        m.variables.get(name).map(|v| match v {
            Variable::Int(i) => i.to_string(),
            Variable::UInt(u) => u.to_string(),
            Variable::Float(f) => f.to_string(),
            Variable::Text(t) => t.clone(),
        })
    };
    Some((text("hostname")?, text("port")?, text("server_id")?))
}

fn mysql_read(s: &Snapshot) -> Option<&Mysql> {
    s.mysql.get().filter(|_| s.mysql.status == Status::Ok)
}

/// Whether the host runs the MySQL server it read (doctor found its process or its pid file).
/// A server's status pasted into `doctor import` is taken as that host's own: the paste is
/// the database host's view.
#[must_use]
pub fn serves_database(s: &Snapshot) -> bool {
    mysql_read(s).is_some_and(|m| m.server_pid.is_some() || s.imported.is_some())
        || s.mysql_server.status == Status::Ok
}

/// Which host's application uses which host's database.
fn databases(hosts: &[Host<'_>]) -> Vec<DatabaseLink> {
    let servers: Vec<&Host<'_>> = hosts
        .iter()
        .filter(|h| serves_database(h.snapshot))
        .collect();
    let mut links = Vec::new();
    for app in hosts {
        let own = mysql_read(app.snapshot).and_then(server_identity);
        for db in servers.iter().filter(|d| d.name != app.name) {
            let theirs = mysql_read(db.snapshot).and_then(server_identity);
            let how = match (&own, &theirs) {
                (Some(a), Some(b)) if a == b && !serves_database(app.snapshot) => format!(
                    "{} read the MySQL server that runs on {} (@@hostname {}, port {}, \
                     server_id {})",
                    app.name, db.name, a.0, a.1, a.2
                ),
                _ if !serves_database(app.snapshot)
                    && let Some((remote, sockets)) = connections_to(app.snapshot, db.snapshot) =>
                {
                    format!(
                        "{} has {sockets} connection{} to {remote}, an address of {} where its \
                         MySQL server listens",
                        app.name,
                        if sockets == 1 { "" } else { "s" },
                        db.name
                    )
                }
                _ if own.is_none() && !serves_database(app.snapshot) && servers.len() == 1 => {
                    format!(
                        "{} read no MySQL server of its own, and {} is the only host running one",
                        app.name, db.name
                    )
                }
                _ => continue,
            };
            links.push(DatabaseLink {
                app: app.name.to_owned(),
                database: db.name.to_owned(),
                how,
            });
        }
    }
    links
}

/// The ports `s`'s own MySQL server listens on: its `@@port`, and the ports its process was
/// seen listening on.
fn mysql_ports(s: &Snapshot) -> BTreeSet<u16> {
    let mut ports = BTreeSet::new();
    match mysql_read(s).and_then(|m| m.variables.get("port")) {
        Some(Variable::Int(p)) => ports.extend(u16::try_from(*p).ok()),
        Some(Variable::UInt(p)) => ports.extend(u16::try_from(*p).ok()),
        _ => {}
    }
    if let Some(process) = s.mysql_server.get().and_then(|m| m.process.as_ref()) {
        ports.extend(process.ports.iter().copied());
    }
    ports
}

/// The busiest of `app`'s connections (on ephemeral ports, as `tcp.local_ports` lists them) to
/// an address of `db`'s and a port its MySQL server listens on: `address:port` and how many.
fn connections_to(app: &Snapshot, db: &Snapshot) -> Option<(String, u32)> {
    let ports = mysql_ports(db);
    let addresses: BTreeSet<std::net::IpAddr> = db
        .host
        .addresses
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect();
    let destinations = &app.tcp.get()?.local_ports.as_ref()?.destinations;
    destinations
        .iter()
        .filter(|d| {
            d.remote
                .parse::<std::net::SocketAddr>()
                .is_ok_and(|r| addresses.contains(&r.ip()) && ports.contains(&r.port()))
        })
        .max_by_key(|d| d.sockets)
        .map(|d| (d.remote.clone(), d.sockets))
}

/// When, by its host's clock, the server a snapshot's MySQL section read was started (ms since
/// the epoch), and its identity.
fn server_start(s: &Snapshot) -> Option<((String, String, String), f64)> {
    if s.imported.is_some() {
        return None;
    }
    let m = mysql_read(s)?;
    let uptime = m.global_status.get("Uptime")?.total as f64;
    let end = s.window.start_unix_ms as f64 + s.window.elapsed_ms;
    Some((server_identity(m)?, end - uptime * 1000.0))
}

/// Each pair of hosts: their clock skew where it can be measured, and how far apart their
/// windows were.
fn clocks(hosts: &[Host<'_>]) -> Vec<ClockNote> {
    let mut notes = Vec::new();
    for (i, a) in hosts.iter().enumerate() {
        for b in &hosts[i + 1..] {
            notes.push(clock_pair(a, b));
        }
    }
    notes
}

fn clock_pair(a: &Host<'_>, b: &Host<'_>) -> ClockNote {
    if let Some(h) = [a, b].into_iter().find(|h| h.snapshot.imported.is_some()) {
        return ClockNote {
            hosts: [a.name.to_owned(), b.name.to_owned()],
            skew_s: None,
            gap_s: 0.0,
            text: format!(
                "{} was imported from pasted text, which does not say when it was taken: \
                 whether {} and {} describe one moment is not known",
                h.name, a.name, b.name
            ),
        };
    }
    let skew_s = match (server_start(a.snapshot), server_start(b.snapshot)) {
        (Some((ia, sa)), Some((ib, sb))) if ia == ib && (sa - sb).abs() / 1000.0 < SAME_START_S => {
            Some(((sa - sb) / 1000.0).round())
        }
        _ => None,
    };
    let window = |s: &Snapshot| {
        let start = s.window.start_unix_ms as f64 / 1000.0;
        (start, start + s.window.elapsed_ms / 1000.0)
    };
    let (a0, a1) = window(a.snapshot);
    let (b0, b1) = window(b.snapshot);
    // On a's clock: b's window moved by the skew.
    let shift = skew_s.unwrap_or(0.0);
    let (b0, b1) = (b0 + shift, b1 + shift);
    let gap_s = if a1 < b0 {
        b0 - a1
    } else if b1 < a0 {
        a0 - b1
    } else {
        0.0
    };
    let gap_s = (gap_s * 10.0).round() / 10.0;
    let skew_text = match skew_s {
        Some(s) if s.abs() >= SKEW_RESOLUTION_S => format!(
            "{}'s clock is {} s {} {}'s (both read the same MySQL server's Uptime, ±2 s)",
            a.name,
            s.abs(),
            if s > 0.0 { "ahead of" } else { "behind" },
            b.name
        ),
        Some(_) => format!(
            "{} and {} agree on the time within 2 s (both read the same MySQL server's Uptime)",
            a.name, b.name
        ),
        None => format!(
            "the clocks of {} and {} cannot be compared (no reading both took of one server; \
             run doctor on the app host with --mysql pointing at the database to measure it)",
            a.name, b.name
        ),
    };
    let window_text = if gap_s > 0.0 {
        format!(
            "their windows are {gap_s} s apart{}: findings that connect them may describe \
             different moments",
            if skew_s.is_some() {
                " once the skew is taken out"
            } else {
                " by their own clocks"
            }
        )
    } else {
        "their windows overlap".to_owned()
    };
    ClockNote {
        hosts: [a.name.to_owned(), b.name.to_owned()],
        skew_s,
        gap_s,
        text: format!("{skew_text}; {window_text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Snapshot {
        crate::snapshot::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/{name}.json")),
        )
        .unwrap()
    }

    fn catalogue() -> Catalogue {
        Catalogue::load(None).unwrap()
    }

    /// The app host's view of the pool scenario, made from the recorded fixture by leaving its
    /// MySQL out (hand-derived: an app host whose doctor has no access to the database; the
    /// logs, TCP and processes are as recorded).
    fn app_host() -> Snapshot {
        let mut s = fixture("pool-queue-limit");
        s.mysql = crate::snapshot::Section::skipped("--no-mysql");
        s.mysql_server = crate::snapshot::Section::skipped("--no-mysql");
        s
    }

    #[test]
    fn the_database_hosts_cause_explains_the_app_hosts_pool() {
        let (app, db) = (app_host(), fixture("mysql-slow-disk"));
        let hosts = [
            Host {
                name: "app1",
                snapshot: &app,
            },
            Host {
                name: "db1",
                snapshot: &db,
            },
        ];
        let a = analyze(&catalogue(), &hosts);
        assert_eq!(a.databases.len(), 1, "{:?}", a.databases);
        assert_eq!(
            (
                a.databases[0].app.as_str(),
                a.databases[0].database.as_str()
            ),
            ("app1", "db1")
        );
        let ids: Vec<(&str, Option<&str>, Option<&str>)> = a
            .findings
            .iter()
            .map(|f| (f.id.as_str(), f.host.as_deref(), f.explained_by.as_deref()))
            .collect();
        assert_eq!(
            ids,
            [
                ("disk-io-saturation", Some("db1"), None),
                (
                    "db-pool-exhausted",
                    Some("app1"),
                    Some("disk-io-saturation@db1")
                ),
                (
                    "mysql-slow-storage",
                    Some("db1"),
                    Some("disk-io-saturation@db1")
                ),
            ]
        );
        assert!(
            a.findings
                .iter()
                .all(|f| f.evidence.iter().all(|e| e.host == f.host))
        );
        // The database's rules are checked on db1: not "not checked" because app1 has no MySQL.
        assert!(
            !a.not_checked.iter().any(|n| n.id.starts_with("mysql-")),
            "{:?}",
            a.not_checked
        );
    }

    /// Two database hosts, and an app host that reads neither: its connections to one of them
    /// tie it to that one. Hand-derived from recorded fixtures: the addresses (which one machine
    /// cannot give two hosts; `tests/hosts_live.rs` checks the link for real across network
    /// namespaces) and the app's destination, moved from the loopback to an address of db1.
    #[test]
    fn the_app_hosts_connections_name_its_database_host() {
        let mut app = app_host();
        let (mut db1, mut db2) = (fixture("mysql-slow-disk"), fixture("mysql-slow-disk"));
        db1.host.addresses = vec!["10.0.0.5".to_owned()];
        db2.host.addresses = vec!["10.0.0.6".to_owned(), "fd00::6".to_owned()];
        let hosts = |app: &Snapshot| {
            let a = analyze(
                &catalogue(),
                &[
                    Host {
                        name: "app1",
                        snapshot: app,
                    },
                    Host {
                        name: "db1",
                        snapshot: &db1,
                    },
                    Host {
                        name: "db2",
                        snapshot: &db2,
                    },
                ],
            );
            a.databases
        };
        // The recorded app's pool connects over the loopback: no host is its database host.
        assert!(hosts(&app).is_empty());
        let ports = app.tcp.data.as_mut().unwrap().local_ports.as_mut().unwrap();
        // The recorded server listens on 33356 (`@@port`, and its process's listener).
        ports.destinations[1].remote = "10.0.0.5:33356".to_owned();
        let links = hosts(&app);
        assert_eq!(links.len(), 1, "{links:?}");
        assert_eq!(
            (links[0].app.as_str(), links[0].database.as_str()),
            ("app1", "db1")
        );
        assert_eq!(
            links[0].how,
            "app1 has 6 connections to 10.0.0.5:33356, an address of db1 where its MySQL server \
             listens"
        );
        // Another port on that address is not its MySQL server.
        let ports = app.tcp.data.as_mut().unwrap().local_ports.as_mut().unwrap();
        ports.destinations[1].remote = "10.0.0.5:3306".to_owned();
        assert!(hosts(&app).is_empty());
        // IPv6 in brackets, as the destinations write it.
        let ports = app.tcp.data.as_mut().unwrap().local_ports.as_mut().unwrap();
        ports.destinations[1].remote = "[fd00::6]:33356".to_owned();
        let links = hosts(&app);
        assert_eq!(links.len(), 1, "{links:?}");
        assert_eq!(links[0].database, "db2");
    }

    #[test]
    fn an_app_with_its_own_database_is_not_explained_by_another_hosts() {
        let (app, db) = (fixture("pool-queue-limit"), fixture("mysql-slow-disk"));
        let hosts = [
            Host {
                name: "app1",
                snapshot: &app,
            },
            Host {
                name: "db1",
                snapshot: &db,
            },
        ];
        let a = analyze(&catalogue(), &hosts);
        assert!(a.databases.is_empty(), "{:?}", a.databases);
        let pool = a
            .findings
            .iter()
            .find(|f| f.id == "db-pool-exhausted")
            .unwrap();
        assert_eq!(pool.explained_by, None);
        // Not one moment: recorded a minute apart, and said.
        assert_eq!(a.clocks.len(), 1);
        assert!(a.clocks[0].gap_s > 60.0, "{:?}", a.clocks);
        assert!(
            a.clocks[0].text.contains("cannot be compared"),
            "{}",
            a.clocks[0].text
        );
    }

    /// The same server read from two hosts, one of whose clocks is 30 s ahead (hand-shifted:
    /// the window's start moved, as that host's clock would have written it).
    #[test]
    fn a_skew_is_measured_from_the_server_both_read() {
        let db = fixture("mysql-slow-disk");
        let mut app = db.clone();
        app.mysql_server = crate::snapshot::Section::skipped("not on this host");
        app.mysql.data.as_mut().unwrap().server_pid = None;
        app.window.start_unix_ms += 30_000;
        let hosts = [
            Host {
                name: "app1",
                snapshot: &app,
            },
            Host {
                name: "db1",
                snapshot: &db,
            },
        ];
        let a = analyze(&catalogue(), &hosts);
        assert_eq!(a.clocks[0].skew_s, Some(30.0));
        assert_eq!(
            a.clocks[0].gap_s, 0.0,
            "the skew taken out, the windows are one"
        );
        assert!(
            a.clocks[0]
                .text
                .starts_with("app1's clock is 30 s ahead of db1's"),
            "{}",
            a.clocks[0].text
        );
        assert!(
            a.databases[0]
                .how
                .contains("read the MySQL server that runs on db1")
        );
    }
}
