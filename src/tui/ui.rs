//! Drawing the frame: tab bar, the panes of the current tab, status line, command bar, popups.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::action::Action;
use super::app::{App, HitMap, LineTarget, NoticeLevel, Popup, Tab};
use super::keymap::Context;
use super::net::ConnState;
use super::pane::DrawCx;
use super::popups;

/// Below this the frame does not fit; a message asks for a bigger terminal.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;

pub fn draw(f: &mut Frame, app: &mut App) {
    let area = f.area();
    f.render_widget(Block::default().style(app.theme.base()), area);
    app.hit = HitMap::default();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "Terminal too small: {}x{}. roomdeck needs at least {MIN_WIDTH}x{MIN_HEIGHT}.",
            area.width, area.height
        );
        f.render_widget(
            Paragraph::new(msg)
                .wrap(Wrap { trim: true })
                .style(app.theme.base()),
            area,
        );
        return;
    }
    let [top, body, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tabs(f, top, app);
    draw_body(f, body, app);
    draw_status(f, status, app);
    draw_hints(f, hints, app);
    let theme = &app.theme;
    match &app.popup {
        Some(Popup::Help(h)) => {
            let this_tab = popups::help::ThisTab {
                title: app.tab.title(),
                context: app.tab.context(),
                commands: app.pane(app.tab).commands(app.focused()),
            };
            popups::help::draw(f, area, h, &app.keymap, theme, &this_tab)
        }
        Some(Popup::Palette(p)) => {
            let (t, q) = (app.theme_names(), app.queue_names());
            popups::palette::draw(f, area, p, &t, &q, theme)
        }
        Some(Popup::Confirm(c)) => popups::confirm::draw(f, area, c, theme),
        Some(Popup::Prompt(p)) => popups::prompt::draw(f, area, p, theme),
        Some(Popup::Path(p)) => popups::path::draw(f, area, p, theme),
        Some(Popup::Peer(p)) => popups::peer::draw(f, area, p, theme, app.tz_offset_secs),
        Some(Popup::Rooms(v)) => popups::rooms::draw(f, area, v, theme, app.tz_offset_secs),
        None => {}
    }
}

fn draw_tabs(f: &mut Frame, area: Rect, app: &mut App) {
    let theme = app.theme.clone();
    let theme = &theme;
    if app.tab == Tab::Logs {
        app.logs_read = app.panes.logs.total();
    }
    let unread = app.panes.logs.total().saturating_sub(app.logs_read);
    // The labels that fit: full titles, then without padding, then short titles; the current
    // tab keeps its full title, and only numbers are left on the narrowest terminals.
    let label = |tab: Tab, title: &str, pad: bool| {
        let badge = if tab == Tab::Logs && unread > 0 {
            format!(" {}", super::panes::logs::thousands(unread as usize))
        } else {
            String::new()
        };
        let text = format!("{} {title}{badge}", tab.number());
        if pad || tab == app.tab {
            format!(" {text} ")
        } else {
            text
        }
    };
    let fits = |labels: &[String], brand: &str| {
        labels.iter().map(|l| l.chars().count() + 1).sum::<usize>() + brand.chars().count()
            <= area.width as usize
    };
    let mut labels: Vec<String> = Vec::new();
    let mut brand = " ◆ roomdeck ";
    for (short, pad, b) in [
        (false, true, brand),
        (false, false, brand),
        (true, false, brand),
        (true, false, " ◆ "),
    ] {
        brand = b;
        labels = Tab::ALL
            .iter()
            .map(|t| {
                let title = if short && *t != app.tab {
                    t.info().short
                } else {
                    t.title()
                };
                label(*t, title, pad)
            })
            .collect();
        if fits(&labels, brand) {
            break;
        }
    }
    if !fits(&labels, brand) {
        for (l, tab) in labels.iter_mut().zip(Tab::ALL) {
            if tab != app.tab {
                *l = format!("{}", tab.number());
            }
        }
    }
    let mut spans = vec![Span::styled(brand, theme.accent())];
    let mut x = area.x + brand.chars().count() as u16;
    for (tab, label) in Tab::ALL.iter().zip(labels) {
        let w = label.chars().count() as u16;
        app.hit.tabs.push((
            Rect {
                x,
                y: area.y,
                width: w,
                height: 1,
            },
            *tab,
        ));
        x += w + 1;
        spans.push(Span::styled(label, theme.tab(*tab == app.tab)));
        spans.push(Span::raw(" "));
    }
    f.render_widget(Line::from(spans), area);
    let mut right = String::new();
    if !app.room.is_empty() {
        right = format!("room {} · {} ", app.room, app.location);
    }
    if app.zoom {
        right = format!("[zoom] {right}");
    }
    // The room label gives way to the tabs on a narrow terminal (the status line has it too).
    if unicode_width::UnicodeWidthStr::width(right.as_str())
        > area.right().saturating_sub(x) as usize
    {
        right.clear();
    }
    f.render_widget(
        Line::styled(right.clone(), theme.muted()),
        right_part(area, &right),
    );
}

/// The rightmost cells of `area` that `text` needs, so styling it leaves the rest alone.
fn right_part(area: Rect, text: &str) -> Rect {
    use unicode_width::UnicodeWidthStr;
    let w = (text.width() as u16).min(area.width);
    Rect {
        x: area.right() - w,
        width: w,
        ..area
    }
}

/// The current tab's pane draws the body.
fn draw_body(f: &mut Frame, body: Rect, app: &mut App) {
    let typing =
        (app.composing() || app.editing_sql()) && app.popup.is_none() && app.line.is_none();
    let (focus, zoom, tz, now_ms, read_only) = (
        app.focused(),
        app.zoom,
        app.tz_offset_secs,
        app.now_ms,
        app.read_only,
    );
    let parts = app.split(app.tab);
    let mut cx = DrawCx {
        theme: parts.theme,
        keymap: parts.keymap,
        focus,
        zoom,
        tz,
        now_ms,
        read_only,
        typing,
        logs: parts.logs,
        hit: &mut parts.hit.panes,
    };
    parts.pane.draw(f, body, &mut cx);
}

fn draw_status(f: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    f.render_widget(Block::default().style(theme.status()), area);
    let (badge, style) = match &app.conn {
        ConnState::Connecting => (" ◌ connecting… ".to_string(), theme.fg_of(theme.warn)),
        ConnState::Live => (" ● live ".to_string(), theme.fg_of(theme.ok)),
        ConnState::Failed { reason } => (
            format!(" ✕ disconnected: {reason} "),
            theme.fg_of(theme.error),
        ),
        ConnState::Reconnecting {
            attempt,
            retry_in_secs,
            reason,
        } => {
            let when = if *retry_in_secs > 0 {
                format!(" in {retry_in_secs}s")
            } else {
                String::new()
            };
            let what = format!("reconnecting{when} (try {attempt})");
            (format!(" ↻ {what}: {reason} "), theme.fg_of(theme.error))
        }
    };
    let mut spans = vec![Span::styled(badge, style.add_modifier(Modifier::BOLD))];
    if !app.room.is_empty() {
        spans.push(Span::raw(format!("│ room {} ", app.room)));
    }
    if !app.me_name.is_empty() {
        spans.push(Span::raw(format!("│ as {} ", app.me_name)));
    }
    if app.read_only {
        spans.push(Span::styled(
            " READ-ONLY ",
            theme.fg_of(theme.warn).add_modifier(Modifier::BOLD),
        ));
    }
    if !app.mouse {
        spans.push(Span::styled(" mouse off ", theme.muted()));
    }
    f.render_widget(Line::from(spans).style(theme.status()), area);
    if let Some(n) = &app.notice {
        let style = match n.level {
            NoticeLevel::Info => theme.fg_of(theme.info),
            NoticeLevel::Ok => theme.fg_of(theme.ok),
            NoticeLevel::Error => theme.fg_of(theme.error).add_modifier(Modifier::BOLD),
        };
        let used: u16 = 40;
        let max = area.width.saturating_sub(used) as usize;
        let mut text: String = n.text.chars().take(max).collect();
        if text.chars().count() < n.text.chars().count() && max > 1 {
            text.pop();
            text.push('…');
        }
        let text = format!("{text} ");
        f.render_widget(Line::styled(text.clone(), style), right_part(area, &text));
    }
}

/// The command bar: the main keys of the focused pane, read from the live keymap.
fn draw_hints(f: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    if let Some((target, edit)) = &app.line {
        let label = match target {
            // The timeline's filter has parts of its own.
            LineTarget::Filter(Tab::Timeline) => "filter (kind: who: toolkit: is:error, words)",
            LineTarget::Filter(_) => "filter",
            LineTarget::Search => "search",
        };
        let line = Line::from(vec![
            Span::styled(format!(" {label}: "), theme.accent()),
            Span::raw(edit.text.clone()),
            Span::styled("   enter keep · esc clear", theme.muted()),
        ]);
        f.render_widget(line, area);
        f.set_cursor_position((area.x + label.len() as u16 + 3 + edit.cursor_col(), area.y));
        return;
    }
    let mut pairs: Vec<(String, &str)> = Vec::new();
    let mut fixed: Vec<(String, &str)> = Vec::new();
    if app.composing() {
        pairs = vec![
            ("enter".into(), "send"),
            ("alt-enter".into(), "new line"),
            ("esc".into(), "done"),
            ("tab".into(), "focus"),
        ];
    } else if app.editing_sql() {
        for a in [Action::SqlRun, Action::SqlHistoryPrev] {
            if let Some(k) = app.keymap.key_for(Context::Database, a) {
                pairs.push((k.to_string(), a.short()));
            }
        }
        let esc = if app.panes.database.running.is_some() {
            "cancel"
        } else {
            "done"
        };
        pairs.extend([("esc".to_string(), esc), ("tab".to_string(), "focus")]);
    } else {
        let ctx = app.tab.context();
        let actions = app.pane(app.tab).commands(app.focused());
        for a in actions.iter().chain(&[Action::Palette]) {
            if app.read_only && a.mutates_room() {
                continue;
            }
            if let Some(k) = app.keymap.key_for(ctx, *a) {
                pairs.push((k.to_string(), a.short()));
            }
        }
        // Help and quit are always shown, at the end: the pane's keys give way to them.
        for a in [Action::Help, Action::Quit] {
            if let Some(k) = app.keymap.key_for(ctx, a) {
                fixed.push((k.to_string(), a.short()));
            }
        }
    }
    let width = |(k, label): &(String, &str)| k.chars().count() + label.len() + 3;
    let reserved: usize = fixed.iter().map(width).sum();
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    let mut pairs = pairs.into_iter();
    for pair in pairs.by_ref() {
        if used + width(&pair) + reserved > area.width as usize {
            break;
        }
        used += width(&pair);
        spans.push(Span::styled(pair.0, theme.accent()));
        spans.push(Span::styled(format!(" {}  ", pair.1), theme.muted()));
    }
    for (k, label) in fixed {
        spans.push(Span::styled(k, theme.accent()));
        spans.push(Span::styled(format!(" {label}  "), theme.muted()));
    }
    f.render_widget(Line::from(spans), area);
}
