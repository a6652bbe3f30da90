//! `memory`: the room's memories (knowledge graphs), as the SDK's `MemoryClient` calls them
//! (`rsc.py:9446-9893`). The store is `store::memory`; this module reads the arguments, runs
//! the work off the async threads and answers in the SDK's shapes.

use std::io::Read;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::protocol::error_codes::{
    DEPENDENCY_MISSING, INVALID_REQUEST, MEMORY_ALREADY_EXISTS, MEMORY_NOT_FOUND, OPERATION_FAILED,
};
use crate::server::call::{ToolCall, ToolError, ToolResult, arg_bool, arg_str, empty, json_reply};
use crate::server::room::Room;
use crate::store::memory::ingest::{IngestResult, SourceInfo};
use crate::store::memory::{
    EntityRecord, MAX_TEXT, Memories, MemoryDb, MemoryError, MemoryRef, RelationshipRecord,
    RelationshipSelector, cypher, parse_records,
};

use super::spec::{ANSWERS_EMPTY, Arg, NAMESPACE, Tool, Ty, opt, req, tool};

pub(crate) const TOOLKIT: super::Toolkit = super::Toolkit::new(
    "memory",
    "Room memories: knowledge graphs with full-text recall",
    &crate::auth::check::MEMORY,
    TOOLS,
    |call| Box::pin(invoke(call)),
)
// `<room>/memory/`, opened memory by memory on first use.
.on_open(|dir| Arc::new(Memories::new(dir)));

const NAME: Arg = req("name", Ty::Str, "the memory's name");
const MERGE: Arg = opt(
    "merge",
    Ty::Bool,
    "merge with records of the same id (else replace them)",
)
.or("true");
const RECORDS: Arg = req(
    "records_json",
    Ty::Str,
    "the records: a JSON list of objects, encoded as a string",
);
const STRATEGY: Arg = opt(
    "strategy",
    Ty::Str,
    "how text becomes entities (`heuristic`; LLM strategies are not available locally)",
)
.or("\"heuristic\"");
const LLM_MODEL: Arg = opt(
    "llm_model",
    Ty::Str,
    "the model of an LLM strategy (unused locally)",
);
const LLM_TEMPERATURE: Arg = opt(
    "llm_temperature",
    Ty::Num,
    "the temperature of an LLM strategy (unused locally)",
);
const MIME_TYPE: Arg = opt("mime_type", Ty::Str, "the content's MIME type");

const TOOLS: &[Tool] = &[
    tool("list", "Memories in a namespace", &[NAMESPACE]),
    tool(
        "create",
        "Create a memory",
        &[
            NAME,
            NAMESPACE,
            opt("overwrite", Ty::Bool, "replace a memory of that name").or("false"),
            opt("ignore_exists", Ty::Bool, "succeed if it already exists").or("false"),
        ],
    )
    .answers(ANSWERS_EMPTY),
    tool(
        "drop",
        "Delete a memory",
        &[
            NAME,
            NAMESPACE,
            opt(
                "ignore_missing",
                Ty::Bool,
                "succeed if there is no such memory",
            )
            .or("false"),
        ],
    )
    .answers(ANSWERS_EMPTY),
    tool(
        "inspect",
        "A memory's datasets and their sizes",
        &[NAME, NAMESPACE],
    ),
    tool(
        "query",
        "Run a statement of roomdeck's Cypher subset",
        &[
            NAME,
            NAMESPACE,
            req(
                "statement",
                Ty::Str,
                "the Cypher statement, e.g. `MATCH (n) RETURN n`",
            ),
        ],
    ),
    tool(
        "upsert_table",
        "Write rows to a free-form table of a memory",
        &[
            NAME,
            NAMESPACE,
            req("table", Ty::Str, "the table's name"),
            RECORDS,
            MERGE,
        ],
    )
    .answers(ANSWERS_EMPTY),
    tool(
        "upsert_nodes",
        "Write entity nodes",
        &[NAME, NAMESPACE, RECORDS, MERGE],
    )
    .answers(ANSWERS_EMPTY),
    tool(
        "upsert_relationships",
        "Write relationship edges",
        &[NAME, NAMESPACE, RECORDS, MERGE],
    )
    .answers(ANSWERS_EMPTY),
    tool(
        "ingest_text",
        "Store text as chunks, names and links",
        &[
            NAME,
            NAMESPACE,
            req("text", Ty::Str, "the text to ingest"),
            STRATEGY,
            LLM_MODEL,
            LLM_TEMPERATURE,
        ],
    ),
    tool(
        "ingest_image",
        "Store an image's caption as text",
        &[
            NAME,
            NAMESPACE,
            opt(
                "caption",
                Ty::Str,
                "what the image shows: the text that is stored",
            ),
            opt("data_base64", Ty::Str, "the image's bytes, base64-encoded"),
            MIME_TYPE,
            opt("source", Ty::Str, "where the image came from"),
            opt(
                "annotations_json",
                Ty::Str,
                "labels for the image: a JSON object of strings, encoded as a string",
            ),
            STRATEGY,
            LLM_MODEL,
            LLM_TEMPERATURE,
        ],
    ),
    tool(
        "ingest_file",
        "Store a text file of the room (or given text)",
        &[
            NAME,
            NAMESPACE,
            opt("path", Ty::Str, "a text file in the room's storage"),
            opt(
                "text",
                Ty::Str,
                "the file's text, when it is not read from storage",
            ),
            MIME_TYPE,
            STRATEGY,
            LLM_MODEL,
            LLM_TEMPERATURE,
        ],
    ),
    tool(
        "ingest_from_table",
        "Not available in roomdeck",
        &[
            NAME,
            NAMESPACE,
            req("table", Ty::Str, "the dataset table to read"),
            opt("table_namespace", Ty::StrList, "the table's namespace"),
            opt("text_columns", Ty::StrList, "the columns holding text"),
            opt("limit", Ty::Int, "read at most this many rows"),
            STRATEGY,
            LLM_MODEL,
            LLM_TEMPERATURE,
        ],
    ),
    tool(
        "ingest_from_storage",
        "Store text files of the room's storage",
        &[
            NAME,
            NAMESPACE,
            req("paths", Ty::StrList, "text files in the room's storage"),
            STRATEGY,
            LLM_MODEL,
            LLM_TEMPERATURE,
        ],
    ),
    tool(
        "recall",
        "Entities ranked by full-text relevance (BM25)",
        &[
            NAME,
            NAMESPACE,
            req("query", Ty::Str, "the words to look for"),
            opt("limit", Ty::Int, "at most this many entities").or("5"),
            opt(
                "include_relationships",
                Ty::Bool,
                "also answer the relationships between them",
            )
            .or("true"),
        ],
    ),
    tool(
        "delete_entities",
        "Delete entities and their relationships",
        &[
            NAME,
            NAMESPACE,
            req(
                "entity_ids",
                Ty::StrList,
                "the ids of the entities to delete",
            ),
        ],
    ),
    tool(
        "delete_relationships",
        "Delete relationship edges",
        &[
            NAME,
            NAMESPACE,
            req(
                "relationships",
                Ty::ObjList,
                "objects with `source_entity_id`, `target_entity_id` and an optional \
                 `relationship_type`",
            ),
        ],
    ),
    tool(
        "optimize",
        "Compact a memory's database",
        &[
            NAME,
            NAMESPACE,
            opt("compact", Ty::Bool, "compact the database file").or("true"),
            opt("cleanup", Ty::Bool, "remove what old versions left behind").or("true"),
        ],
    ),
];

/// Files read by one `ingest_from_storage`.
const MAX_STORAGE_FILES: usize = 100;

impl From<MemoryError> for ToolError {
    fn from(e: MemoryError) -> ToolError {
        let code = match &e {
            MemoryError::NotFound(_) => MEMORY_NOT_FOUND,
            MemoryError::Exists(_) => MEMORY_ALREADY_EXISTS,
            MemoryError::Invalid(_) => INVALID_REQUEST,
            MemoryError::Storage(_) | MemoryError::Io(_) => OPERATION_FAILED,
        };
        ToolError::new(code, e.to_string())
    }
}

/// Runs store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ToolError> + Send + 'static,
) -> Result<T, ToolError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ToolError::new(OPERATION_FAILED, format!("the memory task failed: {e}")))?
}

fn namespace(args: &Value) -> Result<Vec<String>, ToolError> {
    match args.get("namespace") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ToolError::invalid("`namespace` must be a list of names"))
            })
            .collect(),
        Some(_) => Err(ToolError::invalid("`namespace` must be a list of names")),
    }
}

fn memory_ref(args: &Value) -> Result<MemoryRef, ToolError> {
    Ok(MemoryRef::new(namespace(args)?, arg_str(args, "name")?)?)
}

fn opt_str<'a>(args: &'a Value, key: &str) -> Result<Option<&'a str>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ToolError::invalid(format!("`{key}` must be a string"))),
    }
}

fn ns_json(m: &MemoryRef) -> Value {
    if m.namespace.is_empty() {
        Value::Null
    } else {
        json!(m.namespace)
    }
}

/// The SDK's `MemoryIngestResult`.
fn ingest_answer(name: &str, r: IngestResult) -> ToolResult {
    json_reply(json!({
        "name": name,
        "stats": {"entities": r.entities, "relationships": r.relationships, "sources": r.sources},
        "entity_ids": r.entity_ids,
    }))
}

/// Only the heuristic runs here; `llm` is answered by it too, since roomdeck has no model.
fn check_strategy(args: &Value) -> Result<(), ToolError> {
    match opt_str(args, "strategy")? {
        None | Some("heuristic") | Some("llm") => Ok(()),
        Some(other) => Err(ToolError::invalid(format!(
            "`strategy` is `heuristic` or `llm`, not `{other}`"
        ))),
    }
}

pub(crate) async fn invoke(call: &mut ToolCall) -> ToolResult {
    let args = call.json_args()?;
    let room = call.room.clone();
    let memories: Arc<Memories> = room.toolkit_state.get()?;
    if call.tool == "list" {
        let ns = namespace(&args)?;
        let names = blocking(move || Ok(memories.list(&ns)?)).await?;
        return json_reply(json!({ "memories": names }));
    }
    let m = memory_ref(&args)?;
    match call.tool.as_str() {
        "create" => {
            let overwrite = arg_bool(&args, "overwrite", false)?;
            let ignore_exists = arg_bool(&args, "ignore_exists", false)?;
            blocking(move || Ok(memories.create(&m, overwrite, ignore_exists)?)).await?;
            empty()
        }
        "drop" => {
            let ignore_missing = arg_bool(&args, "ignore_missing", false)?;
            let name = m.name.clone();
            let dropped = blocking(move || Ok(memories.drop_memory(&m)?)).await?;
            if !dropped && !ignore_missing {
                return Err(MemoryError::NotFound(name).into());
            }
            empty()
        }
        "inspect" => {
            let (name, ns, path) = (m.name.clone(), ns_json(&m), m.display_path());
            let datasets = with_memory(&room, m, |db| Ok(db.datasets()?)).await?;
            let datasets: Vec<Value> = datasets
                .into_iter()
                .map(|d| json!({"name": d.name, "rows": d.rows, "columns": d.columns}))
                .collect();
            json_reply(json!({"name": name, "namespace": ns, "path": path, "datasets": datasets}))
        }
        "query" => {
            let statement = arg_str(&args, "statement")?.to_string();
            let result = with_memory(&room, m, move |db| Ok(db.query(&statement)?)).await?;
            let results: Vec<Value> = result
                .rows
                .into_iter()
                .map(|row| {
                    let record: serde_json::Map<String, Value> = result
                        .columns
                        .iter()
                        .cloned()
                        .zip(row.into_iter().map(cypher::encode_value))
                        .collect();
                    Value::Object(record)
                })
                .collect();
            json_reply(json!({ "results": results }))
        }
        "upsert_nodes" => {
            let records: Vec<EntityRecord> =
                parse_records(arg_str(&args, "records_json")?, "MemoryEntityRecord")?;
            let merge = arg_bool(&args, "merge", true)?;
            with_memory(&room, m, move |db| Ok(db.upsert_entities(&records, merge)?)).await?;
            empty()
        }
        "upsert_relationships" => {
            let records: Vec<RelationshipRecord> =
                parse_records(arg_str(&args, "records_json")?, "MemoryRelationshipRecord")?;
            let merge = arg_bool(&args, "merge", true)?;
            with_memory(&room, m, move |db| {
                Ok(db.upsert_relationships(&records, merge)?)
            })
            .await?;
            empty()
        }
        "upsert_table" => {
            let table = arg_str(&args, "table")?.to_string();
            let records: Vec<Value> = parse_records(arg_str(&args, "records_json")?, "table")?;
            let merge = arg_bool(&args, "merge", true)?;
            with_memory(&room, m, move |db| {
                Ok(db.upsert_table(&table, records, merge)?)
            })
            .await?;
            empty()
        }
        "ingest_text" => {
            check_strategy(&args)?;
            let text = arg_str(&args, "text")?.to_string();
            let name = m.name.clone();
            let r = with_memory(&room, m, move |db| {
                Ok(db.ingest_text(
                    &text,
                    &SourceInfo {
                        kind: "text",
                        ..Default::default()
                    },
                )?)
            })
            .await?;
            ingest_answer(&name, r)
        }
        "ingest_image" => {
            check_strategy(&args)?;
            let Some(caption) = opt_str(&args, "caption")?.filter(|c| !c.trim().is_empty()) else {
                return Err(ToolError::new(
                    DEPENDENCY_MISSING,
                    "roomdeck has no vision model to describe an image; pass a `caption` and it is stored as text",
                ));
            };
            let caption = caption.to_string();
            let source = opt_str(&args, "source")?.map(str::to_string);
            let mime = opt_str(&args, "mime_type")?.map(str::to_string);
            let name = m.name.clone();
            let r = with_memory(&room, m, move |db| {
                Ok(db.ingest_text(
                    &caption,
                    &SourceInfo {
                        kind: "image",
                        path: source.as_deref(),
                        mime_type: mime.as_deref(),
                    },
                )?)
            })
            .await?;
            ingest_answer(&name, r)
        }
        "ingest_file" => {
            check_strategy(&args)?;
            let mime = opt_str(&args, "mime_type")?.map(str::to_string);
            let name = m.name.clone();
            let (text, path) = match (opt_str(&args, "text")?, opt_str(&args, "path")?) {
                (Some(text), path) => (text.to_string(), path.map(str::to_string)),
                (None, Some(path)) => {
                    let path = crate::store::files::normalize(path)?;
                    let r2 = room.clone();
                    let p2 = path.clone();
                    let text = blocking(move || read_text(&r2, &p2)).await?;
                    (text, Some(path))
                }
                (None, None) => {
                    return Err(ToolError::invalid(
                        "ingest_file needs `path` (a file in the room's storage) or `text`",
                    ));
                }
            };
            let r = with_memory(&room, m, move |db| {
                Ok(db.ingest_text(
                    &text,
                    &SourceInfo {
                        kind: "file",
                        path: path.as_deref(),
                        mime_type: mime.as_deref(),
                    },
                )?)
            })
            .await?;
            ingest_answer(&name, r)
        }
        "ingest_from_storage" => {
            check_strategy(&args)?;
            let paths: Vec<String> = match args.get("paths") {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| ToolError::invalid("`paths` must be a list of strings"))
                    })
                    .collect::<Result<_, _>>()?,
                _ => {
                    return Err(ToolError::invalid(
                        "argument `paths` (a list of strings) is required",
                    ));
                }
            };
            if paths.is_empty() || paths.len() > MAX_STORAGE_FILES {
                return Err(ToolError::invalid(format!(
                    "`paths` lists 1 to {MAX_STORAGE_FILES} files"
                )));
            }
            let paths: Vec<String> = paths
                .iter()
                .map(|p| crate::store::files::normalize(p))
                .collect::<Result<_, _>>()?;
            let name = m.name.clone();
            let r2 = room.clone();
            let texts = blocking(move || {
                paths
                    .into_iter()
                    .map(|p| read_text(&r2, &p).map(|t| (p, t)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
            let r = with_memory(&room, m, move |db| {
                let mut total = IngestResult::default();
                for (path, text) in &texts {
                    let mime = crate::store::files::guess_mime_type(path);
                    let one = db.ingest_text(
                        text,
                        &SourceInfo {
                            kind: "storage",
                            path: Some(path),
                            mime_type: Some(mime),
                        },
                    )?;
                    total.entities += one.entities;
                    total.relationships += one.relationships;
                    total.sources += one.sources;
                    for id in one.entity_ids {
                        if !total.entity_ids.contains(&id) {
                            total.entity_ids.push(id);
                        }
                    }
                }
                total.entities = total.entity_ids.len() as u64;
                Ok(total)
            })
            .await?;
            ingest_answer(&name, r)
        }
        "ingest_from_table" => Err(ToolError::new(
            DEPENDENCY_MISSING,
            "ingest_from_table is not available in roomdeck; read the rows (dataset search) and send their text with ingest_text",
        )),
        "recall" => {
            let query = arg_str(&args, "query")?.to_string();
            let limit = match args.get("limit") {
                None | Some(Value::Null) => 5,
                Some(v) => v
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| ToolError::invalid("`limit` must be a positive whole number"))?,
            };
            let include = arg_bool(&args, "include_relationships", true)?;
            let name = m.name.clone();
            let q = query.clone();
            let items = with_memory(&room, m, move |db| Ok(db.recall(&q, limit, include)?)).await?;
            json_reply(json!({"name": name, "query": query, "items": items}))
        }
        "delete_entities" => {
            let ids: Vec<String> = match args.get("entity_ids") {
                Some(v @ Value::Array(_)) => serde_json::from_value(v.clone())
                    .map_err(|_| ToolError::invalid("`entity_ids` must be a list of strings"))?,
                _ => {
                    return Err(ToolError::invalid(
                        "argument `entity_ids` (a list of strings) is required",
                    ));
                }
            };
            let name = m.name.clone();
            let (entities, rels) =
                with_memory(&room, m, move |db| Ok(db.delete_entities(&ids)?)).await?;
            json_reply(
                json!({"name": name, "deleted_entities": entities, "deleted_relationships": rels}),
            )
        }
        "delete_relationships" => {
            let selectors: Vec<RelationshipSelector> = match args.get("relationships") {
                Some(v @ Value::Array(_)) => serde_json::from_value(v.clone()).map_err(|e| {
                    ToolError::invalid(format!(
                        "`relationships` must be a list of {{source_entity_id, target_entity_id, relationship_type?}}: {e}"
                    ))
                })?,
                _ => return Err(ToolError::invalid("argument `relationships` (a list) is required")),
            };
            let name = m.name.clone();
            let n =
                with_memory(&room, m, move |db| Ok(db.delete_relationships(&selectors)?)).await?;
            json_reply(json!({"name": name, "deleted_relationships": n}))
        }
        "optimize" => {
            let compact = arg_bool(&args, "compact", true)?;
            let cleanup = arg_bool(&args, "cleanup", true)?;
            let name = m.name.clone();
            let stats = with_memory(&room, m, move |db| Ok(db.optimize(compact, cleanup)?)).await?;
            json_reply(json!({"name": name, "datasets": [{
                "dataset": "memory",
                "fragments_added": 0, "fragments_removed": 0, "files_added": 0, "files_removed": 0,
                "old_versions_removed": 0, "bytes_removed": stats.bytes_removed,
            }]}))
        }
        other => Err(ToolError::invalid(format!(
            "memory.{other} is not supported"
        ))),
    }
}

/// Runs `f` on an existing memory off the async threads.
async fn with_memory<T: Send + 'static>(
    room: &Arc<Room>,
    m: MemoryRef,
    f: impl FnOnce(&MemoryDb) -> Result<T, ToolError> + Send + 'static,
) -> Result<T, ToolError> {
    let memories: Arc<Memories> = room.toolkit_state.get()?;
    blocking(move || {
        let db = memories.get(&m)?;
        f(&db)
    })
    .await
}

/// A UTF-8 text file of the room's storage, at most `MAX_TEXT` bytes.
fn read_text(room: &Room, path: &str) -> Result<String, ToolError> {
    let (file, size) = room.files.open_read(path)?;
    if size > MAX_TEXT as u64 {
        return Err(ToolError::invalid(format!(
            "`{path}` is larger than {MAX_TEXT} bytes; memory ingests text files up to that size"
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_TEXT as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ToolError::new(OPERATION_FAILED, format!("reading `{path}`: {e}")))?;
    String::from_utf8(bytes).map_err(|_| {
        ToolError::invalid(format!(
            "`{path}` is not UTF-8 text; memory ingests text files only"
        ))
    })
}
