//! Turning the first bytes of a file into preview lines: JSON pretty-printed, text as is,
//! anything else "binary, N bytes". Done once when the bytes arrive, not on every draw.

use serde::de::IgnoredAny;

use crate::tui::panes::logs::thousands;

/// Bytes read for a preview: a big file is never read further than this.
pub const PREVIEW_BYTES: u64 = 64 * 1024;
const MAX_LINES: usize = 2_000;
const MAX_LINE_CHARS: usize = 1_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// "JSON", "text", "binary" or "empty".
    pub kind: &'static str,
    pub lines: Vec<String>,
    /// Only the first part of the file is shown.
    pub partial: bool,
}

pub fn render(name: &str, mime: &str, size: u64, head: &[u8]) -> Rendered {
    if size == 0 || head.is_empty() {
        return Rendered {
            kind: "empty",
            lines: vec!["(empty file)".into()],
            partial: false,
        };
    }
    let partial = (head.len() as u64) < size;
    let Some(text) = decode(head, partial) else {
        return Rendered {
            kind: "binary",
            lines: vec![format!("binary, {} bytes", thousands(size as usize))],
            partial: false,
        };
    };
    let json_like = mime.contains("json") || name.to_ascii_lowercase().ends_with(".json");
    if json_like && !partial && serde_json::from_str::<IgnoredAny>(text).is_ok() {
        let (lines, cut) = bounded_lines(&pretty_json(text));
        return Rendered {
            kind: "JSON",
            lines,
            partial: cut,
        };
    }
    let (lines, cut) = bounded_lines(text);
    Rendered {
        kind: "text",
        lines,
        partial: partial || cut,
    }
}

/// Valid JSON re-indented token by token: keys keep their order and numbers their
/// spelling (a parse into `Value` would sort the keys).
fn pretty_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let (mut in_str, mut escaped) = (false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // An empty object or array stays on one line.
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if chars.peek().is_some_and(|n| matches!(n, '}' | ']')) {
                    out.extend(chars.next());
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// The bytes as text, or None when they are not UTF-8 text. A head cut in the middle of a
/// character is still text; NUL bytes mean binary.
fn decode(head: &[u8], partial: bool) -> Option<&str> {
    if head.contains(&0) {
        return None;
    }
    match std::str::from_utf8(head) {
        Ok(s) => Some(s),
        Err(e) if partial && e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    }
}

/// At most MAX_LINES lines of at most MAX_LINE_CHARS, tabs expanded, control characters
/// shown as `�` so they cannot move the terminal's cursor. True when something was cut.
fn bounded_lines(text: &str) -> (Vec<String>, bool) {
    let mut cut = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if i == MAX_LINES {
            cut = true;
            break;
        }
        let mut l = String::new();
        for (n, c) in line.chars().enumerate() {
            if n == MAX_LINE_CHARS {
                l.push('…');
                break;
            }
            match c {
                '\t' => l.push_str("    "),
                c if c.is_control() => l.push('\u{fffd}'),
                c => l.push(c),
            }
        }
        out.push(l);
    }
    (out, cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_pretty_printed() {
        let r = render("a.json", "application/json", 11, br#"{"a":[1,2]}"#);
        assert_eq!(r.kind, "JSON");
        assert_eq!(r.lines[0], "{");
        assert_eq!(r.lines[1], "  \"a\": [");
        // Keys keep their order, numbers their spelling, empty containers one line.
        let text = br#"{"z": 1.50, "a": {}, "s": "x,{\"y"}"#;
        let r = render("k.json", "", text.len() as u64, text);
        assert_eq!(
            r.lines,
            [
                "{",
                "  \"z\": 1.50,",
                "  \"a\": {},",
                "  \"s\": \"x,{\\\"y\"",
                "}"
            ]
        );
        // Not JSON after all: shown as text.
        let r = render("b.json", "application/json", 5, b"{oops");
        assert_eq!((r.kind, r.lines[0].as_str()), ("text", "{oops"));
    }

    #[test]
    fn binary_and_empty_and_partial() {
        let r = render("x.bin", "application/octet-stream", 2048, &[0, 1, 2, 255]);
        assert_eq!(r.lines, ["binary, 2,048 bytes"]);
        assert_eq!(render("e", "", 0, b"").kind, "empty");
        // A head cut inside "é" is still text, and marked partial.
        let head = "abc\té".as_bytes();
        let r = render("t.txt", "text/plain", 1_000_000, &head[..head.len() - 1]);
        assert_eq!((r.kind, r.partial), ("text", true));
        assert_eq!(r.lines, ["abc    "]);
        // Invalid UTF-8 in the middle is binary.
        assert_eq!(render("t", "", 3, &[b'a', 0xff, b'b']).kind, "binary");
        // Escape sequences cannot reach the terminal.
        assert_eq!(render("t", "", 4, b"\x1b[2J").lines, ["\u{fffd}[2J"]);
    }

    #[test]
    fn many_lines_are_bounded() {
        let text = "x\n".repeat(MAX_LINES + 5);
        let r = render("t", "", text.len() as u64, text.as_bytes());
        assert_eq!((r.lines.len(), r.partial), (MAX_LINES, true));
    }
}
