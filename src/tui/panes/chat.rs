//! The chat pane: participants with presence, messages, and a multi-line input.

use std::collections::VecDeque;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};
use ratatui_textarea::TextArea;

use super::logs::{find_ci, wrap_spans};
use super::{human_size, pane_block};
use crate::tui::action::Action;
use crate::tui::net::{ChatMessage, LogLine, NetEvent, PeerInfo};
use crate::tui::pane::{DrawCx, Focus, NetCx, Pane, scroll_up, step};
use crate::tui::theme::Theme;
use crate::tui::time::clock;

pub const MAX_MESSAGES: usize = 10_000;
/// Streams listed under the participants; the oldest closed one goes first.
pub const MAX_STREAMS: usize = 20;

#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    pub info: PeerInfo,
    pub online: bool,
    /// When the console saw it join (None: it was in the room before the console).
    pub joined_ms: Option<i64>,
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

/// A `messaging.stream` between two participants, as the room's log reports it (the
/// `stream.*` attributes messaging_stream.rs gives its two log lines).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamView {
    pub id: String,
    pub from: String,
    pub to: String,
    pub open: bool,
    /// Messages each way, known once the stream closed.
    pub sent: Option<u64>,
    pub received: Option<u64>,
}

impl StreamView {
    /// The stream a log line reports, if it reports one.
    fn from_log(line: &LogLine) -> Option<StreamView> {
        let attrs = attr_pairs(&line.attrs);
        let get = |k: &str| {
            attrs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.clone())
        };
        let count = |k: &str| get(k).and_then(|v| v.parse().ok());
        Some(StreamView {
            id: get("stream.id")?,
            open: get("stream.state")? == "open",
            from: get("stream.from").unwrap_or_default(),
            to: get("stream.to").unwrap_or_default(),
            sent: count("stream.sent"),
            received: count("stream.received"),
        })
    }
}

/// `key=value` pairs of a log line's attributes. Values may hold spaces (participant names),
/// so a word starts a new pair only when it reads as `stream.KEY=` or another dotted key.
fn attr_pairs(attrs: &str) -> Vec<(&str, String)> {
    let mut out: Vec<(&str, String)> = Vec::new();
    for word in attrs.split(' ') {
        let key = word.split_once('=').map(|(k, _)| k).filter(|k| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        });
        match (key, out.last_mut()) {
            (Some(k), _) => out.push((k, word[k.len() + 1..].to_string())),
            (None, Some((_, v))) => {
                v.push(' ');
                v.push_str(word);
            }
            (None, None) => {}
        }
    }
    out
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
    /// Messaging streams between participants, newest last.
    pub streams: VecDeque<StreamView>,
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
            streams: VecDeque::new(),
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

    /// Takes the stream lines of a batch of log lines; true when one changed the list.
    pub fn observe_streams(&mut self, lines: &[LogLine]) -> bool {
        let mut changed = false;
        for s in lines.iter().filter_map(StreamView::from_log) {
            changed = true;
            match self.streams.iter_mut().find(|known| known.id == s.id) {
                Some(known) => *known = s,
                None => {
                    if self.streams.len() == MAX_STREAMS {
                        let drop = self.streams.iter().position(|k| !k.open).unwrap_or(0);
                        self.streams.remove(drop);
                    }
                    self.streams.push_back(s);
                }
            }
        }
        changed
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
            .map(|info| {
                // A participant seen joining keeps its join time across a fresh list.
                let joined_ms = self
                    .peers
                    .iter()
                    .find(|p| p.info.id == info.id)
                    .and_then(|p| p.joined_ms);
                Peer {
                    info,
                    online: true,
                    joined_ms,
                }
            })
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
                p.joined_ms = Some(now_ms);
            }
            None => self.peers.push(Peer {
                info,
                online: true,
                joined_ms: Some(now_ms),
            }),
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

    /// A sender the room named after the fact (it never enabled messaging, as a CLI command
    /// does not): its messages take the name, and it is listed, gone if it left.
    pub fn sender_named(&mut self, info: PeerInfo, present: bool) {
        for e in self.entries.iter_mut() {
            if let Entry::Msg(m) = e
                && m.from_id == info.id
            {
                m.from_name = display_name(&info);
            }
        }
        if !self.peers.iter().any(|p| p.info.id == info.id) {
            self.peers.push(Peer {
                info,
                online: present,
                joined_ms: None,
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

    /// Streams: who -> whom, open, or closed with the messages each way.
    pub fn draw_streams(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let open = self.streams.iter().filter(|s| s.open).count();
        let block = pane_block(format!(" Streams {open} open "), theme, false);
        let rows = self.streams.iter().rev().map(|s| {
            let (dot, style, counts) = if s.open {
                ("● ", theme.fg_of(theme.ok), "open".to_string())
            } else {
                let n = |c: Option<u64>| c.map_or("?".to_string(), |c| c.to_string());
                (
                    "○ ",
                    theme.muted(),
                    format!("↑{} ↓{}", n(s.sent), n(s.received)),
                )
            };
            // The state first: a narrow column cuts the names, not the counts.
            ListItem::new(Line::from(vec![
                Span::styled(dot, style),
                Span::styled(format!("{counts} "), theme.muted()),
                Span::raw(format!("{} → {}", s.from, s.to)),
            ]))
        });
        f.render_widget(List::new(rows.collect::<Vec<_>>()).block(block), area);
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

impl Pane for ChatPane {
    fn commands(&self, _focus: Focus) -> &'static [Action] {
        &[
            Action::Compose,
            Action::FocusNext,
            Action::Filter,
            Action::Copy,
            Action::Zoom,
        ]
    }

    fn draw(&mut self, f: &mut Frame, body: Rect, cx: &mut DrawCx) {
        let input_rows = (self.input.lines().len() as u16 + 2).clamp(3, 8);
        let (peers, messages, input) = if cx.zoom {
            match cx.focus {
                Focus::Peers => (Some(body), None, None),
                Focus::Messages => (None, Some(body), None),
                _ => (
                    None,
                    Some(Rect {
                        height: body.height.saturating_sub(input_rows),
                        ..body
                    }),
                    Some(Rect {
                        y: body.bottom().saturating_sub(input_rows),
                        height: input_rows.min(body.height),
                        ..body
                    }),
                ),
            }
        } else {
            let peers_w = if body.width >= 70 { 26 } else { 18 };
            let [left, right] =
                Layout::horizontal([Constraint::Length(peers_w), Constraint::Fill(1)]).areas(body);
            let [m, i] = Layout::vertical([Constraint::Fill(1), Constraint::Length(input_rows)])
                .areas(right);
            (Some(left), Some(m), Some(i))
        };
        if let Some(r) = peers {
            // Streams take the foot of the participants column while there are any.
            let streams_h = match self.streams.len() as u16 {
                0 => 0,
                n => (n + 2).min(r.height / 3),
            };
            let [r, streams] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(streams_h)]).areas(r);
            cx.place(r, Focus::Peers);
            self.draw_peers(f, r, cx.theme, cx.focused(Focus::Peers));
            if streams_h > 2 {
                self.draw_streams(f, streams, cx.theme);
            }
        }
        if let Some(r) = messages {
            cx.place(r, Focus::Messages);
            self.draw_messages(f, r, cx.theme, cx.focused(Focus::Messages), cx.tz);
        }
        if let Some(r) = input {
            cx.place(r, Focus::Input);
            self.draw_input(f, r, cx.theme, cx.typing, cx.read_only);
        }
    }

    fn navigate(&mut self, focus: Focus, a: Action) {
        if focus == Focus::Peers {
            self.selected = step(self.selected, self.peers.len() + 1, a, 10);
        } else {
            let n = self.visible_entries().count();
            self.scroll = scroll_up(self.scroll, a, 10, n.saturating_sub(1));
        }
    }

    fn filter(&self) -> String {
        self.filter.clone()
    }

    fn set_filter(&mut self, text: &str) {
        self.filter = text.to_string();
        self.scroll = 0;
    }

    fn copy_text(&self, _focus: Focus) -> Option<String> {
        self.selected_text()
    }

    #[allow(clippy::result_large_err)]
    fn on_net(&mut self, ev: NetEvent, cx: &mut NetCx) -> Result<bool, NetEvent> {
        match ev {
            NetEvent::PeerJoined(p) => self.peer_joined(p, cx.now_ms),
            NetEvent::PeerLeft { id } => self.peer_left(&id, cx.now_ms),
            NetEvent::PeerRenamed { id, name } => self.peer_renamed(&id, &name),
            NetEvent::Message(m) => self.push(Entry::Msg(m)),
            // The logs pane shows these lines too: take the streams, pass the event on.
            NetEvent::Logs(lines) => {
                self.observe_streams(&lines);
                return Err(NetEvent::Logs(lines));
            }
            ev => return Err(ev),
        }
        Ok(true)
    }
}
