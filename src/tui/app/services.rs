//! `App::update` for the services tab: restart after a confirm.

use super::{App, NoticeLevel, Popup};
use crate::tui::net::{NetCommand, ServiceSummary};
use crate::tui::popups::confirm::Confirm;

impl App {
    pub(super) fn restart_selected_service(&mut self) {
        match self.panes.services.selected_service() {
            Some(svc) => self.confirm_restart(svc),
            None => self.notify(NoticeLevel::Info, "no service selected"),
        }
    }

    pub(super) fn confirm_restart(&mut self, svc: ServiceSummary) {
        self.popup = Some(Popup::Confirm(Confirm {
            title: "Restart service".into(),
            body: format!(
                "Restart service {}? It is {} and has restarted {} time{}.",
                svc.name,
                svc.state,
                svc.restart_count,
                if svc.restart_count == 1 { "" } else { "s" }
            ),
            on_yes: NetCommand::ServiceRestart {
                id: svc.id,
                name: svc.name,
            },
        }));
    }
}
