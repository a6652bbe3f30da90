//! The database side of the net bridge: tables with counts, schemas, streamed SQL runs with
//! cancel, and exports written to disk as the rows arrive. Each runs in a task of its own
//! and answers with [`NetEvent`]s, so the UI loop never waits on the room or the disk.

use std::path::{Path, PathBuf};

use arrow_schema::SchemaRef;
use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};

use super::net::{ColumnInfo, ExportFormat, ExportSource, NetEvent, SqlEvent, TableSummary};
use crate::client::dataset::{SqlOpened, batch_values, csv_cell};
use crate::client::{ClientError, RoomClient};

/// Counting stops after this many tables (the rest show without a count).
const MAX_COUNTED: usize = 500;

type Events = mpsc::UnboundedSender<NetEvent>;

/// The SQL run in progress, to cancel it. One at a time: the pane waits for a run to end.
#[derive(Default)]
pub struct Running {
    cancel: Option<(u64, oneshot::Sender<()>)>,
}

impl Running {
    pub fn start(&mut self, client: &RoomClient, id: u64, sql: String, keep: usize, ev: &Events) {
        let (tx, rx) = oneshot::channel();
        self.cancel = Some((id, tx));
        tokio::spawn(run_sql(client.clone(), id, sql, keep, rx, ev.clone()));
    }

    pub fn cancel(&mut self, id: u64) {
        if let Some((run, tx)) = self.cancel.take() {
            if run == id {
                let _ = tx.send(());
            } else {
                self.cancel = Some((run, tx));
            }
        }
    }
}

/// The room's message for a failed call: SQLite's sentence without the protocol code.
pub(super) fn message(e: ClientError) -> String {
    match e {
        ClientError::Room { message, .. } => message,
        other => other.to_string(),
    }
}

pub fn columns(schema: &SchemaRef) -> Vec<ColumnInfo> {
    schema
        .fields()
        .iter()
        .map(|f| ColumnInfo {
            name: f.name().clone(),
            // JSON and UUID columns carry their Arrow extension name; say that, not "Utf8".
            ty: f
                .metadata()
                .get("ARROW:extension:name")
                .map(|n| n.trim_start_matches("arrow.").to_string())
                .unwrap_or_else(|| f.data_type().to_string()),
            nullable: f.is_nullable(),
        })
        .collect()
}

pub fn spawn_tables(client: &RoomClient, ev: &Events) {
    let (c, ev) = (client.dataset(), ev.clone());
    tokio::spawn(async move {
        let names = match c.list_tables().await {
            Ok(n) => n,
            Err(e) => {
                let _ = ev.send(NetEvent::Failed {
                    what: "listing tables".into(),
                    error: message(e),
                });
                return;
            }
        };
        let mut out = Vec::with_capacity(names.len());
        for (i, name) in names.into_iter().enumerate() {
            let rows = if i < MAX_COUNTED {
                c.count(&name, None).await.ok()
            } else {
                None
            };
            out.push(TableSummary { name, rows });
        }
        let _ = ev.send(NetEvent::Tables(out));
    });
}

pub fn spawn_inspect(client: &RoomClient, table: String, ev: &Events) {
    let (c, ev) = (client.dataset(), ev.clone());
    tokio::spawn(async move {
        let event = match c.inspect(&table).await {
            Ok(schema) => NetEvent::TableSchema {
                columns: columns(&schema),
                table,
            },
            Err(e) => NetEvent::Failed {
                what: format!("reading the schema of {table}"),
                error: message(e),
            },
        };
        let _ = ev.send(event);
    });
}

async fn run_sql(
    client: RoomClient,
    id: u64,
    sql: String,
    keep: usize,
    cancel: oneshot::Receiver<()>,
    ev: Events,
) {
    let send = |event| {
        let _ = ev.send(NetEvent::Sql { id, event });
    };
    // Only a sent cancel counts: a dropped sender (the session ended) leaves the run to
    // end with the connection's error. Both select branches below return once it fired.
    let cancelled = async move {
        if cancel.await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(cancelled);
    let db = client.dataset();
    let open = db.open_sql(&sql);
    tokio::pin!(open);
    let opened = tokio::select! {
        r = &mut open => r,
        _ = &mut cancelled => {
            // The statement is still producing its first answer, which `cancel_sql_query`
            // cannot reach yet: the pane is freed now, and the query is cancelled and closed
            // as soon as the room names it.
            send(SqlEvent::Cancelled);
            if let Ok(SqlOpened::Query(mut q)) = open.await {
                let _ = q.cancel().await;
                let _ = q.close().await;
            }
            return;
        }
    };
    let mut q = match opened {
        Err(e) => return send(SqlEvent::Error(message(e))),
        Ok(SqlOpened::Statement { rows_affected }) => {
            return send(SqlEvent::Affected(rows_affected));
        }
        Ok(SqlOpened::Query(q)) => q,
    };
    send(SqlEvent::Columns(columns(&q.schema)));
    let mut seen: usize = 0;
    let result = loop {
        tokio::select! {
            b = q.next_batch() => match b {
                Ok(Some(batch)) => {
                    let before = seen;
                    seen += batch.num_rows();
                    if before < keep {
                        let mut rows = batch_values(&batch);
                        rows.truncate(keep - before);
                        send(SqlEvent::Rows(rows));
                    }
                    if seen > keep {
                        break Ok(true);
                    }
                }
                Ok(None) => break Ok(false),
                Err(e) => break Err(e),
            },
            _ = &mut cancelled => {
                let _ = q.cancel().await;
                let _ = q.close().await;
                return send(SqlEvent::Cancelled);
            }
        }
    };
    // Closing is cleanup: a query that ended may already be gone, which is no news.
    let _ = q.close().await;
    match result {
        Ok(more) => send(SqlEvent::Done {
            seen: seen as u64,
            more,
        }),
        Err(e) => send(SqlEvent::Error(message(e))),
    }
}

/// Writes an export to `path` through a temp file beside it, renamed when complete, so a
/// failed export leaves no half file.
pub fn spawn_export(
    client: Option<&RoomClient>,
    path: String,
    format: ExportFormat,
    source: ExportSource,
    ev: &Events,
) {
    let (client, ev) = (client.cloned(), ev.clone());
    tokio::spawn(async move {
        let event = match export(client, &path, format, source).await {
            Ok(rows) => NetEvent::Exported { path, rows },
            Err(error) => NetEvent::Failed {
                what: format!("exporting to {path}"),
                error,
            },
        };
        let _ = ev.send(event);
    });
}

/// `~/x` is in the home dir; other paths are as given (relative to the working dir).
pub fn resolve(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

async fn export(
    client: Option<RoomClient>,
    path: &str,
    format: ExportFormat,
    source: ExportSource,
) -> Result<u64, String> {
    let target = resolve(path);
    let tmp = target.with_file_name(format!(
        ".{}.roomdeck-tmp",
        target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "export".into())
    ));
    let file = tokio::fs::File::create(&tmp)
        .await
        .map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    let mut w = Writer {
        out: tokio::io::BufWriter::new(file),
        format,
        columns: Vec::new(),
        rows: 0,
    };
    let written = async {
        match source {
            ExportSource::Rows { columns, rows } => {
                w.begin(columns).await?;
                for r in &rows {
                    w.row(r).await?;
                }
            }
            ExportSource::Query(sql) => {
                let client = client.ok_or("not connected to the room")?;
                let mut q = match client.dataset().open_sql(&sql).await.map_err(message)? {
                    SqlOpened::Query(q) => q,
                    SqlOpened::Statement { .. } => {
                        return Err("the statement returned no rows".into());
                    }
                };
                w.begin(columns(&q.schema).into_iter().map(|c| c.name).collect())
                    .await?;
                let read = async {
                    while let Some(batch) = q.next_batch().await.map_err(message)? {
                        for r in batch_values(&batch) {
                            w.row(&r).await?;
                        }
                    }
                    Ok::<_, String>(())
                }
                .await;
                let _ = q.close().await;
                read?;
            }
        }
        w.end().await?;
        let file = w.out.into_inner();
        file.sync_all().await.map_err(|e| e.to_string())?;
        Ok::<_, String>(w.rows)
    }
    .await;
    match written {
        Ok(rows) => {
            tokio::fs::rename(&tmp, &target)
                .await
                .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
            Ok(rows)
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            Err(e)
        }
    }
}

/// CSV (a header line, then one line a row) or JSON (an array of objects), row by row.
struct Writer {
    out: tokio::io::BufWriter<tokio::fs::File>,
    format: ExportFormat,
    columns: Vec<String>,
    rows: u64,
}

impl Writer {
    async fn put(&mut self, s: &str) -> Result<(), String> {
        self.out
            .write_all(s.as_bytes())
            .await
            .map_err(|e| format!("cannot write: {e}"))
    }

    async fn begin(&mut self, columns: Vec<String>) -> Result<(), String> {
        self.columns = columns;
        let head = match self.format {
            ExportFormat::Csv => {
                let names: Vec<String> = self
                    .columns
                    .iter()
                    .map(|n| csv_cell(&Value::String(n.clone())))
                    .collect();
                format!("{}\n", names.join(","))
            }
            ExportFormat::Json => "[".to_string(),
        };
        self.put(&head).await
    }

    async fn row(&mut self, values: &[Value]) -> Result<(), String> {
        let line = match self.format {
            ExportFormat::Csv => {
                let cells: Vec<String> = values.iter().map(csv_cell).collect();
                format!("{}\n", cells.join(","))
            }
            ExportFormat::Json => {
                let obj: Map<String, Value> = self
                    .columns
                    .iter()
                    .cloned()
                    .zip(values.iter().cloned())
                    .collect();
                let sep = if self.rows == 0 { "\n  " } else { ",\n  " };
                format!("{sep}{}", Value::Object(obj))
            }
        };
        self.rows += 1;
        self.put(&line).await
    }

    async fn end(&mut self) -> Result<(), String> {
        if self.format == ExportFormat::Json {
            let tail = if self.rows == 0 { "]\n" } else { "\n]\n" };
            self.put(tail).await?;
        }
        self.out
            .flush()
            .await
            .map_err(|e| format!("cannot write: {e}"))
    }
}

/// The SQL history file in the data dir: a JSON array of strings, oldest first.
pub fn history_file(data_dir: &Path) -> PathBuf {
    data_dir.join("sql_history.json")
}

/// Reads the history; a missing, oversized or unreadable file is an empty history.
pub fn load_history(path: &Path) -> Vec<String> {
    const MAX_FILE: u64 = 16 * 1024 * 1024;
    match std::fs::metadata(path) {
        Ok(m) if m.len() <= MAX_FILE => std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Writes the history through a temp file and a rename (off the UI thread).
pub fn save_history(path: PathBuf, entries: Vec<String>) {
    tokio::task::spawn_blocking(move || {
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_vec_pretty(&entries).unwrap_or_default();
        let written = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "cannot keep the SQL history");
        }
    });
}
