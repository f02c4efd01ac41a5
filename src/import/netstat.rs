//! The kernel's network counters as pasted: `netstat -s` (net-tools' sentences, any version),
//! `nstat` / `nstat -az` (name, value, rate) and `nstat -j` (JSON). Every counter is named as
//! nstat names it (`TcpExtListenOverflows`), which is how the snapshot's `tcp.counters` are keyed.
//!
//! `netstat -s` prints most counters as English sentences (`3008 times the listen queue of a
//! socket overflowed`), whose wording changed over the years; `netstat-sentences.txt` holds every
//! wording net-tools has printed, generated from its history (`scripts/netstat-sentences.py`). A
//! sentence is recognised on its own, so lines quoted out of their section (the diary's bullets)
//! still count. Counters net-tools has no sentence for are printed `Name: value` under their
//! section's header (`TcpExt:`), and read there.

use super::lines::Line;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// Counters read from one output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counters {
    pub values: BTreeMap<String, u64>,
    /// The input's line numbers this output covers, first and last.
    pub lines: (usize, usize),
    /// The lines read as counters (a range may hold lines that are not: a histogram's title).
    pub read: Vec<usize>,
}

/// A sentence's counter, and whether net-tools leaves the line out while it is 0.
struct Sentence {
    name: &'static str,
    optional: bool,
}

/// Sentence (with `{n}` for the number) → counter.
fn sentences() -> &'static HashMap<&'static str, Sentence> {
    static TABLE: OnceLock<HashMap<&'static str, Sentence>> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("netstat-sentences.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| {
                let mut parts = l.splitn(3, '\t');
                let name = parts.next()?;
                let optional = parts.next()? == "1";
                Some((parts.next()?, Sentence { name, optional }))
            })
            .collect()
    })
}

/// The section headers of `netstat -s` and the prefix nstat gives their counters.
const HEADERS: &[(&str, &str)] = &[
    ("Ip:", "Ip"),
    ("Icmp:", "Icmp"),
    ("IcmpMsg:", "IcmpMsg"),
    ("Tcp:", "Tcp"),
    ("Udp:", "Udp"),
    ("UdpLite:", "UdpLite"),
    ("TcpExt:", "TcpExt"),
    ("IpExt:", "IpExt"),
    ("MPTcpExt:", "MPTcpExt"),
];

/// The line with its one free-standing number replaced by `{n}`, and the number: `3008 times the
/// listen queue ...` → (`{n} times the listen queue ...`, 3008). A number inside a word
/// (`InType3`) is not free-standing.
fn template(text: &str) -> Option<(String, u64)> {
    let t = text.trim();
    let bytes = t.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let end = i + bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            if end == bytes.len() || !bytes[end].is_ascii_alphanumeric() {
                let n = t[i..end].parse().ok()?;
                return Some((format!("{}{{n}}{}", &t[..i], &t[end..]), n));
            }
            i = end;
        } else {
            i += 1;
        }
    }
    None
}

/// `netstat -s` from `lines[start..]`: the run of lines that are its sentences, section headers,
/// `Name: value` lines under a header, and its histogram lines. `None` when the run holds no
/// counter. Returns the counters and how many lines it took.
#[must_use]
pub fn netstat_s(lines: &[Line<'_>], start: usize) -> Option<(Counters, usize)> {
    let table = sentences();
    let mut values = BTreeMap::new();
    let mut read = Vec::new();
    let mut sections: Vec<&str> = Vec::new();
    let mut section: Option<&str> = None;
    let mut end = start;
    for line in &lines[start..] {
        let text = line.text.trim();
        if line.fence || text.is_empty() {
            break;
        }
        if let Some((_, prefix)) = HEADERS.iter().find(|(h, _)| *h == text) {
            section = Some(prefix);
            sections.push(prefix);
        } else if let Some(s) = template(text).and_then(|(t, n)| Some((table.get(t.as_str())?, n)))
        {
            values.insert(s.0.name.to_owned(), s.1);
            read.push(line.no);
        } else if let Some((name, n)) = section.and_then(|p| named(p, text)) {
            values.insert(name, n);
            read.push(line.no);
        } else if let Some((name, n)) = section
            .is_none()
            .then(|| named("TcpExt", text))
            .flatten()
            .filter(|(name, _)| known_tcpext(name))
        {
            // `TCPFromZeroWindowAdv: 13` quoted without its `TcpExt:` header: only a name the
            // kernel has under TcpExt is taken so (a `Name: value` line is too common a shape).
            values.insert(name, n);
            read.push(line.no);
        } else if section.is_some() && histogram(text) {
            // `ICMP input histogram:` and its `destination unreachable: 2`: not counters doctor reads.
        } else {
            break;
        }
        end += 1;
    }
    if values.is_empty() {
        return None;
    }
    // A counter net-tools prints only when it is not zero, in a section that was pasted: 0.
    for s in table.values() {
        if s.optional && sections.iter().any(|p| in_section(s.name, p)) {
            values.entry(s.name.to_owned()).or_insert(0);
        }
    }
    Some(taken(lines, start, end, values, read))
}

/// Whether counter `name` belongs to the section of `prefix` (`TcpExtX` is not in `Tcp`).
fn in_section(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix).is_some_and(|rest| {
        rest.starts_with(|c: char| c.is_ascii_uppercase())
            && !HEADERS
                .iter()
                .any(|(_, p)| p.len() > prefix.len() && name.starts_with(p))
    })
}

/// Whether `name` is a `TcpExt` counter the kernel has (`rules/names/tcp-counters.txt`).
fn known_tcpext(name: &str) -> bool {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        include_str!("../../rules/names/tcp-counters.txt")
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("TcpExt"))
            .collect()
    });
    names.contains(&name)
}

/// `PAWSTimewait: 11` under `TcpExt:` → (`TcpExtPAWSTimewait`, 11).
fn named(prefix: &str, text: &str) -> Option<(String, u64)> {
    let (name, value) = text.split_once(": ")?;
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    Some((format!("{prefix}{name}"), value.trim().parse().ok()?))
}

/// A line of an ICMP histogram, or its title.
fn histogram(text: &str) -> bool {
    text.ends_with("histogram:")
        || text.split_once(": ").is_some_and(|(name, value)| {
            name.bytes().all(|b| b.is_ascii_lowercase() || b == b' ')
                && value.trim().parse::<u64>().is_ok()
        })
}

/// `nstat` output from `lines[start..]`: an optional `#kernel` line, then `Name value [rate]`
/// lines. `None` when there is no such line.
#[must_use]
pub fn nstat(lines: &[Line<'_>], start: usize) -> Option<(Counters, usize)> {
    let mut values = BTreeMap::new();
    let mut read = Vec::new();
    let mut end = start;
    for (i, line) in lines[start..].iter().enumerate() {
        let text = line.text.trim();
        if i == 0 && text == "#kernel" {
            end += 1;
            continue;
        }
        let mut fields = text.split_whitespace();
        let (Some(name), Some(value)) = (fields.next(), fields.next()) else {
            break;
        };
        let rate_ok = match (fields.next(), fields.next()) {
            (None, _) => true,
            (Some(rate), None) => rate.parse::<f64>().is_ok(),
            _ => false,
        };
        let Ok(value) = value.parse::<u64>() else {
            break;
        };
        if !rate_ok || !nstat_name(name) {
            break;
        }
        values.insert(name.to_owned(), value);
        read.push(line.no);
        end += 1;
    }
    if values.is_empty() {
        return None;
    }
    Some(taken(lines, start, end, values, read))
}

/// The counters of `lines[start..end]`, and how many lines that is.
fn taken(
    lines: &[Line<'_>],
    start: usize,
    end: usize,
    values: BTreeMap<String, u64>,
    read: Vec<usize>,
) -> (Counters, usize) {
    let counters = Counters {
        values,
        lines: (lines[start].no, lines[end - 1].no),
        read,
    };
    (counters, end - start)
}

/// A counter name as nstat prints it: a known prefix, then a capital.
fn nstat_name(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "Ip", "Icmp", "IcmpMsg", "Tcp", "Udp", "UdpLite", "TcpExt", "IpExt", "MPTcpExt", "Ip6",
        "Icmp6", "Udp6", "UdpLite6", "Sctp", "TcpExt", "XfrmIn", "XfrmOut",
    ];
    name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && PREFIXES.iter().any(|p| {
            name.strip_prefix(p)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
        })
}

/// `nstat -j` output: `{"kernel":{"IpInReceives":1480762,...}}`, on one line or several. Takes
/// the lines from `start` up to the one that closes the object.
#[must_use]
pub fn nstat_json(lines: &[Line<'_>], start: usize) -> Option<(Counters, usize)> {
    if !lines[start].text.trim_start().starts_with("{\"kernel\"") {
        return None;
    }
    let mut text = String::new();
    for (i, line) in lines[start..].iter().enumerate() {
        if line.fence {
            break;
        }
        text.push_str(line.text);
        text.push('\n');
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let kernel = value.get("kernel")?.as_object()?;
        let values: BTreeMap<String, u64> = kernel
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
            .filter(|(k, _)| nstat_name(k))
            .collect();
        if values.is_empty() {
            return None;
        }
        let last = lines[start + i].no;
        return Some((
            Counters {
                values,
                lines: (lines[start].no, last),
                read: (lines[start].no..=last).collect(),
            },
            i + 1,
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::lines::{lines, sample};

    /// `netstat -s` and `nstat -az` recorded a moment apart on this machine: every counter
    /// netstat prints reads as nstat names it, within what moved in between (a quiet counter
    /// exactly).
    #[test]
    fn netstat_s_reads_as_nstat_names_its_counters() {
        let text = sample("netstat-s.txt");
        let ls = lines(&text);
        let (c, n) = netstat_s(&ls, 0).expect("netstat -s is read");
        assert_eq!(n, ls.len(), "every line is part of it");
        let nstat_text = sample("nstat-az.txt");
        let nl = lines(&nstat_text);
        let (reference, _) = nstat(&nl, 0).expect("nstat -az is read");
        for name in [
            "TcpExtListenOverflows",
            "TcpExtListenDrops",
            "TcpActiveOpens",
            "TcpRetransSegs",
            "TcpExtTCPTimeouts",
            "TcpExtPAWSTimewait",
        ] {
            let got = c.values[name];
            let want = reference.values[name];
            assert!(
                got <= want && want - got <= want / 50 + 5,
                "{name}: netstat -s {got}, nstat {want}"
            );
        }
        // Left out by net-tools because it was 0 in a section that was pasted: 0.
        assert_eq!(c.values.get("TcpExtTCPAbortOnTimeout"), Some(&0));
        assert_eq!(reference.values["TcpExtTCPAbortOnTimeout"], 0);
        assert!(c.values.len() > 40);
    }

    /// The wordings of net-tools 1.60 (before 2003) and of today, quoted out of their sections.
    #[test]
    fn sentences_of_every_version_read_alone() {
        let text = "- 3008 times the listen queue of a socket overflowed\n\
                    - 3008 SYNs to LISTEN sockets ignored";
        let (c, n) = netstat_s(&lines(text), 0).unwrap();
        assert_eq!(n, 2);
        assert_eq!(c.values["TcpExtListenOverflows"], 3008);
        assert_eq!(c.values["TcpExtListenDrops"], 3008);
        // No section was pasted: nothing is assumed 0.
        assert_eq!(c.values.len(), 2);
        let (c, _) = netstat_s(&lines("    3160 SYNs to LISTEN sockets dropped"), 0).unwrap();
        assert_eq!(c.values["TcpExtListenDrops"], 3160);
    }

    #[test]
    fn prose_is_not_a_counter() {
        for text in [
            "3008 times the listen queue overflowed, we think",
            "Tcp: is fine",
            "We saw 12 errors",
            // Not a name the kernel has under TcpExt (`PAWSTimewait: 11` alone is one, and is
            // read: see `a_tcpext_line_quoted_alone`).
            "Timewait: 11",
        ] {
            assert!(netstat_s(&lines(text), 0).is_none(), "{text}");
        }
        assert!(nstat(&lines("Total 12 requests"), 0).is_none());
    }

    #[test]
    fn nstat_forms_read_the_same() {
        let az = sample("nstat-az.txt");
        let (a, n) = nstat(&lines(&az), 0).unwrap();
        assert_eq!(n, lines(&az).len());
        let j = sample("nstat-azj.txt");
        let (b, _) = nstat_json(&lines(&j), 0).unwrap();
        // Recorded a moment apart: the same names, and a counter that did not move, equal.
        assert_eq!(
            a.values.keys().collect::<Vec<_>>(),
            b.values.keys().collect::<Vec<_>>()
        );
        assert_eq!(
            a.values["TcpExtTCPAbortOnTimeout"],
            b.values["TcpExtTCPAbortOnTimeout"]
        );
        let (c, _) = nstat(&lines("TcpExtListenOverflows   3008   0.0\nnot nstat"), 0).unwrap();
        assert_eq!(c.values["TcpExtListenOverflows"], 3008);
        assert_eq!(c.lines, (1, 1));
    }

    #[test]
    fn template_takes_the_free_standing_number() {
        assert_eq!(
            template("Quick ack mode was activated 5246 times"),
            Some(("Quick ack mode was activated {n} times".into(), 5246))
        );
        assert_eq!(template("InType3: 2"), Some(("InType3: {n}".into(), 2)));
        assert_eq!(template("no number"), None);
    }
}

#[cfg(test)]
mod quoted_tests {
    use super::*;
    use crate::import::lines::lines;

    /// The diary quotes `TCPFromZeroWindowAdv: 13` in a bullet, its section header left out.
    #[test]
    fn a_tcpext_line_quoted_alone() {
        let ls = lines("- `TCPFromZeroWindowAdv: 13`\n- `TCPToZeroWindowAdv: 13`\n");
        let (c, taken) = netstat_s(&ls, 0).unwrap();
        assert_eq!(taken, 2);
        assert_eq!(c.values["TcpExtTCPFromZeroWindowAdv"], 13);
        let (c, _) = netstat_s(&lines("PAWSTimewait: 11"), 0).unwrap();
        assert_eq!(c.values["TcpExtPAWSTimewait"], 11);
        // Not any `Name: value` line.
        assert!(netstat_s(&lines("max_connections: 500"), 0).is_none());
        assert!(netstat_s(&lines("Threads: 3"), 0).is_none());
    }
}
