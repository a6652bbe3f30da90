//! What a piece of SQL would do, read from its words alone, before it is sent.
//!
//! The check is lexical, not a parser: comments (`-- …`, `/* … */`), string literals (`'…'`)
//! and quoted names (`"…"`, `` `…` ``, `[…]`) are blanked out, the text is split into
//! statements at `;`, and each statement is judged by its keywords:
//!
//! - **read**: `SELECT`, `VALUES`, `EXPLAIN …`, `WITH …` without `INSERT`/`UPDATE`/`DELETE`/
//!   `REPLACE`, and `PRAGMA name` or `PRAGMA name(arg)` of a pragma that only reports
//!   (`table_info`, `index_list`, …) — never `PRAGMA name = value`;
//! - **destructive**: `DROP …`, `DELETE …`, `TRUNCATE …`, `ALTER … DROP …` (and a `WITH` that
//!   deletes);
//! - **write**: everything else.
//!
//! A text is as strong as its strongest statement. Read-only mode runs only reads; a
//! destructive text asks for a confirm first. Erring on the strict side is the point: a
//! keyword inside a name that is not quoted (a column called `delete`) counts.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SqlKind {
    /// Only comments and blanks.
    Empty,
    Read,
    Write,
    Destructive,
}

// Pragmas that take an argument in parentheses and still only report: the ones the server's
// authorizer allows with an argument.
use crate::protocol::sql::DESCRIBING_PRAGMAS as READ_PRAGMAS_WITH_ARG;

/// Classifies SQL text (all its statements).
pub fn classify(sql: &str) -> SqlKind {
    blank_out(sql)
        .split(';')
        .map(statement_kind)
        .max()
        .unwrap_or(SqlKind::Empty)
}

fn statement_kind(stmt: &str) -> SqlKind {
    let words: Vec<String> = stmt
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    let Some(first) = words.first() else {
        return SqlKind::Empty;
    };
    let has = |w: &str| words.iter().any(|x| x == w);
    match first.as_str() {
        "SELECT" | "VALUES" | "EXPLAIN" => SqlKind::Read,
        "WITH" if has("DELETE") => SqlKind::Destructive,
        "WITH" if has("INSERT") || has("UPDATE") || has("REPLACE") => SqlKind::Write,
        "WITH" => SqlKind::Read,
        "DROP" | "DELETE" | "TRUNCATE" => SqlKind::Destructive,
        "ALTER" if has("DROP") => SqlKind::Destructive,
        "PRAGMA" => {
            let name = words.get(1).map(String::as_str).unwrap_or("");
            // `PRAGMA schema.name`: the name is the word after the dot.
            let name = if stmt.contains('.') {
                words.get(2).map(String::as_str).unwrap_or(name)
            } else {
                name
            };
            let reads = !stmt.contains('=')
                && (!stmt.contains('(')
                    || READ_PRAGMAS_WITH_ARG
                        .iter()
                        .any(|p| p.eq_ignore_ascii_case(name)));
            if reads { SqlKind::Read } else { SqlKind::Write }
        }
        _ => SqlKind::Write,
    }
}

/// The text with comments, string literals and quoted names replaced by spaces (a `;` or a
/// keyword inside them then means nothing). An unterminated one runs to the end.
pub fn blank_out(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let close = match c {
            '-' if chars.peek() == Some(&'-') => Some("\n"),
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                Some("*/")
            }
            '\'' => Some("'"),
            '"' => Some("\""),
            '`' => Some("`"),
            '[' => Some("]"),
            _ => None,
        };
        let Some(close) = close else {
            out.push(c);
            continue;
        };
        out.push(' ');
        let mut prev = '\0';
        for d in chars.by_ref() {
            // `'it''s'` is one literal: the doubled quote closes and reopens it.
            let done = if close == "*/" {
                prev == '*' && d == '/'
            } else {
                close.starts_with(d)
            };
            prev = d;
            if done {
                break;
            }
        }
        out.push(' ');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanks_comments_strings_and_names() {
        let b = blank_out("select 'a;b' -- drop\nfrom \"t;x\"");
        assert!(!b.contains(';') && !b.contains("drop"), "{b}");
        assert!(b.starts_with("select") && b.contains("from"), "{b}");
        assert!(!blank_out("/* delete; */ select 1").contains("delete"));
        assert!(!blank_out("select 'it''s; drop'").contains("drop"));
    }
}
