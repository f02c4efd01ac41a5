//! The keys of the snapshot's maps whose names are known ahead: kernel counters, sysctls, the
//! server's status and variables, the log patterns' ids and categories. A key a rule reads of
//! such a map is checked against its list, with a policy that depends on who defines the names.
//!
//! | map | names from | a name not listed |
//! | --- | --- | --- |
//! | `tcp.sysctls` | the collector's own list (`collect::tcp::SYSCTLS`) | an error: the collector reads no other |
//! | `mysql.global_status`, `global_status_text` | `rules/names/mysql-status.txt` | an error when one or two edits from a listed name ("did you mean"); else accepted with a note (a newer server's) |
//! | `mysql.variables`, `mysql_server.options` | `rules/names/mysql-variables.txt` (+ `mysql-options.txt`) | the same |
//! | `tcp.counters` (and a container's) | `rules/names/tcp-counters.txt` | never an error (kernels add counters): a warning when one or two edits from a listed name, else a note |
//! | `logs.patterns`, `logs.categories` (and a source's `matches`, `categories`) | the loaded log patterns | with `--patterns` known (`doctor check`): an error; else as the server's names (a pattern of one's own may be loaded elsewhere) |

use super::distance;
use std::sync::OnceLock;

/// Which list a map's keys are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keys {
    /// Keys are data: any is fine.
    Any,
    TcpCounters,
    TcpSysctls,
    MysqlStatus,
    MysqlVariables,
    MysqlOptions,
    LogPatterns,
    LogCategories,
}

/// The maps with known keys: `(object in the snapshot's schema, field)`. The catalogue test
/// checks that each one is a map of the snapshot, so a renamed field cannot leave one behind.
pub(crate) const KEYED: &[(&str, &str, Keys)] = &[
    ("Section_Tcp", "counters", Keys::TcpCounters),
    ("ContainerNet", "counters", Keys::TcpCounters),
    ("Section_Tcp", "sysctls", Keys::TcpSysctls),
    ("ContainerNet", "sysctls", Keys::TcpSysctls),
    ("Section_Mysql", "global_status", Keys::MysqlStatus),
    ("Section_Mysql", "global_status_text", Keys::MysqlStatus),
    ("Section_Mysql", "variables", Keys::MysqlVariables),
    ("Section_MysqlServer", "options", Keys::MysqlOptions),
    ("Section_Logs", "patterns", Keys::LogPatterns),
    ("Section_Logs", "categories", Keys::LogCategories),
    ("LogSource", "matches", Keys::LogPatterns),
    ("LogSource", "categories", Keys::LogCategories),
];

/// The key list of field `field` of the object named `object`.
pub(crate) fn keys_of(object: &str, field: &str) -> Keys {
    KEYED
        .iter()
        .find(|(o, f, _)| *f == field && *o == object)
        .map_or(Keys::Any, |(_, _, k)| *k)
}

/// The ids and categories of the log patterns, for `logs.patterns` and `logs.categories`.
#[derive(Debug, Clone)]
pub struct LogNames {
    ids: Vec<String>,
    categories: Vec<String>,
    /// Whether these are all the patterns the snapshot was or will be taken with (`doctor check`
    /// loads `--patterns` itself); otherwise a snapshot may hold patterns of one's own.
    complete: bool,
}

impl LogNames {
    /// The patterns `doctor check` scans with: the built-in ones and those of `--patterns`.
    #[must_use]
    pub fn of_patterns(patterns: &[crate::scan::pattern::Pattern]) -> Self {
        Self::new(
            patterns.iter().map(|p| p.id.clone()).collect(),
            patterns.iter().map(|p| p.category.clone()).collect(),
            true,
        )
    }

    /// The built-in patterns' names, read off their files' `id = "..."` and `category = "..."`
    /// lines (compiling the patterns' regexes only to learn their names would cost more than
    /// the check; the tests compare the two). A snapshot read by `doctor analyze` may have been
    /// taken with more.
    #[must_use]
    pub fn builtin() -> Self {
        // Both keys come first in every pattern file; stop at the first line that is neither.
        let value = |text: &str, key: &str| -> Option<String> {
            text.lines().take(8).find_map(|l| {
                let rest = l.strip_prefix(key)?.trim_start().strip_prefix('=')?;
                Some(rest.trim().trim_matches('"').to_owned())
            })
        };
        let mut ids = Vec::new();
        let mut categories = Vec::new();
        for (_, text) in crate::scan::pattern::EMBEDDED {
            ids.extend(value(text, "id"));
            categories.extend(value(text, "category"));
        }
        Self::new(ids, categories, false)
    }

    fn new(mut ids: Vec<String>, mut categories: Vec<String>, complete: bool) -> Self {
        ids.sort();
        ids.dedup();
        categories.sort();
        categories.dedup();
        LogNames {
            ids,
            categories,
            complete,
        }
    }
}

/// How a key outside its map's list is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Known,
    /// Refused: a typo (`near` is the listed name it is nearest to) or, for a closed list, any
    /// name it lacks.
    Error {
        near: Option<String>,
        list: String,
    },
    /// Accepted, but said at load: a likely typo of a listed name on an open list.
    Warning {
        near: String,
        list: String,
    },
    /// Accepted: possibly a name another version has; shown by `doctor rules explain`.
    Note {
        list: String,
    },
}

/// How many edits away from a listed name a key is taken for a typo of it.
const TYPO: usize = 2;

/// Checks `key` against the list of `keys`.
pub(crate) fn verdict(keys: Keys, key: &str, logs: &LogNames) -> Verdict {
    let listed = |l: &[&str]| l.binary_search(&key).is_ok();
    let known = match keys {
        Keys::Any => true,
        Keys::TcpSysctls => crate::collect::tcp::SYSCTLS.contains(&key),
        Keys::TcpCounters => listed(list(&TCP_COUNTERS, TCP_COUNTERS_TEXT)),
        Keys::MysqlStatus => listed(list(&MYSQL_STATUS, MYSQL_STATUS_TEXT)),
        Keys::MysqlVariables => listed(list(&MYSQL_VARIABLES, MYSQL_VARIABLES_TEXT)),
        Keys::MysqlOptions => {
            listed(list(&MYSQL_VARIABLES, MYSQL_VARIABLES_TEXT))
                || listed(list(&MYSQL_OPTIONS, MYSQL_OPTIONS_TEXT))
        }
        Keys::LogPatterns => logs.ids.binary_search_by(|i| i.as_str().cmp(key)).is_ok(),
        Keys::LogCategories => logs
            .categories
            .binary_search_by(|c| c.as_str().cmp(key))
            .is_ok(),
    };
    if known {
        return Verdict::Known;
    }
    unlisted(keys, key, logs)
}

/// The verdict on a key its list lacks.
fn unlisted(keys: Keys, key: &str, logs: &LogNames) -> Verdict {
    let status = || list(&MYSQL_STATUS, MYSQL_STATUS_TEXT);
    let variables = || list(&MYSQL_VARIABLES, MYSQL_VARIABLES_TEXT);
    // Each list sorted, so a name is looked up by halves.
    let (lists, list, closed): (Vec<&[&str]>, &str, bool) = match keys {
        Keys::Any => return Verdict::Known,
        Keys::TcpSysctls => (Vec::new(), "the sysctls doctor reads", true),
        Keys::TcpCounters => (
            vec![list(&TCP_COUNTERS, TCP_COUNTERS_TEXT)],
            "the TCP counters of Linux 6.18 and the kernel's documentation",
            false,
        ),
        Keys::MysqlStatus => (
            vec![status()],
            "the status variables of MariaDB 10.11 and MySQL 8.0.32",
            false,
        ),
        Keys::MysqlVariables => (
            vec![variables()],
            "the system variables of MariaDB 10.11 and MySQL 8.0.32",
            false,
        ),
        Keys::MysqlOptions => (
            vec![variables(), list(&MYSQL_OPTIONS, MYSQL_OPTIONS_TEXT)],
            "the server options of MariaDB 10.11 and MySQL 8.0.32",
            false,
        ),
        Keys::LogPatterns => (
            Vec::new(),
            if logs.complete {
                "the ids of the loaded log patterns"
            } else {
                "the ids of the built-in log patterns"
            },
            logs.complete,
        ),
        Keys::LogCategories => (
            Vec::new(),
            if logs.complete {
                "the categories of the loaded log patterns"
            } else {
                "the categories of the built-in log patterns"
            },
            logs.complete,
        ),
    };
    // The short lists, which are not `'static`.
    let owned: Vec<&str> = match keys {
        Keys::TcpSysctls => crate::collect::tcp::SYSCTLS.to_vec(),
        Keys::LogPatterns => logs.ids.iter().map(String::as_str).collect(),
        Keys::LogCategories => logs.categories.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    let known = lists.iter().any(|l| l.binary_search(&key).is_ok()) || owned.contains(&key);
    if known {
        return Verdict::Known;
    }
    let all = || {
        lists
            .iter()
            .flat_map(|l| l.iter().copied())
            .chain(owned.iter().copied())
    };
    let mut near = distance::nearest(key, all(), TYPO).map(|(n, _)| n.to_owned());
    if near.is_none() && keys == Keys::TcpCounters {
        // The counters are named with their table: `ListenOverflows` is `TcpExtListenOverflows`.
        near = ["TcpExt", "Tcp"]
            .iter()
            .map(|p| format!("{p}{key}"))
            .find(|n| all().any(|k| k == n));
    }
    let list = list.to_owned();
    match (near, closed, keys) {
        (near, true, _) => Verdict::Error { near, list },
        (Some(near), false, Keys::TcpCounters) => Verdict::Warning { near, list },
        (Some(near), false, _) => Verdict::Error {
            near: Some(near),
            list,
        },
        (None, false, _) => Verdict::Note { list },
    }
}

/// The names of a closed list, for an error that has no near name to offer.
pub(crate) fn listing(keys: Keys) -> Option<String> {
    match keys {
        Keys::TcpSysctls => Some(crate::collect::tcp::SYSCTLS.join(", ")),
        _ => None,
    }
}

const TCP_COUNTERS_TEXT: &str = include_str!("../../../../rules/names/tcp-counters.txt");
const MYSQL_STATUS_TEXT: &str = include_str!("../../../../rules/names/mysql-status.txt");
const MYSQL_VARIABLES_TEXT: &str = include_str!("../../../../rules/names/mysql-variables.txt");
const MYSQL_OPTIONS_TEXT: &str = include_str!("../../../../rules/names/mysql-options.txt");

static TCP_COUNTERS: OnceLock<Vec<&'static str>> = OnceLock::new();
static MYSQL_STATUS: OnceLock<Vec<&'static str>> = OnceLock::new();
static MYSQL_VARIABLES: OnceLock<Vec<&'static str>> = OnceLock::new();
static MYSQL_OPTIONS: OnceLock<Vec<&'static str>> = OnceLock::new();

/// A name list's names, read once: its lines but the `#` comments, sorted in the file (a test
/// checks), so they can be searched by halves.
fn list(cell: &'static OnceLock<Vec<&'static str>>, text: &'static str) -> &'static [&'static str] {
    cell.get_or_init(|| {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs() -> LogNames {
        LogNames::builtin()
    }

    #[test]
    fn name_lists_are_sorted_and_unique() {
        for (name, cell, text) in [
            ("tcp-counters", &TCP_COUNTERS, TCP_COUNTERS_TEXT),
            ("mysql-status", &MYSQL_STATUS, MYSQL_STATUS_TEXT),
            ("mysql-variables", &MYSQL_VARIABLES, MYSQL_VARIABLES_TEXT),
            ("mysql-options", &MYSQL_OPTIONS, MYSQL_OPTIONS_TEXT),
        ] {
            let l = list(cell, text);
            assert!(l.len() > 100, "{name}: {} names", l.len());
            assert!(
                l.windows(2).all(|w| w[0] < w[1]),
                "{name}: sorted (LC_ALL=C sort -u), no duplicates"
            );
            assert!(
                text.starts_with('#'),
                "{name}: the header says where the names come from"
            );
        }
    }

    /// Each map with a key list is a map of the snapshot: a renamed field cannot leave its list
    /// behind.
    #[test]
    fn keyed_maps_are_maps_of_the_snapshot() {
        use super::super::schema::{OBJECTS, Shape};
        for (object, field, _) in KEYED {
            let o = OBJECTS
                .iter()
                .find(|o| o.name == *object)
                .unwrap_or_else(|| panic!("no object `{object}` in the snapshot's schema"));
            let shape = o
                .field(field)
                .unwrap_or_else(|| panic!("`{object}` has no field `{field}`"));
            let is_map = match shape {
                Shape::Map(_) => true,
                Shape::AnyOf(members) => members.iter().any(|m| matches!(m, Shape::Map(_))),
                _ => false,
            };
            assert!(is_map, "`{object}.{field}` is not a map: {shape:?}");
        }
    }

    #[test]
    fn builtin_log_names_are_the_loaded_patterns() {
        let loaded = crate::scan::pattern::load(&[] as &[&str]).unwrap();
        let full = LogNames::of_patterns(&loaded);
        let quick = LogNames::builtin();
        assert_eq!(quick.ids, full.ids);
        assert_eq!(quick.categories, full.categories);
        assert!(full.complete && !quick.complete);
        assert!(quick.categories.iter().any(|c| c == "db-pool-exhausted"));
    }

    #[test]
    fn verdicts_follow_who_defines_the_names() {
        let l = logs();
        assert_eq!(
            verdict(Keys::MysqlStatus, "Threads_connected", &l),
            Verdict::Known
        );
        assert!(matches!(
            verdict(Keys::MysqlStatus, "Threads_conected", &l),
            Verdict::Error { near: Some(n), .. } if n == "Threads_connected"
        ));
        assert!(matches!(
            verdict(Keys::MysqlStatus, "Some_future_counter_name", &l),
            Verdict::Note { .. }
        ));
        // Kernel counters: never refused.
        assert!(matches!(
            verdict(Keys::TcpCounters, "TcpExtListenOverflow", &l),
            Verdict::Warning { near, .. } if near == "TcpExtListenOverflows"
        ));
        assert!(matches!(
            verdict(Keys::TcpCounters, "ListenOverflows", &l),
            Verdict::Warning { near, .. } if near == "TcpExtListenOverflows"
        ));
        assert!(matches!(
            verdict(Keys::TcpCounters, "TcpExtTCPSomethingNew", &l),
            Verdict::Note { .. }
        ));
        // The collector's own list is closed.
        assert!(matches!(
            verdict(Keys::TcpSysctls, "net.core.somaxcon", &l),
            Verdict::Error { near: Some(n), .. } if n == "net.core.somaxconn"
        ));
        assert!(matches!(
            verdict(Keys::TcpSysctls, "vm.swappiness", &l),
            Verdict::Error { near: None, .. }
        ));
        // Log names: the built-in ones only say "a pattern of your own" for a far name.
        assert!(matches!(
            verdict(Keys::LogCategories, "db-pool-exausted", &l),
            Verdict::Error { near: Some(n), .. } if n == "db-pool-exhausted"
        ));
        assert!(matches!(
            verdict(Keys::LogCategories, "my-own-category", &l),
            Verdict::Note { .. }
        ));
        let loaded = LogNames::of_patterns(&crate::scan::pattern::load(&[] as &[&str]).unwrap());
        assert!(matches!(
            verdict(Keys::LogCategories, "my-own-category", &loaded),
            Verdict::Error { near: None, .. }
        ));
    }
}
