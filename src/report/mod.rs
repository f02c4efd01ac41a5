//! Turning a snapshot into what the user reads. Building the [`Report`] is pure (no I/O);
//! the renderers write it to any `impl Write` as a table, JSON or Markdown.

mod headline;
mod json;
mod markdown;
mod table;

pub use headline::{Figure, headline};
pub use json::render as render_json;
pub use markdown::render as render_markdown;
pub use table::render as render_table;

use crate::snapshot::{CollectorState, Snapshot};
use serde::Serialize;

/// Everything a renderer needs, derived from one snapshot.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub host: &'a crate::snapshot::HostFacts,
    pub window: &'a crate::snapshot::Window,
    /// The headline figures per layer.
    pub headline: Vec<Figure>,
    /// How each collector fared.
    pub collectors: Vec<CollectorState<'a>>,
}

impl<'a> Report<'a> {
    #[must_use]
    pub fn new(snapshot: &'a Snapshot) -> Self {
        Report {
            host: &snapshot.host,
            window: &snapshot.window,
            headline: headline(snapshot),
            collectors: snapshot.collectors(),
        }
    }
}

/// Whether to colour the terminal output. Decided once by the caller (TTY and `NO_COLOR`), so the
/// renderers stay pure and the snapshot tests see plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Never,
    Always,
}

/// Human-readable bytes with binary units, as `free -h` prints them.
#[must_use]
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_units() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(4_005_180.0 * 1024.0), "3.8 GiB");
        assert_eq!(bytes(1536.0), "1.5 KiB");
    }
}
