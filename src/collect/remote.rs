//! Collectors that talk to a service (MySQL, Docker) run on their own thread with a deadline: a
//! hung server costs at most the deadline, becomes an `error` section, and the rest of the
//! snapshot still comes out.

use super::Failure;
use super::end::End;
use crate::snapshot::Section;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A collector with a start and an end reading, run on its own thread.
pub trait Remote: Send + 'static {
    type Start: Send;
    type Data: Send + 'static;

    /// Connects and takes the start reading.
    fn begin(&mut self) -> Result<Self::Start, Failure>;

    /// Takes the end reading; `seconds` is the time between the two readings.
    fn finish(&mut self, start: Self::Start, seconds: f64) -> Result<Self::Data, Failure>;

    /// How long before the window's end `finish` should be called, for a service that answers
    /// late (the Docker engine answers stats at its own 1 s cadence); asked after `begin`.
    fn lead(&self) -> Duration {
        Duration::ZERO
    }

    /// How long after `begin` to take one cheap look in between ([`Remote::probe`]), given the
    /// window's length; `None` (the default) for none. Asked after `begin`.
    fn probe_after(&self, _window: Duration) -> Option<Duration> {
        None
    }

    /// The look in between: a collector decides there whether an expensive start reading is
    /// worth taking at all (the MySQL file waits: only on a server that writes).
    fn probe(&mut self, _start: &mut Self::Start) -> Result<(), Failure> {
        Ok(())
    }

    /// Caveats gathered while collecting (a missing privilege, a part switched off), put in the
    /// section's `notes` whatever its status.
    fn notes(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// A running remote collector.
pub struct Pending<T> {
    name: &'static str,
    started: Instant,
    rx: mpsc::Receiver<Section<T>>,
}

/// Starts `collector` now; its end reading is taken at the window's end (`lead` before it), or
/// at once when the window is ended early.
pub fn spawn<R: Remote>(name: &'static str, mut collector: R, end: End) -> Pending<R::Data> {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    let spawned = std::thread::Builder::new()
        .name(format!("doctor-{name}"))
        .spawn(move || {
            let t = Instant::now();
            let start = collector.begin();
            let read_at = Instant::now();
            let mut cost = t.elapsed();
            let result = start.and_then(|mut start| {
                let planned = end.when();
                let finish_at = planned.checked_sub(collector.lead()).unwrap_or(planned);
                let window = planned.saturating_duration_since(read_at);
                if let Some(probe_at) = collector.probe_after(window).map(|d| read_at + d)
                    && probe_at < finish_at
                {
                    end.sleep_until(probe_at);
                    let t = Instant::now();
                    collector.probe(&mut start)?;
                    cost += t.elapsed();
                }
                end.sleep_until(finish_at);
                let t = Instant::now();
                let seconds = read_at.elapsed().as_secs_f64();
                let r = collector.finish(start, seconds);
                cost += t.elapsed();
                r
            });
            // The receiver is gone when the deadline passed: nobody wants the answer any more.
            let _ =
                tx.send(super::pending::into_section(result, cost).with_notes(collector.notes()));
        });
    if let Err(e) = spawned {
        let (tx, rx2) = mpsc::channel();
        let _ = tx.send(Section::error(
            format!("cannot start the {name} collector thread: {e}"),
            Duration::ZERO,
        ));
        return Pending {
            name,
            started,
            rx: rx2,
        };
    }
    Pending { name, started, rx }
}

impl<T> Pending<T> {
    /// The section, or an `error` section if the collector has not answered by `deadline`. A
    /// thread that is still stuck is left behind; it holds no locks and dies with the process.
    pub fn wait(self, deadline: Instant) -> Section<T> {
        match self
            .rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(section) => section,
            Err(mpsc::RecvTimeoutError::Timeout) => Section::error(
                format!(
                    "{} did not answer within {:.1} s and was abandoned (server hung or overloaded?)",
                    self.name,
                    self.started.elapsed().as_secs_f64()
                ),
                self.started.elapsed(),
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => Section::error(
                format!("the {} collector crashed", self.name),
                self.started.elapsed(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for a service that never answers: the real hang (a `mysqld` stopped with SIGSTOP) is tested
    /// in the MySQL integration tests; this checks the deadline mechanism on its own.
    struct Hangs;
    impl Remote for Hangs {
        type Start = ();
        type Data = u32;
        fn begin(&mut self) -> Result<(), Failure> {
            std::thread::sleep(Duration::from_secs(60));
            Ok(())
        }
        fn finish(&mut self, (): (), _: f64) -> Result<u32, Failure> {
            Ok(1)
        }
    }

    struct Counts;
    impl Remote for Counts {
        type Start = u32;
        type Data = u32;
        fn begin(&mut self) -> Result<u32, Failure> {
            Ok(1)
        }
        fn finish(&mut self, start: u32, seconds: f64) -> Result<u32, Failure> {
            assert!(
                seconds >= 0.05,
                "end reading taken at the window's end, got {seconds}"
            );
            Ok(start + 1)
        }
    }

    /// Records when its probe ran, relative to the start reading.
    struct Probes;
    impl Remote for Probes {
        type Start = (Instant, Option<Duration>);
        type Data = Option<Duration>;
        fn begin(&mut self) -> Result<Self::Start, Failure> {
            Ok((Instant::now(), None))
        }
        fn probe_after(&self, window: Duration) -> Option<Duration> {
            Some(window / 4)
        }
        fn probe(&mut self, start: &mut Self::Start) -> Result<(), Failure> {
            start.1 = Some(start.0.elapsed());
            Ok(())
        }
        fn finish(&mut self, start: Self::Start, _: f64) -> Result<Option<Duration>, Failure> {
            Ok(start.1)
        }
    }

    #[test]
    fn probe_runs_once_between_the_readings() {
        let t = Instant::now();
        let s = spawn("probes", Probes, End::at(t + Duration::from_millis(200)))
            .wait(t + Duration::from_secs(5));
        let at = s.data.flatten().expect("the probe ran");
        assert!(
            at >= Duration::from_millis(45) && at < Duration::from_millis(200),
            "probe a quarter into the window, got {at:?}"
        );
    }

    #[test]
    fn hung_collector_becomes_an_error_at_the_deadline() {
        let t = Instant::now();
        let p = spawn("hangs", Hangs, End::at(t + Duration::from_millis(10)));
        let s = p.wait(t + Duration::from_millis(200));
        assert!(t.elapsed() < Duration::from_secs(2));
        assert_eq!(s.status, crate::snapshot::Status::Error);
        assert!(s.message.unwrap().contains("did not answer"));
    }

    #[test]
    fn collector_reads_at_both_ends_of_the_window() {
        let t = Instant::now();
        let s = spawn("counts", Counts, End::at(t + Duration::from_millis(60)))
            .wait(t + Duration::from_secs(5));
        assert_eq!(s.data, Some(2));
        assert!(t.elapsed() >= Duration::from_millis(60));
    }
}
