//! A host collector between its two readings, and its result as a section with what it cost.

use super::failure::Failure;
use crate::snapshot::{Section, round_ms};
use std::time::{Duration, Instant};

/// A collector between its two readings: the start state (or why there is none) and the time
/// spent so far.
pub struct Pending<S> {
    pub state: Result<S, Failure>,
    cost: Duration,
}

impl<S> Pending<S> {
    pub fn begin(read: impl FnOnce() -> Result<S, Failure>) -> Self {
        let t = Instant::now();
        let state = read();
        Pending {
            state,
            cost: t.elapsed(),
        }
    }

    /// Lets the collector sample during the window; the sample's time counts as its cost.
    pub fn tick(&mut self, sample: impl FnOnce(&mut S)) {
        if let Ok(s) = &mut self.state {
            let t = Instant::now();
            sample(s);
            self.cost += t.elapsed();
        }
    }

    pub fn finish<T>(self, read: impl FnOnce(S) -> Result<T, Failure>) -> Section<T> {
        let t = Instant::now();
        let result = self.state.and_then(read);
        into_section(result, self.cost + t.elapsed())
    }
}

/// A collector's result and what it cost, as its section.
pub fn into_section<T>(result: Result<T, Failure>, cost: Duration) -> Section<T> {
    match result {
        Ok(data) => Section::ok(data, cost),
        Err(Failure::Skipped(m)) => Section {
            elapsed_ms: round_ms(cost),
            ..Section::skipped(m)
        },
        Err(Failure::Error(m)) => Section::error(m, cost),
    }
}
