//! The `dataset` toolkit from the client side: tables, rows as JSON, SQL.
//!
//! Rows go to the server as the JSON rows chunks of the write streams (the server types them
//! by the table's schema); results come back as Arrow batches and are handed out as JSON
//! objects with the result's schema.

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde_json::{Map, Value, json};

use super::{ClientError, RoomClient, ToolStream};
use crate::protocol::Content;
use crate::protocol::arrow::{self, ArrowDataError, read_ipc, schema_to_ipc};

/// A result: its columns and rows.
#[derive(Debug, Clone)]
pub struct Rows {
    pub schema: SchemaRef,
    pub rows: Vec<Map<String, Value>>,
}

/// What `sql` ran into: rows, or a statement that changed some.
#[derive(Debug, Clone)]
pub enum SqlResult {
    Rows(Rows),
    Statement { rows_affected: u64 },
}

pub struct DatasetClient {
    room: RoomClient,
}

fn protocol(what: &str, got: &Content) -> ClientError {
    ClientError::Protocol(format!("dataset.{what} answered {}", got.kind()))
}

fn arrow(e: ArrowDataError) -> ClientError {
    ClientError::Protocol(e.to_string())
}

/// Reads a read stream (`search`, `read_sql_query`) to its end.
async fn drain(mut stream: ToolStream, what: &str) -> Result<Rows, ClientError> {
    let mut schema = None;
    let mut rows = Vec::new();
    stream.send(pull()).await?;
    while let Some(chunk) = stream.next().await {
        match chunk? {
            Content::Binary { data, .. } => {
                let (s, batches) = read_ipc(&data).map_err(arrow)?;
                for b in &batches {
                    rows.extend(arrow::batch_rows(b));
                }
                schema.get_or_insert(s);
                stream.send(pull()).await?;
            }
            other => return Err(protocol(what, &other)),
        }
    }
    stream.close().await;
    Ok(Rows {
        schema: schema.unwrap_or_else(|| std::sync::Arc::new(Schema::empty())),
        rows,
    })
}

fn pull() -> Content {
    Content::binary(json!({"kind": "pull"}), Vec::new())
}

/// Writes through a write stream: start, then one chunk per pull, then close.
async fn write(
    mut stream: ToolStream,
    mut chunks: Vec<Content>,
    what: &str,
) -> Result<(), ClientError> {
    chunks.reverse();
    while let Some(chunk) = stream.next().await {
        match chunk? {
            Content::Binary { .. } | Content::Json(_) => match chunks.pop() {
                Some(c) => stream.send(c).await?,
                None => stream.close().await,
            },
            other => return Err(protocol(what, &other)),
        }
    }
    Ok(())
}

impl DatasetClient {
    pub(super) fn new(room: RoomClient) -> DatasetClient {
        DatasetClient { room }
    }

    async fn call(&self, tool: &str, args: Value) -> Result<Content, ClientError> {
        self.room.invoke("dataset", tool, Content::Json(args)).await
    }

    pub async fn list_tables(&self) -> Result<Vec<String>, ClientError> {
        let answer = self
            .call("list_tables", json!({"namespace": null, "branch": null}))
            .await?;
        let tables = match &answer {
            Content::Json(v) => v.get("tables").and_then(Value::as_array),
            _ => None,
        }
        .ok_or_else(|| protocol("list_tables", &answer))?;
        Ok(tables
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect())
    }

    pub async fn inspect(&self, table: &str) -> Result<SchemaRef, ClientError> {
        let answer = self.call("inspect", json!({"table": table})).await?;
        let Content::Binary { data, .. } = &answer else {
            return Err(protocol("inspect", &answer));
        };
        Ok(read_ipc(data).map_err(arrow)?.0)
    }

    pub async fn create_table(
        &self,
        name: &str,
        fields: Vec<Field>,
        mode: &str,
    ) -> Result<(), ClientError> {
        let schema = schema_to_ipc(&Schema::new(fields)).map_err(arrow)?;
        let start = Content::binary(
            json!({"kind": "start", "name": name, "mode": mode, "namespace": null, "branch": null, "metadata": null}),
            schema,
        );
        let stream = self
            .room
            .invoke_stream("dataset", "create_table", Some(start))
            .await?;
        write(stream, Vec::new(), "create_table").await
    }

    /// Appends JSON rows (objects of column -> value), typed by the table's schema.
    pub async fn insert(
        &self,
        table: &str,
        rows: &[Map<String, Value>],
    ) -> Result<(), ClientError> {
        let start = Content::binary(
            json!({"kind": "start", "table": table, "namespace": null, "branch": null}),
            Vec::new(),
        );
        let stream = self
            .room
            .invoke_stream("dataset", "insert", Some(start))
            .await?;
        let chunks = rows
            .chunks(1000)
            .map(|part| {
                let rows: Vec<Value> = part
                    .iter()
                    .map(|r| {
                        let columns: Vec<Value> = r
                            .iter()
                            .map(|(k, v)| json!({"name": k, "value": v}))
                            .collect();
                        json!({ "columns": columns })
                    })
                    .collect();
                Content::Json(json!({"kind": "rows", "rows": rows}))
            })
            .collect();
        write(stream, chunks, "insert").await
    }

    pub async fn count(&self, table: &str, where_: Option<&str>) -> Result<u64, ClientError> {
        let answer = self
            .call("count", json!({"table": table, "where": where_}))
            .await?;
        match &answer {
            Content::Json(v) => v.get("count").and_then(Value::as_u64),
            _ => None,
        }
        .ok_or_else(|| protocol("count", &answer))
    }

    pub async fn search(
        &self,
        table: &str,
        where_: Option<&str>,
        select: Option<Vec<String>>,
        limit: Option<u64>,
        text: Option<&str>,
    ) -> Result<Rows, ClientError> {
        let start = Content::binary(
            json!({"kind": "start", "table": table, "text": text, "vector": null, "text_columns": null,
                   "where": where_, "offset": null, "limit": limit, "select": select,
                   "namespace": null, "branch": null, "version": null}),
            Vec::new(),
        );
        let stream = self
            .room
            .invoke_stream("dataset", "search", Some(start))
            .await?;
        drain(stream, "search").await
    }

    /// Runs SQL: a query's rows (read in batches), or a statement's count of changed rows.
    pub async fn sql(&self, query: &str) -> Result<SqlResult, ClientError> {
        let mut open = match self.open_sql(query).await? {
            SqlOpened::Statement { rows_affected } => {
                return Ok(SqlResult::Statement { rows_affected });
            }
            SqlOpened::Query(q) => q,
        };
        let mut rows = Vec::new();
        let read = async {
            while let Some(batch) = open.next_batch().await? {
                rows.extend(arrow::batch_rows(&batch));
            }
            Ok::<_, ClientError>(())
        }
        .await;
        let closed = open.close().await;
        read?;
        closed?;
        Ok(SqlResult::Rows(Rows {
            schema: open.schema.clone(),
            rows,
        }))
    }

    /// Starts SQL: a statement runs to its end; a query is opened and its rows are read
    /// with [`SqlQuery::next_batch`], one bounded Arrow batch at a time.
    pub async fn open_sql(&self, query: &str) -> Result<SqlOpened, ClientError> {
        let args = Content::binary(
            json!({"query": query, "tables": [], "namespace": null, "branch": null}),
            Vec::new(),
        );
        let answer = self.room.invoke("dataset", "execute_sql", args).await?;
        match &answer {
            Content::Json(v) => Ok(SqlOpened::Statement {
                rows_affected: v.get("rows_affected").and_then(Value::as_u64).unwrap_or(0),
            }),
            Content::Binary { headers, data } => {
                let id = headers
                    .get("query_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| protocol("execute_sql", &answer))?
                    .to_string();
                Ok(SqlOpened::Query(SqlQuery {
                    schema: read_ipc(data).map_err(arrow)?.0,
                    id,
                    client: self.room.clone(),
                    stream: None,
                    pending: Default::default(),
                    done: false,
                }))
            }
            _ => Err(protocol("execute_sql", &answer)),
        }
    }
}

/// What `open_sql` started.
pub enum SqlOpened {
    Statement { rows_affected: u64 },
    Query(SqlQuery),
}

/// An open query on the server: read its batches, then close it (a query left open is
/// closed by the server when this participant leaves, or after 15 idle minutes).
pub struct SqlQuery {
    /// The result's columns, as the server answered them before any row.
    pub schema: SchemaRef,
    pub id: String,
    client: RoomClient,
    stream: Option<ToolStream>,
    /// Batches of a chunk that held more than one, handed out one per call.
    pending: std::collections::VecDeque<RecordBatch>,
    done: bool,
}

impl SqlQuery {
    /// The next batch of rows; None at the end. Pulls one batch per call, so a reader that
    /// stops early leaves the rest unread on the server.
    pub async fn next_batch(&mut self) -> Result<Option<RecordBatch>, ClientError> {
        if let Some(b) = self.pending.pop_front() {
            return Ok(Some(b));
        }
        if self.done {
            return Ok(None);
        }
        if self.stream.is_none() {
            let start = Content::binary(json!({"kind": "start", "query_id": self.id}), Vec::new());
            let s = self
                .client
                .invoke_stream("dataset", "read_sql_query", Some(start))
                .await?;
            self.stream = Some(s);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Ok(None);
        };
        stream.send(pull()).await?;
        loop {
            match stream.next().await {
                None => {
                    self.done = true;
                    return Ok(None);
                }
                Some(chunk) => match chunk? {
                    Content::Binary { data, .. } => {
                        let (_, batches) = read_ipc(&data).map_err(arrow)?;
                        self.pending.extend(batches);
                        if let Some(b) = self.pending.pop_front() {
                            return Ok(Some(b));
                        }
                        // An IPC stream with no batch: ask for the next one.
                        stream.send(pull()).await?;
                    }
                    other => return Err(protocol("read_sql_query", &other)),
                },
            }
        }
    }

    /// Interrupts the query where it runs (`cancel_sql_query`); close it afterwards.
    pub async fn cancel(&self) -> Result<(), ClientError> {
        cancel_sql_query(&self.client, &self.id).await
    }

    /// Stops reading and closes the query on the server.
    pub async fn close(&mut self) -> Result<(), ClientError> {
        if let Some(mut s) = self.stream.take() {
            s.close().await;
        }
        self.done = true;
        self.client
            .invoke(
                "dataset",
                "close_sql_query",
                Content::Json(json!({"query_id": self.id})),
            )
            .await
            .map(|_| ())
    }
}

/// `cancel_sql_query`: interrupts an open query of this participant.
pub async fn cancel_sql_query(client: &RoomClient, id: &str) -> Result<(), ClientError> {
    client
        .invoke(
            "dataset",
            "cancel_sql_query",
            Content::Json(json!({"query_id": id})),
        )
        .await
        .map(|_| ())
}

/// A batch's rows as JSON values in column order (no column names repeated per row).
pub fn batch_values(batch: &RecordBatch) -> Vec<Vec<Value>> {
    (0..batch.num_rows())
        .map(|i| {
            batch
                .columns()
                .iter()
                .map(|c| arrow::array_value_to_json(c.as_ref(), i))
                .collect()
        })
        .collect()
}

/// A value as text for a table cell or CSV: strings bare, null empty, the rest as JSON.
pub fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value as one CSV field (RFC 4180 quoting).
pub fn csv_cell(v: &Value) -> String {
    let s = cell_text(v);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Column types as people write them: `int`, `float`, `text`, `bool`, `blob`, `date`,
/// `timestamp`, `json`, `uuid`, …
pub fn parse_type(t: &str) -> Result<Field, String> {
    let lower = t.trim().to_ascii_lowercase();
    let uuid_md = || {
        [("ARROW:extension:name".to_string(), "arrow.uuid".to_string())]
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>()
    };
    let json_md = || {
        [("ARROW:extension:name".to_string(), "arrow.json".to_string())]
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>()
    };
    let field = |dt| Field::new("", dt, true);
    Ok(match lower.as_str() {
        "int" | "integer" | "bigint" | "int64" | "long" => field(DataType::Int64),
        "int32" | "smallint" => field(DataType::Int32),
        "float" | "double" | "real" | "float64" | "number" => field(DataType::Float64),
        "float32" => field(DataType::Float32),
        "text" | "string" | "str" | "varchar" | "utf8" => field(DataType::Utf8),
        "bool" | "boolean" => field(DataType::Boolean),
        "blob" | "binary" | "bytes" => field(DataType::Binary),
        "date" => field(DataType::Date32),
        "timestamp" | "datetime" => field(DataType::Timestamp(
            arrow_schema::TimeUnit::Microsecond,
            Some("UTC".into()),
        )),
        "json" => field(DataType::Utf8).with_metadata(json_md()),
        "uuid" => field(DataType::FixedSizeBinary(16)).with_metadata(uuid_md()),
        other => {
            return Err(format!(
                "unknown column type `{other}`; use int, float, text, bool, blob, date, timestamp, json or uuid"
            ));
        }
    })
}

/// `"id int, name text"` as fields.
pub fn parse_columns(spec: &str) -> Result<Vec<Field>, String> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = part.split_whitespace();
        let (Some(name), Some(ty)) = (words.next(), words.next()) else {
            return Err(format!(
                "column `{part}` needs a name and a type, like `id int`"
            ));
        };
        if words.next().is_some() {
            return Err(format!("column `{part}` should be just a name and a type"));
        }
        out.push(parse_type(ty)?.with_name(name));
    }
    if out.is_empty() {
        return Err("give at least one column, like \"id int, name text\"".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_parse() {
        let f = parse_columns("id int, name text, at timestamp").unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].name(), "id");
        assert_eq!(f[0].data_type(), &DataType::Int64);
        assert_eq!(f[1].data_type(), &DataType::Utf8);
        assert!(parse_columns("id").is_err());
        assert!(parse_columns("id wat").is_err());
        assert!(parse_columns("").is_err());
    }
}
