//! `sysctl -a`, `sysctl NAME…` and `sysctl -w NAME=VALUE` output: `net.core.somaxconn = 4096`
//! lines. A name has at least one dot and only the characters sysctl names use; the value is the
//! rest of the line (tabs between numbers, as `ip_local_port_range` prints, become one space, as
//! the collector reads `/proc/sys`). `sysctl -n` prints values without names and is not
//! recognised: a bare number says nothing of what it is.
//!
//! The command typed (`sysctl -w net.core.somaxconn=1024`, without spaces around `=`) is not
//! output: it says what someone set, not what the kernel holds, and is left not understood.

use super::lines::Line;
use std::collections::BTreeMap;

/// Settings read from one output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sysctls {
    pub values: BTreeMap<String, String>,
    pub lines: (usize, usize),
}

/// The run of `name = value` lines from `lines[start..]`, and how many lines it took.
#[must_use]
pub fn sysctl(lines: &[Line<'_>], start: usize) -> Option<(Sysctls, usize)> {
    let mut values = BTreeMap::new();
    let mut taken = 0;
    for line in &lines[start..] {
        let Some((name, value)) = setting(line.text) else {
            break;
        };
        values.insert(name.to_owned(), value);
        taken += 1;
    }
    if taken == 0 {
        return None;
    }
    let lines = (lines[start].no, lines[start + taken - 1].no);
    Some((Sysctls { values, lines }, taken))
}

/// `net.core.somaxconn = 4096` → (`net.core.somaxconn`, `4096`).
fn setting(text: &str) -> Option<(&str, String)> {
    let text = text.trim();
    // An empty value prints as `kernel.domainname =` once trailing blanks are gone.
    let (name, value) = match text.strip_suffix(" =") {
        Some(name) => (name, ""),
        None => text.split_once(" = ")?,
    };
    let ok_name = name.contains('.')
        && !name.starts_with('.')
        && !name.ends_with('.')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'));
    if !ok_name {
        return None;
    }
    Some((
        name,
        value.split_ascii_whitespace().collect::<Vec<_>>().join(" "),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::lines::{lines, sample};

    #[test]
    fn recorded_sysctl_a() {
        let text = sample("sysctl-a.txt");
        let ls = lines(&text);
        let (s, taken) = sysctl(&ls, 0).unwrap();
        assert_eq!(taken, ls.len());
        assert!(s.values.contains_key("net.core.somaxconn"));
        assert!(s.values["net.ipv4.ip_local_port_range"].contains(' '));
    }

    #[test]
    fn single_lines_and_what_is_not_output() {
        let ls = lines("net.core.somaxconn = 128\nsudo sysctl -w net.core.somaxconn=1024\n");
        let (s, taken) = sysctl(&ls, 0).unwrap();
        assert_eq!((taken, s.values["net.core.somaxconn"].as_str()), (1, "128"));
        assert!(sysctl(&ls, 1).is_none());
        // my.cnf's `max_connections = 500` has no dot: not a sysctl.
        assert!(sysctl(&lines("max_connections = 500"), 0).is_none());
    }
}
