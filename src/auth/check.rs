//! Which grant guards which tool: a toolkit's `Guard` is checked before every call of it.
//!
//! The SDK defines the grants but not this mapping (it lives in the hosted server); the
//! rules here are the obvious ones. Anything without a rule is denied, so a new tool has to
//! be added here on purpose.

use serde_json::Value;

use super::scope::{
    ApiScope, ContainersGrant, DatasetGrant, DeveloperGrant, FileAction, LivekitGrant, MemoryGrant,
    MessagingGrant, QueuesGrant, ServicesGrant, SqliteGrant, StorageGrant, SyncGrant,
};

/// Why a call was refused, as a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

/// How one toolkit's calls are checked: the API grant that guards the whole toolkit, and
/// the rule that decides each call from its tool and arguments. The server's toolkit
/// registry gives every toolkit one of these; a tool no rule knows is denied, so a new tool
/// has to be added to its rule on purpose.
pub struct Guard {
    /// The `ApiScope` key of the grant (named in refusals).
    pub grant: &'static str,
    /// Whether the scope holds that grant at all.
    pub present: fn(&ApiScope) -> bool,
    /// The per-call rule, given a scope that holds the grant.
    pub rule: fn(&ApiScope, &Call) -> Result<(), Denied>,
}

impl Guard {
    /// Whether a participant holding `scope` may call `toolkit.tool` with these arguments:
    /// the JSON of the call's Content, or for streams the start chunk's headers (the server
    /// checks when the start chunk arrives). `Value::Null` = no arguments: tools that act on
    /// a named queue, path, table, … are then denied, since there is nothing to check the
    /// grant against.
    pub fn authorize(
        &self,
        scope: Option<&ApiScope>,
        toolkit: &str,
        tool: &str,
        args: &Value,
    ) -> Result<(), Denied> {
        self.authorize_api(scope)?;
        let scope = scope.ok_or_else(no_api_grant)?;
        (self.rule)(
            scope,
            &Call {
                toolkit,
                tool,
                args,
            },
        )
    }

    /// Whether the token holds the grant at all: the first step of `authorize`, taken for
    /// streaming calls before their start chunk arrives, so a stream is never opened for a
    /// token that could not make any call of the toolkit.
    pub fn authorize_api(&self, scope: Option<&ApiScope>) -> Result<(), Denied> {
        let scope = scope.ok_or_else(no_api_grant)?;
        ensure((self.present)(scope), || {
            format!("the token's api scope has no `{}` grant", self.grant)
        })
    }
}

pub const MESSAGING: Guard = Guard {
    grant: "messaging",
    present: |s| s.messaging.is_some(),
    rule: |s, c| messaging(need(&s.messaging, "messaging")?, c),
};
pub const QUEUES: Guard = Guard {
    grant: "queues",
    present: |s| s.queues.is_some(),
    rule: |s, c| queues(need(&s.queues, "queues")?, c),
};
pub const STORAGE: Guard = Guard {
    grant: "storage",
    present: |s| s.storage.is_some(),
    rule: |s, c| storage(need(&s.storage, "storage")?, c),
};
pub const DATASET: Guard = Guard {
    grant: "dataset",
    present: |s| s.dataset.is_some(),
    rule: |s, c| dataset(need(&s.dataset, "dataset")?, c),
};
pub const SQLITE: Guard = Guard {
    grant: "sqlite",
    present: |s| s.sqlite.is_some(),
    rule: |s, c| sqlite(need(&s.sqlite, "sqlite")?, c),
};
pub const MEMORY: Guard = Guard {
    grant: "memory",
    present: |s| s.memory.is_some(),
    rule: |s, c| memory(need(&s.memory, "memory")?, s, c),
};
pub const SYNC: Guard = Guard {
    grant: "sync",
    present: |s| s.sync.is_some(),
    rule: |s, c| sync(need(&s.sync, "sync")?, c),
};
pub const DEVELOPER: Guard = Guard {
    grant: "developer",
    present: |s| s.developer.is_some(),
    rule: |s, c| developer(need(&s.developer, "developer")?, c),
};
pub const SERVICES: Guard = Guard {
    grant: "services",
    present: |s| s.services.is_some(),
    rule: |s, c| services(need(&s.services, "services")?, c),
};
pub const CONTAINERS: Guard = Guard {
    grant: "containers",
    present: |s| s.containers.is_some(),
    rule: |s, c| containers(need(&s.containers, "containers")?, c),
};
/// Mounts are the volumes containers use.
pub const MOUNTS: Guard = Guard {
    grant: "containers",
    present: |s| s.containers.is_some(),
    rule: |s, c| mounts(need(&s.containers, "containers")?, c),
};
pub const LIVEKIT: Guard = Guard {
    grant: "livekit",
    present: |s| s.livekit.is_some(),
    rule: |s, c| livekit(need(&s.livekit, "livekit")?, c),
};
/// The room's counters are diagnostics, like its developer log.
pub const STATS: Guard = Guard {
    grant: "developer",
    present: |s| s.developer.is_some(),
    rule: |s, _| need(&s.developer, "developer").map(|_| ()),
};
pub const SECRETS: Guard = Guard {
    grant: "secrets",
    present: |s| s.secrets.is_some(),
    rule: |s, _| need(&s.secrets, "secrets").map(|_| ()),
};
pub const AGENTS: Guard = Guard {
    grant: "agents",
    present: |s| s.agents.is_some(),
    rule: agents,
};
/// The guard of a toolkit the room does not build in: LiveKit and agents keep their own
/// rules (by name, whoever hosts them); any other is a participant's.
pub fn guard_of_hosted(toolkit: &str) -> &'static Guard {
    match toolkit {
        "livekit" => &LIVEKIT,
        "agents" => &AGENTS,
        _ => &HOSTED,
    }
}

/// A toolkit another participant registered.
pub const HOSTED: Guard = Guard {
    grant: "agents",
    present: |s| s.agents.is_some(),
    rule: hosted_toolkit,
};

/// Registering a toolkit (`room.register_toolkit`) needs the matching `agents` flag.
pub fn authorize_register_toolkit(scope: Option<&ApiScope>, public: bool) -> Result<(), Denied> {
    let agents = need(&scope.ok_or_else(no_api_grant)?.agents, "agents")?;
    let (allowed, flag) = if public {
        (agents.register_public_toolkit, "register_public_toolkit")
    } else {
        (agents.register_private_toolkit, "register_private_toolkit")
    };
    ensure(allowed, || {
        format!("the token's `agents` grant does not allow `{flag}`")
    })
}

fn no_api_grant() -> Denied {
    Denied(
        "the token has no `api` grant, so it may not call any room API; mint it with an api scope"
            .into(),
    )
}

fn need<'a, T>(grant: &'a Option<T>, key: &str) -> Result<&'a T, Denied> {
    grant
        .as_ref()
        .ok_or_else(|| Denied(format!("the token's api scope has no `{key}` grant")))
}

fn ensure(allowed: bool, why: impl FnOnce() -> String) -> Result<(), Denied> {
    if allowed { Ok(()) } else { Err(Denied(why())) }
}

fn flag(allowed: bool, key: &str, flag: &str) -> Result<(), Denied> {
    ensure(allowed, || {
        format!("the token's `{key}` grant does not allow `{flag}`")
    })
}

/// One call as a rule sees it.
pub struct Call<'a> {
    toolkit: &'a str,
    tool: &'a str,
    args: &'a Value,
}

impl Call<'_> {
    fn str(&self, key: &str) -> Option<&str> {
        self.args.get(key).and_then(Value::as_str)
    }

    /// The named resource the grant is checked against; denied when absent.
    fn named(&self, keys: &[&str], what: &str) -> Result<&str, Denied> {
        keys.iter().find_map(|k| self.str(k)).ok_or_else(|| {
            Denied(format!(
                "the call to `{}.{}` names no {what} (`{}`), so the token's grant can't be checked",
                self.toolkit, self.tool, keys[0]
            ))
        })
    }

    /// `namespace`: a list of strings, or absent/null for the root.
    fn namespace(&self, key: &str) -> Result<Option<Vec<String>>, Denied> {
        match self.args.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone()).map(Some).map_err(|_| {
                Denied(format!(
                    "the call to `{}.{}` has a `{key}` that is not a list of names",
                    self.toolkit, self.tool
                ))
            }),
        }
    }

    fn no_rule(&self) -> Denied {
        Denied(format!(
            "`{}.{}` is not a tool roomdeck knows how to check, so it is denied",
            self.toolkit, self.tool
        ))
    }
}

fn messaging(g: &MessagingGrant, call: &Call) -> Result<(), Denied> {
    match call.tool {
        "send" | "stream" => flag(g.send, "messaging", "send"),
        "broadcast" => flag(g.broadcast, "messaging", "broadcast"),
        "enable" | "disable" => Ok(()),
        _ => Err(call.no_rule()),
    }
}

fn queues(g: &QueuesGrant, call: &Call) -> Result<(), Denied> {
    if call.tool == "list" {
        return flag(g.list, "queues", "list");
    }
    type Check = fn(&QueuesGrant, &str) -> bool;
    let (check, verb): (Check, &str) = match call.tool {
        "send" => (QueuesGrant::can_send, "send to"),
        "receive" | "drain" | "close" => (QueuesGrant::can_receive, "receive from"),
        "open" => (|g, q| g.can_send(q) || g.can_receive(q), "open"),
        _ => return Err(call.no_rule()),
    };
    let name = call.named(&["name"], "queue")?;
    ensure(check(g, name), || {
        format!("the token may not {verb} queue `{name}`")
    })
}

fn storage_action(
    g: &StorageGrant,
    action: FileAction,
    path: &str,
    subtree: bool,
) -> Result<(), Denied> {
    ensure(g.allows(action, path, subtree), || {
        format!(
            "the token's `storage` grant does not allow `{}` on `{path}`",
            action.as_str()
        )
    })
}

fn storage(g: &StorageGrant, call: &Call) -> Result<(), Denied> {
    let action = match call.tool {
        "list" | "stat" | "exists" => FileAction::List,
        "download" | "download_url" => FileAction::Read,
        "upload" => FileAction::Write,
        "delete" => {
            let recursive = call.args.get("recursive") == Some(&Value::Bool(true));
            let path = call.named(&["path"], "path")?;
            return storage_action(g, FileAction::Delete, path, recursive);
        }
        "move" => {
            // The source may be a folder, so ask for whole subtrees on both ends.
            let from = call.named(&["source_path"], "source path")?;
            let to = call.named(&["destination_path"], "destination path")?;
            storage_action(g, FileAction::Delete, from, true)?;
            return storage_action(g, FileAction::Write, to, true);
        }
        _ => return Err(call.no_rule()),
    };
    storage_action(g, action, call.named(&["path"], "path")?, false)
}

const DATASET_READ: &[&str] = &[
    "inspect",
    "search",
    "count",
    "list_versions",
    "stats",
    "list_indexes",
    "watch_table",
];
const DATASET_WRITE: &[&str] = &["insert", "merge", "update", "delete"];
const DATASET_ALTER: &[&str] = &[
    "create_table",
    "drop_table",
    "rename_table",
    "add_columns",
    "drop_columns",
    "create_index",
    "drop_index",
    "optimize",
    "restore",
];
/// The server checks the tables a query names when it plans it.
const SQL_TOOLS: &[&str] = &[
    "execute_sql",
    "open_sql_query",
    "execute_sql_statement",
    "execute_sql_batch",
    "read_sql_query",
    "close_sql_query",
    "cancel_sql_query",
];

fn dataset(g: &DatasetGrant, call: &Call) -> Result<(), Denied> {
    let tool = call.tool;
    if tool == "list_tables" {
        return flag(g.list_tables, "dataset", "list_tables");
    }
    if SQL_TOOLS.contains(&tool) || matches!(tool, "list_branches" | "create_branch") {
        return Ok(());
    }
    if tool == "delete_branch" {
        // A branch holds every table, so deleting one needs the unrestricted grant.
        return ensure(g.tables.is_none(), || {
            "the token's `dataset` grant is limited to some tables, so it may not delete a branch"
                .into()
        });
    }
    type Check = fn(&DatasetGrant, &str, Option<&[String]>) -> bool;
    let (check, verb): (Check, &str) = if DATASET_READ.contains(&tool) {
        (DatasetGrant::can_read, "read")
    } else if DATASET_WRITE.contains(&tool) {
        (DatasetGrant::can_write, "write")
    } else if DATASET_ALTER.contains(&tool) {
        (DatasetGrant::can_alter, "alter")
    } else {
        return Err(call.no_rule());
    };
    let namespace = call.namespace("namespace")?;
    let mut tables = vec![call.named(&["table", "name"], "table")?];
    if tool == "rename_table" {
        tables.push(call.named(&["new_name"], "new table name")?);
    }
    for table in tables {
        ensure(check(g, table, namespace.as_deref()), || {
            format!("the token may not {verb} table `{table}`")
        })?;
    }
    Ok(())
}

fn sqlite(g: &SqliteGrant, call: &Call) -> Result<(), Denied> {
    let tool = call.tool;
    match tool {
        "list_databases" => return flag(g.list_databases, "sqlite", "list_databases"),
        "create_database" => return flag(g.create_database, "sqlite", "create_database"),
        // A restore makes a new database.
        "restore" => flag(g.create_database, "sqlite", "create_database")?,
        "read_sql_query" | "close_sql_query" | "cancel_sql_query" => return Ok(()),
        _ => {}
    }
    let namespace = call.namespace("namespace")?;
    let ns = namespace.as_deref();
    // Database-level tools name the database `name`; the others `database`.
    type DbCheck = fn(&SqliteGrant, &str, Option<&[String]>) -> bool;
    let db_level: Option<(DbCheck, &str, &str)> = match tool {
        "drop_database" => Some((SqliteGrant::can_drop_database, "name", "drop")),
        "inspect_database" | "get_database_settings" | "flush_database" => {
            Some((SqliteGrant::can_inspect_database, "name", "inspect"))
        }
        // Tuning a database is for whoever may run arbitrary SQL on it.
        "update_database_settings" => Some((SqliteGrant::can_execute, "name", "configure")),
        "list_tables" => Some((
            SqliteGrant::can_list_tables,
            "database",
            "list the tables of",
        )),
        "create_table" => Some((
            SqliteGrant::can_create_table,
            "database",
            "create tables in",
        )),
        "execute_sql" | "open_sql_query" | "execute_sql_statement" | "execute_sql_batch" => {
            Some((SqliteGrant::can_execute, "database", "run SQL on"))
        }
        _ => None,
    };
    // The file holds every table: unrestricted table access to the database.
    if tool == "backup" || tool == "restore" {
        let db = call.named(&["database"], "database")?;
        let verb = if tool == "backup" {
            "back up"
        } else {
            "restore"
        };
        return ensure(g.can_access_all_tables(db, ns), || {
            format!(
                "the token may not {verb} sqlite database `{db}`: a whole-file transfer \
                 needs access to every table of it"
            )
        });
    }
    if let Some((check, key, verb)) = db_level {
        let db = call.named(&[key], "database")?;
        return ensure(check(g, db, ns), || {
            format!("the token may not {verb} sqlite database `{db}`")
        });
    }
    type TableCheck = fn(&SqliteGrant, &str, &str, Option<&[String]>) -> bool;
    let (check, verb): (TableCheck, &str) = match tool {
        "inspect" | "count" | "search" => (SqliteGrant::can_read, "read"),
        "insert" | "update" | "delete" => (SqliteGrant::can_write, "write"),
        "drop_table" | "rename_table" | "add_columns" | "drop_columns" => {
            (SqliteGrant::can_alter, "alter")
        }
        _ => return Err(call.no_rule()),
    };
    let db = call.named(&["database"], "database")?;
    let mut tables = vec![call.named(&["table", "name"], "table")?];
    if tool == "rename_table" {
        tables.push(call.named(&["new_name"], "new table name")?);
    }
    for table in tables {
        ensure(check(g, db, table, ns), || {
            format!("the token may not {verb} table `{table}` of sqlite database `{db}`")
        })?;
    }
    Ok(())
}

fn memory(g: &MemoryGrant, scope: &ApiScope, call: &Call) -> Result<(), Denied> {
    let tool = call.tool;
    if tool == "list" {
        return flag(g.list, "memory", "list");
    }
    type Check = fn(&MemoryGrant, &str, Option<&[String]>) -> bool;
    let (check, permission): (Check, &str) = match tool {
        "create" => (MemoryGrant::can_create, "create"),
        "drop" => (MemoryGrant::can_drop, "drop"),
        "inspect" => (MemoryGrant::can_inspect, "inspect"),
        "query" => (MemoryGrant::can_query, "query"),
        "upsert_table"
        | "upsert_nodes"
        | "upsert_relationships"
        | "delete_entities"
        | "delete_relationships" => (MemoryGrant::can_upsert, "upsert"),
        "ingest_text"
        | "ingest_image"
        | "ingest_file"
        | "ingest_from_table"
        | "ingest_from_storage" => (MemoryGrant::can_ingest, "ingest"),
        "recall" => (MemoryGrant::can_recall, "recall"),
        "optimize" => (MemoryGrant::can_optimize, "optimize"),
        _ => return Err(call.no_rule()),
    };
    let name = call.named(&["name"], "memory")?;
    let namespace = call.namespace("namespace")?;
    ensure(check(g, name, namespace.as_deref()), || {
        format!("the token may not `{permission}` memory `{name}`")
    })?;
    ingest_sources(scope, call)
}

/// Ingesting reads from storage or a dataset table: that needs read access there too.
fn ingest_sources(scope: &ApiScope, call: &Call) -> Result<(), Denied> {
    let mut paths: Vec<&str> = Vec::new();
    match call.tool {
        "ingest_file" => paths.extend(call.str("path")),
        "ingest_from_storage" => {
            let listed = call.args.get("paths").and_then(Value::as_array);
            paths.extend(listed.into_iter().flatten().filter_map(Value::as_str));
        }
        "ingest_from_table" => {
            let table = call.named(&["table"], "table")?;
            let namespace = call.namespace("table_namespace")?;
            let dataset = need(&scope.dataset, "dataset")?;
            return ensure(dataset.can_read(table, namespace.as_deref()), || {
                format!("the token may not read table `{table}`")
            });
        }
        _ => {}
    }
    if paths.is_empty() {
        return Ok(());
    }
    let storage = need(&scope.storage, "storage")?;
    paths
        .into_iter()
        .try_for_each(|p| storage_action(storage, FileAction::Read, p, false))
}

fn sync(g: &SyncGrant, call: &Call) -> Result<(), Denied> {
    let write = match call.tool {
        // `list` answers only the documents the grant can read (filtered in the toolkit).
        "list" => return Ok(()),
        "open" | "describe" | "close" => false,
        "create" | "update" | "write" => true,
        _ => return Err(call.no_rule()),
    };
    let raw = call.named(&["path"], "document path")?;
    let path = sync_path(raw);
    // Prefix grants (`docs/*`) mean nothing if the path can climb out of the prefix.
    if path.split('/').any(|part| part == "..") {
        return Err(Denied(format!(
            "the document path `{raw}` may not contain `..`"
        )));
    }
    let (allowed, verb) = if write {
        (g.can_write(path), "write")
    } else {
        (g.can_read(path), "read")
    };
    ensure(allowed, || {
        format!("the token's `sync` grant does not allow {verb} on `{path}`")
    })
}

/// The SDK's `_normalize_sync_path`: drop leading `./` and `/`.
fn sync_path(path: &str) -> &str {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    if p == "." { "" } else { p }
}

fn developer(g: &DeveloperGrant, call: &Call) -> Result<(), Denied> {
    match call.tool {
        "logs" => flag(g.logs, "developer", "logs"),
        "log" | "info" | "warning" | "error" => Ok(()),
        _ => Err(call.no_rule()),
    }
}

fn services(g: &ServicesGrant, call: &Call) -> Result<(), Denied> {
    match call.tool {
        "list" => flag(g.list, "services", "list"),
        "restart" => Ok(()),
        _ => Err(call.no_rule()),
    }
}

const CONTAINER_TOOLS: &[&str] = &[
    "list_images",
    "inspect_image",
    "delete_image",
    "push_image",
    "load",
    "load_image",
    "save_image",
    "build",
    "list_builds",
    "cancel_build",
    "delete_build",
    "run_service",
    "exec",
    "stop_container",
    "wait_for_exit",
    "delete_container",
    "list_containers",
];

fn containers(g: &ContainersGrant, call: &Call) -> Result<(), Denied> {
    let tool = call.tool;
    if matches!(tool, "logs" | "get_build_logs") {
        return flag(g.logs, "containers", "logs");
    }
    if !(matches!(tool, "pull_image" | "run") || CONTAINER_TOOLS.contains(&tool)) {
        return Err(call.no_rule());
    }
    flag(g.use_containers, "containers", "use_containers")?;
    match tool {
        "pull_image" => {
            let tag = call.named(&["tag"], "image tag")?;
            ensure(g.can_pull(tag), || {
                format!("the token may not pull image `{tag}`")
            })
        }
        "run" => {
            let image = call.named(&["image"], "image")?;
            ensure(g.can_run(image), || {
                format!("the token may not run image `{image}`")
            })
        }
        _ => Ok(()),
    }
}

fn mounts(g: &ContainersGrant, call: &Call) -> Result<(), Denied> {
    match call.tool {
        "list" => flag(g.use_containers, "containers", "use_containers"),
        _ => Err(call.no_rule()),
    }
}

fn livekit(g: &LivekitGrant, call: &Call) -> Result<(), Denied> {
    if call.tool != "connect" {
        return Err(call.no_rule());
    }
    match call.str("breakout_room") {
        Some(room) => ensure(g.can_join_breakout_room(room), || {
            format!("the token may not join breakout room `{room}`")
        }),
        None => Ok(()),
    }
}

fn agents(scope: &ApiScope, call: &Call) -> Result<(), Denied> {
    let g = need(&scope.agents, "agents")?;
    if call.tool == "call" {
        flag(g.call, "agents", "call")
    } else {
        flag(g.use_agents, "agents", "use_agents")
    }
}

/// A toolkit another participant registered: `agents.use_tools` and `allowed_toolkits`.
fn hosted_toolkit(scope: &ApiScope, call: &Call) -> Result<(), Denied> {
    let g = need(&scope.agents, "agents")?;
    flag(g.use_tools, "agents", "use_tools")?;
    ensure(g.can_use_toolkit(call.toolkit), || {
        format!(
            "the token's `agents` grant does not list toolkit `{}` in `allowed_toolkits`",
            call.toolkit
        )
    })
}

#[cfg(test)]
mod tests;
