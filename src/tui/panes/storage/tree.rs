//! The room's folders as far as they were listed, which of them are open, and the rows they
//! show. Folders are listed lazily: only the root and the folders someone opened.

use std::collections::{HashMap, HashSet};

use crate::tui::net::FileEntry;
use crate::tui::panes::logs::find_ci;

/// Entries kept per folder: a bigger folder shows its first ones and a count of the rest.
pub const MAX_ENTRIES: usize = 5_000;

#[derive(Debug, Default, Clone, PartialEq)]
struct Folder {
    entries: Vec<FileEntry>,
    /// Entries past MAX_ENTRIES, not kept.
    hidden: usize,
}

#[derive(Debug, Default)]
pub struct Tree {
    /// Listed folders by path ("" is the root).
    folders: HashMap<String, Folder>,
    open: HashSet<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RowKind<'a> {
    Entry(&'a FileEntry),
    /// An open folder whose listing has not come back yet.
    Loading,
    /// Entries of a huge folder that are not shown.
    More(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row<'a> {
    /// The entry's room path; for a placeholder, its folder's.
    pub path: String,
    pub depth: usize,
    pub kind: RowKind<'a>,
    /// A folder whose children are shown below it.
    pub open: bool,
}

impl Row<'_> {
    pub fn entry(&self) -> Option<&FileEntry> {
        match self.kind {
            RowKind::Entry(e) => Some(e),
            _ => None,
        }
    }
    pub fn is_folder(&self) -> bool {
        self.entry().is_some_and(|e| e.is_folder)
    }
}

pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The folder a path is in ("" for the root's entries).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

pub fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// True when `path` is `dir` or inside it.
fn within(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path == dir
        || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

impl Tree {
    pub fn is_listed(&self, folder: &str) -> bool {
        self.folders.contains_key(folder)
    }

    pub fn is_open(&self, folder: &str) -> bool {
        self.open.contains(folder)
    }

    /// Stores a folder's listing (folders first, then by name). True when it changed.
    pub fn set(&mut self, folder: &str, mut entries: Vec<FileEntry>) -> bool {
        entries.sort_by_cached_key(|e| (!e.is_folder, e.name.to_lowercase(), e.name.clone()));
        let hidden = entries.len().saturating_sub(MAX_ENTRIES);
        entries.truncate(MAX_ENTRIES);
        let new = Folder { entries, hidden };
        // Folders that vanished from this listing take their cached subtrees with them.
        let gone: Vec<String> = self.folders.get(folder).map_or_else(Vec::new, |old| {
            old.entries
                .iter()
                .filter(|e| e.is_folder && !new.entries.iter().any(|n| n.name == e.name))
                .map(|e| join(folder, &e.name))
                .collect()
        });
        for g in gone {
            self.forget(&g);
        }
        self.folders.insert(folder.to_string(), new.clone()) != Some(new)
    }

    /// Drops what is known under `path` (itself included): listings and open marks.
    pub fn forget(&mut self, path: &str) {
        if path.is_empty() {
            self.folders.clear();
            self.open.clear();
            return;
        }
        self.folders.retain(|k, _| !within(k, path));
        self.open.retain(|k| !within(k, path));
    }

    pub fn open(&mut self, folder: &str) {
        self.open.insert(folder.to_string());
    }

    pub fn close(&mut self, folder: &str) {
        self.open.remove(folder);
    }

    /// The entry at `path`, when its folder was listed.
    pub fn entry(&self, path: &str) -> Option<&FileEntry> {
        let name = base_name(path);
        self.folders
            .get(parent(path))?
            .entries
            .iter()
            .find(|e| e.name == name)
    }

    /// `folder` if it was listed, else its nearest listed ancestor (None when not even the
    /// root was): the listing to read again when something changed in `folder`.
    pub fn nearest_listed(&self, folder: &str) -> Option<String> {
        let mut f = folder;
        loop {
            if self.folders.contains_key(f) {
                return Some(f.to_string());
            }
            if f.is_empty() {
                return None;
            }
            f = parent(f);
        }
    }

    /// Every listed folder (to list again after a reconnect).
    /// The files in the folders listed so far, and their bytes.
    pub fn known_files(&self) -> (usize, u64) {
        self.folders
            .values()
            .flat_map(|f| f.entries.iter().filter(|e| !e.is_folder))
            .fold((0, 0), |(n, b), e| (n + 1, b + e.size.unwrap_or(0)))
    }

    pub fn listed(&self) -> Vec<String> {
        let mut v: Vec<String> = self.folders.keys().cloned().collect();
        v.sort();
        v
    }

    /// The rows on screen: open folders show their entries below them. With a filter, the
    /// entries whose name matches, and the folders (listed so far) on the way to them.
    pub fn rows(&self, filter: &str) -> Vec<Row<'_>> {
        let mut out = Vec::new();
        self.walk("", 0, filter, &mut out);
        out
    }

    fn walk<'a>(&'a self, dir: &str, depth: usize, filter: &str, out: &mut Vec<Row<'a>>) {
        let Some(folder) = self.folders.get(dir) else {
            return;
        };
        for e in &folder.entries {
            let path = join(dir, &e.name);
            if filter.is_empty() {
                let open = e.is_folder && self.open.contains(&path);
                out.push(Row {
                    path: path.clone(),
                    depth,
                    kind: RowKind::Entry(e),
                    open,
                });
                if open {
                    if self.folders.contains_key(&path) {
                        self.walk(&path, depth + 1, filter, out);
                    } else {
                        out.push(Row {
                            path,
                            depth: depth + 1,
                            kind: RowKind::Loading,
                            open: false,
                        });
                    }
                }
                continue;
            }
            let inner = e.is_folder && self.has_match(&path, filter);
            if !inner && find_ci(&e.name, filter).is_none() {
                continue;
            }
            out.push(Row {
                path: path.clone(),
                depth,
                kind: RowKind::Entry(e),
                open: inner,
            });
            if inner {
                self.walk(&path, depth + 1, filter, out);
            }
        }
        if folder.hidden > 0 && filter.is_empty() {
            out.push(Row {
                path: dir.to_string(),
                depth,
                kind: RowKind::More(folder.hidden),
                open: false,
            });
        }
    }

    fn has_match(&self, dir: &str, filter: &str) -> bool {
        self.folders.get(dir).is_some_and(|f| {
            f.entries.iter().any(|e| {
                find_ci(&e.name, filter).is_some()
                    || (e.is_folder && self.has_match(&join(dir, &e.name), filter))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn file(name: &str, size: u64) -> FileEntry {
        FileEntry {
            name: name.into(),
            is_folder: false,
            size: Some(size),
            modified_ms: None,
        }
    }

    pub fn dir(name: &str) -> FileEntry {
        FileEntry {
            name: name.into(),
            is_folder: true,
            size: None,
            modified_ms: None,
        }
    }

    fn paths(t: &Tree, filter: &str) -> Vec<String> {
        t.rows(filter)
            .iter()
            .map(|r| match r.kind {
                RowKind::Loading => format!("{}/…", r.path),
                RowKind::More(n) => format!("{}/+{n}", r.path),
                RowKind::Entry(_) => r.path.clone(),
            })
            .collect()
    }

    #[test]
    fn folders_first_open_folders_show_their_entries() {
        let mut t = Tree::default();
        assert!(t.set("", vec![file("b.txt", 1), dir("docs"), file("A.md", 2)]));
        assert!(!t.set("", vec![file("b.txt", 1), dir("docs"), file("A.md", 2)]));
        assert_eq!(paths(&t, ""), ["docs", "A.md", "b.txt"]);
        t.open("docs");
        assert_eq!(paths(&t, ""), ["docs", "docs/…", "A.md", "b.txt"]);
        t.set("docs", vec![file("x.json", 3), dir("deep")]);
        assert_eq!(
            paths(&t, ""),
            ["docs", "docs/deep", "docs/x.json", "A.md", "b.txt"]
        );
        assert_eq!(t.entry("docs/x.json").unwrap().size, Some(3));
        assert_eq!(t.nearest_listed("docs/deep/er").as_deref(), Some("docs"));
        // A filter (smart case) finds listed entries under closed folders too, with the way
        // to them.
        t.close("docs");
        assert_eq!(paths(&t, "x.JS"), Vec::<String>::new());
        assert_eq!(paths(&t, "x.js"), ["docs", "docs/x.json"]);
        assert_eq!(paths(&t, "zzz"), Vec::<String>::new());
        // A folder that disappears from its parent's listing takes its subtree with it.
        t.open("docs");
        t.set("", vec![file("b.txt", 1)]);
        assert!(!t.is_listed("docs") && !t.is_open("docs"));
    }

    #[test]
    fn huge_folders_are_bounded() {
        let mut t = Tree::default();
        t.set(
            "",
            (0..MAX_ENTRIES + 7)
                .map(|i| file(&format!("f{i:05}"), 1))
                .collect(),
        );
        let rows = paths(&t, "");
        assert_eq!(rows.len(), MAX_ENTRIES + 1);
        assert_eq!(rows.last().unwrap(), "/+7");
    }

    #[test]
    fn paths_split() {
        assert_eq!(parent("a/b/c"), "a/b");
        assert_eq!(parent("c"), "");
        assert_eq!(base_name("a/b/c"), "c");
        assert!(within("a/b", "a") && !within("ab", "a") && within("x", ""));
    }
}
