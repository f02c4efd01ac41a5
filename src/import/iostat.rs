//! `iostat -x` as pasted: its `avg-cpu:` block and its device table, each report one block. The
//! device table's columns are found by their header, so every sysstat version reads: 12.x
//! (`r/s rkB/s rrqm/s %rrqm r_await rareq-sz w/s ... aqu-sz %util`), 10–11 (`rrqm/s wrqm/s r/s
//! w/s rkB/s wkB/s avgrq-sz avgqu-sz await r_await w_await svctm %util`, `Device:`), sector
//! (`rsec/s`) and megabyte (`-m`: `rMB/s`) units.
//!
//! The first report of `iostat -x` is the average since boot; the next ones (`iostat -x 1 2`)
//! cover their interval. The snapshot takes the last report.

use super::lines::Line;

/// One device's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub name: String,
    pub reads_per_s: f64,
    pub writes_per_s: f64,
    pub read_bytes_per_s: f64,
    pub write_bytes_per_s: f64,
    pub read_merges_per_s: f64,
    pub write_merges_per_s: f64,
    pub r_await_ms: Option<f64>,
    pub w_await_ms: Option<f64>,
    pub aqu_sz: f64,
    pub util_pct: f64,
}

/// One device table.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub devices: Vec<Device>,
    pub lines: (usize, usize),
}

/// The device table whose header is `lines[start]`, and how many lines it took.
#[must_use]
pub fn devices(lines: &[Line<'_>], start: usize) -> Option<(Report, usize)> {
    let header: Vec<&str> = lines[start].text.split_whitespace().collect();
    if !matches!(header.first(), Some(&("Device" | "Device:"))) {
        return None;
    }
    let col = |names: &[&str]| header.iter().position(|h| names.contains(h));
    let (r, w, util) = (col(&["r/s"])?, col(&["w/s"])?, col(&["%util"])?);
    // Bytes per second: kB, MB or 512-byte sectors, whichever the version printed.
    let (rb, rb_scale) = bytes_col(&header, "r")?;
    let (wb, wb_scale) = bytes_col(&header, "w")?;
    let rrqm = col(&["rrqm/s"]);
    let wrqm = col(&["wrqm/s"]);
    let r_await = col(&["r_await"]);
    let w_await = col(&["w_await"]);
    let await_ = col(&["await"]);
    let aqu = col(&["aqu-sz", "avgqu-sz"])?;
    let mut out = Vec::new();
    let mut taken = 1;
    for line in &lines[start + 1..] {
        let f: Vec<&str> = line.text.split_whitespace().collect();
        if f.len() != header.len() {
            break;
        }
        // Numbers with a decimal comma in some locales (`0,52`).
        let num = |i: usize| f[i].replace(',', ".").parse::<f64>().ok();
        let opt = |i: Option<usize>| i.and_then(num);
        let Some(device) = (|| {
            Some(Device {
                name: f[0].to_owned(),
                reads_per_s: num(r)?,
                writes_per_s: num(w)?,
                read_bytes_per_s: num(rb)? * rb_scale,
                write_bytes_per_s: num(wb)? * wb_scale,
                read_merges_per_s: opt(rrqm).unwrap_or(0.0),
                write_merges_per_s: opt(wrqm).unwrap_or(0.0),
                r_await_ms: opt(r_await).or_else(|| opt(await_)),
                w_await_ms: opt(w_await).or_else(|| opt(await_)),
                aqu_sz: num(aqu)?,
                util_pct: num(util)?,
            })
        })() else {
            break;
        };
        out.push(device);
        taken += 1;
    }
    if out.is_empty() {
        return None;
    }
    let lines = (lines[start].no, lines[start + taken - 1].no);
    Some((
        Report {
            devices: out,
            lines,
        },
        taken,
    ))
}

/// The column of read (`r`) or write (`w`) throughput and its scale to bytes.
fn bytes_col(header: &[&str], rw: &str) -> Option<(usize, f64)> {
    [("kB/s", 1024.0), ("MB/s", 1_048_576.0), ("sec/s", 512.0)]
        .iter()
        .find_map(|(unit, scale)| {
            let name = format!("{rw}{unit}");
            header.iter().position(|h| *h == name).map(|i| (i, *scale))
        })
}

/// The `avg-cpu:` block: where the CPU time went, in % (`%user %nice %system %iowait %steal
/// %idle`; sysstat folds interrupts into `%system`). Columns by name; one sysstat lacks is absent.
#[derive(Debug, Clone, PartialEq)]
pub struct AvgCpu {
    pub user: f64,
    pub nice: Option<f64>,
    pub system: f64,
    pub iowait: f64,
    pub steal: Option<f64>,
    pub idle: f64,
    pub lines: (usize, usize),
}

/// The `avg-cpu:` block: its header and one line of numbers (a decimal comma, as some locales
/// print it, reads too).
#[must_use]
pub fn avg_cpu(lines: &[Line<'_>], start: usize) -> Option<(AvgCpu, usize)> {
    let header = lines[start].text.trim();
    if !header.starts_with("avg-cpu:") || !header.contains("%idle") {
        return None;
    }
    let names: Vec<&str> = header.split_whitespace().skip(1).collect();
    let values = lines.get(start + 1)?;
    let f: Option<Vec<f64>> = values
        .text
        .split_whitespace()
        .map(|x| x.replace(',', ".").parse::<f64>().ok())
        .collect();
    let f = f.filter(|f| f.len() == names.len())?;
    let get = |name: &str| names.iter().position(|n| *n == name).map(|i| f[i]);
    let cpu = AvgCpu {
        user: get("%user")?,
        nice: get("%nice"),
        system: get("%system")?,
        iowait: get("%iowait")?,
        steal: get("%steal"),
        idle: get("%idle")?,
        lines: (lines[start].no, values.no),
    };
    Some((cpu, 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::lines::{lines, sample};

    #[test]
    fn recorded_iostat_x_two_reports() {
        let text = sample("iostat-x-1-2.txt");
        let ls = lines(&text);
        let reports: Vec<Report> = (0..ls.len())
            .filter_map(|i| devices(&ls, i).map(|(r, _)| r))
            .collect();
        assert_eq!(reports.len(), 2);
        assert!(reports[0].devices.iter().any(|d| d.name == "vda"));
        let cpu: Vec<AvgCpu> = (0..ls.len())
            .filter_map(|i| avg_cpu(&ls, i).map(|(c, _)| c))
            .collect();
        assert_eq!(cpu.len(), 2);
        // The file's second report, as iostat printed it.
        let last = &cpu[1];
        assert_eq!(
            (
                last.user,
                last.nice,
                last.system,
                last.iowait,
                last.steal,
                last.idle
            ),
            (97.49, Some(0.0), 2.51, 0.0, Some(0.0), 0.0)
        );
    }

    #[test]
    fn published_sysstat_10_columns() {
        // sysstat 10.1 (CentOS 7), `iostat -x`.
        let text = "Device:         rrqm/s   wrqm/s     r/s     w/s    rkB/s    wkB/s avgrq-sz avgqu-sz   await r_await w_await  svctm  %util\n\
                    sda               0.00     8.00    2.00  120.00    16.00  1024.00    17.05     4.20   34.43    5.00   34.92   8.10  98.80\n";
        let (r, taken) = devices(&lines(text), 0).unwrap();
        assert_eq!(taken, 2);
        let d = &r.devices[0];
        assert_eq!((d.name.as_str(), d.util_pct, d.aqu_sz), ("sda", 98.8, 4.2));
        assert_eq!(d.write_bytes_per_s, 1024.0 * 1024.0);
        assert_eq!(d.w_await_ms, Some(34.92));
    }

    #[test]
    fn sectors_and_a_decimal_comma() {
        let text = "Device: rrqm/s wrqm/s r/s w/s rsec/s wsec/s avgrq-sz avgqu-sz await svctm %util\n\
                    sdb 0,00 0,00 1,00 2,00 8,00 16,00 8,00 0,50 3,00 1,00 12,50\n";
        let (r, _) = devices(&lines(text), 0).unwrap();
        let d = &r.devices[0];
        assert_eq!(
            (d.read_bytes_per_s, d.util_pct, d.r_await_ms),
            (4096.0, 12.5, Some(3.0))
        );
    }
}
