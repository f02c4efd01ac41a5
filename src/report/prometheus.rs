//! The report as Prometheus metrics (`--format prometheus`, `--textfile DIR`): the text
//! exposition format 0.0.4, as `node_exporter`'s textfile collector reads it.
//!
//! Series never appear and vanish between runs: every rule of the catalogue has a series in
//! every family, 0 when it did not fire. A rule's severity is decided when it fires, so
//! `doctor_finding` has one series per rule *and severity level* (info, warning, critical), 1 at
//! the level it fired with and 0 at the others: the label sets stay the same run after run and
//! `doctor_finding{severity="critical"} == 1` is the alert. Label values are only rule ids,
//! layers, severities, collector names and statuses, the version and host names, never evidence
//! text (which would make a new series for every observed value). No sample carries a timestamp:
//! `node_exporter` refuses a textfile that has one
//! (<https://github.com/prometheus/node_exporter#textfile-collector>); when doctor last ran is
//! the value of `doctor_last_run_timestamp_seconds` instead.
//!
//! Format: <https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format>.

use super::contents::Report;
use crate::engine::{Catalogue, Severity};
use crate::snapshot::{Overhead, Status};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

/// Severity levels, lowest first: each rule has one `doctor_finding` series per level.
const LEVELS: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

/// Collector statuses: each collector has one `doctor_collector_status` series per status.
const STATUSES: [Status; 3] = [Status::Ok, Status::Skipped, Status::Error];

/// One host's part of the metrics: its report, and the snapshot's own cost.
pub struct HostMetrics<'a> {
    /// The `host` label, in a report of several hosts; none for one host (`node_exporter`'s
    /// `instance` names it).
    pub host: Option<&'a str>,
    pub report: &'a Report,
    pub overhead: &'a Overhead,
}

/// How one rule came out on one host.
#[derive(Default, Clone, Copy)]
struct RuleState {
    fired: Option<(Severity, f64)>,
    not_checked: bool,
    partly_checked: bool,
}

/// Each rule's state in `report`, by id; a rule of the catalogue the report does not mention
/// counts as not checked (it was not evaluated).
fn states<'a>(report: &'a Report, rules: &'a Catalogue) -> BTreeMap<&'a str, RuleState> {
    let mut states: BTreeMap<&str, RuleState> = rules
        .rules
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                RuleState {
                    not_checked: true,
                    ..RuleState::default()
                },
            )
        })
        .collect();
    for f in &report.findings {
        states.insert(
            &f.id,
            RuleState {
                fired: Some((f.severity, f.score)),
                ..RuleState::default()
            },
        );
    }
    for id in &report.passed {
        states.insert(id, RuleState::default());
    }
    for p in &report.partly_checked {
        states.insert(
            &p.id,
            RuleState {
                partly_checked: true,
                ..RuleState::default()
            },
        );
    }
    for n in &report.not_checked {
        states.insert(
            &n.id,
            RuleState {
                not_checked: true,
                ..RuleState::default()
            },
        );
    }
    states
}

/// A label value escaped as the format asks: backslash, double quote and line feed.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A sample value: Go's float syntax for what is not finite.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{v}")
    }
}

/// Writes the metrics families; `hosts` has one entry per host (several only for a report of
/// several hosts, each then labelled `host`).
pub fn render(
    hosts: &[HostMetrics<'_>],
    rules: &Catalogue,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut text = String::with_capacity(64 * 1024);
    // Writing to a String fails only when a `Display` impl does, and none here does.
    write_families(&mut text, hosts, rules).map_err(std::io::Error::other)?;
    out.write_all(text.as_bytes())
}

/// A family's HELP and TYPE lines (every family here is a gauge: each value is what the last
/// run saw).
fn family(text: &mut String, name: &str, help: &str) -> std::fmt::Result {
    writeln!(text, "# HELP {name} {help}")?;
    writeln!(text, "# TYPE {name} gauge")
}

/// One sample: `name{labels} value`, labels in the order given, values escaped, no timestamp.
fn sample(text: &mut String, name: &str, labels: &[(&str, &str)], value: f64) -> std::fmt::Result {
    text.push_str(name);
    if !labels.is_empty() {
        text.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            write!(text, "{k}=\"{}\"", escape(v))?;
        }
        text.push('}');
    }
    writeln!(text, " {}", number(value))
}

fn bool_value(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// The labels of one sample: the host's first when there is one.
fn with_host<'a>(host: Option<&'a str>, rest: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    host.map(|h| ("host", h))
        .into_iter()
        .chain(rest.iter().copied())
        .collect()
}

#[allow(clippy::too_many_lines)] // one block per family, read top to bottom like the output
fn write_families(
    text: &mut String,
    hosts: &[HostMetrics<'_>],
    rules: &Catalogue,
) -> std::fmt::Result {
    let per_host: Vec<BTreeMap<&str, RuleState>> =
        hosts.iter().map(|h| states(h.report, rules)).collect();
    let layer = |id: &str| rules.get(id).map_or("unknown", |r| r.layer.as_str());

    family(
        text,
        "doctor_finding",
        "1 when the rule fired at this severity, 0 otherwise. Every rule has one series per \
         severity level (info, warning, critical) so that label sets stay the same from run to \
         run; at most one of a rule's three is 1. 0 also when the rule could not be checked \
         (see doctor_rule_not_checked).",
    )?;
    for (h, states) in hosts.iter().zip(&per_host) {
        for (id, s) in states {
            for level in LEVELS {
                let fired = s.fired.is_some_and(|(sev, _)| sev == level);
                sample(
                    text,
                    "doctor_finding",
                    &with_host(
                        h.host,
                        &[
                            ("rule", id),
                            ("severity", level.as_str()),
                            ("layer", layer(id)),
                        ],
                    ),
                    bool_value(fired),
                )?;
            }
        }
    }

    family(
        text,
        "doctor_finding_score",
        "How strong the evidence of a firing rule is, 0 to 100; 0 when the rule did not fire.",
    )?;
    for (h, states) in hosts.iter().zip(&per_host) {
        for (id, s) in states {
            sample(
                text,
                "doctor_finding_score",
                &with_host(h.host, &[("rule", id)]),
                s.fired.map_or(0.0, |(_, score)| score),
            )?;
        }
    }

    family(
        text,
        "doctor_rule_not_checked",
        "1 when the rule could not be evaluated at all (a source missing or skipped): its 0 in \
         doctor_finding does not mean fine.",
    )?;
    for (h, states) in hosts.iter().zip(&per_host) {
        for (id, s) in states {
            sample(
                text,
                "doctor_rule_not_checked",
                &with_host(h.host, &[("rule", id)]),
                bool_value(s.not_checked),
            )?;
        }
    }

    family(
        text,
        "doctor_rule_partly_checked",
        "1 when the rule found nothing in the evidence it could evaluate while some of its \
         evidence groups could not be evaluated (doctor_rule_not_checked is 0 then).",
    )?;
    for (h, states) in hosts.iter().zip(&per_host) {
        for (id, s) in states {
            sample(
                text,
                "doctor_rule_partly_checked",
                &with_host(h.host, &[("rule", id)]),
                bool_value(s.partly_checked),
            )?;
        }
    }

    family(
        text,
        "doctor_collector_ok",
        "1 when the collector read its source, 0 when it was skipped or failed \
         (doctor_collector_status says which).",
    )?;
    for h in hosts {
        for c in &h.report.collectors {
            sample(
                text,
                "doctor_collector_ok",
                &with_host(h.host, &[("collector", &c.name)]),
                bool_value(c.status == Status::Ok),
            )?;
        }
    }

    family(
        text,
        "doctor_collector_status",
        "1 for the collector's status (ok, skipped: not asked for or no such source here, \
         error: reading failed), 0 for the other two.",
    )?;
    for h in hosts {
        for c in &h.report.collectors {
            for status in STATUSES {
                sample(
                    text,
                    "doctor_collector_status",
                    &with_host(
                        h.host,
                        &[("collector", &c.name), ("status", status.as_str())],
                    ),
                    bool_value(c.status == status),
                )?;
            }
        }
    }

    family(
        text,
        "doctor_last_run_timestamp_seconds",
        "When the sampling window ended, in seconds since the Unix epoch: alert when it is old.",
    )?;
    for h in hosts {
        let w = &h.report.window;
        sample(
            text,
            "doctor_last_run_timestamp_seconds",
            &with_host(h.host, &[]),
            (w.start_unix_ms as f64 + w.elapsed_ms) / 1000.0,
        )?;
    }

    family(
        text,
        "doctor_window_seconds",
        "How long the sampling window was (rates are over this length).",
    )?;
    for h in hosts {
        sample(
            text,
            "doctor_window_seconds",
            &with_host(h.host, &[]),
            h.report.window.elapsed_ms / 1000.0,
        )?;
    }

    family(
        text,
        "doctor_overhead_cpu_seconds",
        "CPU time (user and system, all threads) doctor used to take the snapshot.",
    )?;
    for h in hosts {
        sample(
            text,
            "doctor_overhead_cpu_seconds",
            &with_host(h.host, &[]),
            h.overhead.cpu_ms / 1000.0,
        )?;
    }

    family(
        text,
        "doctor_overhead_max_rss_bytes",
        "Peak resident memory of the doctor process that took the snapshot.",
    )?;
    for h in hosts {
        sample(
            text,
            "doctor_overhead_max_rss_bytes",
            &with_host(h.host, &[]),
            h.overhead.max_rss_bytes as f64,
        )?;
    }

    family(
        text,
        "doctor_build_info",
        "Always 1; the doctor version that evaluated the rules.",
    )?;
    sample(
        text,
        "doctor_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape("two\nlines"), "two\\nlines");
        assert_eq!(escape("db-1.example"), "db-1.example");
    }

    #[test]
    fn numbers_use_go_syntax() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(72.5), "72.5");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn samples_and_labels() {
        let mut text = String::new();
        sample(&mut text, "m", &[("rule", "a"), ("host", "x\"y")], 1.0).unwrap();
        sample(&mut text, "n", &[], 0.5).unwrap();
        assert_eq!(text, "m{rule=\"a\",host=\"x\\\"y\"} 1\nn 0.5\n");
    }
}
