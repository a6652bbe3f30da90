//! The `:rooms` view's side of the app: asking the rooms registry, its answers, its keys.

use crossterm::event::KeyEvent;

use super::{App, Effect, NoticeLevel, Popup};
use crate::tui::popups::rooms::{Outcome, RoomsAnswer, RoomsRequest, RoomsView};

/// What a remote console's view says instead of a list.
pub const REMOTE_ROOMS: &str = "This console is on a remote room with no API URL, so it cannot \
    list that server's rooms. Start it with the server's REST API to list, open, create and \
    delete rooms here: `roomdeck --api-url http://HOST:PORT --token TOKEN --room NAME` (a token \
    with the admin grant: `roomdeck token --scope full` on that server).";

impl App {
    pub(super) fn open_rooms(&mut self) {
        let mut view = RoomsView::new(&self.room);
        if self.local {
            self.outbox.push(Effect::Rooms(RoomsRequest::List));
        } else {
            view.loading = false;
            view.unavailable = Some(REMOTE_ROOMS.into());
        }
        self.popup = Some(Popup::Rooms(view));
    }

    pub(super) fn rooms_key(&mut self, mut view: RoomsView, k: KeyEvent) {
        match view.key(&k, self.read_only) {
            Outcome::Keep => self.popup = Some(Popup::Rooms(view)),
            Outcome::Close => {}
            Outcome::Open(name) => self.switch_room(&name),
            Outcome::Ask(req) => {
                self.outbox.push(Effect::Rooms(req));
                self.popup = Some(Popup::Rooms(view));
            }
        }
    }

    /// An answer to the view (dropped if the view was closed meanwhile). A change is
    /// followed by a fresh list, so the view shows the registry as it now is.
    pub(super) fn on_rooms(&mut self, answer: RoomsAnswer) -> bool {
        let Some(Popup::Rooms(view)) = &mut self.popup else {
            return false;
        };
        let done = match answer {
            RoomsAnswer::Listed(Ok(rooms)) => {
                view.set_rooms(rooms);
                return true;
            }
            RoomsAnswer::Listed(Err(e)) => {
                view.loading = false;
                view.error = Some(format!("cannot list rooms: {e}"));
                return true;
            }
            RoomsAnswer::Created(name, Ok(())) => {
                view.filter = Default::default();
                view.focus = Some(name.clone());
                format!("created room {name}")
            }
            RoomsAnswer::Deleted(name, Ok(())) => format!("deleted room {name}"),
            RoomsAnswer::Created(name, Err(e)) => {
                view.error = Some(format!("cannot create room {name}: {e}"));
                return true;
            }
            RoomsAnswer::Deleted(name, Err(e)) => {
                view.error = Some(format!("cannot delete room {name}: {e}"));
                return true;
            }
        };
        view.error = None;
        self.outbox.push(Effect::Rooms(RoomsRequest::List));
        self.notify(NoticeLevel::Ok, done);
        true
    }
}
