//! `App::update` for the chat tab: the message input and sending.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, Focus};
use crate::tui::action::Action;
use crate::tui::net::{ChatMessage, NetCommand};
use crate::tui::panes::chat::{Entry, display_name};

impl App {
    pub(super) fn compose_key(&mut self, k: KeyEvent) {
        let alt = k.modifiers.contains(KeyModifiers::ALT);
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let shift = k.modifiers.contains(KeyModifiers::SHIFT);
        match k.code {
            KeyCode::Esc => self.set_focus(Focus::Peers),
            KeyCode::Enter if alt || shift => self.chat.input.insert_newline(),
            KeyCode::Char('j') if ctrl => self.chat.input.insert_newline(),
            KeyCode::Enter => self.send_chat(),
            KeyCode::Tab => self.do_action(Action::FocusNext),
            KeyCode::BackTab => self.do_action(Action::FocusPrev),
            KeyCode::Char('z') if ctrl => self.do_action(Action::Suspend),
            _ => {
                self.chat.input.input(k);
            }
        }
    }

    pub(super) fn send_chat(&mut self) {
        let text = self.chat.input.lines().join("\n");
        if text.trim().is_empty() {
            return;
        }
        if !self.live("send a message") {
            return;
        }
        self.chat.input.select_all();
        self.chat.input.cut();
        let to = self.chat.recipient().map(|p| p.info.clone());
        self.chat.push(Entry::Msg(ChatMessage {
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
        self.chat.scroll = 0;
        self.send(NetCommand::SendChat { to, text });
    }
}
