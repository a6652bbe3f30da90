//! The overview pane (tab 0): the room at a glance. Participants, the rates of messages, queue
//! operations, tool calls and errors as sparklines over the last two minutes, queue depths
//! with their trend, services, the last warnings and errors, storage and database sizes.
//! Each block opens its tab (enter, or a click).
//!
//! Rates come from the room's own counters (`stats.room`, polled once a second while the
//! overview shows) when the room has that tool, else from what this console sees itself
//! (chat messages, queue answers, its own tool calls, error lines of the developer log).
//! A sample that changes nothing on screen asks for no redraw.

use std::collections::{HashMap, VecDeque};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline, Wrap};
use serde_json::Value;

use super::{cut, human_size, pane_block};
use crate::tui::action::Action;
use crate::tui::net::{Level, QueueSummary, ServiceSummary};
use crate::tui::pane::{DrawCx, Focus, Pane, Tab};
use crate::tui::time::clock;

/// Samples kept per series: two minutes at one a second.
pub const SAMPLES: usize = 120;
/// Milliseconds between samples.
pub const SAMPLE_MS: i64 = 1_000;

/// The four rates, in the order they are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    Messages,
    QueueOps,
    ToolCalls,
    Errors,
}

impl Rate {
    pub const ALL: [Rate; 4] = [
        Rate::Messages,
        Rate::QueueOps,
        Rate::ToolCalls,
        Rate::Errors,
    ];
    fn label(self) -> &'static str {
        match self {
            Rate::Messages => "messages/s",
            Rate::QueueOps => "queue ops/s",
            Rate::ToolCalls => "tool calls/s",
            Rate::Errors => "errors/s",
        }
    }
    /// The field of `stats.room` that counts it.
    fn stats_key(self) -> &'static str {
        match self {
            Rate::Messages => "messages",
            Rate::QueueOps => "queue_operations",
            Rate::ToolCalls => "calls",
            Rate::Errors => "errors",
        }
    }
}

/// Where the rates come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Not known yet (the first answer of `stats.room` decides).
    Unknown,
    /// The room's own counters.
    Room,
    /// What this console sees itself (the room has no `stats` toolkit).
    Console,
}

/// What the rest of the console knows, handed over at each sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub online: usize,
    /// Participants seen this session, gone ones included.
    pub seen: usize,
    pub queues: Vec<QueueSummary>,
    pub queues_loaded: bool,
    pub services: Vec<ServiceSummary>,
    pub services_loaded: bool,
    /// Files in the folders listed so far, and their bytes.
    pub files: (usize, u64),
    /// Tables and their rows (as far as the room counted them).
    pub tables: Option<(usize, u64)>,
}

/// The blocks, in the order enter/up/down walk them, with the tab each opens.
const BLOCKS: [(&str, Tab); 7] = [
    ("Participants", Tab::Chat),
    ("Activity", Tab::Logs),
    ("Queues", Tab::Queues),
    ("Services", Tab::Services),
    ("Warnings and errors", Tab::Logs),
    ("Storage", Tab::Files),
    ("Database", Tab::Database),
];

#[derive(Debug)]
pub struct OverviewPane {
    /// The selected block (index into BLOCKS).
    pub selected: usize,
    pub source: Source,
    /// One value a second per rate, oldest first.
    pub rates: [VecDeque<u64>; 4],
    pub participants: VecDeque<u64>,
    pub peak: usize,
    pub snapshot: Snapshot,
    /// Each queue's depth at the samples, oldest first.
    depths: HashMap<String, VecDeque<u64>>,
    /// What the console counted itself since the last sample.
    seen_now: [u64; 4],
    /// The room's totals at its last answer (rates are the differences).
    room_totals: Option<[u64; 4]>,
    /// Rates the room answered since the last sample (None: no answer came).
    room_rates: Option<[u64; 4]>,
    pub next_sample_ms: i64,
    /// Where each block was drawn, for clicks.
    areas: Vec<Rect>,
}

impl Default for OverviewPane {
    fn default() -> Self {
        OverviewPane {
            selected: 0,
            source: Source::Unknown,
            rates: Default::default(),
            participants: VecDeque::new(),
            peak: 0,
            snapshot: Snapshot::default(),
            depths: HashMap::new(),
            seen_now: [0; 4],
            room_totals: None,
            room_rates: None,
            next_sample_ms: 0,
            areas: Vec::new(),
        }
    }
}

fn push(series: &mut VecDeque<u64>, v: u64) {
    if series.len() == SAMPLES {
        series.pop_front();
    }
    series.push_back(v);
}

impl OverviewPane {
    /// Something the console saw itself (counted when the room publishes no counters).
    pub fn saw(&mut self, rate: Rate, n: u64) {
        self.seen_now[rate as usize] += n;
    }

    /// An answer of `stats.room`: the room's totals.
    pub fn room_stats(&mut self, v: &Value) {
        let totals = Rate::ALL.map(|r| v.get(r.stats_key()).and_then(Value::as_u64).unwrap_or(0));
        if let Some(before) = self.room_totals {
            // A restarted server counts from zero again: a smaller total is a new start.
            let delta = |i: usize| totals[i].saturating_sub(before[i]);
            let d = [delta(0), delta(1), delta(2), delta(3)];
            let acc = self.room_rates.get_or_insert([0; 4]);
            for i in 0..4 {
                acc[i] += d[i];
            }
        }
        self.room_totals = Some(totals);
        self.source = Source::Room;
    }

    /// The room has no `stats` toolkit: count what the console sees.
    pub fn no_room_stats(&mut self) {
        self.source = Source::Console;
        self.room_totals = None;
    }

    /// Takes a sample; true when the screen changes (an all-quiet sample after quiet ones does
    /// not).
    pub fn sample(&mut self, snapshot: Snapshot) -> bool {
        let values = match self.source {
            Source::Room => self.room_rates.take().unwrap_or([0; 4]),
            _ => self.seen_now,
        };
        self.seen_now = [0; 4];
        let mut changed = snapshot != self.snapshot;
        for (series, v) in self.rates.iter_mut().zip(values) {
            // The graph shifts only when it holds something other than zeros.
            changed |= v != 0 || series.iter().any(|x| *x != 0);
            push(series, v);
        }
        let online = snapshot.online as u64;
        changed |= self.participants.back() != Some(&online);
        push(&mut self.participants, online);
        self.peak = self.peak.max(snapshot.online);
        if snapshot.queues_loaded {
            self.depths
                .retain(|q, _| snapshot.queues.iter().any(|s| &s.name == q));
            for q in &snapshot.queues {
                push(self.depths.entry(q.name.clone()).or_default(), q.size);
            }
        }
        self.snapshot = snapshot;
        changed
    }

    /// The tab the selected block opens.
    pub fn selected_tab(&self) -> Tab {
        BLOCKS[self.selected.min(BLOCKS.len() - 1)].1
    }

    /// The tab of the block at a screen position, if any.
    pub fn tab_at(&mut self, pos: Position) -> Option<Tab> {
        let i = self.areas.iter().position(|r| r.contains(pos))?;
        self.selected = i;
        Some(BLOCKS[i].1)
    }

    fn block<'a>(&self, i: usize, extra: String, cx: &DrawCx) -> ratatui::widgets::Block<'a> {
        let focused = cx.focus == Focus::Overview && self.selected == i;
        let title = if extra.is_empty() {
            format!(" {} ", BLOCKS[i].0)
        } else {
            format!(" {} {extra} ", BLOCKS[i].0)
        };
        pane_block(title, cx.theme, focused)
    }

    fn draw_participants(&self, f: &mut Frame, r: Rect, cx: &DrawCx) {
        let s = &self.snapshot;
        let block = self.block(0, format!("{}", s.online), cx);
        let inner = block.inner(r);
        f.render_widget(block, r);
        let [text, spark] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        let left = s.seen.saturating_sub(s.online);
        f.render_widget(
            Paragraph::new(vec![
                Line::styled(format!("{} online", s.online), cx.theme.fg_of(cx.theme.ok)),
                Line::styled(
                    format!("{} this session · {left} left · peak {}", s.seen, self.peak),
                    cx.theme.muted(),
                ),
            ])
            .wrap(Wrap { trim: true }),
            text,
        );
        // One row, scaled to the session's peak, so a steady room reads as a flat line.
        let data = tail(&self.participants, spark.width);
        f.render_widget(
            Sparkline::default()
                .data(&data)
                .max(self.peak.max(1) as u64)
                .style(cx.theme.accent()),
            spark,
        );
    }

    fn draw_activity(&self, f: &mut Frame, r: Rect, cx: &DrawCx) {
        let from = match self.source {
            Source::Room => "· the room's counters",
            Source::Console => "· as this console sees it",
            Source::Unknown => "",
        };
        let block = self.block(1, from.into(), cx);
        let inner = block.inner(r);
        f.render_widget(block, r);
        let rows = Layout::vertical([Constraint::Length(1); 4]).split(inner);
        for (i, rate) in Rate::ALL.iter().enumerate() {
            let Some(row) = rows.get(i) else { break };
            let series = &self.rates[i];
            let now = series.back().copied().unwrap_or(0);
            let [label, spark, value] = Layout::horizontal([
                Constraint::Length(13),
                Constraint::Fill(1),
                Constraint::Length(6),
            ])
            .areas(*row);
            let style = if *rate == Rate::Errors && now > 0 {
                cx.theme.fg_of(cx.theme.error)
            } else {
                cx.theme.accent()
            };
            f.render_widget(Span::styled(rate.label(), cx.theme.muted()), label);
            let data = tail(series, spark.width);
            f.render_widget(Sparkline::default().data(&data).style(style), spark);
            f.render_widget(Line::from(format!("{now:>5}")).right_aligned(), value);
        }
    }

    fn draw_queues(&self, f: &mut Frame, r: Rect, cx: &DrawCx) {
        let s = &self.snapshot;
        let block = self.block(2, format!("{}", s.queues.len()), cx);
        let lines: Vec<Line> = if !s.queues_loaded {
            vec![Line::styled("loading…", cx.theme.muted())]
        } else if s.queues.is_empty() {
            vec![Line::styled(
                "no queues yet · :send QUEUE {json} makes one",
                cx.theme.muted(),
            )]
        } else {
            s.queues
                .iter()
                .map(|q| {
                    let trend = self.depths.get(&q.name).map_or("", |d| trend(d));
                    Line::from(vec![
                        Span::raw(format!("{:<18} ", cut(&q.name, 18))),
                        Span::raw(format!("{:>7} ", q.size)),
                        Span::styled(trend, cx.theme.accent()),
                    ])
                })
                .collect()
        };
        f.render_widget(Paragraph::new(lines).block(block), r);
    }

    fn draw_services(&self, f: &mut Frame, r: Rect, cx: &DrawCx) {
        let s = &self.snapshot;
        let block = self.block(3, format!("{}", s.services.len()), cx);
        let t = cx.theme;
        let lines: Vec<Line> = if !s.services_loaded {
            vec![Line::styled("loading…", t.muted())]
        } else if s.services.is_empty() {
            vec![Line::styled(
                "no services · roomdeck service deploy SPEC.yaml",
                t.muted(),
            )]
        } else {
            s.services
                .iter()
                .map(|svc| {
                    let style = match svc.state.as_str() {
                        "running" => t.fg_of(t.ok),
                        "restarting" | "starting" | "pending" => t.fg_of(t.warn),
                        "failed" | "crashed" | "error" => t.fg_of(t.error),
                        _ => t.muted(),
                    };
                    Line::from(vec![
                        Span::raw(format!("{:<16} ", cut(&svc.name, 16))),
                        Span::styled(format!("{:<10} ", svc.state), style),
                        Span::styled(format!("↻{}", svc.restart_count), t.muted()),
                    ])
                })
                .collect()
        };
        f.render_widget(Paragraph::new(lines).block(block), r);
    }

    fn draw_warnings(&self, f: &mut Frame, r: Rect, cx: &DrawCx) {
        let t = cx.theme;
        let rows = r.height.saturating_sub(2) as usize;
        let mut lines: Vec<Line> = Vec::new();
        if let Some(logs) = cx.logs {
            let mut last: Vec<_> = logs
                .lines()
                .rev()
                .filter(|l| matches!(l.level, Level::Warn | Level::Error))
                .take(rows)
                .collect();
            last.reverse();
            lines = last
                .into_iter()
                .map(|l| {
                    let style = if l.level == Level::Error {
                        t.fg_of(t.error)
                    } else {
                        t.fg_of(t.warn)
                    };
                    Line::from(vec![
                        Span::styled(format!("{} ", clock(l.time_ms, cx.tz)), t.muted()),
                        Span::styled(format!("{:<5} ", l.level.label()), style),
                        Span::raw(l.text.to_string()),
                    ])
                })
                .collect();
        }
        if lines.is_empty() {
            lines.push(Line::styled(
                "no warnings or errors in the developer log",
                t.muted(),
            ));
        }
        let block = self.block(4, String::new(), cx);
        f.render_widget(Paragraph::new(lines).block(block), r);
    }

    fn draw_data(&self, f: &mut Frame, storage: Rect, database: Rect, cx: &DrawCx) {
        let t = cx.theme;
        let (files, bytes) = self.snapshot.files;
        let line = if files == 0 {
            Line::styled("no files yet · 5, then u uploads one", t.muted())
        } else {
            Line::raw(format!("{files} files · {}", human_size(bytes)))
        };
        f.render_widget(
            Paragraph::new(line)
                .wrap(Wrap { trim: true })
                .block(self.block(5, String::new(), cx)),
            storage,
        );
        let line = match self.snapshot.tables {
            None => Line::styled("not listed yet", t.muted()),
            Some((0, _)) => Line::styled("no tables · :sql CREATE TABLE …", t.muted()),
            Some((n, rows)) => Line::raw(format!("{n} tables · {rows} rows")),
        };
        f.render_widget(
            Paragraph::new(line)
                .wrap(Wrap { trim: true })
                .block(self.block(6, String::new(), cx)),
            database,
        );
    }
}

/// The last `width` values of a series, for a sparkline as wide.
fn tail(series: &VecDeque<u64>, width: u16) -> Vec<u64> {
    let skip = series.len().saturating_sub(width as usize);
    series.iter().skip(skip).copied().collect()
}

/// Up, down or flat over the samples kept.
fn trend(depths: &VecDeque<u64>) -> &'static str {
    match (depths.front(), depths.back()) {
        (Some(a), Some(b)) if b > a => "▲ growing",
        (Some(a), Some(b)) if b < a => "▼ shrinking",
        _ => "= steady",
    }
}

impl Pane for OverviewPane {
    fn commands(&self, _focus: Focus) -> &'static [Action] {
        &[Action::Select, Action::Down, Action::Up]
    }

    fn draw(&mut self, f: &mut Frame, body: Rect, cx: &mut DrawCx) {
        cx.place(body, Focus::Overview);
        let low = if body.height >= 30 { 8 } else { 5 };
        let [top, mid, bottom] = Layout::vertical([
            Constraint::Length(6),
            Constraint::Fill(1),
            Constraint::Length(low),
        ])
        .areas(body);
        let [people, activity] =
            Layout::horizontal([Constraint::Percentage(35), Constraint::Fill(1)]).areas(top);
        let [queues, services] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(mid);
        let [warnings, storage, database] = Layout::horizontal([
            Constraint::Percentage(50),
            Constraint::Percentage(25),
            Constraint::Fill(1),
        ])
        .areas(bottom);
        self.areas = vec![
            people, activity, queues, services, warnings, storage, database,
        ];
        self.draw_participants(f, people, cx);
        self.draw_activity(f, activity, cx);
        self.draw_queues(f, queues, cx);
        self.draw_services(f, services, cx);
        self.draw_warnings(f, warnings, cx);
        self.draw_data(f, storage, database, cx);
    }

    fn navigate(&mut self, _focus: Focus, a: Action) {
        self.selected = crate::tui::pane::step(self.selected, BLOCKS.len(), a, 2);
    }

    fn filter(&self) -> String {
        String::new()
    }

    fn set_filter(&mut self, _text: &str) {}
}
