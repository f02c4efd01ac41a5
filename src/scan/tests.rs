use super::*;
use crate::snapshot::SourceKind;

fn scanner() -> Scanner {
    Scanner::builtin().expect("the built-in patterns load")
}

fn scan(s: &Scanner, text: &[u8], window_from: Option<u64>) -> Scan {
    s.scan(
        text,
        ScanOptions {
            window_from,
            ..ScanOptions::default()
        },
    )
    .unwrap()
}

fn count(scan: &Scan, id: &str) -> u64 {
    scan.matches.get(id).map_or(0, |m| m.count)
}

/// The independent answer: each line (cut at the line cap) run through each pattern's regex.
fn naive(s: &Scanner, text: &[u8]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for line in text.split(|&b| b == b'\n') {
        let line = &line[..line.len().min(MAX_LINE)];
        for p in s.patterns() {
            if p.compiled.is_match(line) {
                *out.entry(p.id.clone()).or_insert(0) += 1;
            }
        }
    }
    out
}

fn counts(scan: &Scan) -> BTreeMap<String, u64> {
    scan.matches
        .iter()
        .map(|(k, v)| (k.clone(), v.count))
        .collect()
}

/// A deterministic pseudo-random generator, so big inputs are reproducible without a dependency.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

#[test]
fn catalogue_is_complete_and_consistent() {
    let s = scanner();
    // Every file in rules/logs/ is embedded.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/logs");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| format!("rules/logs/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    on_disk.sort();
    let embedded: Vec<String> = pattern::EMBEDDED
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    assert_eq!(
        on_disk, embedded,
        "rules/logs/ and EMBEDDED in src/scan/pattern.rs must list the same files"
    );
    assert!(s.patterns().len() >= 25);
    for p in s.patterns() {
        assert_eq!(
            p.file,
            format!("rules/logs/{}.toml", p.id),
            "a pattern's file is named after its id"
        );
        assert!(
            !p.sources.is_empty(),
            "{}: cite where the text comes from",
            p.id
        );
        for src in &p.sources {
            assert!(
                !src.library.is_empty() && src.url.starts_with("https://"),
                "{}",
                p.id
            );
        }
        assert!(p.meaning.len() > 40, "{}: say what it means", p.id);
        // Each sample is found through the scanner itself, so the literal prefilter cannot miss it.
        for sample in &p.samples {
            let found = scan(&s, sample.as_bytes(), None);
            assert_eq!(count(&found, &p.id), 1, "{}: {sample:?}", p.id);
        }
        for line in &p.not_samples {
            let found = scan(&s, line.as_bytes(), None);
            assert_eq!(count(&found, &p.id), 0, "{}: {line:?}", p.id);
        }
    }
    assert!(
        s.slow_patterns().is_empty(),
        "built-in patterns must have a literal to search for: {:?}",
        s.slow_patterns()
    );
    for c in [
        "db-pool-exhausted",
        "db-too-many-connections",
        "db-connection-aborted",
        "db-connection-lost",
        "net-reset",
        "upstream-timeout",
        "oom-kill",
    ] {
        assert!(s.categories().iter().any(|x| x == c), "{c}");
    }
}

/// The diary's own app log: NestJS's logger line, then the mysql2 error with TypeORM's frames.
const DIARY: &str = "[Nest] 27  - 01/03/2025, 8:29:05 AM   ERROR [ExceptionsHandler] Queue limit reached.
Error: Queue limit reached.
    at Pool.getConnection (/app/node_modules/mysql2/lib/base/pool.js:72:17)
    at /app/node_modules/typeorm/driver/mysql/MysqlDriver.js:728:27
    at new Promise (<anonymous>)
    at MysqlDriver.obtainMasterConnection (/app/node_modules/typeorm/driver/mysql/MysqlDriver.js:719:16)
    at MysqlQueryRunner.connect (/app/node_modules/typeorm/driver/mysql/MysqlQueryRunner.js:60:18)
";

#[test]
fn the_diary_log_is_read_as_a_person_would() {
    let s = scanner();
    let found = scan(&s, DIARY.as_bytes(), None);
    let q = &found.matches["mysql-queue-limit"];
    assert_eq!(q.count, 2, "the logger line and the error line");
    assert_eq!(q.first_ts.as_deref(), Some("2025-01-03T08:29:05"));
    assert_eq!(q.last_ts.as_deref(), Some("2025-01-03T08:29:05"));
    assert_eq!(q.sample, "Error: Queue limit reached.");
    assert_eq!(count(&found, "typeorm-obtain-connection"), 1);
    assert_eq!(found.categories["db-pool-exhausted"].count, 2);
    assert_eq!(found.matched_lines, 3);
    assert_eq!(counts(&found), naive(&s, DIARY.as_bytes()));
}

#[test]
fn lines_from_the_window_start_on_count_as_in_window() {
    let s = scanner();
    let before = "Error: Queue limit reached.\nok\nError: read ECONNRESET\n";
    let during = "Error: Queue limit reached.\nError: Queue limit reached.\nnothing\n";
    let text = format!("{before}{during}");
    let found = scan(&s, text.as_bytes(), Some(before.len() as u64));
    assert_eq!(found.matches["mysql-queue-limit"].count, 3);
    assert_eq!(found.matches["mysql-queue-limit"].in_window, 2);
    assert_eq!(found.matches["node-econnreset"].in_window, 0);
    assert_eq!(found.categories["db-pool-exhausted"].in_window, 2);
    let unknown = scan(&s, text.as_bytes(), None);
    assert_eq!(unknown.matches["mysql-queue-limit"].in_window, 0);
    assert_eq!(found.bytes_scanned, text.len() as u64);
}

#[test]
fn a_line_matching_two_patterns_of_one_category_counts_once_there() {
    let s = scanner();
    let line = b"2025/01/03 10:09:19 [error] 1#1: *1 recv() failed (104: Connection reset by peer): Error: read ECONNRESET\n";
    let found = scan(&s, line, Some(0));
    assert_eq!(count(&found, "connection-reset-by-peer"), 1);
    assert_eq!(count(&found, "node-econnreset"), 1);
    assert_eq!(found.categories["net-reset"].count, 1);
    assert_eq!(found.categories["net-reset"].in_window, 1);
    assert_eq!(found.matched_lines, 1);
}

#[test]
fn binary_and_non_utf8_content_is_scanned_around() {
    let s = scanner();
    let mut text = Vec::new();
    text.extend_from_slice(&[0u8; 4096]); // a copytruncate hole
    text.push(b'\n');
    text.extend_from_slice(b"\xff\xfe garbage \xc3\x28 Error: Queue limit reached. \xe2\x82\n");
    text.extend_from_slice(b"\x00\x01\x02 Too many connections \x00\n");
    let found = scan(&s, &text, None);
    assert!(found.binary);
    assert_eq!(count(&found, "mysql-queue-limit"), 1);
    assert_eq!(count(&found, "mysql-too-many-connections"), 1);
    let sample = &found.matches["mysql-queue-limit"].sample;
    assert!(sample.contains("Queue limit reached."), "{sample}");
    assert!(
        sample.contains('\u{fffd}'),
        "invalid bytes shown as replacement characters"
    );
    let source = found.into_source("app.log", SourceKind::File, None);
    assert!(source.notes[0].contains("NUL"), "{:?}", source.notes);
}

#[test]
fn long_lines_are_capped_but_counted_and_do_not_hide_the_next_ones() {
    let s = scanner();
    let mut text = Vec::new();
    // Match near the start of a line far longer than the buffer.
    text.extend_from_slice(b"Error: Queue limit reached. ");
    text.extend(std::iter::repeat_n(b'x', 3 * BLOCK));
    text.push(b'\n');
    // A match beyond the line cap is not seen.
    text.extend(std::iter::repeat_n(b'y', MAX_LINE + 10));
    text.extend_from_slice(b" Error: Queue limit reached.\n");
    // A line just under the cap ending with a match is seen.
    text.extend(std::iter::repeat_n(b'z', MAX_LINE - 40));
    text.extend_from_slice(b" Too many connections\n");
    text.extend_from_slice(b"Error: read ECONNRESET");
    let found = scan(&s, &text, None);
    assert_eq!(count(&found, "mysql-queue-limit"), 1);
    assert_eq!(count(&found, "mysql-too-many-connections"), 1);
    assert_eq!(
        count(&found, "node-econnreset"),
        1,
        "last line without a newline"
    );
    assert_eq!(found.bytes_scanned, text.len() as u64);
    let sample = &found.matches["mysql-queue-limit"].sample;
    assert_eq!(
        sample.chars().count(),
        SAMPLE_CHARS + 1,
        "cut, with an ellipsis"
    );
}

#[test]
fn big_mixed_input_matches_a_line_by_line_regex_run() {
    let s = scanner();
    let samples: Vec<&str> = s
        .patterns()
        .iter()
        .flat_map(|p| p.samples.iter().map(String::as_str))
        .collect();
    let mut rng = Lcg(7);
    let mut text = Vec::new();
    while text.len() < 2 * BLOCK + 12345 {
        // Long filler lines keep the line count (and the slow oracle) small for the bytes.
        match rng.next() % 20 {
            0..=1 => {
                text.extend_from_slice(samples[(rng.next() as usize) % samples.len()].as_bytes());
            }
            2..=8 => text.extend(std::iter::repeat_n(b'q', (rng.next() % 9000) as usize)),
            _ => text.extend_from_slice(
                b"2025-01-03T10:09:19.123Z INFO GET /api/posts 200 12ms user=42 ok",
            ),
        }
        text.push(b'\n');
    }
    let found = scan(&s, &text, None);
    let expected = naive(&s, &text);
    assert!(expected.len() > 20, "most patterns occur");
    assert_eq!(counts(&found), expected);
}

/// A reader handing out a few bytes at a time, as a pipe or a socket does.
struct Trickle<'a>(&'a [u8], usize);
impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.1 = self.1 % 7 + 1;
        let n = self.1.min(buf.len()).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn short_reads_give_the_same_result() {
    let s = scanner();
    let whole = scan(&s, DIARY.as_bytes(), Some(30));
    let trickled = s
        .scan(
            Trickle(DIARY.as_bytes(), 0),
            ScanOptions {
                window_from: Some(30),
                ..ScanOptions::default()
            },
        )
        .unwrap();
    assert_eq!(whole, trickled);
}

struct Broken;
impl Read for Broken {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("disk on fire"))
    }
}

#[test]
fn read_errors_are_returned() {
    let e = scanner().scan(Broken, ScanOptions::default()).unwrap_err();
    assert_eq!(e.to_string(), "disk on fire");
}

#[test]
fn a_tail_starting_mid_line_skips_the_partial_line() {
    let s = scanner();
    let text = b"nnections\nError: Too many connections\r\n";
    let found = s
        .scan(
            &text[..],
            ScanOptions {
                skip_partial_first_line: true,
                ..ScanOptions::default()
            },
        )
        .unwrap();
    assert_eq!(count(&found, "mysql-too-many-connections"), 1);
    assert_eq!(
        found.matches["mysql-too-many-connections"].sample, "Error: Too many connections",
        "CR of CRLF dropped"
    );
    let nothing = s
        .scan(
            &b"Error: Too many connections"[..],
            ScanOptions {
                skip_partial_first_line: true,
                ..ScanOptions::default()
            },
        )
        .unwrap();
    assert!(nothing.matches.is_empty());
}

#[test]
fn patterns_without_literals_are_still_found() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("slow.toml"),
        r#"
id = "slow-request"
category = "slow-request"
regex = '^[0-9]+ [0-9]{4,}ms$'
meaning = "a request that took seconds"
samples = ["200 12345ms"]
"#,
    )
    .unwrap();
    let s = Scanner::load(&[dir.path()]).unwrap();
    assert_eq!(s.slow_patterns(), vec!["slow-request"]);
    let text = b"200 12ms\n200 12345ms\nx 200 99999ms\n500 31000ms\nError: Queue limit reached.\n";
    let found = scan(&s, text, Some(0));
    assert_eq!(count(&found, "slow-request"), 2);
    assert_eq!(count(&found, "mysql-queue-limit"), 1);
    assert_eq!(counts(&found), naive(&s, text));
}

#[test]
fn samples_are_redacted() {
    let s = scanner();
    let line = b"2025-01-03 10:09:19 ERROR mysql://app:Sup3rS3cret@db:3306/shop Too many connections token=eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjoiYWRtaW4ifQ.c2lnbmF0dXJl\n";
    let found = scan(&s, line, None);
    let sample = &found.matches["mysql-too-many-connections"].sample;
    assert!(!sample.contains("Sup3rS3cret"), "{sample}");
    assert!(!sample.contains("eyJ1c2VyIjoiYWRtaW4ifQ"), "{sample}");
    assert!(sample.contains("Too many connections"), "{sample}");
}

#[test]
fn summaries_list_every_pattern_and_category() {
    let s = scanner();
    let a = scan(&s, b"Error: Queue limit reached.\n", Some(0)).into_source(
        "a",
        SourceKind::File,
        None,
    );
    let b = scan(
        &s,
        b"Error: Queue limit reached.\nError: read ECONNRESET\n",
        None,
    )
    .into_source("b", SourceKind::Container, None);
    let logs = s.summarize(vec![a, b]);
    assert_eq!(logs.patterns.len(), s.patterns().len());
    assert_eq!(logs.categories.len(), s.categories().len());
    assert_eq!(logs.patterns["mysql-queue-limit"].count, 2);
    assert_eq!(logs.patterns["mysql-queue-limit"].in_window, 1);
    assert_eq!(logs.categories["db-pool-exhausted"].count, 2);
    assert_eq!(logs.categories["oom-kill"].count, 0);
    assert_eq!(logs.categories["net-reset"].count, 1);
}

#[test]
fn overlapping_literals_of_different_patterns_are_all_found() {
    let dir = tempfile::tempdir().unwrap();
    for (id, re, sample) in [
        // Its literal extends a built-in one ("Too many connections").
        (
            "too-many-from",
            "Too many connections from [a-z]+",
            "Too many connections from app",
        ),
        // Its literal starts inside a built-in one ("Connection reset by peer").
        (
            "reset-now",
            "reset by peer now",
            "Connection reset by peer now",
        ),
    ] {
        std::fs::write(
            dir.path().join(format!("{id}.toml")),
            format!(
                "id = \"{id}\"\ncategory = \"mine\"\nregex = '{re}'\nmeaning = \"m\"\nsamples = [\"{sample}\"]\n"
            ),
        )
        .unwrap();
    }
    let s = Scanner::load(&[dir.path()]).unwrap();
    assert!(s.slow_patterns().is_empty());
    let text =
        b"Too many connections from app\nConnection reset by peer now\nToo many connections\n";
    let found = scan(&s, text, None);
    assert_eq!(count(&found, "too-many-from"), 1);
    assert_eq!(count(&found, "mysql-too-many-connections"), 2);
    assert_eq!(count(&found, "reset-now"), 1);
    assert_eq!(count(&found, "connection-reset-by-peer"), 1);
    assert_eq!(found.categories["mine"].count, 2);
    assert_eq!(counts(&found), naive(&s, text));
}

/// What the Docker collector hands over: `docker logs --timestamps` lines from before the window,
/// then those written during it, in one buffer, with the boundary as `window_from`.
#[test]
fn container_output_with_docker_timestamps() {
    let s = scanner();
    let before = "2025-01-03T10:09:10.000000001Z Server listening on 3000\n\
                  2025-01-03T10:09:11.500000000Z Error: Queue limit reached.\n";
    let during = "2025-01-03T10:09:19.123456789Z Error: Queue limit reached.\n\
                  2025-01-03T10:09:19.223456789Z Error: Queue limit reached.\n\
                  2025-01-03T10:09:20.000000000Z GET /api/posts 200\n";
    let buf = format!("{before}{during}");
    let found = s
        .scan(
            buf.as_bytes(),
            ScanOptions {
                window_from: Some(before.len() as u64),
                year_hint: Some(YearHint::now()),
                ..ScanOptions::default()
            },
        )
        .unwrap();
    let q = &found.matches["mysql-queue-limit"];
    assert_eq!((q.count, q.in_window), (3, 2));
    assert_eq!(
        q.first_ts.as_deref(),
        Some("2025-01-03T10:09:11.500000000Z")
    );
    assert_eq!(q.last_ts.as_deref(), Some("2025-01-03T10:09:19.223456789Z"));
    let source = found.into_source("backend_prod", SourceKind::Container, None);
    assert_eq!(source.kind, SourceKind::Container);
    assert_eq!(source.path, None);
    let logs = s.summarize(vec![source]);
    assert_eq!(logs.categories["db-pool-exhausted"].in_window, 2);
}
