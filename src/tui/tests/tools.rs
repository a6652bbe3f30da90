//! The toolkits tab: toolkits and tools listed, called with JSON arguments, answers kept.

use super::*;
use crate::tui::net::{ToolOutcome, ToolSummary, ToolkitSummary, ToolsEvent};
use crate::tui::popups::prompt::PromptKind;

fn tool(name: &str, description: &str, schema: Option<serde_json::Value>) -> ToolSummary {
    ToolSummary {
        name: name.into(),
        title: name.into(),
        description: description.into(),
        schema,
    }
}

fn kits() -> Vec<ToolkitSummary> {
    vec![
        ToolkitSummary {
            name: "queues".into(),
            description: "Queues of JSON messages".into(),
            host: None,
            tools: vec![
                tool("list", "List the queues", None),
                tool("send", "Send a message", None),
            ],
        },
        ToolkitSummary {
            name: "weather".into(),
            description: "Forecasts".into(),
            host: Some("p-7".into()),
            tools: vec![tool(
                "forecast",
                "The week's weather",
                Some(
                    json!({"type": "object", "required": ["city"], "properties": {
                    "city": {"type": "string", "description": "where"},
                    "days": {"type": "integer"}}}),
                ),
            )],
        },
    ]
}

fn tools_app() -> App {
    let mut a = live_app();
    key(&mut a, KeyCode::Char('8'));
    assert_eq!(a.tab, Tab::Tools);
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::Tools(ToolsCommand::List)]
    );
    net(&mut a, NetEvent::Tools(ToolsEvent::Listed(kits())));
    assert_eq!(a.panes.tools.rows().len(), 2, "toolkits start folded");
    // Unfold both: enter on the first heading, then on the last.
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::End);
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Home);
    assert_eq!(a.panes.tools.rows().len(), 5);
    a
}

fn invoked(a: &mut App) -> Vec<(u64, String, String, serde_json::Value)> {
    net_cmds(a)
        .into_iter()
        .filter_map(|c| match c {
            NetCommand::Tools(ToolsCommand::Invoke {
                id,
                toolkit,
                tool,
                arguments,
            }) => Some((id, toolkit, tool, arguments)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_tool_is_called_with_arguments_from_its_schema() {
    let mut a = tools_app();
    // The first row is the toolkit heading: enter there folds it (space too) and asks nothing.
    key(&mut a, KeyCode::Enter);
    assert!(a.popup.is_none());
    assert_eq!(a.panes.tools.rows().len(), 3, "queues folded");
    key(&mut a, KeyCode::Char(' '));
    assert_eq!(a.panes.tools.rows().len(), 5, "queues unfolded");
    // weather.forecast is the last row; its schema gives the arguments to start from.
    key(&mut a, KeyCode::End);
    let screen = render(&mut a, 100, 24);
    assert!(screen.contains(" weather.forecast "), "{screen}");
    assert!(screen.contains("hosted by participant p-7"), "{screen}");
    assert!(screen.contains("city string required  where"), "{screen}");
    key(&mut a, KeyCode::Enter);
    let Some(Popup::Prompt(p)) = &a.popup else {
        panic!("enter on a tool asks for its arguments");
    };
    assert_eq!(
        p.kind,
        PromptKind::ToolArguments {
            toolkit: "weather".into(),
            tool: "forecast".into()
        }
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&p.text()).unwrap(),
        json!({"city": "", "days": 0})
    );
    // Down into the "city" line, to its end, then into the empty string.
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::End);
    key(&mut a, KeyCode::Left);
    key(&mut a, KeyCode::Left);
    typ(&mut a, "Oslo");
    key(&mut a, KeyCode::Enter);
    assert!(a.popup.is_none(), "a valid object calls the tool");
    let calls = invoked(&mut a);
    assert_eq!(calls.len(), 1);
    let (id, kit, name, args) = calls[0].clone();
    assert_eq!((kit.as_str(), name.as_str()), ("weather", "forecast"));
    assert_eq!(args, json!({"city": "Oslo", "days": 0}));
    assert!(render(&mut a, 100, 24).contains("calling…"));
    net(
        &mut a,
        NetEvent::Tools(ToolsEvent::Answered {
            id,
            outcome: ToolOutcome::Json(json!({"high": 21})),
            elapsed_ms: 12,
        }),
    );
    let screen = render(&mut a, 100, 24);
    assert!(
        screen.contains(r#"weather.forecast {"city":"Oslo","days":0} ok · 12 ms"#),
        "{screen}"
    );
    assert!(screen.contains(r#""high": 21"#), "{screen}");
    // y in the detail copies the answer.
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Char('y'));
    assert!(
        a.take_effects()
            .contains(&Effect::Copy("{\n  \"high\": 21\n}".into()))
    );
}

#[test]
fn errors_and_bad_arguments() {
    let mut a = tools_app();
    key(&mut a, KeyCode::Down); // queues.list
    key(&mut a, KeyCode::Char('i'));
    ctrl(&mut a, 'a');
    key(&mut a, KeyCode::Delete);
    key(&mut a, KeyCode::Delete);
    typ(&mut a, "nope");
    key(&mut a, KeyCode::Enter);
    let Some(Popup::Prompt(p)) = &a.popup else {
        panic!("bad JSON keeps the prompt open");
    };
    assert!(p.error.as_deref().unwrap().starts_with("not valid JSON"));
    assert!(invoked(&mut a).is_empty());
    key(&mut a, KeyCode::Esc);
    // From the palette, a refusal from the room shows in red under the call.
    a.run_command("invoke queues.send {\"queue\": \"q\"}");
    let calls = invoked(&mut a);
    assert_eq!(calls[0].3, json!({"queue": "q"}));
    net(
        &mut a,
        NetEvent::Tools(ToolsEvent::Answered {
            id: calls[0].0,
            outcome: ToolOutcome::Error("the token's grants do not allow queues.send".into()),
            elapsed_ms: 3,
        }),
    );
    let screen = render(&mut a, 100, 24);
    assert!(screen.contains("failed · 3 ms"), "{screen}");
    assert!(
        screen.contains("✕ the token's grants do not allow queues.send"),
        "{screen}"
    );
    a.run_command("invoke nodot");
    assert_eq!(
        a.notice.as_ref().unwrap().text,
        "usage: invoke TOOLKIT.TOOL {json}"
    );
    a.run_command("invoke queues.list [1]");
    assert!(a.notice.as_ref().unwrap().text.contains("JSON object"));
    assert!(invoked(&mut a).is_empty());
}

#[test]
fn filter_matches_toolkits_tools_and_descriptions() {
    let mut a = tools_app();
    a.run_command("filter weather");
    assert_eq!(a.panes.tools.rows().len(), 2);
    a.run_command("filter send");
    assert_eq!(
        a.panes.tools.rows().len(),
        2,
        "queues heading and queues.send"
    );
    a.run_command("filter week");
    assert_eq!(
        a.panes.tools.selected_tool().map(|(k, t)| (k.name, t.name)),
        None,
        "the heading is selected first"
    );
    key(&mut a, KeyCode::Down);
    assert_eq!(
        a.panes.tools.selected_tool().map(|(k, t)| (k.name, t.name)),
        Some(("weather".into(), "forecast".into()))
    );
    // A new list keeps the selection on the same tool.
    a.run_command("filter ");
    net(&mut a, NetEvent::Tools(ToolsEvent::Listed(kits())));
    assert_eq!(
        a.panes.tools.selected_tool().map(|(_, t)| t.name),
        Some("forecast".into())
    );
}

#[test]
fn a_filter_finds_tools_inside_folded_toolkits() {
    let mut a = live_app();
    key(&mut a, KeyCode::Char('8'));
    net(&mut a, NetEvent::Tools(ToolsEvent::Listed(kits())));
    let screen = render(&mut a, 100, 24);
    assert!(screen.contains("▸ queues 2"), "{screen}");
    assert!(!screen.contains("send"), "folded: {screen}");
    a.run_command("filter forecast");
    let screen = render(&mut a, 100, 24);
    assert!(screen.contains("▾ weather"), "{screen}");
    assert!(screen.contains("forecast"), "{screen}");
    key(&mut a, KeyCode::Down);
    assert_eq!(
        a.panes.tools.selected_tool().map(|(k, t)| (k.name, t.name)),
        Some(("weather".into(), "forecast".into()))
    );
    // Clearing the filter folds it again; the selection goes back to its heading.
    a.run_command("filter ");
    assert_eq!(a.panes.tools.rows().len(), 2);
    assert_eq!(a.panes.tools.selected, 1);
}

#[test]
fn read_only_mode_lists_tools_but_does_not_call_them() {
    let mut a = app_with(Options {
        read_only: true,
        ..Options::default()
    });
    net(&mut a, NetEvent::State(ConnState::Live));
    key(&mut a, KeyCode::Char('8'));
    net(&mut a, NetEvent::Tools(ToolsEvent::Listed(kits())));
    // Folding changes nothing in the room, so read-only may unfold a toolkit.
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.panes.tools.rows().len(), 4);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Char('i'));
    assert!(a.popup.is_none());
    a.run_command("invoke queues.list");
    assert!(a.notice.as_ref().unwrap().text.contains("read-only"));
    assert!(invoked(&mut a).is_empty());
}

#[test]
fn snapshot_tools() {
    let mut a = tools_app();
    key(&mut a, KeyCode::End);
    a.run_command("invoke weather.forecast {\"city\": \"Oslo\"}");
    let id = invoked(&mut a)[0].0;
    net(
        &mut a,
        NetEvent::Tools(ToolsEvent::Answered {
            id,
            outcome: ToolOutcome::Json(json!({"high": 21, "low": 9})),
            elapsed_ms: 12,
        }),
    );
    insta::assert_snapshot!(render(&mut a, 100, 22));
}

#[test]
fn a_long_answer_is_laid_out_up_to_a_bound_and_copied_whole() {
    let mut a = tools_app();
    a.run_command("invoke queues.list");
    let id = invoked(&mut a)[0].0;
    let rows: Vec<serde_json::Value> = (0..1000).map(|i| json!(i)).collect();
    net(
        &mut a,
        NetEvent::Tools(ToolsEvent::Answered {
            id,
            outcome: ToolOutcome::Json(json!(rows)),
            elapsed_ms: 5,
        }),
    );
    let call = a.panes.tools.calls.front().unwrap();
    assert_eq!(call.total_lines, 1002);
    assert_eq!(call.shown.len(), 400);
    // The last lines of the detail say how many more there are.
    a.panes.tools.detail_scroll = 400;
    let screen = render(&mut a, 100, 24);
    assert!(
        screen.contains("… 602 more lines (y copies the whole answer)"),
        "{screen}"
    );
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Char('y'));
    let copied = a.take_effects().into_iter().find_map(|e| match e {
        Effect::Copy(t) => Some(t),
        _ => None,
    });
    assert_eq!(copied.unwrap().lines().count(), 1002);
}
