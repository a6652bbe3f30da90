use serde_json::{Value, json};

use super::ingest::{chunks, names};
use super::*;

fn memory() -> (tempfile::TempDir, Arc<MemoryDb>) {
    let dir = tempfile::tempdir().unwrap();
    let memories = Memories::new(dir.path());
    let m = MemoryRef::new(vec![], "kb").unwrap();
    memories.create(&m, false, false).unwrap();
    let db = memories.get(&m).unwrap();
    (dir, db)
}

fn entity(id: &str, name: &str, ty: &str) -> EntityRecord {
    EntityRecord {
        entity_id: Some(id.into()),
        name: name.into(),
        entity_type: Some(ty.into()),
        ..Default::default()
    }
}

fn rel(s: &str, t: &str, ty: &str) -> RelationshipRecord {
    serde_json::from_value(
        json!({"source_entity_id": s, "target_entity_id": t, "relationship_type": ty}),
    )
    .unwrap()
}

fn q(db: &MemoryDb, s: &str) -> Vec<Vec<Value>> {
    db.query(s).unwrap_or_else(|e| panic!("{s}: {e}")).rows
}

#[test]
fn stopwords_are_sorted_for_binary_search() {
    assert!(ingest::STOPWORDS.windows(2).all(|w| w[0] < w[1]));
    assert!(ingest::is_stopword("The"));
    assert!(ingest::is_stopword("your"));
    assert!(!ingest::is_stopword("Paris"));
}

#[test]
fn names_and_refs_are_confined() {
    for bad in ["", ".x", "a/b", "..", "a\\b"] {
        assert!(MemoryRef::new(vec![], bad).is_err(), "{bad}");
        assert!(MemoryRef::new(vec![bad.into()], "ok").is_err(), "ns {bad}");
    }
    assert!(MemoryRef::new(vec!["prod".into()], "my memory").is_ok());
}

#[test]
fn create_drop_list_and_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ms = Memories::new(dir.path());
    let a = MemoryRef::new(vec![], "a").unwrap();
    let b = MemoryRef::new(vec!["ns".into()], "b").unwrap();
    ms.create(&a, false, false).unwrap();
    ms.create(&b, false, false).unwrap();
    assert!(matches!(
        ms.create(&a, false, false),
        Err(MemoryError::Exists(_))
    ));
    ms.create(&a, false, true).unwrap();
    assert_eq!(ms.list(&[]).unwrap(), vec!["a"]);
    assert_eq!(ms.list(&["ns".into()]).unwrap(), vec!["b"]);
    ms.get(&a)
        .unwrap()
        .upsert_entities(&[entity("x", "X", "T")], true)
        .unwrap();
    ms.create(&a, true, false).unwrap();
    assert_eq!(
        ms.get(&a).unwrap().datasets().unwrap()[0].rows,
        0,
        "overwrite empties it"
    );
    assert!(ms.drop_memory(&a).unwrap());
    assert!(!ms.drop_memory(&a).unwrap());
    assert!(matches!(ms.get(&a), Err(MemoryError::NotFound(_))));
}

#[test]
fn chunking_and_name_extraction() {
    let text = "Ada Lovelace wrote the first program. It ran on the Analytical Engine!\n\nShort. Paris is the capital of France and home to the Louvre.";
    let c = chunks(text);
    assert_eq!(c.len(), 3, "{c:?}");
    assert!(
        c[2].starts_with("Short. Paris"),
        "a short sentence joins the next: {c:?}"
    );
    assert_eq!(names(&c[0]), vec!["Ada Lovelace"]);
    assert_eq!(names(&c[1]), vec!["Analytical Engine"]);
    assert_eq!(names(&c[2]), vec!["Short", "Paris", "France", "Louvre"]);
    let long = "word ".repeat(600);
    assert!(chunks(&long).iter().all(|c| c.len() <= 1000));
}

#[test]
fn ingest_then_recall_ranks_the_relevant_chunk_first() {
    let (_d, db) = memory();
    let r = db
        .ingest_text(
            "The mitochondria is the powerhouse of the cell. Paris is the capital city of France. \
             Rust programs are memory safe without a garbage collector.",
            &ingest::SourceInfo {
                kind: "text",
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(r.sources, 1);
    assert!(r.entity_ids.len() >= 4, "{r:?}");
    let items = db
        .recall("what is the capital of France?", 5, true)
        .unwrap();
    assert_eq!(items[0].entity_type, "MEMORY", "{items:?}");
    assert!(
        items[0]
            .context
            .as_deref()
            .unwrap()
            .contains("capital city of France")
    );
    assert!(items[0].score > 0.0);
    assert!(items.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(
        items[0]
            .relationships
            .iter()
            .any(|r| r.relationship_type == "MENTIONS"),
        "{items:?}"
    );
    assert!(db.recall("", 5, true).unwrap().is_empty());
    assert!(db.recall("x", 0, true).is_err());
    // Ingesting the same text again merges.
    let again = db
        .ingest_text(
            "Paris is the capital city of France.",
            &ingest::SourceInfo {
                kind: "text",
                ..Default::default()
            },
        )
        .unwrap();
    assert!(r.entity_ids.contains(&again.entity_ids[0]));
}

#[test]
fn upserts_merge_or_replace() {
    let (_d, db) = memory();
    let mut ada = entity("ada", "Ada", "Person");
    ada.context = Some("mathematician".into());
    ada.metadata = Some(json!({"born": "1815"}).as_object().unwrap().clone());
    db.upsert_entities(&[ada], true).unwrap();
    db.upsert_entities(&[entity("ada", "Ada Lovelace", "Person")], true)
        .unwrap();
    let rows = q(&db, "MATCH (n:Person) RETURN n.name, n.context, n.born");
    assert_eq!(
        rows,
        vec![vec![
            json!("Ada Lovelace"),
            json!("mathematician"),
            json!("1815")
        ]]
    );
    db.upsert_entities(&[entity("ada", "Ada", "Person")], false)
        .unwrap();
    let rows = q(
        &db,
        "MATCH (n {entity_id: 'ada'}) RETURN n.context, n.created_at IS NOT NULL AS stamped",
    );
    assert_eq!(rows, vec![vec![Value::Null, json!(true)]]);
    // An entity without an id gets a stable one from its name and type.
    let ids = db
        .upsert_entities(
            &[EntityRecord {
                name: "Bob".into(),
                ..Default::default()
            }],
            true,
        )
        .unwrap();
    let again = db
        .upsert_entities(
            &[EntityRecord {
                name: "bob".into(),
                ..Default::default()
            }],
            true,
        )
        .unwrap();
    assert_eq!(ids, again);
    assert!(db.upsert_entities(&[entity("x", " ", "T")], true).is_err());
}

#[test]
fn cypher_subset() {
    let (_d, db) = memory();
    db.upsert_entities(
        &[
            entity("ada", "Ada", "Person"),
            entity("charles", "Charles", "Person"),
            entity("engine", "Analytical Engine", "Machine"),
        ],
        true,
    )
    .unwrap();
    db.upsert_relationships(
        &[
            rel("ada", "engine", "PROGRAMMED"),
            rel("charles", "engine", "DESIGNED"),
            rel("ada", "charles", "KNEW"),
        ],
        true,
    )
    .unwrap();
    assert_eq!(
        q(&db, "MATCH (n:Person) RETURN n.name ORDER BY n.name DESC"),
        vec![vec![json!("Charles")], vec![json!("Ada")]]
    );
    assert_eq!(
        q(
            &db,
            "match (a)-[r:PROGRAMMED|DESIGNED]->(b:Machine) return a.name as who, type(r) order by who"
        ),
        vec![
            vec![json!("Ada"), json!("PROGRAMMED")],
            vec![json!("Charles"), json!("DESIGNED")]
        ]
    );
    assert_eq!(
        q(
            &db,
            "MATCH (b)<-[r]-(a {name: 'Ada'}) RETURN b.name ORDER BY b.name"
        ),
        vec![vec![json!("Analytical Engine")], vec![json!("Charles")]]
    );
    assert_eq!(
        q(
            &db,
            "MATCH (e:Entity) WHERE e.entity_type = 'Person' AND NOT e.name STARTS WITH 'C' RETURN e.entity_id"
        ),
        vec![vec![json!("ada")]]
    );
    assert_eq!(
        q(
            &db,
            "MATCH (r:RELATIONSHIP) WHERE (r.source_entity_id = 'ada' OR r.target_entity_id = 'ada') RETURN r.relationship_type AS t, r.source_entity_name ORDER BY t LIMIT 1"
        ),
        vec![vec![json!("KNEW"), json!("Ada")]]
    );
    assert_eq!(
        q(
            &db,
            "MATCH (n) RETURN n.entity_type AS t, count(*) AS n ORDER BY t"
        ),
        vec![
            vec![json!("Machine"), json!(1)],
            vec![json!("Person"), json!(2)]
        ]
    );
    assert_eq!(
        q(&db, "MATCH (n:Nothing) RETURN count(n)"),
        vec![vec![json!(0)]]
    );
    assert_eq!(
        q(
            &db,
            "MATCH (n) WHERE n.name IN ['Ada', 'Zed'] RETURN labels(n), id(n)"
        ),
        vec![vec![json!(["Entity", "Person"]), json!("ada")]]
    );
    assert_eq!(
        q(
            &db,
            "MATCH (n:Person) RETURN n.name ORDER BY n.name SKIP 1 LIMIT 5"
        ),
        vec![vec![json!("Charles")]]
    );
    let whole = q(&db, "MATCH (n {entity_id: 'ada'}) RETURN n");
    assert_eq!(whole[0][0]["name"], json!("Ada"));
    assert_eq!(
        cypher::encode_value(json!({"a": [1, {"b": null}]})),
        json!({"struct": {"a": {"list": [1, {"struct": {"b": null}}]}}})
    );

    let cases: Vec<(String, &str)> = vec![
        (
            "CREATE (n:Person {name: 'x'})".to_string(),
            "`CREATE` is not supported",
        ),
        (
            "MATCH (n) DELETE n".to_string(),
            "`DELETE` is not supported",
        ),
        (
            "MATCH (a)-[r*1..3]->(b) RETURN a".to_string(),
            "variable-length",
        ),
        (
            "MATCH (a)-[r]->(b)-[s]->(c) RETURN a".to_string(),
            "more than one relationship",
        ),
        (
            "MATCH (n) RETURN n.name LIMIT -1".to_string(),
            "whole number",
        ),
        (
            "MATCH (n) RETURN nope.name".to_string(),
            "`nope` is not defined",
        ),
        (
            "MATCH (n) WHERE n.name = $name RETURN n".to_string(),
            "parameters",
        ),
        (
            "MATCH (n) RETURN avg(n.confidence)".to_string(),
            "`avg` is not supported",
        ),
        ("RETURN 1".to_string(), "starts with MATCH"),
        ("MATCH (n RETURN n".to_string(), "expected `)`"),
        ("MATCH (n) RETURN 'unclosed".to_string(), "not closed"),
        (
            format!(
                "MATCH (n) WHERE {}1{} RETURN n",
                "(".repeat(5000),
                ")".repeat(5000)
            ),
            "nests more than",
        ),
        (
            format!(
                "MATCH (n) WHERE {} RETURN n",
                vec!["n.a = 1"; 5000].join(" AND ")
            ),
            "nests more than",
        ),
        (
            format!("MATCH (n) WHERE {}true RETURN n", "NOT ".repeat(5000)),
            "nests more than",
        ),
        (
            format!("MATCH (n) RETURN {}1{}", "[".repeat(5000), "]".repeat(5000)),
            "nests more than",
        ),
    ];
    for (bad, says) in cases {
        match db.query(&bad) {
            Err(MemoryError::Invalid(m)) => assert!(m.contains(says), "{bad}: {m}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn tables_and_deletes_and_inspect() {
    let (_d, db) = memory();
    db.upsert_table(
        "notes",
        vec![
            json!({"id": 1, "text": "hello", "when": {"timestamp": "2026-01-01T00:00:00Z"}}),
            json!({"text": "no id"}),
        ],
        true,
    )
    .unwrap();
    db.upsert_table("notes", vec![json!({"id": 1, "tag": "x"})], true)
        .unwrap();
    assert_eq!(
        q(
            &db,
            "MATCH (t:notes) WHERE t.id = 1 RETURN t.text, t.tag, t.when"
        ),
        vec![vec![
            json!("hello"),
            json!("x"),
            json!("2026-01-01T00:00:00Z")
        ]]
    );
    assert!(db.upsert_table("Entity", vec![json!({})], true).is_err());
    db.upsert_entities(&[entity("a", "A", "T"), entity("b", "B", "T")], true)
        .unwrap();
    db.upsert_relationships(&[rel("a", "b", "X"), rel("a", "b", "Y")], true)
        .unwrap();
    assert_eq!(
        db.delete_relationships(&[RelationshipSelector {
            source_entity_id: "a".into(),
            target_entity_id: "b".into(),
            relationship_type: Some("X".into()),
        }])
        .unwrap(),
        1
    );
    assert_eq!(
        db.delete_entities(&["a".into(), "zzz".into()]).unwrap(),
        (1, 1)
    );
    let ds = db.datasets().unwrap();
    let names: Vec<&str> = ds.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec!["Entity", "RELATIONSHIP", "Source", "notes"]);
    assert_eq!(ds[0].rows, 1);
    assert_eq!(ds[3].columns, vec!["id", "tag", "text", "when"]);
    db.optimize(true, true).unwrap();
    assert!(db.recall("B", 5, false).unwrap()[0].name == "B");
}

proptest::proptest! {
    /// Whatever the statement, a query answers (rows or an error); it never panics.
    #[test]
    fn queries_never_panic(
        parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "MATCH", "(", ")", "n", ":", "Person", "{", "}", "name", "'x'", "-", "->", "<-",
                "[", "]", "r", "WHERE", "RETURN", "AND", "OR", "NOT", "=", "<>", "1", "2.5",
                "count", "*", ",", ".", "ORDER", "BY", "DESC", "LIMIT", "SKIP", "IN", "IS",
                "NULL", "DISTINCT", "AS", "type", "STARTS", "WITH", "\"", "`", "$p", "|",
            ]),
            0..40,
        )
    ) {
        let (_d, db) = memory();
        db.upsert_entities(&[entity("x", "x", "Person")], true).unwrap();
        db.upsert_relationships(&[rel("x", "x", "R")], true).unwrap();
        let _ = db.query(&parts.join(" "));
    }
}
