//! One event in full: its JSON (`Event::to_json`), pretty and scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::timeline::Event;
use crate::tui::panes::{json_line, pane_block};
use crate::tui::theme::Theme;

#[derive(Debug, Clone)]
pub struct Detail {
    /// The event's index in the session.
    pub index: usize,
    pub lines: Vec<String>,
    pub scroll: usize,
    pub last_rows: usize,
}

impl Detail {
    pub fn new(index: usize, event: &Event, started_at_ms: u64) -> Detail {
        let json = event.to_json(started_at_ms);
        let text = serde_json::to_string_pretty(&json).unwrap_or_default();
        Detail {
            index,
            lines: text.lines().map(str::to_string).collect(),
            scroll: 0,
            last_rows: 10,
        }
    }

    /// Lines are cut, not wrapped, so that scrolling is by line.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    pub fn draw(&mut self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let block = pane_block(format!(" Event #{} ", self.index + 1), theme, focused);
        let inner = block.inner(area);
        self.last_rows = (inner.height as usize).max(1);
        self.scroll = self.scroll.min(self.lines.len().saturating_sub(1));
        let lines: Vec<Line> = self
            .lines
            .iter()
            .skip(self.scroll)
            .take(inner.height as usize)
            .map(|l| Line::from(json_line(l, theme)))
            .collect();
        f.render_widget(Paragraph::new(lines).block(block), area);
    }
}
