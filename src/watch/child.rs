//! The command a watch runs: started with its output passed through, followed until it exits.
//!
//! It runs in a process group of its own, so a Ctrl-C at the terminal reaches doctor only and
//! doctor passes it on once ([`signal_pid`]); in the terminal's group, k6 would get it twice
//! (from the terminal and from doctor) and take the second as "abort now, no summary". The
//! command can still write to the terminal; one that reads from it would be stopped
//! (SIGTTIN), which load generators do not do.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// Why the command could not be started.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot run `{program}`: {source}; check the command after `--` (is it installed and on PATH?)"
)]
pub struct SpawnError {
    program: String,
    source: std::io::Error,
}

/// The running command.
pub struct Child {
    child: std::process::Child,
    status: Option<i32>,
}

/// The shell's convention for an exit status: the code, or 128 + the signal that ended it.
#[must_use]
pub fn status_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// Sends `sig` to process `pid` (best effort: it may have exited already).
pub fn signal_pid(pid: i32, sig: Signal) {
    let _ = kill(Pid::from_raw(pid), sig);
}

impl Child {
    /// Starts `argv` (program first) with doctor's standard input, output and error.
    pub fn spawn(argv: &[String]) -> Result<Child, SpawnError> {
        let (program, args) = argv.split_first().ok_or_else(|| SpawnError {
            program: String::new(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "no command"),
        })?;
        let child = Command::new(program)
            .args(args)
            .process_group(0)
            .spawn()
            .map_err(|source| SpawnError {
                program: program.clone(),
                source,
            })?;
        Ok(Child {
            child,
            status: None,
        })
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Its exit status, once it has exited.
    pub fn exited(&mut self) -> Option<i32> {
        if self.status.is_none()
            && let Ok(Some(s)) = self.child.try_wait()
        {
            self.status = Some(status_code(s));
        }
        self.status
    }

    /// Passes `sig` on to the command (while it runs).
    pub fn signal(&mut self, sig: Signal) {
        if self.exited().is_none() {
            signal_pid(self.pid(), sig);
        }
    }

    /// Waits up to `limit` for the command to exit, then kills it (SIGKILL) and reaps it.
    pub fn wait_or_kill(&mut self, limit: Duration) -> Option<i32> {
        let until = Instant::now() + limit;
        while self.exited().is_none() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
        if self.exited().is_none() {
            let _ = self.child.kill();
            if let Ok(s) = self.child.wait() {
                self.status = Some(status_code(s));
            }
        }
        self.status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_exit_status_is_the_commands() {
        let mut c = Child::spawn(&argv(&["sh", "-c", "exit 7"])).unwrap();
        assert_eq!(c.wait_or_kill(Duration::from_secs(10)), Some(7));
    }

    #[test]
    fn a_command_ended_by_a_signal_reads_as_128_plus_it() {
        let mut c = Child::spawn(&argv(&["sleep", "30"])).unwrap();
        c.signal(Signal::SIGTERM);
        assert_eq!(c.wait_or_kill(Duration::from_secs(10)), Some(128 + 15));
    }

    #[test]
    fn a_missing_program_is_named() {
        let Err(e) = Child::spawn(&argv(&["doctor-no-such-program-here"])) else {
            panic!("spawned")
        };
        assert!(
            e.to_string()
                .starts_with("cannot run `doctor-no-such-program-here`")
        );
    }
}
