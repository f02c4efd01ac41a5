//! Guards on the rule catalogue, the way clippy and ruff guard theirs: every built-in rule
//! compiles, has its documentation with the fixed headings, names real rules in `explains`,
//! fires on at least one recorded scenario and stays quiet on the healthy one. Plus the `rules`
//! commands and `--rules DIR`.

use assert_cmd::Command;
use doctor::engine::{Catalogue, Kind, analyze, rules::BUILTIN};
use std::collections::BTreeSet;
use std::path::PathBuf;

const HEADINGS: &[&str] = &[
    "## What it detects",
    "## Why it matters",
    "## How to fix",
    "## References",
];

fn fixtures() -> Vec<(String, doctor::snapshot::Snapshot)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, doctor::snapshot::load(&p).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_rule_compiles_and_is_documented() {
    let cat = Catalogue::load(None).unwrap();
    let files: BTreeSet<&str> = BUILTIN
        .iter()
        .filter(|(p, _)| {
            std::path::Path::new(p)
                .extension()
                .is_some_and(|e| e == "toml")
        })
        .map(|(p, _)| *p)
        .collect();
    assert_eq!(files.len(), cat.rules.len(), "one rule per file");
    let ids: BTreeSet<&str> = cat.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), cat.rules.len(), "ids are unique");
    for r in &cat.rules {
        let doc = r
            .doc
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no rules/{}.md", r.id, r.id));
        assert!(
            doc.starts_with(&format!("# {}\n", r.id)),
            "{}.md starts with its id",
            r.id
        );
        for h in HEADINGS {
            assert!(doc.contains(h), "{}.md lacks `{h}`", r.id);
        }
        let refs = doc.split("## References").nth(1).unwrap();
        assert!(refs.contains("- "), "{}.md lists no reference", r.id);
        assert!(
            r.evidence
                .iter()
                .chain(r.groups.iter().flat_map(|g| &g.evidence))
                .next()
                .is_some(),
            "{} shows no evidence",
            r.id
        );
        assert!(r.title.len() <= 100, "{} title is too long", r.id);
        // A cause explains symptoms, or other causes it brings about; never itself.
        for target in &r.explains {
            assert!(
                cat.get(target).is_some(),
                "{} explains unknown {target}",
                r.id
            );
            assert_ne!(target, &r.id, "{} explains itself", r.id);
        }
        if !r.explains.is_empty() {
            assert_eq!(
                r.kind,
                Kind::RootCause,
                "{} explains but is a symptom",
                r.id
            );
        }
    }
}

#[test]
fn every_rule_fires_on_a_fixture_and_is_quiet_on_healthy() {
    let cat = Catalogue::load(None).unwrap();
    let fixtures = fixtures();
    assert!(
        fixtures.iter().any(|(n, _)| n == "healthy"),
        "fixtures/healthy.json is missing"
    );
    for r in &cat.rules {
        let fired_on: Vec<&str> = fixtures
            .iter()
            .filter(|(_, s)| analyze(&cat, s).findings.iter().any(|f| f.id == r.id))
            .map(|(n, _)| n.as_str())
            .collect();
        assert!(!fired_on.is_empty(), "{} fires on no fixture", r.id);
        assert!(!fired_on.contains(&"healthy"), "{} fires on healthy", r.id);
    }
}

fn doctor() -> Command {
    Command::cargo_bin("doctor").unwrap()
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format!("{name}.json"))
}

#[test]
fn rules_list_and_explain() {
    let cat = Catalogue::load(None).unwrap();
    let out = doctor().args(["rules", "list"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), cat.rules.len());
    for r in &cat.rules {
        assert!(text.contains(&r.id), "{} missing from the list", r.id);
    }
    let out = doctor()
        .args(["rules", "explain", "tcp-accept-queue-overflow"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for needle in [
        "## What it detects",
        "## References",
        "when: window.elapsed_ms > 0.0 && overflows > 0.0",
        "when: (window.elapsed_ms == 0.0 || !between) && count > 0.0",
        "Netdata",
    ] {
        assert!(text.contains(needle), "explain lacks {needle}:\n{text}");
    }
    doctor()
        .args(["rules", "explain", "no-such-rule"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("there is no rule `no-such-rule`"));
}

#[test]
fn fail_on_sets_the_exit_code() {
    let overflow = fixture_path("accept-queue-overflow");
    doctor().arg("analyze").arg(&overflow).assert().code(1);
    doctor()
        .arg("analyze")
        .arg(&overflow)
        .args(["--fail-on", "never"])
        .assert()
        .code(0);
    doctor()
        .arg("analyze")
        .arg(fixture_path("healthy"))
        .assert()
        .code(0);
    doctor()
        .arg("analyze")
        .arg(fixture_path("healthy"))
        .args(["--fail-on", "bogus"])
        .assert()
        .code(2);
}

#[test]
fn rules_dir_adds_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    // Overrides the built-in rule with one that always fires.
    std::fs::write(
        dir.path().join("cpu-saturation.toml"),
        "id = \"cpu-saturation\"\ntitle = \"always\"\nlayer = \"cpu\"\nkind = \"root-cause\"\n\
         when = \"cpu.cores > 0\"\nscore = \"60\"\nsummary = \"{{cpu.cores}} cores\"\nfix = \"none\"\n",
    )
    .unwrap();
    let out = doctor()
        .arg("analyze")
        .arg(fixture_path("healthy"))
        .args(["--format", "json", "--rules"])
        .arg(dir.path())
        .assert()
        .code(1);
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["findings"][0]["id"], "cpu-saturation");
    assert_eq!(v["findings"][0]["title"], "always");
    assert_eq!(v["findings"][0]["severity"], "warning");
}

#[test]
fn malformed_rule_file_names_file_line_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("my-rule.toml");
    std::fs::write(
        &file,
        "id = \"my-rule\"\ntitle = \"t\"\nlayer = \"cpu\"\nkind = \"symptom\"\n\
         when = \"cpu.busy_pct >\"\nscore = \"1\"\nsummary = \"s\"\nfix = \"f\"\n",
    )
    .unwrap();
    doctor()
        .arg("analyze")
        .arg(fixture_path("healthy"))
        .arg("--rules")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!("{}:5:", file.display())))
        .stderr(predicates::str::contains("`when`: Syntax error"));
    std::fs::write(&file, "id = \"my-rule\"\ntitle = [\n").unwrap();
    doctor()
        .args(["rules", "list", "--rules"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!("{}:", file.display())));
}

/// Every name every built-in rule reads is in the snapshot's schema, every key it reads of a
/// map is one the listed servers and kernels have (the load-time check has nothing to say, not
/// even a note), with the built-in log patterns' names and with the patterns `doctor check`
/// loads. So is the example rule of `tests/rules/`.
#[test]
fn every_name_a_builtin_rule_reads_is_in_the_snapshot() {
    use doctor::engine::compile::LogNames;
    let patterns = doctor::scan::pattern::load(&[] as &[&str]).unwrap();
    // Loaded as a `--rules` folder's would be: doctor skips the check on built-in rules at
    // every start, because this test makes it.
    let unchecked = |mut s: doctor::engine::rules::Source| {
        s.builtin = false;
        s
    };
    let mut sources: Vec<_> = doctor::engine::rules::builtin_sources()
        .into_iter()
        .map(unchecked)
        .collect();
    sources.extend(doctor::engine::rules::dir_sources(&example_rules()).unwrap());
    let figures: Vec<_> = doctor::engine::figures::sources(None)
        .unwrap()
        .into_iter()
        .map(unchecked)
        .collect();
    for logs in [LogNames::builtin(), LogNames::of_patterns(&patterns)] {
        let rules = Catalogue::compile(&sources, &figures, &logs).unwrap_or_else(|e| panic!("{e}"));
        assert!(rules.rules.len() > BUILTIN.len() / 2);
        for r in &rules.rules {
            assert!(r.notes.is_empty(), "{}: {:?}", r.id, r.notes);
        }
    }
}

/// A `--rules DIR` rule gets the same check: a mistyped name refuses the rules, naming the file,
/// the line and the column of the name, and the nearest valid one; a likely typo of a kernel
/// counter is said on stderr and the rule still runs.
#[test]
fn a_rules_dir_rule_with_a_mistyped_name_is_refused_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("my-rule.toml");
    let head = "id = \"my-rule\"\ntitle = \"t\"\nlayer = \"database\"\nkind = \"symptom\"\n\
                score = \"60\"\nsummary = \"s\"\nfix = \"f\"\n";
    std::fs::write(
        &file,
        format!("{head}when = \"mysql.global_status.Threads_conected.total > 100.0\"\n"),
    )
    .unwrap();
    doctor()
        .arg("analyze")
        .arg(fixture_path("healthy"))
        .arg("--rules")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!(
            "{}:8:29: `when`: `mysql.global_status.Threads_conected` is not in the snapshot: the \
             status variables of MariaDB 10.11 and MySQL 8.0.32 have no `Threads_conected`; did \
             you mean `mysql.global_status.Threads_connected`?",
            file.display()
        )));
    std::fs::write(
        &file,
        format!("{head}when = \"tcp.counters.?TcpExtListenOverflow.?delta.orValue(0.0) > 0.0\"\n"),
    )
    .unwrap();
    doctor()
        .arg("analyze")
        .arg(fixture_path("healthy"))
        .arg("--rules")
        .arg(dir.path())
        .assert()
        .code(0)
        .stderr(predicates::str::contains(format!(
            "doctor: warning: {}:8:23: `when`: `tcp.counters.TcpExtListenOverflow`",
            file.display()
        )));
    doctor()
        .args(["rules", "explain", "my-rule", "--rules"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicates::str::contains("## Notes from the check at load"))
        .stdout(predicates::str::contains(
            "did you mean `tcp.counters.TcpExtListenOverflows`?",
        ));
}

// `tests/rules/mysql-refusing-example.toml` reasons from the server's counters or from the
// app's log. It is run on the too-many-connections scenario as recorded, and as it would read had
// the server refused doctor too (its `mysql` section an error), through `--rules DIR`.

fn example_rules() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/rules")
}

/// The too-many-connections scenario had the server refused doctor, with `logged` refusals in
/// the app's log during the window, written in `dir`.
fn refused_doctor(dir: &std::path::Path, logged: u64) -> PathBuf {
    let text = std::fs::read_to_string(fixture_path("mysql-too-many-connections")).unwrap();
    let mut snap: serde_json::Value = serde_json::from_str(&text).unwrap();
    snap["mysql"] = serde_json::json!({"status": "error", "elapsed_ms": 3.0,
        "message": "ERROR 1040 (08004): Too many connections"});
    snap["logs"]["categories"]["db-too-many-connections"]["in_window"] = logged.into();
    let path = dir.join(format!("refused-{logged}.json"));
    std::fs::write(&path, serde_json::to_string(&snap).unwrap()).unwrap();
    path
}

const SERVER_ERROR: &str = "needs `mysql`, which was not collected (error): \
                            ERROR 1040 (08004): Too many connections";

/// `doctor analyze SNAPSHOT --format FORMAT` with the example rule.
fn analyze_with_example(snapshot: &std::path::Path, format: &str) -> String {
    let out = doctor()
        .arg("analyze")
        .arg(snapshot)
        .args(["--fail-on", "never", "--format", format, "--rules"])
        .arg(example_rules())
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

fn json_with_example(snapshot: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&analyze_with_example(snapshot, "json")).unwrap()
}

fn example_finding(report: &serde_json::Value) -> Option<serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "mysql-refusing-example")
        .cloned()
}

#[test]
fn evidence_groups_fire_from_the_server_counters_as_recorded() {
    let report = json_with_example(&fixture_path("mysql-too-many-connections"));
    let f = example_finding(&report).expect("fires from the server's counters");
    assert_eq!(f["score"], 100.0);
    assert_eq!(
        f["from"],
        serde_json::json!([
            {"name": "server counters", "outcome": "fired", "score": 100.0},
            {"name": "app log", "outcome": "quiet"}
        ])
    );
    // The refusals the recorded server counted: MariaDB counts them in Aborted_connects while
    // it is at max_connections (the rule's own reading, checked here against the fixture).
    let snap: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture_path("mysql-too-many-connections")).unwrap(),
    )
    .unwrap();
    let status = &snap["mysql"]["global_status"];
    let refused = match status["Connection_errors_max_connections"]["delta"].as_i64() {
        Some(n) if n > 0 => n,
        _ => status["Aborted_connects"]["delta"].as_i64().unwrap(),
    };
    assert!(refused > 0, "the recorded server refused connections");
    let summary = f["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!("{refused} connections refused")),
        "{summary}"
    );
}

#[test]
fn evidence_groups_fire_from_the_log_when_the_server_refused_doctor() {
    let dir = tempfile::tempdir().unwrap();
    let refused = refused_doctor(dir.path(), 12);
    let report = json_with_example(&refused);
    let f = example_finding(&report).expect("fires from the app's log");
    assert_eq!(
        f["from"],
        serde_json::json!([
            {"name": "server counters", "outcome": "not-checked", "reason": SERVER_ERROR},
            {"name": "app log", "outcome": "fired", "score": 80.0}
        ])
    );
    assert_eq!(f["severity"], "critical");
    assert_eq!(
        f["evidence"][1],
        serde_json::json!({"label": "'Too many connections' in the app log in the window",
            "value": "12", "expr": "logged", "from": "app log"})
    );
    let table = analyze_with_example(&refused, "table");
    assert!(
        table.contains(&format!(
            "   from:\n     - server counters: not checked: {SERVER_ERROR}\n     \
             - app log: fired, score 80\n"
        )),
        "{table}"
    );
    let md = analyze_with_example(&refused, "markdown");
    assert!(
        md.contains(&format!(
            "From:\n\n- *server counters*: not checked: {SERVER_ERROR}\n\
             - *app log*: fired, score 80\n"
        )),
        "{md}"
    );
}

/// Nothing in the log either: quiet where it could look, which is not "fine".
#[test]
fn evidence_groups_quiet_where_they_could_look_are_checked_in_part() {
    let dir = tempfile::tempdir().unwrap();
    let quiet = refused_doctor(dir.path(), 0);
    let report = json_with_example(&quiet);
    assert!(example_finding(&report).is_none());
    assert!(
        !report["passed"]
            .as_array()
            .unwrap()
            .contains(&"mysql-refusing-example".into())
    );
    let example: Vec<&serde_json::Value> = report["partly_checked"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["id"] == "mysql-refusing-example")
        .collect();
    assert_eq!(
        serde_json::json!(example),
        serde_json::json!([{"id": "mysql-refusing-example",
            "title": "MySQL refusing connections (an example of evidence groups)",
            "layer": "database", "checked": ["app log"],
            "unchecked": [{"from": "server counters", "reason": SERVER_ERROR}]}])
    );
    let table = analyze_with_example(&quiet, "table");
    assert!(table.contains("checked in part:\n"), "{table}");
    assert!(
        table.contains(&format!(
            "\n  mysql-refusing-example: quiet from app log; \
             not checked from server counters: {SERVER_ERROR}\n"
        )),
        "{table}"
    );
    let md = analyze_with_example(&quiet, "markdown");
    assert!(md.contains("#### Checked in part\n\n- `"), "{md}");
    assert!(
        md.contains("\n- `mysql-refusing-example`: quiet from app log"),
        "{md}"
    );
    // On the healthy baseline without its app log the "no bottleneck" line says so: the
    // example's server counters are there, its app log is not.
    let mut healthy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_path("healthy")).unwrap()).unwrap();
    healthy["logs"] = serde_json::json!({"status": "skipped", "elapsed_ms": 0.0,
        "message": "no log to scan: name application, proxy or database logs with --log PATH"});
    let no_log = dir.path().join("healthy-without-log.json");
    std::fs::write(&no_log, serde_json::to_string(&healthy).unwrap()).unwrap();
    let table = analyze_with_example(&no_log, "table");
    let in_part = table
        .split("; checked in part: ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no 'checked in part' in the no-bottleneck line: {table}"));
    assert!(
        in_part.split(", ").any(|id| id == "mysql-refusing-example"),
        "{table}"
    );
}

#[test]
fn explain_shows_each_evidence_group() {
    let out = doctor()
        .args(["rules", "explain", "mysql-refusing-example", "--rules"])
        .arg(example_rules())
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for needle in [
        "let seconds = window.elapsed_ms / 1000.0\nfires when any of its 2 evidence groups fires",
        "from \"server counters\" (needs the sections: mysql):\n  let connected = ",
        "  when: refused > 0.0\n  score: 60.0 + 40.0 * ramp(refused / seconds, 0.05, 1.0)\n",
        "from \"app log\" (needs the sections: logs):",
        "    - 'Too many connections' in the app log in the window: logged\n",
        "evidence (whenever it fires):\n  - window, s: seconds\n",
        "summary: connections refused for max_connections in the window\nfix:\n  Find who",
    ] {
        assert!(text.contains(needle), "explain lacks {needle:?}:\n{text}");
    }
}

/// doctor parses CEL with cel's Pratt parser (fast) rather than its ANTLR one (the reference):
/// both must build the same tree, up to node ids, for every expression of every built-in rule.
#[test]
fn pratt_parser_builds_the_same_tree_as_the_reference_parser() {
    use doctor::engine::compile::parse_cel;
    fn without_ids(e: &cel::IdedExpr) -> String {
        let text = format!("{e:?}");
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(i) = rest.find("id: ") {
            out.push_str(&rest[..i + 4]);
            rest = rest[i + 4..].trim_start_matches(|c: char| c.is_ascii_digit());
        }
        out.push_str(rest);
        out
    }
    let cat = Catalogue::load(None).unwrap();
    let env = cel::Env::stdlib();
    let mut checked = 0;
    for r in &cat.rules {
        let sources: Vec<&str> = r.exprs().map(|e| e.source.as_str()).collect();
        for src in sources {
            let reference = env
                .compile(src)
                .unwrap_or_else(|e| panic!("{}: `{src}`: {e}", r.id));
            let pratt = parse_cel(src).unwrap();
            assert_eq!(
                without_ids(&pratt),
                without_ids(reference.expression()),
                "{}: `{src}`",
                r.id
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} expressions");
}

/// A figure of one's own (`DIR/figures/*.toml`) is checked as a rule is: a mistyped name
/// refuses it at load with its file, line and column and the nearest valid name; a good one is
/// shown after the built-in figures, with its expression as its `field`.
#[test]
fn a_figure_with_a_mistyped_name_is_refused_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("figures")).unwrap();
    let file = dir.path().join("figures/mine.toml");
    let head = "[[figure]]\nlayer = \"network\"\nlabel = \"somaxconn\"\nrequires = [\"tcp\"]\n";
    std::fs::write(
        &file,
        format!("{head}expr = \"tcp.sysctl['net.core.somaxconn']\"\n"),
    )
    .unwrap();
    doctor()
        .arg("analyze")
        .arg(fixture_path("healthy"))
        .arg("--rules")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!(
            "{}:5:13: `figure[0].expr`: `tcp.sysctl` is not in the snapshot; did you mean \
             `tcp.sysctls`?",
            file.display()
        )));
    std::fs::write(
        &file,
        format!("{head}expr = \"tcp.sysctls['net.core.somaxconn']\"\n"),
    )
    .unwrap();
    let out = doctor()
        .args(["analyze", "--format", "json", "--fail-on", "never"])
        .arg(fixture_path("healthy"))
        .arg("--rules")
        .arg(dir.path())
        .assert()
        .code(0);
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let last = report["headline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["name"], "somaxconn");
    assert_eq!(last["layer"], "network");
    assert_eq!(last["field"], "tcp.sysctls['net.core.somaxconn']");
    assert!(
        last["value"].as_str().unwrap().parse::<f64>().is_ok(),
        "{last}"
    );
}
