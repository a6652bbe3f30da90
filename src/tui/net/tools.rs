//! What the toolkits view asks of the room (`room.list_toolkits`, `room.invoke_tool`) and
//! what comes back.

use serde_json::Value;

/// One toolkit of the room with its tools, as `room.list_toolkits` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolkitSummary {
    pub name: String,
    pub description: String,
    /// The participant hosting it; None for the room's own toolkits.
    pub host: Option<String>,
    pub tools: Vec<ToolSummary>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolSummary {
    pub name: String,
    pub title: String,
    pub description: String,
    /// The JSON schema of the arguments, when the tool declares one.
    pub schema: Option<Value>,
}

/// What a tool answered, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutcome {
    Json(Value),
    Text(String),
    Empty,
    /// Bytes (a file or binary answer): the headers and the size.
    Bytes {
        headers: Value,
        size: usize,
    },
    Error(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ToolsCommand {
    List,
    Invoke {
        id: u64,
        toolkit: String,
        tool: String,
        arguments: Value,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum ToolsEvent {
    Listed(Vec<ToolkitSummary>),
    Answered {
        id: u64,
        outcome: ToolOutcome,
        elapsed_ms: u64,
    },
}

/// Reads `room.list_toolkits`' `{"tools": {...}}` answer, toolkits and tools sorted by name.
pub fn toolkits_from(answer: &Value) -> Vec<ToolkitSummary> {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let mut out: Vec<ToolkitSummary> = answer
        .get("tools")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, kit)| {
            let mut tools: Vec<ToolSummary> = kit
                .get("tools")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(tool, spec)| ToolSummary {
                    name: tool.clone(),
                    title: text(spec, "title"),
                    description: text(spec, "description"),
                    // `input_spec.schema` in current SDKs, `input_schema` in older ones.
                    schema: spec
                        .pointer("/input_spec/schema")
                        .or_else(|| spec.get("input_schema"))
                        .filter(|s| s.is_object())
                        .cloned(),
                })
                .collect();
            tools.sort_by(|a, b| a.name.cmp(&b.name));
            ToolkitSummary {
                name: name.clone(),
                description: text(kit, "description"),
                host: kit
                    .get("participant_id")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                tools,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Arguments to start from for a tool: its schema's properties, each with its `default`, or
/// null when it may be null (an optional argument left unset), else an empty value of its
/// type; `{}` without a schema. (An empty string or `false` would change what the call does:
/// `create: false` on a queue send, `where: ""` on a delete.)
pub fn argument_template(schema: Option<&Value>) -> Value {
    let mut out = serde_json::Map::new();
    let Some(props) = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    else {
        return Value::Object(out);
    };
    for (name, p) in props {
        if let Some(default) = p.get("default") {
            out.insert(name.clone(), default.clone());
            continue;
        }
        let ty = match p.get("type") {
            Some(Value::Array(types)) if types.iter().any(|t| t == "null") => None,
            Some(Value::Array(types)) => types.first().cloned(),
            other => other.cloned(),
        };
        let empty = match ty.as_ref().and_then(Value::as_str) {
            Some("string") => Value::String(String::new()),
            Some("integer") | Some("number") => Value::from(0),
            Some("boolean") => Value::Bool(false),
            Some("array") => Value::Array(Vec::new()),
            Some("object") => Value::Object(serde_json::Map::new()),
            _ => Value::Null,
        };
        out.insert(name.clone(), empty);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_builtin_and_hosted_toolkits() {
        let answer = json!({"tools": {
            "weather": {"title": "weather", "description": "forecasts", "participant_id": "p-9",
                "tools": {"forecast": {"title": "Forecast", "description": "the week",
                    "input_spec": {"types": ["json"], "stream": false,
                        "schema": {"type": "object", "properties": {"city": {"type": "string"}}}}}}},
            "queues": {"title": "queues", "description": "queues", "tools": {
                "send": {"title": "send", "description": "send one", "input_spec": null},
                "list": {"title": "list", "description": "list them", "input_schema": {"type": "object"}}}}
        }});
        let kits = toolkits_from(&answer);
        assert_eq!(
            kits.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(),
            ["queues", "weather"]
        );
        assert_eq!(kits[0].host, None);
        assert_eq!(kits[0].tools[0].name, "list");
        assert_eq!(kits[0].tools[0].schema, Some(json!({"type": "object"})));
        assert_eq!(kits[0].tools[1].schema, None);
        assert_eq!(kits[1].host.as_deref(), Some("p-9"));
        assert_eq!(kits[1].tools[0].title, "Forecast");
        assert!(toolkits_from(&json!({"tools": {}})).is_empty());
        assert!(toolkits_from(&json!(null)).is_empty());
    }

    #[test]
    fn templates_follow_the_schema() {
        let schema = json!({"type": "object", "properties": {
            "city": {"type": "string"}, "days": {"type": "integer"},
            "units": {"type": ["null", "string"]}, "tags": {"type": "array"}, "x": {},
            "wait": {"type": ["boolean", "null"], "default": true}}});
        assert_eq!(
            argument_template(Some(&schema)),
            json!({"city": "", "days": 0, "units": null, "tags": [], "x": null, "wait": true})
        );
        assert_eq!(argument_template(None), json!({}));
    }
}
