//! Reading a saved snapshot back, with errors a user can act on.

use super::{SCHEMA_VERSION, Snapshot};
use std::path::{Path, PathBuf};

/// Why a snapshot file could not be read. Each variant names the file and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is empty: expected a snapshot written by `doctor snapshot`")]
    Empty { path: PathBuf },
    #[error("{path}: line {line}, column {column}: {problem}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        problem: String,
    },
    #[error("{path}: not a doctor snapshot: the top level must be an object with a `schema` field")]
    NotASnapshot { path: PathBuf },
    #[error(
        "{path}: snapshot schema version {found} is not supported (this doctor reads version {SCHEMA_VERSION}); \
         re-record it with this doctor or use the doctor that wrote it"
    )]
    Version { path: PathBuf, found: String },
    #[error("{path}: at `{field}`: {problem}")]
    Invalid {
        path: PathBuf,
        field: String,
        problem: String,
    },
}

/// Reads and validates a snapshot file.
pub fn load(path: &Path) -> Result<Snapshot, LoadError> {
    let text = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    from_json(&text, path)
}

/// Parses snapshot JSON; `path` is only used in error messages.
pub fn from_json(text: &[u8], path: &Path) -> Result<Snapshot, LoadError> {
    let path = path.to_owned();
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(LoadError::Empty { path });
    }
    // Two steps: syntax first (serde_json reports line and column), then the structure (reported
    // as a field path), so a truncated file and a wrong field both say exactly where.
    let value: serde_json::Value = serde_json::from_slice(text).map_err(|e| LoadError::Syntax {
        path: path.clone(),
        line: e.line(),
        column: e.column(),
        problem: syntax_problem(&e),
    })?;
    let Some(schema) = value.as_object().and_then(|o| o.get("schema")) else {
        return Err(LoadError::NotASnapshot { path });
    };
    if schema.as_u64() != Some(u64::from(SCHEMA_VERSION)) {
        return Err(LoadError::Version {
            path,
            found: schema.to_string(),
        });
    }
    serde_path_to_error::deserialize(value).map_err(|e| LoadError::Invalid {
        path,
        field: e.path().to_string(),
        problem: e.into_inner().to_string(),
    })
}

fn syntax_problem(e: &serde_json::Error) -> String {
    let text = e.to_string();
    // serde_json appends " at line L column C", which the error already says.
    let text = text.split(" at line ").next().unwrap_or(&text).to_owned();
    if e.is_eof() {
        format!("{text} (the file is truncated)")
    } else {
        text
    }
}
