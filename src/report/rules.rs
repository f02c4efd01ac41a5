//! The rules as `doctor rules list` and `doctor rules explain ID` print them.

use crate::engine::compile::{EvidenceDef, Template};
use crate::engine::eval::fmt_number;
use crate::engine::{Catalogue, Rule};
use std::io::Write;

/// `doctor rules list`: one line per rule, id, layer, kind and title.
pub fn list(rules: &Catalogue, out: &mut dyn Write) -> std::io::Result<()> {
    let width = rules.rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in &rules.rules {
        writeln!(
            out,
            "{:<width$}  {:<9} {:<10} {}",
            r.id,
            r.layer.as_str(),
            r.kind.as_str(),
            r.title
        )?;
    }
    Ok(())
}

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
        fmt_number(rule.thresholds.critical),
        fmt_number(rule.thresholds.warning)
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
    texts(rule.summary.as_ref(), rule.fix.as_ref(), "", out)?;
    if !rule.notes.is_empty() {
        writeln!(out)?;
        writeln!(out, "## Notes from the check at load")?;
        writeln!(out)?;
        for n in &rule.notes {
            writeln!(out, "- {}{n}", if n.warning { "warning: " } else { "" })?;
        }
    }
    Ok(())
}

fn evidence(evidence: &[EvidenceDef], pad: &str, out: &mut dyn Write) -> std::io::Result<()> {
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
    summary: Option<&Template>,
    fix: Option<&Template>,
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
