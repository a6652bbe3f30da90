//! The events list's filter: `kind:queue who:ada toolkit:storage is:error` and free words,
//! all combined; any part after a `-` excludes instead (`-toolkit:stats,list` hides a
//! console's own polling). The named parts test a row's interned ids (a million rows in a
//! few ms); the words need each event's text, so they are matched a bounded slice of rows at
//! a time.

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
    /// The same parts after a `-`: a row that matches any of them is left out.
    not: Excluded,
    /// A part that names nothing (an unknown kind): said in the title.
    pub problem: Option<String>,
    /// Per name id: 0 not yet known, 1 matches, 2 does not.
    who_ok: Vec<u8>,
    toolkit_ok: Vec<u8>,
    not_who_ok: Vec<u8>,
    not_toolkit_ok: Vec<u8>,
    /// Indices of the rows that match, in order (unused when the filter is empty).
    matches: Vec<u32>,
    /// Rows tested so far.
    scanned: usize,
}

/// What `-` parts leave out.
#[derive(Debug, Default, Clone)]
struct Excluded {
    kinds: Vec<Kind>,
    who: Vec<String>,
    toolkit: Vec<String>,
    errors: bool,
    words: Vec<String>,
}

impl Excluded {
    fn is_empty(&self) -> bool {
        self.kinds.is_empty()
            && self.who.is_empty()
            && self.toolkit.is_empty()
            && !self.errors
            && self.words.is_empty()
    }
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let mut f = Filter {
            text: text.to_string(),
            ..Filter::default()
        };
        for part in text.split_whitespace() {
            let (negated, part) = match part.strip_prefix('-') {
                Some(rest) if !rest.is_empty() => (true, rest),
                _ => (false, part),
            };
            let (key, value) = part.split_once(':').unwrap_or(("", part));
            let values = || value.split(',').filter(|v| !v.is_empty());
            let (kinds, who, toolkit, errors, words) = if negated {
                let n = &mut f.not;
                (
                    &mut n.kinds,
                    &mut n.who,
                    &mut n.toolkit,
                    &mut n.errors,
                    &mut n.words,
                )
            } else {
                (
                    &mut f.kinds,
                    &mut f.who,
                    &mut f.toolkit,
                    &mut f.errors_only,
                    &mut f.words,
                )
            };
            match key {
                "kind" | "k" => {
                    for v in values() {
                        match Kind::parse(&v.to_lowercase()) {
                            Some(k) => kinds.push(k),
                            None => {
                                // Still a filter: it matches nothing.
                                f.problem = Some(format!("no kind \"{v}\""));
                            }
                        }
                    }
                }
                "who" | "participant" | "p" => who.extend(values().map(str::to_lowercase)),
                "toolkit" | "tk" | "tool" => toolkit.extend(values().map(str::to_lowercase)),
                "is" if value == "error" => *errors = true,
                _ => words.push(part.to_lowercase()),
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
            && self.not.is_empty()
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
        let end = if (self.words.is_empty() && self.not.words.is_empty()) || self.problem.is_some()
        {
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
        if !self.toolkit.is_empty()
            && !toolkit_matches(&mut self.toolkit_ok, row, session, &self.toolkit)
        {
            return false;
        }
        let not = &self.not;
        if not.kinds.contains(&row.kind)
            || (not.errors && row.error)
            || (!not.who.is_empty()
                && cached(&mut self.not_who_ok, row.participant, session, &not.who))
            || (!not.toolkit.is_empty()
                && toolkit_matches(&mut self.not_toolkit_ok, row, session, &not.toolkit))
        {
            return false;
        }
        if self.words.is_empty() && self.not.words.is_empty() {
            return true;
        }
        let names = format!(
            "{} {}.{}",
            session.name(row.participant),
            session.name(row.toolkit),
            session.name(row.tool)
        )
        .to_lowercase();
        if self.not.words.iter().any(|w| names.contains(w.as_str())) {
            return false;
        }
        let mut rest: Vec<&String> = self.words.iter().filter(|w| !names.contains(*w)).collect();
        if rest.is_empty() && self.not.words.is_empty() {
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
        if self.not.words.iter().any(|w| text.contains(w.as_str())) {
            return false;
        }
        rest.retain(|w| !text.contains(*w));
        rest.is_empty()
    }
}

/// Whether a row's toolkit (a substring of its name) or its tool (the whole name) is named.
fn toolkit_matches(cache: &mut Vec<u8>, row: &Row, session: &Session, needles: &[String]) -> bool {
    cached(cache, row.toolkit, session, needles)
        || needles
            .iter()
            .any(|n| session.name(row.tool).to_lowercase() == *n)
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
