//! Themes: named colour slots read from `themes/*.toml`.
//!
//! The built-in themes are embedded with `include_str!`; user themes are read from
//! `<config dir>/themes/*.toml` and win over a built-in of the same name. `NO_COLOR` selects
//! the `mono` theme, which uses only the terminal's colours and text attributes.

use std::collections::BTreeMap;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("terminal", include_str!("../../themes/terminal.toml")),
];

pub const DEFAULT_THEME: &str = "dark";

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    /// true for the attribute-only theme used when `NO_COLOR` is set.
    pub mono: bool,
    pub bg: Color,
    pub fg: Color,
    pub muted: Color,
    pub accent: Color,
    pub border: Color,
    pub border_focus: Color,
    pub title: Color,
    pub selection_bg: Color,
    pub selection_fg: Color,
    pub tab_active_bg: Color,
    pub tab_active_fg: Color,
    pub tab_fg: Color,
    pub status_bg: Color,
    pub status_fg: Color,
    pub ok: Color,
    pub warn: Color,
    pub error: Color,
    pub info: Color,
    pub debug: Color,
    pub highlight_bg: Color,
    pub highlight_fg: Color,
    pub own: Color,
    pub senders: Vec<Color>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    colors: BTreeMap<String, toml::Value>,
}

impl Theme {
    /// The attribute-only theme for `NO_COLOR`.
    pub fn mono() -> Theme {
        let r = Color::Reset;
        Theme {
            name: "mono".into(),
            mono: true,
            bg: r,
            fg: r,
            muted: r,
            accent: r,
            border: r,
            border_focus: r,
            title: r,
            selection_bg: r,
            selection_fg: r,
            tab_active_bg: r,
            tab_active_fg: r,
            tab_fg: r,
            status_bg: r,
            status_fg: r,
            ok: r,
            warn: r,
            error: r,
            info: r,
            debug: r,
            highlight_bg: r,
            highlight_fg: r,
            own: r,
            senders: vec![r],
        }
    }

    /// Parses a theme TOML. Every slot is optional; missing ones come from `dark`.
    pub fn parse(text: &str, fallback_name: &str) -> Result<Theme, String> {
        let base = Theme::parse_onto(BUILTIN[0].1, DEFAULT_THEME, Theme::mono())?;
        Theme::parse_onto(text, fallback_name, base)
    }

    fn parse_onto(text: &str, fallback_name: &str, base: Theme) -> Result<Theme, String> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let mut t = base;
        t.mono = false;
        t.name = file.name.unwrap_or_else(|| fallback_name.to_string());
        for (slot, value) in &file.colors {
            if slot == "senders" {
                let list = value
                    .as_array()
                    .ok_or_else(|| "colors.senders must be a list of colours".to_string())?;
                let mut senders = Vec::new();
                for v in list {
                    let s = v
                        .as_str()
                        .ok_or_else(|| "colors.senders must be a list of colours".to_string())?;
                    senders.push(parse_color(s)?);
                }
                if !senders.is_empty() {
                    t.senders = senders;
                }
                continue;
            }
            let s = value
                .as_str()
                .ok_or_else(|| format!("colors.{slot} must be a string"))?;
            let c = parse_color(s).map_err(|e| format!("colors.{slot}: {e}"))?;
            let field = match slot.as_str() {
                "bg" => &mut t.bg,
                "fg" => &mut t.fg,
                "muted" => &mut t.muted,
                "accent" => &mut t.accent,
                "border" => &mut t.border,
                "border_focus" => &mut t.border_focus,
                "title" => &mut t.title,
                "selection_bg" => &mut t.selection_bg,
                "selection_fg" => &mut t.selection_fg,
                "tab_active_bg" => &mut t.tab_active_bg,
                "tab_active_fg" => &mut t.tab_active_fg,
                "tab_fg" => &mut t.tab_fg,
                "status_bg" => &mut t.status_bg,
                "status_fg" => &mut t.status_fg,
                "ok" => &mut t.ok,
                "warn" => &mut t.warn,
                "error" => &mut t.error,
                "info" => &mut t.info,
                "debug" => &mut t.debug,
                "highlight_bg" => &mut t.highlight_bg,
                "highlight_fg" => &mut t.highlight_fg,
                "own" => &mut t.own,
                other => return Err(format!("unknown colour slot '{other}'")),
            };
            *field = c;
        }
        Ok(t)
    }

    pub fn builtin(name: &str) -> Option<Theme> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(n, text)| Theme::parse(text, n).ok())
    }

    // ---- styles used by the widgets ----

    pub fn base(&self) -> Style {
        Style::new().fg(self.fg).bg(self.bg)
    }
    pub fn muted(&self) -> Style {
        if self.mono {
            Style::new().add_modifier(Modifier::DIM)
        } else {
            Style::new().fg(self.muted)
        }
    }
    pub fn border(&self, focused: bool) -> Style {
        match (self.mono, focused) {
            (true, true) => Style::new().add_modifier(Modifier::BOLD),
            (true, false) => Style::new(),
            (false, true) => Style::new().fg(self.border_focus),
            (false, false) => Style::new().fg(self.border),
        }
    }
    pub fn title(&self, focused: bool) -> Style {
        let s = Style::new().fg(if focused {
            self.border_focus
        } else {
            self.title
        });
        if focused {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }
    pub fn selection(&self) -> Style {
        if self.mono {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new().fg(self.selection_fg).bg(self.selection_bg)
        }
    }
    pub fn highlight(&self) -> Style {
        if self.mono {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::UNDERLINED)
        } else {
            Style::new().fg(self.highlight_fg).bg(self.highlight_bg)
        }
    }
    pub fn tab(&self, active: bool) -> Style {
        match (self.mono, active) {
            (true, true) => Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            (true, false) => Style::new(),
            (false, true) => Style::new()
                .fg(self.tab_active_fg)
                .bg(self.tab_active_bg)
                .add_modifier(Modifier::BOLD),
            (false, false) => Style::new().fg(self.tab_fg),
        }
    }
    pub fn status(&self) -> Style {
        if self.mono {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new().fg(self.status_fg).bg(self.status_bg)
        }
    }
    pub fn accent(&self) -> Style {
        Style::new().fg(self.accent).add_modifier(Modifier::BOLD)
    }
    pub fn fg_of(&self, c: Color) -> Style {
        if self.mono {
            Style::new()
        } else {
            Style::new().fg(c)
        }
    }
    /// A stable colour for a participant, from the `senders` palette.
    pub fn sender(&self, key: &str) -> Style {
        let h = key.bytes().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
        let c = self.senders[(h % self.senders.len() as u64) as usize];
        self.fg_of(c).add_modifier(Modifier::BOLD)
    }
}

/// "#rrggbb", "#rgb", a colour name, an ANSI index or "reset".
pub fn parse_color(s: &str) -> Result<Color, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("reset") || s.eq_ignore_ascii_case("default") || s.is_empty() {
        return Ok(Color::Reset);
    }
    if let Ok(i) = s.parse::<u8>() {
        return Ok(Color::Indexed(i));
    }
    s.parse::<Color>()
        .map_err(|_| format!("'{s}' is not a colour (use #rrggbb, a name, or 0-255)"))
}

/// All theme names available: built-ins plus `*.toml` in `<config>/themes`.
pub fn available(config_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
    if let Ok(rd) = std::fs::read_dir(config_dir.join("themes")) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) == Some("toml")
                && let Some(stem) = p.file_stem().and_then(|s| s.to_str())
                && !names.iter().any(|n| n == stem)
            {
                names.push(stem.to_string());
            }
        }
    }
    names.push("mono".into());
    names
}

/// Loads a theme by name: user file first, then built-in, then `mono`.
pub fn load(name: &str, config_dir: &Path) -> Result<Theme, String> {
    if name == "mono" {
        return Ok(Theme::mono());
    }
    let user = config_dir.join("themes").join(format!("{name}.toml"));
    if user.is_file() {
        let text = std::fs::read_to_string(&user)
            .map_err(|e| format!("cannot read theme {}: {e}", user.display()))?;
        return Theme::parse(&text, name).map_err(|e| format!("theme {}: {e}", user.display()));
    }
    if let Some((n, text)) = BUILTIN.iter().find(|(n, _)| *n == name) {
        return Theme::parse(text, n).map_err(|e| format!("built-in theme {n}: {e}"));
    }
    Err(format!(
        "no theme named '{name}'; available: {}",
        available(config_dir).join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for (name, text) in BUILTIN {
            let t = Theme::parse(text, name).unwrap();
            assert_eq!(&t.name, name);
            assert!(!t.senders.is_empty());
        }
        assert_eq!(Theme::builtin("terminal").unwrap().bg, Color::Reset);
    }

    #[test]
    fn colours() {
        assert_eq!(parse_color("#ff0000").unwrap(), Color::Rgb(255, 0, 0));
        assert_eq!(parse_color("red").unwrap(), Color::Red);
        assert_eq!(parse_color("42").unwrap(), Color::Indexed(42));
        assert_eq!(parse_color("reset").unwrap(), Color::Reset);
        assert!(parse_color("nope").is_err());
    }

    #[test]
    fn bad_slot_is_reported() {
        let e = Theme::parse("[colors]\nbogus = \"red\"\n", "x").unwrap_err();
        assert!(e.contains("bogus"), "{e}");
        let partial = Theme::parse("[colors]\nfg = \"red\"\n", "mine").unwrap();
        assert_eq!(partial.fg, Color::Red);
        assert_eq!(partial.name, "mine");
    }

    #[test]
    fn user_theme_overrides() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("themes")).unwrap();
        std::fs::write(
            dir.path().join("themes/ocean.toml"),
            "name='ocean'\n[colors]\nbg='#001020'\n",
        )
        .unwrap();
        assert!(available(dir.path()).contains(&"ocean".to_string()));
        assert_eq!(
            load("ocean", dir.path()).unwrap().bg,
            Color::Rgb(0, 0x10, 0x20)
        );
        assert!(load("missing", dir.path()).is_err());
    }
}
