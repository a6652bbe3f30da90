//! Drawing the frame: tab bar, the panes of the current tab, status line, command bar, popups.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::action::Action;
use super::app::{App, Focus, HitMap, LineTarget, NoticeLevel, Popup, Tab};
use super::keymap::Context;
use super::net::ConnState;
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
    match app.tab {
        Tab::Chat => draw_chat(f, body, app),
        Tab::Queues => draw_queues(f, body, app),
        Tab::Services => draw_services(f, body, app),
        Tab::Files => draw_files(f, body, app),
        Tab::Database => draw_database(f, body, app),
        Tab::Docs => draw_docs(f, body, app),
        Tab::Tools => draw_tools(f, body, app),
        Tab::Logs => {
            app.hit.panes.push((body, Focus::Logs));
            let theme = app.theme.clone();
            app.logs.render(body, f.buffer_mut(), &theme, true);
        }
    }
    draw_status(f, status, app);
    draw_hints(f, hints, app);
    let theme = &app.theme;
    match &app.popup {
        Some(Popup::Help(h)) => popups::help::draw(f, area, h, &app.keymap, theme),
        Some(Popup::Palette(p)) => {
            let (t, q) = (app.theme_names(), app.queue_names());
            popups::palette::draw(f, area, p, &t, &q, theme)
        }
        Some(Popup::Confirm(c)) => popups::confirm::draw(f, area, c, theme),
        Some(Popup::Prompt(p)) => popups::prompt::draw(f, area, p, theme),
        Some(Popup::Path(p)) => popups::path::draw(f, area, p, theme),
        None => {}
    }
}

fn draw_tabs(f: &mut Frame, area: Rect, app: &mut App) {
    let theme = &app.theme;
    let mut spans = vec![Span::styled(" ◆ roomdeck ", theme.accent())];
    let mut x = area.x + 12;
    let mut labels: Vec<String> = Tab::ALL
        .iter()
        .map(|tab| {
            if *tab == Tab::Logs && app.tab != Tab::Logs && !app.logs.is_empty() {
                format!(
                    " {} {} {} ",
                    tab.number(),
                    tab.title(),
                    super::panes::logs::thousands(app.logs.len())
                )
            } else {
                format!(" {} {} ", tab.number(), tab.title())
            }
        })
        .collect();
    // On a narrow terminal the other tabs show their number only.
    let width: usize = labels.iter().map(|l| l.chars().count() + 1).sum();
    if width > area.width.saturating_sub(12) as usize {
        for (label, tab) in labels.iter_mut().zip(Tab::ALL) {
            if tab != app.tab {
                *label = format!(" {} ", tab.number());
            }
        }
    }
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

fn draw_chat(f: &mut Frame, body: Rect, app: &mut App) {
    let focus = app.focused();
    let theme = app.theme.clone();
    let ro = app.read_only;
    let tz = app.tz_offset_secs;
    let input_rows = (app.chat.input.lines().len() as u16 + 2).clamp(3, 8);
    let (peers, messages, input) = if app.zoom {
        match focus {
            Focus::Peers => (Some(body), None, None),
            Focus::Messages => (None, Some(body), None),
            _ => (
                None,
                Some(Rect {
                    height: body.height.saturating_sub(input_rows),
                    ..body
                }),
                Some(Rect {
                    y: body.bottom().saturating_sub(input_rows),
                    height: input_rows.min(body.height),
                    ..body
                }),
            ),
        }
    } else {
        let peers_w = if body.width >= 70 { 26 } else { 18 };
        let [left, right] =
            Layout::horizontal([Constraint::Length(peers_w), Constraint::Fill(1)]).areas(body);
        let [m, i] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(input_rows)]).areas(right);
        (Some(left), Some(m), Some(i))
    };
    if let Some(r) = peers {
        app.hit.panes.push((r, Focus::Peers));
        app.chat.draw_peers(f, r, &theme, focus == Focus::Peers);
    }
    if let Some(r) = messages {
        app.hit.panes.push((r, Focus::Messages));
        app.chat
            .draw_messages(f, r, &theme, focus == Focus::Messages, tz);
    }
    if let Some(r) = input {
        app.hit.panes.push((r, Focus::Input));
        let composing = app.composing() && app.popup.is_none() && app.line.is_none();
        app.chat.draw_input(f, r, &theme, composing, ro);
    }
}

/// A list on the left and its detail on the right (`left_pct` of the width for the list);
/// zoomed, the focused one takes the body.
fn list_and_detail(
    app: &App,
    body: Rect,
    list: Focus,
    left_pct: u16,
) -> (Option<Rect>, Option<Rect>) {
    if app.zoom {
        if app.focused() == list {
            (Some(body), None)
        } else {
            (None, Some(body))
        }
    } else {
        let [l, d] =
            Layout::horizontal([Constraint::Percentage(left_pct), Constraint::Fill(1)]).areas(body);
        (Some(l), Some(d))
    }
}

fn draw_docs(f: &mut Frame, body: Rect, app: &mut App) {
    let focus = app.focused();
    let (list, view) = list_and_detail(app, body, Focus::DocList, 35);
    let theme = &app.theme;
    if let Some(r) = list {
        app.hit.panes.push((r, Focus::DocList));
        app.docs.draw_list(f, r, theme, focus == Focus::DocList);
    }
    if let Some(r) = view {
        app.hit.panes.push((r, Focus::DocView));
        app.docs
            .draw_view(f, r, theme, focus == Focus::DocView, app.tz_offset_secs);
    }
}

fn draw_tools(f: &mut Frame, body: Rect, app: &mut App) {
    let focus = app.focused();
    let (list, detail) = list_and_detail(app, body, Focus::ToolList, 30);
    let theme = &app.theme;
    if let Some(r) = list {
        app.hit.panes.push((r, Focus::ToolList));
        app.tools.draw_list(f, r, theme, focus == Focus::ToolList);
    }
    if let Some(r) = detail {
        app.hit.panes.push((r, Focus::ToolDetail));
        app.tools
            .draw_detail(f, r, theme, focus == Focus::ToolDetail, app.tz_offset_secs);
    }
}

fn draw_queues(f: &mut Frame, body: Rect, app: &mut App) {
    let focus = app.focused();
    let (list, detail) = list_and_detail(app, body, Focus::QueueList, 40);
    let theme = &app.theme;
    if let Some(r) = list {
        app.hit.panes.push((r, Focus::QueueList));
        app.queues.draw_list(f, r, theme, focus == Focus::QueueList);
    }
    if let Some(r) = detail {
        app.hit.panes.push((r, Focus::QueueDetail));
        app.queues
            .draw_detail(f, r, theme, focus == Focus::QueueDetail, app.tz_offset_secs);
    }
}

fn draw_services(f: &mut Frame, body: Rect, app: &mut App) {
    let focus = app.focused();
    let theme = &app.theme;
    let (list, log) = if app.zoom {
        if focus == Focus::ServiceList {
            (Some(body), None)
        } else {
            (None, Some(body))
        }
    } else {
        let want = app.services.visible().len().max(1) as u16 + 3;
        let [l, d] = Layout::vertical([
            Constraint::Length(want.min(body.height / 2).max(4)),
            Constraint::Fill(1),
        ])
        .areas(body);
        (Some(l), Some(d))
    };
    if let Some(r) = list {
        app.hit.panes.push((r, Focus::ServiceList));
        app.services
            .draw_list(f, r, theme, focus == Focus::ServiceList, app.now_ms);
    }
    if let Some(r) = log {
        app.hit.panes.push((r, Focus::ServiceLog));
        app.services.draw_logs(
            f,
            r,
            theme,
            focus == Focus::ServiceLog,
            &app.logs,
            app.tz_offset_secs,
        );
    }
}

fn draw_files(f: &mut Frame, body: Rect, app: &mut App) {
    let focus = app.focused();
    let (tree, preview) = list_and_detail(app, body, Focus::FileTree, 50);
    let theme = &app.theme;
    if let Some(r) = tree {
        app.hit.panes.push((r, Focus::FileTree));
        app.storage
            .draw_tree(f, r, theme, focus == Focus::FileTree, app.tz_offset_secs);
    }
    if let Some(r) = preview {
        app.hit.panes.push((r, Focus::FilePreview));
        app.storage
            .draw_preview(f, r, theme, focus == Focus::FilePreview);
    }
}

/// Tables and schema on the left; the editor, its status line and the result on the right.
fn draw_database(f: &mut Frame, body: Rect, app: &mut App) {
    let focus = app.focused();
    let theme = app.theme.clone();
    let editing = app.editing_sql() && app.popup.is_none() && app.line.is_none();
    let db = &mut app.database;
    let editor_h = (db.editor.input.lines().len() as u16 + 2).clamp(3, 10);
    let (mut tables, mut schema, mut editor, mut results) = (None, None, None, None);
    if app.zoom {
        match focus {
            Focus::DbTables => tables = Some(body),
            Focus::DbEditor => editor = Some(body),
            _ => results = Some(body),
        }
    } else {
        let left_w = if body.width >= 90 { 30 } else { 24 };
        let [left, right] =
            Layout::horizontal([Constraint::Length(left_w), Constraint::Fill(1)]).areas(body);
        let cols = db
            .tables
            .selected_name()
            .and_then(|t| db.tables.schemas.get(&t))
            .map_or(1, |c| c.len().max(1)) as u16;
        let [t, s] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length((cols + 2).clamp(3, left.height / 2)),
        ])
        .areas(left);
        let status_h = db.status_height(right.width);
        let [e, r] = Layout::vertical([
            Constraint::Length((editor_h + status_h).min(right.height / 2).max(4)),
            Constraint::Fill(1),
        ])
        .areas(right);
        (tables, schema, editor, results) = (Some(t), Some(s), Some(e), Some(r));
    }
    if let Some(r) = tables {
        app.hit.panes.push((r, Focus::DbTables));
        db.tables.draw_list(f, r, &theme, focus == Focus::DbTables);
    }
    if let Some(r) = schema {
        db.tables.draw_schema(f, r, &theme);
    }
    if let Some(r) = editor {
        // The status (progress, outcome or SQLite's error) takes the editor's last rows.
        let status_h = db.status_height(r.width).min(r.height.saturating_sub(3));
        // (Zoomed, the editor takes the body and the status its last rows.)
        let [e, st] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(status_h)]).areas(r);
        app.hit.panes.push((e, Focus::DbEditor));
        let run = app
            .keymap
            .key_for(Context::Database, Action::SqlRun)
            .map(|k| format!("{k} run · "))
            .unwrap_or_default();
        let title = if editing {
            format!(" SQL · {run}esc done ")
        } else {
            " SQL · i to write ".to_string()
        };
        db.editor.draw(f, e, &theme, editing, title);
        db.draw_status(f, st, &theme);
    }
    if let Some(r) = results {
        app.hit.panes.push((r, Focus::DbResults));
        let note = if db.running.is_some() {
            "waiting for the first rows…"
        } else {
            "no result yet"
        };
        db.results
            .draw(f, r, &theme, focus == Focus::DbResults, note);
    }
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
        let esc = if app.database.running.is_some() {
            "cancel"
        } else {
            "done"
        };
        pairs.extend([("esc".to_string(), esc), ("tab".to_string(), "focus")]);
    } else {
        let ctx = app.tab.context();
        let actions: &[Action] = match app.focused() {
            Focus::Peers | Focus::Messages | Focus::Input => &[
                Action::Compose,
                Action::FocusNext,
                Action::Filter,
                Action::Copy,
                Action::Zoom,
            ],
            Focus::QueueList | Focus::QueueDetail => &[
                Action::QueueSend,
                Action::QueueNew,
                Action::QueueReceive,
                Action::QueueDrain,
                Action::Filter,
                Action::FocusNext,
            ],
            Focus::ServiceList | Focus::ServiceLog => &[
                Action::ServiceRestart,
                Action::Refresh,
                Action::Filter,
                Action::FocusNext,
                Action::Zoom,
            ],
            Focus::FileTree | Focus::FilePreview => &[
                Action::Select,
                Action::FileUpload,
                Action::FileDownload,
                Action::FileDelete,
                Action::FileMove,
                Action::Filter,
                Action::FocusNext,
                Action::Zoom,
            ],
            Focus::DbTables | Focus::DbEditor | Focus::DbResults => &[
                Action::Select,
                Action::SqlRun,
                Action::SqlEdit,
                Action::Refresh,
                Action::SqlExport,
                Action::Filter,
                Action::FocusNext,
                Action::Zoom,
            ],
            Focus::DocList | Focus::DocView => &[
                Action::DocEdit,
                Action::Refresh,
                Action::Filter,
                Action::Copy,
                Action::FocusNext,
                Action::Zoom,
            ],
            Focus::ToolList | Focus::ToolDetail => &[
                Action::ToolInvoke,
                Action::Refresh,
                Action::Filter,
                Action::Copy,
                Action::FocusNext,
                Action::Zoom,
            ],
            Focus::Logs => &[
                Action::Search,
                Action::SearchNext,
                Action::TogglePause,
                Action::Bottom,
                Action::ToggleWrap,
                Action::ToggleTimestamps,
                Action::Copy,
            ],
        };
        for a in actions
            .iter()
            .chain(&[Action::Palette, Action::Help, Action::Quit])
        {
            if app.read_only && a.mutates_room() {
                continue;
            }
            if let Some(k) = app.keymap.key_for(ctx, *a) {
                pairs.push((k.to_string(), a.short()));
            }
        }
    }
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for (k, label) in pairs {
        let w = k.chars().count() + label.len() + 3;
        if used + w > area.width as usize {
            break;
        }
        used += w;
        spans.push(Span::styled(k, theme.accent()));
        spans.push(Span::styled(format!(" {label}  "), theme.muted()));
    }
    f.render_widget(Line::from(spans), area);
}
