//! The documents tab: the polled list, the selected document followed live, editing it.

use super::*;
use crate::tui::net::{DocSummary, DocsCommand, DocsEvent};
use crate::tui::panes::docs::DocState;
use crate::tui::popups::prompt::PromptKind;

fn doc(path: &str, size: u64, open: u64) -> DocSummary {
    DocSummary {
        path: path.into(),
        size,
        open,
    }
}

fn docs(a: &mut App, ev: DocsEvent) -> bool {
    net(a, NetEvent::Docs(ev))
}

fn content(a: &mut App, path: &str, json: serde_json::Value) -> bool {
    docs(
        a,
        DocsEvent::Content {
            path: path.into(),
            json,
        },
    )
}

/// On the documents tab with two documents listed and the first one open.
fn docs_app() -> App {
    let mut a = live_app();
    key(&mut a, KeyCode::Char('7'));
    assert_eq!(a.tab, Tab::Docs);
    assert_eq!(net_cmds(&mut a), vec![NetCommand::WatchDocs(true)]);
    docs(
        &mut a,
        DocsEvent::Listed(vec![
            doc("notes/plan.doc", 2048, 1),
            doc("board.doc", 120, 0),
        ]),
    );
    // Sorted by path; the first is followed at once.
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::Docs(DocsCommand::Open {
            path: "board.doc".into()
        })]
    );
    content(
        &mut a,
        "board.doc",
        json!({"board": {"title": "Sprint", "cards": [{"card": {"text": "ship it"}}]}}),
    );
    // Once it is open, the list is read again for its open counts.
    assert_eq!(net_cmds(&mut a), vec![NetCommand::Docs(DocsCommand::List)]);
    a
}

#[test]
fn the_selected_document_is_followed_live_and_closed_when_the_tab_goes() {
    let mut a = docs_app();
    let screen = render(&mut a, 100, 20);
    assert!(screen.contains("board.doc ● live"), "{screen}");
    assert!(screen.contains(r#""title": "Sprint""#), "{screen}");
    assert!(!screen.contains("update"), "no updates yet:\n{screen}");
    // Someone else edits it: the new version shows, its changed line marked in the gutter.
    assert!(content(
        &mut a,
        "board.doc",
        json!({"board": {"title": "Sprint 2", "cards": [{"card": {"text": "ship it"}}]}}),
    ));
    let screen = render(&mut a, 100, 20);
    assert!(screen.contains("1 update · 00:00:00"), "{screen}");
    let changed: Vec<&str> = screen.lines().filter(|l| l.contains('▍')).collect();
    assert_eq!(changed.len(), 1, "{screen}");
    assert!(changed[0].contains(r#""title": "Sprint 2""#));
    // The same version again changes nothing on screen.
    assert!(!content(
        &mut a,
        "board.doc",
        json!({"board": {"title": "Sprint 2", "cards": [{"card": {"text": "ship it"}}]}}),
    ));
    // Moving the selection follows the other document; a late version of the old one is ignored.
    key(&mut a, KeyCode::Down);
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::Docs(DocsCommand::Open {
            path: "notes/plan.doc".into()
        })]
    );
    assert!(!content(&mut a, "board.doc", json!({"board": {}})));
    assert!(render(&mut a, 100, 20).contains("waiting for the document"));
    // A new list with the same documents keeps the selection and opens nothing new.
    docs(
        &mut a,
        DocsEvent::Listed(vec![
            doc("board.doc", 130, 0),
            doc("notes/plan.doc", 2048, 2),
        ]),
    );
    assert_eq!(
        a.panes.docs.selected_path().as_deref(),
        Some("notes/plan.doc")
    );
    assert!(net_cmds(&mut a).is_empty());
    // Leaving the tab stops the polling and closes the document.
    key(&mut a, KeyCode::Char('1'));
    assert_eq!(
        net_cmds(&mut a),
        vec![
            NetCommand::WatchDocs(false),
            NetCommand::Docs(DocsCommand::Close)
        ]
    );
}

#[test]
fn a_document_that_stops_syncing_says_why() {
    let mut a = docs_app();
    docs(
        &mut a,
        DocsEvent::Ended {
            path: "board.doc".into(),
            reason: "the connection closed".into(),
        },
    );
    assert_eq!(
        a.panes.docs.open.as_ref().unwrap().state,
        DocState::Ended("the connection closed".into())
    );
    let screen = render(&mut a, 100, 20);
    assert!(screen.contains("board.doc ✕ closed"), "{screen}");
    assert!(screen.contains("✕ the connection closed"), "{screen}");
    // The last content stays readable; it cannot be edited until it is live again.
    assert!(screen.contains(r#""title": "Sprint""#), "{screen}");
    key(&mut a, KeyCode::Char('e'));
    assert!(a.popup.is_none());
    // r opens it again.
    key(&mut a, KeyCode::Char('r'));
    assert_eq!(
        net_cmds(&mut a),
        vec![
            NetCommand::Docs(DocsCommand::List),
            NetCommand::Docs(DocsCommand::Close),
            NetCommand::Docs(DocsCommand::Open {
                path: "board.doc".into()
            })
        ]
    );
    assert_eq!(a.panes.docs.open.as_ref().unwrap().state, DocState::Opening);
    // Back on line, the tab follows the document again.
    net(
        &mut a,
        NetEvent::State(ConnState::Reconnecting {
            attempt: 1,
            retry_in_secs: 1,
            reason: "x".into(),
        }),
    );
    net(&mut a, NetEvent::State(ConnState::Live));
    assert_eq!(
        net_cmds(&mut a),
        vec![
            NetCommand::WatchDocs(true),
            NetCommand::Docs(DocsCommand::Open {
                path: "board.doc".into()
            })
        ]
    );
}

#[test]
fn edit_checks_the_json_then_saves_the_whole_document() {
    let mut a = docs_app();
    key(&mut a, KeyCode::Char('e'));
    let Some(Popup::Prompt(p)) = &a.popup else {
        panic!("e opens the JSON prompt");
    };
    assert_eq!(
        p.kind,
        PromptKind::DocJson {
            path: "board.doc".into()
        }
    );
    assert!(
        p.text().contains(r#""title": "Sprint""#),
        "prefilled: {}",
        p.text()
    );
    // Replace the text with something that is not an object: refused inline, nothing sent.
    ctrl(&mut a, 'a');
    for _ in 0..20 {
        ctrl(&mut a, 'k');
        key(&mut a, KeyCode::Delete);
    }
    typ(&mut a, "[1, 2]");
    key(&mut a, KeyCode::Enter);
    let Some(Popup::Prompt(p)) = &a.popup else {
        panic!("the prompt stays open on bad input");
    };
    assert_eq!(p.text(), "[1, 2]");
    assert!(p.error.as_deref().unwrap().contains("JSON object"));
    assert!(net_cmds(&mut a).is_empty());
    for _ in 0..6 {
        key(&mut a, KeyCode::Backspace);
    }
    typ(&mut a, r#"{"board": {"title": "New"}}"#);
    key(&mut a, KeyCode::Enter);
    // The editor stays open (saving…) until the room takes the edit.
    assert!(matches!(&a.popup, Some(Popup::Prompt(p)) if p.saving));
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::Docs(DocsCommand::Replace {
            path: "board.doc".into(),
            json: json!({"board": {"title": "New"}})
        })]
    );
    docs(
        &mut a,
        DocsEvent::Replaced {
            path: "board.doc".into(),
        },
    );
    assert_eq!(a.notice.as_ref().unwrap().text, "saved board.doc");
    assert!(a.popup.is_none());
}

#[test]
fn an_edit_the_room_rejects_keeps_the_editor_open_with_its_error() {
    let mut a = live_app();
    key(&mut a, KeyCode::Char('7'));
    docs(&mut a, DocsEvent::Listed(vec![doc("board.doc", 1, 0)]));
    content(&mut a, "board.doc", json!({"board": {}}));
    key(&mut a, KeyCode::Char('e'));
    let Some(Popup::Prompt(p)) = &mut a.popup else {
        panic!("no editor")
    };
    p.input.select_all();
    p.input.cut();
    p.input.insert_str(r#"{"wrong": {}}"#);
    key(&mut a, KeyCode::Enter);
    net_cmds(&mut a);
    net(
        &mut a,
        NetEvent::Failed {
            what: "saving board.doc".into(),
            error: "the root element must be <board>".into(),
        },
    );
    let Some(Popup::Prompt(p)) = &a.popup else {
        panic!("the editor closed on a rejected edit")
    };
    assert_eq!(p.text(), r#"{"wrong": {}}"#);
    assert_eq!(p.error.as_deref(), Some("the root element must be <board>"));
    assert!(!p.saving);
    let screen = render(&mut a, 80, 24);
    assert!(screen.contains("root element must be"), "{screen}");
}

#[test]
fn read_only_mode_shows_documents_but_does_not_edit_them() {
    let mut a = app_with(Options {
        read_only: true,
        ..Options::default()
    });
    net(&mut a, NetEvent::State(ConnState::Live));
    key(&mut a, KeyCode::Char('7'));
    docs(&mut a, DocsEvent::Listed(vec![doc("board.doc", 1, 0)]));
    content(&mut a, "board.doc", json!({"board": {}}));
    key(&mut a, KeyCode::Char('e'));
    assert!(a.popup.is_none());
    assert!(a.notice.as_ref().unwrap().text.contains("read-only"));
    let screen = render(&mut a, 100, 20);
    assert!(
        !screen.contains("e edit"),
        "no edit hint in read-only mode:\n{screen}"
    );
}

#[test]
fn filter_and_copy() {
    let mut a = docs_app();
    typ(&mut a, "/plan");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.panes.docs.visible().len(), 1);
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::Docs(DocsCommand::Open {
            path: "notes/plan.doc".into()
        })]
    );
    content(&mut a, "notes/plan.doc", json!({"plan": {"step": "one"}}));
    key(&mut a, KeyCode::Char('y'));
    let copied: Vec<String> = a
        .take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::Copy(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(
        copied,
        [serde_json::to_string_pretty(&json!({"plan": {"step": "one"}})).unwrap()]
    );
    // Esc clears the filter; the selection stays on the document followed.
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.panes.docs.visible().len(), 2);
    assert_eq!(
        a.panes.docs.selected_path().as_deref(),
        Some("notes/plan.doc")
    );
}

#[test]
fn snapshot_docs() {
    let mut a = docs_app();
    content(
        &mut a,
        "board.doc",
        json!({"board": {"title": "Sprint 2", "cards": [{"card": {"text": "ship it"}}]}}),
    );
    insta::assert_snapshot!(render(&mut a, 100, 20));
}

#[test]
fn a_room_that_cannot_list_documents_still_opens_one_by_path() {
    let mut a = live_app();
    key(&mut a, KeyCode::Char('7'));
    net_cmds(&mut a);
    let failed = || DocsEvent::ListFailed("this room has no tool named `list`".into());
    docs(&mut a, failed());
    // Said once; the polling stops.
    assert!(
        a.notice
            .as_ref()
            .unwrap()
            .text
            .contains("listing documents failed")
    );
    assert_eq!(net_cmds(&mut a), vec![NetCommand::WatchDocs(false)]);
    a.notice = None;
    docs(&mut a, failed());
    assert!(a.notice.is_none());
    assert!(net_cmds(&mut a).is_empty());
    let screen = render(&mut a, 100, 20);
    assert!(
        screen.contains("cannot list documents: this room "),
        "{screen}"
    );
    assert!(
        screen.contains(":doc PATH follows a document by"),
        "{screen}"
    );
    a.run_command("doc ./notes/plan.doc");
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::Docs(DocsCommand::Open {
            path: "notes/plan.doc".into()
        })]
    );
    content(&mut a, "notes/plan.doc", json!({"plan": {}}));
    assert!(render(&mut a, 100, 20).contains("notes/plan.doc ● live"));
    a.run_command("doc");
    assert_eq!(a.notice.as_ref().unwrap().text, "usage: doc PATH");
}
