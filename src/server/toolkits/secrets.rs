//! `secrets`: values kept encrypted in the room, as MeshAgent's TypeScript client uses them.
//! Only a token whose api scope has `secrets` (e.g. `full`) reaches these tools.

use serde_json::{Value, json};

use crate::protocol::Content;
use crate::protocol::error_codes::{NOT_FOUND, OPERATION_FAILED};
use crate::server::call::{Reply, ToolCall, ToolError, ToolResult, empty, json_reply, random_id};
use crate::store::secrets::{SecretError, SecretInfo};

use super::spec::{ANSWERS_EMPTY, ANSWERS_FILE_OR_EMPTY, Arg, BINARY, Tool, Ty, opt, tool};

pub(crate) const TOOLKIT: super::Toolkit = super::Toolkit::new(
    "secrets",
    "Secrets kept encrypted in the room",
    &crate::auth::check::SECRETS,
    TOOLS,
    |call| Box::pin(invoke(call)),
);

const SECRET_ID: Arg = opt("secret_id", Ty::Str, "the secret's id");
const NAME: Arg = opt("name", Ty::Str, "the secret's name");

const TOOLS: &[Tool] = &[
    tool(
        "list_secrets",
        "Secrets with their names and types (never their values)",
        &[],
    ),
    tool(
        "set_secret",
        "Store a secret (binary content with its headers)",
        &[
            opt(
                "secret_id",
                Ty::Str,
                "the id to store it under (absent: the secret of that name, or a new id)",
            ),
            NAME,
            opt("type", Ty::Str, "the value's MIME type").or("\"application/octet-stream\""),
            opt(
                "delegated_to",
                Ty::Str,
                "the participant the secret is kept for",
            ),
        ],
    )
    .takes(BINARY)
    .answers(ANSWERS_EMPTY)
    .writes(),
    tool(
        "get_secret",
        "A secret's value, by id or name",
        &[
            SECRET_ID,
            NAME,
            opt("type", Ty::Str, "only a secret of this MIME type"),
        ],
    )
    .answers(ANSWERS_FILE_OR_EMPTY),
    tool("exists", "Whether a secret exists", &[SECRET_ID, NAME]),
    tool(
        "delete_secret",
        "Remove a secret",
        &[
            opt("id", Ty::Str, "the secret's id (or give `secret_id`)"),
            SECRET_ID,
        ],
    )
    .answers(ANSWERS_EMPTY)
    .writes(),
];

impl From<SecretError> for ToolError {
    fn from(e: SecretError) -> ToolError {
        ToolError::new(OPERATION_FAILED, e.to_string())
    }
}

fn opt_str<'a>(args: &'a Value, key: &str) -> Option<&'a str> {
    args.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

pub(crate) async fn invoke(call: &mut ToolCall) -> ToolResult {
    let store = &call.room.secrets;
    match call.tool.as_str() {
        "set_secret" => {
            let Content::Binary { headers, data } = &call.args else {
                return Err(ToolError::invalid(
                    "set_secret takes binary content: the value, with its headers",
                ));
            };
            let headers = Value::Object(headers.clone());
            let name = opt_str(&headers, "name");
            let secret_type = opt_str(&headers, "type").unwrap_or("application/octet-stream");
            // Setting by name replaces that secret rather than adding a second one.
            let id = match opt_str(&headers, "secret_id") {
                Some(id) => id.to_string(),
                None => store
                    .find(None, name, None)?
                    .map(|s| s.id)
                    .unwrap_or_else(random_id),
            };
            let info = SecretInfo {
                name: name.unwrap_or(&id).to_string(),
                id,
                secret_type: secret_type.to_string(),
                delegated_to: opt_str(&headers, "delegated_to").map(str::to_string),
            };
            store.set(&info, data)?;
            call.room.log(
                crate::server::devlog::Severity::Info,
                format!("{} set secret {}", call.caller.name, info.name),
            );
            empty()
        }
        "get_secret" => {
            let args = call.json_args()?;
            let Some(info) = store.find(
                opt_str(&args, "secret_id"),
                opt_str(&args, "name"),
                opt_str(&args, "type"),
            )?
            else {
                return empty();
            };
            let Some(data) = store.value(&info.id)? else {
                return empty();
            };
            Ok(Reply::Content(Content::File {
                name: info.name,
                mime_type: info.secret_type,
                data,
            }))
        }
        "list_secrets" => json_reply(json!({ "secrets": store.list()? })),
        "exists" => {
            let args = call.json_args()?;
            let found = store.find(opt_str(&args, "secret_id"), opt_str(&args, "name"), None)?;
            json_reply(json!({ "exists": found.is_some() }))
        }
        "delete_secret" => {
            let args = call.json_args()?;
            let id = opt_str(&args, "id")
                .or_else(|| opt_str(&args, "secret_id"))
                .ok_or_else(|| ToolError::invalid("argument `id` (a string) is required"))?;
            if !store.delete(id)? {
                return Err(ToolError::new(NOT_FOUND, format!("no secret with id {id}")));
            }
            empty()
        }
        other => Err(ToolError::invalid(format!(
            "secrets.{other} is not supported"
        ))),
    }
}
