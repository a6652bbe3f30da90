//! `App::update` for the overview tab: a sample a second while it shows (the room's
//! `stats.room` counters when it has them, else what this console counted itself).

use serde_json::json;

use super::{App, Tab};
use crate::tui::net::{ConnState, Level, NetCommand, NetEvent, ToolOutcome, ToolsCommand};
use crate::tui::panes::overview::{Rate, SAMPLE_MS, Snapshot, Source};

impl App {
    fn sampling(&self) -> bool {
        self.tab == Tab::Overview && self.conn == ConnState::Live
    }

    /// When the next sample is due, while the overview shows.
    pub(super) fn overview_deadline(&self) -> Option<i64> {
        self.sampling()
            .then_some(self.panes.overview.next_sample_ms)
    }

    pub(super) fn overview_shown(&mut self) {
        if self.conn != ConnState::Live {
            return;
        }
        self.refresh_tables();
        self.files_shown();
        self.panes.overview.next_sample_ms = self.now_ms + SAMPLE_MS;
        self.poll_stats();
    }

    /// Asks the room for its counters (unless it showed it has none).
    fn poll_stats(&mut self) {
        if self.panes.overview.source == Source::Console || self.stats_call.is_some() {
            return;
        }
        let id = self.next_transfer;
        self.next_transfer += 1;
        self.stats_call = Some(id);
        self.send(NetCommand::Tools(ToolsCommand::Invoke {
            id,
            toolkit: "stats".into(),
            tool: "room".into(),
            arguments: json!({}),
        }));
    }

    /// A due sample: true when the overview changed on screen.
    pub(super) fn overview_tick(&mut self) -> bool {
        if !self.sampling() || self.now_ms < self.panes.overview.next_sample_ms {
            return false;
        }
        // Late wake-ups do not bunch samples up.
        self.panes.overview.next_sample_ms = self.now_ms + SAMPLE_MS;
        let snapshot = self.overview_snapshot();
        let changed = self.panes.overview.sample(snapshot);
        self.poll_stats();
        changed
    }

    fn overview_snapshot(&self) -> Snapshot {
        let tables = self.panes.database.tables.loaded.then(|| {
            let t = &self.panes.database.tables.tables;
            (t.len(), t.iter().filter_map(|t| t.rows).sum())
        });
        Snapshot {
            online: self.panes.chat.peers.iter().filter(|p| p.online).count(),
            seen: self.panes.chat.peers.len(),
            queues: self.panes.queues.queues.clone(),
            queues_loaded: self.panes.queues.loaded,
            services: self.panes.services.services.clone(),
            services_loaded: self.panes.services.loaded,
            files: self.panes.storage.tree.known_files(),
            tables,
        }
    }

    /// Counts what the console sees, and takes the answers to its stats calls. True when the
    /// event was such an answer (no other pane wants it).
    pub(super) fn overview_observe(&mut self, ev: &NetEvent) -> bool {
        let o = &mut self.panes.overview;
        match ev {
            NetEvent::Message(_) => o.saw(Rate::Messages, 1),
            NetEvent::QueueReceived { .. }
            | NetEvent::QueueSent { .. }
            | NetEvent::QueueDrained { .. } => o.saw(Rate::QueueOps, 1),
            NetEvent::Logs(lines) => {
                let errors = lines.iter().filter(|l| l.level == Level::Error).count();
                o.saw(Rate::Errors, errors as u64);
            }
            NetEvent::Tools(crate::tui::net::ToolsEvent::Answered { id, outcome, .. }) => {
                if self.stats_call != Some(*id) {
                    o.saw(Rate::ToolCalls, 1);
                    return false;
                }
                self.stats_call = None;
                match outcome {
                    ToolOutcome::Json(v) => o.room_stats(v),
                    _ => o.no_room_stats(),
                }
                return true;
            }
            _ => {}
        }
        false
    }
}
