//! `App::update` for the toolkits tab: the list of toolkits and tools, and calls made with
//! JSON arguments (from a prompt or the palette's `invoke`) whose answers the pane keeps.

use serde_json::Value;

use super::{App, NoticeLevel, Popup};
use crate::tui::net::tools::argument_template;
use crate::tui::net::{NetCommand, ToolsCommand, ToolsEvent};
use crate::tui::panes::tools::Call;
use crate::tui::popups::prompt::{Prompt, PromptKind};

impl App {
    pub(super) fn on_tools(&mut self, ev: ToolsEvent) -> bool {
        match ev {
            ToolsEvent::Listed(kits) => self.panes.tools.set_kits(kits),
            ToolsEvent::Answered {
                id,
                outcome,
                elapsed_ms,
            } => self.panes.tools.answered(id, outcome, elapsed_ms),
        }
    }

    /// Enter or `i` on a tool: a prompt with arguments built from its schema. On a toolkit
    /// heading: folds or unfolds it.
    pub(super) fn ask_tool_arguments(&mut self) {
        if self.panes.tools.toggle_selected() {
            return;
        }
        let Some((kit, tool)) = self.panes.tools.selected_tool() else {
            self.notify(NoticeLevel::Info, "no tool selected");
            return;
        };
        let template = argument_template(tool.schema.as_ref());
        let text = serde_json::to_string_pretty(&template).unwrap_or_default();
        self.popup = Some(Popup::Prompt(
            Prompt::new(
                PromptKind::ToolArguments {
                    toolkit: kit.name,
                    tool: tool.name,
                },
                &self.theme,
            )
            .with_text(&text),
        ));
    }

    /// Calls a tool; false (with a notice) when the room is not connected.
    pub(super) fn call_tool(&mut self, toolkit: String, tool: String, arguments: Value) -> bool {
        if !self.live("call the tool") {
            return false;
        }
        let id = self.next_transfer;
        self.next_transfer += 1;
        self.panes.tools.start_call(Call::new(
            id,
            toolkit.clone(),
            tool.clone(),
            arguments.clone(),
            self.now_ms,
        ));
        self.send(NetCommand::Tools(ToolsCommand::Invoke {
            id,
            toolkit,
            tool,
            arguments,
        }));
        true
    }

    /// `:invoke TOOLKIT.TOOL {json}` (arguments default to `{}`).
    pub(super) fn invoke_command(&mut self, arg: &str) {
        let (name, json) = match arg.split_once(char::is_whitespace) {
            Some((n, j)) => (n, j.trim()),
            None => (arg, ""),
        };
        let Some((toolkit, tool)) = name
            .split_once('.')
            .filter(|(k, t)| !k.is_empty() && !t.is_empty())
        else {
            self.notify(NoticeLevel::Error, "usage: invoke TOOLKIT.TOOL {json}");
            return;
        };
        let arguments = if json.is_empty() {
            Value::Object(Default::default())
        } else {
            match serde_json::from_str::<Value>(json) {
                Ok(v @ Value::Object(_)) => v,
                Ok(_) => {
                    self.notify(
                        NoticeLevel::Error,
                        "a tool's arguments are a JSON object: wrap them in {…}",
                    );
                    return;
                }
                Err(e) => {
                    self.notify(NoticeLevel::Error, format!("not valid JSON: {e}"));
                    return;
                }
            }
        };
        self.switch_tab(super::Tab::Tools);
        self.call_tool(toolkit.to_string(), tool.to_string(), arguments);
    }
}
