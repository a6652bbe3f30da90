//! The room's tables with their row counts, and the selected table's schema.

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::tui::net::{ColumnInfo, TableSummary};
use crate::tui::panes::logs::thousands;
use crate::tui::panes::{list_block, pane_block};
use crate::tui::panes::{list_table, matching, reselect};
use crate::tui::theme::Theme;

#[derive(Debug, Default)]
pub struct TablesList {
    pub tables: Vec<TableSummary>,
    /// Index into the filtered list.
    pub selected: usize,
    pub filter: String,
    pub loaded: bool,
    /// Schemas read so far; forgotten on each refresh (a statement may have changed them).
    pub schemas: HashMap<String, Vec<ColumnInfo>>,
}

impl TablesList {
    pub fn visible(&self) -> Vec<&TableSummary> {
        matching(&self.tables, &self.filter)
    }

    pub fn selected_name(&self) -> Option<String> {
        self.visible().get(self.selected).map(|t| t.name.clone())
    }

    /// Takes a new list (sorted by name), keeping the selection on the same table.
    pub fn set_tables(&mut self, mut list: Vec<TableSummary>) -> bool {
        list.sort_by(|a, b| a.name.cmp(&b.name));
        let changed = !self.loaded || list != self.tables;
        let keep = self.selected_name();
        self.tables = list;
        self.loaded = true;
        self.schemas.clear();
        self.selected = reselect(&self.visible(), keep.as_deref(), self.selected);
        changed
    }

    pub fn clamp(&mut self) {
        self.selected = reselect(&self.visible(), None, self.selected);
    }

    /// The selected table when its schema is still to be read.
    pub fn needs_schema(&self) -> Option<String> {
        self.selected_name()
            .filter(|name| !self.schemas.contains_key(name))
    }

    pub fn draw_list(&self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let vis = self.visible();
        let Some(block) = list_block(
            f,
            area,
            theme,
            focused,
            "Tables",
            vis.len(),
            &self.filter,
            self.loaded,
            "no table matches the filter",
            "no tables yet · CREATE TABLE in the editor",
        ) else {
            return;
        };
        let rows = vis.iter().map(|t| {
            let count = t
                .rows
                .map_or_else(|| "?".to_string(), |n| thousands(n as usize));
            Row::new(vec![
                Cell::from(t.name.clone()),
                Cell::from(Line::styled(count, theme.muted()).right_aligned()),
            ])
        });
        let header = vec![
            Cell::from("NAME"),
            Cell::from(Line::from("ROWS").right_aligned()),
        ];
        let table = list_table(
            rows,
            [Constraint::Fill(1), Constraint::Length(9)],
            header,
            block,
            theme,
            focused,
        );
        let mut state = TableState::default().with_selected(Some(self.selected));
        f.render_stateful_widget(table, area, &mut state);
    }

    pub fn draw_schema(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let Some(name) = self.selected_name() else {
            let block = pane_block(" Schema ", theme, false);
            f.render_widget(
                Paragraph::new(Line::styled("no table selected", theme.muted())).block(block),
                area,
            );
            return;
        };
        let block = pane_block(format!(" Schema · {name} "), theme, false);
        let Some(cols) = self.schemas.get(&name) else {
            f.render_widget(
                Paragraph::new(Line::styled("loading…", theme.muted())).block(block),
                area,
            );
            return;
        };
        let rows = cols.iter().map(|c| {
            Row::new(vec![
                Cell::from(c.name.clone()),
                Cell::from(Line::styled(c.ty.to_ascii_lowercase(), theme.accent())),
                Cell::from(Line::styled(
                    if c.nullable { "" } else { "not null" },
                    theme.muted(),
                )),
            ])
        });
        let table = Table::new(
            rows,
            [
                Constraint::Fill(1),
                Constraint::Fill(1),
                Constraint::Length(8),
            ],
        )
        .block(block);
        f.render_widget(table, area);
    }
}
