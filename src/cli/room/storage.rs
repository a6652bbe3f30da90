//! `roomdeck room storage ...`: the room's files. `room://PATH` names the room side; in
//! `ls`, `get`, `rm`, `mv` and `exists` a bare path is a room path too.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Subcommand;
use serde_json::json;

use super::{Output, print_json};
use crate::client::{ClientError, RoomClient, StorageClient};

#[derive(Subcommand, Debug)]
pub enum Storage {
    /// List a folder (the root by default).
    Ls {
        /// Folder or file in the room (room://PATH or PATH).
        #[arg(default_value = "room://")]
        path: String,
        /// Include sub-folders.
        #[arg(short, long)]
        recursive: bool,
    },
    /// Copy a file: local -> room://, room:// -> local, or room:// -> room://.
    Cp {
        source: String,
        destination: String,
        /// Fail instead of replacing an existing room file.
        #[arg(long)]
        no_clobber: bool,
    },
    /// Print a room file to stdout.
    Get { path: String },
    /// Delete a file, or a folder with -r.
    Rm {
        path: String,
        #[arg(short, long)]
        recursive: bool,
    },
    /// Move or rename a file or folder in the room.
    Mv {
        source: String,
        destination: String,
        /// Replace an existing destination file.
        #[arg(long)]
        overwrite: bool,
    },
    /// Whether a path exists in the room.
    Exists { path: String },
}

impl Storage {
    pub fn validate(&self) -> Result<(), String> {
        if let Storage::Cp {
            source,
            destination,
            ..
        } = self
            && room_path(source).is_none()
            && room_path(destination).is_none()
        {
            return Err("cp copies to or from the room: write the room side as room://PATH".into());
        }
        Ok(())
    }
}

/// The room path of a `room://` argument.
fn room_path(arg: &str) -> Option<String> {
    arg.strip_prefix("room://")
        .map(|p| p.trim_matches('/').to_string())
}

/// A room path whether or not it is written with `room://`.
fn room_side(arg: &str) -> String {
    room_path(arg).unwrap_or_else(|| arg.trim_matches('/').to_string())
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// stdout as an AsyncWrite for the CLI (plain blocking writes: nothing else runs meanwhile).
struct StdoutWriter;

impl tokio::io::AsyncWrite for StdoutWriter {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(std::io::stdout().lock().write_all(buf).map(|_| buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(std::io::stdout().flush())
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// One-line progress on stderr (only on a terminal, only for transfers of 1 MiB or more).
struct ProgressLine {
    label: String,
    enabled: bool,
    started: Instant,
    last: Option<Instant>,
    shown: bool,
}

impl ProgressLine {
    fn new(label: String) -> ProgressLine {
        ProgressLine {
            label,
            enabled: std::io::stderr().is_terminal(),
            started: Instant::now(),
            last: None,
            shown: false,
        }
    }

    fn update(&mut self, done: u64, total: Option<u64>) {
        if !self.enabled || total.is_some_and(|t| t < 1024 * 1024) {
            return;
        }
        let now = Instant::now();
        let finished = total == Some(done);
        if !finished
            && self
                .last
                .is_some_and(|l| now - l < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(now);
        let secs = (now - self.started).as_secs_f64().max(0.001);
        let rate = human_size((done as f64 / secs) as u64);
        let line = match total {
            Some(t) if t > 0 => {
                let pct = done as f64 * 100.0 / t as f64;
                let width = 24;
                let filled = ((pct / 100.0) * width as f64) as usize;
                format!(
                    "{} [{}{}] {pct:5.1}% {} / {} {rate}/s",
                    self.label,
                    "#".repeat(filled.min(width)),
                    "-".repeat(width - filled.min(width)),
                    human_size(done),
                    human_size(t)
                )
            }
            _ => format!("{} {} {rate}/s", self.label, human_size(done)),
        };
        let mut err = std::io::stderr();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        self.shown = true;
    }

    fn finish(&mut self) {
        if self.shown {
            let _ = writeln!(std::io::stderr());
            self.shown = false;
        }
    }
}

pub async fn run(client: &RoomClient, cmd: Storage, output: Output) -> Result<(), String> {
    let storage = client.storage();
    let err = |e: ClientError| e.to_string();
    match cmd {
        Storage::Ls { path, recursive } => {
            let path = room_side(&path);
            ls(&storage, &path, recursive, output).await?;
        }
        Storage::Exists { path } => {
            let path = room_side(&path);
            let exists = storage.exists(&path).await.map_err(err)?;
            if output == Output::Json {
                print_json(&json!({ "exists": exists }));
            } else if exists {
                println!("room://{path} exists");
            } else {
                println!("room://{path} does not exist");
            }
        }
        Storage::Get { path } => {
            let path = room_side(&path);
            let mut out = StdoutWriter;
            let mut ignore = |_: u64, _: Option<u64>| {};
            storage
                .download(&path, &mut out, &mut ignore)
                .await
                .map_err(|e| format!("room://{path}: {e}"))?;
        }
        Storage::Rm { path, recursive } => {
            let path = room_side(&path);
            storage
                .delete(&path, recursive)
                .await
                .map_err(|e| format!("room://{path}: {e}"))?;
            println!("Removed room://{path}");
        }
        Storage::Mv {
            source,
            destination,
            overwrite,
        } => {
            let (from, mut to) = (room_side(&source), room_side(&destination));
            if destination.ends_with('/') || is_room_folder(&storage, &to).await? {
                to = join(&to, base_name(&from));
            }
            storage
                .move_path(&from, &to, overwrite)
                .await
                .map_err(|e| format!("room://{from} -> room://{to}: {e}"))?;
            println!("Moved room://{from} to room://{to}");
        }
        Storage::Cp {
            source,
            destination,
            no_clobber,
        } => cp(&storage, &source, &destination, !no_clobber).await?,
    }
    Ok(())
}

async fn is_room_folder(storage: &StorageClient, path: &str) -> Result<bool, String> {
    if path.is_empty() {
        return Ok(true);
    }
    Ok(storage
        .stat(path)
        .await
        .map_err(|e| format!("room://{path}: {e}"))?
        .is_some_and(|e| e.is_folder))
}

async fn ls(
    storage: &StorageClient,
    path: &str,
    recursive: bool,
    output: Output,
) -> Result<(), String> {
    let at = |e: ClientError| format!("room://{path}: {e}");
    let Some(top) = (if path.is_empty() {
        None
    } else {
        Some(storage.stat(path).await.map_err(at)?)
    }) else {
        return ls_folder(storage, path, recursive, output).await;
    };
    match top {
        None => Err(format!("room://{path} does not exist")),
        Some(e) if e.is_folder => ls_folder(storage, path, recursive, output).await,
        Some(e) => {
            if output == Output::Json {
                print_json(&json!({"files": [{"path": path, "entry": e}]}));
            } else {
                print_rows(&[(path.to_string(), e)]);
            }
            Ok(())
        }
    }
}

async fn ls_folder(
    storage: &StorageClient,
    path: &str,
    recursive: bool,
    output: Output,
) -> Result<(), String> {
    let mut rows = Vec::new();
    let mut pending = vec![path.to_string()];
    while let Some(dir) = pending.pop() {
        let entries = storage
            .list(&dir)
            .await
            .map_err(|e| format!("room://{dir}: {e}"))?;
        for e in entries {
            let full = join(&dir, &e.name);
            if recursive && e.is_folder {
                pending.push(full.clone());
            }
            rows.push((full, e));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    if output == Output::Json {
        let files: Vec<_> = rows
            .iter()
            .map(|(p, e)| {
                let mut v = serde_json::to_value(e).unwrap_or_default();
                v["path"] = json!(p);
                v
            })
            .collect();
        print_json(&json!({ "files": files }));
    } else if rows.is_empty() {
        println!("No files in room://{path}");
    } else {
        // Paths relative to the listed folder.
        let strip = |p: &str| {
            if path.is_empty() {
                p.to_string()
            } else {
                p.strip_prefix(&format!("{path}/")).unwrap_or(p).to_string()
            }
        };
        let rel: Vec<_> = rows.into_iter().map(|(p, e)| (strip(&p), e)).collect();
        print_rows(&rel);
    }
    Ok(())
}

fn print_rows(rows: &[(String, crate::client::StorageEntry)]) {
    let width = rows
        .iter()
        .map(|(p, e)| p.len() + usize::from(e.is_folder))
        .max()
        .unwrap_or(4)
        .clamp(4, 60);
    println!("{:<width$}  {:>10}  UPDATED", "NAME", "SIZE");
    for (p, e) in rows {
        let name = if e.is_folder {
            format!("{p}/")
        } else {
            p.clone()
        };
        let size = match (e.is_folder, e.size) {
            (true, _) => "-".to_string(),
            (false, Some(s)) => human_size(s),
            (false, None) => "?".to_string(),
        };
        let updated = e
            .updated_at
            .as_deref()
            .map(|t| t.get(..19).unwrap_or(t).replace('T', " "))
            .unwrap_or_default();
        println!("{name:<width$}  {size:>10}  {updated}");
    }
}

async fn cp(
    storage: &StorageClient,
    source: &str,
    destination: &str,
    overwrite: bool,
) -> Result<(), String> {
    match (room_path(source), room_path(destination)) {
        (None, Some(mut to)) => {
            let local = PathBuf::from(source);
            let md = std::fs::metadata(&local).map_err(|e| format!("{}: {e}", local.display()))?;
            if md.is_dir() {
                return Err(format!(
                    "{} is a folder; cp copies one file at a time",
                    local.display()
                ));
            }
            let name = local
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if destination.ends_with('/') || is_room_folder(storage, &to).await? {
                to = join(&to, &name);
            }
            let mut bar = ProgressLine::new(format!("upload {name}"));
            let mut report = |d, t| bar.update(d, t);
            let result = storage
                .upload_file(&to, &local, overwrite, &mut report)
                .await;
            bar.finish();
            result.map_err(|e| format!("{} -> room://{to}: {e}", local.display()))?;
            println!("Copied {} to room://{to}", local.display());
        }
        (Some(from), None) => {
            let mut local = PathBuf::from(destination);
            if local.is_dir() || destination.ends_with(std::path::MAIN_SEPARATOR) {
                local = local.join(base_name(&from));
            }
            let mut bar = ProgressLine::new(format!("download {}", base_name(&from)));
            let mut report = |d, t| bar.update(d, t);
            let result = storage.download_file(&from, &local, &mut report).await;
            bar.finish();
            result.map_err(|e| format!("room://{from} -> {}: {e}", local.display()))?;
            println!("Copied room://{from} to {}", local.display());
        }
        (Some(from), Some(mut to)) => {
            if destination.ends_with('/') || is_room_folder(storage, &to).await? {
                to = join(&to, base_name(&from));
            }
            copy_in_room(storage, &from, &to, overwrite).await?;
            println!("Copied room://{from} to room://{to}");
        }
        (None, None) => {
            return Err("cp copies to or from the room: write the room side as room://PATH".into());
        }
    }
    Ok(())
}

/// room:// -> room://: the download feeds the upload through a small in-memory pipe.
async fn copy_in_room(
    storage: &StorageClient,
    from: &str,
    to: &str,
    overwrite: bool,
) -> Result<(), String> {
    let size = storage
        .stat(from)
        .await
        .map_err(|e| format!("room://{from}: {e}"))?
        .ok_or_else(|| format!("room://{from} does not exist"))?;
    if size.is_folder {
        return Err(format!(
            "room://{from} is a folder; cp copies one file at a time"
        ));
    }
    let (mut writer, mut reader) = tokio::io::duplex(1024 * 1024);
    let mut bar = ProgressLine::new(format!("copy {}", base_name(from)));
    let mut report = |d, t| bar.update(d, t);
    let mut quiet = |_: u64, _: Option<u64>| {};
    let down = async {
        let r = storage.download(from, &mut writer, &mut quiet).await;
        drop(writer);
        r
    };
    let up = storage.upload(to, &mut reader, size.size, overwrite, &mut report);
    let (d, u) = tokio::join!(down, up);
    bar.finish();
    d.map_err(|e| format!("room://{from}: {e}"))?;
    u.map_err(|e| format!("room://{to}: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_sizes() {
        assert_eq!(room_path("room://a/b/"), Some("a/b".into()));
        assert_eq!(room_path("room://"), Some(String::new()));
        assert_eq!(room_path("a/b"), None);
        assert_eq!(room_side("/a/b"), "a/b");
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(3 * 1024 * 1024), "3.0 MiB");
        assert!(
            Storage::Cp {
                source: "a".into(),
                destination: "b".into(),
                no_clobber: false
            }
            .validate()
            .is_err()
        );
    }
}
