use serde_json::{Value, json};

use super::*;

/// A call checked as the server checks it: with the guard its toolkit's registry row names.
fn authorize(
    scope: Option<&ApiScope>,
    toolkit: &str,
    tool: &str,
    args: &Value,
) -> Result<(), Denied> {
    crate::server::toolkits::guard_of(toolkit).authorize(scope, toolkit, tool, args)
}

fn scope(v: Value) -> ApiScope {
    serde_json::from_value(v).unwrap()
}

fn ok(s: &ApiScope, toolkit: &str, tool: &str, args: Value) {
    if let Err(Denied(why)) = authorize(Some(s), toolkit, tool, &args) {
        panic!("{toolkit}.{tool} {args} denied: {why}");
    }
}

/// Denied, with a reason mentioning `needle`.
fn no(s: &ApiScope, toolkit: &str, tool: &str, args: Value, needle: &str) {
    match authorize(Some(s), toolkit, tool, &args) {
        Ok(()) => panic!("{toolkit}.{tool} {args} allowed"),
        Err(Denied(why)) => assert!(
            why.contains(needle),
            "{toolkit}.{tool}: {why:?} lacks {needle:?}"
        ),
    }
}

#[test]
fn no_scope_denies_everything() {
    let r = authorize(None, "messaging", "enable", &json!({}));
    assert!(r.unwrap_err().0.contains("no `api` grant"));
}

#[test]
fn absent_key_denies_its_toolkit() {
    let s = scope(json!({"messaging": {}}));
    for toolkit in [
        "queues",
        "storage",
        "dataset",
        "sqlite",
        "memory",
        "sync",
        "developer",
        "services",
        "containers",
        "mounts",
        "livekit",
        "secrets",
    ] {
        let key = if toolkit == "mounts" {
            "containers"
        } else {
            toolkit
        };
        no(
            &s,
            toolkit,
            "list",
            json!({"name": "x", "path": "x"}),
            &format!("no `{key}` grant"),
        );
    }
    assert_eq!(
        authorize(Some(&s), "queues", "list", &json!({}))
            .unwrap_err()
            .0,
        "the token's api scope has no `queues` grant"
    );
}

#[test]
fn unknown_tools_are_denied() {
    let s = ApiScope::full();
    for (toolkit, tool) in [
        ("queues", "purge"),
        ("storage", "chmod"),
        ("dataset", "vacuum"),
        ("messaging", "shout"),
        ("developer", "debug"),
    ] {
        no(
            &s,
            toolkit,
            tool,
            json!({"name": "x", "path": "x", "table": "x"}),
            "not a tool roomdeck knows",
        );
    }
}

#[test]
fn messaging() {
    let all = ApiScope::agent_default();
    for tool in ["enable", "disable", "send", "broadcast", "stream"] {
        ok(&all, "messaging", tool, json!({}));
    }
    let quiet = scope(json!({"messaging": {"send": false, "broadcast": false, "list": false}}));
    ok(&quiet, "messaging", "enable", Value::Null);
    ok(&quiet, "messaging", "disable", json!({}));
    no(
        &quiet,
        "messaging",
        "send",
        json!({}),
        "does not allow `send`",
    );
    no(
        &quiet,
        "messaging",
        "stream",
        json!({}),
        "does not allow `send`",
    );
    no(
        &quiet,
        "messaging",
        "broadcast",
        json!({}),
        "does not allow `broadcast`",
    );
}

#[test]
fn queues() {
    let s = scope(json!({"queues": {"send": ["jobs"], "receive": ["results"], "list": false}}));
    no(&s, "queues", "list", json!({}), "does not allow `list`");
    ok(
        &s,
        "queues",
        "send",
        json!({"name": "jobs", "create": true, "message": {}}),
    );
    no(
        &s,
        "queues",
        "send",
        json!({"name": "results"}),
        "may not send to queue `results`",
    );
    ok(
        &s,
        "queues",
        "receive",
        json!({"name": "results", "wait": false}),
    );
    no(
        &s,
        "queues",
        "receive",
        json!({"name": "jobs"}),
        "may not receive from queue `jobs`",
    );
    ok(&s, "queues", "open", json!({"name": "jobs"}));
    ok(&s, "queues", "open", json!({"name": "results"}));
    no(
        &s,
        "queues",
        "open",
        json!({"name": "other"}),
        "may not open queue `other`",
    );
    ok(&s, "queues", "drain", json!({"name": "results"}));
    no(
        &s,
        "queues",
        "drain",
        json!({"name": "jobs"}),
        "receive from",
    );
    no(
        &s,
        "queues",
        "close",
        json!({"name": "jobs"}),
        "receive from",
    );
    // Nothing to check a named grant against.
    no(&s, "queues", "send", Value::Null, "names no queue");
    no(&s, "queues", "send", json!({"name": 5}), "names no queue");

    let all = ApiScope::agent_default();
    ok(&all, "queues", "list", json!({}));
    for tool in ["send", "receive", "open", "drain", "close"] {
        ok(&all, "queues", tool, json!({"name": "anything"}));
    }
}

#[test]
fn storage_legacy_paths() {
    let s = scope(
        json!({"storage": {"paths": [{"path": "public", "read_only": true}, {"path": "agents/bob"}]}}),
    );
    ok(&s, "storage", "list", json!({"path": "public"}));
    ok(&s, "storage", "stat", json!({"path": "/public/a.txt"}));
    ok(&s, "storage", "exists", json!({"path": "./agents/bob/x"}));
    ok(
        &s,
        "storage",
        "download",
        json!({"kind": "start", "path": "public/a.txt", "chunk_size": 65536}),
    );
    ok(
        &s,
        "storage",
        "download_url",
        json!({"path": "public/a.txt", "download": null}),
    );
    no(
        &s,
        "storage",
        "upload",
        json!({"kind": "start", "path": "public/a.txt"}),
        "`write` on `public/a.txt`",
    );
    ok(
        &s,
        "storage",
        "upload",
        json!({"kind": "start", "path": "agents/bob/new.txt"}),
    );
    no(
        &s,
        "storage",
        "delete",
        json!({"path": "public/a.txt"}),
        "`delete`",
    );
    ok(
        &s,
        "storage",
        "delete",
        json!({"path": "agents/bob/old.txt", "recursive": null}),
    );
    no(&s, "storage", "list", json!({"path": ""}), "`list` on ``");
    no(
        &s,
        "storage",
        "download",
        json!({"path": "agents/alice/x"}),
        "`read`",
    );
    // Paths that climb or hide are never allowed, whatever the grant.
    let all = ApiScope::agent_default();
    no(
        &all,
        "storage",
        "download",
        json!({"path": "a/../../etc/passwd"}),
        "`read`",
    );
    no(
        &all,
        "storage",
        "upload",
        json!({"path": "x/.meshagent-upload-1"}),
        "`write`",
    );
    no(&all, "storage", "upload", Value::Null, "names no path");
    ok(&all, "storage", "list", json!({"path": ""}));
    ok(
        &all,
        "storage",
        "move",
        json!({"source_path": "a", "destination_path": "b", "overwrite": false}),
    );
}

#[test]
fn storage_move_needs_delete_on_source_and_write_on_destination() {
    let s =
        scope(json!({"storage": {"paths": [{"path": "ro", "read_only": true}, {"path": "rw"}]}}));
    ok(
        &s,
        "storage",
        "move",
        json!({"source_path": "rw/a", "destination_path": "rw/b"}),
    );
    no(
        &s,
        "storage",
        "move",
        json!({"source_path": "ro/a", "destination_path": "rw/a"}),
        "`delete` on `ro/a`",
    );
    no(
        &s,
        "storage",
        "move",
        json!({"source_path": "rw/a", "destination_path": "ro/a"}),
        "`write` on `ro/a`",
    );
    no(
        &s,
        "storage",
        "move",
        json!({"source_path": "rw/a"}),
        "names no destination path",
    );
}

#[test]
fn storage_files_policy_with_excluded_paths() {
    let s = scope(json!({"storage": {"files": {"paths": [
        {"path": "", "recursive": true, "actions": ["list", "read", "write", "delete"], "excluded_paths": ["private"]},
        {"path": "private/shared", "recursive": true, "actions": ["list", "read"]}
    ]}}}));
    ok(&s, "storage", "download", json!({"path": "docs/a"}));
    no(
        &s,
        "storage",
        "download",
        json!({"path": "private/key"}),
        "`read` on `private/key`",
    );
    ok(
        &s,
        "storage",
        "download",
        json!({"path": "private/shared/x"}),
    );
    no(
        &s,
        "storage",
        "upload",
        json!({"path": "private/shared/x"}),
        "`write`",
    );
    no(&s, "storage", "list", json!({"path": "private"}), "`list`");
    ok(
        &s,
        "storage",
        "delete",
        json!({"path": "docs", "recursive": true}),
    );
    // Recursively deleting the root would reach the excluded subtree.
    no(
        &s,
        "storage",
        "delete",
        json!({"path": "", "recursive": true}),
        "`delete` on ``",
    );
    ok(
        &s,
        "storage",
        "delete",
        json!({"path": "docs/a.txt", "recursive": false}),
    );
    // Moving a folder that contains an excluded path is refused.
    no(
        &s,
        "storage",
        "move",
        json!({"source_path": "", "destination_path": "x"}),
        "`delete`",
    );
}

#[test]
fn dataset() {
    let s = scope(json!({"dataset": {"list_tables": false, "tables": [
        {"name": "ro"},
        {"name": "rw", "write": true},
        {"name": "owned", "read": true, "write": true, "alter": true},
        {"name": "ns_t", "namespace": ["team"], "alter": true}
    ]}}));
    no(
        &s,
        "dataset",
        "list_tables",
        json!({}),
        "does not allow `list_tables`",
    );
    for tool in [
        "inspect",
        "search",
        "count",
        "list_versions",
        "stats",
        "list_indexes",
    ] {
        ok(&s, "dataset", tool, json!({"table": "ro"}));
        no(
            &s,
            "dataset",
            tool,
            json!({"table": "secret"}),
            "may not read table `secret`",
        );
    }
    for tool in ["insert", "merge", "update", "delete"] {
        ok(&s, "dataset", tool, json!({"table": "rw"}));
        no(
            &s,
            "dataset",
            tool,
            json!({"table": "ro"}),
            "may not write table `ro`",
        );
    }
    for tool in [
        "create_table",
        "drop_table",
        "add_columns",
        "drop_columns",
        "create_index",
        "optimize",
        "restore",
    ] {
        ok(
            &s,
            "dataset",
            tool,
            json!({"table": "owned", "name": "owned"}),
        );
        no(
            &s,
            "dataset",
            tool,
            json!({"table": "rw", "name": "rw"}),
            "may not alter table `rw`",
        );
    }
    // create_table's start chunk and drop_table name the table `name`.
    ok(
        &s,
        "dataset",
        "create_table",
        json!({"kind": "start", "name": "owned", "mode": "create"}),
    );
    // drop_index names the index `name` and the table `table`.
    ok(
        &s,
        "dataset",
        "drop_index",
        json!({"table": "owned", "name": "idx"}),
    );
    no(
        &s,
        "dataset",
        "rename_table",
        json!({"name": "owned", "new_name": "ro"}),
        "alter table `ro`",
    );
    no(
        &s,
        "dataset",
        "vacuum",
        json!({"table": "owned"}),
        "not a tool roomdeck knows",
    );
    for tool in [
        "execute_sql",
        "open_sql_query",
        "execute_sql_statement",
        "read_sql_query",
        "close_sql_query",
        "cancel_sql_query",
    ] {
        ok(&s, "dataset", tool, json!({"query": "select 1"}));
    }
    // Namespaces must match.
    ok(
        &s,
        "dataset",
        "drop_table",
        json!({"name": "ns_t", "namespace": ["team"]}),
    );
    no(
        &s,
        "dataset",
        "drop_table",
        json!({"name": "ns_t", "namespace": null}),
        "alter table `ns_t`",
    );
    no(
        &s,
        "dataset",
        "drop_table",
        json!({"name": "ns_t", "namespace": "team"}),
        "not a list",
    );
    no(
        &s,
        "dataset",
        "delete_branch",
        json!({"branch": "b"}),
        "limited to some tables",
    );
    no(&s, "dataset", "insert", Value::Null, "names no table");

    let all = ApiScope::agent_default();
    ok(&all, "dataset", "list_tables", json!({}));
    ok(&all, "dataset", "delete_branch", json!({"branch": "b"}));
    ok(
        &all,
        "dataset",
        "rename_table",
        json!({"name": "a", "new_name": "b"}),
    );
}

#[test]
fn sqlite() {
    let s = scope(
        json!({"sqlite": {"create_database": false, "list_databases": false, "databases": [
            {"name": "app", "tables": [{"database": "app", "table": "users", "write": true}]},
            {"name": "scratch", "drop": true, "execute": false, "create_table": false, "list_tables": false}
        ]}}),
    );
    no(
        &s,
        "sqlite",
        "list_databases",
        json!({}),
        "`list_databases`",
    );
    no(
        &s,
        "sqlite",
        "create_database",
        json!({"name": "n"}),
        "`create_database`",
    );
    ok(&s, "sqlite", "drop_database", json!({"name": "scratch"}));
    no(
        &s,
        "sqlite",
        "drop_database",
        json!({"name": "app"}),
        "may not drop sqlite database `app`",
    );
    ok(&s, "sqlite", "inspect_database", json!({"name": "app"}));
    no(
        &s,
        "sqlite",
        "inspect_database",
        json!({"name": "other"}),
        "inspect",
    );
    ok(&s, "sqlite", "list_tables", json!({"database": "app"}));
    no(
        &s,
        "sqlite",
        "list_tables",
        json!({"database": "scratch"}),
        "list the tables",
    );
    ok(
        &s,
        "sqlite",
        "create_table",
        json!({"kind": "start", "database": "app", "name": "t"}),
    );
    no(
        &s,
        "sqlite",
        "create_table",
        json!({"database": "scratch", "name": "t"}),
        "create tables",
    );
    ok(
        &s,
        "sqlite",
        "execute_sql",
        json!({"database": "app", "query": "select 1"}),
    );
    no(
        &s,
        "sqlite",
        "execute_sql_batch",
        json!({"database": "scratch"}),
        "run SQL",
    );
    ok(
        &s,
        "sqlite",
        "insert",
        json!({"kind": "start", "database": "app", "table": "users"}),
    );
    ok(
        &s,
        "sqlite",
        "search",
        json!({"database": "app", "table": "users"}),
    );
    no(
        &s,
        "sqlite",
        "search",
        json!({"database": "app", "table": "orders"}),
        "read table `orders`",
    );
    no(
        &s,
        "sqlite",
        "drop_table",
        json!({"database": "app", "name": "users"}),
        "alter table `users`",
    );
    ok(
        &s,
        "sqlite",
        "drop_table",
        json!({"database": "scratch", "name": "t"}),
    );
    no(
        &s,
        "sqlite",
        "update",
        json!({"table": "users"}),
        "names no database",
    );
    ok(&s, "sqlite", "close_sql_query", json!({"query_id": "q"}));
}

#[test]
fn sqlite_backup_and_restore_need_every_table() {
    let s = scope(json!({"sqlite": {"create_database": false, "databases": [
        {"name": "app", "tables": [{"database": "app", "table": "users", "read": true}]},
        {"name": "scratch"},
        {"name": "teams", "namespace": ["a"]}
    ]}}));
    let start = |db: &str| json!({"kind": "start", "database": db, "namespace": null});
    ok(&s, "sqlite", "backup", start("scratch"));
    no(&s, "sqlite", "backup", start("app"), "every table");
    no(&s, "sqlite", "backup", start("other"), "back up");
    ok(
        &s,
        "sqlite",
        "backup",
        json!({"kind": "start", "database": "teams", "namespace": ["a"]}),
    );
    no(
        &s,
        "sqlite",
        "backup",
        json!({"kind": "start", "database": "teams", "namespace": ["b"]}),
        "back up",
    );
    no(
        &s,
        "sqlite",
        "backup",
        json!({"kind": "start"}),
        "names no database",
    );
    // A restore creates a database: the create flag first, then every table.
    no(
        &s,
        "sqlite",
        "restore",
        start("scratch"),
        "`create_database`",
    );
    let creator = scope(json!({"sqlite": {"databases": [
        {"name": "app", "tables": [{"database": "app", "table": "users", "write": true}]},
        {"name": "scratch"}
    ]}}));
    ok(&creator, "sqlite", "restore", start("scratch"));
    no(&creator, "sqlite", "restore", start("app"), "restore");
    no(&creator, "sqlite", "restore", start("new"), "restore");
    ok(
        &scope(json!({"sqlite": {}})),
        "sqlite",
        "restore",
        start("new"),
    );
}

#[test]
fn sync() {
    let s = scope(
        json!({"sync": {"paths": [{"path": "docs/*", "read_only": true}, {"path": "notes/*"}]}}),
    );
    ok(
        &s,
        "sync",
        "open",
        json!({"kind": "start", "path": "docs/a.thread", "create": true}),
    );
    ok(&s, "sync", "describe", json!({"path": "/docs/a"}));
    no(
        &s,
        "sync",
        "create",
        json!({"path": "docs/a"}),
        "does not allow write on `docs/a`",
    );
    ok(&s, "sync", "create", json!({"path": "./notes/b"}));
    no(
        &s,
        "sync",
        "open",
        json!({"path": "other"}),
        "read on `other`",
    );
    no(
        &s,
        "sync",
        "open",
        json!({"path": "docs/../secret"}),
        "may not contain `..`",
    );
}

#[test]
fn developer_services_secrets_livekit() {
    let s = scope(
        json!({"developer": {"logs": false}, "services": {"list": false}, "secrets": {}, "livekit": {"breakout_rooms": ["side"]}}),
    );
    no(&s, "developer", "logs", Value::Null, "`logs`");
    for tool in ["log", "info", "warning", "error"] {
        ok(&s, "developer", tool, json!({"message": "m"}));
    }
    no(&s, "services", "list", json!({}), "`list`");
    ok(&s, "services", "restart", json!({"service_id": "s"}));
    ok(&s, "secrets", "get_secret", json!({}));
    ok(&s, "livekit", "connect", json!({"breakout_room": null}));
    ok(&s, "livekit", "connect", json!({"breakout_room": "side"}));
    no(
        &s,
        "livekit",
        "connect",
        json!({"breakout_room": "main"}),
        "breakout room `main`",
    );
    // `full` has no secrets grant, like the SDK's.
    no(
        &ApiScope::full(),
        "secrets",
        "get_secret",
        json!({}),
        "no `secrets` grant",
    );
}

#[test]
fn memory() {
    let s = scope(
        json!({"memory": {"list": false, "memories": [{"name": "kb", "permissions": {"drop": false}}]},
                         "storage": {"paths": [{"path": "docs"}]}, "dataset": {"tables": [{"name": "facts"}]}}),
    );
    no(&s, "memory", "list", json!({}), "`list`");
    ok(
        &s,
        "memory",
        "query",
        json!({"name": "kb", "statement": "MATCH (n) RETURN n"}),
    );
    no(
        &s,
        "memory",
        "drop",
        json!({"name": "kb"}),
        "may not `drop` memory `kb`",
    );
    no(
        &s,
        "memory",
        "recall",
        json!({"name": "other", "query": "q"}),
        "`recall` memory `other`",
    );
    ok(
        &s,
        "memory",
        "ingest_from_storage",
        json!({"name": "kb", "paths": ["docs/a.md"]}),
    );
    no(
        &s,
        "memory",
        "ingest_from_storage",
        json!({"name": "kb", "paths": ["docs/a.md", "etc/x"]}),
        "`read` on `etc/x`",
    );
    no(
        &s,
        "memory",
        "ingest_file",
        json!({"name": "kb", "path": "etc/x"}),
        "`read`",
    );
    ok(
        &s,
        "memory",
        "ingest_file",
        json!({"name": "kb", "text": "inline"}),
    );
    ok(
        &s,
        "memory",
        "ingest_from_table",
        json!({"name": "kb", "table": "facts"}),
    );
    no(
        &s,
        "memory",
        "ingest_from_table",
        json!({"name": "kb", "table": "salaries"}),
        "read table `salaries`",
    );
    ok(
        &s,
        "memory",
        "upsert_nodes",
        json!({"name": "kb", "records": []}),
    );
}

#[test]
fn containers_and_mounts() {
    let s =
        scope(json!({"containers": {"logs": false, "pull": ["docker.io/*"], "run": ["busybox"]}}));
    ok(
        &s,
        "containers",
        "pull_image",
        json!({"tag": "docker.io/redis"}),
    );
    no(
        &s,
        "containers",
        "pull_image",
        json!({"tag": "ghcr.io/x"}),
        "pull image `ghcr.io/x`",
    );
    ok(&s, "containers", "run", json!({"image": "busybox"}));
    no(
        &s,
        "containers",
        "run",
        json!({"image": "alpine"}),
        "run image `alpine`",
    );
    no(&s, "containers", "logs", Value::Null, "`logs`");
    ok(&s, "containers", "list_containers", json!({"all": true}));
    ok(&s, "mounts", "list", json!({}));
    let off = scope(json!({"containers": {"use_containers": false}}));
    no(
        &off,
        "containers",
        "list_images",
        json!({}),
        "`use_containers`",
    );
    ok(&off, "containers", "logs", Value::Null);
}

#[test]
fn hosted_toolkits_and_registration() {
    let s = scope(
        json!({"agents": {"allowed_toolkits": ["weather"], "register_public_toolkit": false}}),
    );
    ok(&s, "weather", "forecast", json!({"city": "Oslo"}));
    no(
        &s,
        "search",
        "web",
        json!({}),
        "does not list toolkit `search`",
    );
    no(
        &scope(json!({"agents": {"use_tools": false}})),
        "weather",
        "forecast",
        json!({}),
        "`use_tools`",
    );
    no(
        &scope(json!({"queues": {}})),
        "weather",
        "forecast",
        json!({}),
        "no `agents` grant",
    );
    assert!(authorize_register_toolkit(Some(&s), true).is_err());
    assert!(authorize_register_toolkit(Some(&s), false).is_ok());
    assert!(authorize_register_toolkit(None, false).is_err());
}
