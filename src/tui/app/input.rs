//! `App::update` for keys that do not map to an action: the line input at the bottom, the
//! popups (help, palette, confirm, prompts) and pasted text.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, Focus, NoticeLevel, Popup, Tab};
use crate::tui::action::Action;
use crate::tui::keymap::Context;
use crate::tui::net::NetCommand;
use crate::tui::panes::database::sql::SqlKind;
use crate::tui::popups::EditOutcome;
use crate::tui::popups::prompt::{Prompt, PromptKind};

impl App {
    pub(super) fn on_key(&mut self, k: KeyEvent) {
        // Ctrl-C always quits, whatever has the focus.
        if k.code == KeyCode::Char('c')
            && k.modifiers.contains(KeyModifiers::CONTROL)
            && self.popup.is_none()
        {
            self.do_action(Action::Quit);
            return;
        }
        if self.popup.is_some() {
            self.popup_key(k);
            return;
        }
        if let Some((target, mut edit)) = self.line.take() {
            match edit.handle(&k) {
                EditOutcome::Submit => self.apply_line(target, &edit.text, true),
                EditOutcome::Cancel => self.apply_line(target, "", false),
                EditOutcome::Changed => {
                    self.apply_line(target, &edit.text, false);
                    self.line = Some((target, edit));
                }
                EditOutcome::Unchanged | EditOutcome::Other => self.line = Some((target, edit)),
            }
            return;
        }
        if self.composing() {
            self.compose_key(k);
            return;
        }
        if self.editing_sql() {
            self.sql_key(k);
            return;
        }
        if let Some(a) = self.keymap.action_for(self.tab.context(), &k) {
            self.do_action(a);
        }
    }

    fn popup_key(&mut self, k: KeyEvent) {
        let Some(popup) = self.popup.take() else {
            return;
        };
        match popup {
            Popup::Help(mut h) => {
                let close_keys = matches!(k.code, KeyCode::Esc)
                    || (h.filter.text.is_empty()
                        && self.keymap.action_for(Context::Global, &k) == Some(Action::Help));
                // Esc closes, filter or not: the next key must not land in a filter.
                if close_keys {
                    return;
                }
                match k.code {
                    KeyCode::Up => h.scroll = h.scroll.saturating_sub(1),
                    KeyCode::Down => h.scroll += 1,
                    KeyCode::PageUp => h.scroll = h.scroll.saturating_sub(10),
                    KeyCode::PageDown => h.scroll += 10,
                    _ => {
                        if let EditOutcome::Changed = h.filter.handle(&k) {
                            h.scroll = 0;
                        }
                    }
                }
                self.popup = Some(Popup::Help(h));
            }
            Popup::Palette(mut p) => match k.code {
                KeyCode::Tab => {
                    let (t, q) = (self.theme_names(), self.queue_names());
                    p.complete(&t, &q);
                    self.popup = Some(Popup::Palette(p));
                }
                KeyCode::Up | KeyCode::Down => {
                    if !self.history.is_empty() {
                        let n = self.history.len();
                        let pos = match (p.history_pos, k.code) {
                            (None, KeyCode::Up) => Some(n - 1),
                            (None, _) => None,
                            (Some(i), KeyCode::Up) => Some(i.saturating_sub(1)),
                            (Some(i), _) if i + 1 < n => Some(i + 1),
                            (Some(_), _) => None,
                        };
                        p.history_pos = pos;
                        p.edit.set(pos.map_or("", |i| self.history[i].as_str()));
                        p.cycle = None;
                    }
                    self.popup = Some(Popup::Palette(p));
                }
                _ => match p.edit.handle(&k) {
                    EditOutcome::Submit => {
                        let line = p.edit.text.trim().to_string();
                        if !line.is_empty() {
                            self.history.retain(|h| h != &line);
                            self.history.push(line.clone());
                            if self.history.len() > 100 {
                                self.history.remove(0);
                            }
                            let before = self.notice.clone();
                            self.run_command(&line);
                            // A command that failed here and now: the palette stays open
                            // with the error, as a prompt does with bad input.
                            if let Some(n) = &self.notice
                                && n.level == NoticeLevel::Error
                                && self.notice != before
                                && self.popup.is_none()
                                && !self.quit
                            {
                                p.error = Some(n.text.clone());
                                self.notice = None;
                                self.popup = Some(Popup::Palette(p));
                            }
                        }
                    }
                    EditOutcome::Cancel => {}
                    EditOutcome::Changed => {
                        p.cycle = None;
                        p.error = None;
                        self.popup = Some(Popup::Palette(p));
                    }
                    _ => self.popup = Some(Popup::Palette(p)),
                },
            },
            Popup::Confirm(c) => match k.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    if self.live("do that") {
                        match c.on_yes {
                            // A run confirmed: it starts like any other (history, result).
                            NetCommand::SqlRun { sql, .. } => {
                                self.start_sql(sql, SqlKind::Destructive)
                            }
                            cmd => self.send(cmd),
                        }
                    }
                }
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {}
                _ => self.popup = Some(Popup::Confirm(c)),
            },
            Popup::Path(p) => self.path_prompt_key(p, k),
            Popup::Peer(p) => self.peer_detail_key(p, k),
            Popup::Rooms(v) => self.rooms_key(v, k),
            Popup::Prompt(mut p) => {
                let alt = k.modifiers.contains(KeyModifiers::ALT);
                let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
                match k.code {
                    KeyCode::Esc => {}
                    KeyCode::Enter if alt => {
                        p.input.insert_newline();
                        self.popup = Some(Popup::Prompt(p));
                    }
                    KeyCode::Char('j') if ctrl => {
                        p.input.insert_newline();
                        self.popup = Some(Popup::Prompt(p));
                    }
                    KeyCode::Enter => match (p.validate(), p.kind.clone()) {
                        (Err(e), _) => {
                            p.error = Some(e);
                            self.popup = Some(Popup::Prompt(p));
                        }
                        (Ok(v), PromptKind::ExportPath) => {
                            self.export_to(v.as_str().unwrap_or_default())
                        }
                        (Ok(v), PromptKind::QueueName) => {
                            let queue = v.as_str().unwrap_or_default().to_string();
                            self.popup = Some(Popup::Prompt(Prompt::new(
                                PromptKind::QueueMessage {
                                    queue,
                                    create: true,
                                },
                                &self.theme,
                            )));
                        }
                        (Ok(v), PromptKind::DocJson { path }) => {
                            // Open until the room takes it: a rejected edit keeps its text.
                            if self.live("save the document") {
                                self.send(NetCommand::Docs(
                                    crate::tui::net::DocsCommand::Replace { path, json: v },
                                ));
                                p.saving = true;
                            }
                            self.popup = Some(Popup::Prompt(p));
                        }
                        (Ok(v), PromptKind::ToolArguments { toolkit, tool }) => {
                            if !self.call_tool(toolkit, tool, v) {
                                self.popup = Some(Popup::Prompt(p));
                            }
                        }
                        (Ok(v), PromptKind::QueueMessage { queue, create }) => {
                            if self.live("send to the queue") {
                                self.send(NetCommand::QueueSend {
                                    name: queue,
                                    message: v,
                                    create,
                                });
                            } else {
                                self.popup = Some(Popup::Prompt(p));
                            }
                        }
                    },
                    _ => {
                        p.input.input(k);
                        p.error = None;
                        self.popup = Some(Popup::Prompt(p));
                    }
                }
            }
        }
    }

    pub(super) fn on_paste(&mut self, text: &str) {
        match (&mut self.popup, &mut self.line) {
            (Some(Popup::Prompt(p)), _) => {
                p.input.insert_str(text);
            }
            (Some(Popup::Palette(p)), _) => p.edit.insert_str(text),
            (Some(Popup::Help(h)), _) => h.filter.insert_str(text),
            (Some(Popup::Rooms(v)), _) => v.paste(text),
            (Some(Popup::Confirm(_)), _) | (Some(Popup::Peer(_)), _) => {}
            (Some(Popup::Path(p)), _) => {
                p.edit.insert_str(text);
                p.edited();
            }
            (None, Some((target, edit))) => {
                edit.insert_str(text);
                let (t, s) = (*target, edit.text.clone());
                self.apply_line(t, &s, false);
            }
            (None, None) => {
                if self.tab == Tab::Chat && !self.read_only {
                    self.set_focus(Focus::Input);
                    self.panes.chat.input.insert_str(text);
                }
                if self.tab == Tab::Database {
                    self.set_focus(Focus::DbEditor);
                    self.panes.database.editor.input.insert_str(text);
                }
            }
        }
    }
}
