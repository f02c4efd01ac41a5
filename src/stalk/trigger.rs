//! `--when`: what makes `doctor stalk` record, and how many checks in a row it must hold.
//!
//! A trigger is a rule of the catalogue (it holds when the rule fires on the view of the latest
//! sample) or a CEL expression over the snapshot's fields, compiled by the engine's compiler as a
//! rule of its own, so every name it reads is checked at start-up and a typo is an error naming
//! the column, never a trigger that silently never holds. Either must read a figure the sampler
//! changes between checks (`watch::view::sampled_paths`): anything else is the baseline's, the
//! same at every check, and could only hold always or never.

use crate::engine::compile::{LogNames, nearest};
use crate::engine::rules::{RuleError, Source};
use crate::engine::view::Reads;
use crate::engine::{Catalogue, eval};
use crate::snapshot::Snapshot;
use crate::watch::view;

/// The id the expression's own rule has in its one-rule catalogue.
const EXPRESSION_ID: &str = "stalk-when";
/// The line of the synthetic rule file on which the expression starts (see [`source`]).
const FIRST_LINE: usize = 9;

/// Why `--when` was refused; each message ends with what to do.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error("--when: there is no rule `{given}`{}; `doctor rules list` shows the rules, and a CEL expression works too (`cpu.busy_pct > 90.0`)", hint(.nearest.as_deref()))]
    UnknownRule {
        given: String,
        nearest: Option<String>,
    },
    #[error("--when: {0}")]
    Expression(String),
    #[error(
        "--when: {what} reads none of the figures sampled at every check (CPU use, run queue, \
         disks, TCP counters, accept queues, MySQL threads and queries, containers' CPU, --log \
         error lines), so it cannot change between checks; rules that can trigger: {}",
        .triggerable.join(", ")
    )]
    NotSampled {
        what: String,
        triggerable: Vec<String>,
    },
}

fn hint(nearest: Option<&str>) -> String {
    nearest.map_or_else(String::new, |n| format!(" (did you mean `{n}`?)"))
}

/// A compiled `--when`.
#[derive(Debug)]
pub struct Trigger {
    /// As the log shows it: the rule id, or the expression.
    pub label: String,
    /// The expression's own catalogue; `None` for a rule of the main one.
    own: Option<Catalogue>,
    subset: eval::Subset,
}

impl Trigger {
    /// Parses `when`: a rule id of `catalogue` when it looks like one (lower-case words joined
    /// by `-`, or any id the catalogue has), else a CEL expression checked against the snapshot's
    /// names (and `logs`, the log categories the run scans for).
    pub fn parse(when: &str, catalogue: &Catalogue, logs: &LogNames) -> Result<Self, TriggerError> {
        let when = when.trim();
        let sampled = view::sampled_paths();
        let reads_sampled = |reads: &Reads| {
            sampled.iter().any(|p| {
                let p: Vec<&str> = p.iter().map(String::as_str).collect();
                reads.touches(&p)
            })
        };
        let triggerable = || -> Vec<String> {
            eval::Subset::of(catalogue, &reads_sampled)
                .ids(catalogue)
                .map(str::to_owned)
                .collect()
        };
        let (trigger, what) = if catalogue.get(when).is_some() || looks_like_id(when) {
            let Some(subset) = eval::Subset::rule(catalogue, when) else {
                let ids = catalogue.rules.iter().map(|r| r.id.as_str());
                return Err(TriggerError::UnknownRule {
                    given: when.to_owned(),
                    nearest: nearest(when, ids, (when.len() / 4).max(2)).map(|(n, _)| n.to_owned()),
                });
            };
            let t = Trigger {
                label: when.to_owned(),
                own: None,
                subset,
            };
            (t, format!("rule `{when}`"))
        } else {
            let own = compile(when, logs)?;
            let Some(subset) = eval::Subset::rule(&own, EXPRESSION_ID) else {
                return Err(TriggerError::Expression(format!(
                    "`{when}` compiled to no rule (a bug: please report it)"
                )));
            };
            let t = Trigger {
                label: format!("`{when}`"),
                own: Some(own),
                subset,
            };
            (t, format!("`{when}`"))
        };
        if !reads_sampled(trigger.subset.reads()) {
            return Err(TriggerError::NotSampled {
                what,
                triggerable: triggerable(),
            });
        }
        Ok(trigger)
    }

    /// Whether the trigger holds on `view` (the baseline with the latest sample set on it);
    /// `catalogue` is the one the trigger was parsed with. A trigger that cannot be evaluated
    /// (a section missing) does not hold.
    pub fn holds(&self, catalogue: &Catalogue, view: &Snapshot) -> bool {
        let catalogue = self.own.as_ref().unwrap_or(catalogue);
        !eval::fired(catalogue, &self.subset, view).is_empty()
    }

    /// Why the trigger cannot be evaluated on `view`, if it cannot (a section it needs was not
    /// collected, an expression that is not a condition): said once at the start, since such a
    /// trigger never holds. Runs the full evaluation, with texts: not for every check.
    pub fn not_checked(&self, catalogue: &Catalogue, view: &Snapshot) -> Option<String> {
        let (catalogue, id) = match &self.own {
            Some(own) => (own, EXPRESSION_ID),
            None => (catalogue, self.label.as_str()),
        };
        eval::analyze(catalogue, view)
            .not_checked
            .into_iter()
            .find(|n| n.id == id)
            .map(|n| n.reason)
    }

    /// The sampled values the trigger reads, for the log line: `name value`, at most `max`.
    pub fn values(&self, sample: &[(String, f64)], max: usize) -> String {
        let reads = self.subset.reads();
        let shown: Vec<String> = sample
            .iter()
            .filter(|(column, _)| {
                // The run queue's column names all of `cpu` (`view::path`): shown only to a
                // trigger reading it.
                let path = view::path(column);
                if path == ["cpu"] {
                    let field = if column.ends_with("blocked") {
                        "blocked"
                    } else {
                        "run_queue"
                    };
                    ["avg", "max"]
                        .iter()
                        .any(|s| reads.touches(&["cpu", &format!("{field}_{s}")]))
                } else {
                    reads.touches(&path)
                }
            })
            .take(max)
            .map(|(column, v)| format!("{column} {}", eval::fmt_number(*v)))
            .collect();
        if shown.is_empty() {
            "no sampled value it reads".to_owned()
        } else {
            shown.join(", ")
        }
    }
}

/// Lower-case words of letters and digits joined by `-`, at least two: how rule ids look
/// (`tcp-accept-queue-overflow`); a CEL expression never does (`a-b` would be a subtraction of
/// two names no snapshot has).
fn looks_like_id(s: &str) -> bool {
    s.contains('-')
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// The expression as the one rule of a file the engine compiles: the same checks as any rule's
/// `when`, its errors placed in the expression instead of the file.
fn compile(expr: &str, logs: &LogNames) -> Result<Catalogue, TriggerError> {
    if expr.contains("'''") {
        return Err(TriggerError::Expression(
            "an expression cannot hold ''' (three quotes); use \" or ' for strings".to_owned(),
        ));
    }
    Catalogue::from_sources_with(&[source(expr)], logs).map_err(|e| match e {
        RuleError::At {
            line,
            column,
            problem,
            ..
        } if line >= FIRST_LINE => {
            let problem = problem
                .strip_prefix("`when`: ")
                .unwrap_or(&problem)
                .to_owned();
            let place = if expr.contains('\n') {
                format!("line {}, column {column}", line - FIRST_LINE + 1)
            } else {
                format!("column {column}")
            };
            TriggerError::Expression(format!("{place}: {problem}"))
        }
        RuleError::At { problem, .. } | RuleError::File { problem, .. } => {
            TriggerError::Expression(problem)
        }
        RuleError::Io { source, .. } => TriggerError::Expression(source.to_string()),
    })
}

/// The synthetic rule file; the expression starts on line [`FIRST_LINE`], column 1.
fn source(expr: &str) -> Source {
    Source {
        // The engine wants a rule's file named after its id; errors are placed without it.
        path: format!("{EXPRESSION_ID}.toml"),
        text: format!(
            "id = \"{EXPRESSION_ID}\"\ntitle = \"the --when condition\"\nlayer = \"host\"\n\
             kind = \"symptom\"\nsummary = \"--when held\"\nfix = \"-\"\nscore = \"100.0\"\nwhen = '''\n{expr}'''\n"
        ),
        doc: None,
        builtin: false,
    }
}

/// Checks in a row a trigger held: recording starts when they reach the number asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cycles {
    needed: u32,
    held: u32,
}

impl Cycles {
    #[must_use]
    pub fn new(needed: u32) -> Self {
        Cycles {
            needed: needed.max(1),
            held: 0,
        }
    }

    /// Counts one check; `true` when the trigger has now held `needed` checks in a row.
    pub fn check(&mut self, held: bool) -> bool {
        self.held = if held { self.held + 1 } else { 0 };
        self.held >= self.needed
    }

    /// Checks in a row so far.
    #[must_use]
    pub fn held(&self) -> u32 {
        self.held
    }

    /// Starts counting again (after a recording).
    pub fn reset(&mut self) {
        self.held = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue::load(None).unwrap()
    }

    fn parse(when: &str) -> Result<Trigger, TriggerError> {
        Trigger::parse(when, &catalogue(), &LogNames::builtin())
    }

    #[test]
    fn cycles_count_checks_in_a_row() {
        let mut c = Cycles::new(3);
        assert!(!c.check(true));
        assert!(!c.check(true));
        assert!(!c.check(false)); // a gap starts again
        assert_eq!(c.held(), 0);
        assert!(!c.check(true));
        assert!(!c.check(true));
        assert!(c.check(true));
        assert!(c.check(true)); // still held
        c.reset();
        assert!(!c.check(true));
        let mut one = Cycles::new(0); // at least one
        assert!(!one.check(false));
        assert!(one.check(true));
    }

    #[test]
    fn rule_ids_and_expressions_are_told_apart() {
        assert!(looks_like_id("tcp-accept-queue-overflow"));
        assert!(!looks_like_id("cpu.busy_pct > 90.0"));
        assert!(!looks_like_id("cpu"));
        assert!(!looks_like_id("a - b"));
        let rule = parse("tcp-accept-queue-overflow").unwrap();
        assert_eq!(rule.label, "tcp-accept-queue-overflow");
        assert!(rule.own.is_none());
        let expr = parse("cpu.busy_pct > 90.0").unwrap();
        assert_eq!(expr.label, "`cpu.busy_pct > 90.0`");
    }

    #[test]
    fn an_unknown_rule_suggests_the_nearest() {
        let e = parse("tcp-accept-queue-overflw").unwrap_err().to_string();
        assert!(
            e.contains(
                "no rule `tcp-accept-queue-overflw` (did you mean `tcp-accept-queue-overflow`?)"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_bad_expression_names_the_column() {
        let e = parse("cpu.busy_pctt > 90.0").unwrap_err().to_string();
        assert_eq!(
            e,
            "--when: column 5: `cpu.busy_pctt` is not in the snapshot; did you mean `cpu.busy_pct`?"
        );
        let e = parse("tcp.counters.TcpRetransSegs.per_s > ")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--when: "), "{e}");
        assert!(!e.contains("stalk-when"), "{e}");
    }

    #[test]
    fn a_trigger_must_read_a_sampled_figure() {
        let e = parse("cpu.cores > 0.0").unwrap_err().to_string();
        assert!(e.contains("cannot change between checks"), "{e}");
        assert!(e.contains("tcp-accept-queue-overflow"), "{e}");
        let c = catalogue();
        let constant = c
            .rules
            .iter()
            .map(|r| r.id.as_str())
            .find(|id| {
                matches!(
                    Trigger::parse(id, &c, &LogNames::builtin()),
                    Err(TriggerError::NotSampled { .. })
                )
            })
            .expect("some rule reads nothing sampled");
        assert!(!constant.is_empty());
    }

    #[test]
    fn a_rule_trigger_holds_when_the_rule_fires() {
        let c = catalogue();
        let t = Trigger::parse("tcp-accept-queue-overflow", &c, &LogNames::builtin()).unwrap();
        let mut snap: Snapshot =
            serde_json::from_str(include_str!("../../fixtures/accept-queue-overflow.json"))
                .unwrap();
        assert!(t.holds(&c, &snap));
        // The latest sample saw no overflow: it does not hold.
        let quiet = [("tcp.counters.TcpExtListenOverflows.per_s".to_owned(), 0.0)];
        let stats = quiet
            .iter()
            .map(|(c, v)| (c.as_str(), view::Stats::of(&[Some(*v)]).unwrap()));
        view::set_window(&mut snap, stats, 1.0);
        assert!(!t.holds(&c, &snap));
        assert_eq!(
            t.values(&quiet, 4),
            "tcp.counters.TcpExtListenOverflows.per_s 0"
        );
    }
}
