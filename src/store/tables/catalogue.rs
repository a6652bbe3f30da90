//! The schema catalogue: `_roomdeck_tables` keeps each table's Arrow schema (as an IPC
//! stream) and version, `_roomdeck_indexes` the indexes made through the tools. A table made
//! with plain SQL has no stored schema; its Arrow types come from its declared SQLite types.

use std::collections::HashMap;

use arrow_schema::{DataType, Field, Schema};
use rusqlite::Connection;

use super::{RESERVED_PREFIX, StoreError, convert, quote, read_ipc, schema_to_ipc};

pub(super) const META: &str = "
CREATE TABLE IF NOT EXISTS _roomdeck_tables (
    name TEXT PRIMARY KEY,
    schema BLOB NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _roomdeck_indexes (
    name TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    columns TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL
);
";

pub(super) fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// A table's stored schema, or None for tables made with plain SQL.
pub(super) fn stored_schema(conn: &Connection, table: &str) -> Result<Option<Schema>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT schema FROM _roomdeck_tables WHERE name = ?1")?;
    let mut rows = stmt.query([table])?;
    match rows.next()? {
        Some(row) => {
            let bytes: Vec<u8> = row.get(0)?;
            let (schema, _) = read_ipc(&bytes)?;
            Ok(Some(schema.as_ref().clone()))
        }
        None => Ok(None),
    }
}

/// Every stored schema, by table.
pub(crate) fn stored_schemas(conn: &Connection) -> Result<HashMap<String, Schema>, StoreError> {
    let mut stmt = conn.prepare("SELECT name, schema FROM _roomdeck_tables")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (name, bytes) = row?;
        if let Ok((schema, _)) = read_ipc(&bytes) {
            out.insert(name, schema.as_ref().clone());
        }
    }
    Ok(out)
}

pub(super) fn table_exists(conn: &Connection, table: &str) -> Result<bool, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// The table's Arrow schema: stored fields where the column still matches one, declared
/// types for the rest (columns added or changed with plain SQL).
pub(super) fn table_schema(conn: &Connection, table: &str) -> Result<Schema, StoreError> {
    if !table_exists(conn, table)? {
        return Err(not_found(table));
    }
    let stored = stored_schema(conn, table)?;
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote(table)))?;
    let cols = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut fields = Vec::new();
    for col in cols {
        let (name, decl, notnull) = col?;
        let known = stored
            .as_ref()
            .and_then(|s| s.field_with_name(&name).ok().cloned());
        fields.push(match known {
            Some(f) => f,
            None => Field::new(
                &name,
                convert::type_from_decltype(decl.as_deref().unwrap_or(""))
                    .unwrap_or(DataType::Utf8),
                notnull == 0,
            ),
        });
    }
    let metadata = stored.map(|s| s.metadata).unwrap_or_default();
    Ok(Schema::new_with_metadata(fields, metadata))
}

pub(super) fn not_found(table: &str) -> StoreError {
    StoreError::NotFound(format!("there is no table `{table}`"))
}

pub(super) fn save_schema(
    conn: &Connection,
    table: &str,
    schema: &Schema,
    bump: bool,
) -> Result<(), StoreError> {
    let bytes = schema_to_ipc(schema)?;
    conn.execute(
        "INSERT INTO _roomdeck_tables (name, schema, version, updated_at) VALUES (?1, ?2, 1, ?3)
         ON CONFLICT(name) DO UPDATE SET schema = excluded.schema,
           version = version + ?4, updated_at = excluded.updated_at",
        rusqlite::params![table, bytes, now(), i64::from(bump)],
    )?;
    Ok(())
}

/// After columns were added: the stored schema becomes `fields` with the `old` schema's
/// metadata (a new version), and the full-text index, made for the old columns, goes.
pub(super) fn columns_changed(
    conn: &Connection,
    table: &str,
    fields: Vec<Field>,
    old: Schema,
) -> Result<(), StoreError> {
    drop_fts(conn, table)?;
    save_schema(
        conn,
        table,
        &Schema::new_with_metadata(fields, old.metadata),
        true,
    )
}

/// Records a change to a table's rows: its version goes up by one.
pub(super) fn bump_version(conn: &Connection, table: &str) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE _roomdeck_tables SET version = version + 1, updated_at = ?2 WHERE name = ?1",
        rusqlite::params![table, now()],
    )?;
    if n == 0 {
        // A table made with plain SQL: start keeping its schema and version now.
        let schema = table_schema(conn, table)?;
        save_schema(conn, table, &schema, false)?;
    }
    Ok(())
}

pub(super) fn fts_name(table: &str) -> String {
    format!("{RESERVED_PREFIX}fts:{table}")
}

pub(super) fn drop_fts(conn: &Connection, table: &str) -> Result<(), StoreError> {
    let fts = fts_name(table);
    for suffix in ["ai", "ad", "au"] {
        conn.execute_batch(&format!(
            "DROP TRIGGER IF EXISTS {}",
            quote(&format!("{fts}:{suffix}"))
        ))?;
    }
    conn.execute_batch(&format!("DROP TABLE IF EXISTS {}", quote(&fts)))?;
    conn.execute("DELETE FROM _roomdeck_indexes WHERE name = ?1", [&fts])?;
    Ok(())
}
