//! The Timeline tab: a room's recorded sessions (`crate::timeline`), every event of one in
//! order with filters, a scrubber (jump, step, play at 1x/10x), the room's state at the
//! selected instant beside the list, and an event's full JSON.
//!
//! Work that grows with the session (a text filter, the state's checkpoints, picking up the
//! events of a live recording) is done a bounded slice per tick (`work`), so no key or frame
//! waits on a million events; a frame touches only the rows on screen.

pub mod detail;
pub mod events;
pub mod filter;
pub mod scrub;
pub mod sessions;
pub mod state;

use std::path::PathBuf;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::timeline::Session;
use crate::tui::action::Action;
use crate::tui::pane::{DrawCx, Focus, Pane, scroll_down, step};
use crate::tui::panes::pane_block;

use detail::Detail;
use filter::Filter;
use scrub::Play;
use sessions::Sessions;
use state::StateCache;

/// How often a shown session is checked for new events, and the session list for new ones.
const REFRESH_MS: i64 = 500;
const RELIST_MS: i64 = 2_000;
/// Playback's tick.
const PLAY_MS: i64 = 50;

pub struct TimelinePane {
    /// Where the sessions are (None: a remote room, which records nothing here).
    pub root: Option<PathBuf>,
    pub sessions: Sessions,
    pub session: Option<Session>,
    pub filter: Filter,
    /// Position in the filtered list; None follows the end.
    pub cursor: Option<usize>,
    /// The row to select once a text filter has reached it.
    pending_row: Option<usize>,
    pub events: events::EventsView,
    pub state: StateCache,
    pub detail: Option<Detail>,
    pub play: Option<Play>,
    pub speed: u32,
    pub error: Option<String>,
    pub shown: bool,
    refreshed_ms: i64,
    listed_ms: i64,
}

impl TimelinePane {
    pub fn new(root: Option<PathBuf>) -> TimelinePane {
        TimelinePane {
            root,
            sessions: Sessions::default(),
            session: None,
            filter: Filter::default(),
            cursor: None,
            pending_row: None,
            events: events::EventsView::default(),
            state: StateCache::default(),
            detail: None,
            play: None,
            speed: 1,
            error: None,
            shown: false,
            refreshed_ms: 0,
            listed_ms: 0,
        }
    }

    /// The tab shows: list the sessions, and open the newest when none is open.
    pub fn shown(&mut self, now_ms: i64) {
        self.shown = true;
        self.relist(now_ms);
    }

    pub fn hidden(&mut self) {
        self.shown = false;
        self.play = None;
    }

    /// Lists the sessions again; while following the newest, a newer one opens.
    pub fn relist(&mut self, now_ms: i64) {
        self.listed_ms = now_ms;
        let Some(root) = self.root.clone() else {
            return;
        };
        let newest = self.sessions.list.first().map(|s| s.dir.clone());
        self.sessions.reload(&root);
        let open = self.session.as_ref().map(|s| s.dir.clone());
        let on_newest = open.is_none() || (open == newest && self.cursor.is_none());
        if on_newest
            && !self.sessions.list.is_empty()
            && open != Some(self.sessions.list[0].dir.clone())
        {
            self.sessions.selected = 0;
            self.open_selected(now_ms);
        }
    }

    /// Opens the session selected in the list, following its end.
    pub fn open_selected(&mut self, now_ms: i64) {
        let Some(info) = self.sessions.list.get(self.sessions.selected) else {
            return;
        };
        let dir = info.dir.clone();
        match Session::open(&dir) {
            Ok(s) => {
                self.sessions.counts.insert(dir, s.len());
                self.session = Some(s);
                self.error = None;
            }
            Err(e) => {
                self.session = None;
                self.error = Some(format!("cannot open {}: {e}", dir.display()));
            }
        }
        self.refreshed_ms = now_ms;
        self.filter = Filter::parse(&self.filter.text);
        self.cursor = None;
        self.pending_row = None;
        self.state.clear();
        self.detail = None;
        self.play = None;
        self.events.clear();
        self.advance();
    }

    fn advance(&mut self) -> bool {
        let Some(s) = &self.session else { return false };
        let mut changed = self.filter.advance(s, filter::TEXT_BUDGET);
        changed |= self.state.build(s, state::BUILD_BUDGET);
        if let Some(row) = self.pending_row
            && self.filter.done(s)
        {
            self.pending_row = None;
            self.cursor = Some(self.filter.position_of(row));
            changed = true;
        }
        changed
    }

    /// Whether a slice of work is waiting (a filter or the state still scanning).
    pub fn busy(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| !self.filter.done(s) || self.state.built() < s.len())
    }

    /// When the tab wants the next tick.
    pub fn deadline(&self, now_ms: i64) -> Option<i64> {
        if !self.shown || self.root.is_none() {
            return None;
        }
        if self.busy() {
            return Some(now_ms);
        }
        if self.play.is_some() {
            return Some(now_ms + PLAY_MS);
        }
        Some((self.refreshed_ms + REFRESH_MS).min(self.listed_ms + RELIST_MS))
    }

    /// A tick: new events, a slice of filtering and state, playback. Returns whether the
    /// screen changed.
    pub fn work(&mut self, now_ms: i64) -> bool {
        if !self.shown {
            return false;
        }
        let mut changed = false;
        if now_ms - self.listed_ms >= RELIST_MS {
            let before = (
                self.sessions.list.len(),
                self.session.as_ref().map(|s| s.dir.clone()),
            );
            self.relist(now_ms);
            changed |= before
                != (
                    self.sessions.list.len(),
                    self.session.as_ref().map(|s| s.dir.clone()),
                );
        }
        if now_ms - self.refreshed_ms >= REFRESH_MS
            && let Some(s) = &mut self.session
        {
            self.refreshed_ms = now_ms;
            if s.refresh().unwrap_or(0) > 0 {
                self.sessions.counts.insert(s.dir.clone(), s.len());
                changed = true;
            }
        }
        changed |= self.advance();
        changed |= self.play_step(now_ms);
        changed
    }

    fn play_step(&mut self, now_ms: i64) -> bool {
        let (Some(play), Some(s)) = (self.play, &self.session) else {
            return false;
        };
        let t = play.at(now_ms, self.speed);
        let index = s.at_time(t);
        let end = s.rows().last().map_or(0, |r| r.t_us);
        let pos = self.filter.position_of(index);
        let moved = Some(pos) != self.cursor;
        self.cursor = Some(pos);
        if t >= end {
            self.play = None;
        }
        self.follow_detail();
        moved || self.play.is_none()
    }

    /// Matches shown (a filter's so far) and the position of the selection among them.
    pub fn count(&self) -> usize {
        self.session.as_ref().map_or(0, |s| self.filter.count(s))
    }

    pub fn cursor_pos(&self) -> usize {
        let n = self.count();
        self.cursor
            .unwrap_or(n.saturating_sub(1))
            .min(n.saturating_sub(1))
    }

    /// The session index of the selected event.
    pub fn selected_row(&self) -> Option<usize> {
        (self.count() > 0).then(|| self.filter.row(self.cursor_pos()))
    }

    pub fn following(&self) -> bool {
        self.cursor.is_none()
    }

    /// Play from the selected event (from the start when at the end), or pause.
    pub fn toggle_play(&mut self, now_ms: i64) {
        if self.play.take().is_some() {
            return;
        }
        let Some(s) = &self.session else { return };
        let mut row = self.selected_row().unwrap_or(0);
        if row + 1 >= s.len() {
            row = 0;
        }
        let from_us = s.rows().get(row).map_or(0, |r| r.t_us);
        self.cursor = Some(self.filter.position_of(row));
        self.play = Some(Play {
            since_ms: now_ms,
            from_us,
        });
    }

    pub fn toggle_speed(&mut self, now_ms: i64) {
        let at = self.play.map(|p| p.at(now_ms, self.speed));
        self.speed = if self.speed == 1 { 10 } else { 1 };
        if let Some(from_us) = at {
            self.play = Some(Play {
                since_ms: now_ms,
                from_us,
            });
        }
    }

    /// Selects the last event at or before `t_us` of the session.
    pub fn jump(&mut self, t_us: u64) -> Result<(), String> {
        let Some(s) = &self.session else {
            return Err("no session is open".into());
        };
        let index = s.at_time(t_us);
        if self.filter.done(s) {
            self.cursor = Some(self.filter.position_of(index));
        } else {
            self.pending_row = Some(index);
        }
        if let Some(p) = &mut self.play {
            p.from_us = s.rows().get(index).map_or(t_us, |r| r.t_us.max(t_us));
        }
        self.follow_detail();
        Ok(())
    }

    /// Opens the selected event's detail; returns false when there is none.
    pub fn open_detail(&mut self) -> bool {
        let (Some(s), Some(row)) = (&self.session, self.selected_row()) else {
            return false;
        };
        match s.event(row) {
            Ok(e) => {
                self.detail = Some(Detail::new(row, &e, s.meta.started_at_ms));
                true
            }
            Err(e) => {
                self.error = Some(format!("cannot read event {}: {e}", row + 1));
                false
            }
        }
    }

    /// An open detail shows the selected event.
    fn follow_detail(&mut self) {
        if let (Some(d), Some(row)) = (&self.detail, self.selected_row())
            && d.index != row
        {
            self.open_detail();
        }
    }

    fn rows_page(&self) -> usize {
        self.events.last_rows.max(1)
    }
}

impl Pane for TimelinePane {
    fn commands(&self, focus: Focus) -> &'static [Action] {
        match focus {
            Focus::TimelineSessions => &[Action::Select, Action::Refresh, Action::Copy],
            Focus::TimelineDetail => &[Action::Back, Action::Copy, Action::TimelinePlay],
            _ => &[
                Action::Select,
                Action::Filter,
                Action::TimelinePlay,
                Action::TimelineSpeed,
                Action::TimelineJump,
                Action::Bottom,
                Action::Copy,
            ],
        }
    }

    fn draw(&mut self, f: &mut Frame, body: Rect, cx: &mut DrawCx) {
        let Some(_) = &self.root else {
            let text = "No recordings here: this console is on a remote room. Recordings come \
                        from local rooms (roomdeck serve records each session) and from \
                        `roomdeck inspect`, which opens this tab on what it relays.";
            cx.place(body, Focus::TimelineEvents);
            f.render_widget(
                Paragraph::new(Line::styled(text, cx.theme.muted()))
                    .wrap(Wrap { trim: true })
                    .block(pane_block(" Timeline ", cx.theme, true)),
                body,
            );
            return;
        };
        let focus = cx.focus;
        let (left, right) = if cx.zoom {
            match focus {
                Focus::TimelineDetail => (None, Some(body)),
                _ => (Some(body), None),
            }
        } else {
            let pct = if body.width >= 120 { 64 } else { 70 };
            let [l, r] =
                Layout::horizontal([Constraint::Percentage(pct), Constraint::Fill(1)]).areas(body);
            (Some(l), Some(r))
        };
        if let Some(left) = left {
            let list_rows = self.sessions.list.len().clamp(1, 3) as u16 + 3;
            let show_sessions = !cx.zoom || focus == Focus::TimelineSessions;
            let show_events = !cx.zoom || focus != Focus::TimelineSessions;
            let [top, events] = Layout::vertical([
                Constraint::Length(if show_events { list_rows } else { left.height }),
                Constraint::Fill(1),
            ])
            .areas(left);
            if show_sessions {
                cx.place(top, Focus::TimelineSessions);
                self.sessions
                    .draw(f, top, cx.theme, focus == Focus::TimelineSessions, cx.tz);
            }
            if show_events {
                let area = if show_sessions { events } else { left };
                cx.place(area, Focus::TimelineEvents);
                events::draw(self, f, area, cx);
            }
        }
        if let Some(right) = right {
            cx.place(right, Focus::TimelineDetail);
            let detail_focused = focus == Focus::TimelineDetail;
            if self.detail.is_some() {
                let [st, det] = if cx.zoom {
                    [Rect { height: 0, ..right }, right]
                } else {
                    Layout::vertical([Constraint::Percentage(40), Constraint::Fill(1)]).areas(right)
                };
                events::draw_state(self, f, st, cx);
                if let Some(d) = &mut self.detail {
                    d.draw(f, det, cx.theme, detail_focused);
                }
            } else {
                events::draw_state(self, f, right, cx);
            }
        }
    }

    fn navigate(&mut self, focus: Focus, a: Action) {
        match focus {
            Focus::TimelineSessions => {
                let n = self.sessions.list.len();
                self.sessions.selected = step(self.sessions.selected, n, a, 5);
            }
            Focus::TimelineDetail if self.detail.is_some() => {
                if let Some(d) = &mut self.detail {
                    let max = d.lines.len().saturating_sub(d.last_rows);
                    d.scroll = scroll_down(d.scroll, a, d.last_rows, max);
                }
            }
            _ => {
                let n = self.count();
                if n == 0 {
                    return;
                }
                if a == Action::Bottom {
                    self.cursor = None;
                    self.play = None;
                } else {
                    // Stepping by hand pauses playback (space plays on from here).
                    self.cursor = Some(step(self.cursor_pos(), n, a, self.rows_page()));
                    self.play = None;
                }
                self.follow_detail();
            }
        }
    }

    fn filter(&self) -> String {
        self.filter.text.clone()
    }

    fn set_filter(&mut self, text: &str) {
        if text == self.filter.text {
            return;
        }
        let keep = (!self.following()).then(|| self.selected_row()).flatten();
        self.filter = Filter::parse(text);
        self.advance();
        if let (Some(row), Some(s)) = (keep, &self.session) {
            if self.filter.done(s) {
                self.cursor = Some(self.filter.position_of(row));
            } else {
                self.pending_row = Some(row);
                self.cursor = Some(0);
            }
        }
        self.events.clear();
    }

    fn copy_text(&self, focus: Focus) -> Option<String> {
        match focus {
            Focus::TimelineDetail => self.detail.as_ref().map(Detail::text),
            Focus::TimelineSessions => self
                .sessions
                .list
                .get(self.sessions.selected)
                .map(|s| s.dir.display().to_string()),
            _ => {
                let (s, row) = (self.session.as_ref()?, self.selected_row()?);
                let e = s.event(row).ok()?;
                Some(e.to_json(s.meta.started_at_ms).to_string())
            }
        }
    }
}
