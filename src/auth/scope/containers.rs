//! Containers: image tag / repository patterns (trailing `*` = prefix; `None` = any).

use serde::{Deserialize, Serialize};

use super::{is_true, matches_pattern, yes};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerRegistryGrant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<Vec<String>>,
}

impl ContainerRegistryGrant {
    /// Without a `list` pattern, a repository is listable when any other pattern names it
    /// (or when there are no patterns at all).
    pub fn can_list(&self, repository: &str) -> bool {
        if let Some(list) = &self.list {
            return matches_pattern(Some(list), repository, false);
        }
        let others = [&self.pull, &self.run, &self.write];
        others.iter().all(|p| p.is_none())
            || others
                .iter()
                .any(|p| matches_pattern(p.as_deref(), repository, false))
    }

    pub fn can_pull(&self, repository: &str) -> bool {
        matches_pattern(self.pull.as_deref(), repository, true)
    }

    pub fn can_run(&self, repository: &str) -> bool {
        matches_pattern(self.run.as_deref(), repository, true)
    }

    pub fn can_write(&self, repository: &str) -> bool {
        matches_pattern(self.write.as_deref(), repository, true)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainersGrant {
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub logs: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "super::opt_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub registry: Option<ContainerRegistryGrant>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub use_containers: bool,
}

impl Default for ContainersGrant {
    fn default() -> Self {
        ContainersGrant {
            logs: true,
            pull: None,
            run: None,
            registry: None,
            use_containers: true,
        }
    }
}

impl ContainersGrant {
    pub fn can_pull(&self, tag: &str) -> bool {
        matches_pattern(self.pull.as_deref(), tag, true)
    }

    pub fn can_run(&self, tag: &str) -> bool {
        matches_pattern(self.run.as_deref(), tag, true)
    }

    pub fn can_registry_list(&self, repository: &str) -> bool {
        self.registry
            .as_ref()
            .is_none_or(|r| r.can_list(repository))
    }

    pub fn can_registry_pull(&self, repository: &str) -> bool {
        self.registry
            .as_ref()
            .is_none_or(|r| r.can_pull(repository))
    }

    pub fn can_registry_run(&self, repository: &str) -> bool {
        self.registry.as_ref().is_none_or(|r| r.can_run(repository))
    }

    pub fn can_registry_write(&self, repository: &str) -> bool {
        self.registry
            .as_ref()
            .is_none_or(|r| r.can_write(repository))
    }
}
