//! Host facts from pasted outputs that show them: `free` (memory, in any unit it prints),
//! `uptime` and `/proc/loadavg` (time since boot, load), and the first line sysstat's tools print
//! (`Linux 6.1.0-18-amd64 (web-1)  01/03/2025  _x86_64_ (2 CPU)`: kernel, host name, CPUs).
//! A fact no output shows stays unknown.

use super::lines::Line;

/// Facts one output shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    pub hostname: Option<String>,
    pub kernel: Option<String>,
    pub cpus: Option<u32>,
    pub memory_bytes: Option<u64>,
    pub uptime_s: Option<f64>,
    /// Load averages over 1, 5 and 15 minutes.
    pub load: Option<[f64; 3]>,
    /// `free`'s figures in bytes, when their unit is known.
    pub free: Option<Free>,
    pub lines: (usize, usize),
}

/// What `free` shows, in bytes: the `Mem:` row by its header's names (`total`, `used`, `free`,
/// `shared`, `buff/cache` or `buffers` and `cache`/`cached`, `available` since procps 3.3.10),
/// and the `Swap:` row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Free {
    pub mem: std::collections::BTreeMap<String, u64>,
    pub swap_total: Option<u64>,
    pub swap_used: Option<u64>,
    /// Printed by `-h`, rounded to two or three digits.
    pub rounded: bool,
}

/// Which command printed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Free,
    Uptime,
    Loadavg,
    Sysstat,
}

/// `free` from its header line on (`total used free shared buff/cache available`, or the old
/// `total used free shared buffers cached`): `Mem:`, `-/+ buffers/cache:`, `Swap:`, `Total:`,
/// `Low:`/`High:` rows. Values carry their unit under `-h` (`3.8Gi`, `512M`, `0B`); without one,
/// the unit is what the command line just above says (`free -m`), and unknown without it: the
/// output is then recognised but its figures are not used.
#[must_use]
pub fn free(lines: &[Line<'_>], start: usize) -> Option<(Facts, usize)> {
    let header: Vec<&str> = lines[start].text.split_whitespace().collect();
    if header.len() < 3 || header[..3] != ["total", "used", "free"] {
        return None;
    }
    let unit = start
        .checked_sub(1)
        .and_then(|i| lines.get(i))
        .and_then(|l| command_unit(l.text));
    let mut taken = 1;
    let mut figures = Free::default();
    for line in &lines[start + 1..] {
        let t = line.text.trim();
        let Some((label, rest)) = t.split_once(':') else {
            break;
        };
        if !matches!(
            label,
            "Mem" | "Swap" | "Total" | "Low" | "High" | "-/+ buffers/cache"
        ) || rest.split_whitespace().next().is_none()
        {
            break;
        }
        let values: Vec<&str> = rest.split_whitespace().collect();
        figures.rounded |= values.iter().any(|v| v.ends_with(char::is_alphabetic));
        match label {
            "Mem" => {
                for (name, v) in header.iter().zip(&values) {
                    if let Some(b) = bytes(v, unit) {
                        figures.mem.insert((*name).to_owned(), b);
                    }
                }
            }
            "Swap" => {
                figures.swap_total = values.first().and_then(|v| bytes(v, unit));
                figures.swap_used = values.get(1).and_then(|v| bytes(v, unit));
            }
            _ => {}
        }
        taken += 1;
    }
    if taken == 1 {
        return None;
    }
    let memory = figures.mem.get("total").copied();
    let facts = Facts {
        memory_bytes: memory,
        free: memory.is_some().then_some(figures),
        lines: (lines[start].no, lines[start + taken - 1].no),
        ..Facts::default()
    };
    Some((facts, taken))
}

/// The unit `free`'s flags ask for, from the command line typed above its output.
fn command_unit(text: &str) -> Option<u64> {
    let mut w = text.split_whitespace();
    if w.next()? != "free" {
        return None;
    }
    let mut unit = 1024;
    for flag in w {
        unit = match flag {
            "-b" | "--bytes" => 1,
            "-k" | "--kibi" => 1024,
            "-m" | "--mebi" => 1 << 20,
            "-g" | "--gibi" => 1 << 30,
            "--kilo" => 1000,
            "--mega" => 1_000_000,
            "--giga" => 1_000_000_000,
            _ => unit,
        };
    }
    Some(unit)
}

/// `3.8Gi`, `512M`, `0B`, or a bare number in `unit` bytes.
fn bytes(value: &str, unit: Option<u64>) -> Option<u64> {
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, suffix) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match suffix {
        "" => unit? as f64,
        "B" => 1.0,
        "Ki" | "K" => 1024.0,
        "Mi" | "M" => 1_048_576.0,
        "Gi" | "G" => 1_073_741_824.0,
        "Ti" | "T" => 1_099_511_627_776.0,
        _ => return None,
    };
    let b = (number * scale).round();
    (b.is_finite() && b >= 0.0).then_some(b as u64)
}

/// `uptime`: ` 12:58:27 up 6 days,  6:55,  2 users,  load average: 5.12, 4.61, 4.05` (also
/// `up 17 min`, `up 1 day, 3 min`, and `load averages:` with BSD's spaces).
#[must_use]
pub fn uptime(lines: &[Line<'_>], start: usize) -> Option<(Facts, usize)> {
    let t = lines[start].text.trim();
    let (_, after_up) = t.split_once(" up ")?;
    let (up, load) = after_up.split_once("load average")?;
    let load = load.trim_start_matches('s').trim_start_matches(':');
    let l: Vec<f64> = load
        .split([',', ' '])
        .filter(|x| !x.is_empty())
        .filter_map(|x| x.parse().ok())
        .collect();
    let [a, b, c] = l.as_slice() else {
        return None;
    };
    let facts = Facts {
        uptime_s: up_seconds(up),
        load: Some([*a, *b, *c]),
        lines: (lines[start].no, lines[start].no),
        ..Facts::default()
    };
    Some((facts, 1))
}

/// `6 days,  6:55,  2 users,  ` → seconds (to the minute, as uptime prints it).
fn up_seconds(up: &str) -> Option<f64> {
    let mut s = 0.0;
    let mut any = false;
    for part in up.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part.ends_with("user") || part.ends_with("users") {
            break;
        }
        let mut w = part.split_whitespace();
        let first = w.next()?;
        match (first.split_once(':'), w.next()) {
            (Some((h, m)), None) => {
                s += h.parse::<f64>().ok()? * 3600.0 + m.parse::<f64>().ok()? * 60.0;
            }
            (None, Some(unit)) => {
                let n: f64 = first.parse().ok()?;
                s += n * match unit.trim_end_matches('s') {
                    "day" => 86_400.0,
                    "hr" | "hour" => 3600.0,
                    "min" => 60.0,
                    "sec" => 1.0,
                    _ => return None,
                };
            }
            _ => return None,
        }
        any = true;
    }
    any.then_some(s)
}

/// `/proc/loadavg`: `5.12 4.61 4.05 5/177 9988`.
#[must_use]
pub fn loadavg(lines: &[Line<'_>], start: usize) -> Option<(Facts, usize)> {
    let f: Vec<&str> = lines[start].text.split_whitespace().collect();
    let [a, b, c, tasks, last] = f.as_slice() else {
        return None;
    };
    let (run, all) = tasks.split_once('/')?;
    run.parse::<u32>().ok()?;
    all.parse::<u32>().ok()?;
    last.parse::<u32>().ok()?;
    let facts = Facts {
        load: Some([a.parse().ok()?, b.parse().ok()?, c.parse().ok()?]),
        lines: (lines[start].no, lines[start].no),
        ..Facts::default()
    };
    Some((facts, 1))
}

/// sysstat's first line: `Linux 6.18.44-fc-v1300 (vm)  12/06/26  _x86_64_ (2 CPU)`.
#[must_use]
pub fn sysstat(lines: &[Line<'_>], start: usize) -> Option<(Facts, usize)> {
    let t = lines[start].text.trim();
    let rest = t.strip_prefix("Linux ")?;
    let (kernel, rest) = rest.split_once(" (")?;
    let (host, rest) = rest.split_once(')')?;
    let cpus = rest.trim_end().strip_suffix(" CPU)")?.rsplit_once('(')?.1;
    let facts = Facts {
        hostname: Some(host.to_owned()),
        kernel: Some(kernel.trim().to_owned()),
        cpus: Some(cpus.trim().parse().ok()?),
        lines: (lines[start].no, lines[start].no),
        ..Facts::default()
    };
    Some((facts, 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::lines::{lines, sample};

    #[test]
    fn recorded_free_in_its_forms() {
        let kib = sample("free.txt");
        let (f, taken) = free(&lines(&kib), 0).unwrap();
        assert_eq!(taken, 3);
        // Without the command line the unit is unknown: recognised, not used.
        assert_eq!(f.memory_bytes, None);
        let with_command = format!("$ free\n{kib}");
        let (f, _) = free(&lines(&with_command), 1).unwrap();
        let total_kib: u64 = kib
            .lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(f.memory_bytes, Some(total_kib * 1024));
        let m = format!("$ free -m\n{}", sample("free-m.txt"));
        let (fm, _) = free(&lines(&m), 1).unwrap();
        let h = sample("free-h.txt");
        let (fh, _) = free(&lines(&h), 0).unwrap();
        let (a, b, c) = (
            f.memory_bytes.unwrap(),
            fm.memory_bytes.unwrap(),
            fh.memory_bytes.unwrap(),
        );
        // The same machine in three units, each within its rounding.
        assert!(a.abs_diff(b) < 1 << 20, "{a} {b}");
        assert!(a.abs_diff(c) < 1 << 30, "{a} {c}");
    }

    #[test]
    fn published_old_free() {
        // procps 3.2 (CentOS 6), with the -/+ buffers/cache row.
        let text = "$ free -m\n             total       used       free     shared    buffers     cached\n\
                    Mem:          3829       3614        215          0        215       2516\n\
                    -/+ buffers/cache:        882       2947\nSwap:         3967        128       3839\n";
        let (f, taken) = free(&lines(text), 1).unwrap();
        assert_eq!(taken, 4);
        assert_eq!(f.memory_bytes, Some(3829 << 20));
        let figures = f.free.unwrap();
        assert_eq!(
            (figures.mem.get("cached"), figures.mem.get("available")),
            (Some(&(2516 << 20)), None)
        );
        assert_eq!(
            (figures.swap_total, figures.swap_used),
            (Some(3967 << 20), Some(128 << 20))
        );
    }

    #[test]
    fn recorded_uptime_and_loadavg() {
        let text = sample("uptime.txt");
        let (u, _) = uptime(&lines(&text), 0).unwrap();
        assert!(u.uptime_s.is_some_and(|s| s > 0.0), "{u:?}");
        assert!(u.load.is_some());
        let text = sample("loadavg.txt");
        assert!(loadavg(&lines(&text), 0).unwrap().0.load.is_some());
        for (line, s) in [
            (
                " 10:01:02 up 17 min,  1 user,  load average: 0.00, 0.01, 0.05",
                1020.0,
            ),
            (
                " 10:01:02 up 3 days,  2:03,  2 users,  load average: 1.00, 2.00, 3.00",
                266_580.0,
            ),
            (
                " 10:01:02 up 1 day, 3 min,  0 users,  load average: 1.00, 2.00, 3.00",
                86_580.0,
            ),
            (
                "10:01  up 2 days, 19:26, 2 users, load averages: 1.62 1.53 1.50",
                242_760.0,
            ),
        ] {
            let (u, _) = uptime(&lines(line), 0).unwrap();
            assert_eq!(u.uptime_s, Some(s), "{line}");
        }
        assert!(loadavg(&lines("1 2 3"), 0).is_none());
    }

    #[test]
    fn recorded_sysstat_first_line() {
        let text = sample("iostat-x-1-2.txt");
        let (f, _) = sysstat(&lines(&text), 0).unwrap();
        assert!(f.cpus.is_some_and(|c| c > 0));
        assert!(f.kernel.is_some() && f.hostname.is_some());
    }
}
