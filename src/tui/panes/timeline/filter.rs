//! The events list's filter: `kind:queue who:ada toolkit:storage is:error` and free words,
//! all combined. The named parts test a row's interned ids (a million rows in a few ms); the
//! words need each event's text, so they are matched a bounded slice of rows at a time.

use crate::timeline::{Kind, Row, Session};

/// Rows a text filter reads per step (a frame's worth of work).
pub const TEXT_BUDGET: usize = 20_000;

#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// The filter line as typed.
    pub text: String,
    kinds: Vec<Kind>,
    /// Lowercased needles of `who:` / `toolkit:` (any may match, a substring of the name).
    who: Vec<String>,
    toolkit: Vec<String>,
    errors_only: bool,
    /// Lowercased free words: each must be in the event's names, summary, error or JSON.
    words: Vec<String>,
    /// A part that names nothing (an unknown kind): said in the title.
    pub problem: Option<String>,
    /// Per name id: 0 not yet known, 1 matches, 2 does not.
    who_ok: Vec<u8>,
    toolkit_ok: Vec<u8>,
    /// Indices of the rows that match, in order (unused when the filter is empty).
    matches: Vec<u32>,
    /// Rows tested so far.
    scanned: usize,
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let mut f = Filter {
            text: text.to_string(),
            ..Filter::default()
        };
        for part in text.split_whitespace() {
            let (key, value) = part.split_once(':').unwrap_or(("", part));
            let values = || value.split(',').filter(|v| !v.is_empty());
            match key {
                "kind" | "k" => {
                    for v in values() {
                        match Kind::parse(&v.to_lowercase()) {
                            Some(k) => f.kinds.push(k),
                            None => {
                                // Still a filter: it matches nothing.
                                f.problem = Some(format!("no kind \"{v}\""));
                            }
                        }
                    }
                }
                "who" | "participant" | "p" => f.who.extend(values().map(str::to_lowercase)),
                "toolkit" | "tk" | "tool" => f.toolkit.extend(values().map(str::to_lowercase)),
                "is" if value == "error" => f.errors_only = true,
                _ => f.words.push(part.to_lowercase()),
            }
        }
        f
    }

    pub fn is_empty(&self) -> bool {
        self.problem.is_none()
            && self.kinds.is_empty()
            && self.who.is_empty()
            && self.toolkit.is_empty()
            && !self.errors_only
            && self.words.is_empty()
    }

    /// True once every row of the session has been tested.
    pub fn done(&self, session: &Session) -> bool {
        self.is_empty() || self.scanned >= session.len()
    }

    /// How far the scan is, 0..=100.
    pub fn progress(&self, session: &Session) -> usize {
        (self.scanned * 100)
            .checked_div(session.len())
            .unwrap_or(100)
    }

    /// Rows that match so far.
    pub fn count(&self, session: &Session) -> usize {
        if self.is_empty() {
            session.len()
        } else {
            self.matches.len()
        }
    }

    /// The row index of the `pos`th match.
    pub fn row(&self, pos: usize) -> usize {
        if self.is_empty() {
            pos
        } else {
            self.matches.get(pos).map_or(0, |r| *r as usize)
        }
    }

    /// The position of the last match at or before row `index` (0 if none).
    pub fn position_of(&self, index: usize) -> usize {
        if self.is_empty() {
            index
        } else {
            self.matches
                .partition_point(|r| (*r as usize) <= index)
                .saturating_sub(1)
        }
    }

    /// Tests rows not yet tested: all of them when only ids are asked, else up to `budget`.
    /// Returns whether any were tested.
    pub fn advance(&mut self, session: &Session, budget: usize) -> bool {
        if self.is_empty() || self.scanned >= session.len() {
            return false;
        }
        let end = if self.words.is_empty() || self.problem.is_some() {
            session.len()
        } else {
            (self.scanned + budget).min(session.len())
        };
        let rows = session.rows();
        for (i, row) in rows.iter().enumerate().take(end).skip(self.scanned) {
            if self.row_matches(session, row, i) {
                self.matches.push(i as u32);
            }
        }
        self.scanned = end;
        true
    }

    fn row_matches(&mut self, session: &Session, row: &Row, index: usize) -> bool {
        if self.problem.is_some() {
            return false;
        }
        if !self.kinds.is_empty() && !self.kinds.contains(&row.kind) {
            return false;
        }
        if self.errors_only && !row.error {
            return false;
        }
        if !self.who.is_empty() && !cached(&mut self.who_ok, row.participant, session, &self.who) {
            return false;
        }
        if !self.toolkit.is_empty() {
            let tk = cached(&mut self.toolkit_ok, row.toolkit, session, &self.toolkit);
            if !tk
                && !self
                    .toolkit
                    .iter()
                    .any(|n| session.name(row.tool).to_lowercase() == *n)
            {
                return false;
            }
        }
        if self.words.is_empty() {
            return true;
        }
        let names = format!(
            "{} {}.{}",
            session.name(row.participant),
            session.name(row.toolkit),
            session.name(row.tool)
        )
        .to_lowercase();
        let mut rest: Vec<&String> = self.words.iter().filter(|w| !names.contains(*w)).collect();
        if rest.is_empty() {
            return true;
        }
        let Ok(e) = session.event(index) else {
            return false;
        };
        let text = format!(
            "{} {} {} {}",
            e.summary,
            e.error.as_deref().unwrap_or(""),
            e.request,
            e.answer
        )
        .to_lowercase();
        rest.retain(|w| !text.contains(*w));
        rest.is_empty()
    }
}

fn cached(cache: &mut Vec<u8>, id: u32, session: &Session, needles: &[String]) -> bool {
    let i = id as usize;
    if cache.len() <= i {
        cache.resize(i + 1, 0);
    }
    if cache[i] == 0 {
        let name = session.name(id).to_lowercase();
        cache[i] = if needles.iter().any(|n| name.contains(n.as_str())) {
            1
        } else {
            2
        };
    }
    cache[i] == 1
}
