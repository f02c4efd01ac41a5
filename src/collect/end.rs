//! The end of a window, which `doctor watch` may bring forward: the watched command exits, or
//! the user presses Ctrl-C. The remote collectors' threads sleep until the end and must wake
//! when it comes early, or the report would wait for the window as first planned.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

/// When a window ends: planned at `planned`, or earlier when [`End::now`] is called. Clones
/// share the same end.
#[derive(Debug, Clone)]
pub struct End {
    planned: Instant,
    /// Set (with the time) when the window was ended early.
    early: Arc<(Mutex<Option<Instant>>, Condvar)>,
}

impl End {
    #[must_use]
    pub fn at(planned: Instant) -> Self {
        End {
            planned,
            early: Arc::new((Mutex::new(None), Condvar::new())),
        }
    }

    /// The end: the planned one, or when it was brought forward.
    #[must_use]
    pub fn when(&self) -> Instant {
        let (lock, _) = &*self.early;
        lock.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unwrap_or(self.planned)
    }

    /// Ends the window now (wakes every thread sleeping in [`End::sleep_until`]).
    pub fn now(&self) {
        let (lock, cvar) = &*self.early;
        let mut early = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if early.is_none() {
            *early = Some(Instant::now().min(self.planned));
        }
        cvar.notify_all();
    }

    /// Sleeps until `until`, or until the window is ended early.
    pub fn sleep_until(&self, until: Instant) {
        let (lock, cvar) = &*self.early;
        let mut early = lock.lock().unwrap_or_else(PoisonError::into_inner);
        while early.is_none() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            early = cvar
                .wait_timeout(early, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_sleeper_wakes_when_the_window_ends_early() {
        let t = Instant::now();
        let end = End::at(t + Duration::from_secs(60));
        let other = end.clone();
        let sleeper = std::thread::spawn(move || {
            other.sleep_until(t + Duration::from_secs(60));
            t.elapsed()
        });
        std::thread::sleep(Duration::from_millis(50));
        end.now();
        let slept = sleeper.join().unwrap();
        assert!(slept < Duration::from_secs(5), "{slept:?}");
        assert!(end.when() < t + Duration::from_secs(1));
    }

    #[test]
    fn without_an_early_end_the_planned_one_holds() {
        let t = Instant::now();
        let end = End::at(t + Duration::from_millis(30));
        end.sleep_until(t + Duration::from_millis(30));
        assert!(t.elapsed() >= Duration::from_millis(30));
        assert_eq!(end.when(), t + Duration::from_millis(30));
    }
}
