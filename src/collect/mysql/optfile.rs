//! MySQL option files (`my.cnf`): the syntax of `mysys/my_default.cc`, and a walk through a file
//! and the files it includes.
//!
//! Read for two readers: the client's `[client]` group (how doctor finds the server, as the
//! `mysql` client does) and the server's own groups (`[mysqld]`, `[mariadb]`, ...: what the
//! server was told, for when it cannot be asked). A server in a container reads its files in its
//! own filesystem, so the walk resolves every path under a root (`/proc/<pid>/root`).

use std::path::{Path, PathBuf};

/// A problem with an option file: the file, the line and what is wrong, never the line's text
/// (it may be a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {problem}")]
pub struct OptionFileError {
    pub file: String,
    pub line: usize,
    pub problem: String,
}

/// One meaningful line of an option file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionLine {
    Group(String),
    /// Name (lower case, `-` spelled `_`) and value (`None` for a bare `name`).
    Option(String, Option<String>),
    Include(String),
    IncludeDir(String),
}

/// Parses option-file text as `mysys/my_default.cc` does: `[group]`, `name = value`, bare
/// `name`, `#` and `;` comment lines, `#` ending an unquoted value, values in single or double
/// quotes with `\n \t \r \b \s \\ \" \'` escapes, `!include` and `!includedir`. Returns the
/// lines with their numbers (1-based), or the first bad line's number and problem.
pub fn parse_option_file(text: &str) -> Result<Vec<(usize, OptionLine)>, (usize, String)> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('!') {
            let (directive, arg) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let arg = arg.trim();
            if arg.is_empty() {
                return Err((n, format!("!{directive} needs a path")));
            }
            match directive {
                "include" => out.push((n, OptionLine::Include(arg.to_owned()))),
                "includedir" => out.push((n, OptionLine::IncludeDir(arg.to_owned()))),
                _ => return Err((n, format!("unknown directive !{directive}"))),
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(name) = rest.split_once(']').map(|(g, _)| g.trim()) else {
                return Err((n, "a group header needs a closing `]`".to_owned()));
            };
            out.push((n, OptionLine::Group(name.to_ascii_lowercase())));
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), Some(unquote(v.trim()).map_err(|p| (n, p))?)),
            None => (strip_comment(line).trim(), None),
        };
        if name.is_empty() {
            return Err((n, "an option needs a name before `=`".to_owned()));
        }
        out.push((
            n,
            OptionLine::Option(name.to_ascii_lowercase().replace('-', "_"), value),
        ));
    }
    Ok(out)
}

fn strip_comment(s: &str) -> &str {
    s.split_once('#').map_or(s, |(v, _)| v)
}

/// An option value: quoted (escapes processed, anything after the closing quote ignored up to
/// a comment) or bare (ended by `#`, trailing spaces trimmed).
fn unquote(v: &str) -> Result<String, String> {
    let mut chars = v.chars();
    let Some(q @ ('"' | '\'')) = chars.next() else {
        return Ok(strip_comment(v).trim_end().to_owned());
    };
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('b') => out.push('\u{8}'),
                Some('s') => out.push(' '),
                Some(other) => out.push(other),
                None => return Err("a quoted value ends with a lone `\\`".to_owned()),
            },
            c if c == q => return Ok(out),
            c => out.push(c),
        }
    }
    Err(format!("a value's opening {q} has no closing {q}"))
}

/// One option as the walk meets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The file as the server names it (not prefixed with the root).
    pub file: &'a str,
    pub line: usize,
    /// The group it is in, lower case (empty before the first group header).
    pub group: &'a str,
    /// Lower case, `-` spelled `_`.
    pub name: &'a str,
    pub value: Option<&'a str>,
}

/// Reads `path` (a path as the reader sees it, resolved under `root`) and the files it includes
/// (`!include`, and `!includedir`'s files ending in `.cnf` in name order), up to 10 levels deep,
/// calling `visit` with every option in order. Returns the files read, in order.
pub fn walk(
    path: &Path,
    root: &Path,
    visit: &mut dyn FnMut(Entry<'_>),
) -> Result<Vec<String>, OptionFileError> {
    let mut files = Vec::new();
    walk_into(path, root, visit, 0, &mut files)?;
    Ok(files)
}

/// `path` as seen from `root`: `/etc/my.cnf` under `/proc/42/root` is `/proc/42/root/etc/my.cnf`.
#[must_use]
pub fn under(root: &Path, path: &Path) -> PathBuf {
    match path.strip_prefix("/") {
        Ok(relative) => root.join(relative),
        Err(_) => root.join(path),
    }
}

fn walk_into(
    path: &Path,
    root: &Path,
    visit: &mut dyn FnMut(Entry<'_>),
    depth: usize,
    files: &mut Vec<String>,
) -> Result<(), OptionFileError> {
    let shown = path.display().to_string();
    let err = |line: usize, problem: String| OptionFileError {
        file: shown.clone(),
        line,
        problem,
    };
    if depth > 10 {
        return Err(err(0, "!include nested more than 10 deep".to_owned()));
    }
    let text = std::fs::read_to_string(under(root, path))
        .map_err(|e| err(0, format!("cannot read: {e}")))?;
    let lines = parse_option_file(&text).map_err(|(n, p)| err(n, p))?;
    files.push(shown.clone());
    let mut group = String::new();
    for (n, line) in lines {
        match line {
            OptionLine::Group(g) => group = g,
            OptionLine::Include(p) => walk_into(Path::new(&p), root, visit, depth + 1, files)?,
            OptionLine::IncludeDir(d) => {
                let mut included: Vec<PathBuf> = std::fs::read_dir(under(root, Path::new(&d)))
                    .map_err(|e| err(n, format!("cannot read !includedir {d}: {e}")))?
                    .flatten()
                    .map(|e| Path::new(&d).join(e.file_name()))
                    .filter(|p| p.extension().is_some_and(|x| x == "cnf"))
                    .collect();
                included.sort();
                for f in included {
                    walk_into(&f, root, visit, depth + 1, files)?;
                }
            }
            OptionLine::Option(name, value) => visit(Entry {
                file: &shown,
                line: n,
                group: &group,
                name: &name,
                value: value.as_deref(),
            }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_file_syntax() {
        let text = "# comment\n; also\n[mysqld]\nuser = mysql\n[client]\nuser=app # trailing\n\
                    password = \"p#ss w\\\"rd\"\nsocket='/tmp/my sock'\nssl\n!include /etc/x.cnf\n";
        let lines = parse_option_file(text).unwrap();
        assert_eq!(
            lines,
            vec![
                (3, OptionLine::Group("mysqld".into())),
                (4, OptionLine::Option("user".into(), Some("mysql".into()))),
                (5, OptionLine::Group("client".into())),
                (6, OptionLine::Option("user".into(), Some("app".into()))),
                (
                    7,
                    OptionLine::Option("password".into(), Some("p#ss w\"rd".into()))
                ),
                (
                    8,
                    OptionLine::Option("socket".into(), Some("/tmp/my sock".into()))
                ),
                (9, OptionLine::Option("ssl".into(), None)),
                (10, OptionLine::Include("/etc/x.cnf".into())),
            ]
        );
    }

    #[test]
    fn option_file_errors_name_the_line_not_its_text() {
        let (line, problem) = parse_option_file("[client]\npassword = \"hunter2\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(problem.contains("no closing"), "{problem}");
        assert!(!problem.contains("hunter2"));
        assert_eq!(parse_option_file("[client\n").unwrap_err().0, 1);
        assert_eq!(parse_option_file("x=1\n = 2\n").unwrap_err().0, 2);
        assert_eq!(parse_option_file("!include\n").unwrap_err().0, 1);
    }
    #[test]
    fn walk_follows_includes_under_a_root() {
        let root = tempfile::tempdir().unwrap();
        let etc = root.path().join("etc/mysql");
        std::fs::create_dir_all(etc.join("conf.d")).unwrap();
        std::fs::write(
            etc.join("my.cnf"),
            "[mysqld]\nmax_connections = 20\n!includedir /etc/mysql/conf.d/\n[client]\nport=1\n",
        )
        .unwrap();
        std::fs::write(etc.join("conf.d/b.cnf"), "[mysqld]\nwait-timeout=60\n").unwrap();
        std::fs::write(etc.join("conf.d/a.cnf"), "[mariadb]\nextra_port=3307\n").unwrap();
        std::fs::write(etc.join("conf.d/ignored.txt"), "[mysqld]\nport=9\n").unwrap();
        let mut seen = Vec::new();
        let files = walk(Path::new("/etc/mysql/my.cnf"), root.path(), &mut |e| {
            seen.push(format!(
                "{}:{} [{}] {}={}",
                e.file,
                e.line,
                e.group,
                e.name,
                e.value.unwrap_or("")
            ));
        })
        .unwrap();
        assert_eq!(
            seen,
            vec![
                "/etc/mysql/my.cnf:2 [mysqld] max_connections=20",
                "/etc/mysql/conf.d/a.cnf:2 [mariadb] extra_port=3307",
                "/etc/mysql/conf.d/b.cnf:2 [mysqld] wait_timeout=60",
                "/etc/mysql/my.cnf:5 [client] port=1",
            ]
        );
        assert_eq!(
            files,
            vec![
                "/etc/mysql/my.cnf",
                "/etc/mysql/conf.d/a.cnf",
                "/etc/mysql/conf.d/b.cnf"
            ]
        );
        let e = walk(Path::new("/etc/missing.cnf"), root.path(), &mut |_| {}).unwrap_err();
        assert!(
            e.to_string().starts_with("/etc/missing.cnf:0: cannot read"),
            "{e}"
        );
    }
}
