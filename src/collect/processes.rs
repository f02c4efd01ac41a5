//! The processes that used the most CPU over the window, from `/proc/<pid>/stat`.

use super::{Failure, open_files};
use crate::snapshot::{ProcessCpu, Processes, ThreadCpu, pct, rate, round2};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

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

pub struct Start {
    procs: BTreeMap<i32, Reading>,
    /// The threads of the busiest multi-threaded processes, read once midway through the window.
    threads: Option<ThreadProbe>,
}

/// Per-thread CPU ticks of a few processes, to tell one pegged thread (a Node.js event loop) from
/// work spread over many. Only the busiest processes of the first half of the window are probed,
/// so the cost stays a handful of reads.
struct ThreadProbe {
    at: Instant,
    /// pid → tid → (thread name, starttime, utime + stime)
    tasks: BTreeMap<i32, BTreeMap<i32, (String, u64, u64)>>,
}

/// How many processes get their threads probed.
const PROBED: usize = 3;

/// At most this many threads are read in all (each is read twice): a database server with 2000
/// threads would otherwise cost more than every other collector together. A process with more
/// threads than what is left is passed over for a smaller one.
const PROBED_THREADS: u32 = 512;

fn read_tasks(pid: i32) -> BTreeMap<i32, (String, u64, u64)> {
    let Ok(process) = procfs::process::Process::new(pid) else {
        return BTreeMap::new();
    };
    let Ok(tasks) = process.tasks() else {
        return BTreeMap::new();
    };
    tasks
        .flatten()
        .filter_map(|t| {
            let s = t.stat().ok()?;
            Some((t.tid, (s.comm, s.starttime, s.utime + s.stime)))
        })
        .collect()
}

/// Midway through the window: find the busiest multi-threaded processes so far and read their
/// threads, so `finish` can tell how busy their busiest thread was over the second half.
pub fn sample_midway(start: &mut Start) {
    if start.threads.is_some() {
        return;
    }
    // Only processes that were multi-threaded at the start are read again: on a busy server
    // they are a small share of all processes.
    let mut busy: Vec<(u64, i32)> = start
        .procs
        .iter()
        .filter(|(_, r)| r.threads > 1)
        .filter_map(|(pid, before)| {
            let now = procfs::process::Process::new(*pid).ok()?.stat().ok()?;
            if now.starttime != before.starttime {
                return None;
            }
            let used = (now.utime + now.stime).saturating_sub(before.utime + before.stime);
            (used > 0).then_some((used, *pid))
        })
        .collect();
    busy.sort_unstable_by(|a, b| b.cmp(a));
    let at = Instant::now();
    let mut budget = PROBED_THREADS;
    let tasks = busy
        .iter()
        .filter(|(_, pid)| {
            let threads = start.procs.get(pid).map_or(u32::MAX, |r| r.threads);
            let fits = threads <= budget;
            if fits {
                budget -= threads;
            }
            fits
        })
        .take(PROBED)
        .map(|(_, pid)| (*pid, read_tasks(*pid)))
        .collect();
    start.threads = Some(ThreadProbe { at, tasks });
}

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
    Ok(Start {
        procs: read_all()?,
        threads: None,
    })
}

/// The end reading. `listening`: the pids holding a listening socket, whose open-files limits
/// are read with the busiest processes' (`open_files`).
pub fn finish(start: Start, seconds: f64, listening: &BTreeSet<i32>) -> Result<Processes, Failure> {
    let end = read_all()?;
    let ticks = procfs::ticks_per_second();
    let mut out = compute(&start.procs, &end, ticks, procfs::page_size(), seconds);
    if let Some(probe) = start.threads {
        let half = probe.at.elapsed().as_secs_f64();
        for p in &mut out.top {
            if let Some(before) = probe.tasks.get(&p.pid) {
                p.busiest_thread = busiest_thread(before, &read_tasks(p.pid), ticks, half);
            }
        }
    }
    let busiest: Vec<i32> = out.top.iter().map(|p| p.pid).collect();
    out.open_files = Some(open_files::read(listening, &busiest));
    Ok(out)
}

/// The thread that used the most CPU between two readings of a process's threads.
fn busiest_thread(
    a: &BTreeMap<i32, (String, u64, u64)>,
    b: &BTreeMap<i32, (String, u64, u64)>,
    ticks_per_s: u64,
    seconds: f64,
) -> Option<ThreadCpu> {
    let tick_s = 1.0 / ticks_per_s.max(1) as f64;
    b.iter()
        .filter_map(|(tid, (name, start, used))| {
            // A thread id reused inside the window is another thread: no figure for it.
            let (_, _, u0) = a.get(tid).filter(|(_, s0, _)| s0 == start)?;
            let cpu_pct = pct(used.saturating_sub(*u0) as f64 * tick_s, seconds)?;
            Some(ThreadCpu {
                tid: *tid,
                name: name.clone(),
                cpu_pct,
                window_s: round2(seconds),
            })
        })
        .max_by(|x, y| x.cpu_pct.total_cmp(&y.cpu_pct).then(y.tid.cmp(&x.tid)))
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
                busiest_thread: None,
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
        open_files: None,
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

    #[test]
    fn busiest_thread_over_the_probe() {
        let t = |n: &str, s: u64, u: u64| (n.to_owned(), s, u);
        let a = BTreeMap::from([
            (10, t("node", 1, 100)),
            (11, t("libuv-worker", 1, 0)),
            (12, t("reused", 1, 0)),
        ]);
        let b = BTreeMap::from([
            (10, t("node", 1, 350)),
            (11, t("libuv-worker", 1, 20)),
            (12, t("reused", 7, 900)),
        ]);
        let busiest = busiest_thread(&a, &b, 100, 2.5).unwrap();
        assert_eq!(
            (busiest.tid, busiest.name.as_str(), busiest.cpu_pct),
            (10, "node", 100.0)
        );
        assert_eq!(busiest_thread(&a, &b, 100, 0.0), None);
    }
}
