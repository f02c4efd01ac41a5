//! `docker stats --no-stream` as pasted: the header (`CONTAINER ID   NAME   CPU %   MEM USAGE /
//! LIMIT   MEM %   NET I/O   BLOCK I/O   PIDS`, or before Docker 1.13 `CONTAINER   CPU %   ...`
//! without a name column) and one row per container. Columns are separated by two spaces or more
//! (Docker's tabwriter pads them); values keep their units as printed. Recognised and read; the
//! containers section is not built from pasted text yet.

use super::lines::Line;

/// One container's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The container's name, or its id under the old header.
    pub name: String,
    pub cpu_pct: String,
    /// `512MiB / 1GiB`.
    pub mem_usage_limit: String,
}

/// A `docker stats` output.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// `docker stats` from its header on.
#[must_use]
pub fn stats(lines: &[Line<'_>], start: usize) -> Option<(Stats, usize)> {
    let header = cells(lines[start].text);
    let name = match header.as_slice() {
        ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", ..] => 1,
        ["CONTAINER", "CPU %", "MEM USAGE / LIMIT", ..] => 0,
        _ => return None,
    };
    let cpu = name + 1;
    let mut rows = Vec::new();
    for line in &lines[start + 1..] {
        let c = cells(line.text);
        if c.len() != header.len() || !c[cpu].ends_with('%') {
            break;
        }
        rows.push(Row {
            name: c[name].to_owned(),
            cpu_pct: c[cpu].to_owned(),
            mem_usage_limit: c[cpu + 1].to_owned(),
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
        assert_eq!(s.rows[0].name, "doctor-import-rec");
        assert!(s.rows[0].mem_usage_limit.contains(" / "));
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
        assert_eq!(s.rows[1].mem_usage_limit, "1.727MiB / 1.952GiB");
        // Docker 1.12 and before: no NAME column.
        let old = "CONTAINER           CPU %               MEM USAGE / LIMIT     MEM %               NET I/O             BLOCK I/O           PIDS\n\
                   1285939c1fd3        0.07%               796 KiB / 64 MiB      1.21%               788 B / 648 B       3.568 MB / 512 KB   2\n";
        let (s, _) = stats(&lines(old), 0).unwrap();
        assert_eq!(
            (s.rows[0].name.as_str(), s.rows[0].cpu_pct.as_str()),
            ("1285939c1fd3", "0.07%")
        );
    }
}
