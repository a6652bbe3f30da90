//! `roomdeck room sync ...`: shared documents, as MeshAgent's `meshagent room sync` does them.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::{Value, json};

use super::{Output, print_json};
use crate::client::{OpenOptions, RoomClient};

#[derive(Subcommand, Debug)]
pub enum Sync {
    /// The room's documents.
    List,
    /// Print a document as JSON.
    Get {
        path: String,
        /// Include the elements' `$id` attributes.
        #[arg(long)]
        include_ids: bool,
    },
    /// Print a document's schema (MeshSchema JSON).
    Inspect { path: String },
    /// Create a document from a schema file and optional initial JSON.
    Create {
        path: String,
        /// MeshSchema JSON file.
        #[arg(long)]
        schema: PathBuf,
        /// Initial content, `{"ROOT_TAG": {...}}`.
        #[arg(long)]
        json: Option<String>,
    },
    /// Apply a JSON patch (RFC 6902: add, remove, replace, move, copy, test) to a document.
    Update {
        path: String,
        /// The patch: a JSON array of operations.
        #[arg(long, required_unless_present = "patch_file")]
        patch: Option<String>,
        /// Read the patch from a file.
        #[arg(long, conflicts_with = "patch")]
        patch_file: Option<PathBuf>,
    },
}

fn parse_json(text: &str, what: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("{what} is not valid JSON: {e}"))
}

fn read_json(path: &PathBuf, what: &str) -> Result<Value, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{what} {}: {e}", path.display()))?;
    parse_json(&text, what)
}

impl Sync {
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Sync::Create { schema, json, .. } => {
                let schema = read_json(schema, "--schema")?;
                crate::protocol::document::Schema::parse(&schema).map_err(|e| e.to_string())?;
                if let Some(j) = json {
                    super::parse_object(j, "--json")?;
                }
                Ok(())
            }
            Sync::Update { patch: Some(p), .. } => {
                patch_ops(&parse_json(p, "--patch")?).map(|_| ())
            }
            Sync::Update {
                patch_file: Some(f),
                ..
            } => patch_ops(&read_json(f, "--patch-file")?).map(|_| ()),
            _ => Ok(()),
        }
    }
}

pub async fn run(client: &RoomClient, cmd: Sync, output: Output) -> Result<(), String> {
    let err = |e: crate::client::ClientError| e.to_string();
    let sync = client.sync();
    match cmd {
        Sync::List => {
            let docs = sync.list().await.map_err(err)?;
            if output == Output::Json {
                let list: Vec<Value> = docs
                    .iter()
                    .map(|d| json!({"path": d.path, "size": d.size, "open": d.open}))
                    .collect();
                print_json(&json!({ "documents": list }));
            } else if docs.is_empty() {
                println!("No documents.");
            } else {
                println!("{:<48} {:>10} OPEN", "PATH", "SIZE");
                for d in docs {
                    println!("{:<48} {:>10} {}", d.path, d.size, d.open);
                }
            }
        }
        Sync::Get { path, include_ids } => {
            let doc = sync
                .open(&path, OpenOptions::default())
                .await
                .map_err(err)?;
            print_json(&doc.to_json(include_ids));
            doc.close().await;
        }
        Sync::Inspect { path } => {
            let doc = sync
                .open(&path, OpenOptions::default())
                .await
                .map_err(err)?;
            print_json(doc.schema());
            doc.close().await;
        }
        Sync::Create { path, schema, json } => {
            let schema = read_json(&schema, "--schema")?;
            let json = json.map(|j| parse_json(&j, "--json")).transpose()?;
            sync.create(&path, Some(schema), json).await.map_err(err)?;
            eprintln!("Created document at {path}");
        }
        Sync::Update {
            path,
            patch,
            patch_file,
        } => {
            let patch = match (patch, patch_file) {
                (Some(p), _) => parse_json(&p, "--patch")?,
                (None, Some(f)) => read_json(&f, "--patch-file")?,
                (None, None) => return Err("give --patch or --patch-file".into()),
            };
            let ops = patch_ops(&patch)?;
            let doc = sync
                .open(&path, OpenOptions::default())
                .await
                .map_err(err)?;
            let result = async {
                let updated = apply_patch(doc.to_json(false), ops)?;
                if !updated.is_object() {
                    return Err("the patch must leave a JSON object".to_string());
                }
                doc.replace_json(&updated).await.map_err(err)
            }
            .await;
            doc.close().await;
            result?;
            eprintln!("Updated document at {path}");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// JSON patch (the subset the SDK's CLI applies, cli/sync.py)

fn patch_ops(patch: &Value) -> Result<&Vec<Value>, String> {
    let ops = patch
        .as_array()
        .ok_or("the patch must be a JSON array of operations")?;
    for op in ops {
        let name = op.get("op").and_then(Value::as_str);
        if name.is_none() || op.get("path").and_then(Value::as_str).is_none() {
            return Err("every patch operation needs `op` and `path`".into());
        }
        if !matches!(
            name,
            Some("add" | "remove" | "replace" | "move" | "copy" | "test")
        ) {
            return Err(format!("unsupported patch op {}", name.unwrap_or("?")));
        }
    }
    Ok(ops)
}

fn pointer(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or(format!("invalid JSON pointer: {path}"))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn target<'a>(doc: &'a mut Value, tokens: &[String]) -> Result<&'a mut Value, String> {
    let mut cur = doc;
    for t in tokens {
        cur = match cur {
            Value::Array(a) => {
                let i: usize = t.parse().map_err(|_| format!("invalid list index: {t}"))?;
                a.get_mut(i)
                    .ok_or(format!("list index out of range: {t}"))?
            }
            Value::Object(o) => o.get_mut(t).ok_or(format!("path not found: {t}"))?,
            _ => return Err("JSON pointer goes through a non-container value".into()),
        };
    }
    Ok(cur)
}

fn add(doc: &mut Value, tokens: &[String], value: Value) -> Result<(), String> {
    let Some((key, parent)) = tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    match target(doc, parent)? {
        Value::Array(a) if key == "-" => a.push(value),
        Value::Array(a) => {
            let i: usize = key
                .parse()
                .map_err(|_| format!("invalid list index: {key}"))?;
            if i > a.len() {
                return Err(format!("list index out of range: {key}"));
            }
            a.insert(i, value);
        }
        Value::Object(o) => {
            o.insert(key.clone(), value);
        }
        _ => return Err("JSON pointer targets a non-container value".into()),
    }
    Ok(())
}

fn remove(doc: &mut Value, tokens: &[String]) -> Result<Value, String> {
    let (key, parent) = tokens
        .split_last()
        .ok_or("cannot remove the document root")?;
    match target(doc, parent)? {
        Value::Array(a) => {
            let i: usize = key
                .parse()
                .map_err(|_| format!("invalid list index: {key}"))?;
            if i >= a.len() {
                return Err(format!("list index out of range: {key}"));
            }
            Ok(a.remove(i))
        }
        Value::Object(o) => o.remove(key).ok_or(format!("path not found: {key}")),
        _ => Err("JSON pointer targets a non-container value".into()),
    }
}

fn apply_patch(mut doc: Value, ops: &[Value]) -> Result<Value, String> {
    for op in ops {
        let name = op.get("op").and_then(Value::as_str).unwrap_or_default();
        let tokens = pointer(op.get("path").and_then(Value::as_str).unwrap_or_default())?;
        let value = op.get("value").cloned().unwrap_or(Value::Null);
        let from = || -> Result<Vec<String>, String> {
            pointer(
                op.get("from")
                    .and_then(Value::as_str)
                    .ok_or(format!("`{name}` needs `from`"))?,
            )
        };
        match name {
            "add" => add(&mut doc, &tokens, value)?,
            "replace" => {
                if tokens.is_empty() {
                    doc = value;
                } else {
                    *target(&mut doc, &tokens)? = value;
                }
            }
            "remove" => {
                remove(&mut doc, &tokens)?;
            }
            "move" => {
                let v = remove(&mut doc, &from()?)?;
                add(&mut doc, &tokens, v)?;
            }
            "copy" => {
                let v = target(&mut doc, &from()?)?.clone();
                add(&mut doc, &tokens, v)?;
            }
            "test" => {
                if *target(&mut doc, &tokens)? != value {
                    return Err(format!(
                        "test operation failed at {}",
                        op["path"].as_str().unwrap_or("")
                    ));
                }
            }
            other => return Err(format!("unsupported patch op {other}")),
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_apply_like_the_sdk_cli() {
        let doc = json!({"list": {"items": [{"item": {"name": "a"}}]}});
        let ops = json!([
            {"op": "add", "path": "/list/items/-", "value": {"item": {"name": "b"}}},
            {"op": "replace", "path": "/list/items/0/item/name", "value": "A"},
            {"op": "copy", "from": "/list/items/1", "path": "/list/items/0"},
            {"op": "remove", "path": "/list/items/2"},
            {"op": "test", "path": "/list/items/1/item/name", "value": "A"}
        ]);
        let out = apply_patch(doc, patch_ops(&ops).unwrap()).unwrap();
        assert_eq!(
            out,
            json!({"list": {"items": [{"item": {"name": "b"}}, {"item": {"name": "A"}}]}})
        );
        let bad = json!([{"op": "remove", "path": "/list/items/9"}]);
        assert!(apply_patch(out.clone(), patch_ops(&bad).unwrap()).is_err());
        assert!(patch_ops(&json!([{"op": "frob", "path": ""}])).is_err());
        assert!(patch_ops(&json!({"op": "add"})).is_err());
    }
}
