//! A room's files: `<room dir>/files/…`, with every path checked and confined to that folder.
//!
//! Paths arrive as the SDK writes them (`docs/a.txt`, `/docs/a.txt`, `./docs/a.txt` all name
//! the same file, `""` is the root) and are refused when they are not a canonical relative
//! path (`..`, empty or `.` segments, `\`, control characters and NUL), when a segment is
//! longer than a filesystem can hold, or when a symlink on the way leads outside the room.
//! Uploads go to `<room dir>/.uploads/` and are renamed into place only once complete and
//! fsynced, so a reader sees the old file or the new one, never half of one.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub use crate::protocol::files::guess_mime_type;
use crate::protocol::files::storage_request_path;

/// Longest accepted path (bytes) and path segment (bytes; what Linux, macOS and Windows hold).
const MAX_PATH: usize = 4096;
const MAX_SEGMENT: usize = 255;
/// Default upper bound for one upload.
pub const DEFAULT_MAX_UPLOAD_SIZE: u64 = 16 * 1024 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("`{path}` is not a valid room path: {why}")]
    InvalidPath { path: String, why: String },
    #[error("`{0}` does not exist in the room's storage")]
    NotFound(String),
    #[error("`{0}` is a folder that is not empty; delete it with recursive set")]
    RecursiveRequired(String),
    #[error("`{0}` already exists; pass overwrite to replace it")]
    AlreadyExists(String),
    #[error("`{0}` is a folder, not a file")]
    IsFolder(String),
    #[error("`{0}` is a file, not a folder")]
    NotFolder(String),
    #[error(
        "the upload is larger than this server accepts ({limit} bytes); raise --max-upload-size on the server"
    )]
    TooLarge { limit: u64 },
    #[error("the upload sent {got} bytes but announced {expected}")]
    SizeMismatch { expected: u64, got: u64 },
    #[error("storage failed on `{path}`: {why}")]
    Io { path: String, why: String },
}

impl FileError {
    fn invalid(path: &str, why: impl Into<String>) -> FileError {
        FileError::InvalidPath {
            path: path.to_string(),
            why: why.into(),
        }
    }

    fn io(path: &str, e: io::Error) -> FileError {
        FileError::Io {
            path: path.to_string(),
            why: e.to_string(),
        }
    }
}

/// A file or folder as listings and `stat` report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub is_folder: bool,
    pub size: u64,
    pub created_at: Option<SystemTime>,
    pub updated_at: Option<SystemTime>,
}

impl Entry {
    fn from_metadata(name: String, md: &fs::Metadata) -> Entry {
        Entry {
            name,
            is_folder: md.is_dir(),
            size: if md.is_dir() { 0 } else { md.len() },
            created_at: md.created().ok(),
            updated_at: md.modified().ok(),
        }
    }
}

/// The canonical form of a request path: no leading `/` or `./`, no trailing `/`, `""` = root.
pub fn normalize(path: &str) -> Result<String, FileError> {
    if path.len() > MAX_PATH {
        return Err(FileError::invalid(
            &path[..64.min(path.len())],
            format!("longer than {MAX_PATH} bytes"),
        ));
    }
    if path.contains('\0') {
        return Err(FileError::invalid(path, "it contains a NUL byte"));
    }
    let p = storage_request_path(path).map_err(|_| {
        FileError::invalid(
            path,
            "use a relative path of names separated by `/`, without `..`, `.`, empty segments, `\\` or control characters",
        )
    })?;
    if let Some(seg) = p.split('/').find(|s| s.len() > MAX_SEGMENT) {
        return Err(FileError::invalid(
            path,
            format!(
                "the name `{}…` is longer than {MAX_SEGMENT} bytes",
                &seg[..seg.floor_char_boundary(32)]
            ),
        ));
    }
    Ok(p.to_string())
}

/// The last segment of a canonical path (`""` for the root).
pub fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The folder holding a canonical path (`""` for top-level names and the root).
pub fn parent(path: &str) -> &str {
    path.rfind('/').map(|i| &path[..i]).unwrap_or("")
}

/// One room's files.
#[derive(Debug)]
pub struct FileStore {
    root: PathBuf,
    uploads: PathBuf,
    max_upload_size: u64,
}

impl FileStore {
    /// Opens (creating) the store under `room_dir`; leftovers of interrupted uploads are removed.
    pub fn open(room_dir: &Path, max_upload_size: u64) -> io::Result<FileStore> {
        let root = room_dir.join("files");
        let uploads = room_dir.join(".uploads");
        fs::create_dir_all(&root)?;
        if uploads.exists() {
            fs::remove_dir_all(&uploads)?;
        }
        fs::create_dir_all(&uploads)?;
        Ok(FileStore {
            root,
            uploads,
            max_upload_size,
        })
    }

    pub fn max_upload_size(&self) -> u64 {
        self.max_upload_size
    }

    /// The on-disk path of a canonical room path, refusing symlinks that lead out of the room.
    /// The path need not exist; the existing part of it is checked.
    fn resolve(&self, rel: &str) -> Result<PathBuf, FileError> {
        let mut at = self.root.clone();
        if rel.is_empty() {
            return Ok(at);
        }
        let mut root_real: Option<PathBuf> = None;
        for seg in rel.split('/') {
            at.push(seg);
            match fs::symlink_metadata(&at) {
                Ok(md) if md.file_type().is_symlink() => {
                    let root_real = match &root_real {
                        Some(r) => r.clone(),
                        None => {
                            let r =
                                fs::canonicalize(&self.root).map_err(|e| FileError::io(rel, e))?;
                            root_real = Some(r.clone());
                            r
                        }
                    };
                    match fs::canonicalize(&at) {
                        Ok(real) if real.starts_with(&root_real) => {}
                        Ok(_) => {
                            return Err(FileError::invalid(
                                rel,
                                "it goes through a symlink that leads outside the room",
                            ));
                        }
                        // A dangling link: treat it as leading nowhere we may go.
                        Err(_) => {
                            return Err(FileError::invalid(
                                rel,
                                "it goes through a symlink whose target does not exist",
                            ));
                        }
                    }
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                Err(e) if e.kind() == io::ErrorKind::NotADirectory => break,
                Err(e) => return Err(FileError::io(rel, e)),
            }
        }
        // Re-append whatever is left after a missing segment.
        let mut full = self.root.clone();
        full.extend(rel.split('/'));
        Ok(full)
    }

    /// Metadata of an existing path (following in-room symlinks), None when absent.
    pub fn stat(&self, rel: &str) -> Result<Option<Entry>, FileError> {
        let full = self.resolve(rel)?;
        match fs::metadata(&full) {
            Ok(md) => Ok(Some(Entry::from_metadata(base_name(rel).to_string(), &md))),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(FileError::io(rel, e)),
        }
    }

    pub fn exists(&self, rel: &str) -> Result<bool, FileError> {
        Ok(self.stat(rel)?.is_some())
    }

    /// The entries of a folder, sorted by name; symlinks leading out of the room are left out.
    pub fn list(&self, rel: &str) -> Result<Vec<Entry>, FileError> {
        let full = self.resolve(rel)?;
        match fs::metadata(&full) {
            Ok(md) if md.is_dir() => {}
            Ok(_) => return Err(FileError::NotFolder(rel.to_string())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(FileError::NotFound(rel.to_string()));
            }
            Err(e) => return Err(FileError::io(rel, e)),
        }
        let mut entries = Vec::new();
        for item in fs::read_dir(&full).map_err(|e| FileError::io(rel, e))? {
            let item = item.map_err(|e| FileError::io(rel, e))?;
            let Some(name) = item.file_name().to_str().map(str::to_string) else {
                continue; // not UTF-8: no room path can name it
            };
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if normalize(&child).is_err() {
                continue;
            }
            match self.stat(&child) {
                Ok(Some(entry)) => entries.push(entry),
                Ok(None) | Err(FileError::InvalidPath { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// Every file and folder under `rel` (canonical paths, depth first), for recursive listings.
    pub fn walk(&self, rel: &str) -> Result<Vec<(String, Entry)>, FileError> {
        let mut out = Vec::new();
        let mut stack = vec![rel.to_string()];
        while let Some(dir) = stack.pop() {
            for entry in self.list(&dir)? {
                let path = if dir.is_empty() {
                    entry.name.clone()
                } else {
                    format!("{dir}/{}", entry.name)
                };
                if entry.is_folder {
                    stack.push(path.clone());
                }
                out.push((path, entry));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Opens a file for reading: the handle, its size.
    pub fn open_read(&self, rel: &str) -> Result<(fs::File, u64), FileError> {
        let full = self.resolve(rel)?;
        let md = match fs::metadata(&full) {
            Ok(md) => md,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                return Err(FileError::NotFound(rel.to_string()));
            }
            Err(e) => return Err(FileError::io(rel, e)),
        };
        if md.is_dir() {
            return Err(FileError::IsFolder(rel.to_string()));
        }
        let file = fs::File::open(&full).map_err(|e| FileError::io(rel, e))?;
        Ok((file, md.len()))
    }

    /// Starts an upload to `rel`: checks the destination now (so the client learns early) and
    /// again at commit.
    pub fn begin_upload(
        &self,
        rel: &str,
        overwrite: bool,
        announced_size: Option<u64>,
    ) -> Result<Upload, FileError> {
        if rel.is_empty() {
            return Err(FileError::IsFolder(rel.to_string()));
        }
        if let Some(size) = announced_size
            && size > self.max_upload_size
        {
            return Err(FileError::TooLarge {
                limit: self.max_upload_size,
            });
        }
        let dest = self.resolve(rel)?;
        self.check_destination(rel, overwrite)?;
        let temp = self.uploads.join(format!("{}.part", random_name()));
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| FileError::io(rel, e))?;
        Ok(Upload {
            rel: rel.to_string(),
            dest,
            temp,
            file: Some(file),
            written: 0,
            limit: self.max_upload_size,
            overwrite,
        })
    }

    fn check_destination(&self, rel: &str, overwrite: bool) -> Result<(), FileError> {
        // Every existing ancestor must be a folder.
        let mut prefix = String::new();
        let segs: Vec<&str> = rel.split('/').collect();
        for seg in &segs[..segs.len() - 1] {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(seg);
            match self.stat(&prefix)? {
                Some(e) if !e.is_folder => return Err(FileError::NotFolder(prefix)),
                Some(_) => {}
                None => break,
            }
        }
        match self.stat(rel)? {
            Some(e) if e.is_folder => Err(FileError::IsFolder(rel.to_string())),
            Some(_) if !overwrite => Err(FileError::AlreadyExists(rel.to_string())),
            _ => Ok(()),
        }
    }

    /// Creates a folder and its parents; fine when it exists already.
    pub fn mkdir(&self, rel: &str) -> Result<(), FileError> {
        let full = self.resolve(rel)?;
        if let Some(e) = self.stat(rel)? {
            return if e.is_folder {
                Ok(())
            } else {
                Err(FileError::AlreadyExists(rel.to_string()))
            };
        }
        fs::create_dir_all(&full).map_err(|e| FileError::io(rel, e))
    }

    /// Deletes a file, or a folder (non-empty ones only when `recursive`). The root is refused.
    pub fn delete(&self, rel: &str, recursive: bool) -> Result<(), FileError> {
        if rel.is_empty() {
            return Err(FileError::invalid(
                rel,
                "the room's storage root cannot be deleted",
            ));
        }
        let full = self.resolve(rel)?;
        let md = fs::symlink_metadata(&full).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => {
                FileError::NotFound(rel.to_string())
            }
            _ => FileError::io(rel, e),
        })?;
        let result = if md.is_dir() {
            let empty = fs::read_dir(&full)
                .map_err(|e| FileError::io(rel, e))?
                .next()
                .is_none();
            if !empty && !recursive {
                return Err(FileError::RecursiveRequired(rel.to_string()));
            }
            // remove_dir_all does not follow symlinks inside the tree.
            fs::remove_dir_all(&full)
        } else {
            // A file or an in-room symlink: remove the entry itself, never its target.
            fs::remove_file(&full)
        };
        result.map_err(|e| FileError::io(rel, e))?;
        sync_dir(full.parent());
        Ok(())
    }

    /// Moves a file or folder; an existing destination file is replaced only with `overwrite`.
    pub fn rename(&self, from: &str, to: &str, overwrite: bool) -> Result<(), FileError> {
        if from.is_empty() || to.is_empty() {
            return Err(FileError::invalid(
                if from.is_empty() { from } else { to },
                "the room's storage root cannot be moved or replaced",
            ));
        }
        if to == from {
            return Ok(());
        }
        if to.starts_with(&format!("{from}/")) {
            return Err(FileError::invalid(
                to,
                "a folder cannot be moved into itself",
            ));
        }
        let src = self.resolve(from)?;
        let dst = self.resolve(to)?;
        let Some(src_entry) = self.stat(from)? else {
            return Err(FileError::NotFound(from.to_string()));
        };
        match self.stat(to)? {
            Some(d) if d.is_folder => return Err(FileError::AlreadyExists(to.to_string())),
            Some(_) if !overwrite || src_entry.is_folder => {
                return Err(FileError::AlreadyExists(to.to_string()));
            }
            _ => {}
        }
        self.ensure_parent(to, &dst)?;
        fs::rename(&src, &dst).map_err(|e| FileError::io(to, e))?;
        sync_dir(src.parent());
        sync_dir(dst.parent());
        Ok(())
    }

    /// Copies a file (folders recursively) to `to`.
    pub fn copy(&self, from: &str, to: &str, overwrite: bool) -> Result<(), FileError> {
        let Some(entry) = self.stat(from)? else {
            return Err(FileError::NotFound(from.to_string()));
        };
        if to.starts_with(&format!("{from}/")) || (from.is_empty() && entry.is_folder) {
            return Err(FileError::invalid(
                to,
                "a folder cannot be copied into itself",
            ));
        }
        if entry.is_folder {
            self.mkdir(to)?;
            for child in self.list(from)? {
                let name = &child.name;
                self.copy(
                    &format!("{from}/{name}"),
                    &format!("{to}/{name}"),
                    overwrite,
                )?;
            }
            return Ok(());
        }
        let (mut src, _) = self.open_read(from)?;
        let mut upload = self.begin_upload(to, overwrite, Some(entry.size))?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = io::Read::read(&mut src, &mut buf).map_err(|e| FileError::io(from, e))?;
            if n == 0 {
                break;
            }
            upload.write(&buf[..n])?;
        }
        upload.commit(None)
    }

    fn ensure_parent(&self, rel: &str, full: &Path) -> Result<(), FileError> {
        let parent_rel = parent(rel);
        if !parent_rel.is_empty() {
            match self.stat(parent_rel)? {
                Some(e) if !e.is_folder => return Err(FileError::NotFolder(parent_rel.into())),
                _ => {}
            }
        }
        if let Some(p) = full.parent() {
            fs::create_dir_all(p).map_err(|e| FileError::io(rel, e))?;
        }
        Ok(())
    }
}

/// An upload in progress: a temp file that becomes `dest` on `commit`, or vanishes on drop.
#[derive(Debug)]
pub struct Upload {
    rel: String,
    dest: PathBuf,
    temp: PathBuf,
    file: Option<fs::File>,
    written: u64,
    limit: u64,
    overwrite: bool,
}

impl Upload {
    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn path(&self) -> &str {
        &self.rel
    }

    /// Appends bytes; refuses to grow beyond the server's limit.
    pub fn write(&mut self, data: &[u8]) -> Result<(), FileError> {
        let new_len = self.written + data.len() as u64;
        if new_len > self.limit {
            return Err(FileError::TooLarge { limit: self.limit });
        }
        let file = self.file.as_mut().ok_or_else(|| FileError::Io {
            path: self.rel.clone(),
            why: "the upload was already finished".into(),
        })?;
        file.write_all(data)
            .map_err(|e| FileError::io(&self.rel, e))?;
        self.written = new_len;
        Ok(())
    }

    /// fsyncs the data, then renames it into place (re-checking the destination) and fsyncs
    /// the folder, so the file survives a crash once this returned.
    pub fn commit(mut self, expected: Option<u64>) -> Result<(), FileError> {
        if let Some(expected) = expected
            && expected != self.written
        {
            return Err(FileError::SizeMismatch {
                expected,
                got: self.written,
            });
        }
        let file = self.file.take().ok_or_else(|| FileError::Io {
            path: self.rel.clone(),
            why: "the upload was already finished".into(),
        })?;
        file.sync_all().map_err(|e| FileError::io(&self.rel, e))?;
        drop(file);
        if let Ok(md) = fs::metadata(&self.dest) {
            if md.is_dir() {
                return Err(FileError::IsFolder(self.rel.clone()));
            }
            if !self.overwrite {
                return Err(FileError::AlreadyExists(self.rel.clone()));
            }
        }
        if let Some(p) = self.dest.parent() {
            fs::create_dir_all(p).map_err(|e| match e.kind() {
                io::ErrorKind::NotADirectory | io::ErrorKind::AlreadyExists => {
                    FileError::NotFolder(parent(&self.rel).to_string())
                }
                _ => FileError::io(&self.rel, e),
            })?;
        }
        if self.overwrite {
            fs::rename(&self.temp, &self.dest).map_err(|e| FileError::io(&self.rel, e))?;
        } else {
            // A link fails if the name exists: two racing no-overwrite uploads cannot both win.
            fs::hard_link(&self.temp, &self.dest).map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => FileError::AlreadyExists(self.rel.clone()),
                _ => FileError::io(&self.rel, e),
            })?;
            let _ = fs::remove_file(&self.temp);
        }
        sync_dir(self.dest.parent());
        Ok(())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // Not committed (or the rename failed): the temp file goes; the old file stays.
        self.file.take();
        let _ = fs::remove_file(&self.temp);
    }
}

fn random_name() -> String {
    let mut bytes = [0u8; 12];
    // Uniqueness only matters among this room's uploads; fall back to the clock.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        return format!("t{nanos}");
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// fsync a folder so a rename or unlink in it is durable (best effort).
fn sync_dir(dir: Option<&Path>) {
    if let Some(d) = dir
        && let Ok(f) = fs::File::open(d)
    {
        let _ = f.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, FileStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let s = FileStore::open(dir.path(), 1024).expect("opens");
        (dir, s)
    }

    #[test]
    fn normalize_accepts_sdk_spellings_and_refuses_escapes() {
        assert_eq!(normalize("a/b.txt").unwrap(), "a/b.txt");
        assert_eq!(normalize("/a/b.txt").unwrap(), "a/b.txt");
        assert_eq!(normalize("./a/").unwrap(), "a");
        assert_eq!(normalize("").unwrap(), "");
        for bad in [
            "../x",
            "a/../../x",
            "a//b",
            "a\\b",
            "a\0b",
            "a/./b",
            "..",
            "a/\u{1}",
        ] {
            assert!(
                matches!(normalize(bad), Err(FileError::InvalidPath { .. })),
                "{bad:?}"
            );
        }
        assert!(normalize(&"x".repeat(256)).is_err());
        assert!(normalize(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn upload_commit_and_drop() {
        let (_d, s) = store();
        let mut u = s.begin_upload("a/b.txt", false, None).unwrap();
        u.write(b"hello").unwrap();
        assert!(!s.exists("a/b.txt").unwrap());
        u.commit(Some(5)).unwrap();
        assert_eq!(s.stat("a/b.txt").unwrap().unwrap().size, 5);
        assert!(matches!(
            s.begin_upload("a/b.txt", false, None),
            Err(FileError::AlreadyExists(_))
        ));
        let mut u = s.begin_upload("a/b.txt", true, None).unwrap();
        u.write(b"partial").unwrap();
        drop(u);
        assert_eq!(fs::read(s.root.join("a/b.txt")).unwrap(), b"hello");
        assert_eq!(fs::read_dir(&s.uploads).unwrap().count(), 0);
        let mut u = s.begin_upload("big", false, None).unwrap();
        assert!(matches!(
            u.write(&[0u8; 2000]),
            Err(FileError::TooLarge { limit: 1024 })
        ));
    }

    #[test]
    fn racing_no_overwrite_uploads_have_one_winner() {
        let (_d, s) = store();
        let mut first = s.begin_upload("x", false, None).unwrap();
        let mut second = s.begin_upload("x", false, None).unwrap();
        first.write(b"first").unwrap();
        second.write(b"second").unwrap();
        first.commit(None).unwrap();
        assert!(matches!(
            second.commit(None),
            Err(FileError::AlreadyExists(_))
        ));
        assert_eq!(fs::read(s.root.join("x")).unwrap(), b"first");
        assert_eq!(fs::read_dir(&s.uploads).unwrap().count(), 0);
    }

    #[test]
    fn delete_move_copy() {
        let (_d, s) = store();
        for p in ["d/x", "d/y"] {
            let mut u = s.begin_upload(p, false, None).unwrap();
            u.write(p.as_bytes()).unwrap();
            u.commit(None).unwrap();
        }
        assert!(matches!(
            s.delete("d", false),
            Err(FileError::RecursiveRequired(_))
        ));
        s.copy("d", "e", false).unwrap();
        s.rename("e/x", "e/z", false).unwrap();
        assert!(matches!(
            s.rename("e/y", "e/z", false),
            Err(FileError::AlreadyExists(_))
        ));
        s.rename("e/y", "e/z", true).unwrap();
        let names: Vec<_> = s.walk("").unwrap().into_iter().map(|(p, _)| p).collect();
        assert_eq!(names, ["d", "d/x", "d/y", "e", "e/z"]);
        s.delete("d", true).unwrap();
        assert!(matches!(s.delete("d", true), Err(FileError::NotFound(_))));
        assert!(s.delete("", true).is_err());
    }

    #[test]
    fn symlinks_out_are_refused() {
        let (d, s) = store();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), b"s").unwrap();
        std::os::unix::fs::symlink(outside.path(), s.root.join("out")).unwrap();
        fs::create_dir(s.root.join("in")).unwrap();
        std::os::unix::fs::symlink(s.root.join("in"), s.root.join("alias")).unwrap();
        assert!(matches!(
            s.open_read("out/secret"),
            Err(FileError::InvalidPath { .. })
        ));
        assert!(matches!(
            s.begin_upload("out/new", false, None),
            Err(FileError::InvalidPath { .. })
        ));
        assert!(s.stat("alias").unwrap().unwrap().is_folder);
        let names: Vec<_> = s.list("").unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["alias", "in"]);
        drop(d);
    }
}
