//! `ApiScope`: which room APIs a participant may use, as the `api` grant of its token.
//!
//! Mirrors the SDK's pydantic models (`meshagent/api/participant_token.py`) field by field:
//! a key absent from the JSON means no access to that API, `{}` means access with the
//! defaults. Serialization drops `None` and default values (the SDK dumps with
//! `exclude_none=True, exclude_defaults=True`), so both sides produce the same claims.

mod containers;
mod files;
mod grants;
mod tables;

pub use containers::{ContainerRegistryGrant, ContainersGrant};
pub use files::{
    FileAction, FilePathRule, FilesPolicy, InvalidFilePath, StorageGrant, StoragePathGrant,
    storage_request_path, validate_file_path,
};
pub use grants::{
    AdminGrant, AgentsGrant, DeveloperGrant, LivekitGrant, LlmGrant, MessagingGrant, QueuesGrant,
    SecretsGrant, ServicesGrant, SyncGrant, SyncPathGrant, TunnelsGrant,
};
pub use tables::{
    DatasetGrant, MemoryEntryGrant, MemoryGrant, MemoryPermissions, SqliteDatabaseGrant,
    SqliteGrant, SqliteTableGrant, TableGrant,
};

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// One optional grant per room API; `None` = no access to that API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "ApiScopeWire")]
pub struct ApiScope {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub livekit: Option<LivekitGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queues: Option<QueuesGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messaging: Option<MessagingGrant>,
    /// Read from `dataset`, `database` or `datasets` (first present wins, as in the SDK).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DatasetGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqlite: Option<SqliteGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub containers: Option<ContainersGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub developer: Option<DeveloperGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agents: Option<AgentsGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<AdminGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets: Option<SecretsGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnels: Option<TunnelsGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<ServicesGrant>,
}

impl ApiScope {
    /// `ApiScope.agent_default()`: every API except `admin`, `secrets` and `tunnels`.
    pub fn agent_default() -> Self {
        ApiScope {
            llm: Some(LlmGrant::default()),
            ..Self::user_default()
        }
    }

    /// `ApiScope.user_default()`: like `agent_default` without `llm`.
    pub fn user_default() -> Self {
        ApiScope {
            livekit: Some(LivekitGrant::default()),
            queues: Some(QueuesGrant::default()),
            messaging: Some(MessagingGrant::default()),
            dataset: Some(DatasetGrant::default()),
            sqlite: Some(SqliteGrant::default()),
            memory: Some(MemoryGrant::default()),
            sync: Some(SyncGrant::default()),
            storage: Some(StorageGrant::default()),
            containers: Some(ContainersGrant::default()),
            developer: Some(DeveloperGrant::default()),
            agents: Some(AgentsGrant::default()),
            services: Some(ServicesGrant::default()),
            ..Self::default()
        }
    }

    /// `ApiScope.full()`: `agent_default` plus `admin` and `tunnels` (still no `secrets`).
    pub fn full() -> Self {
        ApiScope {
            admin: Some(AdminGrant::default()),
            tunnels: Some(TunnelsGrant::default()),
            ..Self::agent_default()
        }
    }

    /// roomdeck's preset for a room's owner (the local user of the console): `full` plus
    /// `secrets`, which MeshAgent's `full` leaves out.
    pub fn owner() -> Self {
        ApiScope {
            secrets: Some(SecretsGrant::default()),
            ..Self::full()
        }
    }
}

/// The JSON shape as read: the dataset grant has three spellings.
#[derive(Deserialize)]
struct ApiScopeWire {
    #[serde(default, deserialize_with = "opt_object")]
    livekit: Option<LivekitGrant>,
    #[serde(default, deserialize_with = "opt_object")]
    queues: Option<QueuesGrant>,
    #[serde(default, deserialize_with = "opt_object")]
    messaging: Option<MessagingGrant>,
    // Outer Option = key present, so `"dataset": null` still wins over `"database": {}`
    // exactly like pydantic's AliasChoices.
    #[serde(default, deserialize_with = "present_object")]
    dataset: Option<Option<DatasetGrant>>,
    #[serde(default, deserialize_with = "present_object")]
    database: Option<Option<DatasetGrant>>,
    #[serde(default, deserialize_with = "present_object")]
    datasets: Option<Option<DatasetGrant>>,
    #[serde(default, deserialize_with = "opt_object")]
    sqlite: Option<SqliteGrant>,
    #[serde(default, deserialize_with = "opt_object")]
    memory: Option<MemoryGrant>,
    #[serde(default, deserialize_with = "opt_object")]
    sync: Option<SyncGrant>,
    #[serde(default, deserialize_with = "opt_object")]
    storage: Option<StorageGrant>,
    #[serde(default, deserialize_with = "opt_object")]
    containers: Option<ContainersGrant>,
    #[serde(default, deserialize_with = "opt_object")]
    developer: Option<DeveloperGrant>,
    #[serde(default, deserialize_with = "opt_object")]
    agents: Option<AgentsGrant>,
    #[serde(default, deserialize_with = "opt_object")]
    llm: Option<LlmGrant>,
    #[serde(default, deserialize_with = "opt_object")]
    admin: Option<AdminGrant>,
    #[serde(default, deserialize_with = "opt_object")]
    secrets: Option<SecretsGrant>,
    #[serde(default, deserialize_with = "opt_object")]
    tunnels: Option<TunnelsGrant>,
    #[serde(default, deserialize_with = "opt_object")]
    services: Option<ServicesGrant>,
}

/// A grant must be a JSON object: serde alone would also take `[]` (positional fields), so
/// `"queues": []`, which the SDK rejects, would grant every queue.
fn opt_object<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        v @ Value::Object(_) => serde_json::from_value(v)
            .map(Some)
            .map_err(D::Error::custom),
        other => Err(D::Error::custom(format!(
            "expected a JSON object, found {other}"
        ))),
    }
}

/// `opt_object`, also telling a present `null` from an absent key.
fn present_object<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    opt_object(d).map(Some)
}

impl From<ApiScopeWire> for ApiScope {
    fn from(w: ApiScopeWire) -> Self {
        ApiScope {
            livekit: w.livekit,
            queues: w.queues,
            messaging: w.messaging,
            dataset: w.dataset.or(w.database).or(w.datasets).flatten(),
            sqlite: w.sqlite,
            memory: w.memory,
            sync: w.sync,
            storage: w.storage,
            containers: w.containers,
            developer: w.developer,
            agents: w.agents,
            llm: w.llm,
            admin: w.admin,
            secrets: w.secrets,
            tunnels: w.tunnels,
            services: w.services,
        }
    }
}

// serde helpers shared by the grant modules: pydantic defaults and `exclude_defaults`.
fn yes() -> bool {
    true
}
fn is_true(v: &bool) -> bool {
    *v
}
fn is_false(v: &bool) -> bool {
    !*v
}

/// `matches_grant_pattern` of the SDK: exact, or a trailing `*` matches a prefix;
/// `None` means unrestricted when `allow_if_unset`.
fn matches_pattern(patterns: Option<&[String]>, value: &str, allow_if_unset: bool) -> bool {
    let Some(patterns) = patterns else {
        return allow_if_unset;
    };
    patterns.iter().any(|p| {
        p == value
            || p.strip_suffix('*')
                .is_some_and(|prefix| value.starts_with(prefix))
    })
}

/// The SDK compares namespaces with `None` and `[]` meaning the same (the root).
fn same_namespace(granted: Option<&[String]>, requested: Option<&[String]>) -> bool {
    match granted {
        None => true,
        Some(g) => g == requested.unwrap_or(&[]),
    }
}

#[cfg(test)]
mod tests;
