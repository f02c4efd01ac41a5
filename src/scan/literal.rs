//! Required literals: for each pattern, a small set of byte strings one of which every match must
//! contain. The scanner looks for those with one multi-literal search (aho-corasick, SIMD "Teddy")
//! over whole blocks and runs the full regexes only on the few lines that contain one — the trick
//! `ripgrep` and GNU grep use to beat running a regex line by line.
//!
//! Computed from the regex's HIR (`regex-syntax`): `exact` is the finite set of strings a node can
//! match (when small), `required` a set that every match contains one of. Concatenations
//! multiply adjacent exact parts (`(read|write) ECONNRESET` → `read ECONNRESET`, `write
//! ECONNRESET`), alternations unite their branches' sets.

use regex_syntax::hir::{Class, Hir, HirKind};

/// A set larger than this is not worth it (and would overflow the SIMD searcher).
const MAX_SET: usize = 32;
/// Literals shorter than this would make most lines candidates; such a pattern is searched with its
/// regex instead.
pub const MIN_LEN: usize = 4;

type Set = Vec<Vec<u8>>;

#[derive(Debug, Default)]
struct Info {
    exact: Option<Set>,
    required: Option<Set>,
}

/// The literal set of a pattern, or `None` when it has none worth using (every literal at least
/// [`MIN_LEN`] bytes long and free of newlines, since candidates are found line by line).
pub fn required(hir: &Hir) -> Option<Set> {
    let info = walk(hir);
    let best = best([info.required, info.exact.filter(|s| score(s) > 0)])?;
    (score(&best) >= MIN_LEN && best.iter().all(|l| !l.contains(&b'\n'))).then_some(best)
}

/// How good a set is as a prefilter: the length of its shortest member (0 = useless).
fn score(set: &Set) -> usize {
    if set.is_empty() || set.len() > MAX_SET {
        return 0;
    }
    set.iter().map(Vec::len).min().unwrap_or(0)
}

fn best(candidates: impl IntoIterator<Item = Option<Set>>) -> Option<Set> {
    candidates
        .into_iter()
        .flatten()
        .filter(|s| score(s) > 0)
        .max_by(|a, b| score(a).cmp(&score(b)).then(b.len().cmp(&a.len())))
}

fn product(a: &Set, b: &Set) -> Option<Set> {
    if a.len() * b.len() > MAX_SET {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            out.push(s);
        }
    }
    dedup(out)
}

fn dedup(mut set: Set) -> Option<Set> {
    set.sort();
    set.dedup();
    (set.len() <= MAX_SET).then_some(set)
}

fn walk(hir: &Hir) -> Info {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Info {
            exact: Some(vec![Vec::new()]),
            required: None,
        },
        HirKind::Literal(lit) => Info {
            exact: Some(vec![lit.0.to_vec()]),
            required: Some(vec![lit.0.to_vec()]),
        },
        HirKind::Class(class) => Info {
            exact: class_set(class),
            required: None,
        },
        HirKind::Capture(cap) => walk(&cap.sub),
        HirKind::Repetition(rep) => {
            let sub = walk(&rep.sub);
            match (rep.min, rep.max) {
                (1, Some(1)) => sub,
                (0, Some(1)) => Info {
                    exact: sub.exact.and_then(|mut s| {
                        s.push(Vec::new());
                        dedup(s)
                    }),
                    required: None,
                },
                (0, _) => Info::default(),
                _ => Info {
                    exact: None,
                    required: best([sub.required, sub.exact]),
                },
            }
        }
        HirKind::Concat(children) => concat(children),
        HirKind::Alternation(branches) => {
            let infos: Vec<Info> = branches.iter().map(walk).collect();
            let exact = infos
                .iter()
                .map(|i| i.exact.clone())
                .collect::<Option<Vec<Set>>>()
                .and_then(|sets| dedup(sets.concat()));
            let required = infos
                .into_iter()
                .map(|i| best([i.required, i.exact]))
                .collect::<Option<Vec<Set>>>()
                .and_then(|sets| dedup(sets.concat()));
            Info { exact, required }
        }
    }
}

fn concat(children: &[Hir]) -> Info {
    let mut candidates: Vec<Option<Set>> = Vec::new();
    let mut run: Option<Set> = Some(vec![Vec::new()]);
    let mut all_exact = true;
    for child in children {
        let info = walk(child);
        let joined = match (&run, &info.exact) {
            (Some(r), Some(e)) => product(r, e),
            _ => None,
        };
        if joined.is_some() {
            run = joined;
        } else {
            all_exact = false;
            candidates.push(run.take());
            // A new run starts from this child when it is exact but did not fit the old one.
            run = info.exact.clone().or_else(|| Some(vec![Vec::new()]));
            candidates.push(info.required);
        }
    }
    let exact = if all_exact { run.clone() } else { None };
    candidates.push(run);
    Info {
        exact,
        required: best(candidates),
    }
}

/// A class of a few single bytes (`[Cc]`, `-?` parts) as the set of its members.
fn class_set(class: &Class) -> Option<Set> {
    match class {
        Class::Bytes(c) => {
            let mut out = Vec::new();
            for r in c.ranges() {
                for b in r.start()..=r.end() {
                    out.push(vec![b]);
                    if out.len() > 4 {
                        return None;
                    }
                }
            }
            Some(out)
        }
        Class::Unicode(c) => {
            let mut out = Vec::new();
            for r in c.ranges() {
                for ch in r.start()..=r.end() {
                    let mut buf = [0u8; 4];
                    out.push(ch.encode_utf8(&mut buf).as_bytes().to_vec());
                    if out.len() > 4 {
                        return None;
                    }
                }
            }
            Some(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(re: &str) -> Option<Vec<String>> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(re)
            .unwrap();
        required(&hir).map(|s| {
            s.into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect()
        })
    }

    #[test]
    fn plain_text_is_its_own_literal() {
        assert_eq!(
            lits(r"Queue limit reached\."),
            Some(vec!["Queue limit reached.".into()])
        );
    }

    #[test]
    fn alternations_before_a_literal_are_multiplied_out() {
        assert_eq!(
            lits("(read|write) ECONNRESET|Error: ECONNRESET"),
            Some(vec![
                "Error: ECONNRESET".into(),
                "read ECONNRESET".into(),
                "write ECONNRESET".into()
            ])
        );
        assert_eq!(
            lits("[Cc]onnection reset"),
            Some(vec!["Connection reset".into(), "connection reset".into()])
        );
    }

    #[test]
    fn the_longest_required_part_is_chosen() {
        assert_eq!(
            lits(
                r"Aborted connection [0-9]+ to db: .*\(Got timeout reading communication packets\)"
            ),
            Some(vec!["(Got timeout reading communication packets)".into()])
        );
        assert_eq!(
            lits("(Out of memory|Memory cgroup out of memory): Kill(ed)? process [0-9]+"),
            Some(vec![
                "Memory cgroup out of memory: Kill process ".into(),
                "Memory cgroup out of memory: Killed process ".into(),
                "Out of memory: Kill process ".into(),
                "Out of memory: Killed process ".into(),
            ])
        );
    }

    #[test]
    fn patterns_without_a_usable_literal_have_none() {
        assert_eq!(
            lits(r"[0-9]+ errors?"),
            Some(vec![" error".into(), " errors".into()])
        );
        let folded = lits(r"(?i)timeout").unwrap();
        assert!(folded.contains(&"TiMeO".to_owned()), "{folded:?}");
        assert_eq!(lits(r"a|bcdef"), None, "one branch too short");
        assert_eq!(lits(r".*"), None);
        assert_eq!(
            lits(r"(abc)?defg"),
            Some(vec!["abcdefg".into(), "defg".into()])
        );
    }
}
