//! The storage pane's side of the net task: listings, previews, transfers streamed through
//! `StorageClient` (never whole files in memory), and the room's `storage.file.*` pushes.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::client::{ClientError, RoomClient, RoomEvent, StorageEntry, StorageEvent};
use crate::tui::net::{FileChange, FileEntry, FilesCommand, FilesEvent, NetEvent, TransferKind};

/// Progress events are sent at most this often per transfer (and once at the end).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// Error code of a missing file or folder.
const NOT_FOUND: i64 = 3001;

pub(super) fn describe(cmd: &FilesCommand) -> String {
    match cmd {
        FilesCommand::List { folder } if folder.is_empty() => "listing the room's files".into(),
        FilesCommand::List { folder } => format!("listing {folder}"),
        FilesCommand::Preview { path, .. } => format!("reading {path}"),
        FilesCommand::Upload { dest, .. } => format!("uploading {dest}"),
        FilesCommand::Download { path, .. } => format!("downloading {path}"),
        FilesCommand::Delete { path, .. } => format!("deleting {path}"),
        FilesCommand::Move { from, to } => format!("moving {from} to {to}"),
    }
}

/// A room push about files, as the pane's event.
pub(super) fn change(ev: &RoomEvent) -> Option<NetEvent> {
    let change = match StorageEvent::from_room_event(ev)? {
        StorageEvent::Updated { path, .. } => FileChange::Updated { path },
        StorageEvent::Deleted { path, .. } => FileChange::Deleted { path },
        StorageEvent::Moved {
            source_path,
            destination_path,
            ..
        } => FileChange::Moved {
            from: source_path,
            to: destination_path,
        },
    };
    Some(NetEvent::Files(FilesEvent::Changed(change)))
}

fn entry(e: StorageEntry) -> FileEntry {
    let modified_ms = e
        .updated_at
        .as_deref()
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64);
    FileEntry {
        name: e.name,
        is_folder: e.is_folder,
        size: e.size,
        modified_ms,
    }
}

/// Carries out one command on its own task; the answer comes back as a `NetEvent`.
pub(super) fn spawn(
    client: &RoomClient,
    cmd: FilesCommand,
    events: &mpsc::UnboundedSender<NetEvent>,
) {
    let c = client.clone();
    let ev = events.clone();
    tokio::spawn(async move {
        let out = run(&c, cmd, &ev).await;
        let _ = ev.send(out);
    });
}

async fn run(c: &RoomClient, cmd: FilesCommand, ev: &mpsc::UnboundedSender<NetEvent>) -> NetEvent {
    let what = describe(&cmd);
    let st = c.storage();
    let out = match cmd {
        FilesCommand::List { folder } => match st.list(&folder).await {
            Ok(list) => FilesEvent::Listed {
                folder,
                entries: list.into_iter().map(entry).collect(),
            },
            Err(e) => FilesEvent::ListFailed {
                folder,
                not_found: e.code() == Some(NOT_FOUND),
                error: e.to_string(),
            },
        },
        FilesCommand::Preview { path, max } => match st.read_head(&path, max).await {
            Ok((info, head)) => FilesEvent::Preview {
                path,
                size: info.size,
                mime: info.mime_type,
                head,
            },
            Err(e) => FilesEvent::PreviewFailed {
                path,
                error: e.to_string(),
            },
        },
        FilesCommand::Delete { path, recursive } => match st.delete(&path, recursive).await {
            Ok(()) => FilesEvent::Deleted { path },
            Err(e) => return failed(what, e),
        },
        FilesCommand::Move { from, to } => match st.move_path(&from, &to, false).await {
            Ok(()) => FilesEvent::Moved { from, to },
            Err(e) => return failed(what, e),
        },
        FilesCommand::Upload {
            id,
            local,
            dest,
            overwrite,
        } => {
            let mut done = 0;
            let r = {
                let mut progress = reporter(ev, id, TransferKind::Upload, &dest, &mut done);
                st.upload_file(&dest, &local, overwrite, &mut progress)
                    .await
            };
            transfer_end(id, TransferKind::Upload, dest, local, r.map(|_| done))
        }
        FilesCommand::Download { id, path, local } => {
            let mut done = 0;
            let r = {
                let mut progress = reporter(ev, id, TransferKind::Download, &path, &mut done);
                st.download_file(&path, &local, &mut progress).await
            };
            transfer_end(id, TransferKind::Download, path, local, r.map(|i| i.size))
        }
    };
    NetEvent::Files(out)
}

/// Delete and move failures take the app's usual "... failed: why" notice.
fn failed(what: String, e: ClientError) -> NetEvent {
    NetEvent::Failed {
        what,
        error: e.to_string(),
    }
}

fn transfer_end(
    id: u64,
    kind: TransferKind,
    path: String,
    local: std::path::PathBuf,
    r: Result<u64, ClientError>,
) -> FilesEvent {
    match r {
        Ok(bytes) => FilesEvent::TransferDone {
            id,
            kind,
            path,
            local,
            bytes,
        },
        Err(e) => FilesEvent::TransferFailed {
            id,
            kind,
            path,
            error: e.to_string(),
        },
    }
}

/// A progress callback that forwards (done, total) to the UI at most every 100 ms (and at
/// the end), so a fast transfer does not flood the UI loop with redraws.
fn reporter<'a>(
    ev: &'a mpsc::UnboundedSender<NetEvent>,
    id: u64,
    kind: TransferKind,
    path: &str,
    done_out: &'a mut u64,
) -> impl FnMut(u64, Option<u64>) + Send + 'a {
    let path = path.to_string();
    let mut last: Option<Instant> = None;
    move |done, total| {
        *done_out = done;
        let end = total == Some(done);
        if !end && last.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
            return;
        }
        last = Some(Instant::now());
        let _ = ev.send(NetEvent::Files(FilesEvent::Progress {
            id,
            kind,
            path: path.clone(),
            done,
            total,
        }));
    }
}
