//! The panes of the frame, one module each. A pane owns its state and draws itself.

pub mod chat;
pub mod logs;
pub mod queues;
pub mod services;

use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};

use crate::tui::theme::Theme;

/// A bordered block with the pane's title, its border coloured by focus.
pub fn pane_block<'a>(title: impl Into<String>, theme: &Theme, focused: bool) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(title.into(), theme.title(focused)))
}

/// "1.2 KB" and friends.
pub fn human_size(n: usize) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
