//! The console's Tools tab builds its argument prompt from each built-in tool's schema: every
//! tool has one, the prompt names every argument, optional ones start unset (or at their
//! default) so a call made from the untouched template means what the tool's defaults mean.

use crate::common::*;
use roomdeck::auth::ApiScope;
use roomdeck::protocol::Content;
use roomdeck::tui::net::tools::{argument_template, toolkits_from};
use serde_json::{Value, json};

#[tokio::test]
async fn the_tools_tab_prompts_for_every_builtin_tools_arguments() {
    let server = TestServer::start().await;
    let client = server
        .join_with("schemas", "owner", ApiScope::owner())
        .await;
    let kits = toolkits_from(&client.list_toolkits().await.unwrap());
    let builtin: Vec<_> = kits.iter().filter(|k| k.host.is_none()).collect();
    assert!(builtin.len() >= 12, "{builtin:?}");
    for kit in &builtin {
        for tool in &kit.tools {
            let what = format!("{}.{}", kit.name, tool.name);
            let schema = tool
                .schema
                .as_ref()
                .unwrap_or_else(|| panic!("{what}: no schema"));
            let template = argument_template(Some(schema));
            let names: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
            let keys: Vec<&String> = template.as_object().unwrap().keys().collect();
            assert_eq!(names, keys, "{what}: the prompt names every argument");
        }
    }

    // queues.send from its template, with only the required fields filled in: `create`
    // keeps its default (true), so the queue is made rather than the call refused.
    let send = builtin
        .iter()
        .find(|k| k.name == "queues")
        .and_then(|k| k.tools.iter().find(|t| t.name == "send"))
        .unwrap();
    let mut args = argument_template(send.schema.as_ref());
    assert_eq!(args["create"], json!(true));
    args["name"] = json!("from-template");
    args["message"] = json!({"n": 1});
    client
        .invoke("queues", "send", Content::json(args))
        .await
        .expect("a call from the template succeeds");
    let received = client
        .invoke(
            "queues",
            "receive",
            Content::json(json!({"name": "from-template", "wait": false})),
        )
        .await
        .unwrap();
    assert!(matches!(received, Content::Json(v) if v == json!({"n": 1})));

    // Optional arguments without a default start unset.
    let list = builtin
        .iter()
        .find(|k| k.name == "dataset")
        .and_then(|k| k.tools.iter().find(|t| t.name == "list_tables"))
        .unwrap();
    assert_eq!(
        argument_template(list.schema.as_ref()),
        json!({"namespace": Value::Null, "branch": Value::Null})
    );
}
