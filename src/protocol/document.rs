//! Sync documents as the SDK sees them (`schema.py`, `schema_document.py`, `crdt.py`): a Yjs
//! document whose root is the XmlFragment `xml`, shaped by a MeshSchema. Pure: the server's
//! document store and the client's open documents share it.
//!
//! The MeshSchema gives elements by tag name, their attributes and at most one child property
//! listing the tags allowed below them. The document as JSON is `{root_tag: {child_prop:
//! [{tag: {attrs…, child_prop: […]}}, …]}}`, as the SDK's `Element.to_json` renders it; every
//! element carries a `$id` attribute (shown with `include_ids`), a `text` element holds one
//! XmlText rendered as `{"text": {"delta": [{"insert", "attributes"}]}}`.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::{Map, Value, json};
use yrs::types::ToJson;
use yrs::types::text::YChange;
use yrs::updates::decoder::Decode;
use yrs::{
    Any, Doc, GetString, Out, ReadTxn, StateVector, Text, Transact, TransactionMut, Update, Xml,
    XmlElementPrelim, XmlFragment, XmlOut, XmlTextPrelim,
};

/// Longest document path, in bytes.
pub const MAX_PATH: usize = 1024;
/// Largest schema (JSON bytes).
pub const MAX_SCHEMA_SIZE: usize = 1024 * 1024;
/// Deepest element nesting accepted in JSON and rendered back.
const MAX_DEPTH: usize = 128;
/// The name of the root XmlFragment.
pub const ROOT: &str = "xml";

/// A new Yjs document with a random 32-bit client id. yrs picks 53-bit ids, but pycrdt (the
/// SDK's Yjs) and Yjs in JavaScript keep client ids in 32 bits: a 53-bit id comes back
/// truncated in their updates, so the server would take its own items for a stranger's and
/// duplicate them.
pub fn new_doc() -> Doc {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("the OS random source is available");
    let id = u32::from_le_bytes(b).max(1);
    let doc = Doc::with_client_id(id as u64);
    doc.get_or_insert_xml_fragment(ROOT);
    doc
}

/// Input that is not a valid path, schema, document JSON or update: a sentence saying why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// The SDK's `_normalize_sync_path` plus the checks a path that names a file needs.
pub fn normalize_path(path: &str) -> Result<String, Invalid> {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    let bad = |why: &str| Err(Invalid(format!("invalid document path: {why}")));
    if p.is_empty() || p == "." {
        return bad("it is empty");
    }
    if p.len() > MAX_PATH {
        return bad(&format!("longer than {MAX_PATH} bytes"));
    }
    if p.chars().any(|c| c.is_control()) {
        return bad("it contains control characters");
    }
    if p.split('/').any(|s| s == "..") {
        return bad("it contains `..`");
    }
    Ok(p.to_string())
}

// ---------------------------------------------------------------------------------------
// MeshSchema

/// One element type of a MeshSchema.
#[derive(Debug, Clone, Default)]
pub struct ElementSchema {
    /// Attribute (value property) names.
    pub attributes: Vec<String>,
    /// The one property holding child elements, and the tags it allows.
    pub child_property: Option<(String, Vec<String>)>,
}

/// A parsed MeshSchema (`schema.py`'s `MeshSchema.from_json`).
#[derive(Debug, Clone)]
pub struct Schema {
    pub json: Value,
    pub root: String,
    pub elements: HashMap<String, ElementSchema>,
}

impl Schema {
    pub fn parse(json: &Value) -> Result<Schema, Invalid> {
        let bad = |why: String| Invalid(format!("invalid schema: {why}"));
        if json.to_string().len() > MAX_SCHEMA_SIZE {
            return Err(bad(format!("larger than {MAX_SCHEMA_SIZE} bytes")));
        }
        let root = json
            .get("$root_tag_ref")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("`$root_tag_ref` (a string) is required".into()))?;
        let root = root.strip_prefix("#/$defs/").unwrap_or(root).to_string();
        let defs = json
            .get("$defs")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("`$defs` (an object) is required".into()))?;
        let mut elements = HashMap::new();
        for (key, def) in defs {
            let props = def
                .get("properties")
                .and_then(Value::as_object)
                .ok_or_else(|| bad(format!("`$defs.{key}` has no `properties`")))?;
            let Some((tag, body)) = props.iter().next() else {
                return Err(bad(format!("`$defs.{key}.properties` is empty")));
            };
            let mut element = ElementSchema::default();
            let empty = Map::new();
            let attrs = body
                .get("properties")
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            for (name, p) in attrs {
                let ty = match p.get("type") {
                    Some(Value::String(s)) => s.as_str(),
                    Some(Value::Array(a)) => a.first().and_then(Value::as_str).unwrap_or(""),
                    _ => return Err(bad(format!("property `{tag}.{name}` has no `type`"))),
                };
                if ty == "array" {
                    let refs = p
                        .get("items")
                        .and_then(|i| i.get("anyOf"))
                        .or_else(|| p.get("prefixItems"))
                        .and_then(Value::as_array)
                        .ok_or_else(|| {
                            bad(format!(
                                "array property `{tag}.{name}` lists no element types"
                            ))
                        })?;
                    let tags = refs
                        .iter()
                        .map(|r| {
                            r.get("$ref")
                                .and_then(Value::as_str)
                                .map(|s| s.strip_prefix("#/$defs/").unwrap_or(s).to_string())
                                .ok_or_else(|| {
                                    bad(format!("`{tag}.{name}` has an item without `$ref`"))
                                })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    if element.child_property.is_some() {
                        return Err(bad(format!("`{tag}` has more than one child property")));
                    }
                    element.child_property = Some((name.clone(), tags));
                } else {
                    element.attributes.push(name.clone());
                }
            }
            if elements.insert(tag.clone(), element).is_some() {
                return Err(bad(format!("`{tag}` is defined more than once")));
            }
        }
        if !elements.contains_key(&root) {
            return Err(bad(format!("the root `{root}` is not in `$defs`")));
        }
        for (tag, e) in &elements {
            if let Some((_, tags)) = &e.child_property
                && let Some(missing) = tags.iter().find(|t| !elements.contains_key(*t))
            {
                return Err(bad(format!(
                    "`{tag}` allows `{missing}`, which is not defined"
                )));
            }
        }
        Ok(Schema {
            json: json.clone(),
            root,
            elements,
        })
    }

    fn child_property(&self, tag: &str) -> Option<&(String, Vec<String>)> {
        self.elements
            .get(tag)
            .and_then(|e| e.child_property.as_ref())
    }
}

// ---------------------------------------------------------------------------------------
// JSON <-> Yjs

pub fn uuid4() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS random source is available");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    super::arrow::format_uuid(&b)
}

fn to_any(v: &Value) -> Any {
    serde_json::from_value(v.clone()).unwrap_or(Any::Null)
}

fn from_any(a: &Any) -> Value {
    serde_json::to_value(a).unwrap_or(Value::Null)
}

/// Fills an empty document from `{root_tag: {…}}`, as the SDK's `Document(json=…)` and
/// `Element.append_json` do: children of the root become children of the `xml` fragment,
/// every element gets a fresh `$id`, `text` elements get their XmlText. Root attributes have
/// nowhere to live in a Yjs fragment, so (as in the SDK) they are not kept.
pub fn fill_from_json(doc: &Doc, schema: &Schema, json: &Value) -> Result<(), Invalid> {
    let children = root_children(schema, json)?;
    let fragment = doc.get_or_insert_xml_fragment(ROOT);
    let mut txn = doc.transact_mut();
    append_children(&mut txn, &fragment, schema, &schema.root, &children, 0)
}

fn root_children(schema: &Schema, json: &Value) -> Result<Vec<Value>, Invalid> {
    let bad = |why: String| Invalid(format!("document JSON: {why}"));
    let body = json
        .as_object()
        .and_then(|o| o.get(&schema.root))
        .ok_or_else(|| {
            bad(format!(
                "expected an object with the root tag `{}`",
                schema.root
            ))
        })?;
    Ok(match (body, schema.child_property(&schema.root)) {
        (Value::Object(o), Some((prop, _))) => match o.get(prop) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            Some(_) => return Err(bad(format!("`{prop}` must be a list"))),
        },
        (Value::Object(_) | Value::Null, None) => Vec::new(),
        _ => return Err(bad("the root's value must be an object".into())),
    })
}

fn append_children<F: XmlFragment>(
    txn: &mut TransactionMut,
    parent: &F,
    schema: &Schema,
    parent_tag: &str,
    children: &[Value],
    depth: usize,
) -> Result<(), Invalid> {
    let bad = |why: String| Invalid(format!("document JSON: {why}"));
    if depth > MAX_DEPTH {
        return Err(bad(format!("nested deeper than {MAX_DEPTH} elements")));
    }
    let allowed = schema
        .child_property(parent_tag)
        .map(|(_, tags)| tags.as_slice())
        .unwrap_or(&[]);
    for child in children {
        let Some((tag, payload)) = child
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
        else {
            return Err(bad(
                "each element must be an object with one key, its tag".into()
            ));
        };
        if !allowed.iter().any(|t| t == tag) {
            return Err(bad(format!("`{tag}` is not allowed in `{parent_tag}`")));
        }
        let element_schema = schema.elements.get(tag).cloned().unwrap_or_default();
        let empty = Map::new();
        let payload = match payload {
            Value::Object(o) => o,
            Value::Null => &empty,
            _ => return Err(bad(format!("the value of `{tag}` must be an object"))),
        };
        let child_prop = element_schema
            .child_property
            .as_ref()
            .map(|(p, _)| p.as_str());
        let element = parent.push_back(txn, XmlElementPrelim::empty(tag.as_str()));
        let id = payload
            .get("$id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(uuid4);
        element.insert_attribute(txn, "$id", id);
        for (k, v) in payload {
            if k == "$id" || Some(k.as_str()) == child_prop {
                continue;
            }
            if !element_schema.attributes.iter().any(|a| a == k) {
                return Err(bad(format!("`{k}` is not a property of `{tag}`")));
            }
            element.insert_attribute(txn, k.as_str(), to_any(v));
        }
        if tag == "text" {
            element.push_back(txn, XmlTextPrelim::new(""));
        }
        if let Some(prop) = child_prop {
            match payload.get(prop) {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    append_children(txn, &element, schema, tag, items, depth + 1)?
                }
                Some(_) => return Err(bad(format!("`{tag}.{prop}` must be a list"))),
            }
        }
    }
    Ok(())
}

/// The document as the SDK's `doc.root.to_json()` renders it.
pub fn to_json(doc: &Doc, schema: &Schema, include_ids: bool) -> Value {
    let txn = doc.transact();
    let children = match txn.get_xml_fragment(ROOT) {
        Some(f) => render_children(&txn, &f, schema, include_ids, 0),
        None => Vec::new(),
    };
    let mut body = Map::new();
    if let Some((prop, _)) = schema.child_property(&schema.root) {
        body.insert(prop.clone(), Value::Array(children));
    }
    json!({ schema.root.clone(): body })
}

fn render_children<T: ReadTxn, F: XmlFragment>(
    txn: &T,
    parent: &F,
    schema: &Schema,
    include_ids: bool,
    depth: usize,
) -> Vec<Value> {
    if depth > MAX_DEPTH {
        return Vec::new();
    }
    parent
        .children(txn)
        .map(|node| match node {
            XmlOut::Element(el) => {
                let tag = el.tag().to_string();
                let mut props = Map::new();
                for (k, v) in el.attributes(txn) {
                    if k == "$id" && !include_ids {
                        continue;
                    }
                    let value = match v {
                        Out::Any(a) => from_any(&a),
                        other => from_any(&other.to_json(txn)),
                    };
                    props.insert(k.to_string(), value);
                }
                let children = render_children(txn, &el, schema, include_ids, depth + 1);
                match schema.child_property(&tag) {
                    Some((prop, _)) => {
                        props.insert(prop.clone(), Value::Array(children));
                    }
                    None if !children.is_empty() && tag != "text" => {
                        props.insert("children".into(), Value::Array(children));
                    }
                    None => {}
                }
                json!({ tag: props })
            }
            XmlOut::Text(text) => {
                let delta: Vec<Value> = text
                    .diff(txn, YChange::identity)
                    .into_iter()
                    .map(|d| {
                        let insert = match &d.insert {
                            Out::Any(Any::String(s)) => Value::String(s.to_string()),
                            Out::Any(a) => from_any(a),
                            other => Value::String(Out::to_string(other.clone(), txn)),
                        };
                        let attributes: Map<String, Value> = d
                            .attributes
                            .map(|a| {
                                a.iter()
                                    .map(|(k, v)| (k.to_string(), from_any(v)))
                                    .collect()
                            })
                            .unwrap_or_default();
                        json!({"insert": insert, "attributes": attributes})
                    })
                    .collect();
                json!({"text": {"delta": delta}})
            }
            XmlOut::Fragment(f) => Value::String(f.get_string(txn)),
        })
        .collect()
}

/// Applies v1 update bytes; a malformed update (or a panic inside yrs on one) is an error,
/// never a crash.
pub fn apply_update(doc: &Doc, bytes: &[u8]) -> Result<(), String> {
    let update = decode_update(bytes)?;
    catch_unwind(AssertUnwindSafe(|| {
        let mut txn = doc.transact_mut();
        txn.apply_update(update)
            .map_err(|e| format!("the update cannot be applied: {e}"))
    }))
    .unwrap_or_else(|_| Err("the update cannot be applied".into()))
}

/// Decodes v1 update bytes (yrs asserts on some malformed input; that is an error here).
pub fn decode_update(bytes: &[u8]) -> Result<Update, String> {
    catch_unwind(|| Update::decode_v1(bytes))
        .map_err(|_| "not a Yjs v1 update".to_string())?
        .map_err(|e| format!("not a Yjs v1 update: {e}"))
}

/// Decodes a v1 state vector.
pub fn decode_state_vector(bytes: &[u8]) -> Result<StateVector, String> {
    catch_unwind(|| StateVector::decode_v1(bytes))
        .map_err(|_| "the state vector is not valid".to_string())?
        .map_err(|e| format!("the state vector is not valid: {e}"))
}

pub fn encode_state(doc: &Doc, sv: &StateVector) -> Result<Vec<u8>, String> {
    catch_unwind(AssertUnwindSafe(|| {
        doc.transact().encode_state_as_update_v1(sv)
    }))
    .map_err(|_| "the document cannot be encoded".to_string())
}

/// Replaces the whole document with `json` (as the SDK's CLI `sync update` does: the root's
/// children are deleted and the new ones appended) and returns the v1 update of the change.
pub fn replace_from_json(doc: &Doc, schema: &Schema, json: &Value) -> Result<Vec<u8>, Invalid> {
    let children = root_children(schema, json)?;
    let fragment = doc.get_or_insert_xml_fragment(ROOT);
    let mut txn = doc.transact_mut();
    let len = fragment.len(&txn);
    if len > 0 {
        fragment.remove_range(&mut txn, 0, len);
    }
    append_children(&mut txn, &fragment, schema, &schema.root, &children, 0)?;
    Ok(txn.encode_update_v1())
}
