//! Pasted text as lines, with what a paste wraps command output in taken off: Markdown code
//! fences, block quotes and list bullets, shell and client prompts. Each line keeps its number in
//! the input, so what was and was not understood can be named by line range.

/// One line of an input, stripped of its wrapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// 1-based, in the input as given.
    pub no: usize,
    pub text: &'a str,
    /// A Markdown fence (```` ``` ```` or `~~~`, with or without a language): it separates
    /// outputs and is part of no output itself.
    pub fence: bool,
}

impl Line<'_> {
    /// Nothing on it (or only a fence): outputs end at such lines or step over them.
    #[must_use]
    pub fn is_blank(&self) -> bool {
        self.fence || self.text.trim().is_empty()
    }
}

/// The lines of `text`, unwrapped. Never fails: any byte sequence read as UTF-8 lossily beforehand
/// is a text.
#[must_use]
pub fn lines(text: &str) -> Vec<Line<'_>> {
    text.lines()
        .enumerate()
        .map(|(i, raw)| {
            let text = unwrap(raw.strip_suffix('\r').unwrap_or(raw));
            let t = text.trim_start();
            let fence = t.starts_with("```") || t.starts_with("~~~");
            Line {
                no: i + 1,
                text,
                fence,
            }
        })
        .collect()
}

/// Block quotes (`> `), one list bullet (`- `, `* `, `+ `, `1. `) and one prompt (`$ `, `# `
/// only before a command word, `mysql> `, `MariaDB [db]> `, the client's `    -> `) are taken
/// off the front. Indentation inside what remains is kept: `netstat -s` indents its lines, and
/// tables keep their columns.
fn unwrap(mut s: &str) -> &str {
    loop {
        let t = s.trim_start();
        if let Some(rest) = t.strip_prefix('>') {
            s = rest.strip_prefix(' ').unwrap_or(rest);
            continue;
        }
        break;
    }
    let t = s.trim_start();
    for bullet in ["- ", "* ", "+ "] {
        if let Some(rest) = t.strip_prefix(bullet) {
            s = rest;
            break;
        }
    }
    if let Some(rest) = numbered_item(s.trim_start()) {
        s = rest;
    }
    let t = s.trim();
    // A whole line of inline code, as a bullet quotes a line of output: `` `3008 times ...` ``.
    if t.len() > 2 && t.starts_with('`') && t.ends_with('`') && !t.starts_with("``") {
        let inner = &t[1..t.len() - 1];
        if !inner.contains('`') {
            s = inner;
        }
    }
    let t = s.trim_start();
    if let Some(rest) = t.strip_prefix("$ ") {
        return rest;
    }
    if let Some(rest) = t
        .strip_prefix("mysql> ")
        .or_else(|| t.strip_prefix("    -> "))
    {
        return rest;
    }
    if t.starts_with("MariaDB [") || t.starts_with("mysql [") {
        if let Some(end) = t.find("]> ") {
            return &t[end + 3..];
        }
    }
    if let Some(rest) = t.strip_prefix("-> ") {
        return rest;
    }
    s
}

/// `1. text` → `text` (a Markdown numbered list item).
fn numbered_item(s: &str) -> Option<&str> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 3 {
        return None;
    }
    s[digits..].strip_prefix(". ")
}

/// Consecutive line numbers as ranges: `[3, 4, 5, 9]` → `[(3, 5), (9, 9)]`.
#[must_use]
pub fn ranges(numbers: impl IntoIterator<Item = usize>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for n in numbers {
        match out.last_mut() {
            Some((_, end)) if *end + 1 == n => *end = n,
            _ => out.push((n, n)),
        }
    }
    out
}

/// A recorded output of `tests/import/samples/`, for the parsers' tests.
#[cfg(test)]
pub(crate) fn sample(name: &str) -> String {
    let path = format!("{}/tests/import/samples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_is_taken_off_and_numbers_kept() {
        let text = "intro\r\n> - `3008 times the listen queue of a socket overflowed`\n```bash\n\
                    $ netstat -s | grep -i listen\n    TcpExt:\nmysql> SHOW GLOBAL STATUS;\n\
                    MariaDB [shop]> SELECT 1;\n2. second item\n```";
        let got: Vec<(usize, &str, bool)> = lines(text)
            .iter()
            .map(|l| (l.no, l.text, l.fence))
            .collect();
        assert_eq!(
            got,
            [
                (1, "intro", false),
                (
                    2,
                    "3008 times the listen queue of a socket overflowed",
                    false
                ),
                (3, "```bash", true),
                (4, "netstat -s | grep -i listen", false),
                (5, "    TcpExt:", false),
                (6, "SHOW GLOBAL STATUS;", false),
                (7, "SELECT 1;", false),
                (8, "second item", false),
                (9, "```", true),
            ]
        );
    }

    #[test]
    fn table_borders_and_indentation_survive() {
        let text = "+------+\n| a    |\n    ListenOverflows: 3";
        let got: Vec<&str> = lines(text).iter().map(|l| l.text).collect();
        assert_eq!(got, ["+------+", "| a    |", "    ListenOverflows: 3"]);
    }

    #[test]
    fn ranges_join_consecutive_numbers() {
        assert_eq!(ranges([3, 4, 5, 9]), [(3, 5), (9, 9)]);
        assert!(ranges([]).is_empty());
    }
}
