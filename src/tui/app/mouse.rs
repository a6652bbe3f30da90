//! `App::update` for the mouse: clicks on tabs and panes, the wheel scrolls what is under it.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::{App, Focus, Popup};
use crate::tui::action::Action;

impl App {
    pub(super) fn on_mouse(&mut self, m: MouseEvent) -> bool {
        if !self.mouse {
            return false;
        }
        let pos = Position {
            x: m.column,
            y: m.row,
        };
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if self.popup.is_some() {
                    return false;
                }
                if let Some((_, tab)) = self.hit.tabs.iter().find(|(r, _)| r.contains(pos)) {
                    let t = *tab;
                    self.switch_tab(t);
                    return true;
                }
                if let Some((_, f)) = self.hit.panes.iter().find(|(r, _)| r.contains(pos)) {
                    let f = *f;
                    if f == Focus::Input && self.read_only {
                        return false;
                    }
                    self.set_focus(f);
                    if f == Focus::FileTree {
                        self.files_click(pos);
                    }
                    // A click on an overview block opens its tab.
                    if f == Focus::Overview
                        && let Some(tab) = self.panes.overview.tab_at(pos)
                    {
                        self.switch_tab(tab);
                    }
                    return true;
                }
                false
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                if let Some(Popup::Help(h)) = &mut self.popup {
                    h.scroll = if m.kind == MouseEventKind::ScrollUp {
                        h.scroll.saturating_sub(3)
                    } else {
                        h.scroll + 3
                    };
                    return true;
                }
                if self.popup.is_some() {
                    return false;
                }
                let under = self
                    .hit
                    .panes
                    .iter()
                    .find(|(r, _)| r.contains(pos))
                    .map(|(_, f)| *f);
                let Some(f) = under else { return false };
                let before = self.focused();
                self.set_focus(f);
                let a = if m.kind == MouseEventKind::ScrollUp {
                    Action::Up
                } else {
                    Action::Down
                };
                for _ in 0..3 {
                    self.navigate(a);
                }
                if before == Focus::Input || f == Focus::Input {
                    self.set_focus(before);
                }
                true
            }
            _ => false,
        }
    }
}
