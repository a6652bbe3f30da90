//! The `:rooms` view, like k9s contexts: the local server's rooms with their state, enter
//! opens one, `c` creates, `d` deletes after a confirm, `/` filters. The rooms come from the
//! CLI's `LocalRooms` (through `Effect::Rooms` and `Msg::Rooms`), never from the server here.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState};

use super::{EditOutcome, LineEdit, centered, framed};
use crate::tui::panes::human_size;
use crate::tui::theme::Theme;
use crate::tui::time;
use crate::tui::{RoomInfo, RoomState};

/// What the view asks of the CLI's rooms registry.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomsRequest {
    List,
    Create(String),
    Delete(String),
}

/// The registry's answer to a [`RoomsRequest`].
#[derive(Debug, Clone, PartialEq)]
pub enum RoomsAnswer {
    Listed(Result<Vec<RoomInfo>, String>),
    Created(String, Result<(), String>),
    Deleted(String, Result<(), String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    List,
    /// Typing the `/` filter.
    Filter,
    /// Typing the name of a room to create.
    Name(LineEdit),
    /// Asking before deleting this room.
    ConfirmDelete(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Keep,
    Close,
    Open(String),
    Ask(RoomsRequest),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoomsView {
    /// The room this console is on (marked, and enter on it just closes).
    pub current: String,
    pub rooms: Vec<RoomInfo>,
    /// No answer from the registry yet.
    pub loading: bool,
    /// Why there is no list at all (a remote room without a REST API).
    pub unavailable: Option<String>,
    /// The last failure (the registry's words), shown under the list.
    pub error: Option<String>,
    pub filter: LineEdit,
    pub selected: usize,
    /// The room to select when the next list comes (one just created).
    pub focus: Option<String>,
    pub mode: Mode,
}

impl RoomsView {
    pub fn new(current: &str) -> RoomsView {
        RoomsView {
            current: current.to_string(),
            rooms: Vec::new(),
            loading: true,
            unavailable: None,
            error: None,
            filter: LineEdit::default(),
            selected: 0,
            focus: None,
            mode: Mode::List,
        }
    }

    /// The rooms the filter lets through.
    pub fn shown(&self) -> Vec<&RoomInfo> {
        let needle = self.filter.text.to_lowercase();
        self.rooms
            .iter()
            .filter(|r| r.name.to_lowercase().contains(&needle))
            .collect()
    }

    fn selected_name(&self) -> Option<String> {
        self.shown().get(self.selected).map(|r| r.name.clone())
    }

    pub fn set_rooms(&mut self, rooms: Vec<RoomInfo>) {
        let keep = self.focus.take().or_else(|| self.selected_name());
        self.rooms = rooms;
        self.loading = false;
        self.selected = keep
            .and_then(|n| self.shown().iter().position(|r| r.name == n))
            .unwrap_or(0);
    }

    /// Pasted text goes into the line being typed, if any.
    pub fn paste(&mut self, text: &str) {
        match &mut self.mode {
            Mode::Filter => self.filter.insert_str(text),
            Mode::Name(edit) => edit.insert_str(text),
            _ => {}
        }
    }

    pub fn key(&mut self, k: &KeyEvent, read_only: bool) -> Outcome {
        match std::mem::replace(&mut self.mode, Mode::List) {
            Mode::Filter => {
                match self.filter.handle(k) {
                    EditOutcome::Submit => {}
                    EditOutcome::Cancel => self.filter = LineEdit::default(),
                    EditOutcome::Changed => {
                        self.selected = 0;
                        self.mode = Mode::Filter;
                    }
                    _ => self.mode = Mode::Filter,
                }
                Outcome::Keep
            }
            Mode::Name(mut edit) => match edit.handle(k) {
                EditOutcome::Submit if !edit.text.trim().is_empty() => {
                    Outcome::Ask(RoomsRequest::Create(edit.text.trim().to_string()))
                }
                EditOutcome::Cancel => Outcome::Keep,
                _ => {
                    self.mode = Mode::Name(edit);
                    Outcome::Keep
                }
            },
            Mode::ConfirmDelete(name) => match k.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => Outcome::Ask(RoomsRequest::Delete(name)),
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => Outcome::Keep,
                _ => {
                    self.mode = Mode::ConfirmDelete(name);
                    Outcome::Keep
                }
            },
            Mode::List => self.list_key(k, read_only),
        }
    }

    fn list_key(&mut self, k: &KeyEvent, read_only: bool) -> Outcome {
        let n = self.shown().len();
        // The last error stays until the next key.
        self.error = None;
        match k.code {
            KeyCode::Esc | KeyCode::Char('q') => return Outcome::Close,
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(n.saturating_sub(1))
            }
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = n.saturating_sub(1),
            KeyCode::Char('/') if self.unavailable.is_none() => self.mode = Mode::Filter,
            KeyCode::Char('r') if self.unavailable.is_none() => {
                return Outcome::Ask(RoomsRequest::List);
            }
            KeyCode::Char(c @ ('c' | 'd')) if read_only => {
                let verb = if c == 'c' { "create" } else { "delete" };
                self.error = Some(format!("read-only mode: {verb} is off"));
            }
            KeyCode::Char('c') if self.unavailable.is_none() => {
                self.mode = Mode::Name(LineEdit::default());
            }
            KeyCode::Char('d') => {
                if let Some(name) = self.selected_name() {
                    self.mode = Mode::ConfirmDelete(name);
                }
            }
            KeyCode::Enter => match self.shown().get(self.selected) {
                Some(r) if r.name == self.current => return Outcome::Close,
                // Joining would be refused (HTTP 423), and the console would have no room.
                Some(r) if r.state == RoomState::Disabled => {
                    self.error = Some(format!(
                        "room {0} is disabled: `roomdeck rooms update {0} --enabled` opens it again",
                        r.name
                    ));
                }
                Some(r) => return Outcome::Open(r.name.clone()),
                None => {}
            },
            _ => {}
        }
        Outcome::Keep
    }
}

fn state_label(s: RoomState) -> &'static str {
    match s {
        RoomState::Active => "active",
        RoomState::Idle => "idle",
        RoomState::Disabled => "disabled",
    }
}

pub fn draw(f: &mut Frame, area: Rect, v: &RoomsView, theme: &Theme, tz_offset_secs: i32) {
    let r = centered(area, 70, 80, 76, 14);
    let shown = v.shown();
    let title = if v.filter.text.is_empty() {
        format!(" Rooms ({}) ", v.rooms.len())
    } else {
        format!(
            " Rooms ({}/{}) /{} ",
            shown.len(),
            v.rooms.len(),
            v.filter.text
        )
    };
    let [list, bottom, hints] = framed(f, r, title, 1, theme);

    if let Some(why) = &v.unavailable {
        f.render_widget(
            Paragraph::new(why.as_str())
                .style(theme.muted())
                .wrap(ratatui::widgets::Wrap { trim: false }),
            list,
        );
    } else if v.loading {
        f.render_widget(Paragraph::new("loading rooms…").style(theme.muted()), list);
    } else if shown.is_empty() {
        let text = if v.rooms.is_empty() {
            "no rooms yet · c creates one"
        } else {
            "no room matches the filter · esc in the filter clears it"
        };
        f.render_widget(Paragraph::new(text).style(theme.muted()), list);
    } else {
        let rows = shown.iter().map(|room| {
            let mark = if room.name == v.current { "●" } else { " " };
            let state_style = match room.state {
                RoomState::Active => theme.fg_of(theme.ok),
                RoomState::Idle => theme.muted(),
                RoomState::Disabled => theme.fg_of(theme.warn),
            };
            Row::new(vec![
                Cell::from(mark).style(theme.accent()),
                Cell::from(room.name.clone()),
                Cell::from(state_label(room.state)).style(state_style),
                Cell::from(room.participants.to_string()),
                Cell::from(
                    room.session_start_ms
                        .map(|ms| time::date_time(ms, tz_offset_secs))
                        .unwrap_or_else(|| "-".into()),
                ),
                Cell::from(human_size(room.data_bytes)),
            ])
        });
        let header =
            Row::new(["", "NAME", "STATE", "PEOPLE", "SESSION START", "DATA"]).style(theme.muted());
        let table = Table::new(
            rows,
            [
                Constraint::Length(1),
                Constraint::Min(10),
                Constraint::Length(8),
                Constraint::Length(6),
                Constraint::Length(19),
                Constraint::Length(9),
            ],
        )
        .header(header)
        .row_highlight_style(theme.selection())
        .highlight_symbol("▶")
        .highlight_spacing(HighlightSpacing::Always);
        let mut state = TableState::default().with_selected(Some(v.selected));
        f.render_stateful_widget(table, list, &mut state);
    }

    let line = match &v.mode {
        Mode::Filter => Line::from(vec![
            Span::styled("/", theme.accent()),
            Span::raw(v.filter.text.clone()),
        ]),
        Mode::Name(edit) => Line::from(vec![
            Span::styled("new room: ", theme.accent()),
            Span::raw(edit.text.clone()),
        ]),
        Mode::ConfirmDelete(name) => Line::from(Span::styled(
            format!("Delete room {name} and all its data? y yes · n no"),
            theme.fg_of(theme.warn),
        )),
        Mode::List => match &v.error {
            Some(e) => Line::from(Span::styled(e.clone(), theme.fg_of(theme.error))),
            None => Line::raw(""),
        },
    };
    f.render_widget(Paragraph::new(line), bottom);
    let cursor = match &v.mode {
        Mode::Filter => Some(1 + v.filter.cursor_col()),
        Mode::Name(edit) => Some(10 + edit.cursor_col()),
        _ => None,
    };
    if let Some(col) = cursor {
        f.set_cursor_position((bottom.x + col.min(bottom.width.saturating_sub(1)), bottom.y));
    }
    let hint = match v.mode {
        Mode::List => "enter open · c create · d delete · / filter · r refresh · esc close",
        Mode::Filter => "enter keep the filter · esc clear it",
        Mode::Name(_) => "enter create · esc cancel",
        Mode::ConfirmDelete(_) => "y delete · n keep",
    };
    f.render_widget(Paragraph::new(hint).style(theme.muted()), hints);
}
