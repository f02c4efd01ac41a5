//! `docker stats --no-stream` as pasted: the header (`CONTAINER ID   NAME   CPU %   MEM USAGE /
//! LIMIT   MEM %   NET I/O   BLOCK I/O   PIDS`, or before Docker 1.13 `CONTAINER   CPU %   ...`
//! without a name column) and one row per container. Columns are separated by two spaces or more
//! (Docker's tabwriter pads them) and read by their header's names. Sizes are as Docker prints
//! them: memory in binary units (`5.629MiB`), network and block I/O in decimal ones (`2.48kB`),
//! three or four digits; `--` (a stopped container under `-a`) is unknown.

use super::lines::Line;

/// One container's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The `CONTAINER ID` column (or the old header's `CONTAINER`, an id or a name).
    pub id: String,
    /// The container's name, or its id under the old header.
    pub name: String,
    pub cpu_pct: Option<f64>,
    pub mem_used: Option<u64>,
    pub mem_limit: Option<u64>,
    pub mem_pct: Option<f64>,
    pub net_rx: Option<u64>,
    pub net_tx: Option<u64>,
    pub block_read: Option<u64>,
    pub block_write: Option<u64>,
    pub pids: Option<u64>,
}

/// A `docker stats` output.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub rows: Vec<Row>,
    pub lines: (usize, usize),
}

fn cells(text: &str) -> Vec<&str> {
    text.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// `12.5%` → 12.5.
fn percent(cell: &str) -> Option<f64> {
    cell.trim().strip_suffix('%')?.trim().parse().ok()
}

/// A size as Docker prints it (`5.629MiB`, `2.48kB`, `796 KiB`, `0B`), in bytes.
#[must_use]
pub fn size(cell: &str) -> Option<u64> {
    let cell = cell.trim();
    let split = cell
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(cell.len());
    let (number, unit) = cell.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale: f64 = match unit.trim() {
        "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1_048_576.0,
        "GiB" => 1_073_741_824.0,
        "TiB" => 1_099_511_627_776.0,
        _ => return None,
    };
    let b = (number * scale).round();
    (b.is_finite() && b >= 0.0).then_some(b as u64)
}

/// `a / b` as two sizes.
fn pair(cell: &str) -> (Option<u64>, Option<u64>) {
    cell.split_once('/')
        .map_or((None, None), |(a, b)| (size(a), size(b)))
}

/// `docker stats` from its header on.
#[must_use]
pub fn stats(lines: &[Line<'_>], start: usize) -> Option<(Stats, usize)> {
    if !lines[start].text.trim_start().starts_with("CONTAINER") {
        return None;
    }
    let header = cells(lines[start].text);
    let name = match header.as_slice() {
        ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", ..] => Some(1),
        ["CONTAINER", "CPU %", "MEM USAGE / LIMIT", ..] => None,
        _ => return None,
    };
    let col = |title: &str| header.iter().position(|h| *h == title);
    let cpu = col("CPU %")?;
    let mut rows = Vec::new();
    for line in &lines[start + 1..] {
        let c = cells(line.text);
        if c.len() != header.len() || !(c[cpu].ends_with('%') || c[cpu] == "--") {
            break;
        }
        let cell = |title: &str| col(title).map_or("--", |i| c[i]);
        let (mem_used, mem_limit) = pair(cell("MEM USAGE / LIMIT"));
        let (net_rx, net_tx) = pair(cell("NET I/O"));
        let (block_read, block_write) = pair(cell("BLOCK I/O"));
        rows.push(Row {
            id: c[0].to_owned(),
            name: c[name.unwrap_or(0)].to_owned(),
            cpu_pct: percent(c[cpu]),
            mem_used,
            mem_limit,
            mem_pct: percent(cell("MEM %")),
            net_rx,
            net_tx,
            block_read,
            block_write,
            pids: cell("PIDS").parse().ok(),
        });
    }
    // A header alone (no container running) is still docker's output.
    let taken = 1 + rows.len();
    let lines = (lines[start].no, lines[start + taken - 1].no);
    Some((Stats { rows, lines }, taken))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::lines::{lines, sample};

    #[test]
    fn recorded_one_container() {
        let text = sample("docker-stats-no-stream.txt");
        let (s, taken) = stats(&lines(&text), 0).unwrap();
        assert_eq!(taken, 2);
        let row = &s.rows[0];
        // As the file shows it: `f78af2e12ee6   doctor-import-rec   0.00%   852KiB / 23.54GiB
        // 0.00%   736B / 0B   0B / 0B   1`.
        assert_eq!(
            (row.id.as_str(), row.name.as_str()),
            ("f78af2e12ee6", "doctor-import-rec")
        );
        assert_eq!(
            (row.cpu_pct, row.mem_pct, row.pids),
            (Some(0.0), Some(0.0), Some(1))
        );
        assert_eq!(row.mem_used, Some(852 * 1024));
        assert_eq!(
            row.mem_limit,
            Some((23.54 * 1_073_741_824.0_f64).round() as u64)
        );
        assert_eq!(
            (row.net_rx, row.net_tx, row.block_read),
            (Some(736), Some(0), Some(0))
        );
        // The header alone (nothing running) is docker's output too.
        let header = text.lines().next().unwrap();
        assert_eq!(stats(&lines(header), 0).unwrap().1, 1);
    }

    #[test]
    fn published_new_and_old_headers() {
        // docs.docker.com, `docker stats --no-stream` (new header).
        let new = "CONTAINER ID   NAME                                    CPU %     MEM USAGE / LIMIT     MEM %     NET I/O          BLOCK I/O     PIDS\n\
                   b95a83497c91   awesome_brattain                        0.28%     5.629MiB / 1.952GiB   0.28%     916B / 0B        147kB / 0B    9\n\
                   67b2525d8ad1   foobar                                  0.00%     1.727MiB / 1.952GiB   0.09%     2.48kB / 0B      4.11MB / 0B   2\n";
        let (s, taken) = stats(&lines(new), 0).unwrap();
        assert_eq!(taken, 3);
        assert_eq!(s.rows[0].name, "awesome_brattain");
        assert_eq!(s.rows[1].net_rx, Some(2480));
        assert_eq!(s.rows[1].block_read, Some(4_110_000));
        assert_eq!(
            s.rows[0].mem_used,
            Some((5.629 * 1_048_576.0_f64).round() as u64)
        );
        // Docker 1.12 and before: no NAME column.
        let old = "CONTAINER           CPU %               MEM USAGE / LIMIT     MEM %               NET I/O             BLOCK I/O           PIDS\n\
                   1285939c1fd3        0.07%               796 KiB / 64 MiB      1.21%               788 B / 648 B       3.568 MB / 512 KB   2\n";
        let (s, _) = stats(&lines(old), 0).unwrap();
        assert_eq!(
            (s.rows[0].name.as_str(), s.rows[0].cpu_pct),
            ("1285939c1fd3", Some(0.07))
        );
        // The old spacing between number and unit.
        assert_eq!(
            (
                s.rows[0].mem_used,
                s.rows[0].mem_limit,
                s.rows[0].block_write
            ),
            (Some(796 * 1024), Some(64 << 20), Some(512_000))
        );
        // A stopped container under -a: its figures are unknown.
        let stopped = "CONTAINER ID   NAME   CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS\n\
                       0123456789ab   old    --        -- / --             --        --        --          --\n";
        let (s, taken) = stats(&lines(stopped), 0).unwrap();
        assert_eq!(taken, 2);
        assert_eq!(
            (s.rows[0].cpu_pct, s.rows[0].mem_used, s.rows[0].pids),
            (None, None, None)
        );
    }
}
