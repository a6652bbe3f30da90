//! The memory toolkit through the Rust client: ingest and recall, upserts and queries,
//! persistence across a restart, grants.

use crate::common;

use common::*;
use roomdeck::auth::ApiScope;
use roomdeck::client::memory::Records;
use serde_json::json;

const TEXT: &str = "The mitochondria is the powerhouse of the cell. \
    Paris is the capital city of France and sits on the Seine. \
    Rust programs are memory safe without a garbage collector. \
    Ada Lovelace wrote the first published program for the Analytical Engine.";

#[tokio::test]
async fn ingest_then_recall_ranks_the_relevant_chunk_first() {
    let s = TestServer::start().await;
    let c = s.join("mem", "alice").await;
    let memory = c.memory();
    memory.create("kb", &[], false, false).await.unwrap();
    let ingested = memory.ingest_text("kb", &[], TEXT).await.unwrap();
    assert_eq!(ingested.name, "kb");
    assert_eq!(ingested.stats.sources, 1);
    assert!(ingested.stats.entities >= 4, "{ingested:?}");
    assert!(ingested.stats.relationships >= 1, "{ingested:?}");

    let r = memory
        .recall("kb", &[], "Which city is the capital of France?", 3, true)
        .await
        .unwrap();
    assert_eq!(r.query, "Which city is the capital of France?");
    let first = &r.items[0];
    assert_eq!(first.entity_type, "MEMORY", "{r:?}");
    assert!(
        first
            .context
            .as_deref()
            .unwrap_or("")
            .contains("capital city of France"),
        "{r:?}"
    );
    assert!(r.items.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(
        first
            .relationships
            .iter()
            .any(|rel| rel.relationship_type == "MENTIONS")
    );

    let r = memory
        .recall("kb", &[], "garbage collector", 1, false)
        .await
        .unwrap();
    assert_eq!(r.items.len(), 1);
    assert!(
        r.items[0]
            .context
            .as_deref()
            .unwrap()
            .starts_with("Rust programs")
    );
    assert!(r.items[0].relationships.is_empty());

    let details = memory.inspect("kb", &[]).await.unwrap();
    assert_eq!(details.path, "memory/kb");
    assert_eq!(details.datasets[0].name, "Entity");
    assert_eq!(details.datasets[0].rows, ingested.stats.entities);
}

#[tokio::test]
async fn upsert_nodes_and_relationships_then_query() {
    let s = TestServer::start().await;
    let c = s.join("mem", "alice").await;
    let memory = c.memory();
    let ns = vec!["team".to_string()];
    memory.create("graph", &ns, false, false).await.unwrap();
    memory
        .upsert(
            Records::Nodes,
            "graph",
            &ns,
            &[
                json!({"entity_id": "ada", "name": "Ada Lovelace", "entity_type": "Person", "metadata": {"born": "1815"}}),
                json!({"entity_id": "charles", "name": "Charles Babbage", "entity_type": "Person"}),
                json!({"entity_id": "engine", "name": "Analytical Engine", "entity_type": "Machine"}),
            ],
            true,
        )
        .await
        .unwrap();
    memory
        .upsert(
            Records::Relationships,
            "graph",
            &ns,
            &[
                json!({"source_entity_id": "ada", "target_entity_id": "engine", "relationship_type": "PROGRAMMED"}),
                json!({"source_entity_id": "charles", "target_entity_id": "engine", "relationship_type": "DESIGNED"}),
            ],
            true,
        )
        .await
        .unwrap();
    assert_eq!(memory.list(&ns).await.unwrap(), vec!["graph"]);
    assert!(memory.list(&[]).await.unwrap().is_empty());

    let rows = memory
        .query(
            "graph",
            &ns,
            "MATCH (n:Person {name: 'Ada Lovelace'}) RETURN n.entity_id AS id, n.born",
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![
            json!({"id": "ada", "n.born": "1815"})
                .as_object()
                .unwrap()
                .clone()
        ]
    );

    let rows = memory
        .query(
            "graph",
            &ns,
            "MATCH (a)-[r]->(b:Machine) WHERE a.name STARTS WITH 'C' RETURN a, r, b.name",
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["a"]["entity_id"], json!("charles"));
    assert_eq!(rows[0]["r"]["relationship_type"], json!("DESIGNED"));
    assert_eq!(rows[0]["r"]["source_entity_name"], json!("Charles Babbage"));
    assert_eq!(rows[0]["b.name"], json!("Analytical Engine"));

    let counted = memory
        .query("graph", &ns, "MATCH (n:Entity) RETURN count(*) AS n")
        .await
        .unwrap();
    assert_eq!(counted[0]["n"], json!(3));

    let bad = memory
        .query("graph", &ns, "MATCH (n) SET n.x = 1 RETURN n")
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Some(1002), "{bad}");
    assert!(bad.to_string().contains("`SET` is not supported"), "{bad}");

    let (entities, rels) = memory
        .delete_entities("graph", &ns, &["engine".into()])
        .await
        .unwrap();
    assert_eq!((entities, rels), (1, 2));

    let missing = memory
        .query("graph", &[], "MATCH (n) RETURN n")
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some(2001), "{missing}");
    let dup = memory.create("graph", &ns, false, false).await.unwrap_err();
    assert_eq!(dup.code(), Some(2002), "{dup}");
    memory.create("graph", &ns, false, true).await.unwrap();
    memory.drop("graph", &ns, false).await.unwrap();
    assert_eq!(
        memory.drop("graph", &ns, false).await.unwrap_err().code(),
        Some(2001)
    );
    memory.drop("graph", &ns, true).await.unwrap();
}

#[tokio::test]
async fn memories_survive_a_server_restart() {
    let mut s = TestServer::start().await;
    {
        let c = s.join("mem", "alice").await;
        c.memory().create("kb", &[], false, false).await.unwrap();
        c.memory().ingest_text("kb", &[], TEXT).await.unwrap();
        c.close().await;
    }
    s.restart().await;
    let c = s.join("mem", "bob").await;
    assert_eq!(c.memory().list(&[]).await.unwrap(), vec!["kb"]);
    let r = c
        .memory()
        .recall("kb", &[], "powerhouse of the cell", 1, true)
        .await
        .unwrap();
    assert!(
        r.items[0]
            .context
            .as_deref()
            .unwrap()
            .contains("mitochondria")
    );
    c.memory().optimize("kb", &[]).await.unwrap();
    let rows = c
        .memory()
        .query("kb", &[], "MATCH (n:MEMORY) RETURN count(n) AS chunks")
        .await
        .unwrap();
    assert_eq!(rows[0]["chunks"], json!(4));
}

#[tokio::test]
async fn files_of_the_room_can_be_ingested() {
    let s = TestServer::start().await;
    let c = s.join("mem", "alice").await;
    // The room's storage is its `files/` folder.
    let notes = s.dir.path().join("rooms/mem/files/notes");
    std::fs::create_dir_all(&notes).unwrap();
    std::fs::write(
        notes.join("trip.txt"),
        "We visited Kyoto in April. The temples were quiet.",
    )
    .unwrap();
    c.memory().create("kb", &[], false, false).await.unwrap();
    let r = c
        .memory()
        .ingest_from_storage("kb", &[], &["notes/trip.txt".into()])
        .await
        .unwrap();
    assert_eq!(r.stats.sources, 1);
    let recalled = c
        .memory()
        .recall("kb", &[], "Kyoto", 5, false)
        .await
        .unwrap();
    assert!(
        recalled
            .items
            .iter()
            .any(|i| i.name == "Kyoto" && i.entity_type == "CONCEPT")
    );
    let missing = c
        .memory()
        .ingest_from_storage("kb", &[], &["nope.txt".into()])
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some(3001), "{missing}");
}

#[tokio::test]
async fn a_scope_without_memory_is_refused() {
    let s = TestServer::start().await;
    let owner = s.join("mem", "owner").await;
    owner
        .memory()
        .create("kb", &[], false, false)
        .await
        .unwrap();

    let mut scope = ApiScope::agent_default();
    scope.memory = None;
    let c = s.join_with("mem", "nomem", scope).await;
    for err in [
        c.memory().list(&[]).await.unwrap_err(),
        c.memory()
            .recall("kb", &[], "anything", 5, true)
            .await
            .unwrap_err(),
        c.memory()
            .create("other", &[], false, false)
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), Some(1001), "{err}");
    }

    // A grant for one memory, read-only.
    let scope: ApiScope = serde_json::from_value(json!({
        "memory": {"memories": [{"name": "kb", "permissions": {"upsert": false, "ingest": false, "drop": false}}]}
    }))
    .unwrap();
    let c = s.join_with("mem", "reader", scope).await;
    c.memory()
        .recall("kb", &[], "anything", 5, true)
        .await
        .unwrap();
    let denied = c
        .memory()
        .ingest_text("kb", &[], "Hello there.")
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Some(1001), "{denied}");
    let denied = c.memory().inspect("other", &[]).await.unwrap_err();
    assert_eq!(denied.code(), Some(1001), "{denied}");
}
