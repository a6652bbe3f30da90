use serde_json::{Value, json};

use super::*;

fn scope(v: Value) -> ApiScope {
    serde_json::from_value(v).unwrap()
}

fn dump(s: &ApiScope) -> Value {
    serde_json::to_value(s).unwrap()
}

#[test]
fn presets_serialize_like_the_sdk() {
    let all = [
        "livekit",
        "queues",
        "messaging",
        "dataset",
        "sqlite",
        "memory",
        "sync",
        "storage",
        "containers",
        "developer",
        "agents",
        "llm",
        "services",
    ];
    let empty =
        |keys: &[&str]| Value::Object(keys.iter().map(|k| (k.to_string(), json!({}))).collect());
    assert_eq!(dump(&ApiScope::agent_default()), empty(&all));
    let user: Vec<&str> = all.iter().copied().filter(|k| *k != "llm").collect();
    assert_eq!(dump(&ApiScope::user_default()), empty(&user));
    let full: Vec<&str> = all.iter().copied().chain(["admin", "tunnels"]).collect();
    assert_eq!(dump(&ApiScope::full()), empty(&full));
    assert_eq!(dump(&ApiScope::default()), json!({}));
}

#[test]
fn absent_is_none_and_empty_is_defaults() {
    let s = scope(json!({"queues": {}, "storage": null}));
    assert_eq!(s.queues, Some(QueuesGrant::default()));
    assert!(s.queues.as_ref().unwrap().list);
    assert!(s.storage.is_none() && s.messaging.is_none());
    let m = scope(json!({"messaging": {}})).messaging.unwrap();
    assert!(m.send && m.broadcast && m.list);
    let c = scope(json!({"containers": {}})).containers.unwrap();
    assert!(c.logs && c.use_containers);
}

#[test]
fn non_defaults_round_trip_and_defaults_are_dropped() {
    let v = json!({
        "queues": {"send": ["a"], "list": false},
        "memory": {"memories": [{"name": "m", "permissions": {"drop": false}}]},
        "dataset": {"tables": [{"name": "t", "write": true}]},
        "storage": {"files": {"paths": [{"path": "a", "recursive": true, "actions": ["read"]}]}},
    });
    let s = scope(v.clone());
    assert_eq!(dump(&s), v);
    // Spelled-out defaults come back out as `{}`, as pydantic's exclude_defaults does.
    let explicit = scope(json!({
        "queues": {"list": true, "send": null},
        "memory": {"memories": [{"name": "m", "permissions": {"create": true}}]},
        "storage": {"files": {"paths": []}},
    }));
    assert_eq!(
        dump(&explicit),
        json!({"queues": {}, "memory": {"memories": [{"name": "m"}]}, "storage": {"files": {}}})
    );
}

#[test]
fn dataset_aliases() {
    let t = |v: Value| scope(v).dataset;
    assert!(t(json!({"database": {}})).is_some());
    assert!(t(json!({"datasets": {"list_tables": false}})).is_some_and(|d| !d.list_tables));
    // The first spelling present wins, even when it is null (pydantic AliasChoices).
    assert!(t(json!({"dataset": null, "database": {}})).is_none());
    assert!(
        t(json!({"database": {"list_tables": false}, "datasets": {}}))
            .is_some_and(|d| !d.list_tables)
    );
    // Written back under the canonical name.
    assert_eq!(
        dump(&scope(json!({"database": {}}))),
        json!({"dataset": {}})
    );
}

#[test]
fn unknown_keys_ignored_except_where_the_sdk_forbids_them() {
    let s = scope(json!({"queues": {"future": 1}, "newapi": {}}));
    assert_eq!(s.queues, Some(QueuesGrant::default()));
    let bad = [
        json!({"secrets": {"x": 1}}),
        json!({"storage": {"files": {"paths": [], "extra": 1}}}),
        json!({"storage": {"files": {"paths": [{"path": "a", "recursive": true, "actions": [], "x": 1}]}}}),
        json!({"storage": {"files": {"paths": [{"path": "/abs", "recursive": true, "actions": []}]}}}),
        json!({"storage": {"files": {"paths": [{"path": "a", "recursive": true, "actions": ["fly"]}]}}}),
        json!({"storage": {"files": {"paths": [{"path": "a", "actions": []}]}}}),
        json!({"dataset": {"tables": [{"read": true}]}}),
        json!({"queues": {"list": null}}),
        json!({"queues": []}),
        json!({"database": []}),
        json!({"memory": {"memories": [{"name": "m", "permissions": []}]}}),
        json!({"memory": {"memories": [{"name": "m", "permissions": null}]}}),
        json!({"containers": {"registry": [["a"]]}}),
        json!({"storage": {"files": []}}),
    ];
    for v in bad {
        assert!(
            serde_json::from_value::<ApiScope>(v.clone()).is_err(),
            "{v}"
        );
    }
}

#[test]
fn file_paths_are_validated_like_the_sdk() {
    for ok in ["", "a", "a/b.txt", "a/.hidden", "a..b"] {
        assert!(validate_file_path(ok).is_ok(), "{ok}");
    }
    for bad in [
        "/a",
        "a/",
        "a//b",
        "./a",
        "a/../b",
        "..",
        "a\\b",
        "a\u{7}",
        "a\u{85}",
        ".meshagent-directory",
        "x/.meshagent-upload-3",
    ] {
        assert!(validate_file_path(bad).is_err(), "{bad:?}");
    }
    assert_eq!(storage_request_path("./././a/b/").unwrap(), "a/b");
    assert_eq!(storage_request_path("/").unwrap(), "");
    assert_eq!(storage_request_path(".").unwrap(), "");
    assert!(storage_request_path("a/../b").is_err());
}

/// Every storage answer agrees with the SDK's (`storage_matrix.py` made the expectations).
#[test]
fn storage_matches_the_sdk_matrix() {
    let m: Value = serde_json::from_str(include_str!("storage_matrix.json")).unwrap();
    let grants = m["grants"].as_array().unwrap();
    let paths = m["paths"].as_array().unwrap();
    let rows = m["rows"].as_array().unwrap();
    let actions = [
        FileAction::List,
        FileAction::Read,
        FileAction::Write,
        FileAction::Delete,
        FileAction::Presign,
    ];
    let mut row = rows.iter();
    for g in grants {
        let grant: StorageGrant = serde_json::from_value(g.clone()).unwrap();
        for p in paths {
            let p = p.as_str().unwrap();
            let mut ours = String::new();
            for subtree in [false, true] {
                for a in actions {
                    ours.push(if grant.allows(a, p, subtree) {
                        '1'
                    } else {
                        '0'
                    });
                }
            }
            ours.push(if grant.can_list_directory(p) {
                '1'
            } else {
                '0'
            });
            let expected = row.next().unwrap().as_str().unwrap();
            assert_eq!(ours, expected, "grant {g} path {p:?}");
        }
    }
    assert!(row.next().is_none());
}

#[test]
fn legacy_paths_become_ordered_rules() {
    let g: StorageGrant = serde_json::from_value(json!({
        "paths": [{"path": "docs/private", "read_only": true}, {"path": "/docs/"}]
    }))
    .unwrap();
    let policy = g.file_policy().unwrap();
    assert_eq!(policy.paths.len(), 2);
    assert_eq!(policy.paths[1].path, "docs");
    assert_eq!(
        policy.paths[1].excluded_paths,
        vec!["docs/private".to_string()]
    );
    // The earlier, read-only prefix decides inside itself.
    assert!(!g.can_write("docs/private/a") && g.can_read("docs/private/a"));
    assert!(g.can_write("docs/a") && g.can_delete("docs/a", false));
    // Deleting all of docs would delete the read-only part too.
    assert!(!g.can_delete("docs", true));
    // Legacy grants never allow presigned URLs.
    assert!(!StorageGrant::default().can_presign("x"));
}

#[test]
fn queues_lists() {
    let q: QueuesGrant = serde_json::from_value(json!({"send": ["jobs"], "receive": []})).unwrap();
    assert!(q.can_send("jobs") && !q.can_send("other"));
    assert!(!q.can_receive("jobs"));
    assert!(QueuesGrant::default().can_receive("anything"));
}

#[test]
fn sync_prefixes_and_first_match_decides_write() {
    let g: SyncGrant = serde_json::from_value(json!({"paths": [
        {"path": "docs/*", "read_only": true},
        {"path": "docs/mine.md"},
        {"path": "*", "read_only": false}
    ]}))
    .unwrap();
    assert!(g.can_read("docs/mine.md"));
    assert!(
        !g.can_write("docs/mine.md"),
        "the earlier read-only prefix matches first"
    );
    assert!(g.can_write("other.md"));
    let exact: SyncGrant = serde_json::from_value(json!({"paths": [{"path": "a.md"}]})).unwrap();
    assert!(exact.can_write("a.md") && !exact.can_read("a.md.x"));
    assert!(SyncGrant::default().can_write("x"));
}

#[test]
fn dataset_tables_and_namespaces() {
    let d: DatasetGrant = serde_json::from_value(json!({"tables": [
        {"name": "t"},
        {"name": "t", "namespace": ["a"], "write": true},
        {"name": "u", "namespace": [], "alter": true}
    ]}))
    .unwrap();
    let a = ["a".to_string()];
    assert!(d.can_read("t", None) && !d.can_write("t", None));
    assert!(
        d.can_write("t", Some(&a)),
        "a namespaced grant adds to the unnamespaced one"
    );
    assert!(d.can_alter("u", None) && d.can_alter("u", Some(&[])) && !d.can_alter("u", Some(&a)));
    assert!(!d.can_access("v", None));
    assert!(DatasetGrant::default().can_alter("anything", Some(&a)));
}

#[test]
fn sqlite_databases_and_tables() {
    let g: SqliteGrant = serde_json::from_value(json!({"databases": [
        {"name": "app", "tables": [{"database": "app", "table": "users", "write": true, "read": false}]},
        {"name": "logs", "drop": true, "execute": false}
    ]}))
    .unwrap();
    assert!(g.can_write("app", "users", None) && !g.can_read("app", "users", None));
    assert!(
        !g.can_read("app", "orders", None),
        "a table list limits the database"
    );
    assert!(
        g.can_alter("logs", "anything", None),
        "no table list = every table"
    );
    assert!(g.can_drop_database("logs", None) && !g.can_drop_database("app", None));
    assert!(!g.can_execute("logs", None) && g.can_execute("app", None));
    assert!(!g.can_inspect_database("nope", None));
    assert!(SqliteGrant::default().can_drop_database("x", None));
}

#[test]
fn memory_permissions() {
    let g: MemoryGrant = serde_json::from_value(json!({"memories": [
        {"name": "kb", "permissions": {"drop": false, "ingest": false}},
        {"name": "kb", "namespace": ["team"], "permissions": {"create": false}}
    ]}))
    .unwrap();
    let team = ["team".to_string()];
    assert!(!g.can_drop("kb", None) && g.can_recall("kb", None));
    assert!(
        g.can_drop("kb", Some(&team)),
        "the namespaced entry allows drop"
    );
    assert!(!g.can_query("other", None));
    assert!(g.can_access_existing("kb", None));
    assert!(MemoryGrant::default().can_optimize("x", None));
}

#[test]
fn containers_patterns() {
    let g: ContainersGrant = serde_json::from_value(json!({
        "pull": ["docker.io/*"], "run": [], "registry": {"pull": ["mine/*"]}
    }))
    .unwrap();
    assert!(g.can_pull("docker.io/x") && !g.can_pull("ghcr.io/x"));
    assert!(!g.can_run("docker.io/x"));
    assert!(g.can_registry_list("mine/a") && !g.can_registry_list("theirs/a"));
    assert!(g.can_registry_write("anything"));
    assert!(ContainersGrant::default().can_registry_list("x"));
}

#[test]
fn llm_and_agents_and_livekit() {
    let llm: LlmGrant =
        serde_json::from_value(json!({"models": [" openai/gpt-4o ", "anthropic/*"]})).unwrap();
    assert!(llm.can_use_model("anthropic", "claude"));
    assert!(
        !llm.can_use_model("openai", "gpt-4o"),
        "patterns are not trimmed when matching"
    );
    assert!(llm.can_use_provider(" openai "));
    assert!(!LlmGrant::default().can_use_model("", "m"));
    let agents: AgentsGrant = serde_json::from_value(json!({"use_tools": false})).unwrap();
    assert!(!agents.can_use_toolkit("any"));
    assert!(LivekitGrant::default().can_join_breakout_room("x"));
}
