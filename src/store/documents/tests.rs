use super::*;
use serde_json::json;
use yrs::updates::encoder::Encode;
use yrs::{Xml, XmlElementPrelim, XmlFragment};

fn schema() -> Schema {
    Schema::parse(&json!({
        "$root_tag_ref": "#/$defs/doc",
        "type": "object",
        "$defs": {
            "doc": {"type": "object", "properties": {"doc": {"type": "object", "properties": {
                "items": {"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/item"}, {"$ref": "#/$defs/text"}]}}
            }}}},
            "item": {"type": "object", "properties": {"item": {"type": "object", "properties": {
                "name": {"type": ["string", "null"]},
                "n": {"type": ["number", "null"]}
            }}}},
            "text": {"type": "object", "properties": {"text": {"type": "object", "properties": {}}}}
        }
    }))
    .unwrap()
}

#[test]
fn json_round_trips_through_yjs() {
    let s = schema();
    let doc = Doc::new();
    let input =
        json!({"doc": {"items": [{"item": {"name": "a", "n": 1}}, {"item": {"name": "b"}}]}});
    fill_from_json(&doc, &s, &input).unwrap();
    assert_eq!(to_json(&doc, &s, false), input);
    let with_ids = to_json(&doc, &s, true);
    let id = &with_ids["doc"]["items"][0]["item"]["$id"];
    assert_eq!(id.as_str().map(str::len), Some(36));
}

#[test]
fn json_that_breaks_the_schema_is_refused() {
    let s = schema();
    for bad in [
        json!({"other": {}}),
        json!({"doc": {"items": [{"nope": {}}]}}),
        json!({"doc": {"items": [{"item": {"colour": "red"}}]}}),
        json!({"doc": {"items": "x"}}),
        json!({"doc": {"items": [{"item": {}, "second": {}}]}}),
    ] {
        assert!(fill_from_json(&Doc::new(), &s, &bad).is_err(), "{bad}");
    }
}

#[test]
fn bad_schemas_are_refused() {
    for bad in [
        json!({}),
        json!({"$root_tag_ref": "#/$defs/x", "$defs": {}}),
        json!({"$root_tag_ref": "#/$defs/x", "$defs": {"x": {"properties": {"x": {"properties": {
            "c": {"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/missing"}]}}}}}}}}),
    ] {
        assert!(Schema::parse(&bad).is_err(), "{bad}");
    }
}

#[test]
fn paths_are_normalised_and_confined() {
    assert_eq!(normalize_path("./a/b.doc").unwrap(), "a/b.doc");
    assert_eq!(normalize_path("//x").unwrap(), "x");
    for bad in ["", "/", ".", "a/../b", "a\nb", &"x".repeat(MAX_PATH + 1)] {
        assert!(normalize_path(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn documents_persist_and_relay() {
    let dir = tempfile::tempdir().unwrap();
    let store = DocumentStore::open(dir.path()).unwrap();
    let new = NewDocument {
        schema: schema(),
        json: Some(json!({"doc": {"items": [{"item": {"name": "first"}}]}})),
    };
    let (doc, created) = store.acquire("notes/a.doc", Some(new)).unwrap();
    assert!(created);
    let (mut a, _) = doc.subscribe("alice", &[]).unwrap();
    let (mut b, state) = doc.subscribe("bob", &[]).unwrap();

    // Bob's replica makes a change; Alice gets it relayed, Bob does not get it back.
    let replica = Doc::new();
    apply_update(&replica, &state).unwrap();
    let frag = replica.get_or_insert_xml_fragment(ROOT);
    let update = {
        let mut txn = replica.transact_mut();
        let el = frag.push_back(&mut txn, XmlElementPrelim::empty("item"));
        el.insert_attribute(&mut txn, "$id", "x");
        el.insert_attribute(&mut txn, "name", "second");
        txn.encode_update_v1()
    };
    assert!(doc.apply(b.id, &update, Arc::from("b64")).unwrap());
    assert_eq!(&*a.updates.try_recv().unwrap(), "b64");
    assert!(b.updates.try_recv().is_err());
    assert!(doc.apply(b.id, b"\x01garbage", Arc::from("x")).is_err());

    doc.unsubscribe(a.id);
    doc.unsubscribe(b.id);
    store.release(&doc).unwrap();
    assert!(store.loaded("notes/a.doc").is_none());

    let store = DocumentStore::open(dir.path()).unwrap();
    let (doc, created) = store.acquire("notes/a.doc", None).unwrap();
    assert!(!created);
    assert_eq!(
        doc.to_json(false),
        json!({"doc": {"items": [{"item": {"name": "first"}}, {"item": {"name": "second"}}]}})
    );
    let list = store.list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].path, "notes/a.doc");
    assert!(matches!(
        store.acquire("missing", None),
        Err(DocError::NotFound(_))
    ));
}

#[test]
fn a_state_vector_gets_only_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let store = DocumentStore::open(dir.path()).unwrap();
    let new = NewDocument {
        schema: schema(),
        json: Some(json!({"doc": {"items": [{"item": {"name": "one"}}]}})),
    };
    let (doc, _) = store.acquire("d", Some(new)).unwrap();
    let (_sub, full) = doc.subscribe("a", &[]).unwrap();
    let replica = Doc::new();
    apply_update(&replica, &full).unwrap();
    let sv = replica.transact().state_vector().encode_v1();
    let (_sub2, missing) = doc.subscribe("b", &sv).unwrap();
    assert!(missing.len() < full.len());
    assert!(doc.subscribe("c", b"\xff\xff\xff").is_err());
}

#[test]
fn corrupt_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let store = DocumentStore::open(dir.path()).unwrap();
    fs::write(store.file("x"), b"junk").unwrap();
    assert!(matches!(
        store.acquire("x", None),
        Err(DocError::Corrupt { .. })
    ));
    let mut bytes = encode_file("y", &schema().json, b"\x05\x01\x02");
    fs::write(store.file("y"), &bytes).unwrap();
    assert!(store.acquire("y", None).is_err());
    bytes = encode_file("other", &schema().json, b"");
    fs::write(store.file("z"), &bytes).unwrap();
    assert!(store.acquire("z", None).is_err());
}

#[test]
fn random_bytes_never_panic() {
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for round in 0..400 {
        let len = (round % 97) + 1;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let d = Doc::new();
        let _ = apply_update(&d, &bytes);
        let _ = to_json(&d, &schema(), true);
        let _ = normalize_path(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn client_ids_fit_in_32_bits() {
    // pycrdt echoes updates with 32-bit client ids; ours must survive that unchanged.
    let s = schema();
    let doc = new_doc();
    fill_from_json(
        &doc,
        &s,
        &json!({"doc": {"items": [{"item": {"name": "a"}}]}}),
    )
    .unwrap();
    let sv = doc.transact().state_vector();
    assert!(
        sv.iter().all(|(client, _)| client.get() <= u32::MAX as u64),
        "{sv:?}"
    );
}
