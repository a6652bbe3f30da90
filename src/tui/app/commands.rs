//! The palette's commands (`:send jobs {…}`, `:room NAME`, …): parsed and carried out.

use serde_json::Value;

use super::{App, Effect, LineTarget, NoticeLevel, Tab};
use crate::tui::action::Action;
use crate::tui::net::NetCommand;

impl App {
    pub fn run_command(&mut self, line: &str) {
        let (cmd, arg) = match line.split_once(' ') {
            Some((c, a)) => (c, a.trim()),
            None => (line, ""),
        };
        let mutating = matches!(
            cmd,
            "say"
                | "send"
                | "receive"
                | "drain"
                | "restart"
                | "upload"
                | "move"
                | "delete"
                | "invoke"
        );
        if self.read_only && mutating {
            self.notify(
                NoticeLevel::Error,
                format!("read-only mode: \"{cmd}\" is off"),
            );
            return;
        }
        match cmd {
            "quit" | "q" => self.do_action(Action::Quit),
            "help" => self.do_action(Action::Help),
            "overview" => self.switch_tab(Tab::Overview),
            "chat" => self.switch_tab(Tab::Chat),
            "queues" => self.switch_tab(Tab::Queues),
            "logs" => self.switch_tab(Tab::Logs),
            "services" => self.switch_tab(Tab::Services),
            "files" => self.switch_tab(Tab::Files),
            "upload" | "download" | "move" | "delete" => self.files_command(cmd, arg),
            "database" => self.switch_tab(Tab::Database),
            "docs" | "documents" => self.switch_tab(Tab::Docs),
            "doc" => self.open_doc(arg),
            "tools" | "toolkits" => self.switch_tab(Tab::Tools),
            "timeline" => self.switch_tab(Tab::Timeline),
            "at" => self.timeline_jump(arg),
            "invoke" => self.invoke_command(arg),
            "tables" => {
                self.switch_tab(Tab::Database);
                self.refresh_tables();
            }
            "sql" if !arg.is_empty() => {
                self.switch_tab(Tab::Database);
                self.panes.database.editor.set_text(arg);
                self.run_sql(arg.to_string());
            }
            "export" => {
                if arg.is_empty() {
                    self.ask_export();
                } else {
                    self.export_to(arg);
                }
            }
            "room" => self.switch_room(arg),
            "rooms" => self.open_rooms(),
            "restart" if !arg.is_empty() => {
                match self
                    .panes
                    .services
                    .services
                    .iter()
                    .find(|s| s.name == arg || s.id == arg)
                    .cloned()
                {
                    Some(svc) => self.confirm_restart(svc),
                    None => self.notify(NoticeLevel::Error, format!("no service named {arg}")),
                }
            }
            "say" if !arg.is_empty() => {
                self.panes.chat.input.select_all();
                self.panes.chat.input.cut();
                self.panes.chat.input.insert_str(arg);
                self.send_chat();
            }
            "send" => {
                let Some((queue, json)) = arg.split_once(' ') else {
                    self.notify(NoticeLevel::Error, "usage: send QUEUE {json}");
                    return;
                };
                match serde_json::from_str::<Value>(json) {
                    Ok(v @ Value::Object(_)) => {
                        if self.live("send to the queue") {
                            self.send(NetCommand::QueueSend {
                                name: queue.to_string(),
                                message: v,
                                create: true,
                            });
                        }
                    }
                    Ok(_) => self.notify(
                        NoticeLevel::Error,
                        "a queue message is a JSON object: wrap it in {…}",
                    ),
                    Err(e) => self.notify(NoticeLevel::Error, format!("not valid JSON: {e}")),
                }
            }
            "receive" if !arg.is_empty() => {
                if self.live("receive") {
                    self.send(NetCommand::QueueReceive {
                        name: arg.to_string(),
                    });
                }
            }
            "drain" if !arg.is_empty() => self.confirm_drain(arg.to_string()),
            "log" if !arg.is_empty() => {
                if self.live("log") {
                    self.send(NetCommand::DevLog {
                        message: arg.to_string(),
                    });
                }
            }
            "filter" => {
                let t = self.tab;
                self.apply_line(LineTarget::Filter(t), arg, true);
            }
            "search" => {
                self.switch_tab(Tab::Logs);
                self.apply_line(LineTarget::Search, arg, true);
            }
            "follow" => self.panes.logs.follow(),
            "pause" => self.do_action(Action::TogglePause),
            "wrap" => self.do_action(Action::ToggleWrap),
            "timestamps" => self.do_action(Action::ToggleTimestamps),
            "clear" => self.do_action(Action::ClearLogs),
            "theme" if !arg.is_empty() => self.set_theme(arg),
            "mouse" => {
                let want = match arg {
                    "on" => true,
                    "off" => false,
                    _ => !self.mouse,
                };
                if want != self.mouse {
                    self.do_action(Action::ToggleMouse);
                }
            }
            _ => self.notify(
                NoticeLevel::Error,
                format!("unknown command \"{line}\" (tab lists the commands)"),
            ),
        }
    }

    pub(super) fn switch_room(&mut self, name: &str) {
        if !self.local {
            self.notify(
                NoticeLevel::Error,
                "room NAME opens local rooms; this console is on a remote room",
            );
        } else if name.is_empty() {
            self.notify(NoticeLevel::Error, "usage: room NAME");
        } else if name.contains(['/', '\\', ' ']) || name.starts_with('.') {
            self.notify(
                NoticeLevel::Error,
                format!("\"{name}\" is not a room name (no slashes, spaces or leading dot)"),
            );
        } else if name == self.room {
            self.notify(NoticeLevel::Info, format!("already in room {name}"));
        } else {
            self.outbox.push(Effect::SwitchRoom(name.to_string()));
        }
    }
}
