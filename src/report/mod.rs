//! Turning a snapshot into what the user reads. Building the [`Report`] is pure (no I/O): it runs
//! the rule engine and gathers the headline figures; the renderers write it to any `impl Write`
//! as a table, JSON, Markdown or Prometheus metrics.

mod contents;
mod hosts;
mod imported;
mod json;
mod markdown;
mod prometheus;
mod rules;
mod run;
mod sparkline;
mod table;
mod text;

pub use crate::engine::Figure;
pub use contents::{Collector, Report, json_schema};
pub use hosts::{
    HostPart, HostsReport, json_schema as hosts_json_schema,
    render_markdown as render_hosts_markdown, render_table as render_hosts_table,
};
pub use json::render as render_json;
pub use markdown::render as render_markdown;
pub use prometheus::{HostMetrics, render as render_prometheus};
pub use rules::{explain as render_rule, list as render_rules};
pub use table::{Color, render as render_table};
pub use text::{group_line, partly_line};
