//! Tables on SQLite with Arrow schemas: the storage behind the `dataset` and `sqlite` toolkits.
//!
//! One SQLite file holds a set of tables (`<room>/dataset.db` for the room's dataset; one file
//! per database for the `sqlite` toolkit). Next to the user's tables, `_roomdeck_tables` keeps
//! each table's Arrow schema (as an IPC stream) and version, so `inspect` gives back exactly the
//! schema a table was created with; `_roomdeck_indexes` records indexes made through the tools.
//! Tables created with plain SQL have no stored schema; their Arrow types come from the declared
//! SQLite types. Names starting with `_roomdeck_` are reserved.
//!
//! Every statement built from a caller's text runs in the SQL sandbox of [`authorizer`].
//!
//! Here: the table operations of [`TableStore`]. Beside them: `catalogue` (stored schemas and
//! versions), `params` (SQL parameters), `convert` (values between Arrow, SQLite and JSON),
//! `cursor` (queries read in batches); Arrow IPC itself is the wire's (`protocol::arrow`).

pub mod authorizer;
mod catalogue;
pub(crate) mod convert;
pub(crate) mod cursor;
mod params;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};
use serde_json::Value as Json;

pub use crate::protocol::arrow::{batch_to_ipc, read_ipc, schema_to_ipc};
pub(crate) use authorizer::connect;
pub use authorizer::{Access, Guard, allow_all};
use authorizer::{denied_or, execute_guarded, install_guard, prepare_guarded};
pub(crate) use catalogue::stored_schemas;
use catalogue::{
    META, bump_version, columns_changed, drop_fts, fts_name, not_found, now, save_schema,
    table_exists, table_schema,
};
pub use cursor::{BatchResult, Cursor, InterruptSlot, Mode, Opened, QuerySpec, run_batch};
pub use params::Params;

/// What went wrong, as a sentence for the caller.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Exists(String),
    #[error("{0}")]
    Denied(String),
    #[error("SQL error: {0}")]
    Sql(String),
    #[error("the query was cancelled")]
    Cancelled,
    #[error("storage failed: {0}")]
    Io(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        match &e {
            rusqlite::Error::SqliteFailure(f, msg) => match f.code {
                rusqlite::ErrorCode::OperationInterrupted => StoreError::Cancelled,
                rusqlite::ErrorCode::CannotOpen
                | rusqlite::ErrorCode::SystemIoFailure
                | rusqlite::ErrorCode::DiskFull
                | rusqlite::ErrorCode::ReadOnly => StoreError::Io(e.to_string()),
                _ => StoreError::Sql(msg.clone().unwrap_or_else(|| e.to_string())),
            },
            rusqlite::Error::MultipleStatement => {
                StoreError::Sql("only one statement may be given at a time".into())
            }
            _ => StoreError::Sql(e.to_string()),
        }
    }
}

impl From<crate::protocol::arrow::ArrowDataError> for StoreError {
    fn from(e: crate::protocol::arrow::ArrowDataError) -> StoreError {
        StoreError::Invalid(e.0)
    }
}

pub const RESERVED_PREFIX: &str = "_roomdeck_";

/// `"name"` with quotes doubled: a safe SQL identifier.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// How `create_table` treats an existing table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateMode {
    Create,
    Overwrite,
    CreateIfNotExists,
}

impl CreateMode {
    pub fn parse(s: Option<&str>) -> Result<CreateMode, StoreError> {
        match s {
            None | Some("create") => Ok(CreateMode::Create),
            Some("overwrite") => Ok(CreateMode::Overwrite),
            Some("create_if_not_exists") | Some("exist_ok") => Ok(CreateMode::CreateIfNotExists),
            Some(other) => Err(StoreError::Invalid(format!(
                "mode `{other}` is not one of create, overwrite, create_if_not_exists"
            ))),
        }
    }
}

/// A value for `update`: a literal, or an SQL expression evaluated per row.
#[derive(Debug, Clone)]
pub enum SetValue {
    Json(Json),
    Expression(String),
}

/// One SQLite file of tables.
pub struct TableStore {
    path: PathBuf,
    /// Writes through the tools take turns here rather than wait on SQLite's busy lock.
    write: Mutex<()>,
}

impl TableStore {
    /// Opens (creating) the file and its bookkeeping tables.
    pub fn open(path: &Path) -> Result<TableStore, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Io(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = connect(path)?;
        conn.execute_batch(META)?;
        Ok(TableStore {
            path: path.to_path_buf(),
            write: Mutex::new(()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<Connection, StoreError> {
        connect(&self.path)
    }

    fn write_turn(&self) -> std::sync::MutexGuard<'_, ()> {
        self.write.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in one write transaction, in turn with the store's other writers: committed
    /// when `f` succeeds, rolled back (nothing changed) when it fails.
    fn write_tx<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _turn = self.write_turn();
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// User tables, sorted.
    pub fn list_tables(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table'
               AND name NOT LIKE '\\_roomdeck\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
             ORDER BY name",
        )?;
        let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(names.collect::<Result<_, _>>()?)
    }

    pub fn exists(&self, table: &str) -> Result<bool, StoreError> {
        table_exists(&self.conn()?, table)
    }

    pub fn schema(&self, table: &str) -> Result<Schema, StoreError> {
        table_schema(&self.conn()?, table)
    }

    /// The table's current version and when it was made.
    pub fn version(&self, table: &str) -> Result<(i64, String), StoreError> {
        let conn = self.conn()?;
        if !table_exists(&conn, table)? {
            return Err(not_found(table));
        }
        let row = conn.query_row(
            "SELECT version, updated_at FROM _roomdeck_tables WHERE name = ?1",
            [table],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        );
        match row {
            Ok(v) => Ok(v),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok((1, now())),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates a table for `schema`; false when it existed and mode said to leave it.
    pub fn create_table(
        &self,
        table: &str,
        schema: &Schema,
        mode: CreateMode,
    ) -> Result<bool, StoreError> {
        if schema.fields().is_empty() {
            return Err(StoreError::Invalid(format!(
                "table `{table}` needs at least one column"
            )));
        }
        let mut cols = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for f in schema.fields() {
            if f.name().is_empty() || !seen.insert(f.name().to_ascii_lowercase()) {
                return Err(StoreError::Invalid(format!(
                    "column names must be non-empty and unique; `{}` is not",
                    f.name()
                )));
            }
            let decl = convert::decltype(f.data_type())?;
            let not_null = if f.is_nullable() { "" } else { " NOT NULL" };
            cols.push(format!("{} {decl}{not_null}", quote(f.name())));
        }
        self.write_tx(|tx| {
        if table_exists(tx, table)? {
            match mode {
                CreateMode::Create => {
                    return Err(StoreError::Exists(format!(
                        "table `{table}` already exists; use mode overwrite or create_if_not_exists"
                    )));
                }
                CreateMode::CreateIfNotExists => return Ok(false),
                CreateMode::Overwrite => {
                    drop_fts(tx, table)?;
                    tx.execute_batch(&format!("DROP TABLE {}", quote(table)))?;
                }
            }
        }
        tx.execute_batch(&format!(
            "CREATE TABLE {} ({})",
            quote(table),
            cols.join(", ")
        ))?;
        tx.execute("DELETE FROM _roomdeck_tables WHERE name = ?1", [table])?;
        save_schema(tx, table, schema, false)?;
        Ok(true)
        })
    }

    /// Drops a table; false when it was missing.
    pub fn drop_table(&self, table: &str) -> Result<bool, StoreError> {
        self.write_tx(|tx| {
            if !table_exists(tx, table)? {
                return Ok(false);
            }
            drop_fts(tx, table)?;
            tx.execute_batch(&format!("DROP TABLE {}", quote(table)))?;
            tx.execute("DELETE FROM _roomdeck_tables WHERE name = ?1", [table])?;
            tx.execute(
                "DELETE FROM _roomdeck_indexes WHERE table_name = ?1",
                [table],
            )?;
            Ok(true)
        })
    }

    pub fn rename_table(&self, from: &str, to: &str) -> Result<(), StoreError> {
        self.write_tx(|tx| {
            if !table_exists(tx, from)? {
                return Err(not_found(from));
            }
            if table_exists(tx, to)? {
                return Err(StoreError::Exists(format!("table `{to}` already exists")));
            }
            drop_fts(tx, from)?;
            tx.execute_batch(&format!(
                "ALTER TABLE {} RENAME TO {}",
                quote(from),
                quote(to)
            ))?;
            tx.execute("DELETE FROM _roomdeck_tables WHERE name = ?1", [to])?;
            tx.execute(
                "UPDATE _roomdeck_tables SET name = ?2 WHERE name = ?1",
                [from, to],
            )?;
            tx.execute(
                "UPDATE _roomdeck_indexes SET table_name = ?2 WHERE table_name = ?1",
                [from, to],
            )?;
            bump_version(tx, to)?;
            Ok(())
        })
    }

    /// Adds nullable columns of the given Arrow types, NULL in every row.
    pub fn add_columns(&self, table: &str, fields: &[Field]) -> Result<(), StoreError> {
        self.write_tx(|tx| {
            let schema = table_schema(tx, table)?;
            let mut all: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
            for f in fields {
                if schema.field_with_name(f.name()).is_ok() {
                    return Err(StoreError::Exists(format!(
                        "table `{table}` already has a column `{}`",
                        f.name()
                    )));
                }
                let decl = convert::decltype(f.data_type())?;
                tx.execute_batch(&format!(
                    "ALTER TABLE {} ADD COLUMN {} {decl}",
                    quote(table),
                    quote(f.name())
                ))?;
                all.push(f.clone().with_nullable(true));
            }
            columns_changed(tx, table, all, schema)
        })
    }

    /// Adds columns computed by SQL expressions over each row.
    pub fn add_columns_sql(
        &self,
        table: &str,
        columns: &[(String, String)],
        guard: Guard,
    ) -> Result<(), StoreError> {
        self.write_tx(|tx| {
            let schema = table_schema(tx, table)?;
            let mut all: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
            for (name, _) in columns {
                if schema.field_with_name(name).is_ok() {
                    return Err(StoreError::Exists(format!(
                        "table `{table}` already has a column `{name}`"
                    )));
                }
                tx.execute_batch(&format!(
                    "ALTER TABLE {} ADD COLUMN {}",
                    quote(table),
                    quote(name)
                ))?;
            }
            for (name, expr) in columns {
                let sql = format!("UPDATE {} SET {} = ({expr})", quote(table), quote(name));
                execute_guarded(tx, guard.clone(), &sql, |_| Ok(()))?;
            }
            for (name, _) in columns {
                // The type the expression produced, from its first value.
                let sample: Option<Value> = tx
                    .query_row(
                        &format!(
                            "SELECT {c} FROM {t} WHERE {c} IS NOT NULL LIMIT 1",
                            c = quote(name),
                            t = quote(table)
                        ),
                        [],
                        |r| r.get(0),
                    )
                    .ok();
                let dt = convert::infer_type(&sample.into_iter().collect::<Vec<_>>(), false);
                all.push(Field::new(name, dt, true));
            }
            columns_changed(tx, table, all, schema)
        })
    }

    pub fn drop_columns(&self, table: &str, columns: &[String]) -> Result<(), StoreError> {
        self.write_tx(|tx| {
            let schema = table_schema(tx, table)?;
            for c in columns {
                if schema.field_with_name(c).is_err() {
                    return Err(StoreError::NotFound(format!(
                        "table `{table}` has no column `{c}`"
                    )));
                }
            }
            drop_fts(tx, table)?;
            for c in columns {
                tx.execute_batch(&format!(
                    "ALTER TABLE {} DROP COLUMN {}",
                    quote(table),
                    quote(c)
                ))?;
            }
            let kept: Vec<Field> = schema
                .fields()
                .iter()
                .filter(|f| !columns.contains(f.name()))
                .map(|f| f.as_ref().clone())
                .collect();
            save_schema(
                tx,
                table,
                &Schema::new_with_metadata(kept, schema.metadata),
                true,
            )?;
            Ok(())
        })
    }

    /// Matches a batch's columns to the table's; every batch column must exist in the table.
    fn batch_columns(
        schema: &Schema,
        batch: &RecordBatch,
        table: &str,
    ) -> Result<Vec<(usize, Field)>, StoreError> {
        let mut out = Vec::new();
        for (i, f) in batch.schema().fields().iter().enumerate() {
            match schema.field_with_name(f.name()) {
                Ok(target) => out.push((i, target.clone())),
                Err(_) => {
                    return Err(StoreError::Invalid(format!(
                        "table `{table}` has no column `{}` (it has {})",
                        f.name(),
                        schema
                            .fields()
                            .iter()
                            .map(|f| f.name().as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
        }
        Ok(out)
    }

    /// Appends a batch in one transaction; returns the rows written.
    pub fn insert(&self, table: &str, batch: &RecordBatch) -> Result<usize, StoreError> {
        self.write_rows(table, batch, None)
    }

    /// Upserts a batch: rows whose `on` column matches an existing row replace it, the
    /// rest are appended.
    pub fn merge(&self, table: &str, on: &str, batch: &RecordBatch) -> Result<usize, StoreError> {
        self.write_rows(table, batch, Some(on))
    }

    fn write_rows(
        &self,
        table: &str,
        batch: &RecordBatch,
        on: Option<&str>,
    ) -> Result<usize, StoreError> {
        self.write_tx(|tx| {
        let schema = table_schema(tx, table)?;
        let cols = Self::batch_columns(&schema, batch, table)?;
        if cols.is_empty() {
            return Ok(0);
        }
        for f in schema.fields() {
            if !f.is_nullable() && !cols.iter().any(|(_, c)| c.name() == f.name()) {
                return Err(StoreError::Invalid(format!(
                    "column `{}` of table `{table}` may not be null, but the data has no such column",
                    f.name()
                )));
            }
        }
        let names: Vec<String> = cols.iter().map(|(_, f)| quote(f.name())).collect();
        let marks = vec!["?"; cols.len()].join(", ");
        let insert_sql = format!(
            "INSERT INTO {} ({}) VALUES ({marks})",
            quote(table),
            names.join(", ")
        );
        let mut update_sql = None;
        let mut on_pos = 0;
        if let Some(on) = on {
            on_pos = cols
                .iter()
                .position(|(_, f)| f.name() == on)
                .ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "the data to merge has no column `{on}` to match rows on"
                    ))
                })?;
            tx.execute_batch(&format!(
                "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
                quote(&format!("{RESERVED_PREFIX}merge:{table}:{on}")),
                quote(table),
                quote(on)
            ))?;
            let sets: Vec<String> = names
                .iter()
                .enumerate()
                .map(|(i, n)| format!("{n} = ?{}", i + 1))
                .collect();
            update_sql = Some(format!(
                "UPDATE {} SET {} WHERE {} IS ?{}",
                quote(table),
                sets.join(", "),
                quote(on),
                on_pos + 1
            ));
        }
        let columns: Vec<&dyn Array> = cols
            .iter()
            .map(|(i, _)| batch.column(*i).as_ref())
            .collect();
        {
            let mut insert = tx.prepare(&insert_sql)?;
            let mut update = match &update_sql {
                Some(sql) => Some(tx.prepare(sql)?),
                None => None,
            };
            let mut row_values: Vec<Value> = Vec::with_capacity(cols.len());
            for row in 0..batch.num_rows() {
                row_values.clear();
                for (c, (_, field)) in columns.iter().zip(&cols) {
                    let v = convert::array_value_to_sqlite(*c, row)?;
                    let v = if c.data_type() == field.data_type() {
                        v
                    } else {
                        convert::coerce_for(field, v)?
                    };
                    if v == Value::Null && !field.is_nullable() {
                        return Err(StoreError::Invalid(format!(
                            "column `{}` may not be null (row {row})",
                            field.name()
                        )));
                    }
                    row_values.push(v);
                }
                if let Some(update) = update
                    .as_mut()
                    .filter(|_| row_values[on_pos] != Value::Null)
                    && update.execute(params_from_iter(row_values.iter()))? > 0
                {
                    continue;
                }
                insert.execute(params_from_iter(row_values.iter()))?;
            }
        }
        bump_version(tx, table)?;
        Ok(batch.num_rows())
        })
    }

    /// Rows as plain JSON objects (wrappers removed) into a batch of the table's schema.
    pub fn rows_to_batch(
        schema: &Schema,
        rows: &[serde_json::Map<String, Json>],
    ) -> Result<RecordBatch, StoreError> {
        let mut names: Vec<&String> = Vec::new();
        for row in rows {
            for k in row.keys() {
                if !names.contains(&k) {
                    names.push(k);
                }
            }
        }
        let mut fields = Vec::new();
        let mut arrays = Vec::new();
        for name in names {
            let field = schema.field_with_name(name).map_err(|_| {
                StoreError::Invalid(format!("there is no column `{name}` to put a value in"))
            })?;
            let values: Vec<Json> = rows
                .iter()
                .map(|r| r.get(name).cloned().unwrap_or(Json::Null))
                .collect();
            arrays.push(convert::json_to_array(field, &values)?);
            fields.push(field.clone().with_nullable(true));
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(convert::arrow_err)
    }

    /// `UPDATE table SET … WHERE …`; returns the rows changed.
    pub fn update(
        &self,
        table: &str,
        where_: Option<&str>,
        values: &[(String, SetValue)],
        params: &Params,
        guard: Guard,
    ) -> Result<usize, StoreError> {
        if values.is_empty() {
            return Err(StoreError::Invalid(
                "give at least one column value to set".into(),
            ));
        }
        self.write_tx(|tx| {
            let schema = table_schema(tx, table)?;
            let mut sets = Vec::new();
            let mut literals = Vec::new();
            for (col, v) in values {
                let field = schema.field_with_name(col).map_err(|_| {
                    StoreError::NotFound(format!("table `{table}` has no column `{col}`"))
                })?;
                match v {
                    SetValue::Expression(e) => sets.push(format!("{} = ({e})", quote(col))),
                    SetValue::Json(j) => {
                        literals.push(convert::json_to_sqlite(field, j)?);
                        sets.push(format!("{} = :__rd{}", quote(col), literals.len()));
                    }
                }
            }
            let sql = format!(
                "UPDATE {} SET {}{}",
                quote(table),
                sets.join(", "),
                where_clause(where_)
            );
            let n = execute_guarded(tx, guard, &sql, |stmt| {
                params.bind(stmt)?;
                for (i, v) in literals.iter().enumerate() {
                    stmt.raw_bind_parameter(&format!(":__rd{}", i + 1)[..], v)?;
                }
                Ok(())
            })?;
            bump_version(tx, table)?;
            Ok(n)
        })
    }

    /// `DELETE FROM table WHERE …`; returns the rows removed.
    pub fn delete(
        &self,
        table: &str,
        where_: Option<&str>,
        params: &Params,
        guard: Guard,
    ) -> Result<usize, StoreError> {
        self.write_tx(|tx| {
            if !table_exists(tx, table)? {
                return Err(not_found(table));
            }
            let sql = format!("DELETE FROM {}{}", quote(table), where_clause(where_));
            let n = execute_guarded(tx, guard, &sql, |stmt| params.bind(stmt))?;
            bump_version(tx, table)?;
            Ok(n)
        })
    }

    /// Rows matching `where` (and the full-text `text`, when given).
    pub fn count(
        &self,
        table: &str,
        where_: Option<&str>,
        text: Option<(&str, Option<&[String]>)>,
        params: &Params,
        guard: Guard,
    ) -> Result<u64, StoreError> {
        let conn = self.conn()?;
        if !table_exists(&conn, table)? {
            return Err(not_found(table));
        }
        let mut conds: Vec<String> = where_
            .filter(|w| !w.trim().is_empty())
            .map(|w| format!("({w})"))
            .into_iter()
            .collect();
        let mut text_param = None;
        if let Some((text, columns)) = text {
            let fts = self.ensure_fts(table, columns)?;
            conds.push(format!(
                "rowid IN (SELECT rowid FROM {} WHERE {} MATCH :__rdtext)",
                quote(&fts),
                quote(&fts)
            ));
            text_param = Some(fts_query(text));
        }
        let sql = format!(
            "SELECT count(*) FROM {}{}",
            quote(table),
            if conds.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", conds.join(" AND "))
            }
        );
        let why = install_guard(&conn, guard)?;
        let mut stmt = prepare_guarded(&conn, &sql, &why)?;
        params.bind(&mut stmt)?;
        if let Some(q) = &text_param {
            stmt.raw_bind_parameter(":__rdtext", q)?;
        }
        let mut rows = stmt.raw_query();
        let n: i64 = match rows.next().map_err(|e| denied_or(e, &why))? {
            Some(r) => r.get(0)?,
            None => 0,
        };
        Ok(n.max(0) as u64)
    }

    /// Makes (or refreshes) the full-text index of a table over its text columns; returns its name.
    pub fn ensure_fts(
        &self,
        table: &str,
        columns: Option<&[String]>,
    ) -> Result<String, StoreError> {
        self.write_tx(|tx| {
        let schema = table_schema(tx, table)?;
        let wanted: Vec<String> = match columns {
            Some(cols) if !cols.is_empty() => {
                for c in cols {
                    schema.field_with_name(c).map_err(|_| {
                        StoreError::NotFound(format!("table `{table}` has no column `{c}`"))
                    })?;
                }
                cols.to_vec()
            }
            _ => schema
                .fields()
                .iter()
                .filter(|f| {
                    matches!(
                        f.data_type(),
                        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                    )
                })
                .map(|f| f.name().clone())
                .collect(),
        };
        if wanted.is_empty() {
            return Err(StoreError::Invalid(format!(
                "table `{table}` has no text columns to search; name them in text_columns"
            )));
        }
        let fts = fts_name(table);
        let existing: Option<String> = tx
            .query_row(
                "SELECT columns FROM _roomdeck_indexes WHERE name = ?1",
                [&fts],
                |r| r.get(0),
            )
            .ok();
        let wanted_json = serde_json::to_string(&wanted).unwrap_or_default();
        if existing.as_deref() == Some(wanted_json.as_str()) && table_exists(tx, &fts)? {
            return Ok(fts);
        }
        drop_fts(tx, table)?;
        let cols: Vec<String> = wanted.iter().map(|c| quote(c)).collect();
        let new: Vec<String> = wanted.iter().map(|c| format!("new.{}", quote(c))).collect();
        let (q, t) = (quote(&fts), quote(table));
        tx.execute_batch(&format!(
            "CREATE VIRTUAL TABLE {q} USING fts5({cols});
             INSERT INTO {q} (rowid, {cols}) SELECT rowid, {cols} FROM {t};
             CREATE TRIGGER {ai} AFTER INSERT ON {t} BEGIN INSERT INTO {q} (rowid, {cols}) VALUES (new.rowid, {new}); END;
             CREATE TRIGGER {ad} AFTER DELETE ON {t} BEGIN DELETE FROM {q} WHERE rowid = old.rowid; END;
             CREATE TRIGGER {au} AFTER UPDATE ON {t} BEGIN DELETE FROM {q} WHERE rowid = old.rowid; INSERT INTO {q} (rowid, {cols}) VALUES (new.rowid, {new}); END;",
            cols = cols.join(", "),
            new = new.join(", "),
            ai = quote(&format!("{fts}:ai")),
            ad = quote(&format!("{fts}:ad")),
            au = quote(&format!("{fts}:au")),
        ))?;
        tx.execute(
            "INSERT INTO _roomdeck_indexes (name, table_name, columns, kind, created_at) VALUES (?1, ?2, ?3, 'FTS', ?4)",
            rusqlite::params![fts, table, wanted_json, now()],
        )?;
        Ok(fts)
        })
    }

    /// Creates an index: FTS/INVERTED as a full-text index, anything else as a B-tree.
    pub fn create_index(
        &self,
        table: &str,
        name: Option<&str>,
        columns: &[String],
        kind: &str,
    ) -> Result<String, StoreError> {
        let upper = kind.to_ascii_uppercase();
        if upper == "FTS" || upper == "INVERTED" {
            return self.ensure_fts(table, Some(columns));
        }
        self.write_tx(|tx| {
        let schema = table_schema(tx, table)?;
        for c in columns {
            schema.field_with_name(c).map_err(|_| {
                StoreError::NotFound(format!("table `{table}` has no column `{c}`"))
            })?;
        }
        let name = name
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}_idx", columns.join("_")));
        if name.starts_with(RESERVED_PREFIX) {
            return Err(StoreError::Invalid(format!(
                "index names may not start with {RESERVED_PREFIX}"
            )));
        }
        let full = format!("{table}:{name}");
        let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        tx.execute_batch(&format!(
            "DROP INDEX IF EXISTS {q}; CREATE INDEX {q} ON {} ({})",
            quote(table),
            cols.join(", "),
            q = quote(&full)
        ))?;
        tx.execute(
            "INSERT OR REPLACE INTO _roomdeck_indexes (name, table_name, columns, kind, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![full, table, serde_json::to_string(columns).unwrap_or_default(), upper, now()],
        )?;
        Ok(name)
        })
    }

    pub fn drop_index(&self, table: &str, name: &str) -> Result<(), StoreError> {
        self.write_tx(|tx| {
            let fts = fts_name(table);
            if name == fts || name == "fts" {
                drop_fts(tx, table)?;
            } else {
                let full = format!("{table}:{name}");
                let n = tx.execute(
                    "DELETE FROM _roomdeck_indexes WHERE name = ?1 AND table_name = ?2",
                    [&full, table],
                )?;
                if n == 0 {
                    return Err(StoreError::NotFound(format!(
                        "table `{table}` has no index `{name}`"
                    )));
                }
                tx.execute_batch(&format!("DROP INDEX IF EXISTS {}", quote(&full)))?;
            }
            Ok(())
        })
    }

    /// (name, columns, kind) of the indexes made through the tools.
    pub fn list_indexes(
        &self,
        table: &str,
    ) -> Result<Vec<(String, Vec<String>, String)>, StoreError> {
        let conn = self.conn()?;
        if !table_exists(&conn, table)? {
            return Err(not_found(table));
        }
        let mut stmt = conn.prepare(
            "SELECT name, columns, kind FROM _roomdeck_indexes WHERE table_name = ?1 ORDER BY name",
        )?;
        let rows = stmt.query_map([table], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (name, cols, kind) = row?;
            let short = if kind == "FTS" {
                "fts".to_string()
            } else {
                name.strip_prefix(&format!("{table}:"))
                    .unwrap_or(&name)
                    .to_string()
            };
            out.push((short, serde_json::from_str(&cols).unwrap_or_default(), kind));
        }
        Ok(out)
    }

    pub fn row_count(&self, table: &str) -> Result<u64, StoreError> {
        self.count(table, None, None, &Params::None, allow_all())
    }

    /// Tidies the file: SQLite's planner statistics and the full-text indexes.
    pub fn optimize(&self) -> Result<(), StoreError> {
        let _turn = self.write_turn();
        let conn = self.conn()?;
        conn.execute_batch("PRAGMA optimize;")?;
        let mut stmt = conn.prepare("SELECT name FROM _roomdeck_indexes WHERE kind = 'FTS'")?;
        let names: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for fts in names {
            if table_exists(&conn, &fts)? {
                conn.execute(
                    &format!("INSERT INTO {q} ({q}) VALUES ('optimize')", q = quote(&fts)),
                    [],
                )?;
            }
        }
        Ok(())
    }

    /// Size of the file in bytes (with its write-ahead log).
    pub fn size_bytes(&self) -> u64 {
        let wal = self.path.with_extension(format!(
            "{}-wal",
            self.path.extension().and_then(|e| e.to_str()).unwrap_or("")
        ));
        std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
            + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
    }

    /// Opens a query (or runs a statement) on a connection of its own.
    pub fn open_query(&self, spec: QuerySpec) -> Result<Opened, StoreError> {
        Cursor::open(self.path.clone(), spec)
    }
}

fn where_clause(w: Option<&str>) -> String {
    match w.map(str::trim) {
        Some(w) if !w.is_empty() => format!(" WHERE ({w})"),
        _ => String::new(),
    }
}

/// A full-text query from a person's words: each word quoted, any may match.
pub fn fts_query(text: &str) -> String {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    if words.is_empty() {
        "\"\"".into()
    } else {
        words.join(" OR ")
    }
}

#[cfg(test)]
mod tests;
