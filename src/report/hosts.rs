//! The report of several hosts analysed together (`doctor analyze app.json db.json`): one
//! ranking of every host's findings, each naming its host, which host's app uses which host's
//! database, what the clocks say, then each host's own figures and collectors.

use super::contents::{Collector, Report};
use super::table::{self, Color, Unfired};
use crate::engine::hosts::{self, ClockNote, DatabaseLink, Host};
use crate::engine::{Catalogue, Figure, Finding, NotChecked, PartlyChecked, Severity};
use crate::snapshot::{HostFacts, Imported, NamedSnapshot, Window};
use schemars::JsonSchema;
use serde::Serialize;
use std::io::Write;

/// Its JSON form is `--format json` with several hosts; `doctor schema --report-hosts` prints
/// its schema.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HostsReport {
    pub doctor_version: String,
    /// Each host's facts, window, collectors and headline figures, in the order given.
    pub hosts: Vec<HostPart>,
    /// Which host's application uses which host's MySQL server, and how doctor knows. A cause
    /// on the database's host explains an application's wait on its app host only through
    /// one of these.
    pub databases: Vec<DatabaseLink>,
    /// Each pair of hosts: clock skew where measurable, and how far apart the windows were.
    pub clocks: Vec<ClockNote>,
    /// Every host's firing rules ranked together; each finding and each piece of its evidence
    /// names its host, and `explains`/`explained_by` are `id@host`.
    pub findings: Vec<Finding>,
    /// Rules that no host could check, per host.
    pub not_checked: Vec<NotChecked>,
    pub partly_checked: Vec<PartlyChecked>,
    /// Rules checked on at least one host and firing on none.
    pub passed: Vec<String>,
    /// Each host's own report, for the renderers (its findings are in the joint ranking).
    #[serde(skip)]
    #[schemars(skip)]
    reports: Vec<Report>,
}

/// One host's part of the report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HostPart {
    pub name: String,
    pub host: HostFacts,
    pub window: Window,
    pub collectors: Vec<Collector>,
    pub headline: Vec<Figure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported: Option<Imported>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<crate::watch::timeline::Run>,
}

impl HostsReport {
    #[must_use]
    pub fn new(hosts: &[NamedSnapshot], catalogue: &Catalogue) -> HostsReport {
        let inputs: Vec<Host<'_>> = hosts
            .iter()
            .map(|h| Host {
                name: &h.name,
                snapshot: &h.snapshot,
            })
            .collect();
        let analysis = hosts::analyze(catalogue, &inputs);
        let reports: Vec<Report> = hosts
            .iter()
            .zip(analysis.per_host)
            .map(|(h, a)| Report::of(&h.snapshot, catalogue, a))
            .collect();
        HostsReport {
            doctor_version: env!("CARGO_PKG_VERSION").to_owned(),
            hosts: hosts
                .iter()
                .zip(&reports)
                .map(|(h, r)| HostPart {
                    name: h.name.clone(),
                    host: r.host.clone(),
                    window: r.window.clone(),
                    collectors: r.collectors.clone(),
                    headline: r.headline.clone(),
                    imported: r.imported.clone(),
                    run: r.run.clone(),
                })
                .collect(),
            databases: analysis.databases,
            clocks: analysis.clocks,
            findings: analysis.findings,
            not_checked: analysis.not_checked,
            partly_checked: analysis.partly_checked,
            passed: analysis.passed,
            reports,
        }
    }

    /// Each host's name and its own report (its findings ranked on that host alone).
    pub fn host_reports(&self) -> impl Iterator<Item = (&str, &Report)> {
        self.hosts
            .iter()
            .map(|h| h.name.as_str())
            .zip(&self.reports)
    }

    #[must_use]
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    fn names(&self) -> String {
        self.hosts
            .iter()
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Said when nothing fired on any host.
    #[must_use]
    pub fn healthy_line(&self) -> String {
        let mut line = format!(
            "no bottleneck found on {} hosts ({}); checked: {}",
            self.hosts.len(),
            self.names(),
            if self.passed.is_empty() {
                "nothing".to_owned()
            } else {
                self.passed.join(", ")
            }
        );
        if !self.not_checked.is_empty() {
            let ids: Vec<String> = self
                .not_checked
                .iter()
                .map(|n| format!("{} on {}", n.id, n.host.as_deref().unwrap_or("?")))
                .collect();
            line.push_str("; not checked: ");
            line.push_str(&ids.join(", "));
        }
        line
    }

    fn unfired<'a>(&'a self, healthy: &'a str) -> Unfired<'a> {
        Unfired {
            findings: &self.findings,
            not_checked: &self.not_checked,
            partly_checked: &self.partly_checked,
            healthy,
        }
    }

    /// Lines about the hosts together: which app uses which database, the clocks.
    fn joint_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for d in &self.databases {
            lines.push(format!(
                "{} uses the database on {}: {}",
                d.app, d.database, d.how
            ));
        }
        if self.databases.is_empty() {
            lines.push(
                "no host's application is known to use another host's database: each host's \
                 findings are explained on that host only"
                    .to_owned(),
            );
        }
        for c in &self.clocks {
            lines.push(format!("clocks: {}", c.text));
        }
        lines
    }
}

/// The report for a terminal.
pub fn render_table(
    report: &HostsReport,
    color: Color,
    width: Option<u16>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "doctor — {} hosts: {}",
        report.hosts.len(),
        report.names()
    )?;
    for line in report.joint_lines() {
        writeln!(out, "  {line}")?;
    }
    writeln!(out)?;
    let healthy = report.healthy_line();
    table::findings_part(&report.unfired(&healthy), color, width, out)?;
    for (part, r) in report.hosts.iter().zip(&report.reports) {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            table::heading(&format!("── {} ──", part.name), color)
        )?;
        table::header(r, out)?;
        if let Some(run) = &r.run {
            writeln!(out)?;
            for line in super::run::lines(run) {
                writeln!(out, "{line}")?;
            }
        }
        table::host_part(r, color, width, out)?;
    }
    Ok(())
}

/// The report as Markdown.
pub fn render_markdown(report: &HostsReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "### doctor report: {}", report.names())?;
    writeln!(out)?;
    for line in report.joint_lines() {
        writeln!(out, "- {}", line.replace('|', "\\|"))?;
    }
    writeln!(out)?;
    let healthy = report.healthy_line();
    super::markdown::findings_part(&report.unfired(&healthy), out)?;
    for (part, r) in report.hosts.iter().zip(&report.reports) {
        writeln!(out)?;
        writeln!(out, "### {}", part.name.replace('|', "\\|"))?;
        writeln!(out)?;
        super::markdown::intro(r, out)?;
        super::markdown::host_part(r, out)?;
    }
    Ok(())
}

/// The JSON Schema of `--format json` for several hosts.
#[must_use]
pub fn json_schema() -> schemars::Schema {
    schemars::schema_for!(HostsReport)
}
