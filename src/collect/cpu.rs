//! CPU time split, load and run queue from `/proc/stat` and `/proc/loadavg`.

use super::{Failure, parse, read};
use crate::snapshot::{Counter, Cpu, pct, round2};

pub struct Start {
    stat: parse::Stat,
    running: Vec<u32>,
    blocked: Vec<u32>,
}

pub fn begin() -> Result<Start, Failure> {
    let stat = parse::stat(&read("/proc/stat")?);
    if stat.total.total() == 0 {
        return Err(Failure::Error("/proc/stat has no cpu line".into()));
    }
    let mut start = Start {
        stat,
        running: Vec::new(),
        blocked: Vec::new(),
    };
    let first = (start.stat.procs_running, start.stat.procs_blocked);
    record(&mut start, first);
    Ok(start)
}

/// A cheap run-queue sample taken on each tick of the window.
pub fn sample(start: &mut Start) {
    if let Ok(text) = std::fs::read_to_string("/proc/stat") {
        record(start, parse::stat_procs(&text));
    }
}

fn record(start: &mut Start, (running, blocked): (Option<u32>, Option<u32>)) {
    // doctor's own thread is running while it reads the file.
    if let Some(r) = running {
        start.running.push(r.saturating_sub(1));
    }
    if let Some(b) = blocked {
        start.blocked.push(b);
    }
}

pub fn finish(mut start: Start, seconds: f64) -> Result<Cpu, Failure> {
    let end = parse::stat(&read("/proc/stat")?);
    record(&mut start, (end.procs_running, end.procs_blocked));
    let load = parse::loadavg(&read("/proc/loadavg")?)
        .ok_or_else(|| Failure::Error("/proc/loadavg is not three numbers".into()))?;
    Ok(compute(
        &start.stat,
        &end,
        &start.running,
        &start.blocked,
        load,
        seconds,
    ))
}

/// The figures over the window from two readings of `/proc/stat`.
pub fn compute(
    a: &parse::Stat,
    b: &parse::Stat,
    running: &[u32],
    blocked: &[u32],
    load: [f64; 3],
    seconds: f64,
) -> Cpu {
    let d = diff(&a.total, &b.total);
    let total = d.total() as f64;
    let share = |x: u64| pct(x as f64, total).unwrap_or(0.0);
    let busy = d.total().saturating_sub(d.idle + d.iowait);
    let busiest = a
        .per_cpu
        .iter()
        .zip(&b.per_cpu)
        .map(|(x, y)| {
            let d = diff(x, y);
            pct(
                d.total().saturating_sub(d.idle + d.iowait) as f64,
                d.total() as f64,
            )
            .unwrap_or(0.0)
        })
        .fold(0.0, f64::max);
    let counters = b
        .counters
        .iter()
        .map(|(k, end)| {
            let c = match a.counters.get(k) {
                Some(start) => Counter::between(*start as i64, *end as i64, seconds),
                None => Counter::gauge(*end as i64),
            };
            (k.clone(), c)
        })
        .collect();
    let avg = |v: &[u32]| {
        if v.is_empty() {
            0.0
        } else {
            round2(v.iter().map(|x| f64::from(*x)).sum::<f64>() / v.len() as f64)
        }
    };
    Cpu {
        cores: Some(b.per_cpu.len() as u32),
        user_pct: share(d.user),
        nice_pct: Some(share(d.nice)),
        system_pct: share(d.system),
        iowait_pct: share(d.iowait),
        irq_pct: Some(share(d.irq)),
        softirq_pct: Some(share(d.softirq)),
        steal_pct: Some(share(d.steal)),
        idle_pct: share(d.idle),
        busy_pct: share(busy),
        busiest_core_pct: Some(busiest),
        load_1: Some(load[0]),
        load_5: Some(load[1]),
        load_15: Some(load[2]),
        run_queue_avg: Some(avg(running)),
        run_queue_max: Some(running.iter().copied().max().unwrap_or(0)),
        blocked_avg: Some(avg(blocked)),
        blocked_max: Some(blocked.iter().copied().max().unwrap_or(0)),
        run_queue_samples: running.len() as u32,
        counters,
    }
}

/// Tick differences; a column that went backwards (CPU hot-unplugged and back) counts as zero.
fn diff(a: &parse::CpuTicks, b: &parse::CpuTicks) -> parse::CpuTicks {
    parse::CpuTicks {
        user: b.user.saturating_sub(a.user),
        nice: b.nice.saturating_sub(a.nice),
        system: b.system.saturating_sub(a.system),
        idle: b.idle.saturating_sub(a.idle),
        iowait: b.iowait.saturating_sub(a.iowait),
        irq: b.irq.saturating_sub(a.irq),
        softirq: b.softirq.saturating_sub(a.softirq),
        steal: b.steal.saturating_sub(a.steal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_core_pegged_on_two() {
        let a = parse::stat(
            "cpu 100 0 0 100 0 0 0 0\ncpu0 50 0 0 50 0 0 0 0\ncpu1 50 0 0 50 0 0 0 0\nctxt 10\n",
        );
        let b = parse::stat(
            "cpu 200 0 0 200 0 0 0 0\ncpu0 150 0 0 50 0 0 0 0\ncpu1 50 0 0 150 0 0 0 0\nctxt 60\n",
        );
        let c = compute(&a, &b, &[1, 1, 2], &[0], [1.0, 0.5, 0.1], 1.0);
        assert_eq!(c.cores, Some(2));
        assert_eq!(c.user_pct, 50.0);
        assert_eq!(c.busy_pct, 50.0);
        assert_eq!(c.busiest_core_pct, Some(100.0));
        assert_eq!(c.run_queue_avg, Some(1.33));
        assert_eq!(c.run_queue_max, Some(2));
        assert_eq!(c.counters["ctxt"].per_s, Some(50.0));
    }

    #[test]
    fn identical_readings_give_zeros_not_nan() {
        let a = parse::stat("cpu 1 1 1 1 1 1 1 1\ncpu0 1 1 1 1 1 1 1 1\n");
        let c = compute(&a, &a, &[], &[], [0.0; 3], 0.0);
        assert_eq!(c.busy_pct, 0.0);
        assert_eq!(c.idle_pct, 0.0);
        assert_eq!(c.run_queue_avg, Some(0.0));
    }
}
