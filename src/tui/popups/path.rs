//! A one-line path prompt (upload from, download to, move to) with tab completion of local
//! paths shown in a list under the input.

use std::path::{Path, PathBuf};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::LineEdit;
use crate::tui::theme::Theme;

/// Directory entries looked at per completion, and candidates kept: a huge directory
/// cannot stall the UI or fill the screen.
const MAX_SCANNED: usize = 10_000;
const MAX_CANDIDATES: usize = 200;
const SHOWN: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub enum PathPurpose {
    /// A local file to upload into this room folder.
    Upload { folder: String },
    /// The local path to save this room file to.
    Download { path: String },
    /// The new room path of this file or folder.
    Move { from: String, is_folder: bool },
}

#[derive(Debug)]
pub struct PathPrompt {
    pub purpose: PathPurpose,
    pub edit: LineEdit,
    pub error: Option<String>,
    /// After a tab: the candidates, and which one is in the input (None: their common
    /// prefix is).
    pub cycle: Option<(Vec<String>, Option<usize>)>,
}

impl PathPrompt {
    pub fn new(purpose: PathPurpose, initial: &str) -> PathPrompt {
        PathPrompt {
            purpose,
            edit: LineEdit::new(initial),
            error: None,
            cycle: None,
        }
    }

    fn local(&self) -> bool {
        !matches!(self.purpose, PathPurpose::Move { .. })
    }

    /// Tab: completes a local path. One candidate fills in; several fill in what they
    /// share and are listed, and more tabs step through them.
    pub fn complete(&mut self) {
        if !self.local() {
            return;
        }
        if let Some((cands, idx)) = &mut self.cycle
            && cands.len() > 1
        {
            let next = idx.map_or(0, |i| (i + 1) % cands.len());
            *idx = Some(next);
            let text = cands[next].clone();
            self.edit.set(&text);
            return;
        }
        let cands = local_candidates(&self.edit.text);
        self.error = None;
        match cands.len() {
            0 => {
                self.error = Some(format!("no local path starts with {}", self.edit.text));
                self.cycle = None;
            }
            1 => {
                self.edit.set(&cands[0]);
                self.cycle = None;
            }
            _ => {
                let common = common_prefix(&cands);
                if common.chars().count() > self.edit.text.chars().count() {
                    self.edit.set(&common);
                }
                self.cycle = Some((cands, None));
            }
        }
    }

    /// Any edit ends a completion.
    pub fn edited(&mut self) {
        self.cycle = None;
        self.error = None;
    }
}

/// `~/x` is in the home directory.
pub fn expand_home(text: &str) -> PathBuf {
    match text.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| Path::new(&h).join(rest))
            .unwrap_or_else(|| PathBuf::from(text)),
        None if text == "~" => {
            std::env::var_os("HOME").map_or_else(|| PathBuf::from(text), PathBuf::from)
        }
        None => PathBuf::from(text),
    }
}

/// Local paths that start with `text`, as full input lines; folders end with `/`. Hidden
/// entries only when the typed name starts with a dot.
pub fn local_candidates(text: &str) -> Vec<String> {
    let (dir_part, prefix) = match text.rfind('/') {
        Some(i) => (&text[..=i], &text[i + 1..]),
        None => ("", text),
    };
    let dir = if dir_part.is_empty() {
        PathBuf::from(".")
    } else {
        expand_home(dir_part)
    };
    let Ok(read) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in read.take(MAX_SCANNED).flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
            continue;
        }
        // Follows symlinks: a link to a folder completes as a folder.
        let is_dir = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
        out.push(format!("{dir_part}{name}{}", if is_dir { "/" } else { "" }));
        if out.len() == MAX_CANDIDATES {
            break;
        }
    }
    out.sort();
    out
}

fn common_prefix(list: &[String]) -> String {
    let Some(first) = list.first() else {
        return String::new();
    };
    let mut end = first.len();
    for s in &list[1..] {
        end = first
            .char_indices()
            .zip(s.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(end);
    }
    first[..end].to_string()
}

pub fn draw(f: &mut Frame, area: Rect, p: &PathPrompt, theme: &Theme) {
    let (title, hint) = match &p.purpose {
        PathPurpose::Upload { folder } => (
            format!(
                " Upload a local file into {} ",
                if folder.is_empty() { "/" } else { folder }
            ),
            "tab completes · enter uploads · esc cancels",
        ),
        PathPurpose::Download { path } => (
            format!(" Download {path} to "),
            "tab completes · enter downloads · esc cancels",
        ),
        PathPurpose::Move { from, .. } => (
            format!(" Move {from} to "),
            "a room path · enter asks to confirm · esc cancels",
        ),
    };
    let cands: &[String] = p.cycle.as_ref().map_or(&[], |(c, _)| c.as_slice());
    let sel = p.cycle.as_ref().and_then(|(_, i)| *i);
    // Keep the selected candidate in view.
    let first = sel.map_or(0, |i| i.saturating_sub(SHOWN - 1));
    let shown = cands.len().saturating_sub(first).min(SHOWN);
    let w = area.width.min(76).max(20.min(area.width));
    let h = (4 + shown as u16 + u16::from(p.error.is_some())).min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + area.height.saturating_sub(h) / 3,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    let block = super::popup_block(title, theme);
    let mut lines = vec![Line::from(vec![
        Span::styled("> ", theme.accent()),
        Span::raw(p.edit.text.clone()),
    ])];
    if let Some(e) = &p.error {
        lines.push(Line::styled(format!("✗ {e}"), theme.fg_of(theme.error)));
    }
    for (i, c) in cands.iter().enumerate().skip(first).take(shown) {
        let style = if sel == Some(i) {
            theme.selection()
        } else {
            theme.base()
        };
        let name = c.trim_end_matches('/').rsplit('/').next().unwrap_or(c);
        let dir = if c.ends_with('/') { "/" } else { "" };
        lines.push(Line::styled(format!("  {name}{dir}"), style));
    }
    let more = cands.len() - first - shown;
    lines.push(Line::styled(
        if more > 0 {
            format!("{hint} · {more} more")
        } else {
            hint.to_string()
        },
        theme.muted(),
    ));
    f.render_widget(Paragraph::new(lines).block(block), r);
    f.set_cursor_position((r.x + 3 + p.edit.cursor_col(), r.y + 1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_local_paths() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        std::fs::write(dir.path().join("report.json"), "{}").unwrap();
        std::fs::write(dir.path().join("readme.md"), "").unwrap();
        std::fs::write(dir.path().join(".hidden"), "").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert_eq!(
            local_candidates(&format!("{d}/")),
            [
                format!("{d}/readme.md"),
                format!("{d}/report.json"),
                format!("{d}/sub/")
            ]
        );
        assert_eq!(
            local_candidates(&format!("{d}/.h")),
            [format!("{d}/.hidden")]
        );
        assert!(local_candidates("/no/such/dir/x").is_empty());

        let mut p = PathPrompt::new(PathPurpose::Upload { folder: "".into() }, &format!("{d}/s"));
        p.complete();
        assert_eq!(p.edit.text, format!("{d}/sub/"));
        // Several: the shared part, then each in turn.
        p.edit.set(&format!("{d}/r"));
        p.edited();
        p.complete();
        assert_eq!(p.edit.text, format!("{d}/re"));
        p.complete();
        assert_eq!(p.edit.text, format!("{d}/readme.md"));
        p.complete();
        assert_eq!(p.edit.text, format!("{d}/report.json"));
        p.edit.set(&format!("{d}/zzz"));
        p.edited();
        p.complete();
        assert!(p.error.as_ref().unwrap().contains("no local path"));
    }

    #[test]
    fn common_prefixes() {
        assert_eq!(common_prefix(&["abc".into(), "abd".into()]), "ab");
        assert_eq!(common_prefix(&["é1".into(), "é2".into()]), "é");
        assert_eq!(common_prefix(&["x".into(), "y".into()]), "");
    }
}
