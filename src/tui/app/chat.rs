//! `App::update` for the chat tab: the message input and sending.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

use super::{App, Focus, Popup};
use crate::tui::action::Action;
use crate::tui::net::{ChatMessage, NetCommand, NetEvent, ToolOutcome, ToolsCommand, ToolsEvent};
use crate::tui::panes::chat::{Entry, display_name};
use crate::tui::popups::peer::{PeerDetail, Scope};

impl App {
    pub(super) fn compose_key(&mut self, k: KeyEvent) {
        let alt = k.modifiers.contains(KeyModifiers::ALT);
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let shift = k.modifiers.contains(KeyModifiers::SHIFT);
        match k.code {
            KeyCode::Esc => self.set_focus(Focus::Peers),
            KeyCode::Enter if alt || shift => self.panes.chat.input.insert_newline(),
            KeyCode::Char('j') if ctrl => self.panes.chat.input.insert_newline(),
            KeyCode::Enter => self.send_chat(),
            KeyCode::Tab => self.do_action(Action::FocusNext),
            KeyCode::BackTab => self.do_action(Action::FocusPrev),
            KeyCode::Char('z') if ctrl => self.do_action(Action::Suspend),
            _ => {
                self.panes.chat.input.input(k);
            }
        }
    }

    pub(super) fn send_chat(&mut self) {
        let text = self.panes.chat.input.lines().join("\n");
        if text.trim().is_empty() {
            return;
        }
        if !self.live("send a message") {
            return;
        }
        self.panes.chat.input.select_all();
        self.panes.chat.input.cut();
        let to = self.panes.chat.recipient().map(|p| p.info.clone());
        self.panes.chat.push(Entry::Msg(ChatMessage {
            time_ms: self.now_ms,
            from_id: self.me_id.clone(),
            from_name: if self.me_name.is_empty() {
                "you".into()
            } else {
                self.me_name.clone()
            },
            to: to.as_ref().map(display_name),
            kind: "chat".into(),
            text: text.clone(),
            attachment: None,
            own: true,
        }));
        self.panes.chat.scroll = 0;
        self.send(NetCommand::SendChat { to, text });
    }

    /// Enter on a participant: its detail, and the room asked for its token's scope.
    pub(super) fn open_peer_detail(&mut self) {
        let Some(peer) = self.panes.chat.recipient().cloned() else {
            return;
        };
        let scope = if self.live("ask the room about the participant") {
            let id = self.next_transfer;
            self.next_transfer += 1;
            self.send(NetCommand::Tools(ToolsCommand::Invoke {
                id,
                toolkit: "stats".into(),
                tool: "participant".into(),
                arguments: json!({"id": peer.info.id}),
            }));
            Scope::Asking(id)
        } else {
            Scope::Unknown("not connected".into())
        };
        self.popup = Some(Popup::Peer(PeerDetail {
            me: peer.info.id == self.me_id,
            info: peer.info,
            online: peer.online,
            joined_ms: peer.joined_ms,
            scope,
            scroll: 0,
        }));
    }

    /// The answer about the participant shown; true when the event was that answer.
    pub(super) fn peer_answer(&mut self, ev: &NetEvent) -> bool {
        let (Some(Popup::Peer(p)), NetEvent::Tools(ToolsEvent::Answered { id, outcome, .. })) =
            (&mut self.popup, ev)
        else {
            return false;
        };
        if p.scope != Scope::Asking(*id) {
            return false;
        }
        p.scope = match outcome {
            ToolOutcome::Json(v) => {
                if let Some(a) = v.get("attributes").and_then(|a| a.as_object()) {
                    p.info.attributes = a.clone();
                }
                Scope::Known(v.get("scope").cloned().unwrap_or_default())
            }
            ToolOutcome::Error(e) => Scope::Unknown(e.clone()),
            _ => Scope::Unknown("an answer that is not JSON".into()),
        };
        true
    }

    pub(super) fn peer_detail_key(&mut self, mut p: PeerDetail, k: KeyEvent) {
        match k.code {
            KeyCode::Char('m') => {
                // The participant is the selected recipient already: write to it.
                self.set_focus(Focus::Peers);
                self.do_action(Action::Compose);
            }
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => {}
            KeyCode::Up | KeyCode::Char('k') => {
                p.scroll = p.scroll.saturating_sub(1);
                self.popup = Some(Popup::Peer(p));
            }
            KeyCode::Down | KeyCode::Char('j') => {
                p.scroll += 1;
                self.popup = Some(Popup::Peer(p));
            }
            _ => self.popup = Some(Popup::Peer(p)),
        }
    }

    /// A message from a sender the console cannot name: ask the room who it is (once).
    pub(super) fn ask_sender_name(&mut self, ev: &NetEvent) {
        let NetEvent::Message(m) = ev else { return };
        let known =
            m.from_id == self.me_id || self.panes.chat.peers.iter().any(|p| p.info.id == m.from_id);
        // A room without the stats toolkit cannot say (the overview found out already).
        let no_stats = self.panes.overview.source == crate::tui::panes::overview::Source::Console;
        if known
            || no_stats
            || self.conn != crate::tui::net::ConnState::Live
            || self.sender_asks.values().any(|id| *id == m.from_id)
            || self.sender_asks.len() >= 16
        {
            return;
        }
        let call = self.next_transfer;
        self.next_transfer += 1;
        self.sender_asks.insert(call, m.from_id.clone());
        self.send(NetCommand::Tools(ToolsCommand::Invoke {
            id: call,
            toolkit: "stats".into(),
            tool: "participant".into(),
            arguments: json!({"id": m.from_id}),
        }));
    }

    /// The room's answer about a sender; true when the event was one.
    pub(super) fn sender_answer(&mut self, ev: &NetEvent) -> bool {
        let NetEvent::Tools(ToolsEvent::Answered { id, outcome, .. }) = ev else {
            return false;
        };
        let Some(pid) = self.sender_asks.remove(id) else {
            return false;
        };
        if let ToolOutcome::Json(v) = outcome {
            let text = |k: &str| {
                v.get(k)
                    .and_then(|x| x.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let info = crate::tui::net::PeerInfo {
                id: pid,
                name: text("name"),
                role: text("role"),
                attributes: v
                    .get("attributes")
                    .and_then(|a| a.as_object())
                    .cloned()
                    .unwrap_or_default(),
            };
            let present = v.get("present").and_then(|p| p.as_bool()).unwrap_or(false);
            self.panes.chat.sender_named(info, present);
        }
        true
    }
}
