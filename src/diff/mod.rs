//! `doctor diff A B`: what differs between two snapshots that matters for performance — the
//! diary's "why 500 requests/s on the laptop and 150 on the server?" — on one screen. Both sides
//! are analysed with the same catalogue (`engine::analyze`); the differences are ranked findings
//! first, then the configuration most likely to explain them, then load.
//!
//! Pure: two snapshots and a catalogue in, a [`Diff`] out; `render` writes it.

mod config;
mod findings;
mod hosts;
mod load;
mod model;
mod render;

pub use config::ConfigChange;
pub use findings::{FindingChange, Holds};
pub use hosts::{
    HostsDiff, Pair, json as hosts_json, json_schema as hosts_json_schema,
    markdown as hosts_markdown, table as hosts_table,
};
pub use load::{LoadChange, Measure, Reading};
pub use model::{Diff, Equal, Side, json_schema};
pub use render::{json, markdown, table};
