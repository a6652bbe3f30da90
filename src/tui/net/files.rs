//! What the storage pane asks of the room and what comes back: the UI's own types, so the
//! pane and `App` can be tested without a network.

use std::path::PathBuf;

/// One entry of a room folder.
#[derive(Debug, Clone, PartialEq)]
pub struct FileEntry {
    pub name: String,
    pub is_folder: bool,
    /// Files only.
    pub size: Option<u64>,
    /// Last modified, Unix milliseconds.
    pub modified_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferKind {
    Upload,
    Download,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FilesCommand {
    /// List a folder ("" is the room's root).
    List {
        folder: String,
    },
    /// Read the file's first `max` bytes for the preview.
    Preview {
        path: String,
        max: u64,
    },
    /// Stream a local file into the room; `id` names the transfer in progress events.
    Upload {
        id: u64,
        local: PathBuf,
        dest: String,
        overwrite: bool,
    },
    /// Stream a room file to a local path.
    Download {
        id: u64,
        path: String,
        local: PathBuf,
    },
    Delete {
        path: String,
        recursive: bool,
    },
    Move {
        from: String,
        to: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum FilesEvent {
    Listed {
        folder: String,
        entries: Vec<FileEntry>,
    },
    ListFailed {
        folder: String,
        error: String,
        /// The folder is gone (error 3001): drop it from the tree.
        not_found: bool,
    },
    Preview {
        path: String,
        size: u64,
        mime: String,
        /// At most the `max` bytes asked for.
        head: Vec<u8>,
    },
    PreviewFailed {
        path: String,
        error: String,
    },
    /// A transfer moved on (sent at most ten times a second, and at its end).
    Progress {
        id: u64,
        kind: TransferKind,
        /// The room path.
        path: String,
        done: u64,
        total: Option<u64>,
    },
    TransferDone {
        id: u64,
        kind: TransferKind,
        path: String,
        local: PathBuf,
        bytes: u64,
    },
    TransferFailed {
        id: u64,
        kind: TransferKind,
        path: String,
        error: String,
    },
    Deleted {
        path: String,
    },
    Moved {
        from: String,
        to: String,
    },
    /// Someone (this console included) changed the room's files: `storage.file.*` pushes.
    Changed(FileChange),
}

#[derive(Debug, Clone, PartialEq)]
pub enum FileChange {
    Updated { path: String },
    Deleted { path: String },
    Moved { from: String, to: String },
}
