//! Entities, relationships and free-form tables: upserts, deletes and the scans `query` uses.

use std::collections::BTreeSet;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{
    DatasetSummary, ENTITY_DATASET, MAX_RECORDS, MemoryDb, MemoryError, RELATIONSHIP_DATASET,
    Result, SOURCE_DATASET, invalid, now_rfc3339,
};

const MAX_FIELD: usize = 64 * 1024;
const MAX_ID: usize = 512;

/// The SDK's `MemoryEntityRecord`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntityRecord {
    #[serde(default)]
    pub entity_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub entity_type: Option<String>,
    #[serde(default)]
    pub context: Option<String>,
    #[serde(default)]
    pub confidence: Option<f64>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub valid_at: Option<String>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

/// The SDK's `MemoryRelationshipRecord`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationshipRecord {
    pub source_entity_id: String,
    pub target_entity_id: String,
    #[serde(default = "related_to")]
    pub relationship_type: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub confidence: Option<f64>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub valid_at: Option<String>,
    #[serde(default)]
    pub expired_at: Option<String>,
    #[serde(default)]
    pub invalid_at: Option<String>,
    #[serde(default)]
    pub source_entity_name: Option<String>,
    #[serde(default)]
    pub target_entity_name: Option<String>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

fn related_to() -> String {
    "RELATED_TO".into()
}

/// The SDK's `MemoryRelationshipSelector`: no type = every type between the two.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationshipSelector {
    pub source_entity_id: String,
    pub target_entity_id: String,
    #[serde(default)]
    pub relationship_type: Option<String>,
}

/// A stable id for an entity given without one: the same name and type give the same id, so
/// repeated mentions merge into one node.
pub fn derived_entity_id(name: &str, entity_type: Option<&str>) -> String {
    let mut h = Sha256::new();
    h.update(name.trim().to_lowercase().as_bytes());
    h.update([0]);
    h.update(entity_type.unwrap_or("").trim().to_lowercase().as_bytes());
    let digest = h.finalize();
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("ent-{hex}")
}

fn check_len(what: &str, value: &Option<String>, max: usize) -> Result<()> {
    match value {
        Some(v) if v.len() > max => invalid(format!("`{what}` is longer than {max} bytes")),
        _ => Ok(()),
    }
}

/// Parses the SDK's `records_json` (a JSON array of records).
pub fn parse_records<T: serde::de::DeserializeOwned>(
    records_json: &str,
    what: &str,
) -> Result<Vec<T>> {
    if records_json.len() > super::MAX_RECORDS_JSON {
        return invalid(format!(
            "records_json is larger than {} bytes; send the records in smaller batches",
            super::MAX_RECORDS_JSON
        ));
    }
    let records: Vec<T> = serde_json::from_str(records_json).map_err(|e| {
        MemoryError::Invalid(format!("records_json is not a list of {what} records: {e}"))
    })?;
    if records.len() > MAX_RECORDS {
        return invalid(format!(
            "{} records in one call; send at most {MAX_RECORDS}",
            records.len()
        ));
    }
    Ok(records)
}

fn validate_entity(r: &EntityRecord) -> Result<()> {
    if r.name.trim().is_empty() {
        return invalid("an entity record needs a non-empty `name`");
    }
    check_len("name", &Some(r.name.clone()), MAX_FIELD)?;
    check_len("entity_id", &r.entity_id, MAX_ID)?;
    if r.entity_id.as_deref() == Some("") {
        return invalid("`entity_id` may not be empty (leave it out to derive one)");
    }
    for (what, v) in [
        ("entity_type", &r.entity_type),
        ("context", &r.context),
        ("created_at", &r.created_at),
        ("valid_at", &r.valid_at),
    ] {
        check_len(what, v, MAX_FIELD)?;
    }
    Ok(())
}

fn validate_relationship(r: &RelationshipRecord) -> Result<()> {
    if r.source_entity_id.is_empty() || r.target_entity_id.is_empty() {
        return invalid("a relationship record needs `source_entity_id` and `target_entity_id`");
    }
    if r.relationship_type.trim().is_empty() {
        return invalid("`relationship_type` may not be empty");
    }
    for (what, v) in [
        ("source_entity_id", &Some(r.source_entity_id.clone())),
        ("target_entity_id", &Some(r.target_entity_id.clone())),
        ("relationship_type", &Some(r.relationship_type.clone())),
    ] {
        check_len(what, v, MAX_ID)?;
    }
    for (what, v) in [
        ("description", &r.description),
        ("created_at", &r.created_at),
        ("valid_at", &r.valid_at),
        ("expired_at", &r.expired_at),
        ("invalid_at", &r.invalid_at),
        ("source_entity_name", &r.source_entity_name),
        ("target_entity_name", &r.target_entity_name),
    ] {
        check_len(what, v, MAX_FIELD)?;
    }
    Ok(())
}

fn metadata_json(m: &Option<Map<String, Value>>) -> Option<String> {
    m.as_ref().map(|m| Value::Object(m.clone()).to_string())
}

const UPSERT_ENTITY_MERGE: &str = "
INSERT INTO entities(entity_id, name, entity_type, context, confidence, created_at, valid_at, metadata)
VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, ?9), ?7, ?8)
ON CONFLICT(entity_id) DO UPDATE SET
    name = ?2,
    entity_type = coalesce(?3, entity_type),
    context = coalesce(?4, context),
    confidence = coalesce(?5, confidence),
    created_at = coalesce(?6, created_at),
    valid_at = coalesce(?7, valid_at),
    metadata = CASE WHEN ?8 IS NULL THEN metadata WHEN metadata IS NULL THEN ?8
                    ELSE json_patch(metadata, ?8) END";

const UPSERT_ENTITY_REPLACE: &str = "
INSERT INTO entities(entity_id, name, entity_type, context, confidence, created_at, valid_at, metadata)
VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, ?9), ?7, ?8)
ON CONFLICT(entity_id) DO UPDATE SET
    name = ?2, entity_type = ?3, context = ?4, confidence = ?5,
    created_at = coalesce(?6, created_at), valid_at = ?7, metadata = ?8";

const UPSERT_REL_MERGE: &str = "
INSERT INTO relationships(source_entity_id, target_entity_id, relationship_type, description,
    confidence, created_at, valid_at, expired_at, invalid_at, source_entity_name,
    target_entity_name, metadata)
VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, ?13), ?7, ?8, ?9, ?10, ?11, ?12)
ON CONFLICT(source_entity_id, target_entity_id, relationship_type) DO UPDATE SET
    description = coalesce(?4, description),
    confidence = coalesce(?5, confidence),
    created_at = coalesce(?6, created_at),
    valid_at = coalesce(?7, valid_at),
    expired_at = coalesce(?8, expired_at),
    invalid_at = coalesce(?9, invalid_at),
    source_entity_name = coalesce(?10, source_entity_name),
    target_entity_name = coalesce(?11, target_entity_name),
    metadata = CASE WHEN ?12 IS NULL THEN metadata WHEN metadata IS NULL THEN ?12
                    ELSE json_patch(metadata, ?12) END";

const UPSERT_REL_REPLACE: &str = "
INSERT INTO relationships(source_entity_id, target_entity_id, relationship_type, description,
    confidence, created_at, valid_at, expired_at, invalid_at, source_entity_name,
    target_entity_name, metadata)
VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, ?13), ?7, ?8, ?9, ?10, ?11, ?12)
ON CONFLICT(source_entity_id, target_entity_id, relationship_type) DO UPDATE SET
    description = ?4, confidence = ?5, created_at = coalesce(?6, created_at), valid_at = ?7,
    expired_at = ?8, invalid_at = ?9, source_entity_name = ?10, target_entity_name = ?11,
    metadata = ?12";

/// Writes entities in one transaction's worth of statements; returns their ids.
pub(super) fn upsert_entities_in(
    tx: &rusqlite::Connection,
    records: &[EntityRecord],
    merge: bool,
) -> Result<Vec<String>> {
    let now = now_rfc3339();
    let mut stmt = tx.prepare_cached(if merge {
        UPSERT_ENTITY_MERGE
    } else {
        UPSERT_ENTITY_REPLACE
    })?;
    let mut ids = Vec::with_capacity(records.len());
    for r in records {
        let id = r
            .entity_id
            .clone()
            .unwrap_or_else(|| derived_entity_id(&r.name, r.entity_type.as_deref()));
        stmt.execute(params![
            id,
            r.name,
            r.entity_type,
            r.context,
            r.confidence,
            r.created_at,
            r.valid_at,
            metadata_json(&r.metadata),
            now
        ])?;
        ids.push(id);
    }
    Ok(ids)
}

pub(super) fn upsert_relationships_in(
    tx: &rusqlite::Connection,
    records: &[RelationshipRecord],
    merge: bool,
) -> Result<usize> {
    let now = now_rfc3339();
    let mut stmt = tx.prepare_cached(if merge {
        UPSERT_REL_MERGE
    } else {
        UPSERT_REL_REPLACE
    })?;
    let mut name_of = tx.prepare_cached("SELECT name FROM entities WHERE entity_id = ?1")?;
    for r in records {
        let mut lookup = |id: &str, given: &Option<String>| -> Result<Option<String>> {
            match given {
                Some(n) => Ok(Some(n.clone())),
                None => Ok(name_of.query_row([id], |row| row.get(0)).optional()?),
            }
        };
        let source_name = lookup(&r.source_entity_id, &r.source_entity_name)?;
        let target_name = lookup(&r.target_entity_id, &r.target_entity_name)?;
        stmt.execute(params![
            r.source_entity_id,
            r.target_entity_id,
            r.relationship_type,
            r.description,
            r.confidence,
            r.created_at,
            r.valid_at,
            r.expired_at,
            r.invalid_at,
            source_name,
            target_name,
            metadata_json(&r.metadata),
            now
        ])?;
    }
    Ok(records.len())
}

/// The SDK's dataset value wrappers (`{"timestamp": …}`, `{"list": […]}`, …) as plain JSON.
fn unwrap_dataset_value(v: Value) -> Value {
    match v {
        Value::Object(mut m) if m.len() == 1 => {
            let Some((key, _)) = m.iter().next() else {
                return Value::Object(m);
            };
            let key = key.clone();
            let inner = m.remove(&key).unwrap_or(Value::Null);
            match key.as_str() {
                "list" => match inner {
                    Value::Array(items) => {
                        Value::Array(items.into_iter().map(unwrap_dataset_value).collect())
                    }
                    other => other,
                },
                "struct" => match inner {
                    Value::Object(fields) => Value::Object(
                        fields
                            .into_iter()
                            .map(|(k, v)| (k, unwrap_dataset_value(v)))
                            .collect(),
                    ),
                    other => other,
                },
                "binary" | "uuid" | "date" | "timestamp" | "expression" | "json" => inner,
                _ => {
                    m.insert(key, inner);
                    Value::Object(m)
                }
            }
        }
        other => other,
    }
}

fn is_reserved_table(name: &str) -> bool {
    [ENTITY_DATASET, RELATIONSHIP_DATASET, SOURCE_DATASET]
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
}

fn row_key(record: &Map<String, Value>) -> Option<String> {
    match record.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl MemoryDb {
    pub fn upsert_entities(&self, records: &[EntityRecord], merge: bool) -> Result<Vec<String>> {
        records.iter().try_for_each(validate_entity)?;
        self.with(|c| {
            let tx = c.transaction()?;
            let ids = upsert_entities_in(&tx, records, merge)?;
            tx.commit()?;
            Ok(ids)
        })
    }

    pub fn upsert_relationships(
        &self,
        records: &[RelationshipRecord],
        merge: bool,
    ) -> Result<usize> {
        records.iter().try_for_each(validate_relationship)?;
        self.with(|c| {
            let tx = c.transaction()?;
            let n = upsert_relationships_in(&tx, records, merge)?;
            tx.commit()?;
            Ok(n)
        })
    }

    /// Rows of a free-form table. A record with an `id` replaces (`merge`: is merged into)
    /// the row with the same `id`; records without one are appended.
    pub fn upsert_table(&self, table: &str, records: Vec<Value>, merge: bool) -> Result<usize> {
        super::check_name("table", table)?;
        if is_reserved_table(table) {
            return invalid(format!(
                "`{table}` is a built-in dataset of the memory; use upsert_nodes or upsert_relationships"
            ));
        }
        if records.len() > MAX_RECORDS {
            return invalid(format!("send at most {MAX_RECORDS} records per call"));
        }
        let mut rows = Vec::with_capacity(records.len());
        for (i, r) in records.into_iter().enumerate() {
            let Value::Object(m) = r else {
                return invalid(format!("records[{i}] is not a JSON object"));
            };
            let m: Map<String, Value> = m
                .into_iter()
                .map(|(k, v)| (k, unwrap_dataset_value(v)))
                .collect();
            rows.push(m);
        }
        self.with(|c| {
            let tx = c.transaction()?;
            for row in &rows {
                let key = row_key(row);
                let mut record = row.clone();
                if let Some(key) = &key {
                    let old: Option<(i64, String)> = tx
                        .query_row(
                            "SELECT id, record FROM table_rows WHERE table_name = ?1 AND row_key = ?2",
                            params![table, key],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )
                        .optional()?;
                    if let Some((id, old)) = old {
                        if merge && let Ok(Value::Object(mut old)) = serde_json::from_str(&old) {
                            old.extend(record);
                            record = old;
                        }
                        tx.execute("DELETE FROM table_rows WHERE id = ?1", [id])?;
                    }
                }
                tx.execute(
                    "INSERT INTO table_rows(table_name, row_key, record) VALUES (?1, ?2, ?3)",
                    params![table, key, Value::Object(record).to_string()],
                )?;
            }
            tx.commit()?;
            Ok(rows.len())
        })
    }

    /// Deletes entities and every relationship that touches them: (entities, relationships).
    pub fn delete_entities(&self, ids: &[String]) -> Result<(u64, u64)> {
        self.with(|c| {
            let tx = c.transaction()?;
            let (mut entities, mut rels) = (0u64, 0u64);
            for id in ids {
                entities += tx.execute("DELETE FROM entities WHERE entity_id = ?1", [id])? as u64;
                rels += tx.execute(
                    "DELETE FROM relationships WHERE source_entity_id = ?1 OR target_entity_id = ?1",
                    [id],
                )? as u64;
            }
            tx.commit()?;
            Ok((entities, rels))
        })
    }

    pub fn delete_relationships(&self, selectors: &[RelationshipSelector]) -> Result<u64> {
        self.with(|c| {
            let tx = c.transaction()?;
            let mut n = 0u64;
            for s in selectors {
                n += match &s.relationship_type {
                    Some(t) => tx.execute(
                        "DELETE FROM relationships WHERE source_entity_id = ?1 AND target_entity_id = ?2 AND relationship_type = ?3",
                        params![s.source_entity_id, s.target_entity_id, t],
                    )?,
                    None => tx.execute(
                        "DELETE FROM relationships WHERE source_entity_id = ?1 AND target_entity_id = ?2",
                        params![s.source_entity_id, s.target_entity_id],
                    )?,
                } as u64;
            }
            tx.commit()?;
            Ok(n)
        })
    }

    pub(crate) fn record_source(
        c: &rusqlite::Connection,
        kind: &str,
        path: Option<&str>,
        mime_type: Option<&str>,
        chunks: usize,
    ) -> Result<()> {
        c.execute(
            "INSERT INTO sources(kind, path, mime_type, chunks, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![kind, path, mime_type, chunks as i64, now_rfc3339()],
        )?;
        Ok(())
    }
}

// --- scans for `query` ------------------------------------------------------------------

fn opt_json(s: Option<String>) -> Value {
    match s {
        Some(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        None => Value::Null,
    }
}

fn text(v: Option<String>) -> Value {
    v.map(Value::String).unwrap_or(Value::Null)
}

fn real(v: Option<f64>) -> Value {
    v.and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn too_many(what: &str, max: usize) -> MemoryError {
    MemoryError::Invalid(format!(
        "the memory has more than {max} {what}, more than a query here scans; use recall, or narrow the memory"
    ))
}

/// Every entity as a property map (`metadata` an object), at most `max`.
pub(super) fn scan_entities(
    c: &rusqlite::Connection,
    max: usize,
) -> Result<Vec<Map<String, Value>>> {
    let mut stmt = c.prepare_cached(
        "SELECT entity_id, name, entity_type, context, confidence, created_at, valid_at, metadata
         FROM entities ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        if out.len() >= max {
            return Err(too_many("entities", max));
        }
        let mut m = Map::new();
        m.insert("entity_id".into(), Value::String(r.get(0)?));
        m.insert("name".into(), Value::String(r.get(1)?));
        m.insert("entity_type".into(), text(r.get(2)?));
        m.insert("context".into(), text(r.get(3)?));
        m.insert("confidence".into(), real(r.get(4)?));
        m.insert("created_at".into(), text(r.get(5)?));
        m.insert("valid_at".into(), text(r.get(6)?));
        m.insert("metadata".into(), opt_json(r.get(7)?));
        out.push(m);
    }
    Ok(out)
}

pub(super) fn scan_relationships(
    c: &rusqlite::Connection,
    max: usize,
) -> Result<Vec<Map<String, Value>>> {
    let mut stmt = c.prepare_cached(
        "SELECT source_entity_id, target_entity_id, relationship_type, description, confidence,
                created_at, valid_at, expired_at, invalid_at, source_entity_name,
                target_entity_name, metadata
         FROM relationships ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        if out.len() >= max {
            return Err(too_many("relationships", max));
        }
        let mut m = Map::new();
        m.insert("source_entity_id".into(), Value::String(r.get(0)?));
        m.insert("target_entity_id".into(), Value::String(r.get(1)?));
        m.insert("relationship_type".into(), Value::String(r.get(2)?));
        m.insert("description".into(), text(r.get(3)?));
        m.insert("confidence".into(), real(r.get(4)?));
        for (i, key) in [
            (5, "created_at"),
            (6, "valid_at"),
            (7, "expired_at"),
            (8, "invalid_at"),
            (9, "source_entity_name"),
            (10, "target_entity_name"),
        ] {
            m.insert(key.into(), text(r.get(i)?));
        }
        m.insert("metadata".into(), opt_json(r.get(11)?));
        out.push(m);
    }
    Ok(out)
}

/// The rows of a free-form table; None when there is no such table.
pub(super) fn scan_table(
    c: &rusqlite::Connection,
    table: &str,
    max: usize,
) -> Result<Option<Vec<Map<String, Value>>>> {
    let mut stmt =
        c.prepare_cached("SELECT record FROM table_rows WHERE table_name = ?1 ORDER BY id")?;
    let mut rows = stmt.query([table])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        if out.len() >= max {
            return Err(too_many("rows in that table", max));
        }
        let record: String = r.get(0)?;
        if let Ok(Value::Object(m)) = serde_json::from_str(&record) {
            out.push(m);
        }
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

pub(super) fn table_summaries(c: &rusqlite::Connection) -> Result<Vec<DatasetSummary>> {
    let mut stmt = c.prepare_cached(
        "SELECT table_name, count(*) FROM table_rows GROUP BY table_name ORDER BY table_name",
    )?;
    let tables: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut sample = c.prepare_cached(
        "SELECT record FROM table_rows WHERE table_name = ?1 ORDER BY id LIMIT 100",
    )?;
    let mut out = Vec::new();
    for (name, rows) in tables {
        let mut columns = BTreeSet::new();
        let records: Vec<String> = sample
            .query_map([&name], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for r in records {
            if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&r) {
                columns.extend(m.keys().cloned());
            }
        }
        out.push(DatasetSummary {
            name,
            rows: rows.max(0) as u64,
            columns: columns.into_iter().collect(),
        });
    }
    Ok(out)
}
