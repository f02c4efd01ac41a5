//! The rule engine: `Snapshot + Rules → Analysis`, a pure function.
//!
//! Rules are data (`rules/*.toml`, embedded at build time, extendable with `--rules DIR`). They are
//! read and validated once ([`rules`]), their CEL expressions compiled once ([`compile`]), then
//! evaluated against a snapshot ([`eval`], which sees the snapshot through [`view`]) and the firing ones ranked ([`rank`]). Nothing here
//! reads the machine: the only I/O is reading a `--rules` folder.
//!
//! A rule that cannot be evaluated — a section it needs was skipped or failed, or a field it reads
//! is missing — is *not checked*, with the reason. It is never counted as fine.

mod class;
pub mod compile;
pub mod eval;
mod expr;
#[cfg(test)]
mod group_tests;
mod outcome;
pub mod rank;
pub mod rules;
pub mod view;

pub use class::{Kind, Layer, Severity};
pub use compile::{Catalogue, Rule};
pub use eval::analyze;
pub use outcome::{
    Analysis, Evidence, Finding, GroupOutcome, GroupStatus, NotChecked, PartlyChecked, Unchecked,
};
pub use rules::RuleError;

use std::io::Write;

/// `doctor rules explain ID`: the rule's documentation, then how it decides, as written.
pub fn explain(rule: &Rule, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{} — {}", rule.id, rule.title)?;
    writeln!(
        out,
        "layer: {}, kind: {}, from {}{}",
        rule.layer.as_str(),
        rule.kind.as_str(),
        rule.path,
        if rule.builtin { " (built in)" } else { "" }
    )?;
    if !rule.requires.is_empty() {
        writeln!(
            out,
            "{}needs the sections: {}",
            if rule.grouped {
                "every evidence group "
            } else {
                ""
            },
            rule.requires.join(", ")
        )?;
    }
    if !rule.explains.is_empty() {
        writeln!(out, "explains: {}", rule.explains.join(", "))?;
    }
    writeln!(
        out,
        "severity: critical from score {}, warning from {}, info below",
        eval::fmt_number(rule.thresholds.critical),
        eval::fmt_number(rule.thresholds.warning)
    )?;
    writeln!(out)?;
    match &rule.doc {
        Some(doc) => writeln!(out, "{}", doc.trim_end())?,
        None => writeln!(
            out,
            "(no documentation: add {}.md beside the rule file)",
            rule.id
        )?,
    }
    writeln!(out)?;
    writeln!(out, "## How it decides (CEL over the snapshot's fields)")?;
    writeln!(out)?;
    for (name, e) in &rule.lets {
        writeln!(out, "let {name} = {}", e.source)?;
    }
    if rule.grouped {
        writeln!(
            out,
            "fires when any of its {} evidence groups fires; the strongest firing group gives the \
             score, and its summary and fix when it has its own",
            rule.groups.len()
        )?;
        for g in &rule.groups {
            writeln!(out)?;
            write!(out, "from \"{}\"", g.name)?;
            let sections: Vec<&str> = rule
                .requires
                .iter()
                .chain(&g.requires)
                .map(String::as_str)
                .collect();
            if !sections.is_empty() {
                write!(out, " (needs the sections: {})", sections.join(", "))?;
            }
            writeln!(out, ":")?;
            for (name, e) in &g.lets {
                writeln!(out, "  let {name} = {}", e.source)?;
            }
            writeln!(out, "  when: {}", g.when.source)?;
            writeln!(out, "  score: {}", g.score.source)?;
            if !g.evidence.is_empty() {
                writeln!(out, "  evidence:")?;
                evidence(&g.evidence, "    ", out)?;
            }
            texts(g.summary.as_ref(), g.fix.as_ref(), "  ", out)?;
        }
        writeln!(out)?;
        if !rule.evidence.is_empty() {
            writeln!(out, "evidence (whenever it fires):")?;
            evidence(&rule.evidence, "  ", out)?;
        }
    } else {
        for g in &rule.groups {
            writeln!(out, "when: {}", g.when.source)?;
            writeln!(out, "score: {}", g.score.source)?;
        }
        writeln!(out, "evidence:")?;
        evidence(&rule.evidence, "  ", out)?;
    }
    texts(rule.summary.as_ref(), rule.fix.as_ref(), "", out)
}

fn evidence(
    evidence: &[compile::EvidenceDef],
    pad: &str,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for e in evidence {
        write!(out, "{pad}- {}: {}", e.label, e.expr.source)?;
        if let Some(t) = &e.threshold {
            write!(out, "  [{t}]")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn texts(
    summary: Option<&compile::Template>,
    fix: Option<&compile::Template>,
    pad: &str,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if let Some(summary) = summary {
        writeln!(out, "{pad}summary: {}", summary.source.trim())?;
    }
    if let Some(fix) = fix {
        writeln!(out, "{pad}fix:")?;
        for line in fix.source.trim_end().lines() {
            writeln!(out, "{pad}  {line}")?;
        }
    }
    Ok(())
}
