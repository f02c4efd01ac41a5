//! What became of a server whose connection dropped during the window: gone, restarted, or
//! still up and only doctor's connection closed. A mysqld killed by the OOM killer and brought
//! back by systemd is a cause of a slow backend in its own right (every pool reconnects, the
//! buffer pool starts cold), so the section says which of the three it saw instead of a bare
//! "connection failed".
//!
//! One reconnection is tried, with the collector's own connect and read timeouts, and one
//! `SHOW GLOBAL STATUS LIKE 'Uptime'` read; nothing else is asked of a server that just came
//! back.

use super::connect;
use super::settings::Target;
use crate::collect::Failure;
use mysql::prelude::Queryable;
use std::path::Path;
use std::time::Duration;

/// Whether `e` means the connection itself is gone (the server closed it, crashed or was
/// killed), rather than a statement failing on a live connection or a timeout.
pub fn is_lost(e: &mysql::Error) -> bool {
    use mysql::Error;
    use mysql_common::proto::codec::error::PacketCodecError;
    match e {
        Error::IoError(io) | Error::CodecError(PacketCodecError::Io(io)) => !matches!(
            io.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        // Server shutdown in progress; connection killed (MariaDB); gone away; lost during
        // query (the client-side codes, in case a driver reports them as server errors).
        Error::MySqlError(m) => matches!(m.code, 1053 | 1927 | 2006 | 2013),
        _ => false,
    }
}

/// What the window's start reading knew: the server's `Uptime`, and when it was read.
pub struct Before {
    pub uptime_s: Option<u64>,
    pub at: std::time::Instant,
}

/// How much shorter than the time since the start reading a server's `Uptime` must be to say
/// it restarted: both readings are whole seconds, cut down (up to 1 s), and each took a moment
/// to read.
const SLACK_S: f64 = 1.5;

/// The section's error once the connection was lost with `e`: reconnects once to tell a server
/// that is gone from one that restarted from one that only closed doctor's connection.
pub fn explain(
    target: &Target,
    e: &mysql::Error,
    before: &Before,
    timeouts: (Duration, Duration),
    error_log: Option<&Path>,
) -> Failure {
    let (ct, rt) = timeouts;
    let at = &target.endpoint;
    let why = connect::describe(e, rt);
    let look = match error_log {
        Some(p) => format!(
            "its error log ({}, scanned in the logs section)",
            p.display()
        ),
        None => "its error log".to_owned(),
    };
    let uptime_now = match connect::connect(target, ct, rt) {
        Err(c) => {
            return Failure::Error(format!(
                "the server at {at} went away during the window ({why}) and does not accept \
                 connections now ({}): it stopped, crashed or was killed. {look}, `dmesg` (an \
                 OOM kill) and `journalctl -u mariadb -u mysql` say which",
                c.message
            ));
        }
        Ok(mut conn) => uptime(&mut conn),
    };
    // Up for less time than has passed since the window's start reading: it started since.
    let since = before.at.elapsed().as_secs_f64();
    let restarted = match (uptime_now, before.uptime_s) {
        (Some(now), Some(then)) => (now as f64) + SLACK_S < then as f64 + since,
        (Some(now), None) => (now as f64) + SLACK_S < since,
        (None, _) => false,
    };
    match uptime_now {
        Some(now) if restarted => Failure::Error(format!(
            "the server at {at} restarted during the window: doctor's connection was lost \
             ({why}) and the server answering now has been up {now} s{}. Its counters \
             started again, so this window has no rates and its buffer pool is cold; run \
             doctor again once it has warmed up. Why it restarted: {look}, `dmesg` (an OOM \
             kill), `journalctl -u mariadb -u mysql`",
            before
                .uptime_s
                .map(|u| format!(" (it had been up {u} s when the window began)"))
                .unwrap_or_default()
        )),
        Some(now) => Failure::Error(format!(
            "the server at {at} closed doctor's connection during the window ({why}) but is \
             still up (for {now} s, no restart): a `KILL` by an administrator or a tool, or a \
             `wait_timeout` shorter than the window; run doctor again"
        )),
        None => Failure::Error(format!(
            "the server at {at} closed doctor's connection during the window ({why}); it \
             accepts connections again but did not say how long it has been up"
        )),
    }
}

fn uptime(conn: &mut mysql::Conn) -> Option<u64> {
    let row: Option<(String, String)> = conn
        .query_first("SHOW GLOBAL STATUS LIKE 'Uptime'")
        .ok()
        .flatten();
    row.and_then(|(_, v)| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn lost_connections_are_told_from_timeouts_and_statement_errors() {
        let io = |k| mysql::Error::IoError(io::Error::new(k, "x"));
        assert!(is_lost(&io(io::ErrorKind::UnexpectedEof)));
        assert!(is_lost(&io(io::ErrorKind::ConnectionReset)));
        assert!(is_lost(&io(io::ErrorKind::BrokenPipe)));
        assert!(!is_lost(&io(io::ErrorKind::WouldBlock)));
        assert!(!is_lost(&io(io::ErrorKind::TimedOut)));
    }
}
