//! Why a collector produced no data: the reason every section that is not `ok` keeps.

/// Why a collector produced no data.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The source does not exist here or was switched off: not an error, but nothing to show.
    #[error("{0}")]
    Skipped(String),
    #[error("{0}")]
    Error(String),
}

impl Failure {
    /// A failed read of `path`, worded so the user knows what was read.
    pub fn io(path: &str, e: &std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::NotFound {
            Failure::Skipped(format!("{path} does not exist on this kernel"))
        } else {
            Failure::Error(format!("cannot read {path}: {e}"))
        }
    }
}

/// Reads a kernel text file, mapping the error to a [`Failure`] naming the file.
pub fn read(path: &str) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::io(path, &e))
}
