//! The events list (only the rows on screen are read and drawn), the position bar under it
//! and the state-at-instant panel beside it.

use std::collections::HashMap;
use std::fmt::Write;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::TimelinePane;
use super::scrub::{bar, duration, offset};
use crate::timeline::Kind;
use crate::tui::pane::DrawCx;
use crate::tui::panes::{cut, logs::thousands, pane_block};
use crate::tui::theme::Theme;
use crate::tui::time::clock_ms;

/// What a row shows that is not in the index: read once per event on screen.
#[derive(Debug, Default)]
pub struct EventsView {
    /// The first position on screen.
    pub top: usize,
    pub last_rows: usize,
    cache: HashMap<usize, (String, Option<u64>)>,
}

impl EventsView {
    pub fn clear(&mut self) {
        self.cache.clear();
    }
}

fn kind_style(kind: Kind, theme: &Theme) -> ratatui::style::Style {
    match kind {
        Kind::Join | Kind::Leave | Kind::Attributes => theme.fg_of(theme.info),
        Kind::Message => theme.accent(),
        Kind::Queue | Kind::Storage | Kind::Sync => theme.fg_of(theme.ok),
        Kind::Log | Kind::Session | Kind::Service => theme.muted(),
        _ => theme.base(),
    }
}

pub fn draw(p: &mut TimelinePane, f: &mut Frame, area: Rect, cx: &mut DrawCx) {
    let theme = cx.theme;
    let focused = cx.focused(crate::tui::pane::Focus::TimelineEvents);
    let Some(s) = &p.session else {
        let msg = p.error.clone().unwrap_or_else(|| {
            if p.sessions.list.is_empty() {
                "No recorded session yet: a local room records each session while it runs.".into()
            } else {
                "Select a session (enter) to see its events.".into()
            }
        });
        f.render_widget(
            Paragraph::new(Line::styled(msg, theme.muted()))
                .block(pane_block(" Events ", theme, focused)),
            area,
        );
        return;
    };
    let n = p.filter.count(s);
    let total = s.len();
    let mut title = if p.filter.is_empty() {
        format!(" Events {} ", thousands(total))
    } else {
        format!(
            " Events {} of {} · filter \"{}\" ",
            thousands(n),
            thousands(total),
            p.filter.text
        )
    };
    if let Some(problem) = &p.filter.problem {
        title.push_str(&format!("· {problem} "));
    } else if !p.filter.done(s) {
        title.push_str(&format!("· matching {}% ", p.filter.progress(s)));
    }
    if p.play.is_some() {
        title.push_str(&format!("· ▶ {}x ", p.speed));
    } else if p.following() {
        title.push_str("· follow ");
    }
    let block = pane_block(title, theme, focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height < 2 || inner.width < 10 {
        return;
    }
    let [list, barline] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    let rows = list.height as usize;
    p.events.last_rows = rows.max(1);
    let cursor = p.cursor_pos();
    // Keep the cursor on screen, the end in view while following.
    if p.following() {
        p.events.top = n.saturating_sub(rows);
    } else if cursor < p.events.top {
        p.events.top = cursor;
    } else if cursor >= p.events.top + rows {
        p.events.top = cursor + 1 - rows;
    }
    p.events.top = p.events.top.min(n.saturating_sub(rows));
    if n == 0 {
        let msg = if p.filter.done(s) && !p.filter.is_empty() {
            "no event matches the filter"
        } else if p.filter.is_empty() {
            "no events yet"
        } else {
            "matching…"
        };
        f.render_widget(Line::styled(msg, theme.muted()), list);
    }
    if p.events.cache.len() > 4096 {
        p.events.cache.clear();
    }
    let width = list.width as usize;
    let wide = width >= 100;
    let started = s.meta.started_at_ms as i64;
    let playing_or_scrolled = !(p.following() && p.play.is_none());
    let (top, cache) = (p.events.top, &mut p.events.cache);
    for (i, pos) in (top..n.min(top + rows)).enumerate() {
        let index = p.filter.row(pos);
        let row = s.rows()[index];
        let (summary, dur) = &*cache.entry(index).or_insert_with(|| {
            s.event(index)
                .map(|e| (e.summary, e.duration_us))
                .unwrap_or_else(|e| (format!("(unreadable: {e})"), None))
        });
        let selected = pos == cursor && playing_or_scrolled;
        // Few spans, no padding past the summary: a frame costs what its text costs.
        let mut lead = String::with_capacity(48);
        lead.push(if selected && focused { '▶' } else { ' ' });
        let _ = write!(lead, "{:>10} ", offset(row.t_us));
        if wide {
            lead.push_str(&clock_ms(started + (row.t_us / 1000) as i64, cx.tz));
            lead.push(' ');
        }
        let mut names = String::with_capacity(40);
        let _ = write!(names, "{:<10} ", cut(s.name(row.participant), 10));
        // A call's summary starts with its toolkit.tool; a column of it fits on wide screens.
        if wide {
            let tool = match (s.name(row.toolkit), s.name(row.tool)) {
                ("", t) => t.to_string(),
                (k, "") => k.to_string(),
                (k, t) => format!("{k}.{t}"),
            };
            let _ = write!(names, "{:<22} ", cut(&tool, 22));
        }
        let dur = dur.map(duration).unwrap_or_default();
        let used = 1 + lead.chars().count() + 11 + names.chars().count();
        let room = width.saturating_sub(used + dur.chars().count() + 1);
        let spans = vec![
            Span::styled(if row.error { "✕" } else { " " }, theme.fg_of(theme.error)),
            Span::styled(lead, theme.muted()),
            Span::styled(
                format!("{:<10} ", row.kind.as_str()),
                kind_style(row.kind, theme),
            ),
            Span::raw(names),
            Span::styled(
                cut(summary, room),
                if row.error {
                    theme.fg_of(theme.error)
                } else {
                    theme.base()
                },
            ),
        ];
        let r = Rect {
            y: list.y + i as u16,
            height: 1,
            ..list
        };
        if selected {
            f.buffer_mut().set_style(r, theme.selection());
        }
        let line = Line::from(spans);
        f.render_widget(
            if selected {
                line.style(theme.selection().add_modifier(Modifier::BOLD))
            } else {
                line
            },
            r,
        );
        if !dur.is_empty() {
            let w = dur.chars().count() as u16;
            let at = Rect {
                x: r.right().saturating_sub(w),
                width: w.min(r.width),
                ..r
            };
            f.render_widget(Span::styled(dur, theme.muted()), at);
        }
    }
    let t = p.selected_row().map_or(0, |i| s.rows()[i].t_us);
    let end = s.rows().last().map_or(0, |r| r.t_us);
    let tail = format!(
        "  #{} {}",
        thousands(p.selected_row().map_or(0, |i| i + 1)),
        if p.play.is_some() {
            format!("▶ {}x", p.speed)
        } else {
            format!("‖ {}x", p.speed)
        }
    );
    f.render_widget(bar(t, end, width, theme, tail), barline);
}

pub fn draw_state(p: &mut TimelinePane, f: &mut Frame, area: Rect, cx: &mut DrawCx) {
    if area.height == 0 {
        return;
    }
    let theme = cx.theme;
    let (Some(s), Some(index)) = (&p.session, p.selected_row()) else {
        f.render_widget(
            Paragraph::new(Line::styled("no event selected", theme.muted()))
                .block(pane_block(" State ", theme, false)),
            area,
        );
        return;
    };
    let t = s.rows()[index].t_us;
    let block = pane_block(format!(" State at {} ", offset(t)), theme, false);
    let inner_h = block.inner(area).height as usize;
    let width = block.inner(area).width as usize;
    let Some(st) = p.state.at(s, index) else {
        let pct = (p.state.built() * 100).checked_div(s.len()).unwrap_or(0);
        f.render_widget(
            Paragraph::new(Line::styled(format!("computing… {pct}%"), theme.muted())).block(block),
            area,
        );
        return;
    };
    let head = |t: String| Line::styled(t, theme.accent().add_modifier(Modifier::BOLD));
    let mut lines = Vec::new();
    let names = st.present_names(s);
    lines.push(head(format!("in ({})", names.len())));
    let who = if names.is_empty() {
        "nobody".to_string()
    } else {
        names.join(", ")
    };
    lines.push(Line::raw(format!(
        "  {}",
        cut(&who, width.saturating_sub(2))
    )));
    let queues: Vec<_> = st.queues.iter().collect();
    lines.push(head(format!("queues ({})", queues.len())));
    for (q, n) in queues.iter().take(6) {
        let w = width.saturating_sub(10).min(20);
        lines.push(Line::raw(format!("  {:<w$} {n:>6}", cut(q, w))));
    }
    if queues.len() > 6 {
        lines.push(Line::styled(
            format!("  … {} more", queues.len() - 6),
            theme.muted(),
        ));
    }
    lines.push(head(format!("files changed ({})", st.files.len())));
    let room = inner_h.saturating_sub(lines.len() + 3).max(1);
    for (path, what) in st.files.iter().take(room) {
        let w = width.saturating_sub(14);
        lines.push(Line::from(vec![
            Span::raw(format!("  {:<w$} ", cut(path, w))),
            Span::styled(*what, theme.muted()),
        ]));
    }
    if st.files.len() > room {
        lines.push(Line::styled(
            format!("  … {} more", st.files.len() - room),
            theme.muted(),
        ));
    }
    lines.push(Line::from(vec![
        Span::styled("events ", theme.muted()),
        Span::raw(thousands(st.events)),
    ]));
    lines.push(Line::from(vec![
        Span::styled("calls ", theme.muted()),
        Span::raw(thousands(st.calls as usize)),
        Span::styled(" · errors ", theme.muted()),
        Span::styled(
            thousands(st.errors as usize),
            if st.errors > 0 {
                theme.fg_of(theme.error)
            } else {
                theme.base()
            },
        ),
    ]));
    f.render_widget(Paragraph::new(lines).block(block), area);
}
