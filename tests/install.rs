//! What installing doctor as a tool relies on: `--version` naming the commit, the completion
//! scripts loading in real shells (bash, zsh, fish), the manual pages rendering with `man`. The packages that
//! carry them are tested in tests/packages.rs.

mod support;

use std::path::Path;
use std::process::Command;
use support::{doctor, require, run};

#[path = "../build/version.rs"]
mod version;

fn stdout(args: &[&str]) -> String {
    let out = doctor().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "doctor {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs (apt-get install git)");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn version_names_the_commit_of_this_checkout() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected = match version::describe(env!("CARGO_PKG_VERSION"), root).0 {
        v if v.contains("git") => v,
        // The tests run from a checkout: a tarball has no tests/ folder to run.
        v => panic!("{root:?} is not read as a git checkout ({v}): is git installed?"),
    };
    let head = git(root, &["rev-parse", "--short", "HEAD"]);
    assert_eq!(
        expected,
        format!("{} (git {head})", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(stdout(&["--version"]), format!("doctor {expected}\n"));
}

#[test]
fn version_outside_a_checkout_is_the_package_version() {
    require("git", "git");
    let dir = tempfile::tempdir().unwrap();
    let (plain, watch) = version::describe("1.2.3", dir.path());
    assert_eq!((plain.as_str(), watch.len()), ("1.2.3", 0));

    // Inside someone else's repository (a crate unpacked under a home kept in git): not ours.
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["commit", "-q", "--allow-empty", "-m", "x"]);
    let inner = dir.path().join("crate");
    std::fs::create_dir(&inner).unwrap();
    assert_eq!(version::describe("1.2.3", &inner).0, "1.2.3");

    // At the top of one: its commit, and the files to watch for the next one exist.
    let head = git(dir.path(), &["rev-parse", "--short", "HEAD"]);
    let (described, watch) = version::describe("1.2.3", dir.path());
    assert_eq!(described, format!("1.2.3 (git {head})"));
    assert!(watch.iter().any(|p| p.ends_with("HEAD")), "{watch:?}");
    assert!(watch.iter().all(|p| p.is_file()), "{watch:?}");
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let text = stdout(&["completions", shell]);
        for sub in ["analyze", "watch", "stalk", "diff", "rules"] {
            assert!(text.contains(sub), "{shell}: no `{sub}`");
        }
    }
    let out = doctor().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bash_completion_loads_and_completes() {
    require("bash", "bash");
    let doctor = env!("CARGO_BIN_EXE_doctor");
    // What bash-completion does on <TAB>: call the function with the words typed so far.
    let script = format!(
        r#"source <("{doctor}" completions bash) || exit 1
complete -p doctor || exit 1
COMP_WORDS=(doctor an); COMP_CWORD=1; COMP_LINE="doctor an"; COMP_POINT=9
_doctor doctor an doctor
printf '%s\n' "${{COMPREPLY[@]}}""#
    );
    let out = run("bash", &["-c", &script]);
    assert!(out.contains("-F _doctor doctor"), "{out}");
    assert!(out.lines().any(|l| l == "analyze"), "{out}");
}

/// zsh's completion system loads the script and binds it to `doctor`; `_doctor` lists the
/// subcommands when asked for the first word (its `_arguments` calls answered by `compadd`,
/// which prints here instead of completing).
#[test]
fn zsh_completion_loads_and_binds() {
    require("zsh", "zsh");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("_doctor"), stdout(&["completions", "zsh"])).unwrap();
    let script = format!(
        "fpath=({} $fpath); autoload -Uz compinit; compinit -u -D || exit 1\n\
         print -r -- \"bound: $_comps[doctor]\"\n\
         autoload -Uz _doctor; whence -w _doctor",
        dir.path().display()
    );
    let out = run("zsh", &["-f", "-c", &script]);
    assert!(out.contains("bound: _doctor"), "{out}");
    assert!(out.contains("_doctor: function"), "{out}");
}

/// fish completes from the script non-interactively: `complete -C` prints the candidates for
/// a command line.
#[test]
fn fish_completion_loads_and_completes() {
    require("fish", "fish");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doctor.fish");
    std::fs::write(&file, stdout(&["completions", "fish"])).unwrap();
    let script = format!(
        "source {} || exit 1; complete -C 'doctor an'; complete -C 'doctor check --for'",
        file.display()
    );
    let out = run("fish", &["--no-config", "-c", &script]);
    assert!(out.lines().any(|l| l.starts_with("analyze")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("--format")), "{out}");
}

#[test]
fn man_page_renders_with_man() {
    require("man", "man-db");
    require("groff", "groff-base");
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("doctor.1");
    std::fs::write(&page, stdout(&["man"])).unwrap();
    let out = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    for word in [
        "NAME",
        "SYNOPSIS",
        "--interval",
        "analyze",
        "watch",
        "stalk",
        "completions",
    ] {
        assert!(text.contains(word), "no {word} in\n{text}");
    }
    // groff's warnings (-ww) are the page's mistakes: none.
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn man_dir_writes_a_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let listed = stdout(&["man", "--dir", dir.path().to_str().unwrap()]);
    let check = dir.path().join("doctor-check.1");
    assert!(listed.lines().any(|l| Path::new(l) == check), "{listed}");
    let page = std::fs::read_to_string(&check).unwrap();
    assert!(page.contains("\\-\\-interval"), "{page}");

    let out = doctor()
        .args(["man", "--dir"])
        .arg(dir.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("create it first"));
}
