//! Storage permissions: `file_permissions.py` and `StorageGrant` of the SDK.
//!
//! A grant is a list of rules, each allowing some actions on a path (and, when recursive,
//! everything beneath it) minus excluded subtrees. The legacy `paths` form converts to such
//! rules, each excluding the prefixes listed before it, so the first listed prefix decides.

use serde::{Deserialize, Deserializer, Serialize};

use super::is_false;
pub use crate::protocol::files::{InvalidFilePath, storage_request_path, validate_file_path};

/// How many rules / excluded paths one policy may hold (pydantic `max_length`).
const MAX_RULES: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileAction {
    List,
    Read,
    Write,
    Delete,
    /// Hand out URLs that let others fetch the file.
    Presign,
}

impl FileAction {
    pub fn as_str(self) -> &'static str {
        match self {
            FileAction::List => "list",
            FileAction::Read => "read",
            FileAction::Write => "write",
            FileAction::Delete => "delete",
            FileAction::Presign => "presign",
        }
    }
}

fn descendant(parent: &str, path: &str) -> bool {
    parent.is_empty()
        || path
            .strip_prefix(parent)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn de_file_path<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    validate_file_path(&s).map_err(serde::de::Error::custom)?;
    Ok(s)
}

fn de_file_paths<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    if v.len() > MAX_RULES {
        return Err(serde::de::Error::custom("more than 1000 excluded paths"));
    }
    for s in &v {
        validate_file_path(s).map_err(serde::de::Error::custom)?;
    }
    Ok(v)
}

fn de_rules<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<FilePathRule>, D::Error> {
    let v = Vec::<FilePathRule>::deserialize(d)?;
    if v.len() > MAX_RULES {
        return Err(serde::de::Error::custom("more than 1000 file path rules"));
    }
    Ok(v)
}

/// Actions on `path` (and its subtree when `recursive`), minus `excluded_paths` subtrees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePathRule {
    #[serde(deserialize_with = "de_file_path")]
    pub path: String,
    pub recursive: bool,
    pub actions: Vec<FileAction>,
    #[serde(
        default,
        deserialize_with = "de_file_paths",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub excluded_paths: Vec<String>,
}

impl FilePathRule {
    /// `path` must already be canonical (see [`storage_request_path`]). `subtree` asks for
    /// the whole subtree under `path`, which an excluded path inside it spoils.
    pub fn allows(&self, action: FileAction, path: &str, subtree: bool) -> bool {
        if validate_file_path(path).is_err()
            || !self.actions.contains(&action)
            || (subtree && !self.recursive)
        {
            return false;
        }
        if path != self.path && !(self.recursive && descendant(&self.path, path)) {
            return false;
        }
        !self
            .excluded_paths
            .iter()
            .any(|ex| path == ex || descendant(ex, path) || (subtree && descendant(path, ex)))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesPolicy {
    #[serde(
        default,
        deserialize_with = "de_rules",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub paths: Vec<FilePathRule>,
}

impl FilesPolicy {
    pub fn allows(&self, action: FileAction, path: &str, subtree: bool) -> bool {
        validate_file_path(path).is_ok()
            && self.paths.iter().any(|r| r.allows(action, path, subtree))
    }

    /// Listing a directory is also allowed on the way down to a listable rule, so a
    /// participant can navigate to its subtree (the toolkit must then filter entries).
    pub fn can_list_directory(&self, path: &str) -> bool {
        validate_file_path(path).is_ok()
            && (self.allows(FileAction::List, path, false)
                || self.paths.iter().any(|r| {
                    r.allows(FileAction::List, &r.path, false) && descendant(path, &r.path)
                }))
    }

    /// `legacy_storage_rules`: ordered prefixes; `None` = everything (but never `presign`).
    /// One invalid prefix spoils the whole policy, as in the SDK.
    pub fn from_legacy(paths: Option<&[StoragePathGrant]>) -> Result<FilesPolicy, InvalidFilePath> {
        use FileAction::*;
        let actions = |read_only: bool| {
            if read_only {
                vec![List, Read]
            } else {
                vec![List, Read, Write, Delete]
            }
        };
        let Some(paths) = paths else {
            return Ok(FilesPolicy {
                paths: vec![FilePathRule {
                    path: String::new(),
                    recursive: true,
                    actions: actions(false),
                    excluded_paths: Vec::new(),
                }],
            });
        };
        let mut previous: Vec<String> = Vec::new();
        let mut rules = Vec::with_capacity(paths.len());
        for grant in paths {
            let path = validate_file_path(grant.path.trim_matches('/'))?.to_string();
            rules.push(FilePathRule {
                path: path.clone(),
                recursive: true,
                actions: actions(grant.read_only),
                excluded_paths: previous.clone(),
            });
            previous.push(path);
        }
        Ok(FilesPolicy { paths: rules })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoragePathGrant {
    pub path: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
}

/// `files` (the explicit policy) wins over the legacy `paths`; both absent = everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageGrant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<StoragePathGrant>>,
    #[serde(
        default,
        deserialize_with = "super::opt_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub files: Option<FilesPolicy>,
}

impl StorageGrant {
    pub fn file_policy(&self) -> Result<FilesPolicy, InvalidFilePath> {
        match &self.files {
            Some(files) => Ok(files.clone()),
            None => FilesPolicy::from_legacy(self.paths.as_deref()),
        }
    }

    /// `path` as a request sends it (leading `/` or `./` tolerated); invalid paths are denied.
    pub fn allows(&self, action: FileAction, path: &str, subtree: bool) -> bool {
        match (storage_request_path(path), self.file_policy()) {
            (Ok(p), Ok(policy)) => policy.allows(action, p, subtree),
            _ => false,
        }
    }

    pub fn can_read(&self, path: &str) -> bool {
        self.allows(FileAction::Read, path, false)
    }

    pub fn can_write(&self, path: &str) -> bool {
        self.allows(FileAction::Write, path, false)
    }

    pub fn can_delete(&self, path: &str, recursive: bool) -> bool {
        self.allows(FileAction::Delete, path, recursive)
    }

    pub fn can_list(&self, path: &str) -> bool {
        self.allows(FileAction::List, path, false)
    }

    pub fn can_list_directory(&self, path: &str) -> bool {
        match (storage_request_path(path), self.file_policy()) {
            (Ok(p), Ok(policy)) => policy.can_list_directory(p),
            _ => false,
        }
    }

    pub fn can_presign(&self, path: &str) -> bool {
        self.allows(FileAction::Presign, path, false)
    }
}
