//! doctor's own CPU and memory use, so every snapshot records what taking it cost.

pub struct Usage {
    pub cpu_ms: f64,
    pub max_rss_bytes: u64,
}

/// CPU time of all of doctor's threads from `/proc/self/task/*/schedstat` (nanoseconds, unlike
/// the 10 ms ticks of `/proc/self/stat`), and the peak RSS (`VmHWM`).
pub fn read() -> Usage {
    let mut ns: u64 = 0;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let path = task.path().join("schedstat");
            if let Some(v) = std::fs::read_to_string(path)
                .ok()
                .and_then(|t| t.split_ascii_whitespace().next()?.parse::<u64>().ok())
            {
                ns += v;
            }
        }
    }
    let max_rss_bytes = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_ascii_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024);
    Usage {
        cpu_ms: (ns as f64 / 1000.0).round() / 1000.0,
        max_rss_bytes,
    }
}
