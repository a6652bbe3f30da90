//! `sqlite`: named SQLite databases in the room (`<room>/sqlite/<namespace…>/<name>.db`),
//! with the same tables-and-Arrow tools as `dataset` plus SQL with parameters. Its stream
//! headers are strict: chunks are exactly `{"kind": "pull"|"data"}` and a query handle is
//! exactly `{"kind": "query", "query_id"}`. Whole-file `backup` and `restore` are in
//! `sqlite_transfer`.

use std::sync::Arc;

use arrow_schema::Field;
use base64::Engine;
use serde_json::{Value, json};

use super::dataset::search::{Search, where_arg};
use super::dataset::shared::{
    RoomDatabase, blocking, check_name, namespace, opt_str, opt_strings, pull_chunk, start_chunk,
};
use super::dataset::{cancel, grant_guard, read_sql_query, set_values, sql_answer, sql_mode};
use crate::protocol::Content;
use crate::protocol::error_codes::{ALREADY_EXISTS, NOT_FOUND};
use crate::server::call::{
    Reply, ToolCall, ToolError, ToolResult, arg_bool, arg_items, arg_str, empty, item_str,
    json_reply,
};
use crate::store::tables::{
    Access, BatchResult, CreateMode, Guard, Opened, Params, QuerySpec, TableStore,
    cursor::BATCH_ROWS, read_ipc, run_batch, schema_to_ipc,
};

use super::spec::{
    ANSWERS_BINARY, ANSWERS_EMPTY, ANSWERS_STREAM, Arg, BINARY, CANCEL_SQL_QUERY, CLOSE_SQL_QUERY,
    JSON_OR_BINARY, NAMESPACE, READ_SQL_QUERY, STREAM, Tool, Ty, VALUES, execute_sql_statement,
    open_sql_query, opt, req, tool,
};

pub(crate) const TOOLKIT: super::Toolkit = super::Toolkit::new(
    "sqlite",
    "Named SQLite databases: tables, SQL with parameters, Arrow results",
    &crate::auth::check::SQLITE,
    TOOLS,
    |call| Box::pin(invoke(call)),
);

const NAME: Arg = req("name", Ty::Str, "the database's name");
const DATABASE: Arg = req("database", Ty::Str, "the database's name");
const TABLE: Arg = req("table", Ty::Str, "the table's name");
const TABLE_NAME: Arg = req("name", Ty::Str, "the table's name");
const MODE: Arg = opt(
    "mode",
    Ty::OneOf(&["create", "overwrite", "create_if_not_exists"]),
    "what to do when it already exists",
)
.or("\"create\"");
const WHERE: Arg = opt("where", Ty::Str, "a SQL condition, e.g. `id > ?`");
const PARAMS: Arg = opt(
    "params",
    Ty::Any,
    "values for the `?` (a list) or `:name` (an object) placeholders",
);
const QUERY: Arg = req("query", Ty::Str, "the SQL text");
const IGNORE_MISSING: Arg =
    opt("ignore_missing", Ty::Bool, "succeed if it does not exist").or("false");
const SQL: &[Arg] = &[DATABASE, QUERY, PARAMS, NAMESPACE];
const WHOLE_FILE: &[Arg] = &[DATABASE, NAMESPACE];

const TOOLS: &[Tool] = &[
    tool("list_databases", "Databases in a namespace", &[NAMESPACE]),
    tool(
        "create_database",
        "Create a database",
        &[
            NAME,
            NAMESPACE,
            MODE,
            opt(
                "replication_mode",
                Ty::OneOf(&["synchronous", "asynchronous"]),
                "replication (a local room keeps one copy)",
            ),
            opt("flush_interval_ms", Ty::Int, "how often writes are flushed"),
        ],
    )
    .answers(ANSWERS_EMPTY)
    .writes(),
    tool(
        "drop_database",
        "Delete a database",
        &[NAME, NAMESPACE, IGNORE_MISSING],
    )
    .answers(ANSWERS_EMPTY)
    .writes(),
    tool(
        "inspect_database",
        "A database's table count and size",
        &[NAME, NAMESPACE],
    ),
    tool(
        "get_database_settings",
        "Replication settings",
        &[NAME, NAMESPACE],
    ),
    tool(
        "update_database_settings",
        "Change replication settings",
        &[
            NAME,
            NAMESPACE,
            opt(
                "replication_mode",
                Ty::OneOf(&["synchronous", "asynchronous"]),
                "replication (a local room keeps one copy)",
            ),
            opt("flush_interval_ms", Ty::Int, "how often writes are flushed"),
        ],
    ),
    tool(
        "flush_database",
        "Make every write durable",
        &[NAME, NAMESPACE],
    ),
    tool(
        "list_tables",
        "Tables of a database",
        &[DATABASE, NAMESPACE],
    ),
    tool(
        "create_table",
        "Create a table from an Arrow schema or data (stream)",
        &[DATABASE, TABLE_NAME, MODE, NAMESPACE],
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM)
    .writes(),
    tool(
        "drop_table",
        "Delete a table",
        &[DATABASE, TABLE_NAME, IGNORE_MISSING, NAMESPACE],
    )
    .answers(ANSWERS_EMPTY)
    .writes(),
    tool(
        "rename_table",
        "Rename a table",
        &[
            DATABASE,
            TABLE_NAME,
            req("new_name", Ty::Str, "the table's new name"),
            NAMESPACE,
        ],
    )
    .answers(ANSWERS_EMPTY)
    .writes(),
    tool(
        "add_columns",
        "Add columns by Arrow schema",
        &[
            DATABASE,
            TABLE,
            NAMESPACE,
            opt(
                "content_type",
                Ty::Str,
                "the data's type: an Arrow IPC stream",
            ),
        ],
    )
    .takes(BINARY)
    .answers(ANSWERS_EMPTY),
    tool(
        "drop_columns",
        "Remove columns",
        &[
            DATABASE,
            TABLE,
            req("columns", Ty::StrList, "the columns to remove"),
            NAMESPACE,
        ],
    )
    .answers(ANSWERS_EMPTY),
    tool(
        "inspect",
        "A table's Arrow schema",
        &[DATABASE, TABLE, NAMESPACE],
    )
    .answers(ANSWERS_BINARY),
    tool(
        "insert",
        "Append Arrow batches (stream)",
        &[DATABASE, TABLE, NAMESPACE],
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM)
    .writes(),
    tool(
        "update",
        "Set columns where a condition holds",
        &[DATABASE, TABLE, WHERE, VALUES, PARAMS, NAMESPACE],
    )
    .writes(),
    tool(
        "delete",
        "Delete rows where a condition holds",
        &[DATABASE, TABLE, WHERE, PARAMS, NAMESPACE],
    )
    .writes(),
    tool(
        "count",
        "How many rows match",
        &[DATABASE, TABLE, WHERE, PARAMS, NAMESPACE],
    ),
    tool(
        "search",
        "Rows by where/select/limit (stream)",
        &[
            DATABASE,
            TABLE,
            WHERE,
            PARAMS,
            opt("offset", Ty::Int, "skip this many rows"),
            opt("limit", Ty::Int, "at most this many rows"),
            opt("select", Ty::StrList, "the columns to answer (absent: all)"),
            NAMESPACE,
        ],
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM),
    tool("execute_sql", "Run SQL with parameters", SQL).takes(JSON_OR_BINARY),
    open_sql_query(SQL),
    execute_sql_statement(SQL),
    tool(
        "execute_sql_batch",
        "Run SQL commands atomically",
        &[
            DATABASE,
            NAMESPACE,
            req(
                "commands",
                Ty::ObjList,
                "the commands, in order: objects with `query` and optional `params`",
            ),
        ],
    ),
    READ_SQL_QUERY,
    CLOSE_SQL_QUERY,
    CANCEL_SQL_QUERY,
    tool(
        "backup",
        "A consistent copy of a database file, checked by size and SHA-256 (stream)",
        WHOLE_FILE,
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM),
    tool(
        "restore",
        "A SQLite file uploaded as a new database, checked before it is installed (stream)",
        WHOLE_FILE,
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM),
];

/// Checks the tables a statement touches against the caller's `sqlite` grant for `database`.
fn guard(call: &ToolCall, database: &str, ns: &[String]) -> Guard {
    let grant = call.caller.scope.as_ref().and_then(|s| s.sqlite.clone());
    let (db, ns) = (database.to_string(), ns.to_vec());
    let database = database.to_string();
    grant_guard(
        grant,
        "sqlite",
        move |g, access, table| {
            let ns = (!ns.is_empty()).then_some(ns.as_slice());
            match access {
                Access::Read => g.can_read(&db, table, ns),
                Access::Write => g.can_write(&db, table, ns),
                Access::Alter => g.can_alter(&db, table, ns),
            }
        },
        move |access, table| {
            format!(
                "the token may not {} table `{table}` of sqlite database `{database}`",
                access.verb()
            )
        },
    )
}

pub(super) fn database_arg(args: &Value, key: &str) -> Result<(Vec<String>, String), ToolError> {
    let name = arg_str(args, key)?.trim().to_string();
    check_name("database", &name)?;
    Ok((namespace(args)?, name))
}

fn table_name(args: &Value, key: &str) -> Result<String, ToolError> {
    let t = arg_str(args, key)?.trim().to_string();
    check_name("table", &t)?;
    Ok(t)
}

fn user_params(args: &Value) -> Result<Params, ToolError> {
    Ok(Params::from_json(
        args.get("params").unwrap_or(&Value::Null),
    )?)
}

pub(crate) async fn invoke(call: &mut ToolCall) -> ToolResult {
    match call.tool.as_str() {
        "create_table" | "insert" => write_stream(call).await,
        "search" => search(call).await,
        "read_sql_query" => read_sql_query(call, "sqlite", true).await,
        "execute_sql" | "open_sql_query" | "execute_sql_statement" => execute_sql(call).await,
        "add_columns" => add_columns(call).await,
        "backup" => super::sqlite_transfer::backup(call).await,
        "restore" => super::sqlite_transfer::restore(call).await,
        _ => unary(call).await,
    }
}

fn settings(store: &TableStore) -> Value {
    let path = store.path().with_extension("settings.json");
    std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| json!({"replication_mode": "synchronous", "flush_interval_ms": 1000}))
}

async fn unary(call: &mut ToolCall) -> ToolResult {
    let args = call.json_args()?;
    let rooms = RoomDatabase::of(&call.room)?;
    match call.tool.as_str() {
        "list_databases" => {
            let ns = namespace(&args)?;
            let dir = rooms.sqlite_dir(&ns);
            let mut names = Vec::new();
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if let Some(db) = name.strip_suffix(".db") {
                        names.push(db.to_string());
                    }
                }
            }
            names.sort();
            json_reply(json!({ "databases": names }))
        }
        "create_database" => {
            let (ns, name) = database_arg(&args, "name")?;
            let mode = CreateMode::parse(opt_str(&args, "mode")?)?;
            let exists = rooms.sqlite_path(&ns, &name).exists();
            match (exists, mode) {
                (true, CreateMode::Create) => {
                    return Err(ToolError::new(
                        ALREADY_EXISTS,
                        format!("sqlite database `{name}` already exists"),
                    ));
                }
                (true, CreateMode::CreateIfNotExists) => return empty(),
                (true, CreateMode::Overwrite) => {
                    rooms.drop_sqlite(&ns, &name)?;
                }
                _ => {}
            }
            rooms.create_sqlite(&ns, &name)?;
            if args.get("replication_mode").is_some() || args.get("flush_interval_ms").is_some() {
                let store = rooms.sqlite(&ns, &name)?;
                save_settings(&store, &args)?;
            }
            empty()
        }
        "drop_database" => {
            let (ns, name) = database_arg(&args, "name")?;
            let ignore = arg_bool(&args, "ignore_missing", false)?;
            if !rooms.drop_sqlite(&ns, &name)? && !ignore {
                return Err(ToolError::new(
                    NOT_FOUND,
                    format!("there is no sqlite database `{name}`"),
                ));
            }
            let _ = std::fs::remove_file(
                rooms
                    .sqlite_path(&ns, &name)
                    .with_extension("settings.json"),
            );
            empty()
        }
        "inspect_database" => {
            let (ns, name) = database_arg(&args, "name")?;
            let store = rooms.sqlite(&ns, &name)?;
            let s = store.clone();
            let tables = blocking(move || s.list_tables()).await?.len();
            let mut out = json!({"name": name, "tables": tables, "size_bytes": store.size_bytes()});
            if !ns.is_empty() {
                out["namespace"] = json!(ns);
            }
            json_reply(out)
        }
        "get_database_settings" => {
            let (ns, name) = database_arg(&args, "name")?;
            let store = rooms.sqlite(&ns, &name)?;
            json_reply(settings(&store))
        }
        "update_database_settings" => {
            let (ns, name) = database_arg(&args, "name")?;
            let store = rooms.sqlite(&ns, &name)?;
            json_reply(save_settings(&store, &args)?)
        }
        "flush_database" => {
            let (ns, name) = database_arg(&args, "name")?;
            rooms.sqlite(&ns, &name)?;
            // Every commit is already synced to disk (WAL, synchronous=FULL).
            json_reply(json!({"flushed": true}))
        }
        "list_tables" => {
            let (ns, name) = database_arg(&args, "database")?;
            let store = rooms.sqlite(&ns, &name)?;
            let tables = blocking(move || store.list_tables()).await?;
            json_reply(json!({ "tables": tables }))
        }
        "drop_table" => {
            let (ns, db) = database_arg(&args, "database")?;
            let table = table_name(&args, "name")?;
            let ignore = arg_bool(&args, "ignore_missing", false)?;
            let store = rooms.sqlite(&ns, &db)?;
            let t = table.clone();
            if !blocking(move || store.drop_table(&t)).await? && !ignore {
                return Err(ToolError::new(
                    NOT_FOUND,
                    format!("there is no table `{table}`"),
                ));
            }
            empty()
        }
        "rename_table" => {
            let (ns, db) = database_arg(&args, "database")?;
            let (from, to) = (table_name(&args, "name")?, table_name(&args, "new_name")?);
            let store = rooms.sqlite(&ns, &db)?;
            blocking(move || store.rename_table(&from, &to)).await?;
            empty()
        }
        "drop_columns" => {
            let (ns, db) = database_arg(&args, "database")?;
            let table = table_name(&args, "table")?;
            let columns = opt_strings(&args, "columns")?
                .ok_or_else(|| ToolError::invalid("`columns` (a list of names) is required"))?;
            let store = rooms.sqlite(&ns, &db)?;
            blocking(move || store.drop_columns(&table, &columns)).await?;
            empty()
        }
        "inspect" => {
            let (ns, db) = database_arg(&args, "database")?;
            let table = table_name(&args, "table")?;
            let store = rooms.sqlite(&ns, &db)?;
            let schema = blocking(move || store.schema(&table)).await?;
            Ok(Reply::Content(Content::binary(
                json!({"kind": "schema"}),
                schema_to_ipc(&schema)?,
            )))
        }
        "update" | "delete" | "count" => {
            let (ns, db) = database_arg(&args, "database")?;
            let table = table_name(&args, "table")?;
            let store = rooms.sqlite(&ns, &db)?;
            let (where_, where_params) = where_arg(&args)?;
            let params = match where_params {
                Params::Named(n) => user_params(&args)?.with_named(n),
                _ => user_params(&args)?,
            };
            let g = guard(call, &db, &ns);
            match call.tool.as_str() {
                "update" => {
                    let values = set_values(&args)?;
                    let n = blocking(move || {
                        store.update(&table, where_.as_deref(), &values, &params, g)
                    })
                    .await?;
                    json_reply(json!({ "rows_affected": n }))
                }
                "delete" => {
                    let n = blocking(move || store.delete(&table, where_.as_deref(), &params, g))
                        .await?;
                    json_reply(json!({ "rows_affected": n }))
                }
                _ => {
                    let n =
                        blocking(move || store.count(&table, where_.as_deref(), None, &params, g))
                            .await?;
                    json_reply(json!({ "count": n }))
                }
            }
        }
        "execute_sql_batch" => {
            let (ns, db) = database_arg(&args, "database")?;
            let store = rooms.sqlite(&ns, &db)?;
            let mut commands = Vec::new();
            for c in arg_items(&args, "commands") {
                let q = item_str(c, "query", "command")?;
                commands.push((
                    q.to_string(),
                    Params::from_json(c.get("params").unwrap_or(&Value::Null))?,
                ));
            }
            let g = guard(call, &db, &ns);
            let path = store.path().to_path_buf();
            let results = blocking(move || run_batch(&path, commands, g)).await?;
            let mut out = Vec::new();
            for r in results {
                out.push(match r {
                    BatchResult::Statement(n) => json!({"kind": "statement", "rows_affected": n}),
                    BatchResult::Rows(cursor) => {
                        let schema = base64::engine::general_purpose::STANDARD
                            .encode(schema_to_ipc(&cursor.schema)?);
                        let id = rooms.register(call, "sqlite", cursor)?;
                        json!({"kind": "query", "query_id": id, "schema_base64": schema})
                    }
                });
            }
            json_reply(json!({ "results": out }))
        }
        "close_sql_query" => {
            let id = arg_str(&args, "query_id")?;
            rooms.close(call, "sqlite", id);
            empty()
        }
        "cancel_sql_query" => cancel(call, "sqlite", &args),
        other => Err(ToolError::invalid(format!(
            "sqlite.{other} is not supported"
        ))),
    }
}

fn save_settings(store: &TableStore, args: &Value) -> Result<Value, ToolError> {
    let mut s = settings(store);
    if let Some(m) = args.get("replication_mode").filter(|v| !v.is_null()) {
        match m.as_str() {
            Some("synchronous" | "asynchronous") => s["replication_mode"] = m.clone(),
            _ => {
                return Err(ToolError::invalid(
                    "replication_mode is synchronous or asynchronous",
                ));
            }
        }
    }
    if let Some(f) = args.get("flush_interval_ms").filter(|v| !v.is_null()) {
        match f.as_u64() {
            Some(ms) if (1..=3_600_000).contains(&ms) => s["flush_interval_ms"] = json!(ms),
            _ => return Err(ToolError::invalid("flush_interval_ms is 1 to 3600000")),
        }
    }
    let path = store.path().with_extension("settings.json");
    let tmp = path.with_extension("settings.json.tmp");
    std::fs::write(&tmp, s.to_string().as_bytes())
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| {
            ToolError::new(
                crate::protocol::error_codes::OPERATION_FAILED,
                format!("cannot save the settings: {e}"),
            )
        })?;
    Ok(s)
}

async fn add_columns(call: &mut ToolCall) -> ToolResult {
    let Content::Binary { headers, data } = call.args.clone() else {
        return Err(ToolError::invalid(
            "sqlite.add_columns takes binary headers and an Arrow schema",
        ));
    };
    let args = Value::Object(headers);
    let (ns, db) = database_arg(&args, "database")?;
    let table = table_name(&args, "table")?;
    let store = RoomDatabase::of(&call.room)?.sqlite(&ns, &db)?;
    let (schema, _) = read_ipc(&data)?;
    let fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    blocking(move || store.add_columns(&table, &fields)).await?;
    empty()
}

/// `create_table` and `insert`: exactly `{"kind":"pull"}` chunks.
async fn write_stream(call: &mut ToolCall) -> ToolResult {
    let (headers, payload, _) = start_chunk(call).await?;
    let args = Value::Object(headers);
    call.authorize(&args)?;
    let (ns, db) = database_arg(&args, "database")?;
    let create = call.tool == "create_table";
    let table = table_name(&args, if create { "name" } else { "table" })?;
    let mode = CreateMode::parse(opt_str(&args, "mode")?)?;
    let store = RoomDatabase::of(&call.room)?.sqlite(&ns, &db)?;
    let mut have_table = !create;
    let mut skip = false;
    if create && !payload.is_empty() {
        let (schema, _) = read_ipc(&payload)?;
        let (s, t) = (store.clone(), table.clone());
        skip = !blocking(move || s.create_table(&t, &schema, mode)).await?;
        have_table = true;
    }
    let stream = call.open_stream().await?;
    loop {
        if stream.send(&pull_chunk()).await.is_err() {
            return Ok(Reply::Streamed);
        }
        let Some(chunk) = call.next_request().await else {
            break;
        };
        let Content::Binary { headers, data } = chunk else {
            return Err(ToolError::invalid(format!(
                "expected a data chunk, not {}",
                chunk.kind()
            )));
        };
        if headers.get("kind").and_then(Value::as_str) != Some("data") {
            return Err(ToolError::invalid("expected a data chunk"));
        }
        let (schema, batches) = read_ipc(&data)?;
        if !have_table {
            let (s, t) = (store.clone(), table.clone());
            skip = !blocking(move || s.create_table(&t, &schema, mode)).await?;
            have_table = true;
        }
        if skip {
            continue;
        }
        for batch in batches {
            let (s, t) = (store.clone(), table.clone());
            blocking(move || s.insert(&t, &batch)).await?;
        }
    }
    if !have_table {
        return Err(ToolError::invalid(format!(
            "create_table `{table}` needs a schema or some data"
        )));
    }
    stream.close().await;
    Ok(Reply::Streamed)
}

async fn search(call: &mut ToolCall) -> ToolResult {
    let (headers, _, _) = start_chunk(call).await?;
    let args = Value::Object(headers);
    call.authorize(&args)?;
    let (ns, db) = database_arg(&args, "database")?;
    let table = table_name(&args, "table")?;
    let mut search = Search::from_args(&args, table)?;
    search.where_params = match std::mem::take(&mut search.where_params) {
        Params::Named(n) => user_params(&args)?.with_named(n),
        _ => user_params(&args)?,
    };
    let store = RoomDatabase::of(&call.room)?.sqlite(&ns, &db)?;
    let g = guard(call, &db, &ns);
    let opened = blocking(move || search.open(&store, g)).await?;
    let Opened::Rows(cursor) = opened else {
        return Err(ToolError::invalid("the search returned no rows"));
    };
    super::dataset::shared::serve_cursor(call, Arc::new(cursor), true).await?;
    Ok(Reply::Streamed)
}

async fn execute_sql(call: &mut ToolCall) -> ToolResult {
    let args = match &call.args {
        Content::Binary { headers, .. } => Value::Object(headers.clone()),
        Content::Json(v) => v.clone(),
        other => {
            return Err(ToolError::invalid(format!(
                "sqlite.{} takes binary headers {{database, query, params}}, not {}",
                call.tool,
                other.kind()
            )));
        }
    };
    let (ns, db) = database_arg(&args, "database")?;
    let query = arg_str(&args, "query")?.to_string();
    let params = user_params(&args)?;
    let mode = sql_mode(&call.tool);
    let store = RoomDatabase::of(&call.room)?.sqlite(&ns, &db)?;
    let g = guard(call, &db, &ns);
    let spec = QuerySpec {
        sql: query,
        params,
        views: Vec::new(),
        guard: g,
        batch_rows: BATCH_ROWS,
        mode,
        interrupt: None,
    };
    let opened = super::dataset::shared::open_query(call, store, spec, |_| Ok(Vec::new())).await?;
    sql_answer(call, "sqlite", opened, None)
}
