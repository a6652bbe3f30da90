//! The room's built-in toolkits, one module per Room API.

pub(crate) mod containers;
pub(crate) mod dataset;
pub(crate) mod developer;
pub(crate) mod memory;
pub(crate) mod messaging;
mod messaging_stream;
pub(crate) mod mounts;
pub(crate) mod queues;
pub(crate) mod secrets;
pub(crate) mod services;
pub(crate) mod sqlite;
mod sqlite_transfer;
pub(crate) mod stats;
pub(crate) mod storage;
mod stream;
pub(crate) mod sync;

mod spec;

use std::any::Any;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{Value, json};

use super::call::{ToolCall, ToolError, ToolResult};
use super::room::{Participant, Room};
use crate::auth::Guard;
use crate::protocol::Content;
use crate::protocol::error_codes::{DEPENDENCY_MISSING, NOT_FOUND};
pub(crate) use spec::Tool;

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// One toolkit's state for one room (see [`RoomState`]).
pub(crate) type KitState = Arc<dyn Any + Send + Sync>;

/// A built-in toolkit: one row of the registry. Each module declares its own `TOOLKIT`.
pub(crate) struct Toolkit {
    pub name: &'static str,
    pub description: &'static str,
    pub tools: &'static [Tool],
    /// The grant that guards the toolkit and its rule per call.
    pub guard: &'static Guard,
    /// Answers one call (already found in `tools` and, for unary calls, authorised).
    pub invoke: for<'a> fn(&'a mut ToolCall) -> BoxFuture<'a, ToolResult>,
    /// Whether the toolkit authorises a unary call itself, after checking its arguments
    /// (storage: a bad path is 3004, not a denial).
    pub authorizes_itself: bool,
    /// Told when a participant leaves the room.
    pub on_leave: Option<fn(&Room, &Participant)>,
    /// Told when the room's session ends, before its stores close.
    pub on_close: Option<fn(Arc<Room>) -> BoxFuture<'static, ()>>,
    /// Opens what the toolkit keeps per room (given the room's folder) when the room opens;
    /// the toolkit finds it again with [`RoomState::get`].
    pub on_open: Option<fn(&Path) -> KitState>,
}

impl Toolkit {
    /// A row with no hooks; the methods below add them.
    pub const fn new(
        name: &'static str,
        description: &'static str,
        guard: &'static Guard,
        tools: &'static [Tool],
        invoke: for<'a> fn(&'a mut ToolCall) -> BoxFuture<'a, ToolResult>,
    ) -> Toolkit {
        Toolkit {
            name,
            description,
            tools,
            guard,
            invoke,
            authorizes_itself: false,
            on_leave: None,
            on_close: None,
            on_open: None,
        }
    }

    /// The same toolkit authorising its unary calls itself (see `authorizes_itself`).
    pub const fn authorizes_itself(self) -> Toolkit {
        Toolkit {
            authorizes_itself: true,
            ..self
        }
    }

    /// The same toolkit told when a participant leaves.
    pub const fn on_leave(self, hook: fn(&Room, &Participant)) -> Toolkit {
        Toolkit {
            on_leave: Some(hook),
            ..self
        }
    }

    /// The same toolkit told when the room's session ends.
    pub const fn on_close(self, hook: fn(Arc<Room>) -> BoxFuture<'static, ()>) -> Toolkit {
        Toolkit {
            on_close: Some(hook),
            ..self
        }
    }

    /// The same toolkit keeping state per room, opened with the room.
    pub const fn on_open(self, hook: fn(&Path) -> KitState) -> Toolkit {
        Toolkit {
            on_open: Some(hook),
            ..self
        }
    }
}

/// Every built-in toolkit, in the order `room.list_toolkits` lists them. Adding a toolkit
/// is a module declaring its `TOOLKIT` and one line here.
const TOOLKITS: &[Toolkit] = &[
    messaging::TOOLKIT,
    queues::TOOLKIT,
    developer::TOOLKIT,
    services::TOOLKIT,
    storage::TOOLKIT,
    secrets::TOOLKIT,
    dataset::TOOLKIT,
    sqlite::TOOLKIT,
    containers::TOOLKIT,
    mounts::TOOLKIT,
    memory::TOOLKIT,
    sync::TOOLKIT,
    stats::TOOLKIT,
];

fn find(name: &str) -> Option<&'static Toolkit> {
    TOOLKITS.iter().find(|k| k.name == name)
}

/// Toolkits of hosted MeshAgent rooms that a local room does not have, and why: a call on
/// one says so instead of "no toolkit named".
const ABSENT: &[(&str, &str)] = &[(
    "livekit",
    "a roomdeck room has no LiveKit server: audio and video rooms are not available locally",
)];

/// `room.list_toolkits`: the built-in toolkits in the SDK's `{"tools": {...}}` shape.
pub(crate) fn describe() -> Value {
    let mut kits = serde_json::Map::new();
    for kit in TOOLKITS {
        let tools: serde_json::Map<String, Value> = kit
            .tools
            .iter()
            .map(|t| (t.name.to_string(), t.describe()))
            .collect();
        kits.insert(
            kit.name.into(),
            json!({"title": kit.name, "description": kit.description, "annotations": {}, "tools": tools}),
        );
    }
    json!({ "tools": kits })
}

pub(crate) fn is_builtin(name: &str) -> bool {
    find(name).is_some()
}

/// Whether a built-in tool is declared as changing the room (`Tool::writes`).
pub(crate) fn writes(toolkit: &str, tool: &str) -> bool {
    find(toolkit)
        .and_then(|k| k.tools.iter().find(|t| t.name == tool))
        .is_some_and(|t| t.writes)
}

/// The guard of a toolkit: its own for a built-in one, else the one for hosted toolkits.
pub(crate) fn guard_of(toolkit: &str) -> &'static Guard {
    find(toolkit).map_or_else(|| crate::auth::check::guard_of_hosted(toolkit), |k| k.guard)
}

/// What the toolkits keep per room (their databases, their open queries): opened with the
/// room by each toolkit's `on_open` and found by type, so the room holds it without knowing
/// what is in it.
pub(crate) struct RoomState(Vec<KitState>);

impl RoomState {
    /// Every toolkit's state for the room whose folder is `dir`.
    pub fn open(dir: &Path) -> RoomState {
        RoomState(
            TOOLKITS
                .iter()
                .filter_map(|k| k.on_open)
                .map(|open| open(dir))
                .collect(),
        )
    }

    /// The state of type `T`, as its toolkit's `on_open` made it.
    pub fn get<T: Any + Send + Sync>(&self) -> Result<Arc<T>, ToolError> {
        self.0
            .iter()
            .find_map(|s| s.clone().downcast::<T>().ok())
            .ok_or_else(|| {
                ToolError::new(
                    crate::protocol::error_codes::OPERATION_FAILED,
                    format!("the room has no {}", std::any::type_name::<T>()),
                )
            })
    }
}

/// A participant left: every toolkit that cares is told.
pub(crate) fn participant_left(room: &Room, who: &Participant) {
    for hook in TOOLKITS.iter().filter_map(|k| k.on_leave) {
        hook(room, who);
    }
}

/// The room's session is ending: every toolkit that keeps state finishes with it.
pub(crate) async fn room_closing(room: &Arc<Room>) {
    for hook in TOOLKITS.iter().filter_map(|k| k.on_close) {
        hook(room.clone()).await;
    }
}

/// Routes a call to its toolkit. Unary calls are authorised here with their arguments;
/// streaming tools authorise with their start chunk.
pub(crate) async fn dispatch(call: &mut ToolCall) -> ToolResult {
    let Some(kit) = find(&call.toolkit) else {
        let Some(hosted) = call.room.hosted.get(&call.toolkit) else {
            if let Some((_, why)) = ABSENT.iter().find(|(name, _)| *name == call.toolkit) {
                return Err(ToolError::new(DEPENDENCY_MISSING, *why));
            }
            return Err(ToolError::new(
                NOT_FOUND,
                format!("this room has no toolkit named `{}`", call.toolkit),
            ));
        };
        call.authorize(&Value::Null)?;
        return super::hosted::forward(call, hosted).await;
    };
    if !kit.tools.iter().any(|t| t.name == call.tool) {
        return Err(ToolError::new(
            NOT_FOUND,
            format!(
                "toolkit `{}` has no tool named `{}`",
                call.toolkit, call.tool
            ),
        ));
    }
    // Streams are authorised in full on their start chunk; a token without the toolkit's
    // API grant is refused before anything is read.
    if call.requests.is_some() {
        call.authorize_api()?;
    }
    if call.requests.is_none() && !kit.authorizes_itself {
        let args = match &call.args {
            Content::Json(v) => v.clone(),
            Content::Binary { headers, .. } => Value::Object(headers.clone()),
            _ => Value::Null,
        };
        call.authorize(&args)?;
    }
    (kit.invoke)(call).await
}

#[cfg(test)]
mod tests;
