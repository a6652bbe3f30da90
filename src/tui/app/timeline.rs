//! `App::update` for the Timeline tab: what needs the focus or the palette (opening a
//! session or an event's detail, jumping to a time); the pane does the rest.

use super::{App, Focus, NoticeLevel, Popup};
use crate::tui::action::Action;
use crate::tui::panes::timeline::scrub::parse_time;
use crate::tui::popups::LineEdit;
use crate::tui::popups::palette::Palette;

impl App {
    pub(super) fn timeline_select(&mut self, focus: Focus) {
        let t = &mut self.panes.timeline;
        if focus == Focus::TimelineSessions {
            t.open_selected(self.now_ms);
            self.set_focus(Focus::TimelineEvents);
        } else if t.open_detail() {
            self.set_focus(Focus::TimelineDetail);
        }
    }

    pub(super) fn timeline_back(&mut self) {
        self.panes.timeline.detail = None;
        self.set_focus(Focus::TimelineEvents);
    }

    pub(super) fn timeline_action(&mut self, a: Action) {
        let now = self.now_ms;
        match a {
            Action::TimelinePlay => self.panes.timeline.toggle_play(now),
            Action::TimelineSpeed => {
                self.panes.timeline.toggle_speed(now);
                let speed = self.panes.timeline.speed;
                self.notify(NoticeLevel::Info, format!("playback at {speed}x"));
            }
            _ => {
                // The palette asks for the time: `:at 12.5s`.
                self.popup = Some(Popup::Palette(Palette {
                    edit: LineEdit::new("at "),
                    ..Palette::default()
                }));
            }
        }
    }

    /// `:at TIME`.
    pub(super) fn timeline_jump(&mut self, arg: &str) {
        let result = parse_time(arg).and_then(|t| self.panes.timeline.jump(t));
        match result {
            Ok(()) => {
                if self.tab != super::Tab::Timeline {
                    self.switch_tab(super::Tab::Timeline);
                }
                if self.focused() == Focus::TimelineSessions {
                    self.set_focus(Focus::TimelineEvents);
                }
            }
            Err(e) => self.notify(NoticeLevel::Error, e),
        }
    }
}
