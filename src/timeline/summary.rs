//! How a call reads in a timeline's list: `queues.send jobs`, `messaging.broadcast chat 64 B`,
//! `storage.upload a.txt`. The room's recorder and the inspector name calls with the same
//! function, so a local and an inspected timeline read alike.

use serde_json::{Map, Value};

/// Bytes a call's data keeps in its event (the rest is counted in the summary).
pub const DATA_KEPT: usize = 4 << 10;

/// `toolkit.tool` and what the call is about when its arguments say. `data_bytes` is the
/// size of the bytes the call carried (0: none, or not known); `name_of` names a participant
/// by its id.
pub fn call_summary(
    toolkit: &str,
    tool: &str,
    args: Option<&Map<String, Value>>,
    data_bytes: usize,
    name_of: &dyn Fn(&str) -> String,
) -> String {
    let mut s = format!("{toolkit}.{tool}");
    let arg = |k: &str| args.and_then(|m| m.get(k)).and_then(Value::as_str);
    let mut push = |part: &str| {
        s.push(' ');
        s.push_str(part);
    };
    match (toolkit, tool) {
        ("messaging", "send" | "broadcast" | "stream") => {
            if let Some(t) = arg("type") {
                push(t);
            }
            if let Some(to) = arg("to_participant_id") {
                push(&format!("to {}", name_of(to)));
            }
            push(&size(arg("message_json").map_or(0, str::len)));
            if let Some(a) = arg("attachment_base64").filter(|a| !a.is_empty()) {
                push(&format!("+ {} attached", size(a.len() / 4 * 3)));
            }
        }
        ("queues", _) => {
            if let Some(q) = arg("name") {
                push(q);
            }
        }
        ("secrets", _) => {
            if let Some(n) = arg("name").or(arg("secret_id")).or(arg("id")) {
                push(n);
            }
        }
        _ => {
            let about = [
                "path",
                "name",
                "table",
                "source_path",
                "service_id",
                "query",
            ];
            if let Some(v) = about.into_iter().find_map(arg) {
                push(&short(v, 60));
            }
            if data_bytes > 0 {
                push(&size(data_bytes));
                if data_bytes > DATA_KEPT && toolkit != "sync" {
                    push(&format!("(first {} kept)", size(DATA_KEPT)));
                }
            }
        }
    }
    s
}

/// `s` cut to `max` characters, with `…` when it was longer.
pub fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

/// `64 B`, `12.5 KiB`, `3.0 MiB`.
pub fn size(n: usize) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{n} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{:.1} MiB", n / (1024.0 * 1024.0))
    }
}
