//! The files pane (tab 5): a lazily listed tree of the room's storage, a preview of the
//! selected file, and the transfers in progress. The state lives here; `App` decides what
//! to ask the room (see `app/files.rs`), `draw.rs` draws it.

mod draw;
pub mod preview;
pub mod tree;

use std::collections::HashMap;

use ratatui::layout::Rect;
use ratatui::widgets::TableState;

use ratatui::Frame;

use crate::tui::action::Action;
use crate::tui::net::{FileChange, FileEntry, TransferKind};
use crate::tui::pane::{DrawCx, Focus, Pane, step};
use preview::Rendered;
use tree::{Row, RowKind, Tree, parent};

/// Transfers at a time; more are refused with a message rather than queued unseen.
pub const MAX_TRANSFERS: usize = 4;

#[derive(Debug, Clone, PartialEq)]
pub enum Preview {
    /// Nothing selected, or a folder.
    None,
    Loading {
        path: String,
    },
    Ready {
        path: String,
        size: u64,
        text: Rendered,
    },
    Failed {
        path: String,
        error: String,
    },
}

impl Preview {
    pub fn path(&self) -> Option<&str> {
        match self {
            Preview::None => None,
            Preview::Loading { path }
            | Preview::Ready { path, .. }
            | Preview::Failed { path, .. } => Some(path),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub id: u64,
    pub kind: TransferKind,
    pub path: String,
    pub done: u64,
    pub total: Option<u64>,
}

#[derive(Debug)]
pub struct StoragePane {
    pub tree: Tree,
    /// Index into the rows.
    pub selected: usize,
    /// The selected row's path, so the selection stays put when listings change.
    sel_path: String,
    pub filter: String,
    /// The root was listed.
    pub loaded: bool,
    /// Folders whose listing is on its way; true when it must be read again on arrival
    /// (a change came in meanwhile). Bounds the requests a burst of changes makes.
    listing: HashMap<String, bool>,
    pub preview: Preview,
    pub preview_scroll: usize,
    pub transfers: Vec<Transfer>,
    /// The tree's scroll offset and its rows' screen area, kept from the last draw for
    /// stable scrolling and for mouse clicks.
    table: TableState,
    rows_area: Rect,
}

impl Default for StoragePane {
    fn default() -> Self {
        StoragePane {
            tree: Tree::default(),
            selected: 0,
            sel_path: String::new(),
            filter: String::new(),
            loaded: false,
            listing: HashMap::new(),
            preview: Preview::None,
            preview_scroll: 0,
            transfers: Vec::new(),
            table: TableState::default(),
            rows_area: Rect::default(),
        }
    }
}

impl StoragePane {
    pub fn rows(&self) -> Vec<Row<'_>> {
        self.tree.rows(&self.filter)
    }

    /// The selected row's path and entry (None on a placeholder row or an empty tree).
    pub fn selected_entry(&self) -> Option<(String, FileEntry)> {
        let rows = self.rows();
        let row = rows.get(self.selected)?;
        row.entry().map(|e| (row.path.clone(), e.clone()))
    }

    /// Where an upload goes: the selected folder, or the folder of the selected file.
    pub fn target_folder(&self) -> String {
        let rows = self.rows();
        match rows.get(self.selected) {
            Some(r) if r.is_folder() || r.entry().is_none() => r.path.clone(),
            Some(r) => parent(&r.path).to_string(),
            None => String::new(),
        }
    }

    pub fn select(&mut self, i: usize) {
        let rows = self.rows();
        let i = i.min(rows.len().saturating_sub(1));
        let path = rows.get(i).map(|r| r.path.clone()).unwrap_or_default();
        self.selected = i;
        if path != self.sel_path {
            self.preview_scroll = 0;
        }
        self.sel_path = path;
    }

    /// After the rows changed: back onto the same path if it is still shown, else the
    /// nearest row.
    fn reselect(&mut self) {
        let at = self.rows().iter().position(|r| r.path == self.sel_path);
        self.select(at.unwrap_or(self.selected));
    }

    pub fn set_filter(&mut self, text: &str) {
        self.filter = text.to_string();
        self.reselect();
    }

    /// Marks a folder as being listed; false when a listing is already on its way (it will
    /// be read once more when that one arrives).
    pub fn want_list(&mut self, folder: &str) -> bool {
        match self.listing.get_mut(folder) {
            Some(again) => {
                *again = true;
                false
            }
            None => {
                self.listing.insert(folder.to_string(), false);
                true
            }
        }
    }

    /// After a reconnect or a refresh: listings asked for before may never come back.
    pub fn forget_pending(&mut self) {
        self.listing.clear();
    }

    /// A listing arrived. Returns (whether the screen changed, whether to list it again).
    pub fn listed(&mut self, folder: &str, entries: Vec<FileEntry>) -> (bool, bool) {
        let again = self.listing.remove(folder).unwrap_or(false);
        let mut changed = self.tree.set(folder, entries);
        if folder.is_empty() && !self.loaded {
            self.loaded = true;
            changed = true;
        }
        if changed {
            self.reselect();
        }
        (changed, again)
    }

    /// A listing failed; a folder that is gone leaves the tree. Returns whether to list
    /// it again.
    pub fn list_failed(&mut self, folder: &str, not_found: bool) -> bool {
        let again = self.listing.remove(folder).unwrap_or(false);
        if folder.is_empty() {
            self.loaded = true;
        } else if not_found {
            self.tree.forget(folder);
            self.reselect();
            return false;
        }
        again
    }

    /// Opens a folder; Some(folder) when it must be listed first.
    pub fn expand(&mut self, path: &str) -> Option<String> {
        self.tree.open(path);
        self.reselect();
        (!self.tree.is_listed(path)).then(|| path.to_string())
    }

    pub fn collapse(&mut self, path: &str) {
        self.tree.close(path);
        self.reselect();
    }

    /// Left: closes the selected open folder, else goes to the folder it is in.
    pub fn collapse_or_up(&mut self) {
        let (close, up) = {
            let rows = self.rows();
            let Some(row) = rows.get(self.selected) else {
                return;
            };
            if row.open && row.is_folder() && self.filter.is_empty() {
                (Some(row.path.clone()), None)
            } else {
                let up = match row.kind {
                    RowKind::Entry(_) => parent(&row.path),
                    _ => row.path.as_str(),
                };
                (
                    None,
                    rows.iter().position(|r| r.path == up && r.is_folder()),
                )
            }
        };
        if let Some(p) = close {
            self.collapse(&p);
        } else if let Some(i) = up {
            self.select(i);
        }
    }

    /// The listings to read again after a change pushed by the room; drops what a delete
    /// or a move took away.
    pub fn folders_to_refresh(&mut self, change: &FileChange) -> Vec<String> {
        if !self.loaded {
            return Vec::new();
        }
        let touched: Vec<&str> = match change {
            FileChange::Updated { path } => vec![path],
            FileChange::Deleted { path } => {
                self.tree.forget(path);
                vec![path]
            }
            FileChange::Moved { from, to } => {
                self.tree.forget(from);
                vec![from, to]
            }
        };
        let mut out: Vec<String> = Vec::new();
        for p in touched {
            if let Some(f) = self.tree.nearest_listed(parent(p))
                && !out.contains(&f)
            {
                out.push(f);
            }
        }
        self.reselect();
        out
    }

    /// Records a transfer's progress. True when what is shown changed.
    pub fn progress(&mut self, t: Transfer) -> bool {
        match self.transfers.iter_mut().find(|x| x.id == t.id) {
            Some(x) if *x == t => false,
            Some(x) => {
                *x = t;
                true
            }
            None => {
                self.transfers.push(t);
                true
            }
        }
    }

    pub fn finish(&mut self, id: u64) {
        self.transfers.retain(|t| t.id != id);
    }

    /// The row under a screen position (a mouse click), if any.
    pub fn row_at(&self, x: u16, y: u16) -> Option<usize> {
        let a = self.rows_area;
        if x < a.x || x >= a.right() || y < a.y || y >= a.bottom() {
            return None;
        }
        let i = self.table.offset() + (y - a.y) as usize;
        (i < self.rows().len()).then_some(i)
    }
}

impl Pane for StoragePane {
    fn commands(&self, _focus: Focus) -> &'static [Action] {
        &[
            Action::Select,
            Action::FileUpload,
            Action::FileDownload,
            Action::FileDelete,
            Action::FileMove,
            Action::Filter,
            Action::FocusNext,
            Action::Zoom,
        ]
    }

    fn draw(&mut self, f: &mut Frame, body: Rect, cx: &mut DrawCx) {
        let (tree, preview) = cx.list_and_detail(body, (Focus::FileTree, Focus::FilePreview), 50);
        if let Some((r, focused)) = tree {
            self.draw_tree(f, r, cx.theme, focused, cx.tz);
        }
        if let Some((r, focused)) = preview {
            self.draw_preview(f, r, cx.theme, focused);
        }
    }

    fn navigate(&mut self, focus: Focus, a: Action) {
        if focus == Focus::FileTree {
            self.select(step(self.selected, self.rows().len(), a, 10));
        } else {
            let len = match &self.preview {
                Preview::Ready { text, .. } => text.lines.len(),
                _ => 0,
            };
            self.preview_scroll = step(self.preview_scroll, len.max(1), a, 10);
        }
    }

    fn filter(&self) -> String {
        self.filter.clone()
    }

    fn set_filter(&mut self, text: &str) {
        StoragePane::set_filter(self, text)
    }

    fn copy_text(&self, _focus: Focus) -> Option<String> {
        self.selected_entry().map(|(p, _)| p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> FileEntry {
        FileEntry {
            name: name.into(),
            is_folder: false,
            size: Some(1),
            modified_ms: None,
        }
    }
    fn dir(name: &str) -> FileEntry {
        FileEntry {
            is_folder: true,
            size: None,
            ..file(name)
        }
    }

    #[test]
    fn selection_follows_the_path_across_listings() {
        let mut p = StoragePane::default();
        assert!(p.want_list(""));
        assert!(!p.want_list(""), "one listing at a time");
        let (changed, again) = p.listed("", vec![file("b"), file("c")]);
        assert!(changed && again);
        assert!(p.want_list(""));
        p.select(1);
        assert_eq!(p.selected_entry().unwrap().0, "c");
        // A new file sorts in before the selection: the selection stays on "c".
        p.listed("", vec![file("a"), file("b"), file("c")]);
        assert_eq!(
            (p.selected, p.selected_entry().unwrap().0.as_str()),
            (2, "c")
        );
        // The selected file is deleted: the nearest row is selected.
        let again = p.folders_to_refresh(&FileChange::Deleted { path: "c".into() });
        assert_eq!(again, [""]);
        p.listed("", vec![file("a"), file("b")]);
        assert_eq!(p.selected_entry().unwrap().0, "b");
    }

    #[test]
    fn changes_refresh_the_nearest_listed_folder() {
        let mut p = StoragePane::default();
        assert!(
            p.folders_to_refresh(&FileChange::Updated { path: "x".into() })
                .is_empty()
        );
        p.listed("", vec![dir("docs")]);
        assert_eq!(p.expand("docs").as_deref(), Some("docs"));
        p.listed("docs", vec![file("a.txt")]);
        let f = |p: &mut StoragePane, path: &str| {
            p.folders_to_refresh(&FileChange::Updated { path: path.into() })
        };
        assert_eq!(f(&mut p, "docs/b.txt"), ["docs"]);
        assert_eq!(f(&mut p, "new/deep/c.txt"), [""]);
        assert_eq!(f(&mut p, "docs/sub/c.txt"), ["docs"]);
        let moved = p.folders_to_refresh(&FileChange::Moved {
            from: "docs/a.txt".into(),
            to: "top.txt".into(),
        });
        assert_eq!(moved, ["docs", ""]);
        // A deleted folder leaves the tree at once.
        p.folders_to_refresh(&FileChange::Deleted {
            path: "docs".into(),
        });
        assert!(!p.tree.is_listed("docs"));
        assert_eq!(p.target_folder(), "docs");
    }

    #[test]
    fn left_closes_then_goes_up() {
        let mut p = StoragePane::default();
        p.listed("", vec![dir("docs"), file("z")]);
        p.expand("docs");
        p.listed("docs", vec![file("a")]);
        p.select(1);
        assert_eq!(p.target_folder(), "docs");
        p.collapse_or_up();
        assert_eq!(p.selected, 0);
        p.collapse_or_up();
        assert_eq!(p.rows().len(), 2);
    }
}
