//! The files tab's side of `App`: what its keys, prompts and palette commands do, and how
//! the room's answers and `storage.file.*` pushes change the pane.

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Position;

use super::{App, Focus, NoticeLevel, Popup, Tab};
use crate::tui::action::Action;
use crate::tui::net::{ConnState, FileChange, FilesCommand, FilesEvent, NetCommand, TransferKind};
use crate::tui::panes::human_size;
use crate::tui::panes::storage::preview::{self, PREVIEW_BYTES};
use crate::tui::panes::storage::tree::{base_name, join};
use crate::tui::panes::storage::{MAX_TRANSFERS, Preview, Transfer};
use crate::tui::popups::EditOutcome;
use crate::tui::popups::confirm::Confirm;
use crate::tui::popups::path::{PathPrompt, PathPurpose, expand_home};

/// "/" for the root, else the path itself.
fn shown(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

impl App {
    fn files_send(&mut self, cmd: FilesCommand) {
        self.send(NetCommand::Files(cmd));
    }

    fn files_live(&self) -> bool {
        self.conn == ConnState::Live
    }

    /// Lists a folder unless a listing of it is already on its way.
    fn files_list(&mut self, folder: &str) {
        if self.panes.storage.want_list(folder) {
            self.files_send(FilesCommand::List {
                folder: folder.to_string(),
            });
        }
    }

    /// The tab came on screen: read the root and every folder listed before (changes made
    /// while the tab was away or the connection down are picked up).
    pub(super) fn files_shown(&mut self) {
        if self.files_live() {
            self.files_relist();
        }
    }

    pub(super) fn files_relist(&mut self) {
        self.panes.storage.forget_pending();
        let mut folders = self.panes.storage.tree.listed();
        if !folders.iter().any(String::is_empty) {
            folders.insert(0, String::new());
        }
        for f in folders {
            self.files_list(&f);
        }
        if let Some(p) = self.panes.storage.preview.path().map(str::to_string) {
            self.files_preview(p);
        }
    }

    fn files_preview(&mut self, path: String) {
        self.panes.storage.preview = Preview::Loading { path: path.clone() };
        self.files_send(FilesCommand::Preview {
            path,
            max: PREVIEW_BYTES,
        });
    }

    /// After the selection moved: preview the selected file (read once per file).
    pub(super) fn files_follow_selection(&mut self) {
        match self.panes.storage.selected_entry() {
            Some((path, e)) if !e.is_folder => {
                if self.panes.storage.preview.path() != Some(path.as_str()) && self.files_live() {
                    self.files_preview(path);
                }
            }
            _ => self.panes.storage.preview = Preview::None,
        }
    }

    // ------------------------------------------------------------ answers and pushes

    pub(super) fn on_files(&mut self, ev: FilesEvent) -> bool {
        match ev {
            FilesEvent::Listed { folder, entries } => {
                let (changed, again) = self.panes.storage.listed(&folder, entries);
                if again {
                    self.files_list(&folder);
                }
                if changed {
                    self.files_follow_selection();
                }
                changed
            }
            FilesEvent::ListFailed {
                folder,
                error,
                not_found,
            } => {
                if self.panes.storage.list_failed(&folder, not_found) {
                    self.files_list(&folder);
                }
                if !not_found {
                    self.notify(
                        NoticeLevel::Error,
                        format!("listing {} failed: {error}", shown(&folder)),
                    );
                }
                self.files_follow_selection();
                true
            }
            FilesEvent::Preview {
                path,
                size,
                mime,
                head,
            } => {
                if self.panes.storage.preview != (Preview::Loading { path: path.clone() }) {
                    return false; // the selection moved on meanwhile
                }
                let text = preview::render(base_name(&path), &mime, size, &head);
                self.panes.storage.preview = Preview::Ready { path, size, text };
                true
            }
            FilesEvent::PreviewFailed { path, error } => {
                if self.panes.storage.preview != (Preview::Loading { path: path.clone() }) {
                    return false;
                }
                self.panes.storage.preview = Preview::Failed { path, error };
                true
            }
            FilesEvent::Progress {
                id,
                kind,
                path,
                done,
                total,
            } => self.panes.storage.progress(Transfer {
                id,
                kind,
                path,
                done,
                total,
            }),
            FilesEvent::TransferDone {
                id,
                kind,
                path,
                local,
                bytes,
            } => {
                self.panes.storage.finish(id);
                match kind {
                    TransferKind::Upload => {
                        self.notify(
                            NoticeLevel::Ok,
                            format!("uploaded {path} ({})", human_size(bytes)),
                        );
                        // The room's push does the same; this covers rooms that do not push.
                        self.files_changed(&FileChange::Updated { path });
                    }
                    TransferKind::Download => self.notify(
                        NoticeLevel::Ok,
                        format!(
                            "downloaded {path} to {} ({})",
                            local.display(),
                            human_size(bytes)
                        ),
                    ),
                }
                true
            }
            FilesEvent::TransferFailed {
                id,
                kind,
                path,
                error,
            } => {
                self.panes.storage.finish(id);
                let verb = match kind {
                    TransferKind::Upload => "uploading",
                    TransferKind::Download => "downloading",
                };
                self.notify(NoticeLevel::Error, format!("{verb} {path} failed: {error}"));
                true
            }
            FilesEvent::Deleted { path } => {
                self.notify(NoticeLevel::Ok, format!("deleted {path}"));
                self.files_changed(&FileChange::Deleted { path });
                true
            }
            FilesEvent::Moved { from, to } => {
                self.notify(NoticeLevel::Ok, format!("moved {from} to {to}"));
                self.files_changed(&FileChange::Moved { from, to });
                true
            }
            FilesEvent::Changed(c) => self.files_changed(&c),
        }
    }

    /// Someone changed the room's files: read the folders it touched again (the selection
    /// stays on its path), and the preview if it shows the changed file. True when the
    /// screen changed at once (a delete or move drops rows; new listings redraw on arrival).
    fn files_changed(&mut self, c: &FileChange) -> bool {
        if !self.panes.storage.loaded {
            return false;
        }
        for f in self.panes.storage.folders_to_refresh(c) {
            self.files_list(&f);
        }
        let mut changed = !matches!(c, FileChange::Updated { .. });
        if let FileChange::Updated { path } = c
            && self.panes.storage.preview.path() == Some(path.as_str())
        {
            self.files_preview(path.clone());
            changed = true;
        }
        let before = self.panes.storage.preview.path().map(str::to_string);
        self.files_follow_selection();
        changed || self.panes.storage.preview.path() != before.as_deref()
    }

    // ------------------------------------------------------------ keys and mouse

    pub(super) fn files_action(&mut self, a: Action) {
        let selected = self.panes.storage.selected_entry();
        match (a, selected) {
            (Action::FileUpload, _) => {
                let folder = self.panes.storage.target_folder();
                self.popup = Some(Popup::Path(PathPrompt::new(
                    PathPurpose::Upload { folder },
                    "",
                )));
            }
            (_, None) => self.notify(NoticeLevel::Info, "nothing selected"),
            (Action::FileDownload, Some((_, e))) if e.is_folder => self.notify(
                NoticeLevel::Info,
                "folders are not downloaded one by one here; select a file",
            ),
            (Action::FileDownload, Some((path, e))) => {
                self.popup = Some(Popup::Path(PathPrompt::new(
                    PathPurpose::Download { path },
                    &format!("./{}", e.name),
                )));
            }
            (Action::FileMove, Some((path, e))) => {
                self.popup = Some(Popup::Path(PathPrompt::new(
                    PathPurpose::Move {
                        from: path.clone(),
                        is_folder: e.is_folder,
                    },
                    &path,
                )));
            }
            (_, Some((path, e))) => {
                let body = if e.is_folder {
                    format!("Delete folder {path} and everything in it?")
                } else {
                    format!("Delete {path} ({})?", human_size(e.size.unwrap_or(0)))
                };
                self.popup = Some(Popup::Confirm(Confirm {
                    title: "Delete".into(),
                    body,
                    on_yes: NetCommand::Files(FilesCommand::Delete {
                        path,
                        recursive: e.is_folder,
                    }),
                }));
            }
        }
    }

    /// enter / space: opens or closes the selected folder; on a file, the preview.
    pub(super) fn files_toggle(&mut self) {
        let Some((path, e)) = self.panes.storage.selected_entry() else {
            return;
        };
        if !e.is_folder {
            self.set_focus(Focus::FilePreview);
        } else if self.panes.storage.tree.is_open(&path) {
            self.panes.storage.collapse(&path);
        } else if let Some(f) = self.panes.storage.expand(&path) {
            self.files_list(&f);
        }
    }

    /// → opens the selected folder (or steps into it); ← closes it (or goes up).
    pub(super) fn files_left_right(&mut self, right: bool) {
        if !right {
            self.panes.storage.collapse_or_up();
        } else if let Some((path, e)) = self.panes.storage.selected_entry()
            && e.is_folder
        {
            if self.panes.storage.tree.is_open(&path) {
                self.panes.storage.select(self.panes.storage.selected + 1);
            } else if let Some(f) = self.panes.storage.expand(&path) {
                self.files_list(&f);
            }
        }
        self.files_follow_selection();
    }

    /// A click on a row selects it; a click on the selected row opens or closes it.
    pub(super) fn files_click(&mut self, pos: Position) {
        match self.panes.storage.row_at(pos.x, pos.y) {
            Some(i) if i != self.panes.storage.selected => {
                self.panes.storage.select(i);
                self.files_follow_selection();
            }
            // Only folders: enter on a file would move the focus off the tree just clicked.
            Some(_)
                if self
                    .panes
                    .storage
                    .selected_entry()
                    .is_some_and(|(_, e)| e.is_folder) =>
            {
                self.files_toggle()
            }
            _ => {}
        }
    }

    // ------------------------------------------------------------ prompts

    pub(super) fn path_prompt_key(&mut self, mut p: PathPrompt, k: KeyEvent) {
        if k.code == KeyCode::Tab {
            p.complete();
            self.popup = Some(Popup::Path(p));
            return;
        }
        match p.edit.handle(&k) {
            EditOutcome::Submit => {
                let text = p.edit.text.trim().to_string();
                if let Err(e) = self.path_submit(&p.purpose, &text) {
                    p.error = Some(e);
                    self.popup = Some(Popup::Path(p));
                }
            }
            EditOutcome::Cancel => {}
            EditOutcome::Changed => {
                p.edited();
                self.popup = Some(Popup::Path(p));
            }
            EditOutcome::Unchanged | EditOutcome::Other => self.popup = Some(Popup::Path(p)),
        }
    }

    /// Carries out a prompt's path: starts the transfer, or asks to confirm first. An Err is
    /// shown in the prompt, which stays open.
    fn path_submit(&mut self, purpose: &PathPurpose, text: &str) -> Result<(), String> {
        if text.is_empty() {
            return Err("type a path (tab completes)".into());
        }
        if !self.files_live() {
            return Err("not connected to the room".into());
        }
        match purpose {
            PathPurpose::Upload { folder } => self.start_upload(folder, text),
            PathPurpose::Download { path } => self.start_download(path, text),
            PathPurpose::Move { from, .. } => self.ask_move(from, text),
        }
    }

    fn transfer_id(&mut self) -> Result<u64, String> {
        if self.panes.storage.transfers.len() >= MAX_TRANSFERS {
            return Err(format!(
                "{MAX_TRANSFERS} transfers are running; wait for one to finish"
            ));
        }
        self.next_transfer += 1;
        Ok(self.next_transfer)
    }

    fn start_upload(&mut self, folder: &str, text: &str) -> Result<(), String> {
        let local = expand_home(text);
        let md = std::fs::metadata(&local).map_err(|e| format!("{}: {e}", local.display()))?;
        if md.is_dir() {
            return Err(format!(
                "{} is a folder; pick a file (tab completes)",
                local.display()
            ));
        }
        let name = local
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .ok_or_else(|| format!("{} names no file", local.display()))?;
        let dest = join(folder, &name);
        let existing = self.panes.storage.tree.entry(&dest).cloned();
        if existing.as_ref().is_some_and(|e| e.is_folder) {
            return Err(format!("{dest} is a folder in the room"));
        }
        let id = self.transfer_id()?;
        let cmd = FilesCommand::Upload {
            id,
            local: local.clone(),
            dest: dest.clone(),
            overwrite: existing.is_some(),
        };
        match existing {
            Some(e) => self.confirm_files(
                "Replace",
                format!(
                    "Replace {dest} ({}) with {} ({})?",
                    human_size(e.size.unwrap_or(0)),
                    local.display(),
                    human_size(md.len())
                ),
                cmd,
            ),
            None => self.files_send(cmd),
        }
        Ok(())
    }

    fn start_download(&mut self, path: &str, text: &str) -> Result<(), String> {
        let mut local = expand_home(text);
        if text.ends_with('/') || local.is_dir() {
            local = local.join(base_name(path));
        }
        let dir = local
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Err(format!("there is no local folder {}", dir.display()));
        }
        if local.is_dir() {
            return Err(format!("{} is a folder", local.display()));
        }
        let id = self.transfer_id()?;
        let exists = local.exists();
        let cmd = FilesCommand::Download {
            id,
            path: path.to_string(),
            local: local.clone(),
        };
        if exists {
            self.confirm_files(
                "Replace",
                format!("Replace the local file {} with {path}?", local.display()),
                cmd,
            );
        } else {
            self.files_send(cmd);
        }
        Ok(())
    }

    fn ask_move(&mut self, from: &str, text: &str) -> Result<(), String> {
        let trimmed = text.trim_start_matches('/');
        let into_folder = trimmed.ends_with('/')
            || self
                .panes
                .storage
                .tree
                .entry(trimmed)
                .is_some_and(|e| e.is_folder && trimmed != from);
        let trimmed = trimmed.trim_end_matches('/');
        let to = if into_folder {
            join(trimmed, base_name(from))
        } else {
            trimmed.to_string()
        };
        if to.is_empty() || to.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return Err("a room path is names separated by /, without . or ..".into());
        }
        if to == from {
            return Err(format!("{from} is already there"));
        }
        if to.starts_with(&format!("{from}/")) {
            return Err(format!("{from} cannot move into itself"));
        }
        self.confirm_files(
            "Move",
            format!("Move {from} to {to}?"),
            FilesCommand::Move {
                from: from.to_string(),
                to,
            },
        );
        Ok(())
    }

    fn confirm_files(&mut self, title: &str, body: String, cmd: FilesCommand) {
        self.popup = Some(Popup::Confirm(Confirm {
            title: title.into(),
            body,
            on_yes: NetCommand::Files(cmd),
        }));
    }

    // ------------------------------------------------------------ palette

    /// `upload LOCAL`, `download LOCAL`, `move DEST`, `delete`: the selected entry (or the
    /// selected folder) as the keys would, without the prompt when the path is given.
    pub(super) fn files_command(&mut self, cmd: &str, arg: &str) {
        self.switch_tab(Tab::Files);
        let (action, purpose) = match cmd {
            "upload" => (
                Action::FileUpload,
                Some(PathPurpose::Upload {
                    folder: self.panes.storage.target_folder(),
                }),
            ),
            "download" => (
                Action::FileDownload,
                self.panes
                    .storage
                    .selected_entry()
                    .filter(|(_, e)| !e.is_folder)
                    .map(|(path, _)| PathPurpose::Download { path }),
            ),
            "move" => (
                Action::FileMove,
                self.panes
                    .storage
                    .selected_entry()
                    .map(|(from, e)| PathPurpose::Move {
                        from,
                        is_folder: e.is_folder,
                    }),
            ),
            _ => (Action::FileDelete, None),
        };
        match purpose {
            Some(p) if !arg.is_empty() => {
                if let Err(e) = self.path_submit(&p, arg) {
                    self.notify(NoticeLevel::Error, e);
                }
            }
            _ => self.files_action(action),
        }
    }
}
