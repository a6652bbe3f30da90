//! `search` and the filters it shares with `count`: where clauses (SQL text, or an object of
//! column = value), column selection, limit/offset, full text (FTS5, BM25 order, `_score`)
//! and exact nearest-neighbour vector search (squared L2, `_distance`).

use std::sync::Arc;

use arrow_schema::{DataType, Schema};
use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use super::shared::{RoomDatabase, blocking, opt_str, opt_strings, opt_u64, start_chunk};
use super::{guard, no_branch, table_arg};
use crate::server::call::{Reply, ToolCall, ToolError, ToolResult};
use crate::store::tables::{
    Guard, Mode, Opened, Params, QuerySpec, TableStore, cursor::BATCH_ROWS, fts_query, quote,
};

/// Results of a text or vector search without a limit.
const DEFAULT_NEAREST: u64 = 10;

/// `where`: SQL text, or `{column: value}` (all must match). Returns the clause and its params.
pub(crate) fn where_arg(args: &Value) -> Result<(Option<String>, Params), ToolError> {
    match args.get("where") {
        None | Some(Value::Null) => Ok((None, Params::None)),
        Some(Value::String(s)) => Ok((Some(s.clone()), Params::None)),
        Some(Value::Object(m)) => {
            let mut conds = Vec::new();
            let mut params = Vec::new();
            for (i, (k, v)) in m.iter().enumerate() {
                let name = format!(":__rdw{i}");
                conds.push(format!("{} IS {name}", quote(k)));
                let v = match crate::store::tables::convert::unwrap_value(v.clone()) {
                    Value::Null => SqlValue::Null,
                    Value::Bool(b) => SqlValue::Integer(i64::from(b)),
                    Value::Number(n) => match n.as_i64() {
                        Some(i) => SqlValue::Integer(i),
                        None => SqlValue::Real(n.as_f64().unwrap_or(f64::NAN)),
                    },
                    Value::String(s) => SqlValue::Text(s),
                    other => SqlValue::Text(other.to_string()),
                };
                params.push((name, v));
            }
            let clause = if conds.is_empty() {
                None
            } else {
                Some(conds.join(" AND "))
            };
            Ok((clause, Params::Named(params)))
        }
        Some(_) => Err(ToolError::invalid(
            "`where` must be SQL text or an object of column values",
        )),
    }
}

/// What a search asks for.
pub(crate) struct Search {
    pub table: String,
    pub select: Option<Vec<String>>,
    pub where_: Option<String>,
    pub where_params: Params,
    pub text: Option<(String, Option<Vec<String>>)>,
    pub vector: Option<Vec<f64>>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

impl Search {
    pub fn from_args(args: &Value, table: String) -> Result<Search, ToolError> {
        let (where_, where_params) = where_arg(args)?;
        let vector = match args.get("vector") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|v| {
                        v.as_f64()
                            .ok_or_else(|| ToolError::invalid("`vector` must be a list of numbers"))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => return Err(ToolError::invalid("`vector` must be a list of numbers")),
        };
        let text = opt_str(args, "text")?
            .filter(|t| !t.trim().is_empty())
            .map(|t| Ok::<_, ToolError>((t.to_string(), opt_strings(args, "text_columns")?)))
            .transpose()?;
        Ok(Search {
            table,
            select: opt_strings(args, "select")?,
            where_,
            where_params,
            text,
            vector,
            limit: opt_u64(args, "limit")?,
            offset: opt_u64(args, "offset")?,
        })
    }

    /// Runs the search as a query on `store` (blocking).
    pub fn open(
        self,
        store: &TableStore,
        g: Guard,
    ) -> Result<Opened, crate::store::tables::StoreError> {
        use crate::store::tables::StoreError;
        let schema = store.schema(&self.table)?;
        let t = quote(&self.table);
        let mut cols: Vec<String> = match &self.select {
            Some(sel) if !sel.is_empty() => {
                for c in sel {
                    if schema.field_with_name(c).is_err() {
                        return Err(StoreError::NotFound(format!(
                            "table `{}` has no column `{c}` to select",
                            self.table
                        )));
                    }
                }
                sel.iter().map(|c| format!("{t}.{}", quote(c))).collect()
            }
            _ => schema
                .fields()
                .iter()
                .map(|f| format!("{t}.{}", quote(f.name())))
                .collect(),
        };
        let mut from = t.clone();
        let mut conds: Vec<String> = self
            .where_
            .iter()
            .filter(|w| !w.trim().is_empty())
            .map(|w| format!("({w})"))
            .collect();
        let mut order = None;
        let mut named = Vec::new();
        if let Some((text, columns)) = &self.text {
            let fts = store.ensure_fts(&self.table, columns.as_deref())?;
            let f = quote(&fts);
            from = format!(
                "{t} JOIN (SELECT rowid AS __rd_rowid, -bm25({f}) AS _score FROM {f} WHERE {f} MATCH :__rdtext) AS __rd_fts ON {t}.rowid = __rd_fts.__rd_rowid"
            );
            cols.push("CAST(__rd_fts._score AS REAL) AS _score".into());
            order = Some("_score DESC".to_string());
            named.push((":__rdtext".into(), SqlValue::Text(fts_query(text))));
        }
        if let Some(v) = &self.vector {
            let column = vector_column(&schema).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "table `{}` has no vector column (a list of floats) to search",
                    self.table
                ))
            })?;
            cols.push(format!(
                "_roomdeck_distance({t}.{}, :__rdvec) AS _distance",
                quote(&column)
            ));
            conds.push(format!("{t}.{} IS NOT NULL", quote(&column)));
            order = Some("_distance ASC".to_string());
            named.push((
                ":__rdvec".into(),
                SqlValue::Text(serde_json::to_string(v).unwrap_or_default()),
            ));
        }
        let nearest = self.text.is_some() || self.vector.is_some();
        let limit = self
            .limit
            .or(if nearest { Some(DEFAULT_NEAREST) } else { None });
        let mut sql = format!("SELECT {} FROM {from}", cols.join(", "));
        if !conds.is_empty() {
            sql.push_str(&format!(" WHERE {}", conds.join(" AND ")));
        }
        if let Some(o) = order {
            sql.push_str(&format!(" ORDER BY {o}"));
        }
        match (limit, self.offset) {
            (Some(l), o) => sql.push_str(&format!(" LIMIT {l} OFFSET {}", o.unwrap_or(0))),
            (None, Some(o)) => sql.push_str(&format!(" LIMIT -1 OFFSET {o}")),
            (None, None) => {}
        }
        store.open_query(QuerySpec {
            sql,
            params: self.where_params.with_named(named),
            views: Vec::new(),
            guard: g,
            batch_rows: BATCH_ROWS,
            mode: Mode::RowsOnly,
            interrupt: None,
        })
    }
}

/// The column vector search uses: one named `vector` or `embedding`, else the first list of floats.
fn vector_column(schema: &Schema) -> Option<String> {
    let is_vector = |dt: &DataType| match dt {
        DataType::FixedSizeList(f, _) | DataType::List(f) | DataType::LargeList(f) => {
            matches!(
                f.data_type(),
                DataType::Float16 | DataType::Float32 | DataType::Float64
            )
        }
        _ => false,
    };
    let candidates: Vec<&str> = schema
        .fields()
        .iter()
        .filter(|f| is_vector(f.data_type()))
        .map(|f| f.name().as_str())
        .collect();
    candidates
        .iter()
        .find(|n| **n == "vector" || **n == "embedding")
        .or(candidates.first())
        .map(|s| s.to_string())
}

/// `dataset.search`: a read stream.
pub(crate) async fn search(call: &mut ToolCall) -> ToolResult {
    let (headers, _, _) = start_chunk(call).await?;
    let args = Value::Object(headers);
    call.authorize(&args)?;
    no_branch(&args)?;
    let (_, _, table) = table_arg(&args, "table")?;
    let search = Search::from_args(&args, table)?;
    let db = RoomDatabase::of(&call.room)?.dataset()?;
    let g = guard(call);
    let opened = blocking(move || search.open(&db, g)).await?;
    let Opened::Rows(cursor) = opened else {
        return Err(ToolError::invalid("the search returned no rows"));
    };
    super::shared::serve_cursor(call, Arc::new(cursor), false).await?;
    Ok(Reply::Streamed)
}
