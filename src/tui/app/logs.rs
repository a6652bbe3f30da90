//! `App::update` for the logs tab: search, pause, wrap, timestamps, clear.

use super::{App, NoticeLevel};
use crate::tui::action::Action;

impl App {
    pub(super) fn logs_action(&mut self, a: Action) {
        match a {
            Action::SearchNext | Action::SearchPrev => {
                if self.logs.search.is_empty() {
                    self.notify(NoticeLevel::Info, "no search: press s to search");
                } else if !self.logs.search_step(a == Action::SearchNext) {
                    self.notify(
                        NoticeLevel::Info,
                        format!("\"{}\" not found", self.logs.search),
                    );
                }
            }
            Action::TogglePause => {
                let p = !self.logs.paused();
                self.logs.set_paused(p);
            }
            Action::ToggleTimestamps => self.logs.timestamps = !self.logs.timestamps,
            Action::ToggleWrap => self.logs.wrap = !self.logs.wrap,
            Action::ClearLogs => self.logs.clear(),
            _ => {}
        }
    }

    /// The logs search, as the line input types it.
    pub(super) fn set_search(&mut self, text: &str) {
        self.logs.search = text.to_string();
        if !text.is_empty() && !self.logs.search_step(false) {
            self.notify(NoticeLevel::Info, format!("\"{text}\" not found"));
        }
    }
}
