//! The help overlay: every binding of the live keymap, filterable by typing.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::{LineEdit, centered};
use crate::tui::action::Action;
use crate::tui::keymap::{Context, Keymap};
use crate::tui::theme::Theme;

#[derive(Debug, Default)]
pub struct Help {
    pub filter: LineEdit,
    pub scroll: usize,
}

/// One row per (context, action): its keys, name and description.
pub fn rows(keymap: &Keymap) -> Vec<(Context, String, &'static str, &'static str)> {
    let mut out: Vec<(Context, String, &'static str, &'static str)> = Vec::new();
    for ctx in Context::ALL {
        let mut actions: Vec<_> = keymap.bindings().filter(|(c, _, _)| *c == ctx).collect();
        actions.sort_by_key(|(_, _, a)| *a);
        for (_, chord, action) in actions {
            match out.last_mut() {
                Some(last) if last.0 == ctx && last.2 == action.name() => {
                    last.1.push_str(", ");
                    last.1.push_str(&chord.to_string());
                }
                _ => out.push((ctx, chord.to_string(), action.name(), action.describe())),
            }
        }
    }
    out
}

/// Keys that are not in the keymap (text inputs and popups).
const FIXED: &[(&str, &str)] = &[
    ("enter", "send the message / run the command"),
    ("alt-enter, ctrl-j", "new line in a message"),
    ("esc", "leave the input, close a popup"),
    ("tab", "complete in the palette and in path prompts"),
    ("↑ ↓", "palette history"),
];

/// The tab the help opened on: its title, keymap context and the pane's `commands()`, listed
/// first so the keys of what is on screen are at hand.
pub struct ThisTab<'a> {
    pub title: &'a str,
    pub context: Context,
    pub commands: &'a [Action],
}

pub fn draw(
    f: &mut Frame,
    area: Rect,
    help: &Help,
    keymap: &Keymap,
    theme: &Theme,
    this_tab: &ThisTab,
) {
    let r = centered(area, 80, 85, 40, 8);
    f.render_widget(Clear, r);
    let title = if help.filter.text.is_empty() {
        " Help · type to filter · esc closes ".to_string()
    } else {
        format!(" Help · filter: {}▏ ", help.filter.text)
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(title, theme.title(true)))
        .style(theme.base());
    let needle = help.filter.text.to_lowercase();
    let mut lines: Vec<Line> = Vec::new();
    let here: Vec<Line> = this_tab
        .commands
        .iter()
        .filter_map(|a| {
            let key = keymap.key_for(this_tab.context, *a)?.to_string();
            let hit = needle.is_empty()
                || key.to_lowercase().contains(&needle)
                || a.name().contains(&needle)
                || a.describe().to_lowercase().contains(&needle);
            hit.then(|| {
                Line::from(vec![
                    Span::styled(format!("  {key:<22}"), theme.accent()),
                    Span::styled(format!("{:<18}", a.name()), theme.muted()),
                    Span::raw(a.describe()),
                ])
            })
        })
        .collect();
    if !here.is_empty() {
        lines.push(Line::styled(
            format!("this tab: {}", this_tab.title.to_lowercase()),
            theme.accent().add_modifier(Modifier::UNDERLINED),
        ));
        lines.extend(here);
        lines.push(Line::raw(""));
    }
    let mut last_ctx = None;
    for (ctx, keys, name, desc) in rows(keymap) {
        let hit = needle.is_empty()
            || keys.to_lowercase().contains(&needle)
            || name.contains(&needle)
            || desc.to_lowercase().contains(&needle)
            || ctx.name().contains(&needle);
        if !hit {
            continue;
        }
        if last_ctx != Some(ctx) {
            if last_ctx.is_some() {
                lines.push(Line::raw(""));
            }
            lines.push(Line::styled(
                ctx.name().to_string(),
                theme.accent().add_modifier(Modifier::UNDERLINED),
            ));
            last_ctx = Some(ctx);
        }
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<22}"), theme.accent()),
            Span::styled(format!("{name:<18}"), theme.muted()),
            Span::raw(desc),
        ]));
    }
    let fixed: Vec<_> = FIXED
        .iter()
        .filter(|(k, d)| needle.is_empty() || k.contains(&needle) || d.contains(&needle))
        .collect();
    if !fixed.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "inputs",
            theme.accent().add_modifier(Modifier::UNDERLINED),
        ));
        for (k, d) in fixed {
            lines.push(Line::from(vec![
                Span::styled(format!("  {k:<22}"), theme.accent()),
                Span::styled(format!("{:<18}", ""), theme.muted()),
                Span::raw(*d),
            ]));
        }
    }
    if lines.is_empty() {
        lines.push(Line::styled("no key matches", theme.muted()));
    }
    let inner_h = r.height.saturating_sub(2) as usize;
    let max_scroll = lines.len().saturating_sub(inner_h);
    let scroll = help.scroll.min(max_scroll);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll as u16, 0)),
        r,
    );
}
