//! Recall: BM25 full-text ranking (SQLite FTS5) over entity names, contexts and types.

use rusqlite::params;
use serde::Serialize;

use super::ingest::is_stopword;
use super::{MAX_RECALL, MemoryDb, Result, invalid};

/// Relationships reported per recalled entity.
const MAX_ITEM_RELATIONSHIPS: usize = 25;
const MAX_TERMS: usize = 32;

/// The SDK's `MemoryRecallRelationship`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecallRelationship {
    pub source_entity_id: String,
    pub target_entity_id: String,
    pub relationship_type: String,
    pub description: Option<String>,
    pub created_at: Option<String>,
    pub valid_at: Option<String>,
    pub expired_at: Option<String>,
    pub invalid_at: Option<String>,
}

/// The SDK's `MemoryRecallItem`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecallItem {
    pub entity_id: String,
    pub name: String,
    pub entity_type: String,
    pub context: Option<String>,
    pub confidence: Option<f64>,
    pub created_at: Option<String>,
    pub valid_at: Option<String>,
    pub score: f64,
    pub relationships: Vec<RecallRelationship>,
}

/// The FTS5 query for a question: its words (stopwords aside, unless that leaves none), each
/// quoted, joined with OR so that an entity matching some of them still ranks.
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut kept: Vec<&String> = words.iter().filter(|w| !is_stopword(w)).collect();
    if kept.is_empty() {
        kept = words.iter().collect();
    }
    let mut terms: Vec<&String> = Vec::new();
    for w in kept {
        if !terms.contains(&w) && terms.len() < MAX_TERMS {
            terms.push(w);
        }
    }
    if terms.is_empty() {
        return None;
    }
    Some(
        terms
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" OR "),
    )
}

impl MemoryDb {
    /// The entities that best match `query`, best first. `score` is FTS5's BM25 negated, so
    /// higher is better; names weigh twice as much as contexts.
    pub fn recall(
        &self,
        query: &str,
        limit: usize,
        include_relationships: bool,
    ) -> Result<Vec<RecallItem>> {
        if limit == 0 || limit > MAX_RECALL {
            return invalid(format!("`limit` must be between 1 and {MAX_RECALL}"));
        }
        let Some(fts) = fts_query(query) else {
            return Ok(Vec::new());
        };
        self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT e.entity_id, e.name, e.entity_type, e.context, e.confidence, e.created_at,
                        e.valid_at, bm25(entities_fts, 2.0, 1.0, 0.5) AS rank
                 FROM entities_fts JOIN entities e ON e.id = entities_fts.rowid
                 WHERE entities_fts MATCH ?1
                 ORDER BY rank, e.id
                 LIMIT ?2",
            )?;
            let mut items: Vec<RecallItem> = stmt
                .query_map(params![fts, limit as i64], |r| {
                    let rank: f64 = r.get(7)?;
                    Ok(RecallItem {
                        entity_id: r.get(0)?,
                        name: r.get(1)?,
                        entity_type: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                        context: r.get(3)?,
                        confidence: r.get(4)?,
                        created_at: r.get(5)?,
                        valid_at: r.get(6)?,
                        score: -rank,
                        relationships: Vec::new(),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            if include_relationships {
                let mut rels = c.prepare_cached(
                    "SELECT source_entity_id, target_entity_id, relationship_type, description,
                            created_at, valid_at, expired_at, invalid_at
                     FROM relationships WHERE source_entity_id = ?1 OR target_entity_id = ?1
                     ORDER BY id LIMIT ?2",
                )?;
                for item in &mut items {
                    item.relationships = rels
                        .query_map(
                            params![item.entity_id, MAX_ITEM_RELATIONSHIPS as i64],
                            |r| {
                                Ok(RecallRelationship {
                                    source_entity_id: r.get(0)?,
                                    target_entity_id: r.get(1)?,
                                    relationship_type: r.get(2)?,
                                    description: r.get(3)?,
                                    created_at: r.get(4)?,
                                    valid_at: r.get(5)?,
                                    expired_at: r.get(6)?,
                                    invalid_at: r.get(7)?,
                                })
                            },
                        )?
                        .collect::<rusqlite::Result<_>>()?;
                }
            }
            Ok(items)
        })
    }
}
