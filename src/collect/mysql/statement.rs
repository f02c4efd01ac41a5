//! What a normalised statement names: the first table it reads or writes, so a finding can say
//! which table a scanning statement reads ("add an index on `orders`"). Pure, unit-tested on
//! digest texts as MariaDB 10.11 and MySQL 8 print them.

/// The first table after `FROM`, `JOIN`, `UPDATE` or `INTO` in `text` (a digest text or a
/// statement), unquoted, with its schema when the text gives one (`shop.orders`). `None` when
/// the text names no table (`SELECT ?`, `SHOW ...`, a cut-off text ending at the keyword) or the
/// name is a subquery.
#[must_use]
pub fn first_table(text: &str) -> Option<String> {
    let tokens = tokenize(text);
    let at = tokens.iter().position(|t| {
        matches!(
            t.to_ascii_uppercase().as_str(),
            "FROM" | "JOIN" | "UPDATE" | "INTO"
        )
    })?;
    let mut name = String::new();
    let mut rest = tokens[at + 1..].iter();
    loop {
        let part = rest.next()?;
        if part == "(" || part == "." {
            return None;
        }
        name.push_str(part.trim_matches('`'));
        if rest.clone().next().map(String::as_str) == Some(".") {
            rest.next();
            name.push('.');
        } else {
            break;
        }
    }
    (!name.is_empty() && !name.ends_with('.')).then_some(name)
}

/// Words, back-quoted names (kept with their quotes), and single punctuation characters.
/// MySQL 8's digests put spaces around dots (`` `shop` . `orders` ``); MariaDB's do not.
fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        if c == '`' {
            let mut s = String::from('`');
            for d in chars.by_ref() {
                s.push(d);
                if d == '`' {
                    break;
                }
            }
            out.push(s);
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let mut s = String::from(c);
            while let Some(&d) = chars.peek() {
                if d.is_alphanumeric() || d == '_' || d == '$' {
                    s.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(s);
        } else {
            out.push(c.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::first_table;

    #[test]
    fn names_the_first_table() {
        let cases = [
            // MariaDB 10.11 digest texts.
            (
                "SELECT * FROM `orders` WHERE `customer` = ?",
                Some("orders"),
            ),
            (
                "SELECT `id` FROM `shop`.`orders` WHERE `k` = ? LIMIT ?",
                Some("shop.orders"),
            ),
            ("UPDATE `t` SET `v` = `v` + ? WHERE `id` = ?", Some("t")),
            ("INSERT INTO `log` ( `a` ) VALUES (...)", Some("log")),
            // MySQL 8 spaces the dot.
            (
                "SELECT * FROM `shop` . `orders` WHERE `k` = ?",
                Some("shop.orders"),
            ),
            (
                "select count(*) from orders o join items i on i.o = o.id",
                Some("orders"),
            ),
            ("SELECT ?", None),
            ("SHOW GLOBAL STATUS", None),
            ("SELECT * FROM ( SELECT ? ) `x`", None),
            ("SELECT * FROM", None),
            ("SELECT * FROM `shop` .", None),
        ];
        for (text, want) in cases {
            assert_eq!(first_table(text).as_deref(), want, "{text}");
        }
    }
}
