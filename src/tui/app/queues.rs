//! `App::update` for the queues tab: the message prompt, receive, and drain after a confirm.

use super::{App, Popup};
use crate::tui::action::Action;
use crate::tui::net::NetCommand;
use crate::tui::popups::confirm::Confirm;
use crate::tui::popups::prompt::{Prompt, PromptKind};

impl App {
    pub(super) fn queue_action(&mut self, a: Action) {
        match a {
            Action::QueueSend => match self.panes.queues.selected_name() {
                Some(queue) => {
                    self.popup = Some(Popup::Prompt(Prompt::new(
                        PromptKind::QueueMessage {
                            queue,
                            create: false,
                        },
                        &self.theme,
                    )))
                }
                None => self.queue_action(Action::QueueNew),
            },
            Action::QueueNew => {
                self.popup = Some(Popup::Prompt(Prompt::new(
                    PromptKind::QueueName,
                    &self.theme,
                )))
            }
            Action::QueueReceive => {
                if let Some(name) = self.panes.queues.selected_name()
                    && self.live("receive")
                {
                    self.send(NetCommand::QueueReceive { name });
                }
            }
            Action::QueueDrain => {
                if let Some(name) = self.panes.queues.selected_name() {
                    self.confirm_drain(name);
                }
            }
            _ => {}
        }
    }

    pub(super) fn confirm_drain(&mut self, name: String) {
        let size = self
            .panes
            .queues
            .queues
            .iter()
            .find(|q| q.name == name)
            .map_or(0, |q| q.size);
        self.popup = Some(Popup::Confirm(Confirm {
            title: "Drain queue".into(),
            body: format!(
                "Drain queue {name}? Its {size} message{} will be deleted.",
                if size == 1 { "" } else { "s" }
            ),
            on_yes: NetCommand::QueueDrain { name },
        }));
    }
}
