//! `App::update` for the logs tab: search, pause, wrap, timestamps, clear.

use super::{App, NoticeLevel};
use crate::tui::action::Action;

impl App {
    pub(super) fn logs_action(&mut self, a: Action) {
        match a {
            Action::SearchNext | Action::SearchPrev => {
                if self.panes.logs.search.is_empty() {
                    self.notify(NoticeLevel::Info, "no search: press s to search");
                } else if !self.panes.logs.search_step(a == Action::SearchNext) {
                    self.notify(
                        NoticeLevel::Info,
                        format!("\"{}\" not found", self.panes.logs.search),
                    );
                }
            }
            Action::TogglePause => {
                let p = !self.panes.logs.paused();
                self.panes.logs.set_paused(p);
            }
            Action::ToggleTimestamps => self.panes.logs.timestamps = !self.panes.logs.timestamps,
            Action::ToggleWrap => self.panes.logs.wrap = !self.panes.logs.wrap,
            Action::ClearLogs => self.panes.logs.clear(),
            _ => {}
        }
    }

    /// The logs search, as the line input types it.
    pub(super) fn set_search(&mut self, text: &str) {
        self.panes.logs.search = text.to_string();
        if !text.is_empty() && !self.panes.logs.search_step(false) {
            self.notify(NoticeLevel::Info, format!("\"{text}\" not found"));
        }
    }
}
