//! The command line. Every flag is documented here; `doctor --help` is generated from it, and
//! the flags become the collectors' [`collect::Options`] here.

use crate::collect;
use crate::scan::Scanner;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "doctor",
    // The package version, and the commit when built from a git checkout (build/version.rs).
    version = env!("DOCTOR_VERSION"),
    about = "Tells you why your server is slow: the likely causes ranked, with the evidence and the fix.",
    long_about = "Tells you why your server is slow.\n\n\
        doctor samples the machine (CPU, memory, disks, TCP queues, processes) over a short window, \
        runs its rules over what it saw (`doctor rules list`), and prints the likely causes ranked, \
        with the evidence and the fix. With no subcommand it runs `doctor check`.",
    args_conflicts_with_subcommands = true,
    after_help = "Exit codes: 0 nothing at or above --fail-on, 1 something is, 2 usage error or unreadable input."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sample the machine and print the report (the default).
    Check(CheckArgs),
    /// Sample the machine and write the snapshot JSON, for `doctor analyze` or an issue.
    Snapshot(SnapshotArgs),
    /// Sample the machine every second for a whole load test (`-- k6 run script.js`) and print
    /// when each cause started and ended.
    Watch(WatchArgs),
    /// Check cheaply every --every until a condition (a rule id, or a CEL expression) holds
    /// --cycles checks in a row, then record a watch of --record into --dir; runs unattended.
    Stalk(StalkArgs),
    /// Print the report for a saved snapshot, without reading the live machine.
    Analyze(AnalyzeArgs),
    /// Build a snapshot from pasted command outputs (netstat -s, nstat, sysctl, SHOW GLOBAL
    /// STATUS, log lines, ...) and print the report for it.
    Import(ImportArgs),
    /// Compare two snapshots: the findings that hold in one and not the other (with their fix),
    /// the configuration that differs, and load compared rate for rate.
    ///
    /// Exit 0 when the same findings hold on both sides, 1 when a finding holds on one side
    /// only, 2 when a file cannot be read.
    Diff(DiffArgs),
    /// Print the JSON Schema of the snapshot format (or of the report, with `--report`).
    Schema(SchemaArgs),
    /// List the rules, explain one, or run their tests.
    Rules(RulesCommand),
    /// Print the shell completion script for SHELL (the packages install them).
    ///
    /// bash: `doctor completions bash > ~/.local/share/bash-completion/completions/doctor`;
    /// zsh: `doctor completions zsh > ~/.zfunc/_doctor` (with `fpath+=~/.zfunc` before
    /// `compinit`); fish: `doctor completions fish > ~/.config/fish/completions/doctor.fish`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of doctor and its subcommands' list: `doctor man | man -l -`.
    ///
    /// With `--dir DIR`, write one page per command instead (doctor.1, doctor-check.1,
    /// doctor-rules-list.1, ...) into DIR, as the packages install them.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write doctor.1 and a page per subcommand (doctor-check.1, ...) into DIR, which must exist,
    /// and print their paths, instead of printing doctor.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Where rules come from besides the built-in ones.
#[derive(Debug, Clone, Default, Args)]
pub struct RulesArgs {
    /// Also load the rules in DIR (`*.toml`, with optional `<id>.md` docs); a rule with a built-in
    /// rule's id replaces it.
    #[arg(long, value_name = "DIR", env = "DOCTOR_RULES", global = true)]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesCommand {
    #[command(subcommand)]
    pub command: RulesSub,
    #[command(flatten)]
    pub rules: RulesArgs,
}

#[derive(Debug, Subcommand)]
pub enum RulesSub {
    /// One line per rule: id, layer, kind, title.
    List,
    /// A rule's documentation, condition, score, evidence and fix.
    Explain {
        /// The rule id, as `doctor rules list` shows it.
        id: String,
    },
    /// Run the rules' tests: the built-in rules', and those of each DIR.
    ///
    /// A rule `DIR/<id>.toml` is tested by `DIR/tests/<id>.toml`: cases that name a snapshot and
    /// what the rule must make of it (docs/rules.md). Exit 0 when every case passes, 1 when one
    /// fails, 2 for a malformed test file.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Rules folders whose tests to run besides the built-in rules' (their rules are loaded as
    /// `--rules DIR` loads them); `--rules DIR` is one more.
    #[arg(value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// How to print the results.
    #[arg(long, short = 'f', value_enum, default_value_t = TestFormat::Text)]
    pub format: TestFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// One line per case, what differed under a failing one, then a summary.
    Text,
    /// One JSON object: `passed`, `failed`, `cases[]` with their `failures[]`.
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct WindowArgs {
    /// Length of the sampling window: counters are read at its start and end (e.g. 5s, 1500ms, 1m).
    #[arg(long, short = 'i', default_value = "5s", value_parser = parse_interval, env = "DOCTOR_INTERVAL")]
    pub interval: Duration,
    /// Do not show the progress indicator (it is never shown when stderr is not a terminal).
    /// With `check --textfile`, do not print the report either: the metrics file is the output
    /// (a cron job or timer every minute then prints nothing unless something fails).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// The longest the whole run may take (default: the window plus 10 s). A source still
    /// reading then (a hung server) is reported as such, and the rest of the report comes out.
    /// Must be longer than the window.
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout_total)]
    pub timeout: Option<Duration>,
}

impl WindowArgs {
    /// How long a source may still take after the window before it is abandoned: the time
    /// `--timeout` leaves after the window, and never more than collecting's own 5 s grace.
    /// `Err` when `--timeout` is not longer than the window.
    pub fn grace(&self, default: Duration) -> Result<Duration, String> {
        let Some(total) = self.timeout else {
            return Ok(default);
        };
        let left = total
            .checked_sub(self.interval)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                format!(
                    "--timeout {} must be longer than the window ({})",
                    humantime::format_duration(total),
                    humantime::format_duration(self.interval)
                )
            })?;
        Ok(left.min(default))
    }
}

/// Which sources to read besides the host, and how to reach them. Each source's flags live here
/// so `check` and `snapshot` accept the same ones.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Do not read Docker containers. Otherwise doctor asks the engine at `DOCKER_HOST` (or
    /// /var/run/docker.sock) for the running containers, their stats and their output.
    #[arg(long)]
    pub no_docker: bool,
    /// Scan only this container's output (`docker logs NAME`) for known trouble, not every
    /// running container's (the default, up to 50). A name as `docker ps` shows it, or an id.
    /// Repeatable.
    #[arg(long = "container", value_name = "NAME", conflicts_with = "no_docker")]
    pub containers: Vec<String>,
    /// How far back before the window containers' output is read (e.g. 10m, 1h, 0s): lines
    /// from then to the window's start are the history, counted apart from the window.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_look_back)]
    pub container_log_since: Duration,
    /// Scan this log for known trouble (DB pool exhausted, too many connections, connection
    /// resets, upstream timeouts, OOM kills). Repeatable; globs allowed (quote them:
    /// --log '/var/log/nginx/*.log'). Lines written during the window are counted apart from
    /// the history. A glob never follows a symlink; a path named explicitly is read as named.
    #[arg(long = "log", value_name = "PATH")]
    pub logs: Vec<String>,
    /// How much of the end of each log to read (e.g. 64MiB, 1G, 500k).
    #[arg(long, value_name = "BYTES", default_value = "64MiB", value_parser = parse_bytes)]
    pub log_tail_bytes: u64,
    /// Also use the log patterns (*.toml, the format of rules/logs/) in this directory.
    /// Repeatable.
    #[arg(long = "patterns", value_name = "DIR")]
    pub pattern_dirs: Vec<PathBuf>,
    /// The MySQL/MariaDB server to read (the help text is the `help` string, which clippy's
    /// Markdown lint leaves alone).
    #[arg(
        long,
        value_name = "URL",
        help_heading = "MySQL",
        help = "The MySQL/MariaDB server to read: mysql://user:password@host:port, or \
                mysql://user@localhost?socket=/path (also ?ssl-mode=REQUIRED|VERIFY_CA|VERIFY_IDENTITY \
                and &ssl-ca=FILE). Without it doctor finds the server as the mysql client does: \
                ~/.my.cnf [client], MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_UNIX_PORT, MYSQL_PWD, USER, \
                then the default socket and 127.0.0.1:3306 (no server there: the section is \
                skipped). A password in the URL is visible to other users in ps; prefer ~/.my.cnf \
                or MYSQL_PWD"
    )]
    pub mysql: Option<String>,
    /// Do not read MySQL/MariaDB at all.
    #[arg(long, conflicts_with_all = ["mysql", "defaults_file"], help_heading = "MySQL")]
    pub no_mysql: bool,
    /// Read the MySQL client options ([client] group) from this file instead of ~/.my.cnf,
    /// like the mysql client's --defaults-file.
    #[arg(long, value_name = "PATH", help_heading = "MySQL")]
    pub defaults_file: Option<PathBuf>,
    /// How long connecting to MySQL may take (e.g. 3s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_timeout, help_heading = "MySQL")]
    pub mysql_connect_timeout: Duration,
    /// How long one MySQL query may wait for an answer before the server counts as hung.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_timeout, help_heading = "MySQL")]
    pub mysql_read_timeout: Duration,
    /// A load test (k6, wrk, ab, ...) is running during the window: doctor then also checks
    /// whether the load reaches this server at all (rule `load-not-reaching-server`). With PORT,
    /// the port the load targets: doctor follows the connections to it and what they receive.
    #[arg(
        long,
        value_name = "PORT",
        num_args = 0..=1,
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    pub under_load: Option<Option<u16>>,
}

/// The defaults are the flags' own defaults, parsed from an empty command line, so they are
/// written once (in the `#[arg]` attributes) and cannot drift apart.
impl Default for SourceArgs {
    fn default() -> Self {
        use clap::{FromArgMatches, error::ErrorKind};
        let matches = SourceArgs::augment_args(clap::Command::new("doctor"))
            .try_get_matches_from(["doctor"])
            .expect("every source flag has a default");
        SourceArgs::from_arg_matches(&matches).unwrap_or_else(|e| {
            debug_assert_ne!(e.kind(), ErrorKind::MissingRequiredArgument);
            panic!("source flag defaults do not parse: {e}")
        })
    }
}

impl SourceArgs {
    /// What the collectors are asked to do over a window of `window`'s length; `scanner` holds
    /// the log patterns (the built-in ones and `--patterns`). A malformed `--mysql` URL is an
    /// error, reported without the URL itself (it may hold a password).
    pub fn options(
        &self,
        window: &WindowArgs,
        scanner: Scanner,
    ) -> Result<collect::Options, String> {
        let defaults = collect::Options::default();
        Ok(collect::Options {
            interval: window.interval,
            grace: window.grace(defaults.grace)?,
            docker: !self.no_docker,
            mysql: self.mysql_settings()?,
            logs: collect::logs::Request {
                scanner: Some(scanner),
                paths: self.logs.clone(),
                mysql_error_log: None,
                tail_bytes: self.log_tail_bytes,
                containers: self.containers.clone(),
                container_since: self.container_log_since,
            },
            load_test: self
                .under_load
                .map(|port| collect::load_test::Request { port }),
            ..defaults
        })
    }

    /// The MySQL settings from the flags.
    fn mysql_settings(&self) -> Result<collect::mysql::settings::Settings, String> {
        Ok(collect::mysql::settings::Settings {
            enabled: !self.no_mysql,
            url: self
                .mysql
                .as_deref()
                .map(collect::mysql::parse_url)
                .transpose()?,
            defaults_file: self.defaults_file.clone(),
            connect_timeout: self.mysql_connect_timeout,
            read_timeout: self.mysql_read_timeout,
        })
    }
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub window: WindowArgs,
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Also save the snapshot the report was made from to this file.
    #[arg(long, value_name = "SNAPSHOT.json")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub window: WindowArgs,
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Write the snapshot here instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `doctor watch`: the exit status rule is an API, spelled out in the help.
#[derive(Debug, Clone, Args)]
#[command(
    long_about = "Sample the machine for a whole load test and print when each cause held.\n\n\
        doctor reads every source at the start and the end of the run (as `check` does over its \
        window) and samples the key figures every --every (CPU, run queue, disks, TCP queues and \
        counters, MySQL's threads and queries, containers' CPU, error lines in --log files). With \
        a COMMAND after `--` (e.g. `-- k6 run script.js`) it runs it, its output passed through, \
        and watches until it exits; otherwise until --duration or Ctrl-C. The report shows when \
        each finding held, the load plateau (ramp-up and ramp-down cut off) and the series as \
        sparklines. Ctrl-C or SIGTERM stops the command too (the signal is passed on) and still \
        prints the report of what was recorded, marked partial.",
    after_help = "Exit status: 128 + the signal (130 for Ctrl-C) when interrupted; otherwise 1 when \
        doctor found something at or above --fail-on; otherwise the command's own status (0 \
        without a command). So a failed k6 threshold still fails the job when doctor has \
        nothing to add, and doctor's finding fails it whatever k6 thought. 2: usage error, or \
        the command could not be started."
)]
pub struct WatchArgs {
    /// How often the key figures are sampled (e.g. 1s, 500ms; 100ms to 1m).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_every)]
    pub every: Duration,
    /// Stop after this long (e.g. 10m, 1h; at most 24h). Without it: when the command exits,
    /// or at Ctrl-C. A command still running then is stopped with SIGTERM.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Also save the recording (the snapshot with its `series`) to this file, for `doctor
    /// analyze`.
    #[arg(long, value_name = "SNAPSHOT.json")]
    pub out: Option<PathBuf>,
    /// Also draw the run to this SVG file: the key series on one time axis, the load plateau
    /// shaded, a band for each finding over the time it held.
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<PathBuf>,
    /// The command to run and watch, after `--` (e.g. `-- k6 run script.js`).
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `doctor stalk`: pt-stalk's idea with doctor's rules as triggers. Its exit status and bounds
/// are spelled out in the help, for a systemd unit or a nohup line.
#[derive(Debug, Clone, Args)]
#[command(
    long_about = "Wait for a condition, then record what the machine does while it holds.\n\n\
        doctor samples the key figures every --every with long-lived readers (as `watch` does; \
        the rest of the machine is read once at the start and every 10 minutes) and evaluates \
        --when on the latest sample: a rule id (`doctor rules list`; the trigger is that rule \
        firing on the last --every) or a CEL expression over the snapshot's fields, as the rules \
        write them (`cpu.busy_pct > 90.0`). When it holds --cycles checks in a row, doctor logs \
        one line on stderr and records a watch of --record, then writes \
        DIR/doctor-stalk-YYYYmmddTHHMMSSZ.json (the snapshot with its series, for `doctor \
        analyze`), .txt (the report) and .md; then it cools down and checks again. Bounded: one \
        recording at a time, at most --max-recordings in DIR, never below --min-free, --cooldown \
        between recordings. Needs no terminal (no progress bar, no colour): run it under systemd \
        or nohup (docs/stalk.md). SIGINT or SIGTERM ends it; a recording under way is still \
        written, marked partial.",
    after_help = "Exit status: 0 when it ended as asked (--iterations recordings made, or SIGINT/\
        SIGTERM); 1 when a bound stopped it (DIR holds --max-recordings recordings, or its \
        filesystem is below --min-free): the line on stderr says which; 2: usage error (an \
        unknown rule, a bad expression, a rule that cannot change between checks), or DIR \
        cannot be written."
)]
pub struct StalkArgs {
    /// The trigger: a rule id (`tcp-accept-queue-overflow`), or a CEL expression over the
    /// snapshot's fields (`tcp.counters.TcpRetransSegs.per_s > 100.0`). It must read a figure
    /// that is sampled every --every, or it could not change between checks.
    #[arg(long, value_name = "RULE_ID|EXPRESSION")]
    pub when: String,
    /// Checks in a row the trigger must hold before recording (1 to 1000).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub cycles: u32,
    /// How often to check, and the recording's sampling interval (e.g. 1s, 500ms; 100ms to 1m).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_every)]
    pub every: Duration,
    /// How long to record once triggered (e.g. 30s, 5m; 1s to 24h).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub record: Duration,
    /// Stop after this many recordings. Without it: until a bound or a signal stops it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub iterations: Option<u32>,
    /// Never record when DIR already holds this many recordings (`doctor-stalk-*.json`, kept
    /// across restarts): stop instead, with exit status 1 (1 to 10000).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_recordings: u32,
    /// Where recordings go; created if missing.
    #[arg(long, value_name = "DIR", default_value = "doctor-stalk")]
    pub dir: PathBuf,
    /// Never record when DIR's filesystem has less free than this for unprivileged users:
    /// a size (1GiB, 500M) or a share of the filesystem (5%): stop instead, with exit status 1.
    #[arg(long, value_name = "SIZE|PCT", default_value = "5%", value_parser = parse_min_free)]
    pub min_free: crate::stalk::bounds::MinFree,
    /// How long to wait after a recording before checking again (e.g. 5m, 0s; at most 24h).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_cooldown)]
    pub cooldown: Duration,
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub rules: RulesArgs,
}

/// Parses `--min-free`: a size (`1GiB`) or a percentage of the filesystem (`5%`, 0 to 99).
pub fn parse_min_free(s: &str) -> Result<crate::stalk::bounds::MinFree, String> {
    use crate::stalk::bounds::MinFree;
    if let Some(pct) = s.trim().strip_suffix('%') {
        return match pct.trim().parse::<f64>() {
            Ok(p) if (0.0..100.0).contains(&p) => Ok(MinFree::Percent(p)),
            _ => Err(format!(
                "`{s}` is not a share of the filesystem; try 5% (0% to 99%)"
            )),
        };
    }
    parse_bytes(s).map(MinFree::Bytes)
}

#[derive(Debug, Clone, Args)]
pub struct AnalyzeArgs {
    /// Snapshots written by `doctor snapshot` (or `check --out`, `import --out`), or bundles
    /// of several hosts; `-` reads standard input. Several files (say the app host's and the
    /// database host's) are analysed together: one ranking, each finding naming its host, a
    /// cause on the database's host explaining the app host's wait on it.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// With several hosts: also save them as one bundle file (schema 2), which `analyze`
    /// reads back as they were.
    #[arg(long, value_name = "BUNDLE.json")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Also draw the run of a recording (`doctor watch --out`) to this SVG file, as `doctor
    /// watch --chart` does.
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The first snapshot (`doctor snapshot`, `check --out`, `import --out`); `-` reads
    /// standard input.
    #[arg(value_name = "A")]
    pub a: PathBuf,
    /// The second snapshot; `-` reads standard input (on one side only).
    #[arg(value_name = "B")]
    pub b: PathBuf,
    /// How to print the comparison.
    #[arg(long, short = 'f', value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
    /// Shorthand for `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Also list what is equal on both sides (findings with the same score, configuration,
    /// load figures within the noise floor).
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub rules: RulesArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Text files holding pasted outputs (an issue body, a terminal log, Markdown welcome);
    /// `-` reads standard input. Several files combine into one snapshot; `NAME=FILE` puts
    /// FILE on host NAME instead (`app1=app.txt db1=db.txt`: two hosts, analysed together,
    /// `--out` saves a bundle).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Also save the snapshot built from the text to this file, for `doctor analyze`.
    #[arg(long, short = 'o', value_name = "SNAPSHOT.json")]
    pub out: Option<PathBuf>,
    /// Also use the log patterns (*.toml, the format of rules/logs/) in this directory.
    /// Repeatable.
    #[arg(long = "patterns", value_name = "DIR")]
    pub pattern_dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub rules: RulesArgs,
}

#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// How to print the report.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Shorthand for `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Exit with 1 when a finding is at or above this severity (`never`: always 0).
    #[arg(long, value_enum, default_value_t = FailOn::Warning, value_name = "SEVERITY")]
    pub fail_on: FailOn,
    /// Also write the report as Prometheus metrics to DIR/doctor.prom, for the Prometheus node
    /// exporter's textfile collector (`--collector.textfile.directory=DIR`). Written to a
    /// temporary file in DIR first, then renamed: the exporter never reads half a file. The
    /// report is still printed (`check --quiet` does not print it).
    #[arg(long, value_name = "DIR")]
    pub textfile: Option<PathBuf>,
}

/// The severity from which `check` and `analyze` exit with 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    Warning,
    Info,
    Never,
}

impl FailOn {
    /// The lowest severity that fails, or `None` for `never`.
    #[must_use]
    pub fn threshold(self) -> Option<crate::engine::Severity> {
        use crate::engine::Severity;
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

impl OutputArgs {
    #[must_use]
    pub fn format(&self) -> Format {
        if self.json { Format::Json } else { self.format }
    }
}

/// One flag per schema, mutually exclusive (clap says so); a bool per flag is how clap spells
/// a switch.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Args)]
pub struct SchemaArgs {
    /// Print the schema of the report (`--format json`) instead of the snapshot's.
    #[arg(long)]
    pub report: bool,
    /// Print the schema of `doctor diff --format json` instead of the snapshot's.
    #[arg(long, conflicts_with = "report")]
    pub diff: bool,
    /// Print the schema of the report of several hosts (`doctor analyze a.json b.json
    /// --format json`).
    #[arg(long, conflicts_with_all = ["report", "diff", "bundle"])]
    pub report_hosts: bool,
    /// Print the schema of a bundle of several hosts' snapshots (schema version 2).
    #[arg(long, conflicts_with_all = ["report", "diff"])]
    pub bundle: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for the terminal (colour only on a terminal, never with `NO_COLOR`).
    Table,
    /// Stable JSON, to attach to an issue or feed a CI job.
    Json,
    /// Markdown ready to paste into a GitHub issue.
    Markdown,
    /// Prometheus metrics (text exposition format 0.0.4): one series per rule and severity,
    /// 1 when it fired at that severity; the node exporter's textfile collector reads it.
    Prometheus,
}

/// How `doctor diff` prints a comparison: a comparison is no set of metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// A table for the terminal.
    Table,
    /// Stable JSON.
    Json,
    /// Markdown ready to paste into a GitHub issue.
    Markdown,
}

/// Parses a byte size: `65536`, `512k`, `64MiB`, `1G` (k/M/G are powers of 1024, as with `tail -c`).
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size; try 64MiB or 1G"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("`{s}` has an unknown unit; use k, M or G")),
    };
    match n.checked_mul(mult) {
        Some(0) | None => Err(format!("`{s}` must be more than 0 and less than 16 EiB")),
        Some(v) => Ok(v),
    }
}

/// A bare number of seconds, or a humantime duration (`5s`, `1500ms`, `10m`); `hint` shows the
/// user two that work for the flag at hand.
fn seconds_or_human(s: &str, hint: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Ok(Duration::from_secs_f64(secs)),
        Ok(_) => Err(format!("`{s}` is not a duration")),
        Err(_) => humantime::parse_duration(s)
            .map_err(|e| format!("`{s}` is not a duration ({e}); try {hint}")),
    }
}

/// `s` as a duration (a bare number is seconds) from `min` to `max` (humantime text, `0s` for
/// no floor), else "`what` must be between MIN and MAX, not S" ("at most MAX" without a floor).
fn bounded(s: &str, hint: &str, what: &str, min: &str, max: &str) -> Result<Duration, String> {
    let d = seconds_or_human(s, hint)?;
    let (lo, hi) = (
        humantime::parse_duration(min).unwrap_or_default(),
        humantime::parse_duration(max).unwrap_or(Duration::MAX),
    );
    if d < lo || d > hi {
        return Err(if lo.is_zero() {
            format!("{what} must be at most {max}, not {s}")
        } else {
            format!("{what} must be between {min} and {max}, not {s}")
        });
    }
    Ok(d)
}

/// Parses `10m`, `1h`, `0s`; a bare number is seconds. At most a day: the engine sends every
/// line since then, and only the tail is kept.
pub fn parse_look_back(s: &str) -> Result<Duration, String> {
    bounded(s, "10m or 1h", "the look-back", "0s", "24h")
}

/// Parses `5s`, `1500ms`, `1m`; a bare number is seconds. The window must be 100 ms to 1 hour.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    bounded(s, "5s or 1500ms", "the window", "100ms", "1h")
}

/// Parses `--timeout`: the whole run, 200 ms to 2 hours.
pub fn parse_timeout_total(s: &str) -> Result<Duration, String> {
    bounded(s, "15s or 1m", "--timeout", "200ms", "2h")
}

/// Parses a watch's sampling interval: 100 ms to 1 minute.
pub fn parse_every(s: &str) -> Result<Duration, String> {
    let d = parse_interval(s)?;
    if d > Duration::from_secs(60) {
        return Err(format!("--every must be at most 1m, not {s}"));
    }
    Ok(d)
}

/// Parses a watch's `--duration`: 1 s to 24 hours.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    bounded(s, "10m or 1h", "--duration", "1s", "24h")
}

/// Parses `doctor stalk --cooldown`: 0 s to 24 hours.
pub fn parse_cooldown(s: &str) -> Result<Duration, String> {
    bounded(s, "5m or 0s", "--cooldown", "0s", "24h")
}

/// Parses a timeout such as `3s`, `500ms`, `1m`; a bare number is seconds. 10 ms to 10 minutes.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    bounded(s, "3s or 500ms", "a timeout", "10ms", "10m")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_interval("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_interval("1500ms"), Ok(Duration::from_millis(1500)));
        assert!(parse_interval("0").is_err());
        assert!(parse_interval("soon").is_err());
        assert!(parse_interval("2h").is_err());
    }

    #[test]
    fn watch_takes_a_command_after_the_flags() {
        let cli = Cli::try_parse_from([
            "doctor", "watch", "--every", "500ms", "--log", "app.log", "--", "k6", "run", "-q",
            "s.js",
        ])
        .unwrap();
        let Some(Command::Watch(w)) = cli.command else {
            panic!("watch")
        };
        assert_eq!(w.every, Duration::from_millis(500));
        assert_eq!(w.command, ["k6", "run", "-q", "s.js"]);
        assert_eq!(w.sources.logs, ["app.log"]);
        assert!(w.duration.is_none());
        assert!(Cli::try_parse_from(["doctor", "watch", "--every", "2m"]).is_err());
        assert!(Cli::try_parse_from(["doctor", "watch", "--duration", "25h"]).is_err());
    }

    #[test]
    fn stalk_flags_and_their_bounds() {
        use crate::stalk::bounds::MinFree;
        let stalk = |args: &[&str]| {
            let mut argv = vec!["doctor", "stalk", "--when", "tcp-accept-queue-overflow"];
            argv.extend_from_slice(args);
            match Cli::try_parse_from(argv)?.command {
                Some(Command::Stalk(s)) => Ok::<_, clap::Error>(s),
                _ => panic!("stalk"),
            }
        };
        let s = stalk(&[]).unwrap();
        assert_eq!(s.cycles, 3);
        assert_eq!(s.every, Duration::from_secs(1));
        assert_eq!(s.record, Duration::from_secs(30));
        assert_eq!(s.iterations, None);
        assert_eq!(s.max_recordings, 10);
        assert_eq!(s.min_free, MinFree::Percent(5.0));
        assert_eq!(s.cooldown, Duration::from_secs(300));
        assert_eq!(s.dir, PathBuf::from("doctor-stalk"));
        let s = stalk(&[
            "--min-free",
            "1GiB",
            "--cooldown",
            "0s",
            "--iterations",
            "1",
        ])
        .unwrap();
        assert_eq!(s.min_free, MinFree::Bytes(1 << 30));
        assert_eq!(s.cooldown, Duration::ZERO);
        assert_eq!(s.iterations, Some(1));
        for bad in [
            &["--cooldown", "25h"][..],
            &["--min-free", "100%"],
            &["--min-free", "lots"],
            &["--cycles", "0"],
            &["--iterations", "0"],
            &["--max-recordings", "0"],
            &["--record", "0s"],
            &["--every", "2m"],
        ] {
            assert!(stalk(bad).is_err(), "{bad:?}");
        }
        assert!(
            Cli::try_parse_from(["doctor", "stalk"]).is_err(),
            "--when is required"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("65536"), Ok(65536));
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("1G"), Ok(1 << 30));
        assert_eq!(parse_bytes("512k"), Ok(512 << 10));
        assert!(parse_bytes("0").is_err());
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("5T").is_err());
    }

    #[test]
    fn look_backs() {
        assert_eq!(parse_look_back("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_look_back("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_look_back("90"), Ok(Duration::from_secs(90)));
        assert!(parse_look_back("2d").is_err());
        assert!(parse_look_back("-1").is_err());
        assert!(parse_look_back("recently").is_err());
    }

    #[test]
    fn mysql_flags() {
        let cli = Cli::try_parse_from([
            "doctor",
            "snapshot",
            "--mysql",
            "mysql://u@h",
            "--mysql-read-timeout",
            "750ms",
        ])
        .unwrap();
        let Some(Command::Snapshot(a)) = cli.command else {
            panic!("snapshot")
        };
        assert_eq!(a.sources.mysql.as_deref(), Some("mysql://u@h"));
        assert_eq!(a.sources.mysql_read_timeout, Duration::from_millis(750));
        assert_eq!(a.sources.mysql_connect_timeout, Duration::from_secs(3));
        assert!(Cli::try_parse_from(["doctor", "--no-mysql", "--mysql", "mysql://u@h"]).is_err());
        assert!(Cli::try_parse_from(["doctor", "--mysql-connect-timeout", "0"]).is_err());
        assert_eq!(parse_timeout("2"), Ok(Duration::from_secs(2)));
    }

    #[test]
    fn under_load_takes_an_optional_port() {
        let sources = |args: &[&str]| {
            let cli = Cli::try_parse_from(args)?;
            Ok::<_, clap::Error>(match cli.command {
                Some(Command::Check(a)) => a.sources.under_load,
                Some(Command::Snapshot(a)) => a.sources.under_load,
                _ => cli.check.sources.under_load,
            })
        };
        assert_eq!(sources(&["doctor"]).unwrap(), None);
        assert_eq!(sources(&["doctor", "--under-load"]).unwrap(), Some(None));
        assert_eq!(
            sources(&["doctor", "check", "--under-load", "3000", "-i", "2s"]).unwrap(),
            Some(Some(3000))
        );
        assert_eq!(
            sources(&["doctor", "snapshot", "--under-load", "--interval", "2s"]).unwrap(),
            Some(None)
        );
        assert_eq!(
            sources(&["doctor", "--under-load=8080"]).unwrap(),
            Some(Some(8080))
        );
        for bad in ["0", "70000", "http"] {
            assert!(sources(&["doctor", "--under-load", bad]).is_err(), "{bad}");
        }
    }
}
