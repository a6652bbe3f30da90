//! The `dataset` and `sqlite` toolkits through the Rust client against a real server.

use crate::common;

use common::{TestServer, within};
use roomdeck::auth::ApiScope;
use roomdeck::auth::scope::{DatasetGrant, TableGrant};
use roomdeck::client::dataset::{SqlResult, parse_columns};
use roomdeck::protocol::Content;
use serde_json::{Map, Value, json};

fn rows(v: Value) -> Vec<Map<String, Value>> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|r| r.as_object().expect("an object").clone())
        .collect()
}

fn sql_rows(r: SqlResult) -> Vec<Value> {
    match r {
        SqlResult::Rows(r) => r.rows.into_iter().map(Value::Object).collect(),
        SqlResult::Statement { rows_affected } => panic!("a statement ({rows_affected} rows)"),
    }
}

#[tokio::test]
async fn create_insert_query_search_count() {
    let server = TestServer::start().await;
    let alice = server.join("db", "alice").await;
    let db = alice.dataset();
    db.create_table(
        "people",
        parse_columns("id int, name text, born date").unwrap(),
        "create",
    )
    .await
    .unwrap();
    db.insert(
        "people",
        &rows(json!([
            {"id": 1, "name": "Ada", "born": "1815-12-10"},
            {"id": 2, "name": "Alan", "born": "1912-06-23"},
            {"id": 3, "name": "Grace", "born": null}
        ])),
    )
    .await
    .unwrap();
    assert_eq!(db.list_tables().await.unwrap(), vec!["people".to_string()]);
    let schema = db.inspect("people").await.unwrap();
    assert_eq!(
        schema.field_with_name("born").unwrap().data_type(),
        &arrow_schema::DataType::Date32
    );

    let got = sql_rows(
        db.sql("select name, born from people where id < 3 order by id")
            .await
            .unwrap(),
    );
    assert_eq!(
        got,
        vec![
            json!({"name": "Ada", "born": "1815-12-10"}),
            json!({"name": "Alan", "born": "1912-06-23"})
        ]
    );
    let agg = sql_rows(
        db.sql("select count(*) as n, max(id) as m from people")
            .await
            .unwrap(),
    );
    assert_eq!(agg, vec![json!({"n": 3, "m": 3})]);

    let found = db
        .search(
            "people",
            Some("born is null"),
            Some(vec!["name".into()]),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(found.rows, rows(json!([{"name": "Grace"}])));
    assert_eq!(db.count("people", Some("id > 1")).await.unwrap(), 2);

    match db.sql("delete from people where id = 3").await.unwrap() {
        SqlResult::Statement { rows_affected } => assert_eq!(rows_affected, 1),
        SqlResult::Rows(_) => panic!("a delete returns no rows"),
    }
    let err = db.sql("select * from nope").await.unwrap_err();
    assert_eq!(err.code(), Some(1002));
    assert!(err.to_string().contains("no such table: nope"), "{err}");
}

#[tokio::test]
async fn big_results_stream_in_bounded_batches_and_data_survives_a_restart() {
    let mut server = TestServer::start().await;
    {
        let alice = server.join("db", "alice").await;
        let db = alice.dataset();
        db.create_table("n", parse_columns("i int, s text").unwrap(), "create")
            .await
            .unwrap();
        let many: Vec<Map<String, Value>> = (0..20_000)
            .map(|i| rows(json!([{"i": i, "s": format!("row {i}")}])).remove(0))
            .collect();
        db.insert("n", &many).await.unwrap();
    }
    server.restart().await;
    let alice = server.join("db", "alice").await;
    // Count the batches of the raw stream: 20 000 rows come in more than one.
    let answer = alice
        .invoke(
            "dataset",
            "execute_sql",
            Content::binary(json!({"query": "select * from n", "tables": []}), vec![]),
        )
        .await
        .unwrap();
    let Content::Binary { headers, .. } = answer else {
        panic!("a query handle")
    };
    let id = headers["query_id"].as_str().unwrap().to_string();
    let mut stream = alice
        .invoke_stream(
            "dataset",
            "read_sql_query",
            Some(Content::binary(
                json!({"kind": "start", "query_id": id}),
                vec![],
            )),
        )
        .await
        .unwrap();
    let (mut batches, mut total) = (0, 0);
    stream
        .send(Content::binary(json!({"kind": "pull"}), vec![]))
        .await
        .unwrap();
    while let Some(chunk) = within("a batch", stream.next()).await {
        let Content::Binary { headers, data } = chunk.unwrap() else {
            panic!("binary data chunks")
        };
        assert_eq!(headers["kind"], "data");
        let (_, b) = roomdeck::store::tables::read_ipc(&data).unwrap();
        let n: usize = b.iter().map(|b| b.num_rows()).sum();
        assert!(n <= 8192, "a batch of {n} rows");
        total += n;
        batches += 1;
        stream
            .send(Content::binary(json!({"kind": "pull"}), vec![]))
            .await
            .unwrap();
    }
    assert_eq!(total, 20_000);
    assert!(batches >= 3, "{batches} batches");
    let closed = alice
        .invoke(
            "dataset",
            "close_sql_query",
            Content::Json(json!({"query_id": id})),
        )
        .await
        .unwrap();
    assert_eq!(closed, Content::Empty);
}

#[tokio::test]
async fn grants_guard_tables_and_sql_cannot_reach_other_files() {
    let server = TestServer::start().await;
    let owner = server.join("db", "owner").await;
    let db = owner.dataset();
    for t in ["open", "secret"] {
        db.create_table(t, parse_columns("x int").unwrap(), "create")
            .await
            .unwrap();
        db.insert(t, &rows(json!([{"x": 1}]))).await.unwrap();
    }
    let mut scope = ApiScope::agent_default();
    scope.dataset = Some(DatasetGrant {
        tables: Some(vec![TableGrant {
            name: "open".into(),
            namespace: None,
            read: true,
            write: false,
            alter: false,
        }]),
        list_tables: true,
    });
    let reader = server.join_with("db", "reader", scope).await;
    let rdb = reader.dataset();
    assert_eq!(rdb.count("open", None).await.unwrap(), 1);
    let denied = rdb
        .insert("open", &rows(json!([{"x": 2}])))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Some(1001), "{denied}");
    let denied = rdb.sql("select * from secret").await.unwrap_err();
    assert_eq!(denied.code(), Some(1001), "{denied}");
    assert!(denied.to_string().contains("secret"), "{denied}");
    let denied = rdb
        .sql("select * from open where x in (select x from secret)")
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Some(1001), "{denied}");
    let denied = rdb.sql("update open set x = 5").await.unwrap_err();
    assert_eq!(denied.code(), Some(1001), "{denied}");

    for sql in [
        "attach database 'other.db' as o",
        "select * from _roomdeck_tables",
        "pragma writable_schema = 1",
        "select load_extension('x')",
    ] {
        let err = db.sql(sql).await.unwrap_err();
        assert!(matches!(err.code(), Some(1001 | 1002)), "{sql}: {err}");
    }
}

#[tokio::test]
async fn sqlite_toolkit_strict_headers_and_params() {
    let server = TestServer::start().await;
    let alice = server.join("db", "alice").await;
    let call = |tool: &'static str, args: Value| {
        let alice = alice.clone();
        async move { alice.invoke("sqlite", tool, Content::Json(args)).await }
    };
    assert_eq!(
        call("create_database", json!({"name": "app", "mode": "create"}))
            .await
            .unwrap(),
        Content::Empty
    );
    let exists = call("create_database", json!({"name": "app"}))
        .await
        .unwrap_err();
    assert_eq!(exists.code(), Some(1004));
    let sql = |q: &str, params: Value| {
        Content::binary(
            json!({"database": "app", "query": q, "params": params}),
            vec![],
        )
    };
    let made = alice
        .invoke(
            "sqlite",
            "execute_sql",
            sql("create table kv (k text, v int)", Value::Null),
        )
        .await
        .unwrap();
    assert_eq!(
        made,
        Content::Json(json!({"kind": "statement", "rows_affected": 0}))
    );
    let added = alice
        .invoke(
            "sqlite",
            "execute_sql_statement",
            sql("insert into kv values (?, ?), (:k, :v)", Value::Null),
        )
        .await;
    assert!(added.is_err(), "missing parameters are refused");
    let added = alice
        .invoke(
            "sqlite",
            "execute_sql_statement",
            sql("insert into kv values (?, ?)", json!(["a", 1])),
        )
        .await
        .unwrap();
    assert_eq!(added, Content::Json(json!({"rows_affected": 1})));
    let opened = alice
        .invoke(
            "sqlite",
            "execute_sql",
            sql("select * from kv where v = :v", json!({"v": 1})),
        )
        .await
        .unwrap();
    let Content::Binary { headers, .. } = opened else {
        panic!("a query handle")
    };
    assert_eq!(headers.keys().collect::<Vec<_>>(), vec!["kind", "query_id"]);
    let id = headers["query_id"].as_str().unwrap().to_string();
    let mut stream = alice
        .invoke_stream(
            "sqlite",
            "read_sql_query",
            Some(Content::binary(
                json!({"kind": "start", "query_id": id}),
                vec![],
            )),
        )
        .await
        .unwrap();
    stream
        .send(Content::binary(json!({"kind": "pull"}), vec![]))
        .await
        .unwrap();
    let Some(Ok(Content::Binary { headers, data })) = stream.next().await else {
        panic!("a data chunk")
    };
    assert_eq!(Value::Object(headers), json!({"kind": "data"}));
    let (_, batches) = roomdeck::store::tables::read_ipc(&data).unwrap();
    assert_eq!(batches[0].num_rows(), 1);
    assert_eq!(
        call("list_databases", json!({})).await.unwrap(),
        Content::Json(json!({"databases": ["app"]}))
    );
    assert_eq!(
        call("drop_database", json!({"name": "app"})).await.unwrap(),
        Content::Empty
    );
}

#[tokio::test]
async fn a_long_query_can_be_cancelled() {
    let server = TestServer::start().await;
    let alice = server.join("db", "alice").await;
    // The first batch (8192 rows) comes at once; the next row takes billions of steps.
    let slow = "with recursive c(x) as (select 1 union all select x + 1 from c) \
                select x from c where x <= 8192 or x % 100000000000 = 0";
    let answer = alice
        .invoke(
            "dataset",
            "execute_sql",
            Content::binary(json!({"query": slow, "tables": []}), vec![]),
        )
        .await
        .unwrap();
    let Content::Binary { headers, .. } = answer else {
        panic!("a query handle")
    };
    let id = headers["query_id"].as_str().unwrap().to_string();
    let mut stream = alice
        .invoke_stream(
            "dataset",
            "read_sql_query",
            Some(Content::binary(
                json!({"kind": "start", "query_id": id}),
                vec![],
            )),
        )
        .await
        .unwrap();
    let pull = || Content::binary(json!({"kind": "pull"}), vec![]);
    stream.send(pull()).await.unwrap();
    assert!(matches!(
        within("the first batch", stream.next()).await,
        Some(Ok(_))
    ));
    stream.send(pull()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let cancelled = alice
        .invoke(
            "dataset",
            "cancel_sql_query",
            Content::Json(json!({"query_id": id})),
        )
        .await
        .unwrap();
    assert_eq!(cancelled, Content::Json(json!({"status": "cancelled"})));
    let err = within("the cancelled pull", stream.next())
        .await
        .expect("an answer")
        .unwrap_err();
    assert!(err.to_string().contains("cancelled"), "{err}");
}

/// The console's path: `open_sql` names the query, `next_batch` pulls one batch at a time,
/// and a reader that stops early cancels and closes the query, leaving the room usable.
#[tokio::test]
async fn open_sql_streams_batches_and_stops_early() {
    use roomdeck::client::dataset::{SqlOpened, batch_values};
    let server = TestServer::start().await;
    let alice = server.join("db", "alice").await;
    let db = alice.dataset();
    let big = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 20000) \
               SELECT x, 'row ' || x AS label FROM c";
    let SqlOpened::Query(mut q) = within("open", db.open_sql(big)).await.unwrap() else {
        panic!("a query opens");
    };
    let names: Vec<_> = q.schema.fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["x", "label"]);
    let first = within("next batch", q.next_batch())
        .await
        .unwrap()
        .expect("a first batch");
    assert!(first.num_rows() > 0 && first.num_rows() < 20_000);
    assert_eq!(batch_values(&first)[0], vec![json!(1), json!("row 1")]);
    within("cancel", q.cancel()).await.unwrap();
    within("close", q.close()).await.unwrap();
    // The whole result, read to its end, has every row once.
    let SqlOpened::Query(mut q) = within("open", db.open_sql(big)).await.unwrap() else {
        panic!("a query opens");
    };
    let mut n = 0;
    while let Some(b) = within("next batch", q.next_batch()).await.unwrap() {
        n += b.num_rows();
    }
    assert_eq!(n, 20_000);
    within("close", q.close()).await.unwrap();
    // A statement answers with its count; a bad one with SQLite's message.
    db.create_table("t", parse_columns("id int").unwrap(), "create")
        .await
        .unwrap();
    match within("insert", db.open_sql("insert into t values (1), (2)"))
        .await
        .unwrap()
    {
        SqlOpened::Statement { rows_affected } => assert_eq!(rows_affected, 2),
        SqlOpened::Query(_) => panic!("an insert is a statement"),
    }
    let err = within("bad", db.open_sql("select * from nope"))
        .await
        .err()
        .expect("an error");
    assert!(err.to_string().contains("no such table: nope"), "{err}");
}
