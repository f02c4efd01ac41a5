//! `doctor rules test`: the built-in rules pass their own tests, each with a case that fires and
//! one that nearly fires and stays quiet; and the command as a rule author meets it, on a rule
//! of their own in a temporary folder: a passing and a failing case, exit codes, the failure
//! pointing at the case, a malformed test file.

use assert_cmd::Command;
use doctor::engine::Catalogue;
use predicates::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn doctor() -> Command {
    let mut cmd = Command::cargo_bin("doctor").unwrap();
    cmd.env_remove("DOCTOR_RULES");
    cmd
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format!("{name}.json"))
        .display()
        .to_string()
}

fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

#[test]
fn every_built_in_rule_passes_a_firing_and_a_nearly_firing_case() {
    let out = doctor()
        .args(["rules", "test", "--format", "json"])
        .assert()
        .success();
    let run = json(&out.get_output().stdout);
    let cases = run["cases"].as_array().unwrap();
    assert_eq!(run["failed"], 0, "{run:#}");
    assert_eq!(run["untested"], serde_json::json!([]));
    // rule -> (fires, quiet) cases
    let mut kinds: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for c in cases {
        assert_eq!(c["result"], "ok", "{c:#}");
        assert!(
            c["file"].as_str().unwrap().starts_with("rules/tests/"),
            "{c:#}"
        );
        let entry = kinds.entry(c["rule"].as_str().unwrap()).or_default();
        match c["expect"].as_str().unwrap() {
            "fires" => entry.0 += 1,
            "quiet" => {
                entry.1 += 1;
                // Nearly firing: a recorded fixture with a field moved just past a threshold,
                // or a snapshot written for it (and marked so), not merely another scenario.
                let set = c["set"].as_array().unwrap();
                assert!(
                    !set.is_empty() || c["hand_written"].is_string(),
                    "a quiet case of {} runs on {} unchanged: {}",
                    c["rule"],
                    c["snapshot"],
                    c["name"]
                );
            }
            _ => {}
        }
    }
    for rule in &Catalogue::load(None).unwrap().rules {
        let (fires, quiet) = kinds.get(rule.id.as_str()).copied().unwrap_or_default();
        assert!(
            fires > 0,
            "{} has no case that fires (rules/tests/{}.toml)",
            rule.id,
            rule.id
        );
        assert!(
            quiet > 0,
            "{} has no case that nearly fires and stays quiet (rules/tests/{}.toml)",
            rule.id,
            rule.id
        );
    }
}

/// A folder with a rule of the user's own, `busy-cpu`, and its test file.
fn user_rules(tests: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("busy-cpu.toml"),
        "id = \"busy-cpu\"\ntitle = \"CPUs busy\"\nlayer = \"cpu\"\nkind = \"root-cause\"\n\
         requires = [\"cpu\"]\nwhen = \"cpu.busy_pct >= 80.0\"\n\
         score = \"50.0 + 50.0 * ramp(cpu.busy_pct, 80.0, 100.0)\"\n\
         summary = \"CPUs {{cpu.busy_pct}}% busy\"\nfix = \"find the busy process\"\n\
         [[evidence]]\nlabel = \"CPU busy %\"\nexpr = \"cpu.busy_pct\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    std::fs::write(dir.path().join("tests/busy-cpu.toml"), tests).unwrap();
    dir
}

fn test_file(dir: &Path) -> String {
    dir.join("tests/busy-cpu.toml").display().to_string()
}

/// A CPU section, hand-written, `busy` % busy.
fn cpu_section(busy: f64) -> String {
    format!(
        "[case.snapshot.cpu]\nstatus = \"ok\"\ncores = 2\nuser_pct = {busy}\nnice_pct = 0\n\
         system_pct = 0\niowait_pct = 0\nirq_pct = 0\nsoftirq_pct = 0\nsteal_pct = 0\n\
         idle_pct = {}\nbusy_pct = {busy}\nbusiest_core_pct = {busy}\nload_1 = 1\nload_5 = 1\n\
         load_15 = 1\nrun_queue_avg = 1\nrun_queue_max = 2\nblocked_avg = 0\nblocked_max = 0\n\
         run_queue_samples = 20\ncounters = {{}}\n",
        100.0 - busy
    )
}

#[test]
fn a_users_rule_passes_its_cases() {
    let tests = format!(
        "[[case]]\nname = \"the recorded CPU hog\"\nsnapshot = {saturated:?}\nexpect = \"fires\"\n\
         severity = \"critical\"\nscore = 100\nabove = \"cpu-saturation\"\n\
         [case.evidence]\n\"CPU busy %\" = 100\n\n\
         [[case]]\nname = \"79.9% busy: it fires at 80%\"\nsnapshot = {saturated:?}\n\
         set = {{ \"cpu.busy_pct\" = 79.9 }}\nexpect = \"quiet\"\n\n\
         [[case]]\nname = \"written by hand\"\nhand_written = \"only the CPU matters\"\n\
         expect = \"fires\"\nseverity = \"warning\"\nscore = [70, 80]\n\
         summary = {{ contains = \"90% busy\" }}\n{}\n\
         [[case]]\nname = \"without a cpu section\"\nhand_written = \"nothing collected\"\n\
         expect = \"not-checked\"\nreason = \"needs `cpu`\"\nsnapshot_json = '{{\"window\": {{\"elapsed_ms\": 3000}}}}'\n",
        cpu_section(90.0),
        saturated = fixture("cpu-saturation"),
    );
    let dir = user_rules(&tests);
    let out = doctor()
        .args(["rules", "test"])
        .arg(dir.path())
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let file = test_file(dir.path());
    let lines: Vec<usize> = tests
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "[[case]]")
        .map(|(i, _)| i + 1)
        .collect();
    for (line, expect) in lines
        .into_iter()
        .zip(["fires", "quiet", "fires", "not-checked"])
    {
        assert!(
            text.lines().any(|l| l.starts_with("ok")
                && l.contains(&format!("{file}:{line} "))
                && l.contains(expect)),
            "no ok line for {file}:{line}:\n{text}"
        );
    }
    assert!(
        text.contains("rules test: ok. ") && text.contains(" 0 failed"),
        "{text}"
    );
    // `--rules DIR` is one more folder; the built-in rules' cases ran too.
    let out = doctor()
        .args(["rules", "test", "--format", "json", "--rules"])
        .arg(dir.path())
        .assert()
        .success();
    let run = json(&out.get_output().stdout);
    let cases = run["cases"].as_array().unwrap();
    let mine: Vec<&serde_json::Value> = cases.iter().filter(|c| c["rule"] == "busy-cpu").collect();
    assert_eq!(mine.len(), 4);
    assert_eq!(mine[2]["hand_written"], "only the CPU matters");
    assert!(cases.iter().any(|c| c["rule"] == "cpu-saturation"));
}

#[test]
fn a_failing_case_says_what_differed_and_where() {
    let tests = format!(
        "[[case]]\nname = \"passes\"\nsnapshot = {saturated:?}\nexpect = \"fires\"\n\n\
         [[case]]\nname = \"wrong on three counts\"\nsnapshot = {saturated:?}\nexpect = \"fires\"\n\
         severity = \"warning\"\nrank = 2\n[case.evidence]\n\"CPU busy %\" = {{ contains = \"99\" }}\n\n\
         [[case]]\nname = \"fires after all\"\nsnapshot = {saturated:?}\nexpect = \"quiet\"\n",
        saturated = fixture("cpu-saturation"),
    );
    let dir = user_rules(&tests);
    let file = test_file(dir.path());
    let out = doctor()
        .args(["rules", "test"])
        .arg(dir.path())
        .assert()
        .code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAILED")).collect();
    assert_eq!(failed.len(), 2, "{text}");
    assert!(failed[0].contains(&format!("{file}:6 ")), "{text}");
    assert!(failed[1].contains(&format!("{file}:15 ")), "{text}");
    for needle in [
        format!("on {}\n", fixture("cpu-saturation")),
        "        - severity\n            expected: warning\n            got:      critical (score 100)\n".into(),
        "        - rank\n            expected: 2\n            got:      ranked 1 busy-cpu, 2 cpu-saturation\n".into(),
        "        - evidence \"CPU busy %\"\n            expected: contains \"99\"\n            got:      \"100\"\n".into(),
        "        - outcome\n            expected: quiet\n            got:      fired: score 100 (critical), rank 1: CPUs 100% busy\n".into(),
        "rules test: FAILED. ".into(),
    ] {
        assert!(text.contains(&needle), "lacks {needle:?}:\n{text}");
    }
    let out = doctor()
        .args(["rules", "test", "--format", "json"])
        .arg(dir.path())
        .assert()
        .code(1);
    let run = json(&out.get_output().stdout);
    let case = run["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "wrong on three counts")
        .unwrap();
    assert_eq!(case["result"], "failed");
    assert_eq!(case["line"], 6);
    assert_eq!(
        case["failures"][0],
        serde_json::json!({"check": "severity", "expected": "warning", "actual": "critical (score 100)"})
    );
}

#[test]
fn a_malformed_test_file_is_refused_with_its_position() {
    let saturated = fixture("cpu-saturation");
    for (tests, position, problem) in [
        (
            "[[case]]\nname = \"x\"\nexpect = \"fire\"\n".to_owned(),
            ":3:10: ",
            "unknown variant `fire`, expected one of `fires`, `quiet`",
        ),
        (
            format!(
                "[[case]]\nname = \"x\"\nsnapshot = {saturated:?}\nexpect = \"quiet\"\nscore = 5\n"
            ),
            ":5:9: ",
            "`score` is what a firing rule shows; this case expects `quiet`",
        ),
        (
            format!(
                "[[case]]\nname = \"x\"\nsnapshot = {saturated:?}\nexpect = \"fires\"\n\
                 set = {{ \"cpu.busy_pc\" = 1 }}\n"
            ),
            ":5:9: ",
            "`set`: `cpu.busy_pc`: `cpu` has no `busy_pc` (did you mean `busy_pct`?)",
        ),
        (
            format!(
                "[[case]]\nname = \"x\"\nsnapshot = {saturated:?}\nexpect = \"fires\"\n\
                 [case.evidence]\n\"CPU busy\" = 1\n"
            ),
            ":6:1: ",
            "`busy-cpu` shows no evidence labelled `CPU busy`; its labels are: `CPU busy %`",
        ),
        (
            "[[case]]\nname = \"x\"\nsnapshot = \"fixtures/nowhere.json\"\nexpect = \"fires\"\n"
                .to_owned(),
            ":3:12: ",
            "there is no snapshot `fixtures/nowhere.json`",
        ),
        (
            format!(
                "[[case]]\nname = \"x\"\nexpect = \"fires\"\n{}",
                cpu_section(90.0)
            ),
            ":2:8: ",
            "a snapshot written in the case needs `hand_written = \"why\"`",
        ),
    ] {
        let dir = user_rules(&tests);
        doctor()
            .args(["rules", "test"])
            .arg(dir.path())
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(format!(
                "doctor: {}{position}{problem}",
                test_file(dir.path())
            )));
    }
    // A folder that is not there.
    doctor()
        .args(["rules", "test", "no/such/folder"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "doctor: cannot read no/such/folder: No such file or directory",
        ));
    // A test file named after no rule.
    let dir = user_rules("[[case]]\nname = \"x\"\nexpect = \"quiet\"\n");
    std::fs::rename(
        dir.path().join("tests/busy-cpu.toml"),
        dir.path().join("tests/busy-cpus.toml"),
    )
    .unwrap();
    doctor()
        .args(["rules", "test"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "busy-cpus.toml:1:1: tests a rule `busy-cpus` that is not loaded",
        ));
}
