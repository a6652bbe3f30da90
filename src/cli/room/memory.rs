//! `roomdeck room memory ...`: the room's memories (knowledge graphs with recall).

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::{Output, print_json};
use crate::client::RoomClient;
use crate::client::memory::{MemoryClient, Records};

#[derive(Args, Debug, Clone)]
pub struct Target {
    /// Memory name.
    #[arg(short = 'm', long = "name")]
    name: String,
    /// Namespace segments (repeatable): -n prod -n notes.
    #[arg(short = 'n', long = "namespace")]
    namespace: Vec<String>,
}

// The arguments of `upsert-nodes` and `upsert-relationships`.
#[derive(Args, Debug)]
pub struct Upsert {
    #[command(flatten)]
    target: Target,
    #[arg(long)]
    json: String,
    /// Replace records with the same id instead of merging into them.
    #[arg(long)]
    no_merge: bool,
}

#[derive(Subcommand, Debug)]
pub enum Memory {
    /// Memories in a namespace.
    List {
        #[arg(short = 'n', long = "namespace")]
        namespace: Vec<String>,
    },
    /// Create a memory.
    Create {
        #[command(flatten)]
        target: Target,
        /// Replace an existing memory of that name.
        #[arg(long)]
        overwrite: bool,
        /// Succeed when it already exists.
        #[arg(long)]
        ignore_exists: bool,
    },
    /// Delete a memory.
    Drop {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        ignore_missing: bool,
    },
    /// A memory's datasets and their sizes.
    Inspect {
        #[command(flatten)]
        target: Target,
    },
    /// Store text: --text, a local --file, or files of the room's storage (--storage-path).
    Ingest {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        text: Option<String>,
        /// A local UTF-8 text file.
        #[arg(long)]
        file: Option<std::path::PathBuf>,
        /// A text file in the room's storage (repeatable).
        #[arg(long = "storage-path")]
        storage_paths: Vec<String>,
    },
    /// Entities ranked by full-text relevance to a question.
    Recall {
        #[command(flatten)]
        target: Target,
        #[arg(short = 'q', long)]
        query: String,
        #[arg(long, default_value_t = 5)]
        limit: usize,
        /// Leave out each entity's relationships.
        #[arg(long)]
        no_relationships: bool,
    },
    /// Run a statement of the Cypher subset (see the README).
    Query {
        #[command(flatten)]
        target: Target,
        #[arg(short = 's', long)]
        statement: String,
    },
    /// Write entity nodes: a JSON array of MemoryEntityRecord objects.
    UpsertNodes(Upsert),
    /// Write relationships: a JSON array of MemoryRelationshipRecord objects.
    UpsertRelationships(Upsert),
    /// Delete entities (and their relationships).
    DeleteEntities {
        #[command(flatten)]
        target: Target,
        #[arg(short = 'e', long = "entity-id", required = true)]
        entity_ids: Vec<String>,
    },
    /// Compact a memory's database.
    Optimize {
        #[command(flatten)]
        target: Target,
    },
}

fn parse_array(text: &str) -> Result<Vec<Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) if items.iter().all(Value::is_object) => Ok(items),
        Ok(_) => Err("--json must be a JSON array of objects".into()),
        Err(e) => Err(format!("--json is not valid JSON: {e}")),
    }
}

impl Memory {
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Memory::UpsertNodes(u) | Memory::UpsertRelationships(u) => {
                parse_array(&u.json).map(|_| ())
            }
            Memory::Ingest {
                text,
                file,
                storage_paths,
                ..
            } => {
                let given = usize::from(text.is_some())
                    + usize::from(file.is_some())
                    + usize::from(!storage_paths.is_empty());
                if given != 1 {
                    return Err("ingest takes one of --text, --file or --storage-path".into());
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `upsert-nodes` and `upsert-relationships`.
async fn upsert(
    memory: &MemoryClient,
    kind: Records,
    u: Upsert,
    json_out: bool,
) -> Result<(), String> {
    let records = parse_array(&u.json)?;
    let target = &u.target;
    memory
        .upsert(kind, &target.name, &target.namespace, &records, !u.no_merge)
        .await
        .map_err(|e| e.to_string())?;
    if !json_out {
        println!("Upserted {} {} record(s)", records.len(), kind.noun());
    }
    Ok(())
}

pub async fn run(client: &RoomClient, cmd: Memory, output: Output) -> Result<(), String> {
    let memory = client.memory();
    let err = |e: crate::client::ClientError| e.to_string();
    let json_out = output == Output::Json;
    match cmd {
        Memory::List { namespace } => {
            let names = memory.list(&namespace).await.map_err(err)?;
            if json_out {
                print_json(&json!({ "memories": names }));
            } else if names.is_empty() {
                println!("No memories.");
            } else {
                names.iter().for_each(|n| println!("{n}"));
            }
        }
        Memory::Create {
            target,
            overwrite,
            ignore_exists,
        } => {
            memory
                .create(&target.name, &target.namespace, overwrite, ignore_exists)
                .await
                .map_err(err)?;
            if !json_out {
                println!("Created memory {}", target.name);
            }
        }
        Memory::Drop {
            target,
            ignore_missing,
        } => {
            memory
                .drop(&target.name, &target.namespace, ignore_missing)
                .await
                .map_err(err)?;
            if !json_out {
                println!("Dropped memory {}", target.name);
            }
        }
        Memory::Inspect { target } => {
            let d = memory
                .inspect(&target.name, &target.namespace)
                .await
                .map_err(err)?;
            if json_out {
                print_json(&serde_json::to_value(&d).unwrap_or_default());
            } else {
                println!("{} ({})", d.name, d.path);
                println!("{:<24} {:>8}  COLUMNS", "DATASET", "ROWS");
                for ds in d.datasets {
                    println!("{:<24} {:>8}  {}", ds.name, ds.rows, ds.columns.join(", "));
                }
            }
        }
        Memory::Ingest {
            target,
            text,
            file,
            storage_paths,
        } => {
            let result = if !storage_paths.is_empty() {
                memory
                    .ingest_from_storage(&target.name, &target.namespace, &storage_paths)
                    .await
            } else {
                let text = match (text, file) {
                    (Some(t), _) => t,
                    (None, Some(f)) => {
                        std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?
                    }
                    (None, None) => unreachable!("validate() checked"),
                };
                memory
                    .ingest_text(&target.name, &target.namespace, &text)
                    .await
            }
            .map_err(err)?;
            if json_out {
                print_json(&serde_json::to_value(&result).unwrap_or_default());
            } else {
                println!(
                    "Ingested into {}: {} entities, {} relationships, {} sources",
                    result.name,
                    result.stats.entities,
                    result.stats.relationships,
                    result.stats.sources
                );
            }
        }
        Memory::Recall {
            target,
            query,
            limit,
            no_relationships,
        } => {
            let r = memory
                .recall(
                    &target.name,
                    &target.namespace,
                    &query,
                    limit,
                    !no_relationships,
                )
                .await
                .map_err(err)?;
            if json_out {
                print_json(&serde_json::to_value(&r).unwrap_or_default());
            } else if r.items.is_empty() {
                println!("Nothing recalled.");
            } else {
                println!("{:>7}  {:<10} NAME / CONTEXT", "SCORE", "TYPE");
                for item in r.items {
                    println!(
                        "{:>7.3}  {:<10} {}",
                        item.score, item.entity_type, item.name
                    );
                    if let Some(c) = item.context.filter(|c| *c != item.name) {
                        println!("{:>7}  {:<10} {}", "", "", c);
                    }
                }
            }
        }
        Memory::Query { target, statement } => {
            let rows = memory
                .query(&target.name, &target.namespace, &statement)
                .await
                .map_err(err)?;
            if json_out {
                print_json(&json!({ "results": rows }));
            } else if rows.is_empty() {
                println!("No rows.");
            } else {
                let mut columns: Vec<&String> = rows[0].keys().collect();
                columns.sort();
                println!(
                    "{}",
                    columns
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join("\t")
                );
                for row in &rows {
                    let cells: Vec<String> = columns
                        .iter()
                        .map(|c| row.get(*c).map(cell).unwrap_or_default())
                        .collect();
                    println!("{}", cells.join("\t"));
                }
            }
        }
        Memory::UpsertNodes(u) => upsert(&memory, Records::Nodes, u, json_out).await?,
        Memory::UpsertRelationships(u) => {
            upsert(&memory, Records::Relationships, u, json_out).await?
        }
        Memory::DeleteEntities { target, entity_ids } => {
            let (e, r) = memory
                .delete_entities(&target.name, &target.namespace, &entity_ids)
                .await
                .map_err(err)?;
            if json_out {
                print_json(
                    &json!({"name": target.name, "deleted_entities": e, "deleted_relationships": r}),
                );
            } else {
                println!("Deleted {e} entities and {r} relationships");
            }
        }
        Memory::Optimize { target } => {
            let v = memory
                .optimize(&target.name, &target.namespace)
                .await
                .map_err(err)?;
            if json_out {
                print_json(&v);
            } else {
                println!("Optimized memory {}", target.name);
            }
        }
    }
    Ok(())
}
