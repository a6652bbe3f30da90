//! Popups drawn over the frame: help, command palette, confirm, the JSON prompt, rooms.

pub mod confirm;
pub mod help;
pub mod palette;
pub mod path;
pub mod peer;
pub mod prompt;
pub mod rooms;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Clear};

use super::theme::Theme;

/// A single-line text editor (palette, filters, search, names).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineEdit {
    pub text: String,
    /// Cursor as a char index.
    pub cursor: usize,
}

pub enum EditOutcome {
    Changed,
    Unchanged,
    Submit,
    Cancel,
    /// A key the editor does not use (Tab, Up, Down...).
    Other,
}

impl LineEdit {
    pub fn new(text: &str) -> LineEdit {
        LineEdit {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    pub fn set(&mut self, text: &str) {
        *self = LineEdit::new(text);
    }

    fn byte_at(&self, char_idx: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_idx)
            .map_or(self.text.len(), |(i, _)| i)
    }

    pub fn insert_str(&mut self, s: &str) {
        for c in s.chars().filter(|c| !c.is_control()) {
            let b = self.byte_at(self.cursor);
            self.text.insert(b, c);
            self.cursor += 1;
        }
    }

    pub fn handle(&mut self, ev: &KeyEvent) -> EditOutcome {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let len = self.text.chars().count();
        match ev.code {
            KeyCode::Enter => EditOutcome::Submit,
            KeyCode::Esc => EditOutcome::Cancel,
            KeyCode::Char('c') if ctrl => EditOutcome::Cancel,
            KeyCode::Char('u') if ctrl => {
                let b = self.byte_at(self.cursor);
                self.text.replace_range(..b, "");
                self.cursor = 0;
                EditOutcome::Changed
            }
            KeyCode::Char('w') if ctrl => {
                let chars: Vec<char> = self.text.chars().collect();
                let mut start = self.cursor;
                while start > 0 && chars[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && chars[start - 1] != ' ' {
                    start -= 1;
                }
                let (a, b) = (self.byte_at(start), self.byte_at(self.cursor));
                self.text.replace_range(a..b, "");
                self.cursor = start;
                EditOutcome::Changed
            }
            KeyCode::Char('a') if ctrl => {
                self.cursor = 0;
                EditOutcome::Unchanged
            }
            KeyCode::Char('e') if ctrl => {
                self.cursor = len;
                EditOutcome::Unchanged
            }
            KeyCode::Char(c) if !ctrl => {
                let b = self.byte_at(self.cursor);
                self.text.insert(b, c);
                self.cursor += 1;
                EditOutcome::Changed
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let b = self.byte_at(self.cursor - 1);
                self.text.remove(b);
                self.cursor -= 1;
                EditOutcome::Changed
            }
            KeyCode::Delete if self.cursor < len => {
                let b = self.byte_at(self.cursor);
                self.text.remove(b);
                EditOutcome::Changed
            }
            KeyCode::Left => {
                self.cursor = self.cursor.saturating_sub(1);
                EditOutcome::Unchanged
            }
            KeyCode::Right => {
                self.cursor = (self.cursor + 1).min(len);
                EditOutcome::Unchanged
            }
            KeyCode::Home => {
                self.cursor = 0;
                EditOutcome::Unchanged
            }
            KeyCode::End => {
                self.cursor = len;
                EditOutcome::Unchanged
            }
            KeyCode::Backspace | KeyCode::Delete => EditOutcome::Unchanged,
            _ => EditOutcome::Other,
        }
    }

    /// Screen column of the cursor, from the start of the text.
    pub fn cursor_col(&self) -> u16 {
        use unicode_width::UnicodeWidthStr;
        let b = self.byte_at(self.cursor);
        self.text[..b].width() as u16
    }
}

/// Clears `r` and draws a popup's border with `title` there; returns the inside, split into
/// the body, `below` lines under it (errors, the line being typed) and the hint line.
pub fn framed(f: &mut Frame, r: Rect, title: String, below: u16, theme: &Theme) -> [Rect; 3] {
    f.render_widget(Clear, r);
    let block = popup_block(title, theme);
    let inner = block.inner(r);
    f.render_widget(block, r);
    Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(below),
        Constraint::Length(1),
    ])
    .areas(inner)
}

/// A popup's border, focused, with `title`.
pub fn popup_block(title: String, theme: &Theme) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(title, theme.title(true)))
        .style(theme.base())
}

/// A rectangle of `pct_w`% x `pct_h`% centred in `area`, at least `min_w` x `min_h`.
pub fn centered(area: Rect, pct_w: u16, pct_h: u16, min_w: u16, min_h: u16) -> Rect {
    let w = (area.width * pct_w / 100).max(min_w).min(area.width);
    let h = (area.height * pct_h / 100).max(min_h).min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn edits() {
        let mut e = LineEdit::new("héllo");
        e.handle(&k(KeyCode::Backspace));
        assert_eq!(e.text, "héll");
        e.handle(&k(KeyCode::Home));
        e.handle(&k(KeyCode::Char('>')));
        assert_eq!(e.text, ">héll");
        e.handle(&k(KeyCode::End));
        e.insert_str(" world");
        e.handle(&KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
        assert_eq!(e.text, ">héll ");
        assert!(matches!(e.handle(&k(KeyCode::Enter)), EditOutcome::Submit));
        assert_eq!(e.cursor_col(), 6);
    }
}
