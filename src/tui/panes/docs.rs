//! The documents pane: the room's sync documents, and the selected one as JSON, live.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, TableState, Wrap};
use serde_json::Value;

use super::{human_size, json_line, list_block, list_table, matching, pane_block, reselect};
use crate::tui::action::Action;
use crate::tui::net::DocSummary;
use crate::tui::pane::{DrawCx, Focus, Pane, scroll_down, step};
use crate::tui::theme::Theme;
use crate::tui::time::clock;

/// How the followed document is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum DocState {
    Opening,
    Live,
    /// It stopped syncing (or did not open): the room's reason.
    Ended(String),
}

/// The document the view follows.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenDoc {
    pub path: String,
    pub state: DocState,
    pub json: Option<Value>,
    /// `json` pretty-printed, one entry per line.
    pub lines: Vec<String>,
    /// The lines that differ from the version before (by position), marked in the gutter.
    pub changed: Vec<bool>,
    /// Versions received after the first.
    pub updates: u64,
    pub updated_ms: i64,
}

impl OpenDoc {
    pub fn new(path: String) -> OpenDoc {
        OpenDoc {
            path,
            state: DocState::Opening,
            json: None,
            lines: Vec::new(),
            changed: Vec::new(),
            updates: 0,
            updated_ms: 0,
        }
    }

    pub fn pretty(&self) -> Option<String> {
        self.json
            .as_ref()
            .map(|j| serde_json::to_string_pretty(j).unwrap_or_default())
    }
}

#[derive(Debug, Default)]
pub struct DocsPane {
    pub docs: Vec<DocSummary>,
    /// Index into the filtered list.
    pub selected: usize,
    pub filter: String,
    pub loaded: bool,
    /// Why the room could not list its documents, when it could not.
    pub list_error: Option<String>,
    pub open: Option<OpenDoc>,
    /// First line of the document shown.
    pub scroll: usize,
}

impl DocsPane {
    pub fn visible(&self) -> Vec<&DocSummary> {
        matching(&self.docs, &self.filter)
    }

    pub fn selected_path(&self) -> Option<String> {
        self.visible().get(self.selected).map(|d| d.path.clone())
    }

    /// A new list; the selection stays on the same path. True when anything shown changed.
    pub fn set_docs(&mut self, mut list: Vec<DocSummary>) -> bool {
        list.sort_by(|a, b| a.path.cmp(&b.path));
        let changed = !self.loaded || list != self.docs || self.list_error.is_some();
        let keep = self.selected_path();
        self.docs = list;
        self.loaded = true;
        self.list_error = None;
        self.selected = reselect(&self.visible(), keep.as_deref(), self.selected);
        changed
    }

    /// A new filter; the selection stays on its document when that is still listed.
    pub fn set_filter(&mut self, text: &str) {
        let keep = self.selected_path();
        self.filter = text.to_string();
        self.selected = reselect(&self.visible(), keep.as_deref(), self.selected);
    }

    /// A version of the followed document. False when it is not the one followed or nothing
    /// changed.
    pub fn content(&mut self, path: &str, json: Value, now_ms: i64) -> bool {
        let Some(open) = self.open.as_mut().filter(|o| o.path == path) else {
            return false;
        };
        if open.json.as_ref() == Some(&json) && open.state == DocState::Live {
            return false;
        }
        let lines: Vec<String> = serde_json::to_string_pretty(&json)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        let first = open.json.is_none();
        open.changed = if first {
            vec![false; lines.len()]
        } else {
            lines
                .iter()
                .enumerate()
                .map(|(i, l)| open.lines.get(i) != Some(l))
                .collect()
        };
        if !first {
            open.updates += 1;
        }
        open.lines = lines;
        open.json = Some(json);
        open.state = DocState::Live;
        open.updated_ms = now_ms;
        self.scroll = self.scroll.min(open.lines.len().saturating_sub(1));
        true
    }

    pub fn ended(&mut self, path: &str, reason: String) -> bool {
        match self.open.as_mut().filter(|o| o.path == path) {
            Some(open) => {
                open.state = DocState::Ended(reason);
                true
            }
            None => false,
        }
    }

    pub fn draw_list(&self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        if let Some(e) = &self.list_error {
            let lines = vec![
                Line::styled(
                    format!("cannot list documents: {e}"),
                    theme.fg_of(theme.error),
                ),
                Line::styled(":doc PATH follows a document by its path", theme.muted()),
            ];
            f.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(pane_block(" Documents ", theme, focused)),
                area,
            );
            return;
        }
        let vis = self.visible();
        let Some(block) = list_block(
            f,
            area,
            theme,
            focused,
            "Documents",
            vis.len(),
            &self.filter,
            self.loaded,
            "no document matches the filter",
            "no documents yet · `roomdeck room sync create` makes one",
        ) else {
            return;
        };
        let rows = vis.iter().map(|d| {
            let open = if d.open > 0 {
                Line::styled(d.open.to_string(), theme.fg_of(theme.ok)).right_aligned()
            } else {
                Line::styled("-", theme.muted()).right_aligned()
            };
            Row::new(vec![
                Cell::from(d.path.clone()),
                Cell::from(Line::styled(human_size(d.size), theme.muted()).right_aligned()),
                Cell::from(open),
            ])
        });
        let header = vec![
            Cell::from("PATH"),
            Cell::from(Line::from("SIZE").right_aligned()),
            Cell::from(Line::from("OPEN").right_aligned()),
        ];
        let table = list_table(
            rows,
            [
                Constraint::Fill(1),
                Constraint::Length(9),
                Constraint::Length(4),
            ],
            header,
            block,
            theme,
            focused,
        );
        let mut state = TableState::default().with_selected(Some(self.selected));
        f.render_stateful_widget(table, area, &mut state);
    }

    /// The followed document as JSON; only the lines that fit are laid out.
    pub fn draw_view(&self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool, tz: i32) {
        let Some(open) = &self.open else {
            let block = pane_block(" Document ", theme, focused);
            let text = if self.docs.is_empty() {
                "select a document to follow it live"
            } else {
                "select a document (↑ ↓) to follow it live"
            };
            f.render_widget(
                Paragraph::new(Line::styled(text, theme.muted())).block(block),
                area,
            );
            return;
        };
        let (badge, badge_style) = match &open.state {
            DocState::Opening => ("opening…".to_string(), theme.fg_of(theme.warn)),
            DocState::Live => ("● live".to_string(), theme.fg_of(theme.ok)),
            DocState::Ended(_) => ("✕ closed".to_string(), theme.fg_of(theme.error)),
        };
        let mut title = vec![
            Span::styled(format!(" {} ", open.path), theme.title(focused)),
            Span::styled(format!("{badge} "), badge_style),
        ];
        if open.updates > 0 {
            title.push(Span::styled(
                format!(
                    "· {} update{} · {} ",
                    open.updates,
                    if open.updates == 1 { "" } else { "s" },
                    clock(open.updated_ms, tz)
                ),
                theme.muted(),
            ));
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused))
            .title(Line::from(title));
        let mut lines: Vec<Line> = Vec::new();
        if let DocState::Ended(reason) = &open.state {
            lines.push(Line::styled(
                format!("✕ {reason}"),
                theme.fg_of(theme.error),
            ));
        }
        let height = area.height.saturating_sub(2) as usize;
        for (i, text) in open.lines.iter().enumerate().skip(self.scroll).take(height) {
            let mark = if open.changed.get(i).copied().unwrap_or(false) {
                Span::styled("▍", theme.fg_of(theme.ok))
            } else {
                Span::raw(" ")
            };
            let mut spans = vec![mark];
            spans.extend(json_line(text, theme));
            lines.push(Line::from(spans));
        }
        if open.lines.is_empty() && open.state == DocState::Opening {
            lines.push(Line::styled("waiting for the document…", theme.muted()));
        }
        f.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            area,
        );
    }
}

impl Pane for DocsPane {
    fn commands(&self, _focus: Focus) -> &'static [Action] {
        &[
            Action::DocEdit,
            Action::Refresh,
            Action::Filter,
            Action::Copy,
            Action::FocusNext,
            Action::Zoom,
        ]
    }

    fn draw(&mut self, f: &mut Frame, body: Rect, cx: &mut DrawCx) {
        let (list, view) = cx.list_and_detail(body, (Focus::DocList, Focus::DocView), 35);
        if let Some((r, focused)) = list {
            self.draw_list(f, r, cx.theme, focused);
        }
        if let Some((r, focused)) = view {
            self.draw_view(f, r, cx.theme, focused, cx.tz);
        }
    }

    fn navigate(&mut self, focus: Focus, a: Action) {
        if focus == Focus::DocList {
            self.selected = step(self.selected, self.visible().len(), a, 10);
        } else {
            let n = self.open.as_ref().map_or(0, |o| o.lines.len());
            self.scroll = scroll_down(self.scroll, a, 20, n.saturating_sub(1));
        }
    }

    fn filter(&self) -> String {
        self.filter.clone()
    }

    fn set_filter(&mut self, text: &str) {
        DocsPane::set_filter(self, text)
    }

    fn copy_text(&self, _focus: Focus) -> Option<String> {
        self.open.as_ref().and_then(|o| o.pretty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_new_version_marks_the_lines_that_changed() {
        let mut p = DocsPane {
            open: Some(OpenDoc::new("a.doc".into())),
            ..Default::default()
        };
        assert!(p.content("a.doc", json!({"doc": {"title": "x", "n": 1}}), 5));
        assert_eq!(p.open.as_ref().unwrap().updates, 0);
        assert!(!p.content("a.doc", json!({"doc": {"title": "x", "n": 1}}), 6));
        assert!(!p.content("other.doc", json!({}), 6));
        assert!(p.content("a.doc", json!({"doc": {"title": "y", "n": 1}}), 7));
        let open = p.open.as_ref().unwrap();
        assert_eq!(open.updates, 1);
        let marked: Vec<&str> = open
            .lines
            .iter()
            .zip(&open.changed)
            .filter(|(_, c)| **c)
            .map(|(l, _)| l.trim())
            .collect();
        assert_eq!(marked, [r#""title": "y""#]);
    }
}
