//! Runs the commands. Errors are turned into one line on stderr and an exit code here, at the edge.

use crate::cli::{
    AnalyzeArgs, CheckArgs, Cli, Command, DiffArgs, DiffFormat, ImportArgs, RulesArgs,
    RulesCommand, RulesSub, SnapshotArgs, SourceArgs, StalkArgs, TestArgs, TestFormat, WatchArgs,
    WindowArgs,
};
use crate::collect;
use crate::engine::{self, Catalogue};
use crate::report;
use crate::snapshot::{self, Snapshot};
use anyhow::{Context, Result};
use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Read, Write};

mod output;
use output::Print;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// Exit codes are an API: a CI job after a load test gates on them.
pub mod exit {
    /// Nothing at or above `--fail-on`.
    pub const OK: u8 = 0;
    /// Something at or above `--fail-on` was found; for `rules test`, a case failed.
    pub const FINDINGS: u8 = 1;
    /// Usage error or unreadable input.
    pub const USAGE: u8 = 2;
}

/// Errors that are the user's input rather than doctor failing, mapped to exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Snapshot(#[from] snapshot::LoadError),
    #[error(transparent)]
    Rules(#[from] engine::RuleError),
    #[error("there is no rule `{0}`; `doctor rules list` shows the rules")]
    UnknownRule(String),
}

/// The exit status of a report: whether it held something at or above `--fail-on`.
fn status(failed: bool) -> u8 {
    if failed { exit::FINDINGS } else { exit::OK }
}

pub fn main() -> ExitCode {
    quiet_worker_panics();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("doctor: {e:#}");
            ExitCode::from(exit::USAGE)
        }
    }
}

/// A panic on one of doctor's worker threads (`doctor-mysql`, `doctor-container-logs`, ...) is
/// caught where the thread is joined and becomes an `error` section; the report still comes out.
/// So say it in one line instead of Rust's default message and backtrace hint. (bollard 0.21
/// reaches `unreachable!` on an engine's error frame in a log stream, which no test can provoke.)
/// Panics anywhere else keep the default report.
fn quiet_worker_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        match thread.name() {
            Some(name) if name.starts_with("doctor-") => {
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("(no message)");
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                eprintln!("{}", worker_panic_line(name, message, &at));
            }
            _ => default(info),
        }
    }));
}

/// One line whatever the message holds.
fn worker_panic_line(thread: &str, message: &str, at: &str) -> String {
    let part = thread.trim_start_matches("doctor-");
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    format!(
        "doctor: internal error while reading {part} ({message} at {at}); that part of the \
         snapshot is an error, the rest is unaffected. Please report it."
    )
}

/// A reader that closed the pipe (`doctor | head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        None => check(&cli.check),
        Some(Command::Check(args)) => check(&args),
        Some(Command::Snapshot(args)) => snapshot_cmd(&args),
        Some(Command::Watch(args)) => watch(&args),
        Some(Command::Stalk(args)) => stalk(&args),
        Some(Command::Analyze(args)) => analyze(&args),
        Some(Command::Import(args)) => import(&args),
        Some(Command::Diff(args)) => diff(&args),
        Some(Command::Rules(args)) => rules_cmd(&args),
        Some(Command::Completions { shell }) => {
            crate::install::print(&crate::install::completions(shell))?;
            Ok(exit::OK)
        }
        Some(Command::Man(args)) => {
            if let Some(dir) = &args.dir {
                anyhow::ensure!(
                    dir.is_dir(),
                    "there is no folder {} to write the manual pages into; create it first",
                    dir.display()
                );
                let paths = crate::install::write_man_pages(dir).with_context(|| {
                    format!("cannot write the manual pages into {}", dir.display())
                })?;
                let mut out = std::io::stdout().lock();
                for path in paths {
                    writeln!(out, "{}", path.display())?;
                }
            } else {
                crate::install::print(&crate::install::man_page()?)?;
            }
            Ok(exit::OK)
        }
        Some(Command::Schema(args)) => {
            let schema = if args.report {
                report::json_schema()
            } else if args.diff {
                crate::diff::json_schema()
            } else if args.report_hosts {
                report::hosts_json_schema()
            } else if args.bundle {
                schemars::schema_for!(snapshot::Bundle)
            } else {
                snapshot::json_schema()
            };
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &schema)?;
            writeln!(out)?;
            Ok(exit::OK)
        }
    }
}

/// The log patterns to scan with: the built-in ones and those of `--patterns`.
fn log_patterns(sources: &SourceArgs) -> Result<Vec<crate::scan::pattern::Pattern>> {
    crate::scan::pattern::load(&sources.pattern_dirs).context("cannot load the log patterns")
}

/// Samples the machine, showing a progress bar on stderr when it is a terminal, scanning logs
/// with `patterns`. Fails before sampling when the sources are misconfigured (a malformed
/// `--mysql`).
fn take(
    window: &WindowArgs,
    sources: &SourceArgs,
    patterns: Vec<crate::scan::pattern::Pattern>,
    signals: &crate::watch::signals::Signals,
) -> Result<Snapshot> {
    let scanner = crate::scan::Scanner::new(patterns);
    // A malformed `--mysql` URL is a usage error.
    let opts = sources
        .options(window, scanner)
        .map_err(anyhow::Error::msg)?;
    let bar = if window.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::with_draw_target(
            Some(window.interval.as_millis() as u64),
            ProgressDrawTarget::stderr(),
        );
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} sampling {msg} [{bar:30}] {elapsed}/{duration}",
            )
            .expect("static template is valid")
            .progress_chars("=> "),
        );
        bar.set_message(format!(
            "{} window",
            humantime::format_duration(window.interval)
        ));
        bar
    };
    // Ctrl-C or SIGTERM ends the window early: what was read so far is reported, marked.
    let mut snap = collect::snapshot_until(&opts, &mut |elapsed: Duration| {
        bar.set_position(elapsed.as_millis() as u64);
        if signals.received().is_some() {
            collect::Tick::Hurry
        } else {
            collect::Tick::Continue
        }
    });
    bar.finish_and_clear();
    snap.window.interrupted = signals.received().map(|s| s.as_str().to_owned());
    Ok(snap)
}

/// SIGINT and SIGTERM caught for `check` and `snapshot`, before any thread is started (a thread
/// started earlier would take them the default way).
fn catch_signals() -> Result<crate::watch::signals::Signals> {
    crate::watch::signals::Signals::catch().context("cannot catch SIGINT and SIGTERM")
}

/// The exit status after a report: 128 + the signal that cut the window short, else `code`.
fn after_signal(signals: &crate::watch::signals::Signals, code: u8) -> u8 {
    signals
        .received()
        .map_or(code, |s| 128u8.saturating_add(s as u8))
}

/// Loads the rules once, before anything is sampled, so a broken rule file costs no window.
fn catalogue(args: &RulesArgs) -> Result<Catalogue> {
    catalogue_with(args, &engine::compile::LogNames::builtin())
}

/// The rules, the names they read of `logs` checked against `logs`; what the check warns about
/// goes to stderr.
fn catalogue_with(args: &RulesArgs, logs: &engine::compile::LogNames) -> Result<Catalogue> {
    warned(Catalogue::load_with(args.rules.as_deref(), logs))
}

/// A loaded catalogue, its load-time warnings printed on stderr.
fn warned(loaded: Result<Catalogue, engine::RuleError>) -> Result<Catalogue> {
    let rules = loaded.map_err(InputError::from)?;
    for w in rules.warnings() {
        eprintln!("doctor: warning: {w}");
    }
    Ok(rules)
}

fn check(args: &CheckArgs) -> Result<u8> {
    let signals = catch_signals()?;
    // The rules are checked against the log patterns this run scans with, `--patterns` too.
    let patterns = log_patterns(&args.sources)?;
    let rules = catalogue_with(
        &args.rules,
        &engine::compile::LogNames::of_patterns(&patterns),
    )?;
    output::check_textfile_dir(&args.output)?;
    let snap = take(&args.window, &args.sources, patterns, &signals)?;
    if let Some(path) = &args.out {
        write_snapshot(&snap, Some(path))?;
    }
    let print = if args.window.quiet && args.output.textfile.is_some() {
        Print::Nothing
    } else {
        Print::Report
    };
    output::render(&snap, &rules, &args.output, None, print)
        .map(status)
        .map(|code| after_signal(&signals, code))
}

fn snapshot_cmd(args: &SnapshotArgs) -> Result<u8> {
    let signals = catch_signals()?;
    let snap = take(
        &args.window,
        &args.sources,
        log_patterns(&args.sources)?,
        &signals,
    )?;
    write_snapshot(&snap, args.out.as_deref())?;
    Ok(after_signal(&signals, exit::OK))
}

/// `doctor watch`: the recording, its report, and the exit status rule of `watch::exit`.
fn watch(args: &WatchArgs) -> Result<u8> {
    let patterns = log_patterns(&args.sources)?;
    let rules = catalogue_with(
        &args.rules,
        &engine::compile::LogNames::of_patterns(&patterns),
    )?;
    let window = WindowArgs {
        interval: Duration::from_secs(5),
        quiet: true,
        timeout: None,
    };
    let opts = args
        .sources
        .options(&window, crate::scan::Scanner::new(patterns))
        .map_err(anyhow::Error::msg)?;
    output::check_textfile_dir(&args.output)?;
    if let Some(chart) = &args.chart {
        // Before the run, not after an hour of it.
        let dir = chart.parent().filter(|d| !d.as_os_str().is_empty());
        if dir.is_some_and(|d| !d.is_dir()) {
            return Err(anyhow::anyhow!(
                "cannot write the chart to {}: its directory does not exist; create it or name another",
                chart.display()
            ));
        }
    }
    let plan = crate::watch::record::Plan {
        every: args.every,
        duration: args.duration,
        argv: args.command.clone(),
    };
    // The command first, with this thread's signal mask as it is; then the signals are
    // caught, before any other thread starts (the threads started later inherit the mask).
    let child = crate::watch::record::start_command(&plan)?;
    let signals =
        crate::watch::signals::Signals::catch().context("cannot catch SIGINT and SIGTERM")?;
    let recording = crate::watch::record::record(opts, &plan, &signals, child);
    if let Some(path) = &args.out {
        write_snapshot(&recording.snapshot, Some(path))?;
    }
    let doctor = status(output::render(
        &recording.snapshot,
        &rules,
        &args.output,
        args.chart.as_deref(),
        Print::Report,
    )?);
    Ok(crate::watch::exit::status(
        recording.signal,
        recording.command_status,
        doctor,
    ))
}

/// `doctor stalk`: `--when` and the folder checked before anything is sampled (a bad trigger or
/// an unwritable folder is a usage error, 2), then checking until done; 0 when it ended as
/// asked (`--iterations`, a signal), 1 when a bound stopped it.
fn stalk(args: &StalkArgs) -> Result<u8> {
    let patterns = log_patterns(&args.sources)?;
    let logs = engine::compile::LogNames::of_patterns(&patterns);
    let rules = catalogue_with(&args.rules, &logs)?;
    let trigger = crate::stalk::trigger::Trigger::parse(&args.when, &rules, &logs)?;
    std::fs::create_dir_all(&args.dir).with_context(|| {
        format!(
            "cannot create {}; name a folder doctor may write with --dir",
            args.dir.display()
        )
    })?;
    tempfile_probe(&args.dir).with_context(|| {
        format!(
            "cannot write in {}; name a folder doctor may write with --dir",
            args.dir.display()
        )
    })?;
    let window = WindowArgs {
        interval: Duration::from_secs(1),
        quiet: true,
        timeout: None,
    };
    let opts = args
        .sources
        .options(&window, crate::scan::Scanner::new(patterns))
        .map_err(anyhow::Error::msg)?;
    let plan = crate::stalk::Plan {
        every: args.every,
        cycles: args.cycles,
        record: args.record,
        iterations: args.iterations,
        limits: crate::stalk::bounds::Limits {
            max_recordings: args.max_recordings,
            min_free: args.min_free,
        },
        cooldown: args.cooldown,
        dir: args.dir.clone(),
    };
    // Before any other thread starts: the threads started later inherit the signal mask.
    let signals =
        crate::watch::signals::Signals::catch().context("cannot catch SIGINT and SIGTERM")?;
    let end = crate::stalk::run(&opts, &plan, &trigger, &rules, &signals)
        .with_context(|| format!("cannot write the recording in {}", args.dir.display()))?;
    Ok(match end {
        crate::stalk::End::Done | crate::stalk::End::Signal(_) => exit::OK,
        crate::stalk::End::Bound(_) => exit::FINDINGS,
    })
}

/// Writes and removes a file in `dir`: a folder doctor cannot write fails now, not at the first
/// trigger hours later.
fn tempfile_probe(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".doctor-stalk-probe.{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

fn analyze(args: &AnalyzeArgs) -> Result<u8> {
    output::check_textfile_dir(&args.output)?;
    // The rules are compiled on a second thread while the snapshots are read: the two take
    // about the same time and need nothing from each other (benches/analyze.sh).
    let (rules, hosts) = std::thread::scope(|scope| {
        let rules = scope.spawn(|| catalogue(&args.rules));
        let hosts = read_hosts(&args.files);
        (rules.join(), hosts)
    });
    let rules = rules.map_err(|_| anyhow::anyhow!("loading the rules panicked"))??;
    let mut hosts = hosts?;
    if let Some(out) = &args.out {
        let bundle = snapshot::Bundle::new(hosts.clone());
        write_json(&bundle, Some(out), "the bundle")?;
    }
    if hosts.len() == 1 {
        let one = hosts.pop().map(|h| h.snapshot).expect("one host");
        if let (Some(chart), None) = (&args.chart, &one.series) {
            return Err(anyhow::anyhow!(
                "{} has no series: --chart needs a recording from doctor watch (made with --out), so {} was not written",
                args.files[0].display(),
                chart.display()
            ));
        }
        return output::render(
            &one,
            &rules,
            &args.output,
            args.chart.as_deref(),
            Print::Report,
        )
        .map(status);
    }
    if let Some(chart) = &args.chart {
        return Err(anyhow::anyhow!(
            "--chart draws one recording; {} hosts were given, so {} was not written: chart each \
             host's recording on its own",
            hosts.len(),
            chart.display()
        ));
    }
    let report = report::HostsReport::new(&hosts, &rules);
    output::render_hosts(&hosts, &report, &rules, &args.output).map(status)
}

/// The hosts of every file: a snapshot is one host, named by its hostname (or its file when
/// that is unknown or shared); a bundle brings its hosts with their names.
fn read_hosts(files: &[std::path::PathBuf]) -> Result<Vec<snapshot::NamedSnapshot>> {
    if files.iter().filter(|f| *f == Path::new("-")).count() > 1 {
        return Err(anyhow::anyhow!(
            "standard input (-) can be read only once; name the other files"
        ));
    }
    let mut loaded = Vec::with_capacity(files.len());
    for file in files {
        let what = if file == Path::new("-") {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("cannot read the snapshot from standard input")?;
            snapshot::any_from_json(&buf, Path::new("<stdin>")).map_err(InputError::from)?
        } else {
            snapshot::load_any(file).map_err(InputError::from)?
        };
        loaded.push((file.display().to_string(), what));
    }
    let singles: Vec<(&Snapshot, &str)> = loaded
        .iter()
        .filter_map(|(f, l)| match l {
            snapshot::Loaded::One(s) => Some((s.as_ref(), f.as_str())),
            snapshot::Loaded::Bundle(_) => None,
        })
        .collect();
    let mut names = snapshot::host_names(&singles).into_iter();
    let mut hosts = Vec::new();
    for (_, l) in loaded {
        match l {
            snapshot::Loaded::One(s) => hosts.push(snapshot::NamedSnapshot {
                name: names.next().unwrap_or_default(),
                snapshot: *s,
            }),
            snapshot::Loaded::Bundle(b) => hosts.extend(b.hosts),
        }
    }
    // Names stay unique across files (two bundles may both hold a `db1`).
    for i in 0..hosts.len() {
        let mut n = 2;
        let base = hosts[i].name.clone();
        while hosts[..i].iter().any(|h| h.name == hosts[i].name) {
            hosts[i].name = format!("{base}#{n}");
            n += 1;
        }
    }
    Ok(hosts)
}

/// `doctor diff A B`: both snapshots analysed with the same rules and compared. Exit 1 when a
/// finding holds on one side only, so a CI job comparing a run with its baseline can gate on it.
fn diff(args: &DiffArgs) -> Result<u8> {
    if args.a == Path::new("-") && args.b == Path::new("-") {
        return Err(anyhow::anyhow!(
            "only one side of `doctor diff` can be - (standard input); name the other file"
        ));
    }
    // As in `analyze`: the rules compile on a second thread while both sides are read; not the
    // headline figures, which a diff does not show.
    let (rules, a, b) = std::thread::scope(|scope| {
        let rules = scope.spawn(|| {
            warned(Catalogue::load_rules_only(
                args.rules.rules.as_deref(),
                &engine::compile::LogNames::builtin(),
            ))
        });
        let a = read_hosts(std::slice::from_ref(&args.a));
        let b = read_hosts(std::slice::from_ref(&args.b));
        (rules.join(), a, b)
    });
    let rules = rules.map_err(|_| anyhow::anyhow!("loading the rules panicked"))??;
    let (mut a, mut b) = (a?, b?);
    let name = |p: &Path| {
        if p == Path::new("-") {
            "<stdin>".to_owned()
        } else {
            p.display().to_string()
        }
    };
    let format = if args.json {
        DiffFormat::Json
    } else {
        args.format
    };
    if a.len() > 1 || b.len() > 1 {
        let d = crate::diff::HostsDiff::new(
            (&name(&args.a), &a),
            (&name(&args.b), &b),
            &rules,
            args.all,
        );
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
        match format {
            DiffFormat::Json => crate::diff::hosts_json(&d, &mut out),
            DiffFormat::Markdown => crate::diff::hosts_markdown(&d, &mut out),
            DiffFormat::Table => crate::diff::hosts_table(&d, &mut out),
        }
        .context("cannot write the comparison")?;
        out.flush().context("cannot write the comparison")?;
        return Ok(if d.findings_differ() {
            exit::FINDINGS
        } else {
            exit::OK
        });
    }
    let (Some(a), Some(b)) = (a.pop(), b.pop()) else {
        return Err(anyhow::anyhow!("a side of the comparison holds no host"));
    };
    let (a, b) = (a.snapshot, b.snapshot);
    let d = crate::diff::Diff::new((&name(&args.a), &a), (&name(&args.b), &b), &rules, args.all);
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    match format {
        DiffFormat::Json => crate::diff::json(&d, &mut out),
        DiffFormat::Markdown => crate::diff::markdown(&d, &mut out),
        DiffFormat::Table => crate::diff::table(&d, &mut out),
    }
    .context("cannot write the comparison")?;
    out.flush().context("cannot write the comparison")?;
    Ok(if d.findings_differ() {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

/// `doctor import`: the inputs read whole (a file that cannot be read is a usage error naming
/// it), the snapshot built from them, saved with `--out`, and reported like any snapshot.
fn import(args: &ImportArgs) -> Result<u8> {
    output::check_textfile_dir(&args.output)?;
    let patterns =
        crate::scan::pattern::load(&args.pattern_dirs).context("cannot load the log patterns")?;
    let rules = catalogue_with(
        &args.rules,
        &engine::compile::LogNames::of_patterns(&patterns),
    )?;
    let scanner = crate::scan::Scanner::new(patterns);
    let groups = import_hosts(&args.files)?;
    let mut hosts = Vec::with_capacity(groups.len());
    for (host, files) in &groups {
        let mut texts = Vec::with_capacity(files.len());
        for file in files {
            texts.push(import_text(file)?);
        }
        let inputs: Vec<crate::import::build::Input<'_>> = texts
            .iter()
            .map(|(name, text)| crate::import::build::Input { name, text })
            .collect();
        let snap = crate::import::build::snapshot(&inputs, &scanner);
        hosts.push(snapshot::NamedSnapshot {
            name: host.clone().unwrap_or_default(),
            snapshot: snap,
        });
    }
    if hosts.len() == 1 {
        let snap = hosts.pop().map(|h| h.snapshot).expect("one host");
        if let Some(path) = &args.out {
            write_snapshot(&snap, Some(path))?;
        }
        return output::render(&snap, &rules, &args.output, None, Print::Report).map(status);
    }
    if let Some(path) = &args.out {
        write_json(
            &snapshot::Bundle::new(hosts.clone()),
            Some(path),
            "the bundle",
        )?;
    }
    let report = report::HostsReport::new(&hosts, &rules);
    output::render_hosts(&hosts, &report, &rules, &args.output).map(status)
}

/// `doctor import`'s inputs by host: `NAME=FILE` puts FILE's outputs on host NAME (one
/// snapshot per name, several files per name allowed); plain FILEs make one host. Mixing the
/// two is refused: which host would a plain file belong to?
fn import_hosts(
    files: &[std::path::PathBuf],
) -> Result<Vec<(Option<String>, Vec<std::path::PathBuf>)>> {
    let named = |f: &std::path::PathBuf| -> Option<(String, std::path::PathBuf)> {
        let text = f.to_str()?;
        let (name, path) = text.split_once('=')?;
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            && !path.is_empty()
            && !f.exists();
        ok.then(|| (name.to_owned(), std::path::PathBuf::from(path)))
    };
    let parsed: Vec<Option<(String, std::path::PathBuf)>> = files.iter().map(named).collect();
    if parsed.iter().all(Option::is_none) {
        return Ok(vec![(None, files.to_vec())]);
    }
    if let Some(plain) = files.iter().zip(&parsed).find(|(_, p)| p.is_none()) {
        return Err(anyhow::anyhow!(
            "{} has no host name while other inputs do: name every input (NAME=FILE) or none",
            plain.0.display()
        ));
    }
    let mut groups: Vec<(Option<String>, Vec<std::path::PathBuf>)> = Vec::new();
    for (name, path) in parsed.into_iter().flatten() {
        match groups
            .iter_mut()
            .find(|g| g.0.as_deref() == Some(name.as_str()))
        {
            Some(g) => g.1.push(path),
            None => groups.push((Some(name), vec![path])),
        }
    }
    Ok(groups)
}

/// One input of `doctor import`, read whole: its name and its text.
fn import_text(file: &Path) -> Result<(String, String)> {
    let (name, bytes) = if file == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read the text to import from standard input")?;
        ("<stdin>".to_owned(), buf)
    } else {
        let bytes = std::fs::read(file).with_context(|| {
            format!(
                "cannot read {}; name a text file holding pasted command output, or - for \
                 standard input",
                file.display()
            )
        })?;
        (file.display().to_string(), bytes)
    };
    // Any bytes are a text: what is not UTF-8 is replaced and then not understood.
    Ok((name, String::from_utf8_lossy(&bytes).into_owned()))
}

fn write_snapshot(snap: &Snapshot, path: Option<&Path>) -> Result<()> {
    write_json(snap, path, "the snapshot")
}

/// Writes `value` as pretty JSON to `path`, or to standard output for `None` or `-`; `what`
/// names it in errors.
fn write_json(value: &impl serde::Serialize, path: Option<&Path>, what: &str) -> Result<()> {
    let mut text =
        serde_json::to_vec_pretty(value).with_context(|| format!("cannot serialise {what}"))?;
    text.push(b'\n');
    match path {
        Some(p) if p != Path::new("-") => std::fs::write(p, text)
            .with_context(|| format!("cannot write {what} to {}", p.display())),
        _ => std::io::stdout()
            .lock()
            .write_all(&text)
            .with_context(|| format!("cannot write {what} to standard output")),
    }
}

fn rules_cmd(args: &RulesCommand) -> Result<u8> {
    if let RulesSub::Test(test) = &args.command {
        return rules_test(test, &args.rules);
    }
    let rules = catalogue(&args.rules)?;
    let mut out = std::io::stdout().lock();
    match &args.command {
        RulesSub::List => report::render_rules(&rules, &mut out)?,
        RulesSub::Explain { id } => {
            let rule = rules
                .get(id)
                .ok_or_else(|| InputError::UnknownRule(id.clone()))?;
            report::render_rule(rule, &mut out)?;
        }
        RulesSub::Test(_) => unreachable!("handled above"),
    }
    out.flush()?;
    Ok(exit::OK)
}

/// `doctor rules test [DIR...]`: every problem with the test files on stderr and exit 2 before
/// anything runs; else one line per case, 1 when one failed.
fn rules_test(args: &TestArgs, rules: &RulesArgs) -> Result<u8> {
    let mut dirs = args.dirs.clone();
    dirs.extend(rules.rules.iter().cloned());
    let run = match crate::ruletest::run(&dirs) {
        Ok(run) => run,
        Err(errors) => {
            for e in &errors {
                eprintln!("doctor: {e}");
            }
            return Ok(exit::USAGE);
        }
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        TestFormat::Text => crate::ruletest::output::text(&run, &mut out),
        TestFormat::Json => crate::ruletest::output::json(&run, &mut out),
    }
    .context("cannot write the results")?;
    out.flush().context("cannot write the results")?;
    Ok(if run.failed() == 0 {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_panic_is_one_line_naming_the_part() {
        let line = worker_panic_line(
            "doctor-container-logs",
            "internal error: entered unreachable code\n  frame type 3",
            "src/read.rs:12",
        );
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with("doctor: internal error while reading container-logs (internal error: entered unreachable code frame type 3 at src/read.rs:12)"),
            "{line}"
        );
    }
}
