//! Drawing the files pane: the tree (with transfers below it) and the preview.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row as TableRow};

use super::tree::RowKind;
use super::{Preview, StoragePane, Transfer};
use crate::tui::net::TransferKind;
use crate::tui::panes::list_table;
use crate::tui::panes::{cut, human_size, list_block, pane_block};
use crate::tui::theme::Theme;
use crate::tui::time::date_time;

impl StoragePane {
    pub fn draw_tree(&mut self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool, tz: i32) {
        let area = if self.transfers.is_empty() {
            area
        } else {
            let h = (self.transfers.len() as u16 + 2).min(area.height / 2);
            let [tree, xfers] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(h)]).areas(area);
            draw_transfers(f, xfers, theme, &self.transfers);
            tree
        };
        self.rows_area = Rect::default();
        let rows = self.tree.rows(&self.filter);
        let count = rows.iter().filter(|r| r.entry().is_some()).count();
        let Some(block) = list_block(
            f,
            area,
            theme,
            focused,
            "Files",
            count,
            &self.filter,
            self.loaded,
            "no file matches the filter",
            "no files in this room yet · u uploads one",
        ) else {
            return;
        };
        let inner = block.inner(area);
        // A narrow tree gives the name the room: the modified time shortens to "MM-DD HH:MM"
        // and then goes, and a name too long for what is left is cut with "…".
        let mod_w: u16 = match inner.width {
            0..44 => 0,
            44..64 => 11,
            _ => 16,
        };
        let when = |ms: Option<i64>| {
            let full = ms.map(|t| date_time(t, tz)).unwrap_or_default();
            full.chars().skip(16 - mod_w as usize).collect::<String>()
        };
        let name_w = inner.width.saturating_sub(2 + 9 + mod_w + 2) as usize; // ▶, size, time, two gaps
        let table_rows: Vec<TableRow> = rows
            .iter()
            .map(|r| {
                let indent = "  ".repeat(r.depth);
                match r.kind {
                    RowKind::Entry(e) if e.is_folder => TableRow::new(vec![
                        Cell::from(Line::from(vec![
                            Span::raw(indent.clone()),
                            Span::styled(if r.open { "▾ " } else { "▸ " }, theme.accent()),
                            Span::styled(
                                cut(
                                    &format!("{}/", e.name),
                                    name_w.saturating_sub(indent.len() + 2),
                                ),
                                theme.accent(),
                            ),
                        ])),
                        Cell::from(""),
                        Cell::from(Span::styled(when(e.modified_ms), theme.muted())),
                    ]),
                    RowKind::Entry(e) => TableRow::new(vec![
                        Cell::from(format!(
                            "{indent}  {}",
                            cut(&e.name, name_w.saturating_sub(indent.len() + 2))
                        )),
                        Cell::from(
                            Line::from(e.size.map(human_size).unwrap_or_default()).right_aligned(),
                        ),
                        Cell::from(Span::styled(when(e.modified_ms), theme.muted())),
                    ]),
                    RowKind::Loading => TableRow::new(vec![Cell::from(Span::styled(
                        format!("{indent}  loading…"),
                        theme.muted(),
                    ))]),
                    RowKind::More(n) => TableRow::new(vec![Cell::from(Span::styled(
                        format!("{indent}  … {n} more not shown"),
                        theme.muted(),
                    ))]),
                }
            })
            .collect();
        let header = vec![
            Cell::from("NAME"),
            Cell::from(Line::from("SIZE").right_aligned()),
            Cell::from("MODIFIED"),
        ];
        let table = list_table(
            table_rows,
            [
                Constraint::Fill(1),
                Constraint::Length(9),
                Constraint::Length(mod_w),
            ],
            header,
            block,
            theme,
            focused,
        );
        drop(rows);
        self.table.select(Some(self.selected));
        f.render_stateful_widget(table, area, &mut self.table);
        self.rows_area = Rect {
            y: inner.y + 1,
            height: inner.height.saturating_sub(1),
            ..inner
        };
    }

    pub fn draw_preview(&self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let msg = |text: String| Paragraph::new(Line::styled(text, theme.muted()));
        let (title, body) = match &self.preview {
            Preview::None => {
                let text = match self.selected_entry() {
                    Some((path, e)) if e.is_folder => {
                        format!("{path}/ · enter opens it · u uploads into it")
                    }
                    _ => "select a file to preview it".to_string(),
                };
                (" Preview ".to_string(), msg(text))
            }
            Preview::Loading { path } => (format!(" Preview · {path} "), msg("loading…".into())),
            Preview::Failed { path, error } => (
                format!(" Preview · {path} "),
                Paragraph::new(Line::styled(error.clone(), theme.fg_of(theme.error))),
            ),
            Preview::Ready { path, size, text } => {
                let mut lines: Vec<Line> = text
                    .lines
                    .iter()
                    .skip(self.preview_scroll)
                    .map(|l| Line::raw(l.as_str()))
                    .collect();
                if text.partial {
                    lines.push(Line::styled(
                        format!(
                            "… the first {} of {} are shown",
                            human_size(super::preview::PREVIEW_BYTES.min(*size)),
                            human_size(*size)
                        ),
                        theme.muted(),
                    ));
                }
                (
                    format!(" Preview · {path} · {} · {} ", text.kind, human_size(*size)),
                    Paragraph::new(lines),
                )
            }
        };
        f.render_widget(body.block(pane_block(title, theme, focused)), area);
    }
}

fn draw_transfers(f: &mut Frame, area: Rect, theme: &Theme, transfers: &[Transfer]) {
    let lines: Vec<Line> = transfers
        .iter()
        .map(|t| {
            let arrow = match t.kind {
                TransferKind::Upload => "↑",
                TransferKind::Download => "↓",
            };
            let (amount, pct) = match t.total {
                Some(total) if total > 0 => (
                    format!("{} / {}", human_size(t.done), human_size(total)),
                    Some((t.done.min(total) * 100 / total) as usize),
                ),
                _ => (human_size(t.done), None),
            };
            // The numbers first: a long path is what gets cut on a narrow pane.
            let mut spans = vec![Span::styled(format!("{arrow} "), theme.accent())];
            if let Some(p) = pct {
                let filled = p / 10;
                spans.push(Span::raw(format!("{p:>3}% ")));
                spans.push(Span::styled(
                    format!("{}{} ", "█".repeat(filled), "░".repeat(10 - filled)),
                    theme.accent(),
                ));
            }
            spans.push(Span::styled(format!("{amount}  "), theme.muted()));
            spans.push(Span::raw(t.path.clone()));
            Line::from(spans)
        })
        .collect();
    let block = pane_block(format!(" Transfers {} ", transfers.len()), theme, false);
    f.render_widget(Paragraph::new(lines).block(block), area);
}
