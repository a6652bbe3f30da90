//! The logs pane: the room's developer log stream in a bounded buffer.
//!
//! Lines carry a sequence number (`first_seq` + index), so a filter's match list and the cursor
//! stay valid while old lines are evicted. Drawing touches only the lines on screen, so a frame
//! costs the same with ten lines or a million.

use std::collections::VecDeque;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Widget};
use unicode_width::UnicodeWidthChar;

use crate::tui::action::Action;
use crate::tui::net::{Level, LogLine, NetEvent};
use crate::tui::pane::{DrawCx, Focus, NetCx, Pane};
use crate::tui::theme::Theme;
use crate::tui::time::clock_ms;

pub const DEFAULT_CAPACITY: usize = 100_000;

#[derive(Debug)]
pub struct LogsPane {
    buf: VecDeque<LogLine>,
    first_seq: u64,
    capacity: usize,
    paused: bool,
    pending: VecDeque<LogLine>,
    filter: String,
    /// Sequence numbers of the lines that match `filter` (None when there is no filter).
    matches: Option<VecDeque<u64>>,
    pub search: String,
    /// None: following the end. Some(seq): the selected line.
    cursor: Option<u64>,
    view_bottom: u64,
    pub wrap: bool,
    pub timestamps: bool,
    hscroll: usize,
    pub tz_offset_secs: i32,
    /// Rows available the last time the pane was drawn (for page moves).
    last_rows: usize,
}

impl LogsPane {
    pub fn new(capacity: usize) -> LogsPane {
        LogsPane {
            buf: VecDeque::new(),
            first_seq: 0,
            capacity: capacity.max(1),
            paused: false,
            pending: VecDeque::new(),
            filter: String::new(),
            matches: None,
            search: String::new(),
            cursor: None,
            view_bottom: 0,
            wrap: false,
            timestamps: true,
            hscroll: 0,
            tz_offset_secs: 0,
            last_rows: 20,
        }
    }

    /// Lines received so far, evicted and cleared ones included (the next line's sequence).
    pub fn total(&self) -> u64 {
        self.first_seq + self.buf.len() as u64
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    pub fn following(&self) -> bool {
        self.cursor.is_none()
    }
    pub fn paused(&self) -> bool {
        self.paused
    }
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
    pub fn filter(&self) -> &str {
        &self.filter
    }
    /// Every line in the buffer, oldest first (the filter is not applied).
    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &LogLine> {
        self.buf.iter()
    }

    pub fn visible_len(&self) -> usize {
        self.matches.as_ref().map_or(self.buf.len(), |m| m.len())
    }

    pub fn push_lines(&mut self, lines: impl IntoIterator<Item = LogLine>) {
        if self.paused {
            for l in lines {
                if self.pending.len() == self.capacity {
                    self.pending.pop_front();
                }
                self.pending.push_back(l);
            }
            return;
        }
        for l in lines {
            self.push_one(l);
        }
    }

    fn push_one(&mut self, line: LogLine) {
        if self.buf.len() == self.capacity {
            self.buf.pop_front();
            self.first_seq += 1;
            if let Some(m) = &mut self.matches {
                while m.front().is_some_and(|&s| s < self.first_seq) {
                    m.pop_front();
                }
            }
        }
        let seq = self.first_seq + self.buf.len() as u64;
        if let Some(m) = &mut self.matches
            && line_matches(&line, &self.filter)
        {
            m.push_back(seq);
        }
        self.buf.push_back(line);
        if let Some(c) = self.cursor
            && c < self.first_seq
        {
            self.cursor = self.vis_seq(0);
        }
    }

    pub fn clear(&mut self) {
        self.first_seq += self.buf.len() as u64;
        self.buf.clear();
        self.pending.clear();
        if let Some(m) = &mut self.matches {
            m.clear();
        }
        self.cursor = None;
        self.hscroll = 0;
    }

    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        if !paused {
            let pending = std::mem::take(&mut self.pending);
            for l in pending {
                self.push_one(l);
            }
        }
    }

    pub fn set_filter(&mut self, filter: &str) {
        if filter == self.filter {
            return;
        }
        let cursor_line = self.cursor;
        if filter.is_empty() {
            self.matches = None;
        } else if let Some(m) = self.matches.as_mut().filter(|_| {
            !self.filter.is_empty()
                && filter.starts_with(&self.filter)
                && case_sensitive(filter) == case_sensitive(&self.filter)
        }) {
            // Narrowing: only the current matches can still match.
            let first = self.first_seq;
            let buf = &self.buf;
            m.retain(|&s| line_matches(&buf[(s - first) as usize], filter));
        } else {
            let m: VecDeque<u64> = self
                .buf
                .iter()
                .enumerate()
                .filter(|(_, l)| line_matches(l, filter))
                .map(|(i, _)| self.first_seq + i as u64)
                .collect();
            self.matches = Some(m);
        }
        self.filter = filter.to_string();
        // Keep the selection on the nearest visible line.
        if let Some(c) = cursor_line {
            let pos = self.vis_pos_floor(c);
            self.cursor = pos.and_then(|p| self.vis_seq(p));
        }
    }

    fn vis_seq(&self, pos: usize) -> Option<u64> {
        match &self.matches {
            Some(m) => m.get(pos).copied(),
            None => (pos < self.buf.len()).then(|| self.first_seq + pos as u64),
        }
    }

    /// Position of the last visible line at or before `seq`.
    fn vis_pos_floor(&self, seq: u64) -> Option<usize> {
        let n = self.visible_len();
        if n == 0 {
            return None;
        }
        match &self.matches {
            Some(m) => match m.binary_search(&seq) {
                Ok(i) => Some(i),
                Err(0) => Some(0),
                Err(i) => Some(i - 1),
            },
            None => Some((seq.saturating_sub(self.first_seq) as usize).min(n - 1)),
        }
    }

    fn line(&self, seq: u64) -> Option<&LogLine> {
        seq.checked_sub(self.first_seq)
            .and_then(|i| self.buf.get(i as usize))
    }

    fn cursor_pos(&self) -> Option<usize> {
        let n = self.visible_len();
        if n == 0 {
            return None;
        }
        Some(match self.cursor {
            None => n - 1,
            Some(c) => self.vis_pos_floor(c).unwrap_or(n - 1),
        })
    }

    /// Moves the selection by `delta` lines; reaching the end does not resume following.
    pub fn move_by(&mut self, delta: isize) {
        let n = self.visible_len();
        let Some(pos) = self.cursor_pos() else { return };
        let new = (pos as isize + delta).clamp(0, n as isize - 1) as usize;
        self.cursor = self.vis_seq(new);
    }
    pub fn page(&mut self, down: bool) {
        let rows = self.last_rows.max(2) as isize - 1;
        self.move_by(if down { rows } else { -rows });
    }
    pub fn top(&mut self) {
        self.cursor = self.vis_seq(0);
    }
    /// Back to the end: follow again.
    pub fn follow(&mut self) {
        self.cursor = None;
        self.hscroll = 0;
    }
    pub fn scroll_h(&mut self, right: bool) {
        if self.wrap {
            return;
        }
        self.hscroll = if right {
            self.hscroll + 8
        } else {
            self.hscroll.saturating_sub(8)
        };
    }

    /// Selects the next (or previous) line that contains the search text; false if none.
    pub fn search_step(&mut self, forward: bool) -> bool {
        if self.search.is_empty() {
            return false;
        }
        let n = self.visible_len();
        let Some(pos) = self.cursor_pos() else {
            return false;
        };
        for k in 1..=n {
            let p = if forward {
                (pos + k) % n
            } else {
                (pos + n - k % n) % n
            };
            if let Some(seq) = self.vis_seq(p)
                && let Some(l) = self.line(seq)
                && find_ci(&l.text, &self.search).is_some()
            {
                self.cursor = Some(seq);
                return true;
            }
        }
        false
    }

    /// Number of lines that contain the search text (among the visible ones).
    pub fn search_count(&self) -> usize {
        if self.search.is_empty() {
            return 0;
        }
        (0..self.visible_len())
            .filter_map(|p| self.vis_seq(p))
            .filter_map(|s| self.line(s))
            .filter(|l| find_ci(&l.text, &self.search).is_some())
            .count()
    }

    /// The selected line (the last one when following), as plain text.
    pub fn selected_text(&self) -> Option<String> {
        let pos = self.cursor_pos()?;
        let l = self.line(self.vis_seq(pos)?)?;
        let mut s = String::new();
        s.push_str(&clock_ms(l.time_ms, self.tz_offset_secs));
        s.push(' ');
        s.push_str(l.level.label());
        s.push(' ');
        if &*l.source != "otel.log" {
            s.push('[');
            s.push_str(&l.source);
            s.push_str("] ");
        }
        s.push_str(&l.text);
        Some(s)
    }

    pub fn title(&self) -> String {
        let mut t = format!(" Logs {}", thousands(self.buf.len()));
        t.push_str(if self.buf.len() == 1 {
            " line"
        } else {
            " lines"
        });
        if let Some(m) = &self.matches {
            t.push_str(&format!(
                " · filter \"{}\" {}",
                self.filter,
                thousands(m.len())
            ));
        }
        if !self.search.is_empty() {
            t.push_str(&format!(" · search \"{}\"", self.search));
        }
        t.push_str(if self.following() {
            " · follow"
        } else {
            " · scrolled (end: follow)"
        });
        if self.paused {
            t.push_str(&format!(" · PAUSED +{}", self.pending.len()));
        }
        if self.wrap {
            t.push_str(" · wrap");
        }
        t.push(' ');
        t
    }

    fn prefix_width(&self) -> usize {
        if self.timestamps {
            13 + 1 + 5 + 1
        } else {
            5 + 1
        }
    }

    fn line_width(&self, l: &LogLine) -> usize {
        let src = if &*l.source == "otel.log" {
            0
        } else {
            l.source.chars().count() + 3
        };
        self.prefix_width() + src + str_width(&l.text)
    }

    fn rows_of(&self, l: &LogLine, width: usize) -> usize {
        if !self.wrap || width == 0 {
            1
        } else {
            self.line_width(l).div_ceil(width).max(1)
        }
    }

    fn spans<'a>(&self, l: &'a LogLine, theme: &Theme, selected: bool) -> Vec<Span<'a>> {
        let mut v = Vec::with_capacity(6);
        if self.timestamps {
            v.push(Span::styled(
                clock_ms(l.time_ms, self.tz_offset_secs) + " ",
                theme.muted(),
            ));
        }
        let lc = match l.level {
            Level::Error => theme.error,
            Level::Warn => theme.warn,
            Level::Info => theme.info,
            Level::Debug | Level::Trace => theme.debug,
        };
        let mut ls = theme.fg_of(lc);
        if l.level >= Level::Warn {
            ls = ls.add_modifier(Modifier::BOLD);
        }
        v.push(Span::styled(format!("{:<5} ", l.level.label()), ls));
        if &*l.source != "otel.log" {
            v.push(Span::styled(format!("[{}] ", l.source), theme.muted()));
        }
        let text_style = match l.level {
            Level::Error => theme.fg_of(theme.error),
            Level::Debug | Level::Trace => theme.muted(),
            _ => Style::new(),
        };
        let mut rest: &str = &l.text;
        if !self.search.is_empty() {
            while let Some((a, b)) = find_ci(rest, &self.search) {
                if a > 0 {
                    v.push(Span::styled(&rest[..a], text_style));
                }
                v.push(Span::styled(&rest[a..b], theme.highlight()));
                rest = &rest[b..];
            }
        }
        if !rest.is_empty() {
            v.push(Span::styled(rest, text_style));
        }
        if selected {
            for s in &mut v {
                s.style = s.style.patch(theme.selection());
            }
        }
        v
    }

    /// Draws the pane into `area` (with its border). Only the lines on screen are touched.
    pub fn render(&mut self, area: Rect, buf: &mut Buffer, theme: &Theme, focused: bool) {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused))
            .title(Span::styled(self.title(), theme.title(focused)));
        let inner = block.inner(area);
        block.render(area, buf);
        let rows = inner.height as usize;
        let width = inner.width as usize;
        self.last_rows = rows.max(1);
        if rows == 0 || width == 0 {
            return;
        }
        let n = self.visible_len();
        if n == 0 {
            let msg = if self.matches.is_some() {
                format!("no line matches \"{}\"", self.filter)
            } else if self.paused {
                "paused".to_string()
            } else {
                "waiting for developer logs…".to_string()
            };
            Line::styled(msg, theme.muted()).render(Rect { height: 1, ..inner }, buf);
            return;
        }
        let cursor_pos = self.cursor_pos().unwrap_or(n - 1);
        let mut bottom = if self.following() {
            n - 1
        } else {
            self.vis_pos_floor(self.view_bottom)
                .unwrap_or(n - 1)
                .max(cursor_pos)
        };
        // Walk up from `bottom` until the rows are full.
        let top_of = |bottom: usize| -> usize {
            let mut used = 0;
            let mut p = bottom;
            loop {
                let r = self
                    .vis_seq(p)
                    .and_then(|s| self.line(s))
                    .map_or(1, |l| self.rows_of(l, width));
                used += r;
                if used >= rows || p == 0 {
                    return p;
                }
                p -= 1;
            }
        };
        let mut top = top_of(bottom);
        if cursor_pos < top {
            // Bring the cursor into view at the top.
            let mut used = 0;
            let mut p = cursor_pos;
            while p < n {
                let r = self
                    .vis_seq(p)
                    .and_then(|s| self.line(s))
                    .map_or(1, |l| self.rows_of(l, width));
                if used + r > rows && p > cursor_pos {
                    break;
                }
                used += r;
                p += 1;
            }
            bottom = p - 1;
            top = top_of(bottom);
        }
        if let Some(s) = self.vis_seq(bottom) {
            self.view_bottom = s;
        }
        // Build rows for top..=bottom, then keep the last `rows` of them.
        let selected = (!self.following()).then_some(cursor_pos);
        let mut out: Vec<(Line, bool)> = Vec::with_capacity(rows + 4);
        for p in top..=bottom {
            let Some(l) = self.vis_seq(p).and_then(|s| self.line(s)) else {
                continue;
            };
            let is_sel = selected == Some(p);
            let spans = self.spans(l, theme, is_sel);
            if self.wrap {
                out.extend(wrap_spans(spans, width).into_iter().map(|l| (l, is_sel)));
            } else {
                out.push((Line::from(skip_cols(spans, self.hscroll)), is_sel));
            }
        }
        let skip = out.len().saturating_sub(rows);
        for (i, (line, is_sel)) in out.into_iter().skip(skip).enumerate() {
            let r = Rect {
                x: inner.x,
                y: inner.y + i as u16,
                width: inner.width,
                height: 1,
            };
            if is_sel {
                buf.set_style(r, theme.selection());
            }
            line.render(r, buf);
        }
    }
}

impl Pane for LogsPane {
    fn commands(&self, _focus: Focus) -> &'static [Action] {
        &[
            Action::Search,
            Action::SearchNext,
            Action::TogglePause,
            Action::Bottom,
            Action::ToggleWrap,
            Action::ToggleTimestamps,
            Action::Copy,
        ]
    }

    fn draw(&mut self, f: &mut Frame, body: Rect, cx: &mut DrawCx) {
        cx.place(body, Focus::Logs);
        self.render(body, f.buffer_mut(), cx.theme, true);
    }

    fn navigate(&mut self, _focus: Focus, a: Action) {
        match a {
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.page(false),
            Action::PageDown => self.page(true),
            Action::Top => self.top(),
            _ => self.follow(),
        }
    }

    fn filter(&self) -> String {
        self.filter.clone()
    }

    fn set_filter(&mut self, text: &str) {
        LogsPane::set_filter(self, text)
    }

    fn copy_text(&self, _focus: Focus) -> Option<String> {
        self.selected_text()
    }

    #[allow(clippy::result_large_err)]
    fn on_net(&mut self, ev: NetEvent, _cx: &mut NetCx) -> Result<bool, NetEvent> {
        match ev {
            // Off screen and paused logs change only the tab title; still cheap to redraw.
            NetEvent::Logs(lines) if lines.is_empty() => Ok(false),
            NetEvent::Logs(lines) => {
                self.push_lines(lines);
                Ok(true)
            }
            ev => Err(ev),
        }
    }
}

pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn str_width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Smart case: a filter with an upper-case letter is case-sensitive.
fn case_sensitive(needle: &str) -> bool {
    needle.chars().any(char::is_uppercase)
}

fn line_matches(l: &LogLine, filter: &str) -> bool {
    find_ci(&l.text, filter).is_some()
        || find_ci(&l.source, filter).is_some()
        || find_ci(l.level.label(), filter).is_some()
}

/// Byte range of the first match of `needle` in `hay` (smart case), without allocating for
/// ASCII needles.
pub fn find_ci(hay: &str, needle: &str) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    if case_sensitive(needle) {
        return hay.find(needle).map(|i| (i, i + needle.len()));
    }
    if needle.is_ascii() {
        let h = hay.as_bytes();
        let n = needle.as_bytes();
        if n.len() > h.len() {
            return None;
        }
        let first = n[0].to_ascii_lowercase();
        for i in 0..=h.len() - n.len() {
            if h[i].to_ascii_lowercase() == first
                && h[i..i + n.len()].eq_ignore_ascii_case(n)
                && hay.is_char_boundary(i)
                && hay.is_char_boundary(i + n.len())
            {
                return Some((i, i + n.len()));
            }
        }
        return None;
    }
    let lower_needle = needle.to_lowercase();
    for (i, _) in hay.char_indices() {
        let tail = &hay[i..];
        let mut matched = 0;
        let mut hay_chars = tail.char_indices();
        let mut ok = true;
        for nc in lower_needle.chars() {
            match hay_chars.next() {
                Some((_, hc)) if hc.to_lowercase().eq(std::iter::once(nc)) => {}
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            matched = hay_chars.next().map_or(tail.len(), |(j, _)| j);
        }
        if ok {
            return Some((i, i + matched));
        }
    }
    None
}

fn skip_cols(spans: Vec<Span<'_>>, mut cols: usize) -> Vec<Span<'_>> {
    if cols == 0 {
        return spans;
    }
    let mut out = Vec::with_capacity(spans.len());
    for s in spans {
        if cols == 0 {
            out.push(s);
            continue;
        }
        let w = str_width(&s.content);
        if w <= cols {
            cols -= w;
            continue;
        }
        let mut acc = 0;
        let mut cut = s.content.len();
        for (i, c) in s.content.char_indices() {
            if acc >= cols {
                cut = i;
                break;
            }
            acc += c.width().unwrap_or(0);
        }
        let text: String = s.content[cut..].to_string();
        out.push(Span::styled(text, s.style));
        cols = 0;
    }
    out
}

/// Character-wraps styled spans into rows of `width` columns.
pub(crate) fn wrap_spans(spans: Vec<Span<'_>>, width: usize) -> Vec<Line<'_>> {
    let mut rows: Vec<Line> = Vec::new();
    let mut cur: Vec<Span> = Vec::new();
    let mut used = 0;
    for s in spans {
        let style = s.style;
        let mut piece = String::new();
        for c in s.content.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > width && used > 0 {
                if !piece.is_empty() {
                    cur.push(Span::styled(std::mem::take(&mut piece), style));
                }
                rows.push(Line::from(std::mem::take(&mut cur)));
                used = 0;
            }
            piece.push(c);
            used += w;
        }
        if !piece.is_empty() {
            cur.push(Span::styled(piece, style));
        }
    }
    if !cur.is_empty() || rows.is_empty() {
        rows.push(Line::from(cur));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn line(i: usize, text: &str) -> LogLine {
        LogLine {
            time_ms: 1_700_000_000_000 + i as i64,
            level: if text.contains("err") {
                Level::Error
            } else {
                Level::Info
            },
            source: Arc::from("otel.log"),
            attrs: Arc::from(""),
            text: text.into(),
        }
    }

    #[test]
    fn bounded_buffer_evicts_and_keeps_matches_valid() {
        let mut p = LogsPane::new(10);
        p.set_filter("err");
        for i in 0..25 {
            p.push_lines([line(i, if i % 3 == 0 { "an err here" } else { "fine" })]);
        }
        assert_eq!(p.len(), 10);
        // lines 15..25 remain; errors at 15, 18, 21, 24
        assert_eq!(p.visible_len(), 4);
        p.set_filter("");
        assert_eq!(p.visible_len(), 10);
    }

    #[test]
    fn follow_stops_on_scroll_and_resumes_on_end() {
        let mut p = LogsPane::new(100);
        p.push_lines((0..50).map(|i| line(i, &format!("line {i}"))));
        assert!(p.following());
        p.move_by(-1);
        assert!(!p.following());
        assert_eq!(
            p.selected_text().unwrap().split(' ').next_back(),
            Some("48")
        );
        p.push_lines([line(51, "new")]);
        assert_eq!(
            p.selected_text().unwrap().split(' ').next_back(),
            Some("48")
        );
        p.follow();
        assert_eq!(
            p.selected_text().unwrap().split(' ').next_back(),
            Some("new")
        );
    }

    #[test]
    fn pause_holds_lines_back() {
        let mut p = LogsPane::new(100);
        p.set_paused(true);
        p.push_lines([line(0, "a"), line(1, "b")]);
        assert_eq!((p.len(), p.pending()), (0, 2));
        p.set_paused(false);
        assert_eq!((p.len(), p.pending()), (2, 0));
    }

    #[test]
    fn search_moves_between_matches() {
        let mut p = LogsPane::new(100);
        p.push_lines((0..10).map(|i| line(i, if i == 2 || i == 7 { "needle" } else { "hay" })));
        p.search = "NEEDLE".to_lowercase();
        assert_eq!(p.search_count(), 2);
        assert!(p.search_step(false));
        assert_eq!(p.cursor, Some(7));
        assert!(p.search_step(false));
        assert_eq!(p.cursor, Some(2));
        assert!(p.search_step(true));
        assert_eq!(p.cursor, Some(7));
    }

    #[test]
    fn narrowing_filter_matches_full_recompute() {
        let mut p = LogsPane::new(1000);
        p.push_lines((0..300).map(|i| line(i, &format!("item {i} {}", i % 7))));
        p.set_filter("item 1");
        p.set_filter("item 12");
        let narrowed = p.visible_len();
        p.set_filter("");
        p.set_filter("item 12");
        assert_eq!(p.visible_len(), narrowed);
        assert_eq!(narrowed, 11); // 12, 120..=129
    }

    #[test]
    fn find_is_smart_case() {
        assert_eq!(find_ci("Hello World", "world"), Some((6, 11)));
        assert_eq!(find_ci("Hello World", "World"), Some((6, 11)));
        assert_eq!(find_ci("Hello world", "World"), None);
        assert_eq!(find_ci("ÄBC äbc", "äb"), Some((0, 3)));
    }

    #[test]
    fn wrap_splits_rows() {
        let rows = wrap_spans(vec![Span::raw("abcdefghij")], 4);
        assert_eq!(rows.len(), 3);
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
