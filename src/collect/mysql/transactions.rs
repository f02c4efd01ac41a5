//! Open transactions joined with their sessions and the lock waits between them: who blocks
//! whom on a row lock, who holds the metadata lock an `ALTER TABLE` and the statements behind it
//! wait for, how long each transaction has been open. Pure, so it is unit-tested on literal rows
//! shaped like what MariaDB 10.11 answered with a real lock wait (`tests/scenarios/lab.rs`).

use super::processlist::{ProcessRow, client_host};
use crate::scan::redact::redact_sql;
use crate::snapshot::{Transaction, Transactions, round2};
use std::collections::BTreeMap;

/// One `information_schema.INNODB_TRX` row, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct TrxRow {
    pub trx_id: String,
    /// `trx_mysql_thread_id`: the session.
    pub session_id: u64,
    pub state: String,
    pub age_s: f64,
    pub lock_wait_s: Option<f64>,
    pub rows_locked: u64,
    pub rows_modified: u64,
    pub tables_locked: u64,
    pub query: Option<String>,
}

/// The `INNODB_TRX` rows doctor reads at most, oldest first.
pub const TRX_LIMIT: usize = 1000;
/// The lock-wait pairs doctor reads at most.
pub const LOCK_WAITS_LIMIT: usize = 1000;
const OLDEST: usize = 5;
const LISTED: usize = 10;
const QUERY_CHARS: usize = 200;

/// The processlist state of a session waiting for a table's metadata lock (MySQL 5.5+, MariaDB).
pub const METADATA_LOCK_STATE: &str = "Waiting for table metadata lock";

/// Row-lock waits as read: where from, and `(requesting trx_id, blocking trx_id)` pairs.
pub struct LockWaits<'a> {
    pub source: &'a str,
    pub pairs: &'a [(String, String)],
}

/// Summarises the open transactions, leaving out doctor's own session (`own_id`).
/// `history` is the history list length at the end of the window and its growth over it.
#[must_use]
pub fn summarize(
    trx: &[TrxRow],
    truncated: bool,
    waits: Option<&LockWaits<'_>>,
    procs: Option<&[ProcessRow]>,
    own_id: u64,
    history: (Option<u64>, Option<i64>),
) -> Transactions {
    let trx: Vec<&TrxRow> = trx.iter().filter(|t| t.session_id != own_id).collect();
    let session: BTreeMap<u64, &ProcessRow> = procs
        .unwrap_or_default()
        .iter()
        .map(|p| (p.id, p))
        .collect();
    let by_trx_id: BTreeMap<&str, u64> = trx
        .iter()
        .map(|t| (t.trx_id.as_str(), t.session_id))
        .collect();
    // Per session: how many wait for it, and whom it waits for.
    let mut blocking: BTreeMap<u64, u32> = BTreeMap::new();
    let mut blocked_by: BTreeMap<u64, u64> = BTreeMap::new();
    for (req, blk) in waits.map_or(&[][..], |w| w.pairs) {
        if let (Some(r), Some(b)) = (by_trx_id.get(req.as_str()), by_trx_id.get(blk.as_str())) {
            *blocking.entry(*b).or_default() += 1;
            blocked_by.entry(*r).or_insert(*b);
        }
    }

    let (mdl, longest_mdl, mdl_blocker) = metadata_lock(&trx, &session, own_id);

    let describe = |t: &TrxRow| {
        let p = session.get(&t.session_id);
        Transaction {
            session_id: t.session_id,
            state: t.state.clone(),
            age_s: round2(t.age_s.max(0.0)),
            lock_wait_s: t.lock_wait_s.map(|s| round2(s.max(0.0))),
            rows_locked: t.rows_locked,
            rows_modified: t.rows_modified,
            tables_locked: t.tables_locked,
            query: t
                .query
                .as_deref()
                .filter(|q| !q.is_empty())
                .map(|q| redact_sql(q, QUERY_CHARS)),
            user: p.map(|p| p.user.clone()),
            host: p.map(|p| client_host(&p.host).to_owned()),
            db: p.and_then(|p| p.db.clone()),
            command: p.map(|p| p.command.clone()),
            session_time_s: p.map(|p| round2(p.time_s.max(0.0))),
            blocking: blocking.get(&t.session_id).copied().unwrap_or(0),
            blocked_by: blocked_by.get(&t.session_id).copied(),
        }
    };
    // The oldest, then the blockers, then the metadata-lock blocker, each once.
    let mut picked: Vec<&TrxRow> = trx.iter().take(OLDEST).copied().collect();
    let mut blockers: Vec<&TrxRow> = trx
        .iter()
        .filter(|t| blocking.contains_key(&t.session_id))
        .copied()
        .collect();
    blockers.sort_by(|a, b| blocking[&b.session_id].cmp(&blocking[&a.session_id]));
    let extra = blockers.into_iter().chain(
        trx.iter()
            .filter(|t| Some(t.session_id) == mdl_blocker)
            .copied(),
    );
    for t in extra {
        if !picked.iter().any(|p| p.session_id == t.session_id) {
            picked.push(t);
        }
    }
    picked.truncate(LISTED);
    picked.sort_by(|a, b| {
        b.age_s
            .total_cmp(&a.age_s)
            .then(a.session_id.cmp(&b.session_id))
    });

    let is_idle = |t: &&&TrxRow| {
        session
            .get(&t.session_id)
            .is_some_and(|p| p.command == "Sleep")
    };
    Transactions {
        open: trx.len() as u32,
        truncated,
        lock_waiting: trx.iter().filter(|t| t.state == "LOCK WAIT").count() as u32,
        lock_wait_max_s: trx
            .iter()
            .filter_map(|t| t.lock_wait_s)
            .map(|s| round2(s.max(0.0)))
            .reduce(f64::max),
        idle_in_transaction: trx.iter().filter(is_idle).count() as u32,
        oldest_age_s: trx
            .iter()
            .map(|t| round2(t.age_s.max(0.0)))
            .reduce(f64::max),
        metadata_lock_waiting: mdl.len() as u32,
        metadata_lock_wait_max_s: longest_mdl.map(|w| round2(w.time_s.max(0.0))),
        metadata_lock_statement: longest_mdl
            .and_then(|w| w.info.as_deref())
            .map(|i| redact_sql(i, QUERY_CHARS)),
        metadata_lock_blocker: mdl_blocker,
        lock_waits_source: waits.map(|w| w.source.to_owned()),
        history_list_length: history.0,
        history_list_growth: history.1,
        list: picked.into_iter().map(describe).collect(),
    }
}

/// The sessions waiting for a metadata lock, the longest waiter, and the likely holder.
fn metadata_lock<'a>(
    trx: &[&TrxRow],
    session: &BTreeMap<u64, &'a ProcessRow>,
    own_id: u64,
) -> (Vec<&'a ProcessRow>, Option<&'a ProcessRow>, Option<u64>) {
    let mdl: Vec<&ProcessRow> = session
        .values()
        .filter(|p| p.id != own_id && p.state.as_deref() == Some(METADATA_LOCK_STATE))
        .copied()
        .collect();
    let longest_mdl = mdl
        .iter()
        .copied()
        .max_by(|a, b| a.time_s.total_cmp(&b.time_s).then(b.id.cmp(&a.id)));
    // The oldest transaction open since before the longest wait began (times are whole
    // seconds on both sides, hence the second of slack) and not waiting for a metadata lock
    // itself. `trx` is oldest first.
    let mdl_blocker = longest_mdl.and_then(|w| {
        trx.iter()
            .find(|t| {
                t.age_s + 1.0 >= w.time_s
                    && t.session_id != w.id
                    && !mdl.iter().any(|m| m.id == t.session_id)
            })
            .map(|t| t.session_id)
    });

    (mdl, longest_mdl, mdl_blocker)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trx(id: &str, session: u64, state: &str, age: f64, query: Option<&str>) -> TrxRow {
        TrxRow {
            trx_id: id.into(),
            session_id: session,
            state: state.into(),
            age_s: age,
            lock_wait_s: (state == "LOCK WAIT").then_some(age),
            rows_locked: 1,
            rows_modified: u64::from(state != "LOCK WAIT"),
            tables_locked: 1,
            query: query.map(str::to_owned),
        }
    }

    fn proc(
        id: u64,
        command: &str,
        time: f64,
        state: Option<&str>,
        info: Option<&str>,
    ) -> ProcessRow {
        ProcessRow {
            id,
            user: "app".into(),
            host: "10.0.0.5:51234".into(),
            db: Some("shop".into()),
            command: command.into(),
            time_s: time,
            state: state.map(str::to_owned),
            info: info.map(str::to_owned),
        }
    }

    /// What MariaDB 10.11 answered with one session idle in a transaction that updated a row
    /// and another waiting for that row (`INNODB_LOCK_WAITS`: 24 waits for 23).
    #[test]
    fn row_lock_waiter_names_its_idle_blocker() {
        let rows = [
            trx("23", 6, "RUNNING", 40.0, None),
            trx(
                "24",
                7,
                "LOCK WAIT",
                3.0,
                Some("update t set v=v+1 where id=1"),
            ),
        ];
        let procs = [
            proc(6, "Sleep", 38.0, None, None),
            proc(
                7,
                "Query",
                3.0,
                Some("Updating"),
                Some("update t set v=v+1 where id=1"),
            ),
            proc(10, "Query", 0.0, Some("starting"), Some("SHOW PROCESSLIST")),
        ];
        let pairs = [("24".to_owned(), "23".to_owned())];
        let waits = LockWaits {
            source: "information_schema.INNODB_LOCK_WAITS",
            pairs: &pairs,
        };
        let t = summarize(
            &rows,
            false,
            Some(&waits),
            Some(&procs),
            10,
            (Some(12), Some(3)),
        );
        assert_eq!((t.open, t.lock_waiting, t.idle_in_transaction), (2, 1, 1));
        assert_eq!(t.oldest_age_s, Some(40.0));
        assert_eq!(t.lock_wait_max_s, Some(3.0));
        assert_eq!(t.list[0].session_id, 6);
        assert_eq!(t.list[0].blocking, 1);
        assert_eq!(t.list[0].command.as_deref(), Some("Sleep"));
        assert_eq!(t.list[0].session_time_s, Some(38.0));
        assert_eq!(t.list[0].host.as_deref(), Some("10.0.0.5"));
        assert_eq!(t.list[1].blocked_by, Some(6));
        assert_eq!(
            t.list[1].query.as_deref(),
            Some("update t set v=v+? where id=?")
        );
        assert_eq!(t.metadata_lock_waiting, 0);
        assert_eq!(t.metadata_lock_blocker, None);
        assert_eq!(
            (t.history_list_length, t.history_list_growth),
            (Some(12), Some(3))
        );
    }

    /// An ALTER waits for the metadata lock of a table an idle transaction read; a SELECT waits
    /// behind the ALTER. The blocker is the transaction open since before the ALTER.
    #[test]
    fn metadata_lock_blocker_is_the_transaction_older_than_the_wait() {
        let rows = [
            trx("421", 5, "RUNNING", 30.0, None),
            trx("422", 9, "RUNNING", 2.0, None),
        ];
        let procs = [
            proc(5, "Sleep", 29.0, None, None),
            proc(
                8,
                "Query",
                20.0,
                Some(METADATA_LOCK_STATE),
                Some("ALTER TABLE t ADD COLUMN z INT DEFAULT 7"),
            ),
            proc(
                9,
                "Query",
                2.0,
                Some(METADATA_LOCK_STATE),
                Some("SELECT * FROM t WHERE id = 5"),
            ),
        ];
        let t = summarize(&rows, false, None, Some(&procs), 99, (None, None));
        assert_eq!(t.metadata_lock_waiting, 2);
        assert_eq!(t.metadata_lock_wait_max_s, Some(20.0));
        assert_eq!(
            t.metadata_lock_statement.as_deref(),
            Some("ALTER TABLE t ADD COLUMN z INT DEFAULT ?")
        );
        assert_eq!(t.metadata_lock_blocker, Some(5));
        assert_eq!(t.lock_waits_source, None);
        assert_eq!(t.list.len(), 2);
    }

    /// A transaction younger than the wait cannot hold the lock the wait is for; with none
    /// older, no blocker is named rather than a wrong one.
    #[test]
    fn no_blocker_named_without_an_older_transaction() {
        let rows = [trx("7", 5, "RUNNING", 3.0, None)];
        let procs = [proc(
            8,
            "Query",
            20.0,
            Some(METADATA_LOCK_STATE),
            Some("ALTER TABLE t ENGINE=InnoDB"),
        )];
        let t = summarize(&rows, false, None, Some(&procs), 99, (None, None));
        assert_eq!(t.metadata_lock_waiting, 1);
        assert_eq!(t.metadata_lock_blocker, None);
    }

    #[test]
    fn nothing_open() {
        let t = summarize(&[], false, None, Some(&[]), 1, (Some(0), Some(0)));
        assert_eq!(t.open, 0);
        assert_eq!(t.oldest_age_s, None);
        assert!(t.list.is_empty());
    }

    /// The five oldest are listed, and a blocker younger than them is added.
    #[test]
    fn lists_the_oldest_and_every_blocker() {
        let mut rows: Vec<TrxRow> = (0..8)
            .map(|i| trx(&i.to_string(), 100 + i, "RUNNING", 100.0 - i as f64, None))
            .collect();
        rows.push(trx("50", 50, "LOCK WAIT", 1.0, Some("UPDATE t SET v = 1")));
        let pairs = [("50".to_owned(), "7".to_owned())];
        let waits = LockWaits {
            source: "performance_schema.data_lock_waits",
            pairs: &pairs,
        };
        let t = summarize(&rows, false, Some(&waits), None, 1, (None, None));
        let ids: Vec<u64> = t.list.iter().map(|x| x.session_id).collect();
        assert_eq!(ids, [100, 101, 102, 103, 104, 107]);
        assert_eq!(t.list[5].blocking, 1);
        assert_eq!(t.list[5].user, None);
    }
}
