//! The processes that used the most CPU over the window, from `/proc/<pid>/stat`.

use super::Failure;
use crate::snapshot::{ProcessCpu, Processes, pct, rate};
use std::collections::BTreeMap;

/// How many processes the snapshot lists.
const TOP: usize = 10;

/// One reading of one process.
#[derive(Debug, Clone)]
pub struct Reading {
    pub name: String,
    /// Start time since boot in ticks: tells a reused pid from the same process.
    pub starttime: u64,
    pub utime: u64,
    pub stime: u64,
    pub majflt: u64,
    pub threads: u32,
    pub rss_pages: u64,
    pub state: char,
}

pub struct Start(BTreeMap<i32, Reading>);

fn read_all() -> Result<BTreeMap<i32, Reading>, Failure> {
    let all = procfs::process::all_processes()
        .map_err(|e| Failure::Error(format!("cannot list /proc: {e}")))?;
    Ok(all
        .flatten()
        .filter_map(|p| {
            // A process that exited between the listing and the read is simply gone.
            let s = p.stat().ok()?;
            Some((
                s.pid,
                Reading {
                    name: s.comm,
                    starttime: s.starttime,
                    utime: s.utime,
                    stime: s.stime,
                    majflt: s.majflt,
                    threads: s.num_threads.max(0) as u32,
                    rss_pages: s.rss,
                    state: s.state,
                },
            ))
        })
        .collect())
}

pub fn begin() -> Result<Start, Failure> {
    read_all().map(Start)
}

pub fn finish(start: Start, seconds: f64) -> Result<Processes, Failure> {
    let end = read_all()?;
    Ok(compute(
        &start.0,
        &end,
        procfs::ticks_per_second(),
        procfs::page_size(),
        seconds,
    ))
}

#[must_use]
pub fn compute(
    a: &BTreeMap<i32, Reading>,
    b: &BTreeMap<i32, Reading>,
    ticks_per_s: u64,
    page_size: u64,
    seconds: f64,
) -> Processes {
    let tick_s = 1.0 / ticks_per_s.max(1) as f64;
    let mut top: Vec<ProcessCpu> = b
        .iter()
        .filter_map(|(pid, y)| {
            // A process born inside the window counts from zero.
            let x = a.get(pid).filter(|x| x.starttime == y.starttime);
            let du = y.utime.saturating_sub(x.map_or(0, |x| x.utime)) as f64 * tick_s;
            let ds = y.stime.saturating_sub(x.map_or(0, |x| x.stime)) as f64 * tick_s;
            let cpu = pct(du + ds, seconds)?;
            Some(ProcessCpu {
                pid: *pid,
                name: y.name.clone(),
                cpu_pct: cpu,
                user_pct: pct(du, seconds).unwrap_or(0.0),
                system_pct: pct(ds, seconds).unwrap_or(0.0),
                threads: y.threads,
                rss_bytes: y.rss_pages.saturating_mul(page_size),
                state: y.state.to_string(),
                major_faults_per_s: x
                    .and_then(|x| rate(y.majflt.saturating_sub(x.majflt) as f64, seconds)),
            })
        })
        .filter(|p| p.cpu_pct > 0.0)
        .collect();
    top.sort_by(|p, q| q.cpu_pct.total_cmp(&p.cpu_pct).then(p.pid.cmp(&q.pid)));
    top.truncate(TOP);
    Processes {
        count: b.len() as u32,
        threads: b.values().map(|r| r.threads).sum(),
        top,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(name: &str, start: u64, utime: u64, stime: u64) -> Reading {
        Reading {
            name: name.into(),
            starttime: start,
            utime,
            stime,
            majflt: 0,
            threads: 1,
            rss_pages: 10,
            state: 'R',
        }
    }

    #[test]
    fn busiest_first_and_pid_reuse_counts_from_zero() {
        let a = BTreeMap::from([
            (1, r("node", 5, 100, 0)),
            (2, r("mysqld", 5, 0, 0)),
            (3, r("old", 5, 1000, 0)),
        ]);
        let b = BTreeMap::from([
            (1, r("node", 5, 600, 0)),
            (2, r("mysqld", 5, 100, 50)),
            (3, r("new", 9, 20, 0)),
        ]);
        let p = compute(&a, &b, 100, 4096, 5.0);
        assert_eq!(p.top[0].name, "node");
        assert_eq!(p.top[0].cpu_pct, 100.0); // 500 ticks = 5 s of CPU in 5 s
        assert_eq!(p.top[1].cpu_pct, 30.0);
        assert_eq!(p.top[1].system_pct, 10.0);
        assert_eq!(p.top[2].name, "new");
        assert_eq!(p.top[2].cpu_pct, 4.0);
        assert_eq!(p.top[0].rss_bytes, 40960);
    }
}
