//! SIGINT and SIGTERM during a watch end the run instead of doctor: the report of what was
//! recorded still comes out, said to be partial.
//!
//! The two signals are blocked in every doctor thread (the mask is inherited by the threads
//! started after [`Signals::catch`]) and taken by one thread waiting in `sigwait`, so no
//! signal handler (and no `unsafe`) is needed. The watched command must not inherit the mask
//! (the standard library's spawn keeps it, and a blocked SIGTERM never reaches `sleep`), so it
//! is started before the signals are caught (`record::start_command`); in the microseconds
//! between, a Ctrl-C still ends doctor the default way. A second signal while the report is
//! being prepared ends doctor at once, after passing it on to the command.

use nix::sys::signal::{SigSet, Signal};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

/// The signals caught, and the command's pid to pass a second one on to.
#[derive(Debug, Clone)]
pub struct Signals {
    got: Arc<AtomicI32>,
    child: Arc<AtomicI32>,
}

impl Signals {
    /// Blocks SIGINT and SIGTERM in this thread and starts the thread that waits for them.
    /// Call it before any other thread is started, or those threads would still take them.
    pub fn catch() -> std::io::Result<Signals> {
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.add(Signal::SIGTERM);
        set.thread_block().map_err(std::io::Error::from)?;
        let signals = Signals {
            got: Arc::new(AtomicI32::new(0)),
            child: Arc::new(AtomicI32::new(0)),
        };
        let shared = signals.clone();
        std::thread::Builder::new()
            .name("doctor-signals".into())
            .spawn(move || {
                while let Ok(sig) = set.wait() {
                    let first = shared.got.compare_exchange(
                        0,
                        sig as i32,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    );
                    if first.is_err() {
                        let pid = shared.child.load(Ordering::SeqCst);
                        if pid > 0 {
                            super::child::signal_pid(pid, sig);
                        }
                        eprintln!("doctor: second {sig}: stopping now, without the report");
                        std::process::exit(128 + sig as i32);
                    }
                }
            })?;
        Ok(signals)
    }

    /// The first signal received, if any.
    pub fn received(&self) -> Option<Signal> {
        Signal::try_from(self.got.load(Ordering::SeqCst)).ok()
    }

    /// Tells the waiting thread which process a second signal goes to.
    pub fn set_child(&self, pid: i32) {
        self.child.store(pid, Ordering::SeqCst);
    }
}
