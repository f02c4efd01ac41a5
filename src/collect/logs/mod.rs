//! The `logs` collector: finds the files named with `--log` (globs allowed), notes each one's size
//! and identity at the window's start, and at its end scans the bounded tail of each with the
//! [`Scanner`](crate::scan::Scanner): growth during the window counts as `in_window`, the rest
//! as history ([`files`]).
//!
//! Symlinks: a path named explicitly is opened as named, symlink or not (the user chose it). A
//! glob never reaches through a symlink: an entry it matches — file or directory, anywhere after
//! the first wildcard — that is a symlink is skipped with a note, so `--log '/var/log/app/*'`
//! cannot be turned into a read of `/etc/shadow` or of another tree by a link planted there.
//! Only regular files are read (a FIFO or a device would block or never end).
//!
//! Containers' output is read by the Docker collector, which has the engine connection and the
//! list of running containers (`docker::logs`); its sources join the files' here
//! ([`FromContainers`], [`complete`]), so the section's totals cover both ([`mod@section`]).
//!
//! Rotation: a file whose inode changed during the window was rotated (renamed and recreated):
//! the new file is scanned, all of it inside the window. One that shrank was truncated (or
//! rotated by copytruncate): what it holds now is all inside the window. Both are noted.

mod files;
mod request;
mod section;

pub use files::{MAX_FILES, Scanned, Start, begin, scan};
pub use request::{DEFAULT_CONTAINER_SINCE, DEFAULT_TAIL_BYTES, Request};
pub use section::{FromContainers, LogsRead, complete, finish, section};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::Failure;
    use crate::scan::{ScanOptions, Scanner};
    use crate::snapshot::{LogSource, Logs, SourceKind, Status};
    use std::io::Write;
    use std::os::unix::fs::symlink;
    use std::path::Path;

    fn request(paths: &[&Path]) -> Request {
        Request {
            scanner: Some(Scanner::builtin().unwrap()),
            paths: paths.iter().map(|p| p.display().to_string()).collect(),
            ..Request::default()
        }
    }

    fn append(path: &Path, text: &str) {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }

    fn source<'a>(logs: &'a Logs, path: &Path) -> &'a LogSource {
        logs.sources
            .iter()
            .find(|s| s.path.as_deref() == Some(path.to_str().unwrap()))
            .unwrap_or_else(|| panic!("no source for {}: {:#?}", path.display(), logs.sources))
    }

    #[test]
    fn growth_during_the_window_counts_separately_from_history() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app.log");
        append(&app, "Error: Queue limit reached.\nok\n");
        let start = begin(&request(&[&app])).unwrap();
        let during = "Error: Queue limit reached.\nError: read ECONNRESET\n";
        append(&app, during);
        let logs = finish(start).0.unwrap();
        let s = source(&logs, &app);
        assert_eq!(s.status, Status::Ok);
        assert_eq!(s.matches["mysql-queue-limit"].count, 2);
        assert_eq!(s.matches["mysql-queue-limit"].in_window, 1);
        assert_eq!(s.matches["node-econnreset"].in_window, 1);
        assert_eq!(s.window_bytes, Some(during.len() as u64));
        assert!(!s.tail_truncated);
        assert_eq!(logs.categories["db-pool-exhausted"].in_window, 1);
    }

    #[test]
    fn only_the_tail_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app.log");
        let line = "Error: Queue limit reached.\n"; // 28 bytes
        append(&app, &line.repeat(100));
        let mut req = request(&[&app]);
        req.tail_bytes = 28 * 10;
        let logs = finish(begin(&req).unwrap()).0.unwrap();
        let s = source(&logs, &app);
        assert!(s.tail_truncated);
        assert_eq!(
            s.matches["mysql-queue-limit"].count, 10,
            "a tail on a line start keeps it"
        );
        req.tail_bytes = 28 * 10 - 3;
        let logs = finish(begin(&req).unwrap()).0.unwrap();
        assert_eq!(
            source(&logs, &app).matches["mysql-queue-limit"].count,
            9,
            "the partial first line is skipped"
        );
    }

    #[test]
    fn rotated_and_truncated_files_are_counted_and_noted() {
        let dir = tempfile::tempdir().unwrap();
        let rotated = dir.path().join("rotated.log");
        let truncated = dir.path().join("truncated.log");
        append(&rotated, &"Error: Queue limit reached.\n".repeat(5));
        append(&truncated, &"Error: Queue limit reached.\n".repeat(5));
        let start = begin(&request(&[&rotated, &truncated])).unwrap();
        std::fs::rename(&rotated, dir.path().join("rotated.log.1")).unwrap();
        append(&rotated, "Error: Queue limit reached.\n");
        std::fs::write(&truncated, "Too many connections\n").unwrap();
        let logs = finish(start).0.unwrap();
        let r = source(&logs, &rotated);
        assert_eq!(r.matches["mysql-queue-limit"].count, 1);
        assert_eq!(r.matches["mysql-queue-limit"].in_window, 1);
        assert!(r.notes[0].contains("rotated"), "{:?}", r.notes);
        assert_eq!(r.window_bytes, None);
        let t = source(&logs, &truncated);
        assert!(!t.matches.contains_key("mysql-queue-limit"));
        assert_eq!(t.matches["mysql-too-many-connections"].in_window, 1);
        assert!(
            t.notes[0].contains("shrank from 140 to 21 bytes"),
            "{:?}",
            t.notes
        );
    }

    #[test]
    fn an_unreadable_source_is_an_error_for_itself_only() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.log");
        append(&good, "Error: Queue limit reached.\n");
        let missing = dir.path().join("missing.log");
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let nothing = dir.path().join("none-*.log");
        let start = begin(&request(&[&good, &missing, dir.path(), &fifo, &nothing])).unwrap();
        let logs = finish(start).0.unwrap();
        assert_eq!(source(&logs, &good).status, Status::Ok);
        let m = source(&logs, &missing);
        assert_eq!(m.status, Status::Error);
        assert!(
            m.message.as_ref().unwrap().contains("No such file"),
            "{m:?}"
        );
        let d = source(&logs, dir.path());
        assert!(
            d.message.as_ref().unwrap().contains("is a directory"),
            "{d:?}"
        );
        let f = source(&logs, &fifo);
        assert!(
            f.message.as_ref().unwrap().contains("not a regular file"),
            "{f:?}"
        );
        let g = logs
            .sources
            .iter()
            .find(|s| s.name.ends_with("none-*.log"))
            .unwrap();
        assert_eq!(g.status, Status::Error);
        assert_eq!(logs.patterns["mysql-queue-limit"].count, 1);

        let err = finish(begin(&request(&[&missing])).unwrap()).0.unwrap_err();
        assert!(err.to_string().starts_with("no log could be read"), "{err}");
        let none = finish(begin(&request(&[])).unwrap()).0.unwrap_err();
        assert!(matches!(none, Failure::Skipped(_)), "{none}");
        let off = begin(&Request::default()).unwrap_err();
        assert!(matches!(off, Failure::Skipped(_)), "{off}");
    }

    #[test]
    fn globs_do_not_follow_symlinks_but_named_symlinks_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret.log");
        append(&secret, "Error: Queue limit reached.\n");
        std::fs::create_dir_all(outside.path().join("tree")).unwrap();
        append(
            &outside.path().join("tree/app.log"),
            "Error: Queue limit reached.\n",
        );

        let logs_dir = dir.path().join("logs");
        std::fs::create_dir(&logs_dir).unwrap();
        append(&logs_dir.join("app.log"), "Error: read ECONNRESET\n");
        append(&logs_dir.join(".hidden.log"), "Error: read ECONNRESET\n");
        symlink(&secret, logs_dir.join("evil.log")).unwrap();
        std::fs::create_dir(logs_dir.join("sub")).unwrap();
        append(&logs_dir.join("sub/b.log"), "Error: read ECONNRESET\n");
        symlink(outside.path().join("tree"), logs_dir.join("linked")).unwrap();

        let glob = format!("{}/*.log", logs_dir.display());
        let deep = format!("{}/*/*.log", logs_dir.display());
        let mut req = request(&[]);
        req.paths = vec![glob, deep];
        let (logs, notes) = finish(begin(&req).unwrap());
        let logs = logs.unwrap();
        let names: Vec<&str> = logs.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                logs_dir.join("app.log").to_str().unwrap(),
                logs_dir.join("sub/b.log").to_str().unwrap()
            ]
        );
        assert_eq!(
            logs.patterns["mysql-queue-limit"].count, 0,
            "nothing read through a link"
        );
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes.iter().all(|n| n.contains("symlink")), "{notes:?}");

        // Named explicitly, a symlink is the user's choice and is read.
        let named = logs_dir.join("evil.log");
        let logs = finish(begin(&request(&[&named])).unwrap()).0.unwrap();
        assert_eq!(logs.patterns["mysql-queue-limit"].count, 1);
    }

    #[test]
    fn a_late_source_counts_from_when_it_was_added() {
        let dir = tempfile::tempdir().unwrap();
        let err_log = dir.path().join("error.log");
        append(
            &err_log,
            "2025-01-03 10:09:19 5 [Warning] Aborted connection 5 to db: 'app' user: 'app' host: 'localhost' (Got timeout reading communication packets)\n",
        );
        // No --log at all: the error log alone, found during the window.
        let mut start = begin(&request(&[])).unwrap();
        start.add(&err_log, SourceKind::MysqlErrorLog);
        append(
            &err_log,
            "2025-01-03 10:09:20 6 [Warning] Aborted connection 6 to db: 'app' user: 'app' host: 'localhost' (Got an error reading communication packets)\n",
        );
        let logs = finish(start).0.unwrap();
        let e = source(&logs, &err_log);
        assert_eq!(e.kind, SourceKind::MysqlErrorLog);
        assert_eq!(e.matches["mysql-aborted-connection-timeout"].in_window, 0);
        assert_eq!(e.matches["mysql-aborted-connection-error"].in_window, 1);
        assert!(
            e.notes[0].contains("after the window started"),
            "{:?}",
            e.notes
        );
        assert_eq!(logs.categories["db-connection-aborted"].count, 2);
    }

    #[test]
    fn container_sources_join_the_files_or_say_why_they_are_missing() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app.log");
        append(&app, "Error: Queue limit reached.\n");
        let scanner = Scanner::builtin().unwrap();
        let container = scanner
            .scan(
                &b"2025-01-03T10:09:19.000000000Z Error: Queue limit reached.\n"[..],
                ScanOptions {
                    window_from: Some(0),
                    ..ScanOptions::default()
                },
            )
            .unwrap()
            .into_source("backend_prod", SourceKind::Container, None);
        let read = FromContainers::Read(LogsRead {
            sources: vec![container],
            notes: vec!["60 containers run".into()],
            ..LogsRead::default()
        });
        let (logs, notes) = complete(scan(begin(&request(&[&app])).unwrap()), read);
        let logs = logs.unwrap();
        assert_eq!(logs.sources.len(), 2);
        assert_eq!(
            logs.patterns["mysql-queue-limit"].count, 2,
            "files and containers"
        );
        assert_eq!(logs.categories["db-pool-exhausted"].in_window, 1);
        assert_eq!(notes, ["60 containers run"]);

        // No engine: nothing added, nothing said, unless a container was named.
        let (logs, notes) = complete(
            scan(begin(&request(&[&app])).unwrap()),
            FromContainers::Absent("no Docker daemon here".into()),
        );
        assert_eq!(logs.unwrap().sources.len(), 1);
        assert!(notes.is_empty(), "{notes:?}");
        let mut named = request(&[]);
        named.containers = vec!["backend_prod".into()];
        let (logs, _) = complete(
            scan(begin(&named).unwrap()),
            FromContainers::Absent("no Docker daemon here".into()),
        );
        let err = logs.unwrap_err().to_string();
        assert!(
            err.contains("backend_prod: container output not read: no Docker daemon here"),
            "{err}"
        );

        // A failed engine is a note beside the files that were read.
        let (logs, notes) = complete(
            scan(begin(&request(&[&app])).unwrap()),
            FromContainers::Failed("containers did not answer".into()),
        );
        assert_eq!(logs.unwrap().sources.len(), 1);
        assert_eq!(
            notes,
            ["container output not read: containers did not answer"]
        );

        // Nothing at all: skipped, saying how to get a log.
        let (logs, _) = complete(scan(begin(&request(&[])).unwrap()), FromContainers::Off);
        assert!(matches!(logs, Err(Failure::Skipped(m)) if m.contains("--log PATH")));
    }
}
