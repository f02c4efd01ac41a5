//! What the collector leaves out when the server refuses a part: a missing privilege, another
//! server error, or a dead connection that ends the whole collection.

use super::connect;
use crate::collect::Failure;

/// Parts left out, and why.
#[derive(Default)]
pub(super) struct Parts {
    pub(super) missing: Vec<String>,
    pub(super) notes: Vec<String>,
}

impl Parts {
    /// Records an optional part that failed: a missing privilege leaves it out (named in
    /// `missing_privileges`), another server error leaves it out with the message, and a dead
    /// connection or hung server ends the whole collection.
    pub(super) fn left_out(
        &mut self,
        what: &str,
        privilege: &str,
        e: &mysql::Error,
        read_timeout: std::time::Duration,
    ) -> Result<(), Failure> {
        let why = connect::describe(e, read_timeout);
        if is_fatal(e) {
            return Err(Failure::Error(format!("{what} failed: {why}")));
        }
        if is_denied(e) {
            // One note per privilege: three performance_schema tables denied is one fact.
            if !self.missing.iter().any(|p| p == privilege) {
                self.missing.push(privilege.to_owned());
                self.notes.push(format!(
                    "{what} left out: the account lacks {privilege} ({why})"
                ));
            }
        } else {
            self.notes.push(format!("{what} left out: {why}"));
        }
        Ok(())
    }
}

/// The connection is gone or the server stopped answering: nothing more can be read.
pub(super) fn is_fatal(e: &mysql::Error) -> bool {
    matches!(
        e,
        mysql::Error::IoError(_) | mysql::Error::CodecError(_) | mysql::Error::DriverError(_)
    ) || matches!(e, mysql::Error::TlsError(_))
}

/// "Access denied" for a table, a database or a global privilege (server error codes 1044,
/// 1142, 1143, 1227, 1370).
fn is_denied(e: &mysql::Error) -> bool {
    matches!(e, mysql::Error::MySqlError(m) if matches!(m.code, 1044 | 1142 | 1143 | 1227 | 1370))
}
