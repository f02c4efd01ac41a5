//! What the mysql client prints, as pasted: a result set in its table form (the default at a
//! terminal, and `mysqladmin`'s), its tab form (`-B`, with or without the header: `-N`) and its
//! vertical form (`\G`, `-E`); then what a result set is: `SHOW [GLOBAL] STATUS` or `VARIABLES`
//! (whole or a `LIKE` subset: two columns, `Variable_name` and `Value`) or `SHOW [FULL]
//! PROCESSLIST` (`Id`, `User`, `Host`, `db`, `Command`, `Time`, `State`, `Info`).

use super::lines::Line;
use std::borrow::Cow;

/// The three forms of a result set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Table,
    Tab,
    Vertical,
}

/// A result set as printed. Its cells borrow the pasted text (a value the vertical form spreads
/// over several lines is joined, so owned): a 10 MB paste of status dumps is read without a
/// copy of every cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultSet<'a> {
    pub form: Form,
    /// Empty when the output has no header (`-N`).
    pub columns: Vec<Cow<'a, str>>,
    pub rows: Vec<Vec<Cow<'a, str>>>,
    /// The input's line numbers it covers, first and last.
    pub lines: (usize, usize),
}

/// The result set that starts at `lines[start]`, in any form, and how many lines it took (with
/// the client's `N rows in set (0.00 sec)` after it).
#[must_use]
pub fn result_set<'a>(lines: &[Line<'a>], start: usize) -> Option<(ResultSet<'a>, usize)> {
    let (set, mut taken) = table(lines, start)
        .or_else(|| vertical(lines, start))
        .or_else(|| tab(lines, start))?;
    if let Some(next) = lines.get(start + taken) {
        let t = next.text.trim();
        if (t.ends_with(" sec)") && (t.contains(" in set") || t.contains("affected")))
            || t == "Empty set"
        {
            taken += 1;
        }
    }
    Some((set, taken))
}

/// A border line of the table form: `+----+------+`; the byte offsets of its `+`.
fn border(text: &str) -> Option<Vec<usize>> {
    let t = text.trim_end();
    if t.len() < 3 || !t.starts_with('+') || !t.ends_with('+') {
        return None;
    }
    if !t.bytes().all(|b| b == b'+' || b == b'-') || !t.contains('-') {
        return None;
    }
    Some(t.match_indices('+').map(|(i, _)| i).collect())
}

/// The table form: rows between `+---+` borders, the first row the header when a border follows
/// it. Cells are cut where the border's `+` stand, so a value holding `|` stays whole; rows
/// pasted without borders are split at ` | `.
fn table<'a>(lines: &[Line<'a>], start: usize) -> Option<(ResultSet<'a>, usize)> {
    let first = lines.get(start)?.text.trim_start();
    if !(first.starts_with('+') || first.starts_with('|')) {
        return None;
    }
    let indent = lines[start].text.len() - first.len();
    let mut cuts: Option<Vec<usize>> = None;
    let mut rows: Vec<(Vec<Cow<'a, str>>, bool)> = Vec::new(); // (cells, border after it)
    let mut end = start;
    for line in &lines[start..] {
        let text = line.text.get(indent..).unwrap_or("");
        if let Some(c) = border(text) {
            cuts.get_or_insert(c);
            if let Some(last) = rows.last_mut() {
                last.1 = true;
            }
        } else if text.starts_with('|') && text.trim_end().ends_with('|') {
            rows.push((cells(text, cuts.as_deref()), false));
        } else {
            break;
        }
        end += 1;
    }
    if rows.is_empty() {
        return None;
    }
    let width = rows[0].0.len();
    if width == 0 || rows.iter().any(|(r, _)| r.len() != width) {
        return None;
    }
    let header_first = rows.len() > 1 && rows[0].1 || looks_like_header(&rows[0].0);
    let mut rows: Vec<Vec<Cow<'a, str>>> = rows.into_iter().map(|(r, _)| r).collect();
    let columns = if header_first {
        rows.remove(0)
    } else {
        Vec::new()
    };
    Some((
        ResultSet {
            form: Form::Table,
            columns,
            rows,
            lines: (lines[start].no, lines[end - 1].no),
        },
        end - start,
    ))
}

fn cells<'a>(text: &'a str, cuts: Option<&[usize]>) -> Vec<Cow<'a, str>> {
    let text = text.trim_end();
    if let Some(cuts) = cuts.filter(|c| c.last() == Some(&(text.len() - 1))) {
        if cuts.iter().all(|&c| text.as_bytes().get(c) == Some(&b'|')) {
            return cuts
                .windows(2)
                .map(|w| Cow::Borrowed(text.get(w[0] + 1..w[1]).unwrap_or("").trim()))
                .collect();
        }
    }
    let inner = text.trim_start_matches('|').trim_end_matches('|');
    inner
        .split(" | ")
        .map(|c| Cow::Borrowed(c.trim()))
        .collect()
}

/// A header row doctor knows: `Variable_name | Value`, or a processlist's.
fn looks_like_header(row: &[Cow<'_, str>]) -> bool {
    matches!(row, [a, b] if a == "Variable_name" && b == "Value")
        || (row.iter().any(|c| c == "Id") && row.iter().any(|c| c == "Command"))
}

/// The vertical form: `*** 1. row ***` lines, each followed by `name: value` lines (names right
/// aligned; a value may run over several lines, which are joined).
fn vertical<'a>(lines: &[Line<'a>], start: usize) -> Option<(ResultSet<'a>, usize)> {
    let is_row_line = |t: &str| {
        let t = t.trim();
        t.starts_with("***") && t.ends_with("***") && t.contains(". row ***")
    };
    if !is_row_line(lines.get(start)?.text) {
        return None;
    }
    let mut columns: Vec<Cow<'a, str>> = Vec::new();
    let mut rows: Vec<Vec<Cow<'a, str>>> = Vec::new();
    let mut end = start;
    for line in &lines[start..] {
        if line.fence {
            break;
        }
        if is_row_line(line.text) {
            rows.push(Vec::new());
        } else if let Some((name, value)) = field(line.text) {
            let first = rows.len() == 1;
            let row = rows.last_mut()?;
            if first {
                columns.push(Cow::Borrowed(name));
            } else if columns.get(row.len()).map(AsRef::as_ref) != Some(name) {
                break;
            }
            row.push(Cow::Borrowed(value));
        } else if rows.last().is_some_and(|r| !r.is_empty()) && !line.text.trim().is_empty() {
            // The rest of a value that holds a newline (a statement's text).
            let row = rows.last_mut()?;
            let last = row.last_mut()?.to_mut();
            last.push('\n');
            last.push_str(line.text);
        } else {
            break;
        }
        end += 1;
    }
    if columns.is_empty() || rows.iter().any(|r| r.len() != columns.len()) {
        return None;
    }
    Some((
        ResultSet {
            form: Form::Vertical,
            columns,
            rows,
            lines: (lines[start].no, lines[end - 1].no),
        },
        end - start,
    ))
}

/// `   Host: localhost` → (`Host`, `localhost`); `Value: ` → (`Value`, an empty value).
fn field(text: &str) -> Option<(&str, &str)> {
    let (name, value) = text.split_once(':')?;
    let name = name.trim_start();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    Some((name, value.strip_prefix(' ').unwrap_or(value)))
}

/// The tab form: tab-separated lines with the same number of fields, the first the header when
/// it is one doctor knows. Two lines at least, or a header and one row: a lone `a<TAB>b` line
/// could be anything.
fn tab<'a>(lines: &[Line<'a>], start: usize) -> Option<(ResultSet<'a>, usize)> {
    let first = lines.get(start)?.text;
    if !first.contains('\t') {
        return None;
    }
    let width = first.split('\t').count();
    let mut rows: Vec<Vec<Cow<'a, str>>> = Vec::new();
    let mut end = start;
    for line in &lines[start..] {
        let fields: Vec<Cow<'a, str>> = line.text.split('\t').map(Cow::Borrowed).collect();
        if line.fence || fields.len() != width {
            break;
        }
        rows.push(fields);
        end += 1;
    }
    let columns = if looks_like_header(&rows[0]) {
        rows.remove(0)
    } else {
        Vec::new()
    };
    // Without a header, the first field must read as a name (a status or variable dump, `-N`).
    if columns.is_empty() && (rows.len() < 2 || !rows.iter().all(|r| is_name(&r[0]))) {
        return None;
    }
    if rows.is_empty() {
        return None;
    }
    Some((
        ResultSet {
            form: Form::Tab,
            columns,
            rows,
            lines: (lines[start].no, lines[end - 1].no),
        },
        end - start,
    ))
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
}

/// What a two-column `Variable_name`/`Value` result set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// `SHOW STATUS`: names start with a capital (`Threads_connected`).
    Status,
    /// `SHOW VARIABLES`: lower case (`max_connections`).
    Variables,
}

/// A `SHOW STATUS` / `SHOW VARIABLES` result set as name → value, in order, and which it is.
/// `None` for any other result set.
#[must_use]
pub fn name_values(set: &ResultSet<'_>) -> Option<(Names, Vec<(String, String)>)> {
    let two = set.columns.is_empty() && set.rows.first().is_some_and(|r| r.len() == 2)
        || matches!(set.columns.as_slice(), [a, b] if a == "Variable_name" && b == "Value");
    if !two || set.rows.is_empty() {
        return None;
    }
    if !set.rows.iter().all(|r| is_name(&r[0])) {
        return None;
    }
    let pairs: Vec<(String, String)> = set
        .rows
        .iter()
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    let capitals = pairs
        .iter()
        .filter(|(n, _)| n.starts_with(|c: char| c.is_ascii_uppercase()))
        .count();
    let names = if capitals * 2 > pairs.len() {
        Names::Status
    } else {
        Names::Variables
    };
    Some((names, pairs))
}

/// One processlist row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub id: u64,
    pub user: String,
    pub host: String,
    pub db: Option<String>,
    pub command: String,
    pub time_s: u64,
    pub state: Option<String>,
    pub info: Option<String>,
}

/// A `SHOW [FULL] PROCESSLIST` result set's rows; `None` for any other result set.
#[must_use]
pub fn processlist(set: &ResultSet<'_>) -> Option<Vec<Process>> {
    let col = |name: &str| {
        set.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    };
    let (id, user, host, command, time) = (
        col("Id")?,
        col("User")?,
        col("Host")?,
        col("Command")?,
        col("Time")?,
    );
    let (db, state, info) = (col("db"), col("State"), col("Info"));
    let text = |row: &[Cow<'_, str>], i: Option<usize>| {
        i.and_then(|i| row.get(i))
            .filter(|v| v.as_ref() != "NULL" && !v.is_empty())
            .map(ToString::to_string)
    };
    set.rows
        .iter()
        .map(|r| {
            Some(Process {
                id: r.get(id)?.parse().ok()?,
                user: r.get(user)?.to_string(),
                host: r.get(host)?.to_string(),
                db: text(r, db),
                command: r.get(command)?.to_string(),
                time_s: r.get(time)?.parse().ok()?,
                state: text(r, state),
                info: text(r, info),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::lines::{lines, sample};

    fn read(name: &str) -> (ResultSet<'static>, usize, usize) {
        let text: &'static str = Box::leak(sample(name).into_boxed_str());
        let ls = lines(text);
        let (set, n) = result_set(&ls, 0).unwrap_or_else(|| panic!("{name} is not read"));
        (set, n, ls.len())
    }

    /// The same server's SHOW GLOBAL STATUS in the table form and the tab form, recorded a moment
    /// apart: the same names in the same order, and the values of counters that cannot move
    /// between the two equal.
    /// A `\G` result set doctor does not read is left out whole, once: its later rows are not
    /// taken for the start of another (which also made a long one cost its length squared).
    #[test]
    fn an_unknown_vertical_result_set_is_one_range() {
        use std::fmt::Write as _;
        let mut text = String::from("mysql> SELECT * FROM information_schema.innodb_trx\\G\n");
        for n in 1..=3 {
            let _ = write!(
                text,
                "*************************** {n}. row ***************************\n\
                 \x20      trx_id: {n}\n    trx_state: RUNNING\n"
            );
        }
        let r = crate::import::recognise(&text);
        assert!(r.outputs.is_empty(), "{:?}", r.outputs);
        assert_eq!(r.not_understood, [(1, 10)]);
        // Its second row alone, pasted without the first, is still a result set.
        let ls = lines(&text);
        assert!(result_set(&ls[4..], 0).is_some());
    }

    #[test]
    fn status_in_table_and_tab_form_read_the_same() {
        let (table_set, n, total) = read("mariadb-status-table.txt");
        assert_eq!(n, total);
        let (tab_set, n, total) = read("mariadb-status-tab.txt");
        assert_eq!(n, total);
        let (kind_a, a) = name_values(&table_set).unwrap();
        let (kind_b, b) = name_values(&tab_set).unwrap();
        assert_eq!((kind_a, kind_b), (Names::Status, Names::Status));
        assert_eq!(
            a.iter().map(|p| &p.0).collect::<Vec<_>>(),
            b.iter().map(|p| &p.0).collect::<Vec<_>>()
        );
        assert!(a.len() > 400, "{}", a.len());
        let get = |v: &[(String, String)], k: &str| v.iter().find(|p| p.0 == k).unwrap().1.clone();
        for k in [
            "Innodb_buffer_pool_pages_total",
            "Max_used_connections",
            "Innodb_page_size",
        ] {
            assert_eq!(get(&a, k), get(&b, k), "{k}");
        }
        // A value with spaces and an empty value are kept as printed.
        assert_eq!(
            get(&a, "Innodb_buffer_pool_dump_status"),
            get(&b, "Innodb_buffer_pool_dump_status")
        );
    }

    #[test]
    fn headerless_tab_and_vertical_forms() {
        let (set, n, total) = read("mariadb-status-tab-n.txt");
        assert_eq!(n, total);
        let (kind, pairs) = name_values(&set).unwrap();
        assert_eq!(kind, Names::Status);
        assert!(pairs.iter().any(|p| p.0 == "Threads_connected"));
        let (set, n, total) = read("mariadb-status-vertical.txt");
        assert_eq!(n, total);
        let (kind, pairs) = name_values(&set).unwrap();
        assert_eq!(kind, Names::Status);
        assert!(pairs.iter().all(|p| p.0.starts_with("Innodb_buffer_pool")));
        assert!(pairs.len() > 10);
    }

    #[test]
    fn variables_are_told_from_status() {
        let (set, _, _) = read("mariadb-variables-tab.txt");
        let (kind, pairs) = name_values(&set).unwrap();
        assert_eq!(kind, Names::Variables);
        assert!(
            pairs
                .iter()
                .any(|p| p.0 == "max_connections" && p.1 == "151")
        );
        let (set, _, _) = read("mariadb-variables-like-table.txt");
        assert_eq!(
            name_values(&set).unwrap().1,
            [("max_connections".into(), "151".into())]
        );
        // An old server's table, with spaces after the last `|`.
        let (set, n, total) = read("percona/variables-table-old.txt");
        assert_eq!(n, total);
        let (kind, pairs) = name_values(&set).unwrap();
        assert_eq!(kind, Names::Variables);
        assert!(
            pairs
                .iter()
                .any(|p| p.0 == "version" && p.1 == "5.1.34-log")
        );
    }

    /// Percona Server 8.0.32's dumps as Percona Toolkit collects them (tab form, no header).
    #[test]
    fn mysql_8_dumps_in_tab_form() {
        let (set, n, total) = read("percona/mysql-8.0.32-status-tab.txt");
        assert_eq!(n, total);
        let (kind, pairs) = name_values(&set).unwrap();
        assert_eq!(kind, Names::Status);
        assert!(
            pairs
                .iter()
                .any(|p| p.0 == "Aborted_clients" && p.1 == "50")
        );
        let (set, _, _) = read("percona/mysql-8.0.32-variables-tab.txt");
        let (kind, pairs) = name_values(&set).unwrap();
        assert_eq!(kind, Names::Variables);
        assert!(pairs.iter().any(|p| p.0 == "version" && p.1 == "8.0.32-24"));
    }

    #[test]
    fn processlists_in_table_and_vertical_form() {
        let (set, n, total) = read("mariadb-processlist-table.txt");
        assert_eq!(n, total);
        let table = processlist(&set).unwrap();
        assert_eq!(table.len(), 2);
        assert_eq!(table[0].info.as_deref(), Some("SELECT SLEEP(20)"));
        assert_eq!(table[0].state.as_deref(), Some("User sleep"));
        assert_eq!(table[0].db, None);
        let (set, _, _) = read("mariadb-processlist-vertical.txt");
        let vertical = processlist(&set).unwrap();
        assert_eq!(vertical[0], table[0]);
        let (set, n, total) = read("percona/mysql-8.0.32-processlist-vertical.txt");
        assert!(n + 1 >= total, "{n} of {total}");
        let rows = processlist(&set).unwrap();
        assert_eq!(rows[0].user, "event_scheduler");
        assert_eq!(rows[0].command, "Daemon");
    }

    /// The diary's own paste: a `LIKE` subset in the table form, the statement before it.
    #[test]
    fn the_diary_s_slow_queries_table() {
        let text = "SHOW GLOBAL STATUS LIKE 'Slow_queries';\n\
                    +---------------+-------+\n\
                    | Variable_name | Value |\n\
                    +---------------+-------+\n\
                    | Slow_queries  | 0     |\n\
                    +---------------+-------+\n";
        let ls = lines(text);
        assert!(result_set(&ls, 0).is_none());
        let (set, n) = result_set(&ls, 1).unwrap();
        assert_eq!(n, 5);
        assert_eq!(set.lines, (2, 6));
        assert_eq!(
            name_values(&set).unwrap(),
            (Names::Status, vec![("Slow_queries".into(), "0".into())])
        );
    }

    #[test]
    fn a_value_holding_a_bar_stays_whole() {
        let text = "+----+----------------+\n| Id | Info           |\n+----+----------------+\n\
                    |  1 | SELECT 'a | b' |\n+----+----------------+";
        let (set, _) = result_set(&lines(text), 0).unwrap();
        assert_eq!(
            set.rows,
            [vec!["1".to_owned(), "SELECT 'a | b'".to_owned()]]
        );
    }

    #[test]
    fn text_that_is_not_a_result_set() {
        for text in [
            "a\tb",
            "| just a bar",
            "+ a plus",
            "*** not a row",
            "name: value\nother: 1",
        ] {
            assert!(result_set(&lines(text), 0).is_none(), "{text:?}");
        }
    }
}
