//! The `:` command palette: commands with completion (tab) and history (up/down).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::LineEdit;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    None,
    Text,
    Theme,
    Queue,
    OnOff,
    /// A local file or folder (tab completes it from the disk).
    LocalPath,
}

pub const COMMANDS: &[(&str, &str, Arg)] = &[
    ("quit", "quit roomdeck", Arg::None),
    ("help", "show the keys", Arg::None),
    (
        "overview",
        "go to the overview tab: the room at a glance",
        Arg::None,
    ),
    ("chat", "go to the chat tab", Arg::None),
    ("queues", "go to the queues tab", Arg::None),
    ("logs", "go to the logs tab", Arg::None),
    ("services", "go to the services tab", Arg::None),
    ("files", "go to the files tab", Arg::None),
    (
        "upload",
        "upload LOCAL: upload a local file into the selected folder",
        Arg::LocalPath,
    ),
    (
        "download",
        "download LOCAL: save the selected file to a local path",
        Arg::LocalPath,
    ),
    (
        "move",
        "move DEST: move the selected file (asks first)",
        Arg::Text,
    ),
    (
        "delete",
        "delete the selected file or folder (asks first)",
        Arg::None,
    ),
    ("database", "go to the database tab", Arg::None),
    ("docs", "go to the documents tab", Arg::None),
    (
        "doc",
        "doc PATH: follow a document by its path, live",
        Arg::Text,
    ),
    ("tools", "go to the toolkits tab", Arg::None),
    ("timeline", "go to the timeline tab", Arg::None),
    (
        "at",
        "at TIME: select the timeline's event at 12.5s, 1m3s",
        Arg::Text,
    ),
    (
        "invoke",
        "invoke TOOLKIT.TOOL {json}: call a tool, its answer in the toolkits tab",
        Arg::Text,
    ),
    ("tables", "list the room's tables again", Arg::None),
    ("sql", "sql QUERY: run SQL in the database tab", Arg::Text),
    (
        "export",
        "export [PATH]: write the result as CSV (or JSON for .json)",
        Arg::Text,
    ),
    (
        "room",
        "room NAME: reopen the console on another local room",
        Arg::Text,
    ),
    (
        "rooms",
        "list the server's rooms: open, create, delete",
        Arg::None,
    ),
    (
        "restart",
        "restart SERVICE: restart a service (asks first)",
        Arg::Text,
    ),
    ("say", "say TEXT to everyone in the chat", Arg::Text),
    (
        "send",
        "send QUEUE {json}: put a message on a queue",
        Arg::Queue,
    ),
    (
        "receive",
        "receive QUEUE: take one message off a queue",
        Arg::Queue,
    ),
    (
        "drain",
        "drain QUEUE: empty a queue (asks first)",
        Arg::Queue,
    ),
    (
        "log",
        "log TEXT: write an info line to the developer log",
        Arg::Text,
    ),
    ("filter", "filter TEXT: filter the focused list", Arg::Text),
    ("search", "search TEXT: highlight in the logs", Arg::Text),
    ("follow", "follow the end of the logs", Arg::None),
    ("pause", "pause or resume the logs", Arg::None),
    ("wrap", "wrap long log lines on/off", Arg::None),
    ("timestamps", "log timestamps on/off", Arg::None),
    ("clear", "clear the log buffer", Arg::None),
    ("theme", "theme NAME: switch the colours", Arg::Theme),
    ("mouse", "mouse on|off", Arg::OnOff),
];

#[derive(Debug, Default)]
pub struct Palette {
    pub edit: LineEdit,
    /// Position in the history while browsing it with up/down.
    pub history_pos: Option<usize>,
    /// (text before the first tab, index of the candidate shown) while cycling with tab.
    pub cycle: Option<(String, usize)>,
    /// Why the last command failed: the palette stays open with it, the text kept.
    pub error: Option<String>,
}

/// What can follow the text typed so far: full replacement lines.
pub fn candidates(text: &str, themes: &[String], queues: &[String]) -> Vec<(String, String)> {
    match text.split_once(' ') {
        None => {
            let typed = text.trim();
            let mut found: Vec<&(&str, &str, Arg)> = COMMANDS
                .iter()
                .filter(|(n, _, _)| n.starts_with(typed))
                .collect();
            // An exact name first, then the shorter ones: "log" before "logs".
            found.sort_by_key(|(n, _, _)| (*n != typed, n.len()));
            found
                .into_iter()
                .map(|(n, d, a)| {
                    let line = if *a == Arg::None {
                        n.to_string()
                    } else {
                        format!("{n} ")
                    };
                    (line, d.to_string())
                })
                .collect()
        }
        Some((cmd, arg)) => {
            let Some((_, _, kind)) = COMMANDS.iter().find(|(n, _, _)| *n == cmd) else {
                return Vec::new();
            };
            let pool: Vec<String> = match kind {
                Arg::Theme => themes.to_vec(),
                Arg::Queue => queues.to_vec(),
                Arg::OnOff => vec!["on".into(), "off".into()],
                Arg::LocalPath => super::path::local_candidates(arg),
                _ => return Vec::new(),
            };
            if *kind == Arg::Queue && arg.contains(' ') {
                return Vec::new();
            }
            pool.into_iter()
                .filter(|p| p.starts_with(arg) && p != arg)
                .map(|p| {
                    let tail = if cmd == "send" { " " } else { "" };
                    (format!("{cmd} {p}{tail}"), String::new())
                })
                .collect()
        }
    }
}

impl Palette {
    /// Tab: replace the text with the next candidate.
    pub fn complete(&mut self, themes: &[String], queues: &[String]) {
        let (base, idx) = match &self.cycle {
            Some((b, i)) => (b.clone(), i + 1),
            None => (self.edit.text.clone(), 0),
        };
        let c = candidates(&base, themes, queues);
        if c.is_empty() {
            return;
        }
        let idx = idx % c.len();
        self.edit.set(&c[idx].0);
        self.cycle = Some((base, idx));
    }
}

pub fn draw(
    f: &mut Frame,
    area: Rect,
    p: &Palette,
    themes: &[String],
    queues: &[String],
    theme: &Theme,
) {
    let base = p
        .cycle
        .as_ref()
        .map_or(p.edit.text.as_str(), |(b, _)| b.as_str());
    let list = candidates(base, themes, queues);
    let shown = list.len().min(8) as u16;
    let h = 3 + shown + u16::from(p.error.is_some());
    let w = area.width.min(72).max(20.min(area.width));
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + area.height.saturating_sub(h + 2).min(area.height / 3),
        width: w,
        height: h.min(area.height),
    };
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(
            " Command · tab completes · ↑↓ history ",
            theme.title(true),
        ))
        .style(theme.base());
    let mut lines = vec![Line::from(vec![
        Span::styled(":", theme.accent()),
        Span::raw(p.edit.text.clone()),
    ])];
    if let Some(e) = &p.error {
        lines.push(Line::styled(format!("✗ {e}"), theme.fg_of(theme.error)));
    }
    let sel = p.cycle.as_ref().map(|(_, i)| *i);
    for (i, (line, desc)) in list.iter().take(8).enumerate() {
        let style = if sel == Some(i) {
            theme.selection()
        } else {
            theme.base()
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!(" {:<16}", line.trim_end()),
                style.patch(theme.accent()),
            ),
            Span::styled(desc.clone(), theme.muted()),
        ]));
    }
    f.render_widget(Paragraph::new(lines).block(block), r);
    f.set_cursor_position((r.x + 2 + p.edit.cursor_col(), r.y + 1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_commands_and_arguments() {
        let themes = vec!["dark".to_string(), "light".to_string()];
        let queues = vec!["jobs".to_string(), "jokes".to_string()];
        let c = candidates("th", &themes, &queues);
        assert_eq!(c[0].0, "theme ");
        let c = candidates("theme l", &themes, &queues);
        assert_eq!(c[0].0, "theme light");
        let c = candidates("send jo", &themes, &queues);
        assert_eq!(c.len(), 2);
        let mut p = Palette {
            edit: LineEdit::new("receive j"),
            ..Default::default()
        };
        p.complete(&themes, &queues);
        assert_eq!(p.edit.text, "receive jobs");
        p.complete(&themes, &queues);
        assert_eq!(p.edit.text, "receive jokes");
        p.complete(&themes, &queues);
        assert_eq!(p.edit.text, "receive jobs");
    }
}
