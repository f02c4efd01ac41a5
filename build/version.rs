//! What `doctor --version` prints: the package version, and the commit it was built from when
//! it was built from a git checkout of doctor itself (`doctor 0.1.0 (git 1a2b3c4)`), so a report
//! pasted into an issue says which code wrote it. Outside a checkout (a source tarball, `cargo
//! install` of a published crate, no `git` on the machine) it is the package version alone:
//! the build never fails for want of git.
//!
//! Whether the work tree had uncommitted changes is not said: knowing it would mean re-running
//! the build script on every edit.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The version line's text after the name, and the files whose change means another commit
/// (for `cargo:rerun-if-changed`; only files that exist, as a missing one reruns every build).
pub fn describe(package_version: &str, manifest_dir: &Path) -> (String, Vec<PathBuf>) {
    match commit(manifest_dir) {
        Some((commit, watch)) => (format!("{package_version} (git {commit})"), watch),
        None => (package_version.to_owned(), Vec::new()),
    }
}

/// The short commit of HEAD, when `manifest_dir` is the top of a git work tree (not merely
/// inside some other repository, as an unpacked crate in a user's home under git would be).
fn commit(manifest_dir: &Path) -> Option<(String, Vec<PathBuf>)> {
    let top = git(manifest_dir, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != manifest_dir.canonicalize().ok()? {
        return None;
    }
    let commit = git(manifest_dir, &["rev-parse", "--short", "HEAD"])?;
    // HEAD names the branch; the branch's ref file (or packed-refs) changes with each commit.
    // `--git-path` resolves both for a linked work tree too, whose `.git` is a file.
    let mut watch = vec![git(manifest_dir, &["rev-parse", "--git-path", "HEAD"])?];
    if let Some(branch) = git(manifest_dir, &["symbolic-ref", "-q", "HEAD"]) {
        watch.push(git(manifest_dir, &["rev-parse", "--git-path", &branch])?);
    }
    watch.push(git(
        manifest_dir,
        &["rev-parse", "--git-path", "packed-refs"],
    )?);
    let watch = watch
        .into_iter()
        .map(|p| manifest_dir.join(p))
        .filter(|p| p.is_file())
        .collect();
    Some((commit, watch))
}

/// One line of git's output, `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let line = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !line.is_empty()).then_some(line)
}
