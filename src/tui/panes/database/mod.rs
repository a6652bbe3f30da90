//! The database pane: the room's tables and their schemas, a SQL editor with history, and
//! the streamed result of the last run with its outcome (or SQLite's error) under the editor.

pub mod editor;
pub mod results;
pub mod sql;
pub mod tables;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use self::editor::SqlEditor;
use self::results::ResultGrid;
use self::sql::SqlKind;
use self::tables::TablesList;
use super::logs::thousands;
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
