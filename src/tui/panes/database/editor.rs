//! The SQL editor: a multi-line text area with a history of what was run.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui_textarea::TextArea;

use crate::tui::panes::pane_block;
use crate::tui::theme::Theme;

/// Entries kept in the history (oldest go first), and the longest entry kept.
pub const HISTORY_MAX: usize = 200;
pub const HISTORY_ENTRY_MAX: usize = 64 * 1024;

#[derive(Debug)]
pub struct SqlEditor {
    pub input: TextArea<'static>,
    /// Oldest first.
    pub history: Vec<String>,
    /// Where up/down has walked to; None while editing a new text.
    pos: Option<usize>,
    /// The text being written before the walk started, given back at its end.
    draft: String,
}

impl SqlEditor {
    pub fn new(mut history: Vec<String>) -> SqlEditor {
        history.retain(|h| !h.trim().is_empty() && h.len() <= HISTORY_ENTRY_MAX);
        let over = history.len().saturating_sub(HISTORY_MAX);
        history.drain(..over);
        let mut input = TextArea::default();
        input.set_cursor_line_style(ratatui::style::Style::new());
        SqlEditor {
            input,
            history,
            pos: None,
            draft: String::new(),
        }
    }

    pub fn text(&self) -> String {
        self.input.lines().join("\n")
    }

    pub fn set_text(&mut self, text: &str) {
        self.input.select_all();
        self.input.cut();
        self.input.insert_str(text);
    }

    /// Adds a run to the history (moved to the end if it was there). True when it changed.
    pub fn remember(&mut self, sql: &str) -> bool {
        self.pos = None;
        let sql = sql.trim();
        if sql.is_empty() || sql.len() > HISTORY_ENTRY_MAX {
            return false;
        }
        if self.history.last().is_some_and(|h| h == sql) {
            return false;
        }
        self.history.retain(|h| h != sql);
        self.history.push(sql.to_string());
        let over = self.history.len().saturating_sub(HISTORY_MAX);
        self.history.drain(..over);
        true
    }

    /// One step back (older) or forward (newer) in the history; false when there is none.
    pub fn walk(&mut self, older: bool) -> bool {
        let n = self.history.len();
        let next = match (self.pos, older) {
            (None, true) if n > 0 => Some(n - 1),
            (None, _) => return false,
            (Some(0), true) => return false,
            (Some(i), true) => Some(i - 1),
            (Some(i), false) if i + 1 < n => Some(i + 1),
            (Some(_), false) => None,
        };
        if self.pos.is_none() {
            self.draft = self.text();
        }
        self.pos = next;
        let text = match next {
            Some(i) => self.history[i].clone(),
            None => std::mem::take(&mut self.draft),
        };
        self.set_text(&text);
        true
    }

    /// Whether the cursor is on the first (or last) line, where up (or down) walks the history.
    pub fn at_edge(&self, top: bool) -> bool {
        let row = self.input.cursor().0;
        if top {
            row == 0
        } else {
            row + 1 >= self.input.lines().len()
        }
    }

    pub fn draw(&mut self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool, title: String) {
        self.input.set_block(pane_block(title, theme, focused));
        self.input.set_style(theme.base());
        self.input.set_placeholder_style(theme.muted());
        self.input
            .set_placeholder_text(if focused { "SELECT …" } else { "" });
        let cursor = if focused {
            theme.base().add_modifier(Modifier::REVERSED)
        } else {
            theme.base()
        };
        self.input.set_cursor_style(cursor);
        f.render_widget(&self.input, area);
    }
}
