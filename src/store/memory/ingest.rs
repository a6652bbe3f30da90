//! Heuristic ingest (no LLM): text is cut into sentence-sized chunks, each stored as a
//! `MEMORY` entity whose context is the chunk; capitalised phrases in a chunk become `ENTITY`
//! entities (one per distinct name across the memory) linked from the chunk by `MENTIONS`,
//! and phrases of one chunk are linked to each other by `RELATED_TO`.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use super::graph::{
    EntityRecord, RelationshipRecord, derived_entity_id, upsert_entities_in,
    upsert_relationships_in,
};
use super::{MAX_TEXT, MemoryDb, Result, invalid};

/// The entity type of an ingested chunk and of an extracted name.
pub const CHUNK_TYPE: &str = "MEMORY";
pub const NAME_TYPE: &str = "CONCEPT";

/// Chunks shorter than this are joined to the next sentence; longer ones are cut.
const MIN_CHUNK: usize = 20;
const MAX_CHUNK: usize = 1000;
const MAX_CHUNKS: usize = 20_000;
/// Names linked to each other within one chunk.
const MAX_LINKED_NAMES: usize = 8;

/// What an ingest stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestResult {
    pub entities: u64,
    pub relationships: u64,
    pub sources: u64,
    /// Chunk ids first (in text order), then the names' ids.
    pub entity_ids: Vec<String>,
}

/// Where an ingested text came from, recorded in the `Source` dataset.
#[derive(Debug, Clone, Default)]
pub struct SourceInfo<'a> {
    pub kind: &'a str,
    pub path: Option<&'a str>,
    pub mime_type: Option<&'a str>,
}

/// Words that start sentences or are capitalised without naming anything.
pub(super) const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "because",
    "been", "before", "but", "by", "can", "could", "did", "do", "does", "each", "for", "from",
    "had", "has", "have", "he", "her", "here", "his", "how", "i", "if", "in", "into", "is", "it",
    "its", "me", "my", "no", "not", "of", "on", "or", "our", "she", "so", "some", "than", "that",
    "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "up", "us",
    "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will",
    "with", "would", "yes", "you", "your",
];

pub fn is_stopword(word: &str) -> bool {
    STOPWORDS
        .binary_search(&word.to_lowercase().as_str())
        .is_ok()
}

/// Sentences: ends at `.`, `!` or `?` followed by whitespace, or at a blank line.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split("\n\n") {
        let para = para.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut current = String::new();
        let mut chars = para.chars().peekable();
        while let Some(c) = chars.next() {
            current.push(c);
            if matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|n| n.is_whitespace()) {
                let s = current.trim();
                if !s.is_empty() {
                    out.push(s.to_string());
                }
                current.clear();
            }
        }
        let s = current.trim();
        if !s.is_empty() {
            out.push(s.to_string());
        }
    }
    out
}

/// Cuts an over-long sentence at word boundaries.
fn cut(sentence: &str, out: &mut Vec<String>) {
    let mut current = String::new();
    for word in sentence.split(' ') {
        if !current.is_empty() && current.len() + 1 + word.len() > MAX_CHUNK {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        if word.len() > MAX_CHUNK {
            let end = word.floor_char_boundary(MAX_CHUNK);
            current.push_str(&word[..end]);
        } else {
            current.push_str(word);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
}

/// The chunks a text is stored as: one per sentence, short ones joined to the next.
pub fn chunks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for s in sentences(text) {
        if !pending.is_empty() {
            pending.push(' ');
        }
        pending.push_str(&s);
        if pending.len() >= MIN_CHUNK {
            cut(&std::mem::take(&mut pending), &mut out);
        }
    }
    if !pending.is_empty() {
        match out.last_mut() {
            Some(last) if last.len() + 1 + pending.len() <= MAX_CHUNK => {
                last.push(' ');
                last.push_str(&pending);
            }
            _ => cut(&pending, &mut out),
        }
    }
    out
}

fn is_capitalised(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

/// Capitalised phrases of a chunk (`Ada Lovelace`, `Paris`, `NASA`), stopwords aside, in order
/// of first appearance.
pub fn names(chunk: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut phrase: Vec<&str> = Vec::new();
    let mut flush = |phrase: &mut Vec<&str>, out: &mut Vec<String>| {
        while phrase.first().is_some_and(|w| is_stopword(w)) {
            phrase.remove(0);
        }
        if !phrase.is_empty() {
            let name = phrase.join(" ");
            if name.chars().count() > 1 && seen.insert(name.to_lowercase()) {
                out.push(name);
            }
        }
        phrase.clear();
    };
    for raw in chunk.split_whitespace() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let ends_phrase = raw.ends_with([',', '.', ';', ':', '!', '?', ')', '"']);
        if !word.is_empty() && is_capitalised(word) && phrase.len() < 4 {
            phrase.push(word);
        } else {
            flush(&mut phrase, &mut out);
            if !word.is_empty() && is_capitalised(word) {
                phrase.push(word);
            }
        }
        if ends_phrase {
            flush(&mut phrase, &mut out);
        }
    }
    flush(&mut phrase, &mut out);
    out
}

/// A chunk's id: the same text ingested twice is one entity.
fn chunk_id(chunk: &str) -> String {
    let digest = Sha256::digest(chunk.as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("mem-{hex}")
}

/// A chunk's display name: its first words.
fn chunk_name(chunk: &str) -> String {
    let mut name = String::new();
    for word in chunk.split(' ').take(10) {
        if name.len() + word.len() > 80 {
            break;
        }
        if !name.is_empty() {
            name.push(' ');
        }
        name.push_str(word);
    }
    if name.len() < chunk.len() {
        name.push('…');
    }
    name
}

impl MemoryDb {
    /// Stores a text as chunks, names and links, in one transaction.
    pub fn ingest_text(&self, text: &str, source: &SourceInfo) -> Result<IngestResult> {
        if text.len() > MAX_TEXT {
            return invalid(format!(
                "the text is larger than {MAX_TEXT} bytes; ingest it in parts"
            ));
        }
        let pieces = chunks(text);
        if pieces.is_empty() {
            return invalid("there is no text to ingest");
        }
        if pieces.len() > MAX_CHUNKS {
            return invalid(format!(
                "the text has more than {MAX_CHUNKS} sentences; ingest it in parts"
            ));
        }
        let mut entities = Vec::new();
        let mut relationships = Vec::new();
        let mut name_ids = Vec::new();
        let mut seen_names = BTreeSet::new();
        for chunk in &pieces {
            let id = chunk_id(chunk);
            entities.push(EntityRecord {
                entity_id: Some(id.clone()),
                name: chunk_name(chunk),
                entity_type: Some(CHUNK_TYPE.into()),
                context: Some(chunk.clone()),
                confidence: Some(1.0),
                ..Default::default()
            });
            let found = names(chunk);
            let mut linked = Vec::new();
            for name in &found {
                let name_id = derived_entity_id(name, Some(NAME_TYPE));
                if seen_names.insert(name_id.clone()) {
                    name_ids.push((name_id.clone(), name.clone()));
                }
                relationships.push(RelationshipRecord {
                    source_entity_id: id.clone(),
                    target_entity_id: name_id.clone(),
                    relationship_type: "MENTIONS".into(),
                    description: None,
                    confidence: Some(1.0),
                    created_at: None,
                    valid_at: None,
                    expired_at: None,
                    invalid_at: None,
                    source_entity_name: Some(chunk_name(chunk)),
                    target_entity_name: Some(name.clone()),
                    metadata: None,
                });
                if linked.len() < MAX_LINKED_NAMES {
                    linked.push((name_id, name.clone()));
                }
            }
            for (i, (a, a_name)) in linked.iter().enumerate() {
                for (b, b_name) in &linked[i + 1..] {
                    relationships.push(RelationshipRecord {
                        source_entity_id: a.clone(),
                        target_entity_id: b.clone(),
                        relationship_type: "RELATED_TO".into(),
                        description: Some(chunk.chars().take(300).collect()),
                        confidence: Some(0.5),
                        created_at: None,
                        valid_at: None,
                        expired_at: None,
                        invalid_at: None,
                        source_entity_name: Some(a_name.clone()),
                        target_entity_name: Some(b_name.clone()),
                        metadata: None,
                    });
                }
            }
        }
        for (id, name) in &name_ids {
            entities.push(EntityRecord {
                entity_id: Some(id.clone()),
                name: name.clone(),
                entity_type: Some(NAME_TYPE.into()),
                confidence: Some(0.5),
                ..Default::default()
            });
        }
        self.with(|c| {
            let tx = c.transaction()?;
            let mut ids = upsert_entities_in(&tx, &entities, true)?;
            upsert_relationships_in(&tx, &relationships, true)?;
            MemoryDb::record_source(
                &tx,
                source.kind,
                source.path,
                source.mime_type,
                pieces.len(),
            )?;
            tx.commit()?;
            // Chunks repeated in the text are one entity.
            let mut seen = BTreeSet::new();
            ids.retain(|id| seen.insert(id.clone()));
            Ok(IngestResult {
                entities: ids.len() as u64,
                relationships: relationships.len() as u64,
                sources: 1,
                entity_ids: ids,
            })
        })
    }
}
