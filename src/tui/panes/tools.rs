//! The toolkits pane: every toolkit of the room with its tools, the selected tool's arguments,
//! and the calls made from here with their answers.

use std::collections::{BTreeSet, VecDeque};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph, Wrap};
use serde_json::Value;

use super::logs::find_ci;
use super::{json_line, list_block, pane_block};
use crate::tui::action::Action;
use crate::tui::net::{ToolOutcome, ToolSummary, ToolkitSummary};
use crate::tui::pane::{DrawCx, Focus, Pane, step};
use crate::tui::panes::queues::detail_scroll;
use crate::tui::theme::Theme;
use crate::tui::time::clock;

/// Calls kept (newest first).
const MAX_CALLS: usize = 50;
/// Lines of one answer laid out; the rest is counted (copy takes it all).
const MAX_ANSWER_LINES: usize = 400;

/// A row of the list: a toolkit heading or one of its tools.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ToolRow<'a> {
    Kit(&'a ToolkitSummary),
    Tool(&'a ToolkitSummary, &'a ToolSummary),
}

/// One call made from the console, and its answer once it came.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub id: u64,
    pub toolkit: String,
    pub tool: String,
    pub arguments: Value,
    pub time_ms: i64,
    pub outcome: Option<ToolOutcome>,
    pub elapsed_ms: u64,
    /// The answer's first lines as laid out, made once when it arrives (not per frame).
    pub shown: Vec<String>,
    /// How many lines the whole answer has.
    pub total_lines: usize,
}

impl Call {
    /// A call just made, waiting for its answer.
    pub fn new(id: u64, toolkit: String, tool: String, arguments: Value, time_ms: i64) -> Call {
        Call {
            id,
            toolkit,
            tool,
            arguments,
            time_ms,
            outcome: None,
            elapsed_ms: 0,
            shown: Vec::new(),
            total_lines: 0,
        }
    }

    /// The answer as text, as copy gives it.
    pub fn answer_text(&self) -> Option<String> {
        Some(match self.outcome.as_ref()? {
            ToolOutcome::Json(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
            ToolOutcome::Text(t) => t.clone(),
            ToolOutcome::Empty => String::new(),
            ToolOutcome::Bytes { headers, size } => format!("{size} bytes, headers {headers}"),
            ToolOutcome::Error(e) => e.clone(),
        })
    }
}

#[derive(Debug, Default)]
pub struct ToolsPane {
    pub kits: Vec<ToolkitSummary>,
    /// Index into `rows()`.
    pub selected: usize,
    pub filter: String,
    pub loaded: bool,
    pub calls: VecDeque<Call>,
    pub detail_scroll: usize,
    /// Toolkits shown unfolded; the rest show their heading only, so a room's hundred-odd
    /// tools read as a dozen toolkits. A filter looks inside folded ones too.
    pub unfolded: BTreeSet<String>,
}

impl ToolsPane {
    /// Toolkits and their tools that match the filter (a toolkit's name matching shows all
    /// its tools). Without a filter, a folded toolkit is its heading alone.
    pub fn rows(&self) -> Vec<ToolRow<'_>> {
        let hit = |s: &str| self.filter.is_empty() || find_ci(s, &self.filter).is_some();
        let mut out = Vec::new();
        for kit in &self.kits {
            let whole = hit(&kit.name);
            let tools: Vec<&ToolSummary> = kit
                .tools
                .iter()
                .filter(|t| {
                    whole || hit(&format!("{}.{}", kit.name, t.name)) || hit(&t.description)
                })
                .collect();
            if whole || !tools.is_empty() {
                out.push(ToolRow::Kit(kit));
                if self.shows_tools_of(kit) {
                    out.extend(tools.into_iter().map(|t| ToolRow::Tool(kit, t)));
                }
            }
        }
        out
    }

    fn shows_tools_of(&self, kit: &ToolkitSummary) -> bool {
        !self.filter.is_empty() || self.unfolded.contains(&kit.name)
    }

    /// Folds or unfolds the toolkit of the selected heading; false when a tool is selected.
    pub fn toggle_selected(&mut self) -> bool {
        let Some(ToolRow::Kit(k)) = self.rows().get(self.selected).copied() else {
            return false;
        };
        let name = k.name.clone();
        if !self.unfolded.remove(&name) {
            self.unfolded.insert(name.clone());
        }
        self.reselect(Some((name, None)));
        true
    }

    /// (toolkit, tool) of the selected row, when it is a tool.
    pub fn selected_tool(&self) -> Option<(ToolkitSummary, ToolSummary)> {
        match self.rows().get(self.selected)? {
            ToolRow::Tool(k, t) => Some(((*k).clone(), (*t).clone())),
            ToolRow::Kit(_) => None,
        }
    }

    fn selected_key(&self) -> Option<(String, Option<String>)> {
        self.rows().get(self.selected).map(|r| match r {
            ToolRow::Kit(k) => (k.name.clone(), None),
            ToolRow::Tool(k, t) => (k.name.clone(), Some(t.name.clone())),
        })
    }

    /// A new list; the selection stays on the same row. True when anything shown changed.
    pub fn set_kits(&mut self, kits: Vec<ToolkitSummary>) -> bool {
        let changed = !self.loaded || kits != self.kits;
        let keep = self.selected_key();
        self.kits = kits;
        self.loaded = true;
        self.reselect(keep);
        changed
    }

    /// A new filter; the selection stays on its row when that is still listed.
    pub fn set_filter(&mut self, text: &str) {
        let keep = self.selected_key();
        self.filter = text.to_string();
        self.reselect(keep);
    }

    fn reselect(&mut self, keep: Option<(String, Option<String>)>) {
        if let Some(key) = keep
            && let Some(i) = self.rows().iter().position(|r| match r {
                ToolRow::Kit(k) => key == (k.name.clone(), None),
                ToolRow::Tool(k, t) => key == (k.name.clone(), Some(t.name.clone())),
            })
        {
            self.selected = i;
        }
        self.clamp();
    }

    pub fn clamp(&mut self) {
        let n = self.rows().len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }

    pub fn start_call(&mut self, call: Call) {
        if self.calls.len() == MAX_CALLS {
            self.calls.pop_back();
        }
        self.calls.push_front(call);
        self.detail_scroll = 0;
    }

    /// The answer to call `id`; false when that call is no longer kept.
    pub fn answered(&mut self, id: u64, outcome: ToolOutcome, elapsed_ms: u64) -> bool {
        match self.calls.iter_mut().find(|c| c.id == id) {
            Some(c) => {
                c.outcome = Some(outcome);
                c.elapsed_ms = elapsed_ms;
                let text = c.answer_text().unwrap_or_default();
                c.total_lines = text.lines().count();
                c.shown = text
                    .lines()
                    .take(MAX_ANSWER_LINES)
                    .map(str::to_string)
                    .collect();
                true
            }
            None => false,
        }
    }

    pub fn draw_list(&self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let rows = self.rows();
        // Folded toolkits' tools count too (a filter unfolds every match).
        let tools = if self.filter.is_empty() {
            self.kits.iter().map(|k| k.tools.len()).sum()
        } else {
            rows.iter()
                .filter(|r| matches!(r, ToolRow::Tool(..)))
                .count()
        };
        let Some(block) = list_block(
            f,
            area,
            theme,
            focused,
            "Tools",
            tools,
            &self.filter,
            self.loaded,
            "no tool matches the filter",
            "this room has no toolkits",
        ) else {
            return;
        };
        let items = rows.iter().map(|r| match r {
            ToolRow::Kit(k) => {
                let open = self.shows_tools_of(k);
                let mut spans = vec![
                    Span::styled(if open { "▾ " } else { "▸ " }, theme.muted()),
                    Span::styled(k.name.clone(), theme.accent().add_modifier(Modifier::BOLD)),
                ];
                if !open {
                    spans.push(Span::styled(format!(" {}", k.tools.len()), theme.muted()));
                }
                if k.host.is_some() {
                    spans.push(Span::styled(" (hosted)", theme.muted()));
                }
                ListItem::new(Line::from(spans))
            }
            ToolRow::Tool(_, t) => ListItem::new(Line::raw(format!("    {}", t.name))),
        });
        let list = List::new(items)
            .block(block)
            .highlight_style(if focused {
                theme.selection()
            } else {
                theme.base().add_modifier(Modifier::BOLD)
            })
            .highlight_symbol(if focused { "▶ " } else { "  " });
        let mut state = ListState::default().with_selected(Some(self.selected));
        f.render_stateful_widget(list, area, &mut state);
    }

    /// The selected tool (or toolkit), then the calls and their answers.
    pub fn draw_detail(&self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool, tz: i32) {
        let rows = self.rows();
        let selected = rows.get(self.selected).copied();
        let title = match selected {
            Some(ToolRow::Tool(k, t)) => format!(" {}.{} ", k.name, t.name),
            Some(ToolRow::Kit(k)) => format!(" {} ", k.name),
            None => " Tool ".to_string(),
        };
        let block = pane_block(title, theme, focused);
        let mut lines: Vec<Line> = Vec::new();
        match selected {
            Some(ToolRow::Kit(k)) => {
                if !k.description.is_empty() {
                    lines.push(Line::raw(k.description.clone()));
                }
                lines.push(host_line(k, theme));
                lines.push(Line::styled(
                    format!(
                        "{} tool{} · enter {} · / finds a tool by name",
                        k.tools.len(),
                        if k.tools.len() == 1 { "" } else { "s" },
                        if self.shows_tools_of(k) {
                            "folds them"
                        } else {
                            "lists them"
                        }
                    ),
                    theme.muted(),
                ));
            }
            Some(ToolRow::Tool(k, t)) => {
                if !t.title.is_empty() && t.title != t.name {
                    lines.push(Line::styled(
                        t.title.clone(),
                        theme.base().add_modifier(Modifier::BOLD),
                    ));
                }
                if !t.description.is_empty() {
                    lines.push(Line::raw(t.description.clone()));
                }
                lines.push(host_line(k, theme));
                lines.extend(argument_lines(t.schema.as_ref(), theme));
            }
            None => lines.push(Line::styled("no tool selected", theme.muted())),
        }
        lines.push(Line::raw(""));
        if self.calls.is_empty() {
            lines.push(Line::styled(
                "no calls yet · enter on a tool asks for its JSON arguments and calls it",
                theme.muted(),
            ));
        }
        for c in &self.calls {
            lines.extend(call_lines(c, theme, tz));
        }
        f.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false })
                .scroll((self.detail_scroll.min(u16::MAX as usize) as u16, 0)),
            area,
        );
    }
}

fn host_line<'a>(k: &ToolkitSummary, theme: &Theme) -> Line<'a> {
    match &k.host {
        Some(p) => Line::styled(format!("hosted by participant {p}"), theme.muted()),
        None => Line::styled("built into the room", theme.muted()),
    }
}

/// "arguments:" and one line per schema property: name, type, required mark, description.
fn argument_lines<'a>(schema: Option<&Value>, theme: &Theme) -> Vec<Line<'a>> {
    let Some(props) = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .filter(|p| !p.is_empty())
    else {
        return vec![Line::styled(
            "arguments: not described (a JSON object)",
            theme.muted(),
        )];
    };
    let required: Vec<&str> = schema
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = vec![Line::styled("arguments:", theme.muted())];
    for (name, p) in props {
        let ty = match p.get("type") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("|"),
            _ => "any".into(),
        };
        let mut spans = vec![
            Span::styled(format!("  {name}"), theme.accent()),
            Span::styled(format!(" {ty}"), theme.muted()),
        ];
        if required.contains(&name.as_str()) {
            spans.push(Span::styled(" required", theme.fg_of(theme.warn)));
        }
        if let Some(d) = p.get("description").and_then(Value::as_str) {
            spans.push(Span::raw(format!("  {d}")));
        }
        out.push(Line::from(spans));
    }
    out
}

fn call_lines<'a>(c: &Call, theme: &Theme, tz: i32) -> Vec<Line<'a>> {
    let args = serde_json::to_string(&c.arguments).unwrap_or_default();
    let (status, style) = match &c.outcome {
        None => ("calling…".to_string(), theme.fg_of(theme.warn)),
        Some(ToolOutcome::Error(_)) => (
            format!("failed · {} ms", c.elapsed_ms),
            theme.fg_of(theme.error),
        ),
        Some(_) => (format!("ok · {} ms", c.elapsed_ms), theme.fg_of(theme.ok)),
    };
    let mut out = vec![Line::from(vec![
        Span::styled(format!("{} ", clock(c.time_ms, tz)), theme.muted()),
        Span::styled(format!("{}.{}", c.toolkit, c.tool), theme.accent()),
        Span::raw(format!(" {args} ")),
        Span::styled(status, style),
    ])];
    let body = match &c.outcome {
        None => return out,
        Some(ToolOutcome::Error(e)) => {
            out.push(Line::styled(format!("  ✕ {e}"), theme.fg_of(theme.error)));
            return out;
        }
        Some(ToolOutcome::Empty) => {
            out.push(Line::styled("  (an empty answer)", theme.muted()));
            return out;
        }
        Some(_) => &c.shown,
    };
    let total = c.total_lines;
    let json = matches!(c.outcome, Some(ToolOutcome::Json(_)));
    out.extend(body.iter().map(|l| {
        let mut spans = vec![Span::raw("  ")];
        if json {
            spans.extend(
                json_line(l, theme)
                    .into_iter()
                    .map(|s| Span::styled(s.content.into_owned(), s.style)),
            );
        } else {
            spans.push(Span::raw(l.to_string()));
        }
        Line::from(spans)
    }));
    if total > MAX_ANSWER_LINES {
        out.push(Line::styled(
            format!(
                "  … {} more lines (y copies the whole answer)",
                total - MAX_ANSWER_LINES
            ),
            theme.muted(),
        ));
    }
    out
}

impl Pane for ToolsPane {
    fn commands(&self, _focus: Focus) -> &'static [Action] {
        &[
            Action::ToolInvoke,
            Action::Refresh,
            Action::Filter,
            Action::Copy,
            Action::FocusNext,
            Action::Zoom,
        ]
    }

    fn draw(&mut self, f: &mut Frame, body: Rect, cx: &mut DrawCx) {
        let (list, detail) = cx.list_and_detail(body, (Focus::ToolList, Focus::ToolDetail), 30);
        if let Some((r, focused)) = list {
            self.draw_list(f, r, cx.theme, focused);
        }
        if let Some((r, focused)) = detail {
            self.draw_detail(f, r, cx.theme, focused, cx.tz);
        }
    }

    fn navigate(&mut self, focus: Focus, a: Action) {
        if focus == Focus::ToolList {
            let before = self.selected;
            self.selected = step(self.selected, self.rows().len(), a, 10);
            if self.selected != before {
                self.detail_scroll = 0;
            }
        } else {
            self.detail_scroll = detail_scroll(self.detail_scroll, a);
        }
    }

    fn filter(&self) -> String {
        self.filter.clone()
    }

    fn set_filter(&mut self, text: &str) {
        ToolsPane::set_filter(self, text)
    }

    fn copy_text(&self, focus: Focus) -> Option<String> {
        if focus == Focus::ToolDetail {
            self.calls.front().and_then(|c| c.answer_text())
        } else {
            self.selected_tool()
                .map(|(k, t)| format!("{}.{}", k.name, t.name))
        }
    }
}
