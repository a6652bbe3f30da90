//! What the documents view asks of the room's `sync` toolkit and what comes back.

use serde_json::Value;

/// A stored document as the list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DocSummary {
    pub path: String,
    pub size: u64,
    /// Streams open on it right now (this console's own included).
    pub open: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DocsCommand {
    List,
    /// Follow `path` live (closing the document followed before).
    Open {
        path: String,
    },
    /// Stop following (the tab is off screen).
    Close,
    /// Replace the followed document's content with `json` (`{root_tag: {...}}`).
    Replace {
        path: String,
        json: Value,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum DocsEvent {
    Listed(Vec<DocSummary>),
    /// The room could not list its documents (`sync.list` is roomdeck's own; a hosted room
    /// may not have it): the room's message.
    ListFailed(String),
    /// The followed document as JSON: sent when it opens and after every change.
    Content {
        path: String,
        json: Value,
    },
    /// The document stopped syncing (or could not open); `reason` says why.
    Ended {
        path: String,
        reason: String,
    },
    Replaced {
        path: String,
    },
}
