//! `dataset`: the room's tables (MeshAgent's "datasets"), on one SQLite file per room with
//! Arrow IPC streams on the wire.
//!
//! Namespaces: a table `t` in namespace `["a", "b"]` is the SQLite table `a/b/t`; the root
//! namespace's tables keep their names. SQL sees the file's tables by those names; a query
//! given a `namespace` (or `tables` with aliases) also sees each of them by its short name.
//! There are no branches (only `main`) and only the current version of a table is kept;
//! `list_versions` reports it. Where clauses and SQL are SQLite's dialect.

pub(crate) mod search;
pub(crate) mod shared;

use std::sync::Arc;

use arrow_schema::{Field, Schema};
use serde_json::{Map, Value, json};

use crate::protocol::Content;
use crate::protocol::error_codes::{INVALID_REQUEST, NOT_FOUND};
use crate::server::call::{
    Reply, ToolCall, ToolError, ToolResult, arg_bool, arg_items, arg_str, empty, item_str,
    json_reply,
};
use crate::store::tables::{
    Access, CreateMode, Guard, Mode, Opened, Params, QuerySpec, SetValue, StoreError, TableStore,
    convert, cursor::BATCH_ROWS, read_ipc, schema_to_ipc,
};
use shared::{
    ARROW_STREAM, RoomDatabase, blocking, check_name, namespace, opt_str, opt_strings, pull_chunk,
    start_chunk,
};

use super::spec::{
    ANSWERS_BINARY, ANSWERS_EMPTY, ANSWERS_STREAM, Arg, CANCEL_SQL_QUERY, CLOSE_SQL_QUERY,
    JSON_OR_BINARY, NAMESPACE, READ_SQL_QUERY, STREAM, Tool, Ty, VALUES, execute_sql_statement,
    open_sql_query, opt, req, tool,
};

pub(crate) const TOOLKIT: super::Toolkit = super::Toolkit::new(
    "dataset",
    "The room's tables: typed rows (Arrow), SQL, filters, full-text and vector search",
    &crate::auth::check::DATASET,
    TOOLS,
    |call| Box::pin(invoke(call)),
)
// The room's databases, the sqlite toolkit's too (`shared.rs`).
.on_open(|dir| Arc::new(shared::RoomDatabase::new(dir.to_path_buf())));

const TABLE: Arg = req("table", Ty::Str, "the table's name");
const TABLE_NAME: Arg = req("name", Ty::Str, "the table's name");
const BRANCH: Arg = opt("branch", Ty::Str, "the branch (only `main` exists)");
const VERSION: Arg = opt(
    "version",
    Ty::Int,
    "the table version (only the current one)",
);
const WHERE: Arg = opt(
    "where",
    Ty::Any,
    "which rows: a SQL condition, or an object of column -> value",
);
const TEXT: Arg = opt("text", Ty::Str, "full-text search words");
const VECTOR: Arg = opt(
    "vector",
    Ty::NumList,
    "nearest-vector search: the query vector",
);
const TEXT_COLUMNS: Arg = opt(
    "text_columns",
    Ty::StrList,
    "the columns searched for `text`",
);
const SQL: &[Arg] = &[
    req("query", Ty::Str, "the SQL text"),
    opt(
        "tables",
        Ty::ObjList,
        "the tables it reads: objects with `name` and optional `namespace`, `alias`",
    ),
    NAMESPACE,
    BRANCH,
];
const IN_TABLE: &[Arg] = &[TABLE, NAMESPACE, BRANCH];
const AT_VERSION: &[Arg] = &[TABLE, NAMESPACE, BRANCH, VERSION];

const TOOLS: &[Tool] = &[
    tool("list_tables", "Tables in a namespace", &[NAMESPACE, BRANCH]),
    tool(
        "create_table",
        "Create a table from an Arrow schema or data (stream)",
        &[
            TABLE_NAME,
            opt(
                "mode",
                Ty::OneOf(&["create", "overwrite", "create_if_not_exists"]),
                "what to do when the table exists",
            )
            .or("\"create\""),
            NAMESPACE,
            BRANCH,
            opt(
                "metadata",
                Ty::Any,
                "key/value metadata kept with the table",
            ),
        ],
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM),
    tool("inspect", "A table's Arrow schema", AT_VERSION).answers(ANSWERS_BINARY),
    tool("insert", "Append Arrow batches (stream)", IN_TABLE)
        .takes(STREAM)
        .answers(ANSWERS_STREAM),
    tool(
        "merge",
        "Upsert Arrow batches on a column (stream)",
        &[
            TABLE,
            req("on", Ty::Str, "the column that identifies a row"),
            NAMESPACE,
            BRANCH,
        ],
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM),
    tool(
        "update",
        "Set columns of the rows matching a where clause",
        &[TABLE, WHERE, VALUES, NAMESPACE, BRANCH],
    ),
    tool(
        "delete",
        "Delete the rows matching a where clause",
        &[TABLE, WHERE, NAMESPACE, BRANCH],
    ),
    tool(
        "search",
        "Rows by where/select/limit, full text or nearest vector (stream)",
        &[
            TABLE,
            TEXT,
            VECTOR,
            TEXT_COLUMNS,
            WHERE,
            opt("offset", Ty::Int, "skip this many rows"),
            opt("limit", Ty::Int, "at most this many rows"),
            opt("select", Ty::StrList, "the columns to answer (absent: all)"),
            NAMESPACE,
            BRANCH,
            VERSION,
        ],
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM),
    tool(
        "count",
        "How many rows match",
        &[
            TABLE,
            TEXT,
            VECTOR,
            TEXT_COLUMNS,
            WHERE,
            NAMESPACE,
            BRANCH,
            VERSION,
        ],
    ),
    tool(
        "execute_sql",
        "Run SQL: a query handle or the rows a statement changed",
        SQL,
    )
    .takes(JSON_OR_BINARY),
    open_sql_query(SQL),
    execute_sql_statement(SQL),
    READ_SQL_QUERY,
    CLOSE_SQL_QUERY,
    CANCEL_SQL_QUERY,
    tool(
        "drop_table",
        "Delete a table",
        &[
            TABLE_NAME,
            opt(
                "ignore_missing",
                Ty::Bool,
                "succeed if there is no such table",
            )
            .or("false"),
            NAMESPACE,
            BRANCH,
        ],
    )
    .answers(ANSWERS_EMPTY),
    tool(
        "rename_table",
        "Rename a table",
        &[
            TABLE_NAME,
            req("new_name", Ty::Str, "the table's new name"),
            NAMESPACE,
            BRANCH,
        ],
    )
    .answers(ANSWERS_EMPTY),
    tool(
        "add_columns",
        "Add columns by Arrow schema or SQL expression",
        &[
            TABLE,
            opt(
                "columns",
                Ty::Any,
                "new columns: name -> SQL expression (or send an Arrow schema as binary)",
            ),
            NAMESPACE,
            BRANCH,
            opt(
                "content_type",
                Ty::Str,
                "binary data's type: an Arrow IPC stream",
            ),
        ],
    )
    .takes(JSON_OR_BINARY)
    .answers(ANSWERS_EMPTY),
    tool(
        "drop_columns",
        "Remove columns",
        &[
            TABLE,
            req("columns", Ty::StrList, "the columns to remove"),
            NAMESPACE,
            BRANCH,
        ],
    )
    .answers(ANSWERS_EMPTY),
    tool("list_versions", "A table's current version", IN_TABLE),
    tool(
        "restore",
        "Restore a version (only the current one is kept)",
        &[
            TABLE,
            req("version", Ty::Int, "the version to restore"),
            NAMESPACE,
            BRANCH,
        ],
    ),
    tool(
        "optimize",
        "Tidy the table's storage and indexes",
        &[
            TABLE,
            NAMESPACE,
            BRANCH,
            opt("config", Ty::Object, "optimisation options"),
        ],
    ),
    tool(
        "stats",
        "Row and storage counts",
        &[
            TABLE,
            NAMESPACE,
            BRANCH,
            VERSION,
            opt(
                "max_rows_per_group",
                Ty::Int,
                "the row-group size to report against",
            ),
        ],
    ),
    tool(
        "create_index",
        "Create a B-tree or full-text index",
        &[
            TABLE,
            req(
                "config",
                Ty::Object,
                "the index: its `type` (btree, fts, …), `column` and options",
            ),
            NAMESPACE,
            BRANCH,
        ],
    ),
    tool(
        "drop_index",
        "Drop an index",
        &[
            TABLE,
            req("name", Ty::Str, "the index's name"),
            NAMESPACE,
            BRANCH,
        ],
    ),
    tool("list_indexes", "A table's indexes", AT_VERSION),
    tool("list_branches", "Branches (only main)", &[NAMESPACE]),
    tool(
        "create_branch",
        "Not supported: roomdeck tables have no branches",
        &[
            req("branch", Ty::Str, "the new branch"),
            opt("from_branch", Ty::Str, "the branch it starts from"),
            NAMESPACE,
        ],
    ),
    tool(
        "delete_branch",
        "Not supported: roomdeck tables have no branches",
        &[req("branch", Ty::Str, "the branch to delete"), NAMESPACE],
    ),
    tool(
        "watch_table",
        "Not available in roomdeck: poll count or list_versions",
        &[
            TABLE,
            NAMESPACE,
            BRANCH,
            opt(
                "poll_interval_seconds",
                Ty::Num,
                "how often the table is looked at",
            ),
        ],
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM),
];

/// The SQLite name of a table in a namespace.
pub(crate) fn physical(ns: &[String], name: &str) -> String {
    if ns.is_empty() {
        name.to_string()
    } else {
        format!("{}/{name}", ns.join("/"))
    }
}

/// The namespace and short name of a SQLite table name.
pub(crate) fn split_physical(table: &str) -> (Vec<String>, &str) {
    match table.rsplit_once('/') {
        Some((ns, name)) => (ns.split('/').map(str::to_string).collect(), name),
        None => (Vec::new(), table),
    }
}

/// Checks every table a statement touches against the caller's `dataset` grant.
fn guard(call: &ToolCall) -> Guard {
    let grant = call.caller.scope.as_ref().and_then(|s| s.dataset.clone());
    grant_guard(
        grant,
        "dataset",
        |g, access, table| {
            let (ns, name) = split_physical(table);
            let ns = (!ns.is_empty()).then_some(ns.as_slice());
            match access {
                Access::Read => g.can_read(name, ns),
                Access::Write => g.can_write(name, ns),
                Access::Alter => g.can_alter(name, ns),
            }
        },
        |access, table| format!("the token may not {} table `{table}`", access.verb()),
    )
}

/// A guard that asks the caller's `toolkit` grant (`allowed`) about each table a statement
/// touches; `refusal` is the sentence for a table it may not touch.
pub(crate) fn grant_guard<G: Send + Sync + 'static>(
    grant: Option<G>,
    toolkit: &'static str,
    allowed: impl Fn(&G, Access, &str) -> bool + Send + Sync + 'static,
    refusal: impl Fn(Access, &str) -> String + Send + Sync + 'static,
) -> Guard {
    Arc::new(move |access, table| match &grant {
        None => Err(format!("the token's api scope has no `{toolkit}` grant")),
        Some(g) if allowed(g, access, table) => Ok(()),
        Some(_) => Err(refusal(access, table)),
    })
}

fn no_branch(args: &Value) -> Result<(), ToolError> {
    match opt_str(args, "branch")? {
        None | Some("main") => Ok(()),
        Some(b) => Err(ToolError::invalid(format!(
            "roomdeck tables have no branches; `{b}` does not exist (use main)"
        ))),
    }
}

/// The table named by `key` (checked) and its SQLite name.
fn table_arg(args: &Value, key: &str) -> Result<(Vec<String>, String, String), ToolError> {
    let name = arg_str(args, key)?.trim().to_string();
    check_name("table", &name)?;
    let ns = namespace(args)?;
    let phys = physical(&ns, &name);
    Ok((ns, name, phys))
}

async fn check_version(
    store: &Arc<TableStore>,
    table: &str,
    args: &Value,
) -> Result<(), ToolError> {
    let Some(v) = args.get("version").and_then(Value::as_i64) else {
        return Ok(());
    };
    let (store, t) = (store.clone(), table.to_string());
    let (current, _) = blocking(move || store.version(&t)).await?;
    if v == current {
        Ok(())
    } else {
        Err(ToolError::new(
            NOT_FOUND,
            format!(
                "table `{table}` is at version {current}; roomdeck keeps only the current version"
            ),
        ))
    }
}

pub(crate) async fn invoke(call: &mut ToolCall) -> ToolResult {
    match call.tool.as_str() {
        "create_table" => write_stream(call, Write::Create).await,
        "insert" => write_stream(call, Write::Insert).await,
        "merge" => write_stream(call, Write::Merge).await,
        "search" => search::search(call).await,
        "read_sql_query" => read_sql_query(call, "dataset", false).await,
        "execute_sql" | "open_sql_query" | "execute_sql_statement" => execute_sql(call).await,
        "add_columns" => add_columns(call).await,
        "watch_table" => Err(ToolError::new(
            crate::protocol::error_codes::DEPENDENCY_MISSING,
            "watch_table is not available in roomdeck: a local room does not push table \
             changes; poll `count` or `list_versions` instead",
        )),
        _ => unary(call).await,
    }
}

async fn unary(call: &mut ToolCall) -> ToolResult {
    let args = call.json_args()?;
    let db = RoomDatabase::of(&call.room)?.dataset()?;
    match call.tool.as_str() {
        "list_tables" => {
            no_branch(&args)?;
            let ns = namespace(&args)?;
            let all = blocking(move || db.list_tables()).await?;
            let tables: Vec<String> = all
                .iter()
                .filter_map(|t| {
                    let (tns, name) = split_physical(t);
                    (tns == ns).then(|| name.to_string())
                })
                .collect();
            json_reply(json!({ "tables": tables }))
        }
        "inspect" => {
            no_branch(&args)?;
            let (_, _, table) = table_arg(&args, "table")?;
            check_version(&db, &table, &args).await?;
            let schema = blocking(move || db.schema(&table)).await?;
            let ipc = schema_to_ipc(&schema)?;
            Ok(Reply::Content(Content::binary(
                json!({"kind": "schema", "content_type": ARROW_STREAM}),
                ipc,
            )))
        }
        "drop_table" => {
            no_branch(&args)?;
            let (_, name, table) = table_arg(&args, "name")?;
            let ignore = arg_bool(&args, "ignore_missing", false)?;
            let dropped = blocking(move || db.drop_table(&table)).await?;
            if !dropped && !ignore {
                return Err(ToolError::new(
                    NOT_FOUND,
                    format!("there is no table `{name}`"),
                ));
            }
            empty()
        }
        "rename_table" => {
            no_branch(&args)?;
            let (ns, _, from) = table_arg(&args, "name")?;
            let new_name = arg_str(&args, "new_name")?.trim().to_string();
            check_name("table", &new_name)?;
            let to = physical(&ns, &new_name);
            blocking(move || db.rename_table(&from, &to)).await?;
            empty()
        }
        "drop_columns" => {
            no_branch(&args)?;
            let (_, _, table) = table_arg(&args, "table")?;
            let columns = opt_strings(&args, "columns")?
                .ok_or_else(|| ToolError::invalid("`columns` (a list of names) is required"))?;
            blocking(move || db.drop_columns(&table, &columns)).await?;
            empty()
        }
        "update" => {
            no_branch(&args)?;
            let (_, _, table) = table_arg(&args, "table")?;
            let where_ = opt_str(&args, "where")?.map(str::to_string);
            require_where(where_.as_deref(), "update")?;
            let values = set_values(&args)?;
            let g = guard(call);
            let n =
                blocking(move || db.update(&table, where_.as_deref(), &values, &Params::None, g))
                    .await?;
            json_reply(json!({ "rows_affected": n }))
        }
        "delete" => {
            no_branch(&args)?;
            let (_, _, table) = table_arg(&args, "table")?;
            let where_ = opt_str(&args, "where")?.map(str::to_string);
            require_where(where_.as_deref(), "delete")?;
            let g = guard(call);
            let n =
                blocking(move || db.delete(&table, where_.as_deref(), &Params::None, g)).await?;
            json_reply(json!({ "rows_affected": n }))
        }
        "count" => {
            no_branch(&args)?;
            let (_, _, table) = table_arg(&args, "table")?;
            check_version(&db, &table, &args).await?;
            let where_ = search::where_arg(&args)?;
            let text = opt_str(&args, "text")?.map(str::to_string);
            let text_columns = opt_strings(&args, "text_columns")?;
            let g = guard(call);
            let n = blocking(move || {
                let text = text.as_deref().map(|t| (t, text_columns.as_deref()));
                db.count(&table, where_.0.as_deref(), text, &where_.1, g)
            })
            .await?;
            json_reply(json!({ "count": n }))
        }
        "close_sql_query" => {
            let id = arg_str(&args, "query_id")?;
            RoomDatabase::of(&call.room)?.close(call, "dataset", id);
            empty()
        }
        "cancel_sql_query" => cancel(call, "dataset", &args),
        "list_versions" => {
            no_branch(&args)?;
            let (_, _, table) = table_arg(&args, "table")?;
            let (version, at) = blocking(move || db.version(&table)).await?;
            json_reply(
                json!({"versions": [{"version": version, "timestamp": at, "metadata_json": "{}"}]}),
            )
        }
        "restore" => {
            no_branch(&args)?;
            let (_, _, table) = table_arg(&args, "table")?;
            check_version(&db, &table, &args).await?;
            let t = table.clone();
            blocking(move || db.version(&t)).await?;
            empty()
        }
        "optimize" => {
            no_branch(&args)?;
            let (_, _, table) = table_arg(&args, "table")?;
            let d = db.clone();
            blocking(move || d.version(&table)).await?;
            blocking(move || db.optimize()).await?;
            json_reply(json!({"optimized_indices": true}))
        }
        "stats" => {
            no_branch(&args)?;
            let (_, _, table) = table_arg(&args, "table")?;
            let (rows, columns, version, size) = blocking(move || {
                let rows = db.row_count(&table)?;
                let columns = db.schema(&table)?.fields().len();
                let (version, _) = db.version(&table)?;
                Ok((rows, columns, version, db.size_bytes()))
            })
            .await?;
            json_reply(json!({
                "dataset": {"num_rows": rows, "num_columns": columns, "version": version, "file_size_bytes": size},
                "data": {"num_rows": rows},
            }))
        }
        "create_index" => {
            no_branch(&args)?;
            let (_, _, table) = table_arg(&args, "table")?;
            let config = args.get("config").cloned().unwrap_or(Value::Null);
            let columns: Vec<String> = match config.get("column") {
                Some(Value::String(c)) => vec![c.clone()],
                Some(Value::Array(cs)) => cs
                    .iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect(),
                _ => {
                    return Err(ToolError::invalid(
                        "`config.column` (a column or list of columns) is required",
                    ));
                }
            };
            let kind = config
                .get("index_type")
                .and_then(Value::as_str)
                .unwrap_or("BTREE")
                .to_string();
            let name = config
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string);
            blocking(move || db.create_index(&table, name.as_deref(), &columns, &kind)).await?;
            empty()
        }
        "drop_index" => {
            no_branch(&args)?;
            let (_, _, table) = table_arg(&args, "table")?;
            let name = arg_str(&args, "name")?.to_string();
            blocking(move || db.drop_index(&table, &name)).await?;
            empty()
        }
        "list_indexes" => {
            no_branch(&args)?;
            let (_, _, table) = table_arg(&args, "table")?;
            let indexes = blocking(move || db.list_indexes(&table)).await?;
            let list: Vec<Value> = indexes
                .into_iter()
                .map(|(name, columns, kind)| {
                    json!({"name": name, "columns": columns, "type": kind, "details_json": "{}", "statistics_json": "{}"})
                })
                .collect();
            json_reply(json!({ "indexes": list }))
        }
        "list_branches" => json_reply(json!({"branches": [{"name": "main"}]})),
        "create_branch" | "delete_branch" => Err(ToolError::invalid(
            "roomdeck tables have no branches; every table lives on main",
        )),
        other => Err(ToolError::invalid(format!(
            "dataset.{other} is not supported"
        ))),
    }
}

fn require_where(w: Option<&str>, verb: &str) -> Result<(), ToolError> {
    if w.is_none_or(|w| w.trim().is_empty()) {
        return Err(ToolError::invalid(format!(
            "`where` is required for {verb}; use \"true\" to {verb} every row"
        )));
    }
    Ok(())
}

/// `values`: `[{column, value_json}]` (the SDK), or an object of column -> value, plus
/// `values_sql`: column -> SQL expression.
pub(crate) fn set_values(args: &Value) -> Result<Vec<(String, SetValue)>, ToolError> {
    let mut out = Vec::new();
    let literal = |v: Value| -> SetValue {
        match v {
            Value::Object(m) if m.len() == 1 && m.contains_key("expression") => {
                SetValue::Expression(
                    m.get("expression")
                        .and_then(Value::as_str)
                        .unwrap_or("NULL")
                        .to_string(),
                )
            }
            other => SetValue::Json(convert::unwrap_value(other)),
        }
    };
    match args.get("values") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let column = item_str(item, "column", "of `values`")?;
                let value = match item.get("value_json") {
                    Some(Value::String(s)) => serde_json::from_str(s).map_err(|e| {
                        ToolError::invalid(format!(
                            "`value_json` of column `{column}` is not JSON: {e}"
                        ))
                    })?,
                    _ => item.get("value").cloned().unwrap_or(Value::Null),
                };
                out.push((column.to_string(), literal(value)));
            }
        }
        Some(Value::Object(m)) => {
            for (k, v) in m {
                out.push((k.clone(), literal(v.clone())));
            }
        }
        Some(_) => {
            return Err(ToolError::invalid(
                "`values` must be a list of {column, value_json}",
            ));
        }
    }
    if let Some(Value::Object(m)) = args.get("values_sql") {
        for (k, v) in m {
            let e = v
                .as_str()
                .ok_or_else(|| ToolError::invalid("`values_sql` values must be SQL text"))?;
            out.push((k.clone(), SetValue::Expression(e.to_string())));
        }
    }
    Ok(out)
}

pub(crate) fn cancel(call: &ToolCall, toolkit: &str, args: &Value) -> ToolResult {
    let id = arg_str(args, "query_id")?;
    let cursor = RoomDatabase::of(&call.room)?.query(call, toolkit, id)?;
    cursor.cancel();
    json_reply(json!({"status": "cancelled"}))
}

async fn add_columns(call: &mut ToolCall) -> ToolResult {
    let db = RoomDatabase::of(&call.room)?.dataset()?;
    match call.args.clone() {
        Content::Binary { headers, data } => {
            let args = Value::Object(headers);
            no_branch(&args)?;
            let (_, _, table) = table_arg(&args, "table")?;
            let (schema, _) = read_ipc(&data)?;
            let fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
            blocking(move || db.add_columns(&table, &fields)).await?;
        }
        _ => {
            let args = call.json_args()?;
            no_branch(&args)?;
            let (_, _, table) = table_arg(&args, "table")?;
            let mut columns = Vec::new();
            for c in arg_items(&args, "columns") {
                let name = item_str(c, "name", "column")?;
                check_name("column", name)?;
                let sql = c.get("value_sql").and_then(Value::as_str).unwrap_or("NULL");
                columns.push((name.to_string(), sql.to_string()));
            }
            if columns.is_empty() {
                return Err(ToolError::invalid("`columns` must list {name, value_sql}"));
            }
            let g = guard(call);
            blocking(move || db.add_columns_sql(&table, &columns, g)).await?;
        }
    }
    empty()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    Create,
    Insert,
    Merge,
}

/// `create_table`, `insert`, `merge`: start chunk, then a pull for every data chunk, then
/// close once everything is committed. Each data chunk is committed as it arrives.
async fn write_stream(call: &mut ToolCall, kind: Write) -> ToolResult {
    let (headers, payload, _) = start_chunk(call).await?;
    let args = Value::Object(headers);
    call.authorize(&args)?;
    no_branch(&args)?;
    let key = if kind == Write::Create {
        "name"
    } else {
        "table"
    };
    let (_, name, table) = table_arg(&args, key)?;
    let on = if kind == Write::Merge {
        Some(arg_str(&args, "on")?.to_string())
    } else {
        None
    };
    let mode = CreateMode::parse(opt_str(&args, "mode")?)?;
    let db = RoomDatabase::of(&call.room)?.dataset()?;
    let metadata = metadata_arg(&args);
    let mut schema: Option<Arc<Schema>> = None;
    let mut skip = false;
    if kind == Write::Create && !payload.is_empty() {
        let (s, _) = read_ipc(&payload)?;
        let s = Arc::new(with_metadata(&s, &metadata));
        let (d, t, s2) = (db.clone(), table.clone(), s.clone());
        let created = blocking(move || d.create_table(&t, &s2, mode)).await?;
        skip = !created;
        schema = Some(s);
    }
    let stream = call.open_stream().await?;
    loop {
        if stream.send(&pull_chunk()).await.is_err() {
            return Ok(Reply::Streamed);
        }
        let Some(chunk) = call.next_request().await else {
            break;
        };
        let batches = match chunk {
            Content::Binary { headers, data } => {
                if headers.get("kind").and_then(Value::as_str) != Some("data") {
                    return Err(ToolError::invalid("expected a data chunk"));
                }
                read_ipc(&data)?
            }
            Content::Json(v) if v.get("kind").and_then(Value::as_str) == Some("rows") => {
                let rows = json_rows(&v)?;
                let s = match &schema {
                    Some(s) => s.clone(),
                    None if kind != Write::Create => {
                        // Rows for an existing table take its column types.
                        let (d, t) = (db.clone(), table.clone());
                        let s = Arc::new(blocking(move || d.schema(&t)).await?);
                        schema = Some(s.clone());
                        s
                    }
                    None => Arc::new(with_metadata(&schema_of_rows(&rows), &metadata)),
                };
                let batch = TableStore::rows_to_batch(&s, &plain_rows(rows))?;
                (s, vec![batch])
            }
            other => {
                return Err(ToolError::invalid(format!(
                    "expected a data chunk, not {}",
                    other.kind()
                )));
            }
        };
        let (batch_schema, batches) = batches;
        if kind == Write::Create && schema.is_none() {
            let s = Arc::new(with_metadata(&batch_schema, &metadata));
            let (d, t, s2) = (db.clone(), table.clone(), s.clone());
            skip = !blocking(move || d.create_table(&t, &s2, mode)).await?;
            schema = Some(s);
        }
        if skip {
            continue;
        }
        for batch in batches {
            let (d, t, on) = (db.clone(), table.clone(), on.clone());
            blocking(move || match on {
                Some(on) => d.merge(&t, &on, &batch),
                None => d.insert(&t, &batch),
            })
            .await?;
        }
    }
    if kind == Write::Create && schema.is_none() {
        return Err(ToolError::invalid(format!(
            "create_table `{name}` needs a schema or some data"
        )));
    }
    stream.close().await;
    Ok(Reply::Streamed)
}

fn metadata_arg(args: &Value) -> Vec<(String, String)> {
    arg_items(args, "metadata")
        .filter_map(|e| {
            Some((
                e.get("key")?.as_str()?.to_string(),
                e.get("value")?.as_str()?.to_string(),
            ))
        })
        .collect()
}

fn with_metadata(schema: &Schema, extra: &[(String, String)]) -> Schema {
    let mut md = schema.metadata().clone();
    for (k, v) in extra {
        md.insert(k.clone(), v.clone());
    }
    Schema::new_with_metadata(schema.fields().clone(), md)
}

/// `{"kind":"rows","rows":[{"columns":[{"name","value"}]}]}` as plain JSON objects.
fn json_rows(v: &Value) -> Result<Vec<Map<String, Value>>, ToolError> {
    let mut out = Vec::new();
    for row in arg_items(v, "rows") {
        let mut m = Map::new();
        for col in arg_items(row, "columns") {
            let name = item_str(col, "name", "row column")?;
            m.insert(
                name.to_string(),
                col.get("value").cloned().unwrap_or(Value::Null),
            );
        }
        out.push(m);
    }
    Ok(out)
}

/// A schema for rows of JSON (wrappers decide dates, binary, lists, …); then the wrappers go.
fn schema_of_rows(rows: &[Map<String, Value>]) -> Schema {
    let mut names: Vec<&String> = Vec::new();
    for r in rows {
        for k in r.keys() {
            if !names.contains(&k) {
                names.push(k);
            }
        }
    }
    let fields: Vec<Field> = names
        .iter()
        .map(|n| {
            let values: Vec<&Value> = rows.iter().filter_map(|r| r.get(*n)).collect();
            Field::new(n.as_str(), convert::infer_json_type(&values), true)
        })
        .collect();
    Schema::new(fields)
}

/// Rows of JSON with wrappers removed, ready for `rows_to_batch`.
pub(crate) fn plain_rows(rows: Vec<Map<String, Value>>) -> Vec<Map<String, Value>> {
    rows.into_iter()
        .map(|r| {
            r.into_iter()
                .map(|(k, v)| (k, convert::unwrap_value(v)))
                .collect()
        })
        .collect()
}

/// `read_sql_query`: stream an open query's batches.
pub(crate) async fn read_sql_query(
    call: &mut ToolCall,
    toolkit: &'static str,
    strict: bool,
) -> ToolResult {
    let (headers, _, _) = start_chunk(call).await?;
    let args = Value::Object(headers);
    call.authorize(&args)?;
    let id = arg_str(&args, "query_id")?;
    let cursor = RoomDatabase::of(&call.room)?.query(call, toolkit, id)?;
    shared::serve_cursor(call, cursor, strict).await?;
    Ok(Reply::Streamed)
}

/// SQL parameters from an Arrow table of one row: by column name, or in column order.
pub(crate) fn arrow_params(data: &[u8]) -> Result<Params, ToolError> {
    if data.is_empty() {
        return Ok(Params::None);
    }
    let (schema, batches) = read_ipc(data)?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if rows == 0 && schema.fields().is_empty() {
        return Ok(Params::None);
    }
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Err(ToolError::invalid(
            "`params` must be a table of exactly one row",
        ));
    };
    if rows != 1 {
        return Err(ToolError::invalid(format!(
            "`params` must be a table of exactly one row, not {rows}"
        )));
    }
    let mut values = Vec::new();
    for (f, col) in schema.fields().iter().zip(batch.columns()) {
        values.push((
            f.name().clone(),
            convert::array_value_to_sqlite(col.as_ref(), 0)?,
        ));
    }
    Ok(Params::Auto(values))
}

async fn execute_sql(call: &mut ToolCall) -> ToolResult {
    let (headers, data) = match &call.args {
        Content::Binary { headers, data } => (Value::Object(headers.clone()), data.clone()),
        Content::Json(v) => (v.clone(), Vec::new()),
        other => {
            return Err(ToolError::invalid(format!(
                "{} takes binary arguments (headers + Arrow params), not {}",
                call.tool,
                other.kind()
            )));
        }
    };
    no_branch(&headers)?;
    let query = arg_str(&headers, "query")?.to_string();
    let ns = namespace(&headers)?;
    let mut refs = Vec::new();
    for t in arg_items(&headers, "tables") {
        let t = match t {
            Value::String(s) => json!({"name": s}),
            other => other.clone(),
        };
        let name = arg_str(&t, "name")?.to_string();
        check_name("table", &name)?;
        let tns = match t.get("namespace") {
            None | Some(Value::Null) => ns.clone(),
            Some(_) => namespace(&t)?,
        };
        let alias = opt_str(&t, "alias")?.unwrap_or(&name).to_string();
        refs.push((alias, physical(&tns, &name)));
    }
    let params = arrow_params(&data)?;
    let mode = sql_mode(&call.tool);
    let db = RoomDatabase::of(&call.room)?.dataset()?;
    let g = guard(call);
    let spec = QuerySpec {
        sql: query,
        params,
        views: refs,
        guard: g,
        batch_rows: BATCH_ROWS,
        mode,
        interrupt: None,
    };
    let opened = shared::open_query(call, db, spec, move |db| {
        // A query in a namespace also sees that namespace's tables by their short names.
        let mut views = Vec::new();
        if !ns.is_empty() {
            for t in db.list_tables()? {
                let (tns, name) = split_physical(&t);
                if tns == ns {
                    views.push((name.to_string(), t.clone()));
                }
            }
        }
        Ok(views)
    })
    .await?;
    sql_answer(call, "dataset", opened, Some(ARROW_STREAM))
}

/// How `execute_sql`, `open_sql_query` and `execute_sql_statement` run their statement.
pub(crate) fn sql_mode(tool: &str) -> Mode {
    match tool {
        "open_sql_query" => Mode::RowsOnly,
        "execute_sql_statement" => Mode::StatementOnly,
        _ => Mode::Any,
    }
}

/// What those three tools answer: the rows a statement changed, or the handle of the open
/// query with its result's schema (sqlite's handle header is exactly `{kind, query_id}`;
/// dataset's also names the `content_type`).
pub(crate) fn sql_answer(
    call: &ToolCall,
    toolkit: &'static str,
    opened: Opened,
    content_type: Option<&str>,
) -> ToolResult {
    match opened {
        Opened::Statement(n) if call.tool == "execute_sql_statement" => {
            json_reply(json!({ "rows_affected": n }))
        }
        Opened::Statement(n) => json_reply(json!({"kind": "statement", "rows_affected": n})),
        Opened::Rows(cursor) => {
            let ipc = schema_to_ipc(&cursor.schema)?;
            let id = RoomDatabase::of(&call.room)?.register(call, toolkit, cursor)?;
            let mut header = json!({"kind": "query", "query_id": id});
            if let Some(t) = content_type {
                header["content_type"] = json!(t);
            }
            Ok(Reply::Content(Content::binary(header, ipc)))
        }
    }
}

impl From<ToolError> for StoreError {
    fn from(e: ToolError) -> StoreError {
        if e.code == INVALID_REQUEST {
            StoreError::Invalid(e.message)
        } else {
            StoreError::Io(e.message)
        }
    }
}
