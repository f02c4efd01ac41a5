//! What the server was told: its settings from its command line and its option files, read the
//! way `mysqld` reads them, for when the server cannot be asked (`SHOW VARIABLES` needs a login,
//! and at `max_connections` there is none to be had).
//!
//! Order, later wins (MySQL manual "Using Option Files", MariaDB "Configuring MariaDB with Option
//! Files"): `/etc/my.cnf`, `/etc/mysql/my.cnf`, `--defaults-extra-file`, then the command line;
//! `--defaults-file` replaces the files, `--no-defaults` drops them. The server reads the groups
//! `[mysqld]`, `[server]` and, MariaDB, `[mariadb]`, `[mariadbd]`, `[client-server]`;
//! version-suffixed groups (`[mariadb-10.11]`) need the version, which is not known without a
//! login, so they are left out and said so. Files are read under the server's root
//! (`/proc/<pid>/root`), so a server in a container is read in its own filesystem.

use super::derive;
use super::optfile;
use crate::snapshot::{ServerOption, Variable};
use std::collections::BTreeMap;
use std::path::Path;

/// The option files the server reads when nothing says otherwise.
const DEFAULT_FILES: &[&str] = &["/etc/my.cnf", "/etc/mysql/my.cnf"];

/// The groups the server reads.
const GROUPS: &[&str] = &["mysqld", "server", "mariadb", "mariadbd", "client-server"];

/// Compiled-in defaults of the settings doctor's rules use when nothing sets them: the same in
/// MySQL 5.7/8.x and MariaDB 10.x/11.x (their manuals' server system variable pages).
const DEFAULTS: &[(&str, i64)] = &[
    ("max_connections", 151),
    ("wait_timeout", 28_800),
    ("interactive_timeout", 28_800),
    ("innodb_buffer_pool_size", 134_217_728),
    ("max_user_connections", 0),
];

/// The server's settings and where they were read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub options: BTreeMap<String, ServerOption>,
    pub files: Vec<String>,
    pub notes: Vec<String>,
}

/// Reads the settings of the server whose command line is `args` (argv, the program first),
/// with its files under `root`.
#[must_use]
pub fn read(args: &[String], root: &Path) -> Settings {
    let mut s = Settings::default();
    let cmd = parse_command_line(args.get(1..).unwrap_or_default());
    let files: Vec<String> = if cmd.no_defaults {
        Vec::new()
    } else if let Some(f) = &cmd.defaults_file {
        vec![f.clone()]
    } else {
        DEFAULT_FILES
            .iter()
            .map(|f| (*f).to_owned())
            .chain(cmd.defaults_extra_file.clone())
            .collect()
    };
    let named = cmd.defaults_file.is_some() || cmd.defaults_extra_file.is_some();
    let mut skipped_groups: Vec<String> = Vec::new();
    for file in &files {
        let path = Path::new(file);
        if !optfile::under(root, path).exists() && !named {
            continue;
        }
        let read = optfile::walk(path, root, &mut |e| {
            let group_ok = GROUPS.contains(&e.group)
                || cmd
                    .group_suffix
                    .as_ref()
                    .is_some_and(|sfx| GROUPS.iter().any(|g| e.group == format!("{g}{sfx}")));
            if group_ok {
                set(
                    &mut s.options,
                    e.name,
                    e.value,
                    format!("{}:{}", e.file, e.line),
                );
            } else if is_versioned_server_group(e.group)
                && !skipped_groups.iter().any(|g: &String| g == e.group)
            {
                skipped_groups.push(e.group.to_owned());
            }
        });
        match read {
            Ok(read) => s.files.extend(read),
            Err(e) => s.notes.push(format!("the server's option file {e}")),
        }
    }
    for g in skipped_groups {
        s.notes.push(format!(
            "the option group [{g}] is not applied: it is for one server version, and the version \
             is only known after a login"
        ));
    }
    for (name, value) in &cmd.options {
        set(
            &mut s.options,
            name,
            value.as_deref(),
            "command line".to_owned(),
        );
    }
    clamp_like_mariadb(args, &mut s.options);
    for (name, value) in DEFAULTS {
        s.options
            .entry((*name).to_owned())
            .or_insert_with(|| ServerOption {
                value: Variable::Int(*value),
                from: "default".to_owned(),
            });
    }
    s
}

/// MariaDB raises a `max_connections` below 10 to 10 (its documented range is 10–100000; seen
/// here: `--max_connections=6` gives `@@max_connections` 10). Only for `mariadbd`: a `mysqld`
/// may be MySQL, whose minimum is 1, or MariaDB before 10.5.
fn clamp_like_mariadb(args: &[String], options: &mut BTreeMap<String, ServerOption>) {
    let mariadb = args
        .first()
        .is_some_and(|a| a.rsplit('/').next() == Some("mariadbd"));
    if let Some(o) = options.get_mut("max_connections")
        && mariadb
        && o.value.as_f64().is_some_and(|v| v < 10.0)
    {
        o.from = format!(
            "{}; raised to MariaDB's minimum 10 (set to {})",
            o.from, o.value
        );
        o.value = Variable::Int(10);
    }
}

fn is_versioned_server_group(group: &str) -> bool {
    ["mysqld-", "mariadb-", "mariadbd-"].iter().any(|p| {
        group
            .strip_prefix(p)
            .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// Records one setting: `loose-` dropped, `skip-x` meaning `x = OFF`, sizes with suffixes in
/// bytes, credentials redacted (as the `mysql` section's variables are).
fn set(
    options: &mut BTreeMap<String, ServerOption>,
    name: &str,
    value: Option<&str>,
    from: String,
) {
    let name = name.strip_prefix("loose_").unwrap_or(name);
    let (name, value) = match (name.strip_prefix("skip_"), value) {
        (Some(n), None) => (n, Some("OFF")),
        _ => (name, value),
    };
    let value = match value {
        Some(v) => size(v).map_or_else(|| derive::variable(name, v), Variable::Int),
        None => Variable::Text("ON".to_owned()),
    };
    options.insert(name.to_owned(), ServerOption { value, from });
}

/// `128M`, `1G`, `64k` in bytes (`my_getopt`'s suffixes K, M, G, T, P, E, case-insensitive).
#[must_use]
pub fn size(v: &str) -> Option<i64> {
    let v = v.trim();
    let last = v.chars().last()?;
    let shift = match last.to_ascii_uppercase() {
        'K' => 10,
        'M' => 20,
        'G' => 30,
        'T' => 40,
        'P' => 50,
        'E' => 60,
        _ => return None,
    };
    let n: i64 = v[..v.len() - 1].parse().ok()?;
    n.checked_mul(1_i64.checked_shl(shift)?)
}

/// The server's command line, split into the option-file directives and the settings.
#[derive(Debug, Default, PartialEq)]
struct CommandLine {
    no_defaults: bool,
    defaults_file: Option<String>,
    defaults_extra_file: Option<String>,
    group_suffix: Option<String>,
    options: Vec<(String, Option<String>)>,
}

/// `--name=value`, `--name value` (a value not starting with `-`), bare `--name`, and the short
/// forms `-P port`, `-h datadir`, `-u user`; names lower case with `-` spelled `_`.
fn parse_command_line(args: &[String]) -> CommandLine {
    let mut c = CommandLine::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        let (name, mut value) = if let Some(long) = arg.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => (n.to_ascii_lowercase().replace('-', "_"), Some(v.to_owned())),
                None => (long.to_ascii_lowercase().replace('-', "_"), None),
            }
        } else if let Some(short) = arg.strip_prefix('-') {
            let (flag, rest) = short.split_at(short.len().min(1));
            let name = match flag {
                "P" => "port",
                "h" => "datadir",
                "u" => "user",
                _ => continue,
            };
            let v = if rest.is_empty() {
                let v = args.get(i).cloned();
                i += 1;
                v
            } else {
                Some(rest.to_owned())
            };
            (name.to_owned(), v)
        } else {
            continue;
        };
        if value.is_none()
            && let Some(next) = args.get(i)
            && !next.starts_with('-')
        {
            value = Some(next.clone());
            i += 1;
        }
        match name.as_str() {
            "no_defaults" => c.no_defaults = true,
            "defaults_file" => c.defaults_file = value,
            "defaults_extra_file" => c.defaults_extra_file = value,
            "defaults_group_suffix" => c.group_suffix = value,
            _ => c.options.push((name, value)),
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn sizes() {
        assert_eq!(size("128M"), Some(134_217_728));
        assert_eq!(size("1g"), Some(1 << 30));
        assert_eq!(size("64K"), Some(65_536));
        assert_eq!(size("300"), None);
        assert_eq!(size("M"), None);
        assert_eq!(size("99999999999E"), None);
    }

    /// The command line of the tests' private servers (`tests/support/mariadb.rs`).
    #[test]
    fn command_line_overrides_and_no_defaults() {
        let root = tempfile::tempdir().unwrap();
        let s = read(
            &args(
                "/usr/sbin/mariadbd --no-defaults --user=root --datadir=/tmp/d --port=33101 \
                 --max_connections=20 --wait-timeout 28800 --skip-log-bin \
                 --innodb-buffer-pool-size=6M --loose-extra_port=33102 -P 1",
            ),
            root.path(),
        );
        let v = |k: &str| (s.options[k].value.to_string(), s.options[k].from.as_str());
        assert_eq!(v("max_connections"), ("20".into(), "command line"));
        assert_eq!(v("wait_timeout"), ("28800".into(), "command line"));
        assert_eq!(v("log_bin"), ("OFF".into(), "command line"));
        assert_eq!(
            v("innodb_buffer_pool_size"),
            ("6291456".into(), "command line")
        );
        assert_eq!(v("extra_port"), ("33102".into(), "command line"));
        assert_eq!(v("port"), ("1".into(), "command line"));
        assert_eq!(v("interactive_timeout"), ("28800".into(), "default"));
        assert!(s.files.is_empty());
        // MariaDB's minimum, not MySQL's.
        let s = read(
            &args("/usr/sbin/mariadbd --no-defaults --max_connections=6"),
            root.path(),
        );
        assert_eq!(s.options["max_connections"].value, Variable::Int(10));
        assert!(s.options["max_connections"].from.contains("set to 6"));
        let s = read(
            &args("/usr/sbin/mysqld --no-defaults --max_connections=6"),
            root.path(),
        );
        assert_eq!(s.options["max_connections"].value, Variable::Int(6));
    }

    /// Debian's layout: `/etc/mysql/my.cnf` includes `mariadb.conf.d`, read under a container's
    /// root; the command line wins; a version group is not applied and is said so.
    #[test]
    fn option_files_under_a_root() {
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join("etc/mysql/mariadb.conf.d");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            root.path().join("etc/mysql/my.cnf"),
            "[client-server]\nport = 3306\n!includedir /etc/mysql/mariadb.conf.d/\n",
        )
        .unwrap();
        std::fs::write(
            d.join("50-server.cnf"),
            "[mysqld]\nmax_connections = 300\nwait_timeout = 600\npassword = s3cret\n\
             [mariadb-10.11]\nmax_connections = 5\n[client]\nport = 1\n",
        )
        .unwrap();
        let s = read(&args("/usr/sbin/mariadbd --wait_timeout=60"), root.path());
        assert_eq!(s.options["max_connections"].value, Variable::Int(300));
        assert_eq!(
            s.options["max_connections"].from,
            "/etc/mysql/mariadb.conf.d/50-server.cnf:2"
        );
        assert_eq!(s.options["wait_timeout"].value, Variable::Int(60));
        assert_eq!(s.options["port"].value, Variable::Int(3306));
        assert_eq!(
            s.options["password"].value,
            Variable::Text("(redacted)".into())
        );
        assert_eq!(
            s.files,
            vec![
                "/etc/mysql/my.cnf",
                "/etc/mysql/mariadb.conf.d/50-server.cnf"
            ]
        );
        assert!(s.notes[0].contains("[mariadb-10.11]"), "{:?}", s.notes);
        // A file named on the command line that cannot be read is a note, not silence.
        let s = read(
            &args("/usr/sbin/mysqld --defaults-file=/etc/nope.cnf"),
            root.path(),
        );
        assert!(s.notes[0].contains("/etc/nope.cnf"), "{:?}", s.notes);
    }
}
