//! Open InnoDB transactions and who waits on whom, at the end of the window: the evidence for
//! lock contention (row locks, a metadata lock behind an open transaction), its blocker, and
//! long transactions holding back purge.
//!
//! Read from `information_schema.INNODB_TRX` joined with the processlist doctor already reads
//! (both need `PROCESS`), the lock waits (`information_schema.INNODB_LOCK_WAITS` on MariaDB,
//! `performance_schema.data_lock_waits` on MySQL 8) and the history list length.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Transactions {
    /// Open InnoDB transactions (`INNODB_TRX` rows; doctor's own left out).
    pub open: u32,
    /// True when there were more than doctor reads (1000): the counts are of the oldest 1000.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Of those, waiting for a row lock (`trx_state` = `LOCK WAIT`).
    pub lock_waiting: u32,
    /// The longest a transaction has been waiting for its row lock, seconds; absent with none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_wait_max_s: Option<f64>,
    /// Open transactions whose session is idle (`Sleep` in the processlist): a transaction
    /// left open by the application ("idle in transaction").
    pub idle_in_transaction: u32,
    /// The age of the oldest open transaction, seconds; absent with none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_age_s: Option<f64>,
    /// Sessions waiting for a table's metadata lock (processlist state `Waiting for table
    /// metadata lock`): one `ALTER TABLE` behind an open transaction queues every statement on
    /// the table behind it.
    pub metadata_lock_waiting: u32,
    /// The longest of those waits, seconds (the processlist's `Time`); absent with none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_lock_wait_max_s: Option<f64>,
    /// The statement that has waited longest for the metadata lock, literals replaced by `?`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_lock_statement: Option<String>,
    /// The session most likely holding the metadata lock: the oldest open transaction that
    /// started before the longest metadata-lock wait and is not itself waiting for one (a
    /// transaction holds the metadata locks of every table it touched until it ends). Absent
    /// when nothing waits or no such transaction is open (the holder may then be a
    /// non-transactional statement or `LOCK TABLES`: see the processlist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_lock_blocker: Option<u64>,
    /// Where the row-lock waits were read (`information_schema.INNODB_LOCK_WAITS`,
    /// `performance_schema.data_lock_waits`); absent when they could not be (then no
    /// transaction's `blocking`/`blocked_by` is known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_waits_source: Option<String>,
    /// InnoDB's history list length at the end of the window: undo records of committed
    /// transactions that purge has not removed yet, because an open transaction's read view
    /// may still need them (MariaDB: `Innodb_history_list_length`; MySQL:
    /// `information_schema.INNODB_METRICS` `trx_rseg_history_len`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_list_length: Option<u64>,
    /// Its growth over the window (MariaDB, from the two status readings); absent where only
    /// the end value is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_list_growth: Option<i64>,
    /// The transactions that matter, oldest first, at most 10: the five oldest, then any other
    /// that blocks a row-lock waiter, then the metadata-lock blocker.
    pub list: Vec<Transaction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Transaction {
    /// The session (connection) id: `KILL <session_id>` ends the transaction (rolled back).
    pub session_id: u64,
    /// `trx_state`: `RUNNING`, `LOCK WAIT`, `ROLLING BACK`, `COMMITTING`.
    pub state: String,
    /// Seconds since the transaction started (`trx_started`).
    pub age_s: f64,
    /// Seconds it has waited for a row lock, when it waits (`trx_wait_started`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_wait_s: Option<f64>,
    /// Rows it holds locks on (`trx_rows_locked`, approximate) and has changed.
    pub rows_locked: u64,
    pub rows_modified: u64,
    /// Tables it holds locks on (`trx_tables_locked`).
    pub tables_locked: u64,
    /// The statement it runs now, literals replaced by `?`; absent when the session is idle
    /// between statements (the transaction stays open all the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The session's account, client host (port left out), default database, `COMMAND`
    /// (`Sleep`: idle in transaction) and `Time` (for `Sleep`: seconds idle), from the
    /// processlist; absent when the session was not in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_time_s: Option<f64>,
    /// Transactions waiting for a row lock this one holds or is queued for first (from the lock
    /// waits: InnoDB grants a row's locks in order, so a waiter blocks those queued behind it;
    /// the root blocker is the one with `blocking` > 0 that waits for nothing itself).
    pub blocking: u32,
    /// The session holding the row lock this one waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<u64>,
}
