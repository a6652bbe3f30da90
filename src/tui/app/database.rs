//! `App::update` for the database tab: keys in the SQL editor, runs (with the read-only and
//! confirm checks), the streamed result, and exports.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, Effect, Focus, NoticeLevel, Popup, Tab};
use crate::tui::action::Action;
use crate::tui::keymap::Context;
use crate::tui::net::{ExportFormat, ExportSource, NetCommand, NetEvent, SqlEvent};
use crate::tui::panes::database::results::MAX_ROWS;
use crate::tui::panes::database::sql::{SqlKind, classify};
use crate::tui::panes::database::{Outcome, Running};
use crate::tui::popups::confirm::Confirm;
use crate::tui::popups::prompt::{Prompt, PromptKind};

pub const READ_ONLY_SQL: &str =
    "read-only mode: only SELECT, WITH, VALUES, EXPLAIN and PRAGMA reads run";

/// The export path offered first.
pub const DEFAULT_EXPORT: &str = "./result.csv";

impl App {
    /// True while keys go to the SQL editor.
    pub fn editing_sql(&self) -> bool {
        self.tab == Tab::Database && self.focused() == Focus::DbEditor
    }

    /// A key in the editor: bound chords with a modifier (and f-keys) act, esc cancels a run
    /// or leaves, up/down at the first/last line walk the history; the rest is typed.
    pub(super) fn sql_key(&mut self, k: KeyEvent) {
        let ctrl_alt = k
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        let bound = self.keymap.action_for(Context::Database, &k);
        match k.code {
            KeyCode::Esc => match &self.panes.database.running {
                Some(_) => self.cancel_sql(),
                None => self.set_focus(Focus::DbTables),
            },
            KeyCode::Tab if !ctrl_alt => self.do_action(Action::FocusNext),
            KeyCode::BackTab => self.do_action(Action::FocusPrev),
            _ if (ctrl_alt || matches!(k.code, KeyCode::F(_))) && bound.is_some() => {
                if let Some(a) = bound {
                    self.do_action(a);
                }
            }
            KeyCode::Up if !ctrl_alt && self.panes.database.editor.at_edge(true) => {
                self.do_action(Action::SqlHistoryPrev)
            }
            KeyCode::Down if !ctrl_alt && self.panes.database.editor.at_edge(false) => {
                self.do_action(Action::SqlHistoryNext)
            }
            _ => {
                self.panes.database.editor.input.input(k);
            }
        }
    }

    /// Runs the editor's SQL (or `sql` from the palette) after the checks.
    pub(super) fn run_sql(&mut self, sql: String) {
        if self.panes.database.running.is_some() {
            self.notify(NoticeLevel::Info, "a query is running: esc cancels it");
            return;
        }
        let kind = classify(&sql);
        if kind == SqlKind::Empty {
            self.notify(NoticeLevel::Info, "nothing to run: write SQL in the editor");
            return;
        }
        if self.read_only && kind != SqlKind::Read {
            self.panes.database.outcome = Some(Outcome::Error(READ_ONLY_SQL.into()));
            self.notify(NoticeLevel::Error, READ_ONLY_SQL);
            return;
        }
        if !self.live("run SQL") {
            return;
        }
        if kind == SqlKind::Destructive {
            let shown: String = sql.chars().take(200).collect();
            self.popup = Some(Popup::Confirm(Confirm {
                title: "Run SQL that drops or deletes".into(),
                body: format!("{shown}\n\nThis drops or deletes data. Run it?"),
                on_yes: NetCommand::SqlRun {
                    id: 0,
                    sql,
                    keep: MAX_ROWS,
                },
            }));
            return;
        }
        self.start_sql(sql, kind);
    }

    /// Sends a checked run (after its confirm, for a destructive one).
    pub(super) fn start_sql(&mut self, sql: String, kind: SqlKind) {
        if self.panes.database.editor.remember(&sql)
            && let Some(path) = self.sql_history_file.clone()
        {
            self.outbox.push(Effect::SaveSqlHistory {
                path,
                entries: self.panes.database.editor.history.clone(),
            });
        }
        let id = self.panes.database.begin(sql.clone(), kind, self.now_ms);
        self.send(NetCommand::SqlRun {
            id,
            sql,
            keep: MAX_ROWS,
        });
    }

    pub(super) fn cancel_sql(&mut self) {
        if let Some(r) = &mut self.panes.database.running {
            r.cancelling = true;
            let id = r.id;
            self.send(NetCommand::SqlCancel { id });
        }
    }

    pub(super) fn refresh_tables(&mut self) {
        if self.conn == crate::tui::net::ConnState::Live {
            self.send(NetCommand::RefreshTables);
        }
    }

    /// Reads the selected table's schema if it is not known yet.
    pub(super) fn inspect_selected(&mut self) {
        if let Some(table) = self.panes.database.tables.needs_schema()
            && self.conn == crate::tui::net::ConnState::Live
        {
            self.send(NetCommand::InspectTable { table });
        }
    }

    /// Enter on a table: a query for its first rows, ready to run.
    pub(super) fn select_table(&mut self) {
        if let Some(t) = self.panes.database.tables.selected_name() {
            let sql = format!("SELECT * FROM \"{}\" LIMIT 100", t.replace('"', "\"\""));
            // The focus stays on the list: the keys shown a moment ago keep their meaning.
            self.panes.database.editor.set_text(&sql);
            let run = self
                .keymap
                .key_for(
                    crate::tui::keymap::Context::Database,
                    crate::tui::action::Action::SqlRun,
                )
                .map_or("f5".to_string(), |k| k.to_string());
            self.notify(
                NoticeLevel::Info,
                format!("query ready in the editor: {run} runs it, i edits it"),
            );
        }
    }

    pub(super) fn ask_export(&mut self) {
        if self.panes.database.results.columns.is_empty() {
            self.notify(NoticeLevel::Info, "no result to export: run a query first");
            return;
        }
        let mut p = Prompt::new(PromptKind::ExportPath, &self.theme);
        p.input.insert_str(DEFAULT_EXPORT);
        self.popup = Some(Popup::Prompt(p));
    }

    /// Exports the result: the rows held, or (for a read cut at the bound) the query again,
    /// streamed to the file.
    pub(super) fn export_to(&mut self, path: &str) {
        let path = path.trim();
        let grid = &self.panes.database.results;
        if grid.columns.is_empty() {
            self.notify(NoticeLevel::Info, "no result to export: run a query first");
            return;
        }
        if path.is_empty() {
            self.notify(
                NoticeLevel::Error,
                "export needs a file path, like ./result.csv",
            );
            return;
        }
        let format = if path.to_ascii_lowercase().ends_with(".json") {
            ExportFormat::Json
        } else {
            ExportFormat::Csv
        };
        let rerun = match &self.panes.database.result_sql {
            Some((sql, SqlKind::Read)) if grid.more => Some(sql.clone()),
            _ => None,
        };
        let source = match rerun {
            Some(sql) => {
                if !self.live("export the whole result") {
                    return;
                }
                ExportSource::Query(sql)
            }
            None => ExportSource::Rows {
                columns: grid.columns.iter().map(|c| c.name.clone()).collect(),
                rows: grid.rows.clone(),
            },
        };
        self.notify(NoticeLevel::Info, format!("exporting to {path}…"));
        self.send(NetCommand::SqlExport {
            path: path.to_string(),
            format,
            source,
        });
    }

    pub(super) fn on_db_event(&mut self, ev: NetEvent) -> bool {
        match ev {
            NetEvent::Tables(list) => {
                let changed = self.panes.database.tables.set_tables(list);
                self.inspect_selected();
                return changed;
            }
            NetEvent::TableSchema { table, columns } => {
                self.panes.database.tables.schemas.insert(table, columns);
            }
            NetEvent::Exported { path, rows } => self.notify(
                NoticeLevel::Ok,
                format!(
                    "exported {} row{} to {path}",
                    crate::tui::panes::logs::thousands(rows as usize),
                    if rows == 1 { "" } else { "s" }
                ),
            ),
            NetEvent::Sql { id, event } => return self.on_sql(id, event),
            _ => return false,
        }
        true
    }

    fn on_sql(&mut self, id: u64, event: SqlEvent) -> bool {
        // Late news of a run that was replaced or cancelled is dropped.
        let Some(run) = self.panes.database.running.clone().filter(|r| r.id == id) else {
            return false;
        };
        let Running {
            kind, started_ms, ..
        } = run;
        let ms = self.now_ms - started_ms;
        let end = |app: &mut App, outcome: Outcome| {
            app.panes.database.running = None;
            app.panes.database.outcome = Some(outcome);
        };
        match event {
            SqlEvent::Columns(cols) => self.panes.database.results.set_columns(cols),
            SqlEvent::Rows(rows) => self.panes.database.results.push_rows(rows),
            SqlEvent::Done { seen, more } => {
                let grid = &mut self.panes.database.results;
                grid.seen = grid.seen.max(seen);
                grid.more = more;
                end(self, Outcome::Rows { ms });
                if kind != SqlKind::Read {
                    self.refresh_tables();
                }
            }
            SqlEvent::Affected(rows) => {
                end(self, Outcome::Affected { rows, ms });
                if kind != SqlKind::Read {
                    self.refresh_tables();
                }
            }
            SqlEvent::Cancelled => end(self, Outcome::Cancelled),
            SqlEvent::Error(e) => end(self, Outcome::Error(e)),
        }
        true
    }
}
