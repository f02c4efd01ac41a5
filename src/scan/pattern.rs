//! Log patterns are data: one TOML file per pattern, built in from `rules/logs/` and added with
//! `--patterns DIR`. Each file is validated once, at start-up: it parses, its regex compiles, its
//! sample lines match and its counter-examples do not; a problem names the file, the line and
//! what is wrong, the way cargo-deny reports a bad config.
//!
//! ```toml
//! id = "mysql-queue-limit"              # unique, lower-case, digits and '-'
//! category = "db-pool-exhausted"        # what rules test: logs.categories['db-pool-exhausted']
//! regex = 'Queue limit reached\.'       # Rust regex over bytes, one line at a time
//! meaning = "What it means and what to do."
//! samples = ["Error: Queue limit reached."]   # real lines; each must match
//! not_samples = ["..."]                 # optional: lines that must not match
//!
//! [[source]]                            # where the message text is defined
//! library = "mysql2"
//! url = "https://github.com/sidorares/node-mysql2/blob/master/lib/base/pool.js"
//! code = "BasePool._getConnection: new Error('Queue limit reached.')"
//! ```
//!
//! The regex is Rust `regex` syntax run over bytes with Unicode classes off: `.` matches any byte
//! but a newline (so non-UTF-8 lines match too), `(?i)` folds ASCII only, and non-ASCII text
//! matches its UTF-8 bytes. A pattern is fast when every match must contain a literal of 4 or
//! more bytes (all built-in ones do; the scanner searches for those first); any other pattern
//! still works, more slowly, and the `logs` section notes it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// `(name, contents)` of `rules/logs/<id>.toml` for each id, embedded at build time.
macro_rules! embed {
    ($($id:literal),* $(,)?) => {
        &[$((
            concat!("rules/logs/", $id, ".toml"),
            include_str!(concat!("../../rules/logs/", $id, ".toml")),
        )),*]
    };
}

/// The built-in pattern files, sorted by name. A file added to `rules/logs/` must be listed here
/// too: the catalogue test compares this list with the folder.
pub const EMBEDDED: &[(&str, &str)] = embed![
    "cannot-assign-requested-address",
    "connection-reset-by-peer",
    "go-sql-bad-connection",
    "hikaricp-connection-timeout",
    "kernel-oom-kill",
    "knex-acquire-timeout",
    "mysql-aborted-connection-error",
    "mysql-aborted-connection-timeout",
    "mysql-no-connections-available",
    "mysql-queue-limit",
    "mysql-server-gone-away",
    "mysql-too-many-connections",
    "mysql2-closed-state",
    "nf-conntrack-table-full",
    "nginx-no-live-upstreams",
    "nginx-upstream-timed-out",
    "nginx-worker-connections",
    "node-econnrefused",
    "node-econnreset",
    "node-etimedout",
    "node-mysql-connection-lost",
    "pg-pool-connect-timeout",
    "postgres-too-many-clients",
    "prisma-pool-timeout",
    "sequelize-acquire-timeout",
    "sqlalchemy-queuepool-timeout",
    "too-many-open-files",
    "typeorm-obtain-connection",
];

/// Where a pattern's message text comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The library or program that writes the message.
    pub library: String,
    /// The source file (or manual page) where the text is defined.
    pub url: String,
    /// The function or constant, with the text as written there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// One validated pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub id: String,
    pub category: String,
    pub regex: String,
    pub meaning: String,
    pub samples: Vec<String>,
    pub not_samples: Vec<String>,
    pub sources: Vec<Source>,
    /// The file it came from (`rules/logs/x.toml` for built-in ones).
    pub file: String,
    /// The compiled regex (bytes, Unicode off: `.` matches any byte, so non-UTF-8 lines match too).
    pub(crate) compiled: regex::bytes::Regex,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    id: Spanned<String>,
    category: Spanned<String>,
    regex: Spanned<String>,
    meaning: String,
    samples: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    not_samples: Vec<Spanned<String>>,
    #[serde(default, rename = "source")]
    sources: Vec<Source>,
}

/// A pattern file that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("{file}:{line}:{column}: {problem}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        problem: String,
    },
    #[error("cannot read pattern directory {path}: {problem}")]
    Dir { path: String, problem: String },
}

/// Line and column (1-based) of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

fn invalid(file: &str, text: &str, offset: usize, problem: impl Into<String>) -> PatternError {
    let (line, column) = position(text, offset);
    PatternError::Invalid {
        file: file.to_owned(),
        line,
        column,
        problem: problem.into(),
    }
}

/// Compiles a regex the way the scanner runs it.
pub(crate) fn compile(re: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(re)
        .unicode(false)
        .size_limit(1 << 20)
        .build()
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

/// Parses and checks one pattern file.
pub fn parse(file: &str, text: &str) -> Result<Pattern, PatternError> {
    let raw: File = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        invalid(file, text, offset, e.message().trim_end().to_owned())
    })?;
    for (field, value) in [("id", &raw.id), ("category", &raw.category)] {
        if !valid_name(value.get_ref()) {
            return Err(invalid(
                file,
                text,
                value.span().start,
                format!(
                    "{field} `{}` must be lower-case letters, digits and '-'",
                    value.get_ref()
                ),
            ));
        }
    }
    let compiled = compile(raw.regex.get_ref()).map_err(|e| {
        invalid(
            file,
            text,
            raw.regex.span().start,
            format!("the regex does not compile: {e}"),
        )
    })?;
    if compiled.is_match(b"") {
        return Err(invalid(
            file,
            text,
            raw.regex.span().start,
            "the regex matches an empty line, so it would count every line",
        ));
    }
    if raw.samples.get_ref().is_empty() {
        return Err(invalid(
            file,
            text,
            raw.samples.span().start,
            "give at least one real sample line the pattern must match",
        ));
    }
    for s in raw.samples.get_ref() {
        if !compiled.is_match(s.get_ref().as_bytes()) {
            return Err(invalid(
                file,
                text,
                s.span().start,
                format!("the regex does not match this sample: {:?}", s.get_ref()),
            ));
        }
        if s.get_ref().contains('\n') {
            return Err(invalid(
                file,
                text,
                s.span().start,
                "a sample is one log line; it cannot contain a newline",
            ));
        }
    }
    for s in &raw.not_samples {
        if compiled.is_match(s.get_ref().as_bytes()) {
            return Err(invalid(
                file,
                text,
                s.span().start,
                format!(
                    "the regex matches this line it must not match: {:?}",
                    s.get_ref()
                ),
            ));
        }
    }
    Ok(Pattern {
        id: raw.id.into_inner(),
        category: raw.category.into_inner(),
        regex: raw.regex.into_inner(),
        meaning: raw.meaning.trim().to_owned(),
        samples: raw
            .samples
            .into_inner()
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        not_samples: raw
            .not_samples
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        sources: raw.sources,
        file: file.to_owned(),
        compiled,
    })
}

/// The built-in patterns plus every `*.toml` in `dirs`, checked for duplicate ids.
pub fn load(dirs: &[impl AsRef<Path>]) -> Result<Vec<Pattern>, PatternError> {
    let mut patterns = Vec::new();
    for (name, text) in EMBEDDED {
        patterns.push(parse(name, text)?);
    }
    for dir in dirs {
        let dir = dir.as_ref();
        let dir_error = |e: std::io::Error| PatternError::Dir {
            path: dir.display().to_string(),
            problem: e.to_string(),
        };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(dir_error)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(PatternError::Dir {
                path: dir.display().to_string(),
                problem: "it holds no *.toml pattern file".into(),
            });
        }
        for path in files {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| PatternError::Invalid {
                file: name.clone(),
                line: 1,
                column: 1,
                problem: format!("cannot read: {e}"),
            })?;
            patterns.push(parse(&name, &text)?);
        }
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for p in &patterns {
        if let Some(first) = seen.insert(&p.id, &p.file) {
            return Err(PatternError::Invalid {
                file: p.file.clone(),
                line: 1,
                column: 1,
                problem: format!(
                    "id `{}` is already used by {first}; every pattern needs its own id",
                    p.id
                ),
            });
        }
    }
    Ok(patterns)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "demo-pool"
category = "db-pool-exhausted"
regex = 'pool is full'
meaning = "demo"
samples = ["Error: pool is full"]
"#;

    fn err(text: &str) -> String {
        parse("demo.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn a_good_file_parses() {
        let p = parse("demo.toml", GOOD).unwrap();
        assert_eq!(p.id, "demo-pool");
        assert!(p.compiled.is_match(b"x pool is full y"));
    }

    #[test]
    fn malformed_files_name_file_line_and_problem() {
        let e = err(
            "id = \"x\"\ncategory = \"c\"\nregex = 'a('\nmeaning = \"m\"\nsamples = [\"a(\"]\n",
        );
        assert!(
            e.starts_with("demo.toml:3:9: the regex does not compile"),
            "{e}"
        );

        let e = err(&GOOD.replace("Error: pool is full", "nothing here"));
        assert!(e.starts_with("demo.toml:6:"), "{e}");
        assert!(e.contains("does not match this sample"), "{e}");

        let e = err(&GOOD.replace("meaning", "meanin"));
        assert!(e.starts_with("demo.toml:5:"), "{e}");
        assert!(e.contains("unknown field `meanin`"), "{e}");

        let e = err(&GOOD.replace("samples = [\"Error: pool is full\"]", ""));
        assert!(e.contains("missing field `samples`"), "{e}");

        let e = err(&GOOD.replace("\"demo-pool\"", "\"Demo Pool\""));
        assert!(e.starts_with("demo.toml:2:6: id `Demo Pool`"), "{e}");

        let e = err("id = \"x\"\nregex = [\n");
        assert!(e.starts_with("demo.toml:"), "{e}");

        let e = err(&GOOD.replace("'pool is full'", "'(pool is full)?'"));
        assert!(
            e.starts_with("demo.toml:4:9: the regex matches an empty line"),
            "{e}"
        );

        let e = err(&format!("{GOOD}not_samples = [\"the pool is full now\"]\n"));
        assert!(e.contains("must not match"), "{e}");
    }

    #[test]
    fn extra_directories_add_patterns_and_duplicates_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("demo.toml"), GOOD).unwrap();
        let all = load(&[dir.path()]).unwrap();
        assert_eq!(all.len(), EMBEDDED.len() + 1);

        std::fs::write(
            dir.path().join("dup.toml"),
            GOOD.replace("demo-pool", "mysql-queue-limit"),
        )
        .unwrap();
        let e = load(&[dir.path()]).unwrap_err().to_string();
        assert!(e.contains("dup.toml"), "{e}");
        assert!(
            e.contains("already used by rules/logs/mysql-queue-limit.toml"),
            "{e}"
        );

        let e = load(&[dir.path().join("missing")]).unwrap_err().to_string();
        assert!(e.starts_with("cannot read pattern directory"), "{e}");
    }
}
