//! `doctor import`: pasted command outputs recognised, each by its own shape and never by a file
//! name, with the line ranges they cover and the lines that were not understood; [`build`] makes
//! a snapshot of what was recognised (the sections in [`sections`], [`system`], [`database`],
//! [`containers`]).
//!
//! An input is unwrapped first ([`lines`]: Markdown fences, quotes, bullets, prompts), then read
//! line by line: at each line every recogniser is tried ([`netstat`], [`mysql`]); the first that
//! takes it takes as many lines as its output has, and the walk goes on after them. A line that
//! no recogniser takes is not understood, and said so by range — never guessed.

pub mod build;
pub mod containers;
pub mod database;
pub mod docker;
pub mod host;
pub mod innodb;
pub mod iostat;
pub mod ip;
pub mod lines;
pub mod logs;
pub mod mysql;
pub mod netstat;
pub mod samples;
pub mod sections;
pub mod ss;
pub mod sysctl;
pub mod system;
pub mod vmstat;

/// One output recognised in an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// `netstat -s` sentences (or some of them, quoted).
    NetstatS(netstat::Counters),
    /// `nstat`, `nstat -az`, `nstat -j`.
    Nstat(netstat::Counters),
    /// `SHOW STATUS` / `SHOW VARIABLES` (or `mysqladmin extended-status`), name → value.
    MysqlNames {
        names: mysql::Names,
        values: Vec<(String, String)>,
        form: mysql::Form,
        lines: (usize, usize),
    },
    /// `sysctl -a` / `sysctl NAME` lines.
    Sysctl(sysctl::Sysctls),
    /// `ss -lnt` (or `-lntp`, `-ln`).
    SsListen(ss::Listen),
    /// `ss -s`.
    SsSummary(ss::Summary),
    /// Host facts: `free`, `uptime`, `/proc/loadavg`, sysstat's first line.
    Host(host::Kind, host::Facts),
    /// `iostat -x`'s device table (one report).
    Iostat(iostat::Report),
    /// `iostat`'s `avg-cpu:` block.
    IostatCpu(iostat::AvgCpu),
    /// `vmstat`.
    Vmstat(vmstat::Vmstat),
    /// `docker stats --no-stream`.
    DockerStats(docker::Stats),
    /// The host's addresses: `ip addr`, `ip -o addr`, `hostname -I`.
    Addresses(&'static str, ip::Addresses),
    /// `SHOW ENGINE INNODB STATUS`.
    InnodbStatus(innodb::Status),
    /// `SHOW [FULL] PROCESSLIST`.
    Processlist {
        rows: Vec<mysql::Process>,
        form: mysql::Form,
        lines: (usize, usize),
    },
}

impl Output {
    /// The input's lines it covers, first and last.
    #[must_use]
    pub fn lines(&self) -> (usize, usize) {
        match self {
            Output::NetstatS(c) | Output::Nstat(c) => c.lines,
            Output::Sysctl(s) => s.lines,
            Output::SsListen(s) => s.lines,
            Output::SsSummary(s) => s.lines,
            Output::Host(_, f) => f.lines,
            Output::Iostat(r) => r.lines,
            Output::Vmstat(v) => v.lines,
            Output::DockerStats(d) => d.lines,
            Output::Addresses(_, a) => a.lines,
            Output::InnodbStatus(s) => s.lines,
            Output::MysqlNames { lines, .. }
            | Output::Processlist { lines, .. }
            | Output::IostatCpu(iostat::AvgCpu { lines, .. }) => *lines,
        }
    }

    /// What it is, as a person would name the command.
    #[must_use]
    pub fn what(&self) -> &'static str {
        match self {
            Output::NetstatS(_) => "netstat -s",
            Output::Nstat(_) => "nstat",
            Output::Sysctl(_) => "sysctl",
            Output::SsListen(l) if l.sockets.is_empty() => "ss -tn",
            Output::SsListen(_) => "ss -lnt",
            Output::SsSummary(_) => "ss -s",
            Output::Host(host::Kind::Free, _) => "free",
            Output::Host(host::Kind::Uptime, _) => "uptime",
            Output::Host(host::Kind::Loadavg, _) => "/proc/loadavg",
            Output::Host(host::Kind::Sysstat, _) => "sysstat header (iostat, mpstat, sar)",
            Output::Iostat(_) => "iostat -x",
            Output::IostatCpu(_) => "iostat avg-cpu",
            Output::Vmstat(_) => "vmstat",
            Output::DockerStats(_) => "docker stats",
            Output::Addresses(command, _) => command,
            Output::InnodbStatus(_) => "SHOW ENGINE INNODB STATUS",
            Output::MysqlNames {
                names: mysql::Names::Status,
                ..
            } => "SHOW GLOBAL STATUS",
            Output::MysqlNames {
                names: mysql::Names::Variables,
                ..
            } => "SHOW GLOBAL VARIABLES",
            Output::Processlist { .. } => "SHOW PROCESSLIST",
        }
    }
}

/// What was found in one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognised {
    pub outputs: Vec<Output>,
    /// Line ranges (first, last; 1-based) with text on them that no recogniser took.
    pub not_understood: Vec<(usize, usize)>,
}

/// Recognises the outputs in `text`.
#[must_use]
pub fn recognise(text: &str) -> Recognised {
    let ls = lines::lines(text);
    let (outputs, unclaimed) = claim(&ls);
    Recognised {
        outputs,
        not_understood: not_understood(&ls, unclaimed),
    }
}

/// From how many lines a text is recognised in two halves at once, on two threads: below it a
/// thread costs more than it saves (`benches/import.sh`: a 10 MB paste is 180 000 lines).
const PARALLEL_LINES: usize = 50_000;

/// The outputs the recognisers take from `ls`, and the numbers of the non-blank lines none took
/// (which the log scanner may still take, see [`logs`]).
///
/// A long text is read in two halves at once, cut at a Markdown fence near its middle: every
/// recogniser stops at a fence, so no output spans the cut. Should one ever run past it, the
/// second half is read again from where the first stopped, so the result is the same as one
/// reading from the top.
#[must_use]
pub fn claim(ls: &[lines::Line<'_>]) -> (Vec<Output>, Vec<usize>) {
    let Some(cut) = (ls.len() >= PARALLEL_LINES)
        .then(|| fence_near_middle(ls))
        .flatten()
    else {
        let (outputs, unclaimed, _) = claim_range(ls, 0, ls.len());
        return (outputs, unclaimed);
    };
    let (first, second) = std::thread::scope(|s| {
        let second = s.spawn(|| claim_range(ls, cut, ls.len()));
        let first = claim_range(ls, 0, cut);
        (
            first,
            second
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e)),
        )
    });
    let (mut outputs, mut unclaimed, stopped) = first;
    let (more, left, _) = if stopped == cut {
        second
    } else {
        claim_range(ls, stopped, ls.len())
    };
    outputs.extend(more);
    unclaimed.extend(left);
    (outputs, unclaimed)
}

/// The fence line nearest the middle of `ls`, within its middle half.
fn fence_near_middle(ls: &[lines::Line<'_>]) -> Option<usize> {
    let middle = ls.len() / 2;
    let reach = ls.len() / 4;
    (0..reach).find_map(|d| {
        [middle + d, middle - d]
            .into_iter()
            .find(|&i| ls.get(i).is_some_and(|l| l.fence))
    })
}

/// [`claim`] of the lines from `start` to before `end` (an output may run past `end`), and the
/// index where the reading stopped: `end`, or past it when an output did.
fn claim_range(
    ls: &[lines::Line<'_>],
    start: usize,
    end: usize,
) -> (Vec<Output>, Vec<usize>, usize) {
    let mut outputs = Vec::new();
    let mut unclaimed = Vec::new();
    let mut i = start;
    while i < end {
        if ls[i].is_blank() {
            i += 1;
            continue;
        }
        match one(ls, i) {
            Some(Ok((output, taken))) => {
                outputs.push(output);
                i += taken.max(1);
                continue;
            }
            Some(Err(taken)) => {
                let last = (i + taken.max(1)).min(ls.len());
                unclaimed.extend(ls[i..last].iter().filter(|l| !l.is_blank()).map(|l| l.no));
                i = last;
                continue;
            }
            None => {}
        }
        if let Some((at, output, taken)) = command_output(ls, i) {
            // The command line is understood with its output, read once, here.
            outputs.push(output);
            i = at + taken.max(1);
        } else {
            unclaimed.push(ls[i].no);
            i += 1;
        }
    }
    (outputs, unclaimed, i)
}

/// The commands whose outputs doctor reads, as typed above them (`sudo` before one counts too).
const COMMANDS: &[&str] = &[
    "vmstat",
    "iostat",
    "free",
    "uptime",
    "cat",
    "netstat",
    "nstat",
    "ss",
    "sysctl",
    "docker",
    "mysql",
    "mariadb",
    "mysqladmin",
    "mariadb-admin",
    "ip",
    "hostname",
];

/// When `ls[i]` is the command line of the output that follows it (blank lines between):
/// `$ vmstat 1 3`, `mysql> SHOW GLOBAL STATUS;` — that output, where it starts and how many
/// lines it takes. The command line is then understood, so not listed as not understood.
fn command_output(ls: &[lines::Line<'_>], i: usize) -> Option<(usize, Output, usize)> {
    let text = ls[i].text.trim();
    let mut words = text.split_whitespace();
    let first = match words.next() {
        Some("sudo") => words.next(),
        w => w,
    };
    let sql = text
        .get(..5)
        .is_some_and(|w| w.eq_ignore_ascii_case("show ") || w.eq_ignore_ascii_case("selec"))
        && (text.ends_with(';') || text.ends_with("\\G"));
    if !(sql || first.is_some_and(|w| COMMANDS.contains(&w))) {
        return None;
    }
    let next = (i + 1..ls.len()).find(|&j| !ls[j].is_blank())?;
    let (output, taken) = one(ls, next)?.ok()?;
    Some((next, output, taken))
}

/// The lines `numbers` (ascending) as ranges. Ranges run on over blank lines between
/// not-understood ones: a paragraph of prose is one range, not one per line.
#[must_use]
pub fn not_understood(
    ls: &[lines::Line<'_>],
    numbers: impl IntoIterator<Item = usize>,
) -> Vec<(usize, usize)> {
    let mut ranges = lines::ranges(numbers);
    // `ls[n - 1]` is line n.
    let blank = |n: usize| ls.get(n.wrapping_sub(1)).is_some_and(lines::Line::is_blank);
    ranges.dedup_by(|next, prev| {
        let joined = (prev.1 + 1..next.0).all(blank);
        if joined {
            prev.1 = next.1;
        }
        joined
    });
    ranges
}

/// A recogniser: what it read from `ls[i..]`, and how many lines it took.
type Recogniser<T> = fn(&[lines::Line<'_>], usize) -> Option<(T, usize)>;

/// The output starting at `ls[i]`: `Ok` with it and its length, or `Err` with the length of a
/// result set doctor does not read (`SELECT ... \\G` of some table), whose lines are then not
/// understood in one step rather than tried again from each of them.
fn one(ls: &[lines::Line<'_>], i: usize) -> Option<Result<(Output, usize), usize>> {
    if let Some((s, n)) = innodb::status(ls, i) {
        return Some(Ok((Output::InnodbStatus(s), n)));
    }
    if let Some((c, n)) = netstat::nstat_json(ls, i) {
        return Some(Ok((Output::Nstat(c), n)));
    }
    if let Some((c, n)) = netstat::nstat(ls, i) {
        return Some(Ok((Output::Nstat(c), n)));
    }
    if let Some((c, n)) = netstat::netstat_s(ls, i) {
        return Some(Ok((Output::NetstatS(c), n)));
    }
    if let Some((s, n)) = sysctl::sysctl(ls, i) {
        return Some(Ok((Output::Sysctl(s), n)));
    }
    if let Some((s, n)) = ss::listen(ls, i) {
        return Some(Ok((Output::SsListen(s), n)));
    }
    if let Some((s, n)) = ss::summary(ls, i) {
        return Some(Ok((Output::SsSummary(s), n)));
    }
    if let Some((r, n)) = iostat::devices(ls, i) {
        return Some(Ok((Output::Iostat(r), n)));
    }
    if let Some((r, n)) = iostat::avg_cpu(ls, i) {
        return Some(Ok((Output::IostatCpu(r), n)));
    }
    if let Some((v, n)) = vmstat::vmstat(ls, i) {
        return Some(Ok((Output::Vmstat(v), n)));
    }
    if let Some((d, n)) = docker::stats(ls, i) {
        return Some(Ok((Output::DockerStats(d), n)));
    }
    for (command, recognise) in [
        ("ip addr", ip::ip_addr as Recogniser<ip::Addresses>),
        ("ip -o addr", ip::ip_o_addr),
        ("hostname -I", ip::hostname_i),
    ] {
        if let Some((a, n)) = recognise(ls, i) {
            return Some(Ok((Output::Addresses(command, a), n)));
        }
    }
    for (kind, recognise) in [
        (host::Kind::Free, host::free as Recogniser<host::Facts>),
        (host::Kind::Uptime, host::uptime),
        (host::Kind::Loadavg, host::loadavg),
        (host::Kind::Sysstat, host::sysstat),
    ] {
        if let Some((f, n)) = recognise(ls, i) {
            return Some(Ok((Output::Host(kind, f), n)));
        }
    }
    let (set, n) = mysql::result_set(ls, i)?;
    if let Some((names, values)) = mysql::name_values(&set) {
        return Some(Ok((
            Output::MysqlNames {
                names,
                values,
                form: set.form,
                lines: set.lines,
            },
            n,
        )));
    }
    let Some(rows) = mysql::processlist(&set) else {
        return Some(Err(n));
    };
    Some(Ok((
        Output::Processlist {
            rows,
            form: set.form,
            lines: set.lines,
        },
        n,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The diary is itself a pasted issue body: Korean prose, Markdown, `netstat -s` sentences in
    /// bullets, result sets in fences. Its listen-queue sentences and its status tables are
    /// recognised; the prose is not understood, by range.
    #[test]
    fn the_diary() {
        // A copy of ../shared/seed/mokakbab-issue.md, the diary doctor is built for.
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/import/samples/diary-mokakbab-issue.md"
        ))
        .unwrap();
        let r = recognise(&text);
        let what: Vec<&str> = r.outputs.iter().map(Output::what).collect();
        assert!(what.contains(&"netstat -s"), "{what:?}");
        assert!(what.contains(&"SHOW GLOBAL STATUS"), "{what:?}");
        let overflow = r.outputs.iter().find_map(|o| match o {
            Output::NetstatS(c) => c.values.get("TcpExtListenOverflows").copied(),
            _ => None,
        });
        assert!(overflow.is_some_and(|n| n > 0), "{:?}", r.outputs);
        assert!(!r.not_understood.is_empty());
        let lines = text.lines().count();
        assert!(r.not_understood.iter().all(|(a, b)| a <= b && *b <= lines));
    }

    /// A text long enough to be read in two halves gives what one reading from the top gives.
    #[test]
    fn two_halves_read_as_one() {
        let mut text = String::new();
        let samples = [
            "nstat-az.txt",
            "mariadb-status-tab.txt",
            "diary-mokakbab-issue.md",
        ];
        while text.lines().count() < PARALLEL_LINES + 1000 {
            for name in samples {
                text.push_str("\n```\n");
                text.push_str(&lines::sample(name));
                text.push_str("\n```\n");
            }
        }
        let ls = lines::lines(&text);
        assert!(fence_near_middle(&ls).is_some());
        let (outputs, unclaimed) = claim(&ls);
        let (whole, whole_unclaimed, stopped) = claim_range(&ls, 0, ls.len());
        assert_eq!(stopped, ls.len());
        assert_eq!(outputs.len(), whole.len());
        assert!(outputs == whole, "the halves' outputs differ");
        assert_eq!(unclaimed, whole_unclaimed);
    }

    #[test]
    fn outputs_one_after_another_and_prose_between() {
        let text = "We ran this:\n```\n$ nstat -az TcpExtListenOverflows\n#kernel\n\
                    TcpExtListenOverflows 3008 0.0\n```\nthen\n\
                    mysql> SHOW GLOBAL STATUS LIKE 'Threads_connected';\n\
                    +-------------------+-------+\n| Variable_name     | Value |\n\
                    +-------------------+-------+\n| Threads_connected | 151   |\n\
                    +-------------------+-------+\n1 row in set (0.00 sec)\n";
        let r = recognise(text);
        let what: Vec<(&str, (usize, usize))> =
            r.outputs.iter().map(|o| (o.what(), o.lines())).collect();
        assert_eq!(what, [("nstat", (4, 5)), ("SHOW GLOBAL STATUS", (9, 13))]);
        // The prose is not understood; the commands typed above the outputs are.
        assert_eq!(r.not_understood, [(1, 1), (7, 7)]);
        // A command line above nothing doctor reads is not.
        assert_eq!(
            recognise("$ vmstat 1 3\nvmstat: not found\n").not_understood,
            [(1, 2)]
        );
        // Over blank lines, prose is one range.
        assert_eq!(recognise("a\n\nb\n\n\nc").not_understood, [(1, 6)]);
    }

    #[test]
    fn any_bytes_are_a_text_and_never_a_panic() {
        const ALPHABET: &[u8] = b"+-|\t\n :*0123456789abcTcpExt{}\"rowVariable_nameValue>`$";
        let mut state = 0x2545_f491_u32;
        for _ in 0..300 {
            let len = (state % 300) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    ALPHABET[state as usize % ALPHABET.len()]
                })
                .collect();
            let _ = recognise(&String::from_utf8_lossy(&bytes));
        }
    }
}
