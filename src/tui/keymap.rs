//! The keymap: key chords to named actions, per context.
//!
//! `<config dir>/keymap.toml` picks a preset (`default` or `vim`) and overrides single keys:
//!
//! ```toml
//! preset = "vim"
//! [global]
//! "ctrl-q" = "quit"
//! "q" = "none"        # unbind
//! [logs]
//! "x" = "clear_logs"
//! ```
//!
//! Lookup goes from the focused tab's context (`chat`, `queues`, `logs`) to `list` (shared
//! navigation) to `global`. The defaults avoid ctrl-b and ctrl-a, the tmux and screen prefixes.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    List,
    Overview,
    Chat,
    Queues,
    Logs,
    Services,
    Files,
    Database,
    Docs,
    Tools,
    Timeline,
}

impl Context {
    pub const ALL: [Context; 12] = [
        Context::Global,
        Context::List,
        Context::Overview,
        Context::Chat,
        Context::Queues,
        Context::Logs,
        Context::Services,
        Context::Files,
        Context::Database,
        Context::Docs,
        Context::Tools,
        Context::Timeline,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::List => "list",
            Context::Overview => "overview",
            Context::Chat => "chat",
            Context::Queues => "queues",
            Context::Logs => "logs",
            Context::Services => "services",
            Context::Files => "files",
            Context::Database => "database",
            Context::Docs => "docs",
            Context::Tools => "tools",
            Context::Timeline => "timeline",
        }
    }
    fn parse(s: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// A key with its modifiers, normalised (shift folded into the character's case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Chord {
    pub code: KeyCodeOrd,
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
}

/// `KeyCode` is not `Ord`; this is the subset a keymap can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeOrd {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
}

impl Chord {
    pub fn from_event(ev: &KeyEvent) -> Option<Chord> {
        let m = ev.modifiers;
        let mut shift = m.contains(KeyModifiers::SHIFT);
        let code = match ev.code {
            KeyCode::Char(c) => {
                // The case of the character carries shift.
                shift = false;
                let c = if m.contains(KeyModifiers::CONTROL) || m.contains(KeyModifiers::ALT) {
                    c.to_ascii_lowercase()
                } else {
                    c
                };
                KeyCodeOrd::Char(c)
            }
            KeyCode::F(n) => KeyCodeOrd::F(n),
            KeyCode::Enter => KeyCodeOrd::Enter,
            KeyCode::Esc => KeyCodeOrd::Esc,
            KeyCode::Tab if shift => {
                shift = false;
                KeyCodeOrd::BackTab
            }
            KeyCode::Tab => KeyCodeOrd::Tab,
            KeyCode::BackTab => {
                shift = false;
                KeyCodeOrd::BackTab
            }
            KeyCode::Backspace => KeyCodeOrd::Backspace,
            KeyCode::Delete => KeyCodeOrd::Delete,
            KeyCode::Insert => KeyCodeOrd::Insert,
            KeyCode::Up => KeyCodeOrd::Up,
            KeyCode::Down => KeyCodeOrd::Down,
            KeyCode::Left => KeyCodeOrd::Left,
            KeyCode::Right => KeyCodeOrd::Right,
            KeyCode::Home => KeyCodeOrd::Home,
            KeyCode::End => KeyCodeOrd::End,
            KeyCode::PageUp => KeyCodeOrd::PageUp,
            KeyCode::PageDown => KeyCodeOrd::PageDown,
            _ => return None,
        };
        Some(Chord {
            code,
            ctrl: m.contains(KeyModifiers::CONTROL),
            alt: m.contains(KeyModifiers::ALT),
            shift,
        })
    }

    /// Parses "q", "G", "ctrl-c", "alt-enter", "shift-up", "f1", "pagedown", "space", "?".
    pub fn parse(s: &str) -> Result<Chord, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut shift = false;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 1 && (lower.starts_with("ctrl-") || lower.starts_with("c-")) {
                ctrl = true;
                rest = &rest[rest.find('-').unwrap_or(0) + 1..];
            } else if rest.len() > 1 && (lower.starts_with("alt-") || lower.starts_with("m-")) {
                alt = true;
                rest = &rest[rest.find('-').unwrap_or(0) + 1..];
            } else if rest.len() > 1 && (lower.starts_with("shift-") || lower.starts_with("s-")) {
                shift = true;
                rest = &rest[rest.find('-').unwrap_or(0) + 1..];
            } else {
                break;
            }
        }
        let lower = rest.to_ascii_lowercase();
        let code = match lower.as_str() {
            "enter" | "return" | "cr" => KeyCodeOrd::Enter,
            "esc" | "escape" => KeyCodeOrd::Esc,
            "tab" => KeyCodeOrd::Tab,
            "backtab" => KeyCodeOrd::BackTab,
            "backspace" | "bs" => KeyCodeOrd::Backspace,
            "delete" | "del" => KeyCodeOrd::Delete,
            "insert" | "ins" => KeyCodeOrd::Insert,
            "up" => KeyCodeOrd::Up,
            "down" => KeyCodeOrd::Down,
            "left" => KeyCodeOrd::Left,
            "right" => KeyCodeOrd::Right,
            "home" => KeyCodeOrd::Home,
            "end" => KeyCodeOrd::End,
            "pageup" | "pgup" => KeyCodeOrd::PageUp,
            "pagedown" | "pgdn" | "pgdown" => KeyCodeOrd::PageDown,
            "space" => KeyCodeOrd::Char(' '),
            "minus" => KeyCodeOrd::Char('-'),
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCodeOrd::F(f[1..].parse().unwrap_or(1))
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => {
                        let c = if ctrl || alt {
                            c.to_ascii_lowercase()
                        } else {
                            c
                        };
                        if shift && c.is_ascii_alphabetic() && !ctrl && !alt {
                            shift = false;
                            KeyCodeOrd::Char(c.to_ascii_uppercase())
                        } else {
                            KeyCodeOrd::Char(c)
                        }
                    }
                    _ => return Err(format!("'{s}' is not a key")),
                }
            }
        };
        if code == KeyCodeOrd::Tab && shift {
            return Ok(Chord {
                code: KeyCodeOrd::BackTab,
                ctrl,
                alt,
                shift: false,
            });
        }
        Ok(Chord {
            code,
            ctrl,
            alt,
            shift,
        })
    }
}

impl fmt::Display for Chord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        if self.shift {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCodeOrd::Char(' ') => f.write_str("space"),
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "f{n}"),
            KeyCodeOrd::Enter => f.write_str("enter"),
            KeyCodeOrd::Esc => f.write_str("esc"),
            KeyCodeOrd::Tab => f.write_str("tab"),
            KeyCodeOrd::BackTab => f.write_str("shift-tab"),
            KeyCodeOrd::Backspace => f.write_str("backspace"),
            KeyCodeOrd::Delete => f.write_str("delete"),
            KeyCodeOrd::Insert => f.write_str("insert"),
            KeyCodeOrd::Up => f.write_str("↑"),
            KeyCodeOrd::Down => f.write_str("↓"),
            KeyCodeOrd::Left => f.write_str("←"),
            KeyCodeOrd::Right => f.write_str("→"),
            KeyCodeOrd::Home => f.write_str("home"),
            KeyCodeOrd::End => f.write_str("end"),
            KeyCodeOrd::PageUp => f.write_str("pgup"),
            KeyCodeOrd::PageDown => f.write_str("pgdn"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Default,
    Vim,
}

const DEFAULTS: &[(Context, &str, Action)] = &[
    (Context::Global, "q", Action::Quit),
    (Context::Global, "ctrl-c", Action::Quit),
    (Context::Global, "?", Action::Help),
    (Context::Global, "f1", Action::Help),
    (Context::Global, ":", Action::Palette),
    (Context::Global, "ctrl-z", Action::Suspend),
    (Context::Global, "0", Action::TabOverview),
    (Context::Global, "1", Action::TabChat),
    (Context::Global, "2", Action::TabQueues),
    (Context::Global, "3", Action::TabLogs),
    (Context::Global, "4", Action::TabServices),
    (Context::Global, "5", Action::TabFiles),
    (Context::Global, "6", Action::TabDatabase),
    (Context::Global, "7", Action::TabDocs),
    (Context::Global, "8", Action::TabTools),
    (Context::Global, "9", Action::TabTimeline),
    (Context::Global, "]", Action::NextTab),
    (Context::Global, "[", Action::PrevTab),
    (Context::Global, "tab", Action::FocusNext),
    (Context::Global, "shift-tab", Action::FocusPrev),
    (Context::Global, "z", Action::Zoom),
    (Context::Global, "M", Action::ToggleMouse),
    (Context::Global, "T", Action::CycleTheme),
    (Context::List, "up", Action::Up),
    (Context::List, "down", Action::Down),
    // k9s and lazygit users move with j/k; the default keymap has them too.
    (Context::List, "k", Action::Up),
    (Context::List, "j", Action::Down),
    (Context::List, "pageup", Action::PageUp),
    (Context::List, "pagedown", Action::PageDown),
    (Context::List, "home", Action::Top),
    (Context::List, "end", Action::Bottom),
    (Context::List, "left", Action::Left),
    (Context::List, "right", Action::Right),
    (Context::List, "/", Action::Filter),
    (Context::List, "enter", Action::Select),
    (Context::List, "esc", Action::Back),
    (Context::List, "y", Action::Copy),
    // One key per common verb in every tab: i write (send), e edit, x export (save a copy),
    // u upload, d/delete delete or drain (after a confirm), c create, r refresh (ctrl-r and
    // f5 too, but in the SQL editor they run it), / filter, y copy, s search, n/N next match.
    // Verbs of one tab take keys no other tab uses: p pops (receives) a queue item, R restarts.
    (Context::Chat, "i", Action::Compose),
    // Enter opens a participant's detail (m there writes to it); on everyone it composes.
    (Context::Chat, "enter", Action::Select),
    (Context::Queues, "i", Action::QueueSend),
    (Context::Queues, "c", Action::QueueNew),
    (Context::Queues, "p", Action::QueueReceive),
    (Context::Queues, "d", Action::QueueDrain),
    (Context::Queues, "delete", Action::QueueDrain),
    (Context::Queues, "r", Action::Refresh),
    (Context::Queues, "ctrl-r", Action::Refresh),
    (Context::Queues, "f5", Action::Refresh),
    (Context::Services, "R", Action::ServiceRestart),
    (Context::Services, "r", Action::Refresh),
    (Context::Services, "ctrl-r", Action::Refresh),
    (Context::Services, "f5", Action::Refresh),
    (Context::Files, "u", Action::FileUpload),
    (Context::Files, "x", Action::FileDownload),
    (Context::Files, "d", Action::FileDelete),
    (Context::Files, "delete", Action::FileDelete),
    (Context::Files, "m", Action::FileMove),
    (Context::Files, "space", Action::Select),
    (Context::Files, "r", Action::Refresh),
    (Context::Files, "ctrl-r", Action::Refresh),
    (Context::Files, "f5", Action::Refresh),
    // ctrl-enter reaches only terminals that report it; f5 and ctrl-r also pass through tmux.
    (Context::Database, "ctrl-enter", Action::SqlRun),
    (Context::Database, "f5", Action::SqlRun),
    (Context::Database, "ctrl-r", Action::SqlRun),
    (Context::Database, "ctrl-p", Action::SqlHistoryPrev),
    (Context::Database, "ctrl-n", Action::SqlHistoryNext),
    (Context::Database, "r", Action::Refresh),
    (Context::Database, "x", Action::SqlExport),
    (Context::Database, "i", Action::SqlEdit),
    (Context::Docs, "e", Action::DocEdit),
    (Context::Docs, "r", Action::Refresh),
    (Context::Docs, "ctrl-r", Action::Refresh),
    (Context::Docs, "f5", Action::Refresh),
    (Context::Tools, "i", Action::ToolInvoke),
    (Context::Tools, "space", Action::Select),
    (Context::Tools, "r", Action::Refresh),
    (Context::Tools, "ctrl-r", Action::Refresh),
    (Context::Tools, "f5", Action::Refresh),
    (Context::Logs, "s", Action::Search),
    (Context::Logs, "n", Action::SearchNext),
    (Context::Logs, "N", Action::SearchPrev),
    (Context::Logs, "space", Action::TogglePause),
    (Context::Logs, "t", Action::ToggleTimestamps),
    (Context::Logs, "w", Action::ToggleWrap),
    (Context::Logs, "ctrl-l", Action::ClearLogs),
    (Context::Logs, "f", Action::Bottom),
    // The timeline plays like the log pauses (space), follows its end like the log (f, end).
    (Context::Timeline, "space", Action::TimelinePlay),
    (Context::Timeline, ">", Action::TimelineSpeed),
    (Context::Timeline, "@", Action::TimelineJump),
    (Context::Timeline, "f", Action::Bottom),
    (Context::Timeline, "r", Action::Refresh),
    (Context::Timeline, "ctrl-r", Action::Refresh),
    (Context::Timeline, "f5", Action::Refresh),
];

const VIM: &[(Context, &str, Action)] = &[
    (Context::List, "j", Action::Down),
    (Context::List, "k", Action::Up),
    (Context::List, "h", Action::Left),
    (Context::List, "l", Action::Right),
    (Context::List, "g", Action::Top),
    (Context::List, "G", Action::Bottom),
    (Context::List, "ctrl-d", Action::PageDown),
    (Context::List, "ctrl-u", Action::PageUp),
    (Context::List, "ctrl-f", Action::PageDown),
    (Context::Global, "H", Action::PrevTab),
    (Context::Global, "L", Action::NextTab),
    (Context::Global, "ctrl-w", Action::FocusNext),
];

#[derive(Debug, Clone)]
pub struct Keymap {
    pub preset: Preset,
    map: BTreeMap<(Context, Chord), Action>,
}

impl Keymap {
    pub fn preset(preset: Preset) -> Keymap {
        let mut map = BTreeMap::new();
        let mut add = |table: &[(Context, &str, Action)]| {
            for (ctx, key, action) in table {
                if let Ok(ch) = Chord::parse(key) {
                    map.insert((*ctx, ch), *action);
                }
            }
        };
        add(DEFAULTS);
        if preset == Preset::Vim {
            add(VIM);
        }
        Keymap { preset, map }
    }

    /// Parses keymap.toml text on top of its preset.
    pub fn parse(text: &str) -> Result<Keymap, String> {
        let value: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let preset = match value.get("preset").map(|v| v.as_str()) {
            None => Preset::Default,
            Some(Some("default")) => Preset::Default,
            Some(Some("vim")) => Preset::Vim,
            Some(other) => {
                return Err(format!(
                    "preset must be \"default\" or \"vim\", not {}",
                    other.unwrap_or("a non-string")
                ));
            }
        };
        let mut km = Keymap::preset(preset);
        for (section, body) in &value {
            if section == "preset" {
                continue;
            }
            let ctx = Context::parse(section).ok_or_else(|| {
                format!(
                    "unknown section [{section}]; use global, list, overview, chat, queues, logs, services, files, database, docs, tools or timeline"
                )
            })?;
            let table = body
                .as_table()
                .ok_or_else(|| format!("[{section}] must be a table of \"key\" = \"action\""))?;
            for (key, action) in table {
                let chord = Chord::parse(key).map_err(|e| format!("[{section}] {e}"))?;
                let name = action
                    .as_str()
                    .ok_or_else(|| format!("[{section}] \"{key}\": the action must be a string"))?;
                if name == "none" {
                    km.map.remove(&(ctx, chord));
                    continue;
                }
                let action: Action = serde_json::from_value(serde_json::json!(name))
                    .map_err(|_| format!("[{section}] \"{key}\": no action named '{name}'"))?;
                km.map.insert((ctx, chord), action);
            }
        }
        Ok(km)
    }

    /// Reads `<config>/keymap.toml` if there is one.
    pub fn load(config_dir: &Path) -> Result<Keymap, String> {
        let p = config_dir.join("keymap.toml");
        match std::fs::read_to_string(&p) {
            Ok(text) => Keymap::parse(&text).map_err(|e| format!("{}: {e}", p.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Keymap::preset(Preset::Default))
            }
            Err(e) => Err(format!("cannot read {}: {e}", p.display())),
        }
    }

    /// The action for a key in a pane context (falling back to list, then global).
    pub fn lookup(&self, ctx: Context, chord: &Chord) -> Option<Action> {
        [ctx, Context::List, Context::Global]
            .into_iter()
            .find_map(|c| self.map.get(&(c, *chord)).copied())
    }

    pub fn action_for(&self, ctx: Context, ev: &KeyEvent) -> Option<Action> {
        Chord::from_event(ev).and_then(|ch| self.lookup(ctx, &ch))
    }

    /// Every binding, for the help overlay.
    pub fn bindings(&self) -> impl Iterator<Item = (Context, Chord, Action)> + '_ {
        self.map.iter().map(|((c, k), a)| (*c, *k, *a))
    }

    /// The first key bound to an action in the given context chain, for hints.
    pub fn key_for(&self, ctx: Context, action: Action) -> Option<Chord> {
        // Plain keys read better in hints than chords with modifiers.
        self.map
            .iter()
            .filter(|((c, ch), a)| {
                **a == action
                    && [ctx, Context::List, Context::Global].contains(c)
                    && self.lookup(ctx, ch) == Some(action)
            })
            .map(|((_, ch), _)| *ch)
            .min_by_key(|ch| (ch.ctrl || ch.alt, matches!(ch.code, KeyCodeOrd::F(_))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn parse_and_display() {
        for s in [
            "q",
            "G",
            "ctrl-c",
            "alt-enter",
            "f5",
            "pagedown",
            "space",
            "?",
            "shift-tab",
        ] {
            let c = Chord::parse(s).unwrap();
            assert_eq!(Chord::parse(&c.to_string()).unwrap_or(c), c, "{s}");
        }
        assert_eq!(Chord::parse("shift-g").unwrap(), Chord::parse("G").unwrap());
        assert!(Chord::parse("nokey").is_err());
    }

    #[test]
    fn events_normalise() {
        let km = Keymap::preset(Preset::Default);
        let g = Chord::from_event(&key(KeyCode::Char('N'), KeyModifiers::SHIFT)).unwrap();
        assert_eq!(km.lookup(Context::Logs, &g), Some(Action::SearchPrev));
        let bt = Chord::from_event(&key(KeyCode::BackTab, KeyModifiers::SHIFT)).unwrap();
        assert_eq!(km.lookup(Context::Chat, &bt), Some(Action::FocusPrev));
        let cc = Chord::from_event(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)).unwrap();
        assert_eq!(km.lookup(Context::Queues, &cc), Some(Action::Quit));
    }

    /// The common verbs keep one key in every tab (issue 15): a key bound in two tabs means
    /// one verb (refresh, edit, export, delete-or-drain, write).
    #[test]
    fn a_key_means_one_verb_in_every_tab() {
        let km = Keymap::preset(Preset::Default);
        let verb = |a: Action| match a {
            Action::Refresh => "refresh",
            Action::DocEdit => "edit",
            Action::SqlExport | Action::FileDownload => "export",
            Action::QueueDrain | Action::FileDelete => "delete",
            // `i` types into the SQL editor as into a message.
            Action::Compose | Action::QueueSend | Action::ToolInvoke | Action::SqlEdit => "write",
            Action::Select => "select",
            other => other.name(),
        };
        let mut seen: BTreeMap<Chord, (Context, &str)> = BTreeMap::new();
        for (ctx, chord, action) in km.bindings() {
            if matches!(ctx, Context::Global | Context::List) {
                continue;
            }
            // In the SQL editor ctrl-r and f5 run the SQL (the editor's own keys).
            if ctx == Context::Database && action == Action::SqlRun {
                continue;
            }
            // Space toggles what it is on: a folder, a toolkit, the log's pause.
            let v = if chord == Chord::parse("space").unwrap() {
                "toggle"
            } else {
                verb(action)
            };
            if let Some((other, was)) = seen.insert(chord, (ctx, v)) {
                assert_eq!(was, v, "{chord} is {was} in {other:?} but {v} in {ctx:?}");
            }
        }
    }

    #[test]
    fn contexts_fall_back() {
        let km = Keymap::preset(Preset::Default);
        let i = Chord::parse("i").unwrap();
        assert_eq!(km.lookup(Context::Queues, &i), Some(Action::QueueSend));
        assert_eq!(km.lookup(Context::Chat, &i), Some(Action::Compose));
        let s = Chord::parse("s").unwrap();
        assert_eq!(km.lookup(Context::Logs, &s), Some(Action::Search));
        assert_eq!(km.lookup(Context::Chat, &s), None);
        let enter = Chord::parse("enter").unwrap();
        assert_eq!(km.lookup(Context::Chat, &enter), Some(Action::Select));
        assert_eq!(km.lookup(Context::Queues, &enter), Some(Action::Select));
    }

    #[test]
    fn vim_preset_and_overrides() {
        let km = Keymap::parse("preset = \"vim\"\n[global]\n\"q\" = \"none\"\n\"ctrl-q\" = \"quit\"\n[logs]\n\"x\" = \"clear_logs\"\n").unwrap();
        assert_eq!(
            km.lookup(Context::Logs, &Chord::parse("j").unwrap()),
            Some(Action::Down)
        );
        assert_eq!(km.lookup(Context::Logs, &Chord::parse("q").unwrap()), None);
        assert_eq!(
            km.lookup(Context::Chat, &Chord::parse("ctrl-q").unwrap()),
            Some(Action::Quit)
        );
        assert_eq!(
            km.lookup(Context::Logs, &Chord::parse("x").unwrap()),
            Some(Action::ClearLogs)
        );
        assert!(
            Keymap::parse("[logs]\n\"x\" = \"explode\"\n")
                .unwrap_err()
                .contains("explode")
        );
        assert!(
            Keymap::parse("[nowhere]\n")
                .unwrap_err()
                .contains("nowhere")
        );
        assert!(Keymap::parse("preset = \"emacs\"\n").is_err());
    }

    #[test]
    fn defaults_avoid_terminal_multiplexer_prefixes() {
        for preset in [Preset::Default, Preset::Vim] {
            let km = Keymap::preset(preset);
            for (_, ch, _) in km.bindings() {
                let s = ch.to_string();
                assert!(
                    s != "ctrl-b" && s != "ctrl-a",
                    "{s} clashes with tmux/screen"
                );
            }
        }
    }
}
