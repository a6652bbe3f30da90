//! Open queries: each runs on a thread of its own with a connection of its own, and hands
//! out its result one bounded Arrow batch at a time, so a result is never all in memory.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use rusqlite::functions::FunctionFlags;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, InterruptHandle};

use super::authorizer::{denied_or, install_guard, prepare_guarded};
use super::{Guard, Params, StoreError, convert, quote};

/// Rows per batch at most.
pub const BATCH_ROWS: usize = 8192;
/// Bytes of values per batch at most (roughly).
pub const BATCH_BYTES: usize = 4 * 1024 * 1024;
/// An open query nobody reads for this long is closed.
pub const IDLE: Duration = Duration::from_secs(15 * 60);

/// What to run.
pub struct QuerySpec {
    pub sql: String,
    pub params: Params,
    /// `CREATE TEMP VIEW alias AS SELECT * FROM table`, made before the guard is installed.
    pub views: Vec<(String, String)>,
    pub guard: Guard,
    /// Rows per batch (capped at BATCH_ROWS).
    pub batch_rows: usize,
    pub mode: Mode,
    /// Filled with the query's interrupt handle as soon as it has a connection, so the
    /// caller can stop a statement that is still running (e.g. when its caller left).
    pub interrupt: Option<InterruptSlot>,
}

/// Where a running query leaves its interrupt handle.
pub type InterruptSlot = Arc<Mutex<Option<Arc<InterruptHandle>>>>;

/// What the caller accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Rows when the statement returns rows, else run it and count the changes.
    Any,
    /// Only a statement that returns rows (`open_sql_query`, `search`).
    RowsOnly,
    /// Run to the end and count the changes, whatever it returns (`execute_sql_statement`).
    StatementOnly,
}

/// The outcome of opening a query.
pub enum Opened {
    /// A statement that returns no rows ran; this many rows changed.
    Statement(usize),
    /// Rows to read with `Cursor::next`.
    Rows(Cursor),
}

enum Cmd {
    Next(mpsc::Sender<Result<Option<RecordBatch>, StoreError>>),
}

/// The reading end of an open query. Dropping it ends the query.
pub struct Cursor {
    tx: mpsc::Sender<Cmd>,
    interrupt: Arc<InterruptHandle>,
    pub schema: SchemaRef,
}

impl Cursor {
    /// Runs the statement on a new thread; returns once it has a schema or a result.
    pub fn open(path: PathBuf, spec: QuerySpec) -> Result<Opened, StoreError> {
        let (opened_tx, opened_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("roomdeck-query".into())
            .spawn(move || run(path, spec, opened_tx))
            .map_err(|e| StoreError::Io(format!("cannot start a query thread: {e}")))?;
        match opened_rx.recv() {
            Ok(r) => r,
            Err(_) => Err(StoreError::Io("the query thread ended unexpectedly".into())),
        }
    }

    /// A cursor over batches already made (the queries of a batch).
    pub fn from_batches(
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<Cursor, StoreError> {
        let (tx, rx) = mpsc::channel::<Cmd>();
        // No statement runs for it; an interrupt handle of a spare connection does nothing.
        let spare = Connection::open_in_memory()?;
        let interrupt = Arc::new(spare.get_interrupt_handle());
        std::thread::Builder::new()
            .name("roomdeck-query".into())
            .spawn(move || {
                let mut batches = batches.into_iter();
                while let Ok(Cmd::Next(reply)) = rx.recv_timeout(IDLE) {
                    if reply.send(Ok(batches.next())).is_err() {
                        break;
                    }
                }
                drop(spare);
            })
            .map_err(|e| StoreError::Io(format!("cannot start a query thread: {e}")))?;
        Ok(Cursor {
            tx,
            interrupt,
            schema,
        })
    }

    /// The next batch; None once the result is exhausted. Blocks: call off the async threads.
    pub fn next(&self) -> Result<Option<RecordBatch>, StoreError> {
        let (tx, rx) = mpsc::channel();
        self.tx
            .send(Cmd::Next(tx))
            .map_err(|_| StoreError::NotFound("the query is closed".into()))?;
        rx.recv()
            .map_err(|_| StoreError::NotFound("the query is closed".into()))?
    }

    /// Interrupts a step in progress (the current or next `next` fails with Cancelled).
    pub fn cancel(&self) {
        self.interrupt.interrupt();
    }

    pub fn interrupt_handle(&self) -> Arc<InterruptHandle> {
        self.interrupt.clone()
    }
}

/// `_roomdeck_distance(vector_json, query_json)`: squared L2 distance between two vectors
/// stored as JSON arrays (the `_distance` of vector search); NULL when either is missing.
pub(crate) fn register_functions(conn: &Connection) -> Result<(), StoreError> {
    type LastQuery = Arc<Mutex<Option<(String, Vec<f64>)>>>;
    let cache: LastQuery = Arc::default();
    conn.create_scalar_function(
        "_roomdeck_distance",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        move |ctx| {
            let vector = match ctx.get_raw(0) {
                ValueRef::Text(t) => t,
                _ => return Ok(None),
            };
            let query = match ctx.get_raw(1) {
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                _ => return Ok(None),
            };
            let mut cached = cache.lock().unwrap_or_else(|p| p.into_inner());
            if cached.as_ref().is_none_or(|(k, _)| *k != query) {
                let q: Vec<f64> = serde_json::from_str(&query).unwrap_or_default();
                *cached = Some((query, q));
            }
            let q = cached.as_ref().map(|(_, q)| q.as_slice()).unwrap_or(&[]);
            let v: Vec<f64> = match serde_json::from_slice(vector) {
                Ok(v) => v,
                Err(_) => return Ok(None),
            };
            if v.len() != q.len() {
                return Err(rusqlite::Error::UserFunctionError(
                    format!(
                        "the query vector has {} numbers but the column's vectors have {}",
                        q.len(),
                        v.len()
                    )
                    .into(),
                ));
            }
            Ok(Some(
                v.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum::<f64>(),
            ))
        },
    )?;
    Ok(())
}

fn value_of(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

fn size_of(v: &Value) -> usize {
    match v {
        Value::Text(t) => t.len() + 8,
        Value::Blob(b) => b.len() + 8,
        _ => 8,
    }
}

/// Reads up to a batch of rows, column by column; true in the flag = the rows are exhausted.
fn fetch(
    rows: &mut rusqlite::Rows<'_>,
    columns: usize,
    max_rows: usize,
) -> Result<(Vec<Vec<Value>>, bool), StoreError> {
    let mut cols: Vec<Vec<Value>> = (0..columns).map(|_| Vec::new()).collect();
    let mut bytes = 0;
    let mut n = 0;
    while n < max_rows && bytes < BATCH_BYTES {
        match rows.next()? {
            None => return Ok((cols, true)),
            Some(row) => {
                for (i, col) in cols.iter_mut().enumerate() {
                    let v = value_of(row.get_ref(i)?);
                    bytes += size_of(&v);
                    col.push(v);
                }
                n += 1;
            }
        }
    }
    Ok((cols, false))
}

fn to_batch(schema: &SchemaRef, cols: &[Vec<Value>]) -> Result<RecordBatch, StoreError> {
    let mut arrays = Vec::with_capacity(cols.len());
    for (field, values) in schema.fields().iter().zip(cols) {
        arrays.push(convert::sqlite_to_array(field, values)?);
    }
    let rows = cols.first().map_or(0, Vec::len);
    RecordBatch::try_new_with_options(
        schema.clone(),
        arrays,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .map_err(convert::arrow_err)
}

fn run(path: PathBuf, spec: QuerySpec, opened: mpsc::Sender<Result<Opened, StoreError>>) {
    // Errors before the first answer go to the opener; after it, to whoever pulls.
    let conn = match prepare_conn(&path, &spec) {
        Ok(c) => c,
        Err(e) => {
            let _ = opened.send(Err(e));
            return;
        }
    };
    let (conn, schemas, why) = conn;
    if let Some(slot) = &spec.interrupt {
        *slot.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Arc::new(conn.get_interrupt_handle()));
    }
    let mut stmt = match prepare_guarded(&conn, &spec.sql, &why) {
        Ok(s) => s,
        Err(e) => {
            let _ = opened.send(Err(e));
            return;
        }
    };
    if let Err(e) = spec.params.bind(&mut stmt) {
        let _ = opened.send(Err(e));
        return;
    }
    let columns = stmt.column_count();
    if columns == 0 || spec.mode == Mode::StatementOnly {
        if columns == 0 && spec.mode == Mode::RowsOnly {
            let _ = opened.send(Err(StoreError::Invalid(
                "this statement returns no rows; run it with execute_sql or execute_sql_statement"
                    .into(),
            )));
            return;
        }
        let result = run_statement(&conn, &mut stmt).map_err(|e| denied_or(e, &why));
        let _ = opened.send(result.map(Opened::Statement));
        return;
    }
    let origins = origins(&stmt, &schemas);
    let interrupt = Arc::new(conn.get_interrupt_handle());
    let batch_rows = spec.batch_rows.clamp(1, BATCH_ROWS);
    let mut rows = stmt.raw_query();
    let first = fetch(&mut rows, columns, batch_rows).map_err(|e| match e {
        StoreError::Sql(_) => {
            let reason = why.lock().unwrap_or_else(|p| p.into_inner()).take();
            reason.map(StoreError::Denied).unwrap_or(e)
        }
        other => other,
    });
    let (first, mut done) = match first {
        Ok(f) => f,
        Err(e) => {
            let _ = opened.send(Err(e));
            return;
        }
    };
    let schema = schema_from(origins, &first, done);
    let (tx, rx) = mpsc::channel::<Cmd>();
    let cursor = Cursor {
        tx,
        interrupt,
        schema: schema.clone(),
    };
    if opened.send(Ok(Opened::Rows(cursor))).is_err() {
        return;
    }
    // The first batch is always sent, empty or not, so a result keeps its columns.
    let mut pending = Some(first);
    while let Ok(Cmd::Next(reply)) = rx.recv_timeout(IDLE) {
        let result = match pending.take() {
            Some(cols) => to_batch(&schema, &cols).map(Some),
            None if done => Ok(None),
            None => match fetch(&mut rows, columns, batch_rows) {
                Ok((cols, last)) => {
                    done = last;
                    if cols.first().is_none_or(Vec::is_empty) {
                        Ok(None)
                    } else {
                        to_batch(&schema, &cols).map(Some)
                    }
                }
                Err(e) => {
                    done = true;
                    Err(e)
                }
            },
        };
        if reply.send(result).is_err() {
            break;
        }
    }
}

/// Runs a statement to its end; the rows it changed.
fn run_statement(conn: &Connection, stmt: &mut rusqlite::Statement<'_>) -> rusqlite::Result<usize> {
    if stmt.column_count() == 0 {
        return stmt.raw_execute();
    }
    let mut rows = stmt.raw_query();
    while rows.next()?.is_some() {}
    Ok(usize::try_from(conn.changes()).unwrap_or(0))
}

/// Where each result column comes from: (name, stored field, declared type).
type Origin = (String, Option<Field>, Option<DataType>);

fn origins(stmt: &rusqlite::Statement<'_>, schemas: &HashMap<String, Schema>) -> Vec<Origin> {
    stmt.columns_with_metadata()
        .iter()
        .zip(stmt.columns())
        .map(|(meta, col)| {
            let name = meta.name().to_string();
            let stored = match (meta.table_name(), meta.origin_name()) {
                (Some(t), Some(c)) => schemas
                    .get(t)
                    .and_then(|s| s.field_with_name(c).ok())
                    .map(|f| f.clone().with_name(&name).with_nullable(true)),
                _ => None,
            };
            let declared = col.decl_type().and_then(convert::type_from_decltype);
            (name, stored, declared)
        })
        .collect()
}

/// The result's Arrow schema: stored types, then declared types, then the first batch's values.
fn schema_from(origins: Vec<Origin>, first: &[Vec<Value>], complete: bool) -> SchemaRef {
    let fields: Vec<Field> = origins
        .into_iter()
        .zip(first)
        .map(
            |((name, stored, declared), values)| match (stored, declared) {
                (Some(f), _) => f,
                (None, Some(dt)) => Field::new(name, dt, true),
                (None, None) => Field::new(name, convert::infer_type(values, complete), true),
            },
        )
        .collect();
    Arc::new(Schema::new(fields))
}

/// The outcome of one command of a batch.
pub enum BatchResult {
    Statement(usize),
    Rows(Cursor),
}

/// Most bytes a batch keeps of its queries' rows (they are read after the batch commits).
pub const BATCH_RESULT_BYTES: usize = 64 * 1024 * 1024;

/// Runs commands in one transaction, in order; a query's rows are kept (bounded) so they show
/// the state at that point of the batch. Any failure rolls the whole batch back.
pub fn run_batch(
    path: &std::path::Path,
    commands: Vec<(String, Params)>,
    guard: Guard,
) -> Result<Vec<BatchResult>, StoreError> {
    let conn = super::connect(path)?;
    let schemas = super::stored_schemas(&conn)?;
    let why = install_guard(&conn, guard)?;
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        let mut out = Vec::new();
        let mut kept = 0usize;
        for (sql, params) in &commands {
            let mut stmt = prepare_guarded(&conn, sql, &why)?;
            params.bind(&mut stmt)?;
            let columns = stmt.column_count();
            if columns == 0 {
                out.push(BatchResult::Statement(
                    stmt.raw_execute().map_err(|e| denied_or(e, &why))?,
                ));
                continue;
            }
            let origins = origins(&stmt, &schemas);
            let mut rows = stmt.raw_query();
            let mut batches_values = Vec::new();
            loop {
                let (cols, done) = fetch(&mut rows, columns, BATCH_ROWS)?;
                kept += cols.iter().flatten().map(size_of).sum::<usize>();
                if kept > BATCH_RESULT_BYTES {
                    return Err(StoreError::Invalid(
                        "the queries of this batch return more than 64 MiB; run big queries on their own with execute_sql".into(),
                    ));
                }
                batches_values.push(cols);
                if done {
                    break;
                }
            }
            let schema = schema_from(origins, &batches_values[0], batches_values.len() == 1);
            let mut batches = Vec::new();
            for cols in &batches_values {
                if cols.first().is_some_and(|c| !c.is_empty()) || batches.is_empty() {
                    batches.push(to_batch(&schema, cols)?);
                }
            }
            out.push(BatchResult::Rows(Cursor::from_batches(schema, batches)?));
        }
        Ok(out)
    })();
    match result {
        Ok(out) => {
            conn.execute_batch("COMMIT")?;
            Ok(out)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

type Prepared = (
    Connection,
    HashMap<String, Schema>,
    Arc<Mutex<Option<String>>>,
);

fn prepare_conn(path: &std::path::Path, spec: &QuerySpec) -> Result<Prepared, StoreError> {
    let conn = super::connect(path)?;
    let schemas = super::stored_schemas(&conn)?;
    for (alias, table) in &spec.views {
        conn.execute_batch(&format!(
            "CREATE TEMP VIEW IF NOT EXISTS {} AS SELECT * FROM main.{}",
            quote(alias),
            quote(table)
        ))?;
    }
    let why = install_guard(&conn, spec.guard.clone())?;
    Ok((conn, schemas, why))
}
