//! The result grid: rows as they stream in, bounded, scrollable on both axes, with column
//! widths fitted to a sample of the content.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use serde_json::Value;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::client::dataset::cell_text;
use crate::tui::net::ColumnInfo;
use crate::tui::panes::logs::thousands;
use crate::tui::panes::pane_block;
use crate::tui::theme::Theme;

/// Rows kept in memory; reading stops after these (and says so).
pub const MAX_ROWS: usize = 10_000;
/// Widths are fitted to the header and this many rows, and never wider than `MAX_WIDTH`.
pub const WIDTH_SAMPLE: usize = 200;
pub const MAX_WIDTH: usize = 40;
const SPACING: usize = 2;

#[derive(Debug, Default)]
pub struct ResultGrid {
    pub columns: Vec<ColumnInfo>,
    pub rows: Vec<Vec<Value>>,
    pub widths: Vec<usize>,
    /// Rows the room produced (more than `rows` when the result was cut).
    pub seen: u64,
    /// Reading stopped at the bound with rows still to come.
    pub more: bool,
    pub selected: usize,
    /// First column shown (scrolled right).
    pub col_offset: usize,
    /// First row shown; kept so the selection stays on screen.
    offset: usize,
}

impl ResultGrid {
    pub fn set_columns(&mut self, columns: Vec<ColumnInfo>) {
        *self = ResultGrid::default();
        self.widths = columns.iter().map(|c| c.name.width().max(1)).collect();
        self.columns = columns;
    }

    /// Appends rows up to the bound; widths grow while the sample lasts.
    pub fn push_rows(&mut self, rows: Vec<Vec<Value>>) {
        self.seen += rows.len() as u64;
        let room = MAX_ROWS.saturating_sub(self.rows.len());
        for row in rows.into_iter().take(room) {
            if self.rows.len() < WIDTH_SAMPLE {
                fit(&mut self.widths, &row);
            }
            self.rows.push(row);
        }
    }

    /// "12 rows", or "showing first 10,000 of 16,384+ rows" when cut.
    pub fn summary(&self) -> String {
        let n = self.rows.len();
        if self.more || (self.seen as usize) > n {
            let plus = if self.more { "+" } else { "" };
            format!(
                "showing first {} of {}{plus} rows",
                thousands(n),
                thousands(self.seen as usize)
            )
        } else {
            format!("{} row{}", thousands(n), if n == 1 { "" } else { "s" })
        }
    }

    pub fn move_row(&mut self, delta: isize) {
        let last = self.rows.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    pub fn move_col(&mut self, right: bool) {
        let last = self.columns.len().saturating_sub(1);
        self.col_offset = if right {
            (self.col_offset + 1).min(last)
        } else {
            self.col_offset.saturating_sub(1)
        };
    }

    /// The selected row as one CSV line, for copying.
    pub fn selected_line(&self) -> Option<String> {
        let row = self.rows.get(self.selected)?;
        let cells: Vec<String> = row.iter().map(crate::client::dataset::csv_cell).collect();
        Some(cells.join(","))
    }

    pub fn draw(&mut self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool, note: &str) {
        let mut title = if self.columns.is_empty() {
            " Result ".to_string()
        } else {
            format!(" Result · {} ", self.summary())
        };
        if self.col_offset > 0 {
            title.push_str(&format!("· from column {} ", self.col_offset + 1));
        }
        let block = pane_block(title, theme, focused);
        if self.columns.is_empty() {
            f.render_widget(
                Paragraph::new(Line::styled(note.to_string(), theme.muted())).block(block),
                area,
            );
            return;
        }
        let inner = block.inner(area);
        let height = inner.height.saturating_sub(1).max(1) as usize;
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        let end = (self.offset + height).min(self.rows.len());
        let start = self.offset.min(end);
        // Rows past the sample widen their columns when they come on screen (a number cut
        // to "10…" would say nothing).
        for r in &self.rows[start..end] {
            fit(&mut self.widths, r);
        }
        // Columns from the offset that fit; the first one shown always does, cut if need be.
        let mut shown = Vec::new();
        let mut used = 0;
        for (i, w) in self.widths.iter().enumerate().skip(self.col_offset) {
            let w = (*w).min(inner.width.max(1) as usize);
            if !shown.is_empty() && used + w > inner.width as usize {
                break;
            }
            used += w + SPACING;
            shown.push((i, w));
        }
        let rows = self.rows[start..end].iter().map(|r| {
            Row::new(shown.iter().map(|&(i, w)| {
                let v = r.get(i).unwrap_or(&Value::Null);
                let text = truncate(&display(v), w);
                match v {
                    Value::Null => Cell::from(Span::styled(truncate("NULL", w), theme.muted())),
                    Value::Number(_) => Cell::from(Line::from(text).right_aligned()),
                    _ => Cell::from(text),
                }
            }))
        });
        let header = Row::new(shown.iter().map(|&(i, w)| {
            let name = Line::from(truncate(&self.columns[i].name, w));
            // Numbers are right-aligned, and so are their headers.
            if is_numeric(&self.columns[i].ty) {
                Cell::from(name.right_aligned())
            } else {
                Cell::from(name)
            }
        }))
        .style(theme.muted().add_modifier(Modifier::BOLD));
        let table = Table::new(
            rows,
            shown.iter().map(|&(_, w)| Constraint::Length(w as u16)),
        )
        .header(header)
        .column_spacing(SPACING as u16)
        .block(block)
        .row_highlight_style(if focused {
            theme.selection()
        } else {
            theme.base()
        });
        let mut state = TableState::default().with_selected(
            (focused && !self.rows.is_empty()).then_some(self.selected - self.offset),
        );
        f.render_stateful_widget(table, area, &mut state);
    }
}

fn is_numeric(ty: &str) -> bool {
    let t = ty.to_ascii_lowercase();
    ["int", "float", "decimal", "double"]
        .iter()
        .any(|n| t.contains(n))
}

/// A cell on one line: newlines and tabs become spaces.
pub fn display(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        other => cell_text(other).replace(['\n', '\r', '\t'], " "),
    }
}

/// Widens `widths` to fit a row's cells, up to `MAX_WIDTH`.
pub fn fit(widths: &mut [usize], row: &[Value]) {
    for (w, v) in widths.iter_mut().zip(row) {
        *w = (*w).max(display(v).width().min(MAX_WIDTH));
    }
}

/// `s` in at most `w` columns, its end replaced by `…` when cut.
pub fn truncate(s: &str, w: usize) -> String {
    if s.width() <= w {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw + 1 > w {
            break;
        }
        used += cw;
        out.push(c);
    }
    if w > 0 {
        out.push('…');
    }
    out
}
