//! A yes/no question before a destructive action.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::centered;
use crate::tui::net::NetCommand;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub title: String,
    pub body: String,
    pub on_yes: NetCommand,
}

pub fn draw(f: &mut Frame, area: Rect, c: &Confirm, theme: &Theme) {
    let r = centered(area, 50, 20, 36, 7);
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.fg_of(theme.warn))
        .title(Span::styled(
            format!(" {} ", c.title),
            theme.fg_of(theme.warn),
        ))
        .style(theme.base());
    // The body may run over several lines (the SQL of a run to confirm).
    let mut text: Vec<Line> = c.body.lines().map(|l| Line::raw(l.to_string())).collect();
    text.extend([
        Line::raw(""),
        Line::from(vec![
            Span::styled(" y ", theme.tab(true)),
            Span::raw(" yes   "),
            Span::styled(" n ", theme.tab(true)),
            Span::raw(" no (esc)"),
        ]),
    ]);
    f.render_widget(
        Paragraph::new(text).block(block).wrap(Wrap { trim: false }),
        r,
    );
}
