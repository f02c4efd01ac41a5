//! What installing doctor as a tool takes from its command line: the shells' completion scripts
//! (`clap_complete`) and the manual pages (`clap_mangen`), generated from `cli::Cli` itself so they
//! never drift from `--help`. `scripts/package.sh` runs these to fill the packages.

use crate::cli::Cli;
use clap::CommandFactory;
use clap_complete::Shell;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The completion script for `shell`. Built in memory: `clap_complete` panics on a failed write,
/// and a closed pipe (`doctor completions bash | head`) is not an error.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "doctor", &mut out);
    out
}

/// `doctor.1`: the options of `doctor` (those of `doctor check`) and the list of subcommands.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command()).render(&mut out)?;
    Ok(out)
}

/// One page per command into `dir`: `doctor.1`, `doctor-check.1`, `doctor-rules-list.1`, ...;
/// returns their paths, parents first.
pub fn write_man_pages(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    fn write(cmd: &clap::Command, dir: &Path, paths: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let path = clap_mangen::Man::new(cmd.clone()).generate_to(dir)?;
        paths.push(path);
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            write(sub, dir, paths)?;
        }
        Ok(())
    }
    let mut paths = Vec::new();
    write(&command(), dir, &mut paths)?;
    Ok(paths)
}

/// The command tree as the pages show it: built, so each subcommand knows its full name
/// (`doctor-rules-list`), and without clap's `help` subcommand, which has no page of its own.
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Writes `bytes` to stdout.
pub fn print(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_shell_completes_the_subcommands() {
        for shell in Shell::value_variants() {
            let text = String::from_utf8(completions(*shell)).unwrap();
            for sub in ["analyze", "watch", "stalk", "completions", "man"] {
                assert!(text.contains(sub), "{shell}: no `{sub}` in\n{text}");
            }
        }
    }

    #[test]
    fn one_page_per_command() {
        let dir = tempfile::tempdir().unwrap();
        let paths = write_man_pages(dir.path()).unwrap();
        let names: Vec<_> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for name in [
            "doctor.1",
            "doctor-check.1",
            "doctor-rules-list.1",
            "doctor-man.1",
        ] {
            assert!(names.iter().any(|n| n == name), "no {name} in {names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
        assert_eq!(names[0], "doctor.1");
        let page = std::fs::read_to_string(dir.path().join("doctor.1")).unwrap();
        assert_eq!(
            page.as_bytes(),
            man_page().unwrap(),
            "doctor man prints doctor.1"
        );
    }
}
