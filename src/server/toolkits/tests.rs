//! Every registered tool describes itself in a shape the SDK reads: an object schema whose
//! properties are typed and explained, with `required` naming only its own properties.

use serde_json::Value;

use super::*;

const CONTENT_TYPES: &[&str] = &["binary", "json", "text", "file", "link", "empty"];

fn check_spec(spec: &Value, what: &str) -> Result<(), String> {
    let types = spec["types"]
        .as_array()
        .filter(|t| !t.is_empty())
        .ok_or(format!("{what}: no `types`"))?;
    for t in types {
        if !t.as_str().is_some_and(|t| CONTENT_TYPES.contains(&t)) {
            return Err(format!("{what}: `{t}` is not a content type the SDK knows"));
        }
    }
    if !spec["stream"].is_boolean() {
        return Err(format!("{what}: `stream` is not a boolean"));
    }
    Ok(())
}

fn check_schema(schema: &Value, what: &str) -> Result<(), String> {
    if schema["type"] != "object" {
        return Err(format!("{what}: the schema is not of type object"));
    }
    let props = schema["properties"]
        .as_object()
        .ok_or(format!("{what}: no `properties`"))?;
    for (name, p) in props {
        let described = p["description"].as_str().is_some_and(|d| !d.is_empty());
        if !described {
            return Err(format!("{what}.{name}: no description"));
        }
        if let Some(t) = p.get("type") {
            let known = |t: &Value| {
                t.as_str().is_some_and(|t| {
                    [
                        "string", "integer", "number", "boolean", "object", "array", "null",
                    ]
                    .contains(&t)
                })
            };
            let ok = match t {
                Value::Array(ts) => !ts.is_empty() && ts.iter().all(known),
                t => known(t),
            };
            if !ok {
                return Err(format!(
                    "{what}.{name}: `type` {t} is not a JSON Schema type"
                ));
            }
        }
    }
    let required = schema["required"]
        .as_array()
        .ok_or(format!("{what}: no `required` list"))?;
    for r in required {
        let name = r
            .as_str()
            .ok_or(format!("{what}: a required name is not a string"))?;
        if !props.contains_key(name) {
            return Err(format!("{what}: `{name}` is required but not a property"));
        }
    }
    Ok(())
}

#[test]
fn every_tool_has_a_well_formed_object_schema() {
    let mut failures = Vec::new();
    let described = describe();
    let mut count = 0;
    for kit in TOOLKITS {
        let names: Vec<&str> = kit.tools.iter().map(|t| t.name).collect();
        for tool in kit.tools {
            count += 1;
            let what = format!("{}.{}", kit.name, tool.name);
            if names.iter().filter(|n| **n == tool.name).count() > 1 {
                failures.push(format!("{what}: listed twice"));
            }
            let args: Vec<&str> = tool.args.iter().map(|a| a.name).collect();
            if args.iter().enumerate().any(|(i, a)| args[..i].contains(a)) {
                failures.push(format!("{what}: an argument is listed twice"));
            }
            let entry = &described["tools"][kit.name]["tools"][tool.name];
            let results = [
                check_spec(&entry["input_spec"], &format!("{what} input")),
                check_spec(&entry["output_spec"], &format!("{what} output")),
                check_schema(&entry["input_spec"]["schema"], &what),
            ];
            failures.extend(results.into_iter().filter_map(Result::err));
        }
    }
    assert!(count > 100, "only {count} tools registered");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn optional_arguments_take_null_and_defaults_are_json() {
    for kit in TOOLKITS {
        for tool in kit.tools {
            let schema = tool.input_schema();
            for a in tool.args {
                let p = &schema["properties"][a.name];
                if let Some(d) = a.default {
                    assert!(
                        p.get("default").is_some(),
                        "{}.{}.{}: default {d} is not JSON",
                        kit.name,
                        tool.name,
                        a.name
                    );
                }
                let nullable = match &p["type"] {
                    Value::Array(ts) => ts.contains(&Value::from("null")),
                    Value::Null => true,
                    _ => false,
                };
                assert_eq!(
                    nullable, !a.required,
                    "{}.{}.{}: null is accepted exactly when the argument is optional",
                    kit.name, tool.name, a.name
                );
            }
        }
    }
}

#[test]
fn every_toolkit_names_its_guard_and_is_found_by_name() {
    for kit in TOOLKITS {
        assert!(is_builtin(kit.name));
        assert_eq!(guard_of(kit.name).grant, kit.guard.grant, "{}", kit.name);
    }
    assert_eq!(guard_of("weather").grant, "agents");
    assert!(!is_builtin("weather"));
}

#[test]
fn the_tools_that_write_are_the_ones_the_room_logs_in_words() {
    let mut marked: Vec<String> = TOOLKITS
        .iter()
        .flat_map(|k| k.tools.iter().map(move |t| (k.name, t)))
        .filter(|(_, t)| t.writes)
        .map(|(k, t)| format!("{k}.{}", t.name))
        .collect();
    marked.sort();
    let expected = [
        "messaging.broadcast",
        "messaging.send",
        "queues.close",
        "queues.drain",
        "queues.open",
        "queues.receive",
        "queues.send",
        "secrets.delete_secret",
        "secrets.set_secret",
        "services.restart",
        "sqlite.create_database",
        "sqlite.create_table",
        "sqlite.delete",
        "sqlite.drop_database",
        "sqlite.drop_table",
        "sqlite.insert",
        "sqlite.rename_table",
        "sqlite.update",
        "storage.delete",
        "storage.move",
    ];
    assert_eq!(marked, expected);
    assert!(writes("queues", "send") && !writes("queues", "list"));
    assert!(!writes("weather", "send"));
}

#[test]
fn toolkit_state_opens_with_the_room_and_is_found_by_type() {
    let dir = tempfile::tempdir().unwrap();
    let state = RoomState::open(dir.path());
    assert!(state.get::<dataset::shared::RoomDatabase>().is_ok());
    assert!(state.get::<crate::store::memory::Memories>().is_ok());
    assert!(state.get::<String>().is_err());
}
