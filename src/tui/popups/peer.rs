//! A participant's detail (enter on it in chat): name, role, id, attributes, when it joined,
//! and the API scope its token carries as the room knows it (`stats.participant`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use serde_json::Value;

use super::centered;
use crate::tui::net::PeerInfo;
use crate::tui::panes::json_line;
use crate::tui::theme::Theme;
use crate::tui::time::clock;

/// What the room said about the token's scope.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// Asked; the answer's call id.
    Asking(u64),
    Known(Value),
    /// The room does not say (no `stats` toolkit, or it refused): why.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PeerDetail {
    pub info: PeerInfo,
    pub online: bool,
    /// When the console saw it join (None: it was there before the console joined).
    pub joined_ms: Option<i64>,
    pub me: bool,
    pub scope: Scope,
    pub scroll: usize,
}

pub fn draw(f: &mut Frame, area: Rect, p: &PeerDetail, theme: &Theme, tz: i32) {
    let r = centered(area, 70, 80, 44, 12);
    f.render_widget(Clear, r);
    let name = if p.info.name.is_empty() {
        p.info.id.as_str()
    } else {
        p.info.name.as_str()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(
            format!(" {name} · m message · esc close "),
            theme.title(true),
        ))
        .style(theme.base());
    let field = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<11}"), theme.muted()),
            Span::raw(v),
        ])
    };
    let mut lines = vec![
        field("name", name.to_string() + if p.me { " (you)" } else { "" }),
        field("role", p.info.role.clone()),
        field("id", p.info.id.clone()),
        field(
            "presence",
            if p.online { "online" } else { "left" }.to_string(),
        ),
        field(
            "joined",
            p.joined_ms
                .map_or("before this console joined".into(), |t| clock(t, tz)),
        ),
        Line::raw(""),
        Line::styled("attributes", theme.accent().add_modifier(Modifier::BOLD)),
    ];
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let attrs = pretty(&Value::Object(p.info.attributes.clone()));
    let scope = match &p.scope {
        Scope::Asking(_) => "asking the room…".to_string(),
        Scope::Known(Value::Null) => "no api grant: it may call no room API".to_string(),
        Scope::Known(v) => pretty(v),
        Scope::Unknown(why) => format!("the room does not say ({why})"),
    };
    let mut owned: Vec<String> = attrs.lines().map(|l| format!("  {l}")).collect();
    owned.push(String::new());
    let scope_at = owned.len();
    owned.extend(scope.lines().map(|l| format!("  {l}")));
    for (i, l) in owned.iter().enumerate() {
        if i == scope_at {
            lines.push(Line::styled(
                "api scope (the token's grants)",
                theme.accent().add_modifier(Modifier::BOLD),
            ));
        }
        lines.push(Line::from(json_line(l, theme)));
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((p.scroll as u16, 0)),
        r,
    );
}
