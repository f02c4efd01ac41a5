//! Redaction of secrets in text that doctor prints or saves: log samples, and (reused by the
//! MySQL and process collectors) statement texts and command lines. A snapshot is meant to be
//! attached to a public issue, so anything that looks like a credential is replaced by
//! `[REDACTED]` before it reaches a snapshot or a report.
//!
//! Over-redacting is cheap (a sample line stays readable), a leak is not: the rules err on the
//! side of hiding. What is hidden:
//! - private key blocks (`-----BEGIN ... PRIVATE KEY-----` to the END line, or to the end of the
//!   text when the END is not in it);
//! - JSON Web Tokens (`eyJ...` header `.` payload `.` signature);
//! - credentials in URLs and DSNs (`mysql://user:pass@host`, Go's `user:pass@tcp(host)/db`);
//! - `Authorization:` / `Proxy-Authorization:` header values, `Bearer`/`Basic` tokens, `Cookie:` and
//!   `Set-Cookie:` values;
//! - values of keys that name a secret (`password=`, `pwd:`, `"passwd": "..."`, `secret`, `token`,
//!   `api_key`, `access_key`, `private_key`, `credentials`, `--password ...`), in `key=value`,
//!   `key: value` and JSON forms, quoted or not; and `mysql -pSECRET`;
//! - AWS access key ids (`AKIA...`, `ASIA...`), and 40-character secret keys (mixed-case base64);
//! - GitHub, Slack and Stripe tokens by their well-known prefixes.
//!
//! A statement's text (the processlist, `performance_schema` digests) is redacted harder
//! ([`redact_sql`]): every literal becomes `?`, whatever it holds.

use regex::{Captures, Regex};
use std::borrow::Cow;
use std::sync::LazyLock;

/// What a secret is replaced with.
pub const MARK: &str = "[REDACTED]";

struct Rule {
    re: Regex,
    /// Replacement, with `$name` groups kept around the secret.
    with: &'static str,
}

fn rule(re: &str, with: &'static str) -> Rule {
    Rule {
        re: Regex::new(re).expect("redaction regexes are valid"),
        with,
    }
}

/// Key names whose values are secrets. Matched case-insensitively anywhere in a key
/// (`DB_PASSWORD`, `mysqlPwd`, `x-api-key`, `aws_secret_access_key`).
const SECRET_KEY: &str = r"[A-Za-z0-9_.\-]*(?:passw(?:or)?d|pwd|passphrase|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|credentials?|client[_\-]?secret|session[_\-]?id|auth)[A-Za-z0-9_.\-]*";

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        // Private keys first: their base64 body would otherwise be half-matched by later rules.
        rule(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
            "[REDACTED PRIVATE KEY]",
        ),
        rule(
            r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}(?:\.[A-Za-z0-9_\-]*){1,3}",
            "[REDACTED JWT]",
        ),
        // scheme://user:password@host — keep the user, hide the password.
        rule(
            r"(?P<pre>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\x22]*:)[^\s@/'\x22]+(?P<at>@)",
            "${pre}[REDACTED]${at}",
        ),
        // Go MySQL DSN without a scheme: user:password@tcp(host:3306)/db
        rule(
            r"(?P<pre>\b[^\s:@/'\x22]+:)[^\s@/'\x22]+(?P<at>@(?:tcp|unix|udp|tcp6)\()",
            "${pre}[REDACTED]${at}",
        ),
        rule(
            r"(?i)(?P<pre>\b(?:proxy-)?authorization\x22?\s*[:=]\s*\x22?)(?:(?P<scheme>bearer|basic|digest|token|negotiate|aws4-hmac-sha256)\s+)?[^\s\x22,;]+(?:[^\n\x22]*)",
            "${pre}${scheme} [REDACTED]",
        ),
        rule(
            r"(?i)(?P<pre>\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=\-]{8,}",
            "${pre}[REDACTED]",
        ),
        rule(
            r"(?i)(?P<pre>\b(?:set-)?cookie\x22?\s*[:=]\s*)[^\n]*",
            "${pre}[REDACTED]",
        ),
        // JSON and quoted forms: "password": "..." / 'password': '...'
        rule(
            &format!(
                r#"(?i)(?P<pre>["']{SECRET_KEY}["']\s*[:=]>?\s*)(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;}}\]]+)"#
            ),
            "${pre}\"[REDACTED]\"",
        ),
        // --password=x, --password x
        rule(
            r"(?i)(?P<pre>--(?:password|passwd|pass|pwd|secret|token|api-key)(?:=|\s+))(?:\x22[^\x22]*\x22|'[^']*'|\S+)",
            "${pre}[REDACTED]",
        ),
        // key=value, key: value (unquoted key): the value runs to whitespace, `&`, `;`, `,` or a quote end.
        rule(
            &format!(
                r#"(?i)(?P<pre>\b{SECRET_KEY}\s*(?:=>|=|:)\s*)(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s&;,'"}}\]\)]+)"#
            ),
            "${pre}[REDACTED]",
        ),
        // mysql -pSECRET / mysqldump -u root -pSECRET
        rule(
            r"(?P<pre>\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump|mariadb-admin)\b[^\n]*?\s-p)[^\s]+",
            "${pre}[REDACTED]",
        ),
        rule(
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b",
            "[REDACTED AWS KEY]",
        ),
        rule(
            r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abposr]-[A-Za-z0-9\-]{10,}|[sr]k_(?:live|test)_[A-Za-z0-9]{10,})",
            "[REDACTED TOKEN]",
        ),
    ]
});

/// Runs of base64 characters; those of exactly 40 with upper, lower and digits are taken for AWS
/// secret access keys (a git SHA-1 is 40 lower-case hex characters and stays).
static BASE64_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9/+=]{40,}").expect("valid"));

/// Values that are never secrets although they follow a secret-looking key: MySQL's own
/// `Access denied ... (using password: YES)` must stay readable.
fn harmless(value: &str) -> bool {
    matches!(
        value,
        "YES" | "NO" | "yes" | "no" | "true" | "false" | "null"
    )
}

/// `text` with every secret replaced; borrowed when there was nothing to hide.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for r in RULES.iter() {
        if r.re.is_match(&out) {
            let replaced =
                r.re.replace_all(&out, |caps: &Captures<'_>| {
                    let whole = caps.get(0).map_or("", |m| m.as_str());
                    let pre = caps.name("pre").map_or("", |m| m.as_str());
                    let value = whole[pre.len()..].trim_matches(['"', '\'']);
                    if !pre.is_empty() && harmless(value) {
                        return whole.to_owned();
                    }
                    let mut dst = String::new();
                    caps.expand(r.with, &mut dst);
                    dst
                })
                .into_owned();
            out = Cow::Owned(replaced);
        }
    }
    if BASE64_RUN.is_match(&out) {
        let replaced = BASE64_RUN
            .replace_all(&out, |caps: &Captures<'_>| {
                let s = &caps[0];
                let body = s.trim_end_matches('=');
                let mixed = body.bytes().any(|b| b.is_ascii_uppercase())
                    && body.bytes().any(|b| b.is_ascii_lowercase())
                    && body.bytes().any(|b| b.is_ascii_digit());
                if body.len() == 40 && mixed {
                    "[REDACTED KEY]".to_owned()
                } else {
                    s.to_owned()
                }
            })
            .into_owned();
        out = Cow::Owned(replaced);
    }
    out
}

/// A statement with its literals replaced by `?` (quoted strings, numbers, hex and bit
/// literals), whitespace runs folded, cut to `max_chars` characters (`…` marks a cut). Names in
/// backticks are kept. A string cut off before its closing quote is still replaced.
#[must_use]
pub fn redact_sql(sql: &str, max_chars: usize) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len().min(max_chars * 4));
    let mut i = 0;
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    while i < chars.len() {
        let c = chars[i];
        let prev_word = i > 0 && word(chars[i - 1]);
        match c {
            '\'' | '"' => {
                i += 1;
                while i < chars.len() {
                    if chars[i] == '\\' {
                        i += 2;
                        continue;
                    }
                    if chars[i] == c {
                        if chars.get(i + 1) == Some(&c) {
                            i += 2; // a doubled quote inside the string
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                out.push('?');
                continue;
            }
            '`' => {
                let start = i;
                i += 1;
                while i < chars.len() && chars[i] != '`' {
                    i += 1;
                }
                i = (i + 1).min(chars.len());
                out.extend(&chars[start..i]);
                continue;
            }
            // x'0A', b'01', X'..'
            'x' | 'X' | 'b' | 'B' if !prev_word && chars.get(i + 1) == Some(&'\'') => {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push('?');
                continue;
            }
            c if c.is_ascii_digit() && !prev_word => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
                out.push('?');
                continue;
            }
            c if c.is_whitespace() => {
                while i < chars.len() && chars[i].is_whitespace() {
                    i += 1;
                }
                out.push(' ');
                continue;
            }
            c => out.push(c),
        }
        i += 1;
    }
    let trimmed = out.trim();
    if trimmed.chars().count() > max_chars {
        let mut cut: String = trimmed.chars().take(max_chars.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each line holds a secret (the second element) that must disappear, and text that must stay.
    const CASES: &[(&str, &str, &str)] = &[
        (
            "GET /api/me Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "GET /api/me",
        ),
        (
            "token=eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjoiYWRtaW4ifQ.c2lnbmF0dXJlc2VjcmV0 ok",
            "eyJ1c2VyIjoiYWRtaW4ifQ",
            " ok",
        ),
        (
            "connecting to mysql://app:S3cr3tPass@db:3306/shop failed",
            "S3cr3tPass",
            "mysql://app:",
        ),
        (
            "dsn=app:hunter2pw@tcp(127.0.0.1:3306)/shop?parseTime=true",
            "hunter2pw",
            "tcp(127.0.0.1:3306)/shop",
        ),
        (
            "login failed password=Tr0ub4dor&3 user=bob",
            "Tr0ub4dor",
            "user=bob",
        ),
        ("pwd: mySecretPwd, retrying", "mySecretPwd", "retrying"),
        (
            "config password => 'rubySecret1' done",
            "rubySecret1",
            " done",
        ),
        (
            "GET /cb?code=1&access_token=tok123456&state=x",
            "tok123456",
            "state=x",
        ),
        (
            "redis://:redisPass99@cache:6379/0",
            "redisPass99",
            "@cache:6379",
        ),
        (
            r#"{"user":"bob","password":"p@ss \"quoted\" word","db":"shop"}"#,
            "p@ss",
            r#""db":"shop""#,
        ),
        (r"{'passwd': 'abc123xyz'}", "abc123xyz", "{"),
        (
            "DB_PASSWORD=abcDEF123 NODE_ENV=production",
            "abcDEF123",
            "NODE_ENV=production",
        ),
        (
            "client_secret=Zx9Yw8Vu7Ts6&grant_type=x",
            "Zx9Yw8Vu7Ts6",
            "grant_type=x",
        ),
        ("api_key: 0123456789abcdef", "0123456789abcdef", "api_key"),
        (
            "mysqldump -u root -pS3cretRoot shop",
            "S3cretRoot",
            "mysqldump -u root -p",
        ),
        (
            "mysqld --user=mysql --password=RootPw99",
            "RootPw99",
            "--user=mysql",
        ),
        (
            "aws_access_key_id=AKIAIOSFODNN7EXAMPLE region=us-east-1",
            "AKIAIOSFODNN7EXAMPLE",
            "region=us-east-1",
        ),
        (
            "using key AKIAIOSFODNN7EXAMPLE and wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "using key",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\n-----END RSA PRIVATE KEY----- done",
            "MIIEowIBAAKCAQEA7bq",
            " done",
        ),
        (
            r"cert: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0",
            "MIIEvQIBADANBgkqhkiG9w0",
            "cert: ",
        ),
        (
            "Cookie: session=abc123def456; theme=dark",
            "abc123def456",
            "Cookie: ",
        ),
        (
            "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l",
            "YWxhZGRpbjpvcGVuc2VzYW1l",
            "Authorization: ",
        ),
        (
            "curl -H 'x-api-key: k-8f7a6b5c4d' /v1",
            "k-8f7a6b5c4d",
            "/v1",
        ),
        (
            "pushed with ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "pushed with",
        ),
    ];

    #[test]
    fn secrets_are_hidden_and_the_rest_stays() {
        for (text, secret, kept) in CASES {
            let out = redact(text);
            assert!(
                !out.contains(secret),
                "{secret:?} leaked from {text:?}: {out}"
            );
            assert!(out.contains(kept), "{kept:?} lost from {text:?}: {out}");
            assert!(out.contains("[REDACTED"), "{out}");
        }
    }

    #[test]
    fn ordinary_lines_are_left_alone() {
        for text in [
            "Error: Queue limit reached.",
            "2025/01/03 10:09:19 [error] 29#29: *1234 upstream timed out (110: Connection timed out)",
            "Access denied for user 'app'@'localhost' (using password: YES)",
            "commit 3f786850e387550fdab836ed7e6dc881de23001b merged",
            "Aborted connection 42 to db: 'app' user: 'app' host: 'localhost' (Got timeout reading communication packets)",
        ] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn sql_redaction() {
        let r = |s: &str| redact_sql(s, 200);
        assert_eq!(
            r("SET PASSWORD FOR 'app'@'%' = PASSWORD('hunter2')"),
            "SET PASSWORD FOR ?@? = PASSWORD(?)"
        );
        assert_eq!(
            r("CREATE USER x IDENTIFIED BY \"it''s \\\"secret\\\"\""),
            "CREATE USER x IDENTIFIED BY ?"
        );
        assert_eq!(r("SELECT 'it''s', 'a\\'b'"), "SELECT ?, ?");
        assert_eq!(
            r("select  t1.c2,\n  `col 3` from t1 where id in (1, 2.5, 0x1F, X'0a', b'01')"),
            "select t1.c2, `col 3` from t1 where id in (?, ?, ?, ?, ?)"
        );
        assert_eq!(
            r("INSERT INTO t VALUES ('unterminated secr"),
            "INSERT INTO t VALUES (?"
        );
        let long = format!("SELECT {}", "a, ".repeat(200));
        let cut = redact_sql(&long, 50);
        assert_eq!(cut.chars().count(), 50);
        assert!(cut.ends_with('…'));
        assert_eq!(redact_sql("SELECT 'ü€' , 'x'", 200), "SELECT ? , ?");
    }
}
