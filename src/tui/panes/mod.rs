//! The panes of the frame, one module each. A pane owns its state and draws itself.

pub mod chat;
pub mod database;
pub mod docs;
pub mod logs;
pub mod overview;
pub mod queues;
pub mod services;
pub mod storage;
pub mod timeline;
pub mod tools;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use crate::tui::theme::Theme;

/// A list pane's block titled `Noun N` (with the filter, if any). When the list is empty it
/// draws the block with the right message (loading, nothing matches, or `empty`) and
/// returns None.
#[allow(clippy::too_many_arguments)]
pub fn list_block<'a>(
    f: &mut Frame,
    area: Rect,
    theme: &Theme,
    focused: bool,
    noun: &str,
    count: usize,
    filter: &str,
    loaded: bool,
    no_match: &str,
    empty: &str,
) -> Option<Block<'a>> {
    let title = if filter.is_empty() {
        format!(" {noun} {count} ")
    } else {
        format!(" {noun} {count} · filter \"{filter}\" ")
    };
    let block = pane_block(title, theme, focused);
    if count > 0 {
        return Some(block);
    }
    let msg = if !loaded {
        "loading…"
    } else if !filter.is_empty() {
        no_match
    } else {
        empty
    };
    f.render_widget(
        Paragraph::new(Line::styled(msg.to_string(), theme.muted())).block(block),
        area,
    );
    None
}

/// A row of a list pane that is filtered and kept selected by its name (queues, tables,
/// documents).
pub trait Named {
    fn name(&self) -> &str;
}

impl Named for crate::tui::net::QueueSummary {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Named for crate::tui::net::TableSummary {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Named for crate::tui::net::DocSummary {
    fn name(&self) -> &str {
        &self.path
    }
}

/// The rows whose name holds `filter` (in any case), in order.
pub fn matching<'a, T: Named>(rows: &'a [T], filter: &str) -> Vec<&'a T> {
    rows.iter()
        .filter(|r| filter.is_empty() || logs::find_ci(r.name(), filter).is_some())
        .collect()
}

/// The selection once the list or its filter changed: the row named `keep` while it is still
/// shown, otherwise `current`, kept within the list.
pub fn reselect<T: Named>(visible: &[&T], keep: Option<&str>, current: usize) -> usize {
    keep.and_then(|k| visible.iter().position(|r| r.name() == k))
        .unwrap_or(current)
        .min(visible.len().saturating_sub(1))
}

/// A list pane's table: a bold muted header row, the selected row highlighted (with ▶ while
/// the pane has the focus).
pub fn list_table<'a>(
    rows: impl IntoIterator<Item = Row<'a>>,
    widths: impl IntoIterator<Item = Constraint>,
    header: Vec<Cell<'a>>,
    block: Block<'a>,
    theme: &Theme,
    focused: bool,
) -> Table<'a> {
    Table::new(rows, widths)
        .header(Row::new(header).style(theme.muted().add_modifier(Modifier::BOLD)))
        .block(block)
        .row_highlight_style(if focused {
            theme.selection()
        } else {
            theme.base().add_modifier(Modifier::BOLD)
        })
        .highlight_symbol(if focused { "▶ " } else { "  " })
}

/// A bordered block with the pane's title, its border coloured by focus.
pub fn pane_block<'a>(title: impl Into<String>, theme: &Theme, focused: bool) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(title.into(), theme.title(focused)))
}

/// A name cut to `n` characters, with `…` when it was longer.
pub fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// "1.2 KB" and friends.
pub fn human_size(n: u64) -> String {
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

/// One line of pretty JSON, its key (if any) coloured apart from its value.
pub fn json_line<'a>(line: &'a str, theme: &Theme) -> Vec<Span<'a>> {
    let body = line.trim_start();
    let indent = &line[..line.len() - body.len()];
    if body.starts_with('"')
        && let Some(end) = key_end(body)
        && body[end..].starts_with(": ")
    {
        let (key, value) = body.split_at(end);
        return vec![
            Span::raw(indent),
            Span::styled(key, theme.accent()),
            Span::raw(value),
        ];
    }
    vec![Span::raw(line)]
}

/// The byte just after the closing quote of the JSON string that starts `s`.
fn key_end(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i + 1),
            _ => escaped = false,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_are_split_from_values_even_with_quotes_inside() {
        let t = Theme::builtin("dark").unwrap();
        let spans = json_line(r#"    "a \"b\": c": "x: y","#, &t);
        let texts: Vec<&str> = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(texts, ["    ", r#""a \"b\": c""#, r#": "x: y","#]);
        let spans = json_line(r#"  "just a string","#, &t);
        assert_eq!(spans.len(), 1);
    }
}
