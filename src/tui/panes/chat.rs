//! The chat pane: participants with presence, messages, and a multi-line input.

use std::collections::VecDeque;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};
use ratatui_textarea::TextArea;

use super::logs::{find_ci, wrap_spans};
use super::{human_size, pane_block};
use crate::tui::net::{ChatMessage, PeerInfo};
use crate::tui::theme::Theme;
use crate::tui::time::clock;

pub const MAX_MESSAGES: usize = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    pub info: PeerInfo,
    pub online: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Msg(ChatMessage),
    /// A presence line: "alice joined".
    Event {
        time_ms: i64,
        text: String,
    },
}

#[derive(Debug)]
pub struct ChatPane {
    pub peers: Vec<Peer>,
    /// 0 is "everyone"; i > 0 is `peers[i - 1]`.
    pub selected: usize,
    pub entries: VecDeque<Entry>,
    /// Entries scrolled up from the end (0: the newest is at the bottom).
    pub scroll: usize,
    pub filter: String,
    pub input: TextArea<'static>,
    pub me_id: String,
}

impl Default for ChatPane {
    fn default() -> Self {
        let mut input = TextArea::default();
        input.set_cursor_line_style(ratatui::style::Style::new());
        ChatPane {
            peers: Vec::new(),
            selected: 0,
            entries: VecDeque::new(),
            scroll: 0,
            filter: String::new(),
            input,
            me_id: String::new(),
        }
    }
}

impl ChatPane {
    pub fn push(&mut self, e: Entry) {
        if self.entries.len() == MAX_MESSAGES {
            self.entries.pop_front();
        }
        self.entries.push_back(e);
        if self.scroll > 0 {
            self.scroll += 1;
        }
    }

    /// The recipient picked in the list; None means everyone.
    pub fn recipient(&self) -> Option<&Peer> {
        self.selected.checked_sub(1).and_then(|i| self.peers.get(i))
    }

    pub fn name_of(&self, id: &str) -> String {
        self.peers
            .iter()
            .find(|p| p.info.id == id)
            .map(|p| p.info.name.clone())
            .unwrap_or_else(|| short_id(id))
    }

    pub fn set_peers(&mut self, list: Vec<PeerInfo>) {
        let keep = self.recipient().map(|p| p.info.id.clone());
        self.peers = list
            .into_iter()
            .map(|info| Peer { info, online: true })
            .collect();
        self.selected = keep
            .and_then(|id| self.peers.iter().position(|p| p.info.id == id))
            .map_or(0, |i| i + 1);
    }

    pub fn peer_joined(&mut self, info: PeerInfo, now_ms: i64) {
        let text = format!("{} joined", display_name(&info));
        match self.peers.iter_mut().find(|p| p.info.id == info.id) {
            Some(p) => {
                p.info = info;
                p.online = true;
            }
            None => self.peers.push(Peer { info, online: true }),
        }
        self.push(Entry::Event {
            time_ms: now_ms,
            text,
        });
    }

    pub fn peer_left(&mut self, id: &str, now_ms: i64) {
        if let Some(p) = self.peers.iter_mut().find(|p| p.info.id == id) {
            p.online = false;
            let text = format!("{} left", display_name(&p.info));
            self.push(Entry::Event {
                time_ms: now_ms,
                text,
            });
        }
    }

    pub fn peer_renamed(&mut self, id: &str, name: &str) {
        if let Some(p) = self.peers.iter_mut().find(|p| p.info.id == id) {
            p.info.name = name.to_string();
        }
    }

    fn entry_matches(&self, e: &Entry) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        match e {
            Entry::Msg(m) => {
                find_ci(&m.text, &self.filter).is_some()
                    || find_ci(&m.from_name, &self.filter).is_some()
            }
            Entry::Event { text, .. } => find_ci(text, &self.filter).is_some(),
        }
    }

    pub fn visible_entries(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.entries.iter().filter(|e| self.entry_matches(e))
    }

    /// The newest shown message (at the scroll position), as text to copy.
    pub fn selected_text(&self) -> Option<String> {
        self.visible_entries()
            .rev()
            .skip(self.scroll)
            .find_map(|e| match e {
                Entry::Msg(m) => Some(m.text.clone()),
                Entry::Event { .. } => None,
            })
    }

    pub fn draw_peers(&self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let online = self.peers.iter().filter(|p| p.online).count();
        let block = pane_block(format!(" Participants {online} "), theme, focused);
        let mut items = vec![ListItem::new(Line::from(vec![
            Span::styled("◆ ", theme.accent()),
            Span::raw("everyone"),
        ]))];
        for p in &self.peers {
            let me = p.info.id == self.me_id;
            let (dot, dot_style) = if p.online {
                ("● ", theme.fg_of(theme.ok))
            } else {
                ("○ ", theme.muted())
            };
            let mut spans = vec![
                Span::styled(dot, dot_style),
                Span::styled(
                    display_name(&p.info),
                    match (p.online, me) {
                        (false, _) => theme.muted(),
                        (true, true) => theme.fg_of(theme.own).add_modifier(Modifier::BOLD),
                        (true, false) => theme.sender(&p.info.id),
                    },
                ),
            ];
            if me {
                spans.push(Span::styled(" (you)", theme.muted()));
            } else if !p.info.role.is_empty() && p.info.role != "user" {
                spans.push(Span::styled(format!(" {}", p.info.role), theme.muted()));
            }
            items.push(ListItem::new(Line::from(spans)));
        }
        let mut state = ListState::default().with_selected(Some(self.selected));
        let list = List::new(items)
            .block(block)
            .highlight_style(if focused {
                theme.selection()
            } else {
                theme.base().add_modifier(Modifier::BOLD)
            })
            .highlight_symbol(if focused { "▶ " } else { "  " });
        f.render_stateful_widget(list, area, &mut state);
    }

    pub fn draw_messages(&self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool, tz: i32) {
        let mut title = " Messages ".to_string();
        if !self.filter.is_empty() {
            title = format!(" Messages · filter \"{}\" ", self.filter);
        }
        if self.scroll > 0 {
            title.push_str(&format!("· ↑{} (end: newest) ", self.scroll));
        }
        let block = pane_block(title, theme, focused);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let width = inner.width as usize;
        let rows = inner.height as usize;
        if width == 0 || rows == 0 {
            return;
        }
        let mut out: Vec<Line> = Vec::new();
        let mut any = false;
        for e in self.visible_entries().rev().skip(self.scroll) {
            any = true;
            let mut lines = entry_lines(e, theme, tz, width, &self.me_id);
            lines.extend(out);
            out = lines;
            if out.len() >= rows {
                break;
            }
        }
        if !any {
            let hint = if self.filter.is_empty() {
                "no messages yet · press i to write one"
            } else {
                "no message matches the filter"
            };
            f.render_widget(
                Line::styled(hint, theme.muted()),
                Rect { height: 1, ..inner },
            );
            return;
        }
        let skip = out.len().saturating_sub(rows);
        let out: Vec<Line> = out.into_iter().skip(skip).collect();
        f.render_widget(Paragraph::new(out), inner);
    }

    pub fn draw_input(
        &mut self,
        f: &mut Frame,
        area: Rect,
        theme: &Theme,
        focused: bool,
        read_only: bool,
    ) {
        let to = match self.recipient() {
            Some(p) => format!("to {}", display_name(&p.info)),
            None => "to everyone".to_string(),
        };
        let title = if read_only {
            " read-only: sending is off ".to_string()
        } else if focused {
            format!(" Message {to} · enter send · alt-enter new line · esc done ")
        } else {
            format!(" Message {to} · i to write ")
        };
        self.input.set_block(pane_block(title, theme, focused));
        self.input.set_style(theme.base());
        self.input.set_placeholder_style(theme.muted());
        self.input
            .set_placeholder_text(if focused { "type a message" } else { "" });
        let cursor = if focused {
            theme.base().add_modifier(Modifier::REVERSED)
        } else {
            theme.base()
        };
        self.input.set_cursor_style(cursor);
        f.render_widget(&self.input, area);
    }
}

pub fn display_name(p: &PeerInfo) -> String {
    if p.name.is_empty() {
        short_id(&p.id)
    } else {
        p.name.clone()
    }
}

fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}

fn entry_lines<'a>(e: &'a Entry, theme: &Theme, tz: i32, width: usize, me: &str) -> Vec<Line<'a>> {
    match e {
        Entry::Event { time_ms, text } => vec![Line::from(vec![
            Span::styled(format!("{} ", clock(*time_ms, tz)), theme.muted()),
            Span::styled(
                format!("· {text}"),
                theme.muted().add_modifier(Modifier::ITALIC),
            ),
        ])],
        Entry::Msg(m) => {
            let mut head = vec![
                Span::styled(format!("{} ", clock(m.time_ms, tz)), theme.muted()),
                Span::styled(
                    m.from_name.clone(),
                    if m.own || m.from_id == me {
                        theme.fg_of(theme.own).add_modifier(Modifier::BOLD)
                    } else {
                        theme.sender(&m.from_id)
                    },
                ),
            ];
            if let Some(to) = &m.to {
                head.push(Span::styled(format!(" → {to}"), theme.muted()));
            }
            if m.kind != "chat" && !m.kind.is_empty() {
                head.push(Span::styled(format!(" ‹{}›", m.kind), theme.muted()));
            }
            head.push(Span::raw("  "));
            let mut lines = Vec::new();
            let mut text_lines = m.text.lines();
            let first = text_lines.next().unwrap_or("");
            head.push(Span::raw(first.to_string()));
            lines.extend(wrap_spans(head, width));
            for l in text_lines {
                lines.extend(wrap_spans(vec![Span::raw(format!("         {l}"))], width));
            }
            if let Some((name, size)) = &m.attachment {
                lines.push(Line::from(vec![
                    Span::raw("         "),
                    Span::styled(
                        format!("↳ {name} ({})", human_size(*size as u64)),
                        theme.accent(),
                    ),
                ]));
            }
            lines
        }
    }
}
