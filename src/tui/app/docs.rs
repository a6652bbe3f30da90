//! `App::update` for the documents tab: the list (polled while on screen), the document
//! followed live as the selection moves, and editing it as JSON.

use super::{App, NoticeLevel, Popup, Tab};
use crate::tui::net::{DocsCommand, DocsEvent, NetCommand};
use crate::tui::panes::docs::{DocState, OpenDoc};
use crate::tui::popups::prompt::{Prompt, PromptKind};

impl App {
    /// The tab came on screen (or the room came back while it was): poll the list and
    /// follow the selected document again.
    pub(super) fn docs_shown(&mut self) {
        self.send(NetCommand::WatchDocs(true));
        self.panes.docs.open = None;
        self.docs_follow_selection();
    }

    /// The tab left the screen: stop polling and close the document.
    pub(super) fn docs_hidden(&mut self) {
        self.send(NetCommand::WatchDocs(false));
        if self.panes.docs.open.take().is_some() {
            self.send(NetCommand::Docs(DocsCommand::Close));
        }
    }

    /// Follows the selected document, unless it is the one followed already.
    pub(super) fn docs_follow_selection(&mut self) {
        let path = self.panes.docs.selected_path();
        if path.as_deref() == self.panes.docs.open.as_ref().map(|o| o.path.as_str()) {
            return;
        }
        self.panes.docs.scroll = 0;
        match path {
            Some(path) => {
                self.panes.docs.open = Some(OpenDoc::new(path.clone()));
                self.send(NetCommand::Docs(DocsCommand::Open { path }));
            }
            None => {
                self.panes.docs.open = None;
                self.send(NetCommand::Docs(DocsCommand::Close));
            }
        }
    }

    pub(super) fn on_docs(&mut self, ev: DocsEvent) -> bool {
        match ev {
            DocsEvent::Listed(list) => {
                let changed = self.panes.docs.set_docs(list);
                // The first list picks what to follow; later ones leave the document followed.
                if self.tab == Tab::Docs && self.panes.docs.open.is_none() {
                    self.docs_follow_selection();
                }
                changed
            }
            DocsEvent::ListFailed(error) => {
                // Said once, then no more polling until the tab is shown again.
                if self.panes.docs.list_error.is_none() {
                    self.notify(
                        NoticeLevel::Error,
                        format!("listing documents failed: {error}"),
                    );
                    self.send(NetCommand::WatchDocs(false));
                }
                self.panes.docs.loaded = true;
                self.panes.docs.list_error = Some(error);
                true
            }
            DocsEvent::Content { path, json } => {
                let first = self
                    .panes
                    .docs
                    .open
                    .as_ref()
                    .is_some_and(|o| o.path == path && o.json.is_none());
                let changed = self.panes.docs.content(&path, json, self.now_ms);
                if first && changed {
                    // The list's open counts now include this console.
                    self.send(NetCommand::Docs(DocsCommand::List));
                }
                changed
            }
            DocsEvent::Ended { path, reason } => {
                let shown = self.panes.docs.ended(&path, reason.clone());
                if shown {
                    self.notify(NoticeLevel::Error, format!("{path}: {reason}"));
                }
                shown
            }
            DocsEvent::Replaced { path } => {
                if matches!(&self.popup, Some(Popup::Prompt(p)) if p.saving) {
                    self.popup = None;
                }
                self.notify(NoticeLevel::Ok, format!("saved {path}"));
                true
            }
        }
    }

    /// `r`: reads the list again, and opens again a document that stopped syncing.
    pub(super) fn docs_refresh(&mut self) {
        self.send(NetCommand::Docs(DocsCommand::List));
        if let Some(open) = &self.panes.docs.open
            && matches!(open.state, DocState::Ended(_))
        {
            let path = open.path.clone();
            self.send(NetCommand::Docs(DocsCommand::Close));
            self.panes.docs.open = Some(OpenDoc::new(path.clone()));
            self.send(NetCommand::Docs(DocsCommand::Open { path }));
        }
    }

    /// `:doc PATH`: follows a document by its path, listed or not.
    pub(super) fn open_doc(&mut self, path: &str) {
        let path = path.trim().trim_start_matches("./").trim_start_matches('/');
        if path.is_empty() {
            self.notify(NoticeLevel::Error, "usage: doc PATH");
            return;
        }
        self.switch_tab(Tab::Docs);
        if let Some(i) = self
            .panes
            .docs
            .visible()
            .iter()
            .position(|d| d.path == path)
        {
            self.panes.docs.selected = i;
        }
        if self
            .panes
            .docs
            .open
            .as_ref()
            .is_some_and(|o| o.path == path)
        {
            return;
        }
        self.panes.docs.scroll = 0;
        self.panes.docs.open = Some(OpenDoc::new(path.to_string()));
        self.send(NetCommand::Docs(DocsCommand::Open {
            path: path.to_string(),
        }));
    }

    /// `e`: the followed document's JSON in a prompt; enter saves it over the document.
    pub(super) fn edit_doc(&mut self) {
        let Some(open) = &self.panes.docs.open else {
            self.notify(NoticeLevel::Info, "no document is open: select one first");
            return;
        };
        if open.state != DocState::Live {
            self.notify(
                NoticeLevel::Error,
                format!("{} is not live; it cannot be edited now", open.path),
            );
            return;
        }
        let (path, text) = (open.path.clone(), open.pretty().unwrap_or_default());
        self.popup = Some(Popup::Prompt(
            Prompt::new(PromptKind::DocJson { path }, &self.theme).with_text(&text),
        ));
    }
}
