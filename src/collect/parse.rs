//! Parsers for the kernel's text files. Pure functions over `&str`, so they are tested on text
//! captured from real machines; the collectors only open the files.

use std::collections::BTreeMap;

/// The CPU-time columns of one `cpu` line of `/proc/stat`, in clock ticks.
/// See proc(5): `user nice system idle iowait irq softirq steal guest guest_nice`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTicks {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
}

impl CpuTicks {
    /// All ticks; guest time is already counted inside user and nice, so it is not added again.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.user
            + self.nice
            + self.system
            + self.idle
            + self.iowait
            + self.irq
            + self.softirq
            + self.steal
    }
}

/// What doctor uses of `/proc/stat`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stat {
    pub total: CpuTicks,
    pub per_cpu: Vec<CpuTicks>,
    /// `ctxt`, `intr` (first column: the total), `processes`.
    pub counters: BTreeMap<String, u64>,
    pub procs_running: Option<u32>,
    pub procs_blocked: Option<u32>,
}

#[must_use]
pub fn stat(text: &str) -> Stat {
    let mut out = Stat::default();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(key) = fields.next() else { continue };
        if key.starts_with("cpu") {
            let v: Vec<u64> = fields.map(|f| f.parse().unwrap_or(0)).collect();
            let get = |i: usize| v.get(i).copied().unwrap_or(0);
            let ticks = CpuTicks {
                user: get(0),
                nice: get(1),
                system: get(2),
                idle: get(3),
                iowait: get(4),
                irq: get(5),
                softirq: get(6),
                steal: get(7),
            };
            if key == "cpu" {
                out.total = ticks;
            } else {
                out.per_cpu.push(ticks);
            }
            continue;
        }
        let value = fields.next().and_then(|f| f.parse::<u64>().ok());
        match (key, value) {
            ("procs_running", Some(v)) => out.procs_running = Some(v as u32),
            ("procs_blocked", Some(v)) => out.procs_blocked = Some(v as u32),
            ("ctxt" | "intr" | "processes", Some(v)) => {
                out.counters.insert(key.to_owned(), v);
            }
            _ => {}
        }
    }
    out
}

/// Only the run-queue lines of `/proc/stat`, for the cheap samples taken during the window.
#[must_use]
pub fn stat_procs(text: &str) -> (Option<u32>, Option<u32>) {
    let mut running = None;
    let mut blocked = None;
    for line in text.lines().rev() {
        if let Some(v) = line.strip_prefix("procs_running ") {
            running = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("procs_blocked ") {
            blocked = v.trim().parse().ok();
        }
        if running.is_some() && blocked.is_some() {
            break;
        }
    }
    (running, blocked)
}

/// `/proc/loadavg`: the 1, 5 and 15 minute load averages.
#[must_use]
pub fn loadavg(text: &str) -> Option<[f64; 3]> {
    let mut f = text.split_ascii_whitespace().map(str::parse::<f64>);
    Some([f.next()?.ok()?, f.next()?.ok()?, f.next()?.ok()?])
}

/// `/proc/meminfo` as bytes by key (`MemTotal`, `MemAvailable`, `SwapFree`, ...). Values given in
/// kB are converted; the few unitless ones (`HugePages_*`) are kept as they are.
#[must_use]
pub fn meminfo(text: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let mut f = rest.split_ascii_whitespace();
        let Some(Ok(value)) = f.next().map(str::parse::<u64>) else {
            continue;
        };
        let value = if f.next() == Some("kB") {
            value.saturating_mul(1024)
        } else {
            value
        };
        out.insert(key.trim().to_owned(), value);
    }
    out
}

/// `name value` per line (`/proc/vmstat`, cgroup `memory.stat` and `cpu.stat`), into a
/// `BTreeMap` or `HashMap` of the number type asked for; lines whose value is not such a number
/// are left out.
#[must_use]
pub fn flat_keyed<T: std::str::FromStr, C: FromIterator<(String, T)>>(text: &str) -> C {
    text.lines()
        .filter_map(|line| {
            let (k, v) = line.split_once(' ')?;
            Some((k.to_owned(), v.trim().parse().ok()?))
        })
        .collect()
}

/// `/proc/net/snmp` and `/proc/net/netstat`: pairs of lines, a header line of names and a line
/// of values, both starting with the same `Prefix:`. Counters are named as `nstat` names them,
/// prefix and name joined (`TcpExtListenOverflows`). Only the prefixes asked for are kept.
///
/// Values are parsed as signed: `Tcp: MaxConn` is -1 on Linux.
#[must_use]
pub fn snmp_pairs(text: &str, prefixes: &[&str]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let (Some(names), Some(values)) = (lines.next(), lines.next()) {
        let (Some((p1, names)), Some((p2, values))) =
            (names.split_once(':'), values.split_once(':'))
        else {
            continue;
        };
        if p1 != p2 || !prefixes.contains(&p1) {
            continue;
        }
        for (name, value) in names
            .split_ascii_whitespace()
            .zip(values.split_ascii_whitespace())
        {
            let parsed = value
                .parse::<i64>()
                .ok()
                .or_else(|| value.parse::<u64>().ok().map(|v| v as i64));
            if let Some(v) = parsed {
                out.insert(format!("{p1}{name}"), v);
            }
        }
    }
    out
}

/// One line of `/proc/pressure/*`: `some avg10=0.00 avg60=0.00 avg300=0.00 total=0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PsiLine {
    pub avg10: f64,
    pub avg60: f64,
    pub avg300: f64,
    pub total_us: u64,
}

/// A `/proc/pressure/*` file: the `some` line and, where present, the `full` line.
#[must_use]
pub fn pressure(text: &str) -> (Option<PsiLine>, Option<PsiLine>) {
    let mut some = None;
    let mut full = None;
    for line in text.lines() {
        let mut f = line.split_ascii_whitespace();
        let kind = f.next();
        let mut rec = PsiLine {
            avg10: 0.0,
            avg60: 0.0,
            avg300: 0.0,
            total_us: 0,
        };
        let mut seen = 0;
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            match k {
                "avg10" => rec.avg10 = v.parse().unwrap_or(0.0),
                "avg60" => rec.avg60 = v.parse().unwrap_or(0.0),
                "avg300" => rec.avg300 = v.parse().unwrap_or(0.0),
                "total" => rec.total_us = v.parse().unwrap_or(0),
                _ => continue,
            }
            seen += 1;
        }
        if seen < 4 {
            continue;
        }
        match kind {
            Some("some") => some = Some(rec),
            Some("full") => full = Some(rec),
            _ => {}
        }
    }
    (some, full)
}

/// `/sys/devices/system/cpu/online`-style ranges (`0-3,5,7-8`) → number of CPUs.
#[must_use]
pub fn cpu_list_len(text: &str) -> Option<u32> {
    let mut n = 0u32;
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        if let Some((a, b)) = part.split_once('-') {
            n += b.parse::<u32>().ok()?.checked_sub(a.parse::<u32>().ok()?)? + 1;
        } else {
            part.parse::<u32>().ok()?;
            n += 1;
        }
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from a 2-vCPU Debian 12 VM (kernel 6.18).
    const STAT: &str = "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 0 0
cpu0 1393280 32966 540847 6243308 2798 0 24346 0 0 0
cpu1 1335297 28930 472505 6400179 2193 0 180 0 0 0
intr 1462898 43 9 0 0 0 0 0 0 1 0 0 0 0 0 0 0
ctxt 3195393
btime 1700000000
processes 108226
procs_running 3
procs_blocked 1
softirq 1 2 3
";

    #[test]
    fn stat_reads_cpu_lines_and_counters() {
        let s = stat(STAT);
        assert_eq!(s.total.user, 10_132_153);
        assert_eq!(s.total.softirq, 25_195);
        assert_eq!(s.per_cpu.len(), 2);
        assert_eq!(s.per_cpu[1].idle, 6_400_179);
        assert_eq!(s.counters["ctxt"], 3_195_393);
        assert_eq!(s.counters["intr"], 1_462_898);
        assert_eq!(s.counters["processes"], 108_226);
        assert_eq!((s.procs_running, s.procs_blocked), (Some(3), Some(1)));
        assert_eq!(stat_procs(STAT), (Some(3), Some(1)));
    }

    #[test]
    fn snmp_pairs_names_counters_like_nstat() {
        let text = "Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens\nTcp: 1 200 120000 -1 3008\n";
        let c = snmp_pairs(text, &["Tcp"]);
        assert_eq!(c.get("TcpActiveOpens"), Some(&3008));
        assert_eq!(c.get("TcpMaxConn"), Some(&-1));
        assert!(!c.contains_key("IpForwarding"));
        let netstat = "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 3008 3008\nIpExt: InNoRoutes\nIpExt: 0\n";
        let c = snmp_pairs(netstat, &["TcpExt"]);
        assert_eq!(c.get("TcpExtListenOverflows"), Some(&3008));
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn meminfo_converts_kb() {
        let m = meminfo(
            "MemTotal:        4005180 kB\nMemAvailable:    1000 kB\nHugePages_Total:       0\n",
        );
        assert_eq!(m["MemTotal"], 4_005_180 * 1024);
        assert_eq!(m["MemAvailable"], 1_024_000);
        assert_eq!(m["HugePages_Total"], 0);
    }

    #[test]
    fn pressure_lines() {
        let (some, full) = pressure(
            "some avg10=1.50 avg60=0.20 avg300=0.05 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=42\n",
        );
        assert_eq!(some.unwrap().avg10, 1.5);
        assert_eq!(some.unwrap().total_us, 123_456);
        assert_eq!(full.unwrap().total_us, 42);
        assert_eq!(pressure("garbage\n"), (None, None));
    }

    #[test]
    fn cpu_ranges() {
        assert_eq!(cpu_list_len("0-1\n"), Some(2));
        assert_eq!(cpu_list_len("0-3,5,7-8"), Some(7));
        assert_eq!(cpu_list_len("3-1"), None);
    }

    #[test]
    fn loadavg_fields() {
        assert_eq!(
            loadavg("0.52 0.58 0.59 2/317 12345\n"),
            Some([0.52, 0.58, 0.59])
        );
        assert_eq!(loadavg(""), None);
    }
}
