use std::sync::Arc;

use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

use super::*;

fn people(store: &TableStore) {
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]);
    store
        .create_table("people", &schema, CreateMode::Create)
        .unwrap();
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(StringArray::from(vec![Some("Ada"), Some("Grace"), None])),
        ],
    )
    .unwrap();
    assert_eq!(store.insert("people", &batch).unwrap(), 3);
}

fn query(store: &TableStore, sql: &str, guard: Guard) -> Result<Vec<RecordBatch>, StoreError> {
    match store.open_query(QuerySpec {
        sql: sql.into(),
        params: Params::None,
        views: vec![],
        guard,
        batch_rows: 2,
        mode: Mode::Any,
        interrupt: None,
    })? {
        Opened::Statement(_) => Ok(vec![]),
        Opened::Rows(c) => {
            let mut out = vec![];
            while let Some(b) = c.next()? {
                out.push(b);
            }
            Ok(out)
        }
    }
}

#[test]
fn create_insert_query_in_bounded_batches() {
    let dir = tempfile::tempdir().unwrap();
    let store = TableStore::open(&dir.path().join("t.db")).unwrap();
    people(&store);
    let batches = query(
        &store,
        "select id, name from people order by id",
        allow_all(),
    )
    .unwrap();
    assert_eq!(batches.len(), 2, "3 rows in batches of 2");
    assert_eq!(batches[0].schema().field(0).data_type(), &DataType::Int64);
    let names = batches[1]
        .column(1)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert!(names.is_null(0));
    let agg = query(
        &store,
        "select count(*) as n, max(id) as m from people",
        allow_all(),
    )
    .unwrap();
    assert_eq!(agg[0].schema().field(0).data_type(), &DataType::Int64);
    assert_eq!(store.list_tables().unwrap(), vec!["people".to_string()]);
}

#[test]
fn guard_and_authorizer_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let store = TableStore::open(&dir.path().join("t.db")).unwrap();
    people(&store);
    let read_only: Guard = Arc::new(|a, t| {
        if a == Access::Read {
            Ok(())
        } else {
            Err(format!("no {} on {t}", a.verb()))
        }
    });
    let e = query(&store, "delete from people", read_only.clone()).unwrap_err();
    assert_eq!(e, StoreError::Denied("no write on people".into()));
    let e = query(&store, "attach database 'x.db' as x", allow_all()).unwrap_err();
    assert!(matches!(e, StoreError::Denied(_)), "{e:?}");
    let e = query(&store, "select * from _roomdeck_tables", allow_all()).unwrap_err();
    assert!(matches!(e, StoreError::Denied(_)), "{e:?}");
    let e = query(&store, "pragma journal_mode=delete", allow_all()).unwrap_err();
    assert!(matches!(e, StoreError::Denied(_)), "{e:?}");
    let e = query(&store, "select * from nope", allow_all()).unwrap_err();
    assert!(
        matches!(e, StoreError::Sql(ref m) if m.contains("no such table")),
        "{e:?}"
    );
}

#[test]
fn update_delete_merge_count_fts() {
    let dir = tempfile::tempdir().unwrap();
    let store = TableStore::open(&dir.path().join("t.db")).unwrap();
    people(&store);
    let n = store
        .update(
            "people",
            Some("id = 3"),
            &[("name".into(), SetValue::Json("Linus".into()))],
            &Params::None,
            allow_all(),
        )
        .unwrap();
    assert_eq!(n, 1);
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![3, 4])),
            Arc::new(StringArray::from(vec!["Ken", "Dennis"])),
        ],
    )
    .unwrap();
    store.merge("people", "id", &batch).unwrap();
    assert_eq!(store.row_count("people").unwrap(), 4);
    // Rows whose text matches `ken` (full-text).
    let kens = || {
        store
            .count(
                "people",
                None,
                Some(("ken", None)),
                &Params::None,
                allow_all(),
            )
            .unwrap()
    };
    assert_eq!(kens(), 1);
    assert_eq!(
        store
            .delete("people", Some("id > 2"), &Params::None, allow_all())
            .unwrap(),
        2
    );
    assert_eq!(store.row_count("people").unwrap(), 2);
    // the full-text index follows writes
    assert_eq!(kens(), 0);
    assert_eq!(store.version("people").unwrap().0, 5);
}

/// fuzz/run arrow found an IPC stream whose buffer offset made arrow-ipc panic; it must be an
/// error for the call instead.
#[test]
fn fuzz_regression_buffer_offset_outside_the_message_is_an_error() {
    let bytes = include_bytes!("../../../tests/fixtures/fuzz/arrow-buffer-offset.arrow");
    let err = read_ipc(bytes).expect_err("malformed");
    assert!(err.to_string().contains("malformed"), "{err}");
}
