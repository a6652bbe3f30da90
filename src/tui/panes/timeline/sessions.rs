//! The room's recorded sessions, newest first.

use std::path::Path;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row, TableState};

use crate::timeline::{SessionInfo, list_sessions};
use crate::tui::panes::{human_size, list_block, list_table, logs::thousands};
use crate::tui::theme::Theme;
use crate::tui::time::date_time;

#[derive(Debug, Default)]
pub struct Sessions {
    pub list: Vec<SessionInfo>,
    pub selected: usize,
    /// Event counts of the sessions opened so far, by directory.
    pub counts: std::collections::HashMap<std::path::PathBuf, usize>,
    pub loaded: bool,
    pub error: Option<String>,
}

impl Sessions {
    /// Lists `root` again, keeping the selection on the same session.
    pub fn reload(&mut self, root: &Path) {
        let keep = self.list.get(self.selected).map(|s| s.dir.clone());
        match list_sessions(root) {
            Ok(list) => {
                self.list = list;
                self.error = None;
            }
            Err(e) => self.error = Some(format!("cannot list {}: {e}", root.display())),
        }
        self.loaded = true;
        self.selected = keep
            .and_then(|k| self.list.iter().position(|s| s.dir == k))
            .unwrap_or(0)
            .min(self.list.len().saturating_sub(1));
    }

    pub fn draw(&self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool, tz: i32) {
        let Some(block) = list_block(
            f,
            area,
            theme,
            focused,
            "Sessions",
            self.list.len(),
            "",
            self.loaded,
            "",
            self.error.as_deref().unwrap_or("no recorded sessions yet"),
        ) else {
            return;
        };
        let rows = self.list.iter().map(|s| {
            let events = self
                .counts
                .get(&s.dir)
                .map_or(String::new(), |n| format!("{} events", thousands(*n)));
            Row::new(vec![
                Cell::from(date_time(s.meta.started_at_ms as i64, tz)),
                Cell::from(s.meta.source.clone()),
                Cell::from(human_size(s.bytes)),
                Cell::from(events),
            ])
        });
        let table = list_table(
            rows,
            [
                Constraint::Length(16),
                Constraint::Fill(1),
                Constraint::Length(9),
                Constraint::Length(16),
            ],
            vec![
                Cell::from("started"),
                Cell::from("source"),
                Cell::from("size"),
                Cell::from("events"),
            ],
            block,
            theme,
            focused,
        );
        let mut state = TableState::default().with_selected(Some(self.selected));
        f.render_stateful_widget(table, area, &mut state);
    }
}
