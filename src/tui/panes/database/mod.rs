//! The database pane: the room's tables and their schemas, a SQL editor with history, and
//! the streamed result of the last run with its outcome (or SQLite's error) under the editor.

pub mod editor;
pub mod results;
pub mod sql;
pub mod tables;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use self::editor::SqlEditor;
use self::results::ResultGrid;
use self::sql::SqlKind;
use self::tables::TablesList;
use super::logs::thousands;
use crate::tui::action::Action;
use crate::tui::keymap::Context;
use crate::tui::pane::{DrawCx, Focus, Pane, step};
use crate::tui::theme::Theme;

/// The run in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Running {
    pub id: u64,
    pub sql: String,
    pub kind: SqlKind,
    pub started_ms: i64,
    /// Esc was pressed; waiting for the room to say it stopped.
    pub cancelling: bool,
}

/// How the last run ended, shown on the line under the editor.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Rows {
        ms: i64,
    },
    Affected {
        rows: u64,
        ms: i64,
    },
    Cancelled,
    /// SQLite's message, or why the console refused to send it.
    Error(String),
}

#[derive(Debug)]
pub struct DatabasePane {
    pub tables: TablesList,
    pub editor: SqlEditor,
    pub results: ResultGrid,
    pub running: Option<Running>,
    pub outcome: Option<Outcome>,
    /// The SQL and kind of the result on screen (an export may run it again).
    pub result_sql: Option<(String, SqlKind)>,
    next_id: u64,
}

impl DatabasePane {
    pub fn new(history: Vec<String>) -> DatabasePane {
        DatabasePane {
            tables: TablesList::default(),
            editor: SqlEditor::new(history),
            results: ResultGrid::default(),
            running: None,
            outcome: None,
            result_sql: None,
            next_id: 1,
        }
    }

    /// Starts a run: clears the last result and returns the run's id.
    pub fn begin(&mut self, sql: String, kind: SqlKind, now_ms: i64) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.results = ResultGrid::default();
        self.outcome = None;
        self.result_sql = Some((sql.clone(), kind));
        self.running = Some(Running {
            id,
            sql,
            kind,
            started_ms: now_ms,
            cancelling: false,
        });
        id
    }

    /// The line under the editor: progress, the outcome, or the error (wrapped, in red).
    pub fn status_lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let line = |text: String, style| vec![Line::styled(format!(" {text}"), style)];
        if let Some(r) = &self.running {
            let what = if r.cancelling {
                "cancelling…"
            } else {
                "running…"
            };
            let n = self.results.rows.len();
            return line(
                // No clock here: the frame is redrawn only when something changes.
                format!("◌ {what} {} rows so far · esc cancels", thousands(n)),
                theme.fg_of(theme.warn),
            );
        }
        match &self.outcome {
            None => line(
                "enter on a table writes a SELECT; write SQL above".into(),
                theme.muted(),
            ),
            Some(Outcome::Rows { ms }) => line(
                format!("✓ {} in {ms} ms", self.results.summary()),
                theme.fg_of(theme.ok),
            ),
            Some(Outcome::Affected { rows, ms }) => line(
                format!(
                    "✓ {} row{} changed in {ms} ms",
                    thousands(*rows as usize),
                    if *rows == 1 { "" } else { "s" }
                ),
                theme.fg_of(theme.ok),
            ),
            Some(Outcome::Cancelled) => line("✕ cancelled".into(), theme.fg_of(theme.warn)),
            Some(Outcome::Error(e)) => line(format!("✗ {e}"), theme.fg_of(theme.error)),
        }
    }

    /// Rows the status takes at `width` (an error wraps to at most 3).
    pub fn status_height(&self, width: u16) -> u16 {
        match &self.outcome {
            Some(Outcome::Error(e)) if self.running.is_none() => {
                let w = width.max(1) as usize;
                ((e.chars().count() + 3).div_ceil(w) as u16).clamp(1, 3)
            }
            _ => 1,
        }
    }

    pub fn draw_status(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        f.render_widget(
            Paragraph::new(self.status_lines(theme)).wrap(Wrap { trim: false }),
            area,
        );
    }
}

impl Pane for DatabasePane {
    fn commands(&self, _focus: Focus) -> &'static [Action] {
        &[
            Action::Select,
            Action::SqlRun,
            Action::SqlEdit,
            Action::Refresh,
            Action::SqlExport,
            Action::Filter,
            Action::FocusNext,
            Action::Zoom,
        ]
    }

    /// Tables and schema on the left; the editor, its status line and the result on the right.
    fn draw(&mut self, f: &mut Frame, body: Rect, cx: &mut DrawCx) {
        let theme = cx.theme;
        let editor_h = (self.editor.input.lines().len() as u16 + 2).clamp(3, 10);
        let (mut tables, mut schema, mut editor, mut results) = (None, None, None, None);
        if cx.zoom {
            match cx.focus {
                Focus::DbTables => tables = Some(body),
                Focus::DbEditor => editor = Some(body),
                _ => results = Some(body),
            }
        } else {
            let left_w = if body.width >= 90 { 30 } else { 24 };
            let [left, right] =
                Layout::horizontal([Constraint::Length(left_w), Constraint::Fill(1)]).areas(body);
            let cols = self
                .tables
                .selected_name()
                .and_then(|t| self.tables.schemas.get(&t))
                .map_or(1, |c| c.len().max(1)) as u16;
            let [t, s] = Layout::vertical([
                Constraint::Fill(1),
                Constraint::Length((cols + 2).clamp(3, left.height / 2)),
            ])
            .areas(left);
            let status_h = self.status_height(right.width);
            let [e, r] = Layout::vertical([
                Constraint::Length((editor_h + status_h).min(right.height / 2).max(4)),
                Constraint::Fill(1),
            ])
            .areas(right);
            (tables, schema, editor, results) = (Some(t), Some(s), Some(e), Some(r));
        }
        if let Some(r) = tables {
            cx.place(r, Focus::DbTables);
            self.tables
                .draw_list(f, r, theme, cx.focused(Focus::DbTables));
        }
        if let Some(r) = schema {
            self.tables.draw_schema(f, r, theme);
        }
        if let Some(r) = editor {
            // The status (progress, outcome or SQLite's error) takes the editor's last rows.
            let status_h = self.status_height(r.width).min(r.height.saturating_sub(3));
            let [e, st] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(status_h)]).areas(r);
            cx.place(e, Focus::DbEditor);
            let run = cx
                .keymap
                .key_for(Context::Database, Action::SqlRun)
                .map(|k| format!("{k} run · "))
                .unwrap_or_default();
            let title = if cx.typing {
                format!(" SQL · {run}esc done ")
            } else {
                " SQL · i to write ".to_string()
            };
            self.editor.draw(f, e, theme, cx.typing, title);
            self.draw_status(f, st, theme);
        }
        if let Some(r) = results {
            cx.place(r, Focus::DbResults);
            let note = if self.running.is_some() {
                "waiting for the first rows…"
            } else {
                "no result yet"
            };
            self.results
                .draw(f, r, theme, cx.focused(Focus::DbResults), note);
        }
    }

    fn navigate(&mut self, focus: Focus, a: Action) {
        match focus {
            Focus::DbTables => {
                let n = self.tables.visible().len();
                self.tables.selected = step(self.tables.selected, n, a, 10);
            }
            Focus::DbResults => self.results.move_row(match a {
                Action::Up => -1,
                Action::Down => 1,
                Action::PageUp => -20,
                Action::PageDown => 20,
                Action::Top => isize::MIN,
                _ => isize::MAX,
            }),
            _ => {}
        }
    }

    fn filter(&self) -> String {
        self.tables.filter.clone()
    }

    fn set_filter(&mut self, text: &str) {
        self.tables.filter = text.to_string();
        self.tables.clamp();
    }

    fn copy_text(&self, focus: Focus) -> Option<String> {
        if focus == Focus::DbResults {
            self.results.selected_line()
        } else {
            self.tables.selected_name()
        }
    }
}
