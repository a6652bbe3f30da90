//! The room's state at the instant of an event: who was in, queue sizes, the files changed so
//! far, calls and errors. Folded from the first event on, with a checkpoint every
//! `EVERY` events, so any instant costs at most `EVERY` events from the checkpoint before it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::timeline::{Kind, Session};

pub const EVERY: usize = 1024;
/// Events folded into checkpoints per step (a frame's worth of work).
pub const BUILD_BUDGET: usize = 50_000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoomState {
    /// Participant name id -> joins minus leaves (present while > 0).
    pub present: BTreeMap<u32, i64>,
    /// Queue -> sends minus receives (drained: 0).
    pub queues: BTreeMap<String, i64>,
    /// Path -> what last happened to it (written, deleted, moved).
    pub files: BTreeMap<String, &'static str>,
    pub calls: u64,
    pub errors: u64,
    /// Events folded in.
    pub events: usize,
}

impl RoomState {
    /// Folds in event `index` of `session`. Reads the event itself only for queue and storage
    /// calls (their queue and path are in the request).
    pub fn apply(&mut self, session: &Session, index: usize) {
        let row = session.rows()[index];
        self.events = index + 1;
        if row.error {
            self.errors += 1;
        }
        match row.kind {
            Kind::Join => *self.present.entry(row.participant).or_default() += 1,
            Kind::Leave => {
                let n = self.present.entry(row.participant).or_default();
                *n -= 1;
                if *n <= 0 {
                    self.present.remove(&row.participant);
                }
            }
            Kind::Queue | Kind::Storage => {
                self.calls += 1;
                if !row.error {
                    self.apply_call(session, index, row.kind, session.name(row.tool));
                }
            }
            Kind::Message | Kind::Sync | Kind::Call => self.calls += 1,
            _ => {}
        }
    }

    fn apply_call(&mut self, session: &Session, index: usize, kind: Kind, tool: &str) {
        let counts = match kind {
            Kind::Queue => matches!(tool, "send" | "receive" | "drain"),
            _ => storage_change(tool).is_some(),
        };
        if !counts {
            return;
        }
        let Ok(e) = session.event(index) else { return };
        let req: Value = serde_json::from_str(&e.request).unwrap_or(Value::Null);
        let arg = |k: &str| req.get(k).and_then(Value::as_str).map(str::to_string);
        if kind == Kind::Queue {
            let Some(q) = arg("queue").or_else(|| arg("name")) else {
                return;
            };
            let n = self.queues.entry(q).or_default();
            match tool {
                "send" => *n += 1,
                "drain" => *n = 0,
                // A receive that found the queue empty answers nothing.
                _ if !matches!(e.answer.trim(), "" | "null" | "{}") => *n = (*n - 1).max(0),
                _ => {}
            }
            return;
        }
        let what = storage_change(tool).unwrap_or("written");
        if let Some(p) = arg("path").or_else(|| arg("source_path")) {
            let what = if what == "moved" { "moved away" } else { what };
            self.files.insert(p, what);
        }
        for k in ["destination_path", "to", "new_path"] {
            if let Some(p) = arg(k) {
                self.files.insert(p, "written");
            }
        }
    }

    /// The names of who was in.
    pub fn present_names<'a>(&self, session: &'a Session) -> Vec<&'a str> {
        self.present
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(id, _)| session.name(*id))
            .collect()
    }
}

fn storage_change(tool: &str) -> Option<&'static str> {
    match tool {
        "upload" | "write" | "put" | "copy" => Some("written"),
        "delete" | "remove" => Some("deleted"),
        "move" | "rename" => Some("moved"),
        _ => None,
    }
}

/// Checkpoints of the state, built a bounded number of events at a time.
#[derive(Debug, Default)]
pub struct StateCache {
    /// `checkpoints[k]`: the state after the first `k * EVERY` events.
    checkpoints: Vec<RoomState>,
    /// The state being folded towards the next checkpoint.
    building: RoomState,
    /// The last state asked for, by event index.
    last: Option<(usize, RoomState)>,
}

impl StateCache {
    pub fn clear(&mut self) {
        *self = StateCache::default();
    }

    /// Events folded into checkpoints so far.
    pub fn built(&self) -> usize {
        self.building.events
    }

    /// Folds up to `budget` more events into checkpoints; returns whether it did any.
    pub fn build(&mut self, session: &Session, budget: usize) -> bool {
        if self.checkpoints.is_empty() {
            self.checkpoints.push(RoomState::default());
        }
        let start = self.building.events;
        let end = (start + budget).min(session.len());
        for i in start..end {
            self.building.apply(session, i);
            if (i + 1) % EVERY == 0 {
                self.checkpoints.push(self.building.clone());
            }
        }
        end > start
    }

    /// The state just after event `index`, if the checkpoints reach it (else None: still
    /// building).
    pub fn at(&mut self, session: &Session, index: usize) -> Option<&RoomState> {
        if index >= session.len() {
            return None;
        }
        let reuse = matches!(&self.last, Some((i, _)) if *i <= index && index - *i < EVERY);
        if !reuse {
            let k = (index + 1) / EVERY;
            let base = self.checkpoints.get(k)?.clone();
            self.last = Some((k * EVERY, base));
            // `k * EVERY` events folded: the state "after event k * EVERY - 1".
            if let Some((i, _)) = &mut self.last {
                *i = (k * EVERY).wrapping_sub(1);
            }
        }
        let (i, state) = self.last.as_mut()?;
        let mut next = i.wrapping_add(1);
        while next <= index {
            state.apply(session, next);
            next += 1;
        }
        *i = index;
        self.last.as_ref().map(|(_, s)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::segments::Writer;
    use crate::timeline::{Event, SessionMeta};

    /// The state from checkpoints is the state folded from the first event, at any instant
    /// and in any order of asking.
    #[test]
    fn checkpoints_give_the_same_state_as_folding_from_the_start() {
        let root = tempfile::tempdir().unwrap();
        let meta = SessionMeta {
            session_id: "s".into(),
            ..SessionMeta::default()
        };
        let mut w = Writer::create(root.path(), &meta, 1 << 30, 1 << 20).unwrap();
        let n = 5 * EVERY as u64 + 17;
        for i in 0..n {
            let who = format!("p{}", i % 5);
            let (kind, tool, request) = match i % 7 {
                0 => (Kind::Join, "", String::new()),
                1 => (Kind::Leave, "", String::new()),
                2 | 3 => (Kind::Queue, "send", format!(r#"{{"name":"q{}"}}"#, i % 3)),
                4 => (
                    Kind::Queue,
                    "receive",
                    format!(r#"{{"name":"q{}"}}"#, i % 3),
                ),
                5 => (
                    Kind::Storage,
                    "upload",
                    format!(r#"{{"path":"f{}"}}"#, i % 11),
                ),
                _ => (Kind::Call, "x", String::new()),
            };
            let e = Event {
                t_us: i,
                participant: who,
                toolkit: "t".into(),
                tool: tool.into(),
                request,
                answer: r#"{"ok":1}"#.into(),
                error: (i % 13 == 0).then(|| "bad".into()),
                ..Event::new(kind, "e")
            };
            w.append(&e).unwrap();
        }
        w.finish().unwrap();
        let s = Session::open(&root.path().join("s")).unwrap();
        let mut cache = StateCache::default();
        assert_eq!(cache.at(&s, 3 * EVERY), None, "not built yet");
        while cache.build(&s, 1000) {}
        let mut folded = RoomState::default();
        let mut expected = Vec::new();
        for i in 0..s.len() {
            folded.apply(&s, i);
            expected.push(folded.clone());
        }
        for i in [
            n as usize - 1,
            0,
            1,
            EVERY - 1,
            EVERY,
            EVERY + 1,
            3 * EVERY + 5,
            7,
            2 * EVERY,
        ] {
            assert_eq!(cache.at(&s, i), Some(&expected[i]), "at {i}");
        }
        assert!(expected.last().unwrap().errors > 0);
        assert!(!expected.last().unwrap().queues.is_empty());
    }
}
