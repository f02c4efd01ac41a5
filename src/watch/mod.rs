//! `doctor watch`: a whole load test recorded, and the moment it goes wrong.
//!
//! [`record`] takes one snapshot over the run with a series sampled every `--every` beside it
//! ([`series`] bounds it), running the command ([`child`]) and catching Ctrl-C ([`signals`]);
//! [`timeline`] reads the recording back (when each finding held, the load [`plateau`]) with
//! the rules evaluated per window on [`view`]s of it; [`chart`] draws it (`--chart`); [`exit`]
//! is the exit status rule.

pub mod chart;
pub mod child;
pub mod exit;
pub mod plateau;
pub mod record;
pub mod series;
pub mod signals;
pub mod timeline;
pub mod view;
