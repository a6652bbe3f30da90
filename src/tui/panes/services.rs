//! The services pane: the room's services with their state, and the selected one's log lines.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, TableState};

use super::logs::{LogsPane, find_ci};
use super::{list_block, list_table, pane_block};
use crate::tui::action::Action;
use crate::tui::app::NoticeLevel;
use crate::tui::net::{Level, LogLine, NetCommand, NetEvent, ServiceSummary};
use crate::tui::pane::{DrawCx, Focus, NetCx, Pane, scroll_up, step};
use crate::tui::theme::Theme;
use crate::tui::time::clock;

#[derive(Debug, Default)]
pub struct ServicesPane {
    pub services: Vec<ServiceSummary>,
    /// Index into the filtered list.
    pub selected: usize,
    pub filter: String,
    pub loaded: bool,
    /// Lines scrolled up from the newest in the log panel.
    pub log_scroll: usize,
}

/// "3s", "4m 05s", "2h 03m", "5d 01h".
pub fn uptime(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {:02}h", s / 86400, (s % 86400) / 3600),
    }
}

/// True when a log line mentions the service: its name or id in the text or the attributes
/// (the room logs a service's output with the attribute `service=NAME`).
pub fn mentions(line: &LogLine, svc: &ServiceSummary) -> bool {
    let hit = |needle: &str| {
        !needle.is_empty()
            && (find_ci(&line.text, needle).is_some() || find_ci(&line.attrs, needle).is_some())
    };
    hit(&svc.name) || hit(&svc.id)
}

impl ServicesPane {
    pub fn visible(&self) -> Vec<&ServiceSummary> {
        self.services
            .iter()
            .filter(|s| self.filter.is_empty() || find_ci(&s.name, &self.filter).is_some())
            .collect()
    }

    pub fn selected_service(&self) -> Option<ServiceSummary> {
        self.visible().get(self.selected).map(|s| (*s).clone())
    }

    pub fn set_services(&mut self, mut list: Vec<ServiceSummary>) -> bool {
        list.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        // A running service's uptime moves on: redraw on every poll while one runs.
        let changed = !self.loaded
            || list != self.services
            || list
                .iter()
                .any(|s| s.state == "running" && s.started_at.is_some());
        let keep = self.selected_service().map(|s| s.id);
        self.services = list;
        self.loaded = true;
        if let Some(id) = keep
            && let Some(i) = self.visible().iter().position(|s| s.id == id)
        {
            self.selected = i;
        }
        self.clamp();
        changed
    }

    pub fn clamp(&mut self) {
        let n = self.visible().len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }

    pub fn draw_list(&self, f: &mut Frame, area: Rect, theme: &Theme, focused: bool, now_ms: i64) {
        let vis = self.visible();
        let Some(block) = list_block(
            f,
            area,
            theme,
            focused,
            "Services",
            vis.len(),
            &self.filter,
            self.loaded,
            "no service matches the filter",
            "no services · deploy one: roomdeck service deploy SPEC.yaml",
        ) else {
            return;
        };
        let rows = vis.iter().map(|s| {
            let state_style = match s.state.as_str() {
                "running" => theme.fg_of(theme.ok),
                "restarting" | "starting" | "pending" => theme.fg_of(theme.warn),
                "failed" | "crashed" | "error" => theme.fg_of(theme.error),
                _ => theme.muted(),
            };
            let up = match s.started_at {
                Some(t) if s.state == "running" => uptime((now_ms / 1000) - t as i64),
                _ => "-".into(),
            };
            let exit = s
                .last_exit_code
                .map_or_else(|| "-".to_string(), |c| c.to_string());
            let exit_style = match s.last_exit_code {
                Some(c) if c != 0 => theme.fg_of(theme.error),
                _ => theme.muted(),
            };
            let live_style = match s.liveness.as_str() {
                "ready" => theme.fg_of(theme.ok),
                "not_ready" => theme.fg_of(theme.warn),
                _ => theme.muted(),
            };
            Row::new(vec![
                Cell::from(s.name.clone()),
                Cell::from(Span::styled(s.state.clone(), state_style)),
                Cell::from(Line::from(up).right_aligned()),
                Cell::from(Line::from(s.restart_count.to_string()).right_aligned()),
                Cell::from(Line::styled(exit, exit_style).right_aligned()),
                Cell::from(Span::styled(s.liveness.clone(), live_style)),
            ])
        });
        let header = vec![
            Cell::from("NAME"),
            Cell::from("STATE"),
            Cell::from(Line::from("UPTIME").right_aligned()),
            Cell::from(Line::from("RESTARTS").right_aligned()),
            Cell::from(Line::from("EXIT").right_aligned()),
            Cell::from("LIVENESS"),
        ];
        let table = list_table(
            rows,
            [
                Constraint::Fill(1),
                Constraint::Length(11),
                Constraint::Length(8),
                Constraint::Length(8),
                Constraint::Length(5),
                Constraint::Length(14),
            ],
            header,
            block,
            theme,
            focused,
        );
        let mut state = TableState::default().with_selected(Some(self.selected));
        f.render_stateful_widget(table, area, &mut state);
    }

    /// The developer-log lines that mention the selected service, newest at the bottom.
    pub fn draw_logs(
        &self,
        f: &mut Frame,
        area: Rect,
        theme: &Theme,
        focused: bool,
        logs: &LogsPane,
        tz: i32,
    ) {
        let Some(svc) = self.selected_service() else {
            let block = pane_block(" Service log ", theme, focused);
            f.render_widget(
                Paragraph::new(Line::styled("no service selected", theme.muted())).block(block),
                area,
            );
            return;
        };
        let lines: Vec<&LogLine> = logs.lines().filter(|l| mentions(l, &svc)).collect();
        let block = pane_block(
            format!(" Log · {} · {} lines ", svc.name, lines.len()),
            theme,
            focused,
        );
        let rows = area.height.saturating_sub(2) as usize;
        if lines.is_empty() {
            f.render_widget(
                Paragraph::new(Line::styled(
                    format!("no developer-log line mentions {} yet", svc.name),
                    theme.muted(),
                ))
                .block(block),
                area,
            );
            return;
        }
        let scroll = self.log_scroll.min(lines.len().saturating_sub(rows));
        let end = lines.len() - scroll;
        let start = end.saturating_sub(rows);
        let out: Vec<Line> = lines[start..end]
            .iter()
            .map(|l| {
                let level_style = match l.level {
                    Level::Error => theme.fg_of(theme.error),
                    Level::Warn => theme.fg_of(theme.warn),
                    _ => theme.muted(),
                };
                Line::from(vec![
                    Span::styled(format!("{} ", clock(l.time_ms, tz)), theme.muted()),
                    Span::styled(format!("{:<5} ", l.level.label()), level_style),
                    Span::raw(l.text.to_string()),
                ])
            })
            .collect();
        f.render_widget(Paragraph::new(out).block(block), area);
    }
}

impl Pane for ServicesPane {
    fn commands(&self, _focus: Focus) -> &'static [Action] {
        &[
            Action::ServiceRestart,
            Action::Refresh,
            Action::Filter,
            Action::FocusNext,
            Action::Zoom,
        ]
    }

    /// The list on top (as tall as it needs, at most half), the selected one's log below.
    fn draw(&mut self, f: &mut Frame, body: Rect, cx: &mut DrawCx) {
        let (list, log) = if cx.zoom {
            if cx.focus == Focus::ServiceList {
                (Some(body), None)
            } else {
                (None, Some(body))
            }
        } else {
            let want = self.visible().len().max(1) as u16 + 3;
            let [l, d] = Layout::vertical([
                Constraint::Length(want.min(body.height / 2).max(4)),
                Constraint::Fill(1),
            ])
            .areas(body);
            (Some(l), Some(d))
        };
        if let Some(r) = list {
            cx.place(r, Focus::ServiceList);
            self.draw_list(f, r, cx.theme, cx.focused(Focus::ServiceList), cx.now_ms);
        }
        if let (Some(r), Some(logs)) = (log, cx.logs) {
            cx.hit.push((r, Focus::ServiceLog));
            self.draw_logs(f, r, cx.theme, cx.focus == Focus::ServiceLog, logs, cx.tz);
        }
    }

    fn navigate(&mut self, focus: Focus, a: Action) {
        if focus == Focus::ServiceList {
            let before = self.selected;
            self.selected = step(self.selected, self.visible().len(), a, 10);
            if self.selected != before {
                self.log_scroll = 0;
            }
        } else {
            self.log_scroll = scroll_up(self.log_scroll, a, 10, usize::MAX / 2);
        }
    }

    fn filter(&self) -> String {
        self.filter.clone()
    }

    fn set_filter(&mut self, text: &str) {
        self.filter = text.to_string();
        self.clamp();
        self.log_scroll = 0;
    }

    fn copy_text(&self, _focus: Focus) -> Option<String> {
        self.selected_service().map(|s| s.id)
    }

    #[allow(clippy::result_large_err)]
    fn on_net(&mut self, ev: NetEvent, cx: &mut NetCx) -> Result<bool, NetEvent> {
        match ev {
            NetEvent::Services(list) => Ok(self.set_services(list)),
            NetEvent::ServiceRestarted { name } => {
                cx.notify(NoticeLevel::Ok, format!("restarted service {name}"));
                cx.send(NetCommand::RefreshServices);
                Ok(true)
            }
            ev => Err(ev),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_reads_well() {
        assert_eq!(uptime(5), "5s");
        assert_eq!(uptime(65), "1m 05s");
        assert_eq!(uptime(3 * 3600 + 120), "3h 02m");
        assert_eq!(uptime(2 * 86400 + 3600), "2d 01h");
        assert_eq!(uptime(-4), "0s");
    }
}
