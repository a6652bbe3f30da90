//! A prompt for a queue name, a JSON message, an export path, a document's JSON or a tool's
//! arguments, checked before use.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui_textarea::TextArea;

use super::{centered, framed};
use crate::tui::theme::Theme;

#[derive(Debug, Clone, PartialEq)]
pub enum PromptKind {
    /// Asks for the name of a queue to create by sending to it.
    QueueName,
    /// Asks for the JSON message to send to `queue`.
    QueueMessage { queue: String, create: bool },
    /// Asks where to export the result (`.json` writes JSON, anything else CSV).
    ExportPath,
    /// Edits a sync document's whole content (`{root_tag: {...}}`).
    DocJson { path: String },
    /// Asks for the JSON arguments of a tool call.
    ToolArguments { toolkit: String, tool: String },
}

#[derive(Debug)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: TextArea<'static>,
    pub error: Option<String>,
    /// Sent and waiting for the room's answer (a document save): the prompt stays open until
    /// the room takes it, and shows the room's error if it does not.
    pub saving: bool,
}

impl Prompt {
    pub fn new(kind: PromptKind, theme: &Theme) -> Prompt {
        let mut input = TextArea::default();
        input.set_cursor_line_style(ratatui::style::Style::new());
        input.set_style(theme.base());
        match &kind {
            PromptKind::QueueName => input.set_placeholder_text("queue name"),
            PromptKind::QueueMessage { .. } => {
                input.set_placeholder_text("{\"task\": \"resize\", \"id\": 7}")
            }
            PromptKind::ExportPath => input.set_placeholder_text("./result.csv"),
            PromptKind::DocJson { .. } => input.set_placeholder_text("{\"doc\": {}}"),
            PromptKind::ToolArguments { .. } => input.set_placeholder_text("{}"),
        }
        Prompt {
            kind,
            input,
            error: None,
            saving: false,
        }
    }

    /// Starts the input with `text` (a value to edit).
    pub fn with_text(mut self, text: &str) -> Prompt {
        self.input.insert_str(text);
        self.input.move_cursor(ratatui_textarea::CursorMove::Top);
        self.input.move_cursor(ratatui_textarea::CursorMove::Head);
        self
    }

    pub fn text(&self) -> String {
        self.input.lines().join("\n")
    }

    /// Checks the input; Ok gives the queue name or the parsed JSON value.
    pub fn validate(&self) -> Result<serde_json::Value, String> {
        let text = self.text();
        match self.kind {
            PromptKind::QueueName => {
                let name = text.trim();
                if name.is_empty() {
                    Err("a queue needs a name".into())
                } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    Err("a queue name has no spaces".into())
                } else {
                    Ok(serde_json::Value::String(name.to_string()))
                }
            }
            PromptKind::ExportPath => {
                let path = text.trim();
                if path.is_empty() {
                    Err("give a file path, like ./result.csv or ~/out.json".into())
                } else if path.contains(['\n', '\0']) {
                    Err("a path is one line".into())
                } else {
                    Ok(serde_json::Value::String(path.to_string()))
                }
            }
            PromptKind::QueueMessage { .. } => json_object(&text, "a queue message"),
            PromptKind::DocJson { .. } => json_object(&text, "a document"),
            PromptKind::ToolArguments { .. } => {
                if text.trim().is_empty() {
                    return Ok(serde_json::json!({}));
                }
                json_object(&text, "a tool's arguments")
            }
        }
    }
}

fn json_object(text: &str, what: &str) -> Result<serde_json::Value, String> {
    if text.trim().is_empty() {
        return Err("type a JSON object, e.g. {\"n\": 1}".into());
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v),
        Ok(_) => Err(format!("{what} is a JSON object: wrap it in {{…}}")),
        Err(e) => Err(format!("not valid JSON: {e}")),
    }
}

pub fn draw(f: &mut Frame, area: Rect, p: &Prompt, theme: &Theme) {
    // JSON to edit gets room; a name or a path needs a line.
    let r = match p.kind {
        PromptKind::DocJson { .. } | PromptKind::ToolArguments { .. } => {
            centered(area, 80, 70, 40, 12)
        }
        _ => centered(area, 60, 40, 40, 9),
    };
    let title = match &p.kind {
        PromptKind::QueueName => " Send to a new queue: name ".to_string(),
        PromptKind::QueueMessage { queue, .. } => format!(" Send to queue {queue}: JSON "),
        PromptKind::ExportPath => " Export the result to: path (.csv or .json) ".to_string(),
        PromptKind::DocJson { path } => format!(" Edit {path}: JSON "),
        PromptKind::ToolArguments { toolkit, tool } => {
            format!(" Call {toolkit}.{tool}: JSON arguments ")
        }
    };
    let [edit, err, hint] = framed(f, r, title, 2, theme);
    f.render_widget(&p.input, edit);
    if p.saving {
        f.render_widget(Line::styled("saving…", theme.muted()), err);
    } else if let Some(e) = &p.error {
        f.render_widget(
            Paragraph::new(Line::styled(format!("✗ {e}"), theme.fg_of(theme.error)))
                .wrap(Wrap { trim: false }),
            err,
        );
    }
    let keys = match p.kind {
        PromptKind::ExportPath => "enter export · esc cancel",
        PromptKind::DocJson { .. } => "enter save · alt-enter new line · esc cancel",
        PromptKind::ToolArguments { .. } => "enter call · alt-enter new line · esc cancel",
        _ => "enter send · alt-enter new line · esc cancel",
    };
    f.render_widget(Line::styled(keys, theme.muted()), hint);
}
