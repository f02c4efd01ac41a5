//! `doctor watch`'s exit status, an API a CI job gates on.
//!
//! - Interrupted by SIGINT or SIGTERM: 128 + the signal (130, 143), as a shell reports a
//!   command a signal ended; the report printed is partial.
//! - Otherwise, a finding at or above `--fail-on`: 1, doctor's own code (the run is the
//!   problem whatever the load generator thought).
//! - Otherwise the command's status (0 without a command): a k6 threshold that failed still
//!   fails the job when doctor found nothing to add.

/// The exit status of a watch; `doctor` is what `doctor check` would exit with on the same
/// report (0, or 1 for a finding at or above `--fail-on`).
#[must_use]
pub fn status(signal: Option<i32>, command: Option<i32>, doctor: u8) -> u8 {
    if let Some(sig) = signal {
        return (128 + sig).clamp(0, 255) as u8;
    }
    if doctor != 0 {
        return doctor;
    }
    command.map_or(0, |c| c.clamp(0, 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_rule() {
        // Nothing found: the command's status passes through.
        assert_eq!(status(None, Some(0), 0), 0);
        assert_eq!(status(None, Some(99), 0), 99);
        // Something found at --fail-on: doctor's 1, whatever the command said.
        assert_eq!(status(None, Some(0), 1), 1);
        assert_eq!(status(None, Some(99), 1), 1);
        // Interrupted: 128 + the signal, found or not.
        assert_eq!(status(Some(2), Some(0), 1), 130);
        assert_eq!(status(Some(15), None, 0), 143);
        // No command: doctor's status alone.
        assert_eq!(status(None, None, 0), 0);
        assert_eq!(status(None, None, 1), 1);
        // Out of range codes are clamped, never wrapped into 0.
        assert_eq!(status(None, Some(300), 0), 255);
    }
}
