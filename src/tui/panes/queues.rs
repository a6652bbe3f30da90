//! The queues pane: every queue with its live size, and what was received.

use std::collections::VecDeque;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, TableState, Wrap};
use serde_json::Value;

use super::logs::thousands;
use super::{list_block, list_table, matching, pane_block, reselect};
use crate::tui::action::Action;
use crate::tui::app::NoticeLevel;
use crate::tui::net::{NetCommand, NetEvent, QueueSummary};
use crate::tui::pane::{DrawCx, Focus, NetCx, Pane, step};
use crate::tui::theme::Theme;
use crate::tui::time::clock;

#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub time_ms: i64,
    pub queue: String,
    pub message: Option<Value>,
}

#[derive(Debug, Default)]
pub struct QueuesPane {
    pub queues: Vec<QueueSummary>,
    /// Index into the filtered list.
    pub selected: usize,
    pub filter: String,
    pub received: VecDeque<Received>,
    pub loaded: bool,
    pub detail_scroll: usize,
}

impl QueuesPane {
    pub fn visible(&self) -> Vec<&QueueSummary> {
        matching(&self.queues, &self.filter)
    }

    pub fn selected_name(&self) -> Option<String> {
        self.visible().get(self.selected).map(|q| q.name.clone())
    }

    pub fn set_queues(&mut self, mut list: Vec<QueueSummary>) -> bool {
        list.sort_by(|a, b| a.name.cmp(&b.name));
        let changed = !self.loaded || list != self.queues;
        let keep = self.selected_name();
        self.queues = list;
        self.loaded = true;
        self.selected = reselect(&self.visible(), keep.as_deref(), self.selected);
        changed
    }

    pub fn clamp(&mut self) {
        self.selected = reselect(&self.visible(), None, self.selected);
    }

    pub fn push_received(&mut self, r: Received) {
        if self.received.len() == 100 {
            self.received.pop_back();
        }
        self.received.push_front(r);
        self.detail_scroll = 0;
    }

    pub fn draw_list(&self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let vis = self.visible();
        let Some(block) = list_block(
            f,
            area,
            theme,
            focused,
            "Queues",
            vis.len(),
            &self.filter,
            self.loaded,
            "no queue matches the filter",
            "no queues yet · c sends to a new one",
        ) else {
            return;
        };
        let rows = vis.iter().map(|q| {
            let size_style = if q.size > 0 {
                theme.fg_of(theme.warn)
            } else {
                theme.muted()
            };
            Row::new(vec![
                Cell::from(q.name.clone()),
                Cell::from(Line::styled(thousands(q.size as usize), size_style).right_aligned()),
            ])
        });
        let header = vec![
            Cell::from("NAME"),
            Cell::from(Line::from("SIZE").right_aligned()),
        ];
        let table = list_table(
            rows,
            [Constraint::Fill(1), Constraint::Length(10)],
            header,
            block,
            theme,
            focused,
        );
        let mut state = TableState::default().with_selected(Some(self.selected));
        f.render_stateful_widget(table, area, &mut state);
    }

    pub fn draw_detail(&self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool, tz: i32) {
        let block = pane_block(" Received ", theme, focused);
        let mut lines: Vec<Line> = Vec::new();
        if self.received.is_empty() {
            lines.push(Line::styled(
                "nothing received yet · p takes one message off the selected queue",
                theme.muted(),
            ));
            lines.push(Line::styled(
                "i sends JSON to it · d drains it",
                theme.muted(),
            ));
        }
        for r in &self.received {
            lines.push(Line::from(vec![
                Span::styled(format!("{} ", clock(r.time_ms, tz)), theme.muted()),
                Span::styled(r.queue.clone(), theme.accent()),
            ]));
            match &r.message {
                Some(v) => {
                    let pretty = serde_json::to_string_pretty(v).unwrap_or_default();
                    for l in pretty.lines() {
                        lines.push(Line::raw(format!("  {l}")));
                    }
                }
                None => lines.push(Line::styled("  (the queue was empty)", theme.muted())),
            }
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

/// A detail panel's scroll from the top: up and down by one or a page, anything else back to
/// the top.
pub fn detail_scroll(s: usize, a: Action) -> usize {
    match a {
        Action::Up => s.saturating_sub(1),
        Action::Down => s + 1,
        Action::PageUp => s.saturating_sub(10),
        Action::PageDown => s + 10,
        _ => 0,
    }
}

impl Pane for QueuesPane {
    fn commands(&self, _focus: Focus) -> &'static [Action] {
        &[
            Action::QueueSend,
            Action::QueueNew,
            Action::QueueReceive,
            Action::QueueDrain,
            Action::Filter,
            Action::FocusNext,
        ]
    }

    fn draw(&mut self, f: &mut Frame, body: Rect, cx: &mut DrawCx) {
        let (list, detail) = cx.list_and_detail(body, (Focus::QueueList, Focus::QueueDetail), 40);
        if let Some((r, focused)) = list {
            self.draw_list(f, r, cx.theme, focused);
        }
        if let Some((r, focused)) = detail {
            self.draw_detail(f, r, cx.theme, focused, cx.tz);
        }
    }

    fn navigate(&mut self, focus: Focus, a: Action) {
        if focus == Focus::QueueList {
            self.selected = step(self.selected, self.visible().len(), a, 10);
        } else {
            self.detail_scroll = detail_scroll(self.detail_scroll, a);
        }
    }

    fn filter(&self) -> String {
        self.filter.clone()
    }

    fn set_filter(&mut self, text: &str) {
        self.filter = text.to_string();
        self.clamp();
    }

    fn copy_text(&self, _focus: Focus) -> Option<String> {
        self.received
            .front()
            .and_then(|r| r.message.as_ref())
            .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
    }

    #[allow(clippy::result_large_err)]
    fn on_net(&mut self, ev: NetEvent, cx: &mut NetCx) -> Result<bool, NetEvent> {
        match ev {
            NetEvent::Queues(list) => return Ok(self.set_queues(list)),
            NetEvent::QueueReceived { name, message } => {
                let empty = message.is_none();
                self.push_received(Received {
                    time_ms: cx.now_ms,
                    queue: name.clone(),
                    message,
                });
                if empty {
                    cx.notify(NoticeLevel::Info, format!("queue {name} is empty"));
                } else {
                    cx.notify(NoticeLevel::Ok, format!("received one message from {name}"));
                }
            }
            NetEvent::QueueSent { name } => {
                cx.notify(NoticeLevel::Ok, format!("sent to queue {name}"))
            }
            NetEvent::QueueDrained { name } => {
                cx.notify(NoticeLevel::Ok, format!("drained queue {name}"))
            }
            ev => return Err(ev),
        }
        cx.send(NetCommand::RefreshQueues);
        Ok(true)
    }
}
