//! Storage paths and file types as the room's storage API names them: the canonical path
//! rules of the SDK's `validate_file_path` (checked by grants and by the file store alike) and
//! the MIME type a file's name suggests (for uploads and downloads, on either side).

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a canonical relative path")]
pub struct InvalidFilePath(pub String);

/// `validate_file_path`: relative, no `\`, no control characters, no empty, `.` or `..`
/// segments, nothing that looks like the store's own bookkeeping files.
pub fn validate_file_path(value: &str) -> Result<&str, InvalidFilePath> {
    let bad_char = |c: char| c == '\\' || (c as u32) < 32 || (127..160).contains(&(c as u32));
    let bad_part = |p: &str| {
        matches!(p, "" | "." | ".." | ".meshagent-directory") || p.starts_with(".meshagent-upload-")
    };
    if value.starts_with('/')
        || value.chars().any(bad_char)
        || (!value.is_empty() && value.split('/').any(bad_part))
    {
        return Err(InvalidFilePath(value.to_string()));
    }
    Ok(value)
}

/// `storage_request_path`: accept the legacy `./x`, `/x` and `x/` spellings, then validate.
pub fn storage_request_path(path: &str) -> Result<&str, InvalidFilePath> {
    let mut p = path;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    let p = p.trim_matches('/');
    validate_file_path(if p == "." { "" } else { p })
}

/// A MIME type from the file name's extension.
pub fn guess_mime_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "js" | "mjs" => "text/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "yaml" | "yml" => "application/yaml",
        "toml" => "application/toml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "py" => "text/x-python",
        "rs" => "text/x-rust",
        "parquet" => "application/vnd.apache.parquet",
        _ => "application/octet-stream",
    }
}
