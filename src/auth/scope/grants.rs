//! The small grants: one or two flags or name lists each.

use serde::{Deserialize, Serialize};

use super::{is_false, is_true, matches_pattern, yes};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LivekitGrant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakout_rooms: Option<Vec<String>>,
}

impl LivekitGrant {
    pub fn can_join_breakout_room(&self, name: &str) -> bool {
        self.breakout_rooms
            .as_ref()
            .is_none_or(|rooms| rooms.iter().any(|r| r == name))
    }
}

/// `send`/`receive` list queue names; `None` = every queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuesGrant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive: Option<Vec<String>>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub list: bool,
}

impl Default for QueuesGrant {
    fn default() -> Self {
        QueuesGrant {
            send: None,
            receive: None,
            list: true,
        }
    }
}

impl QueuesGrant {
    pub fn can_send(&self, queue: &str) -> bool {
        self.send
            .as_ref()
            .is_none_or(|q| q.iter().any(|n| n == queue))
    }

    pub fn can_receive(&self, queue: &str) -> bool {
        self.receive
            .as_ref()
            .is_none_or(|q| q.iter().any(|n| n == queue))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagingGrant {
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub broadcast: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub list: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub send: bool,
}

impl Default for MessagingGrant {
    fn default() -> Self {
        MessagingGrant {
            broadcast: true,
            list: true,
            send: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncPathGrant {
    /// A document path; a trailing `*` makes it a prefix.
    pub path: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
}

impl SyncPathGrant {
    fn matches(&self, path: &str) -> bool {
        self.path == path
            || self
                .path
                .strip_suffix('*')
                .is_some_and(|prefix| path.starts_with(prefix))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncGrant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<SyncPathGrant>>,
}

impl SyncGrant {
    pub fn can_read(&self, path: &str) -> bool {
        self.paths
            .as_ref()
            .is_none_or(|paths| paths.iter().any(|p| p.matches(path)))
    }

    /// The first matching rule decides, as in the SDK.
    pub fn can_write(&self, path: &str) -> bool {
        match &self.paths {
            None => true,
            Some(paths) => paths
                .iter()
                .find(|p| p.matches(path))
                .is_some_and(|p| !p.read_only),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeveloperGrant {
    /// May stream the room's developer logs.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub logs: bool,
}

impl Default for DeveloperGrant {
    fn default() -> Self {
        DeveloperGrant { logs: true }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentsGrant {
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub register_agent: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub register_public_toolkit: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub register_private_toolkit: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub call: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub use_agents: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub use_tools: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_toolkits: Option<Vec<String>>,
}

impl Default for AgentsGrant {
    fn default() -> Self {
        AgentsGrant {
            register_agent: true,
            register_public_toolkit: true,
            register_private_toolkit: true,
            call: true,
            use_agents: true,
            use_tools: true,
            allowed_toolkits: None,
        }
    }
}

impl AgentsGrant {
    /// May call tools of the participant-hosted toolkit `name` (not in the SDK; the obvious rule).
    pub fn can_use_toolkit(&self, name: &str) -> bool {
        self.use_tools
            && self
                .allowed_toolkits
                .as_ref()
                .is_none_or(|t| t.iter().any(|n| n == name))
    }
}

/// `LLMGrant`: `models` are `provider/model` patterns (trailing `*` = prefix).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmGrant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
}

impl LlmGrant {
    pub fn can_use_provider(&self, provider: &str) -> bool {
        let provider = provider.trim();
        if provider.is_empty() {
            return false;
        }
        let prefix = format!("{provider}/");
        self.models
            .as_ref()
            .is_none_or(|models| models.iter().any(|m| m.trim().starts_with(&prefix)))
    }

    pub fn can_use_model(&self, provider: &str, model: &str) -> bool {
        let (provider, model) = (provider.trim(), model.trim());
        if provider.is_empty() || model.is_empty() {
            return false;
        }
        matches_pattern(self.models.as_deref(), &format!("{provider}/{model}"), true)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminGrant {
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub config: bool,
}

impl Default for AdminGrant {
    fn default() -> Self {
        AdminGrant { config: true }
    }
}

/// No fields; the SDK forbids unknown keys here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsGrant {}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TunnelsGrant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServicesGrant {
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub list: bool,
}

impl Default for ServicesGrant {
    fn default() -> Self {
        ServicesGrant { list: true }
    }
}
