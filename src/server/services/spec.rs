//! MeshAgent `kind: Service` specs (the SDK's `ServiceSpec`, `specs/service.py`), read from
//! YAML or JSON and checked with the same strictness (`extra=forbid`), so a spec saved here
//! is one the official SDK parses back from `services.list`.
//!
//! The parts the local runtime uses are typed; nested parts it passes through untouched
//! (agents, storage mounts, endpoints) are checked for their basic shape only.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::ApiScope;

/// Ports the SDK reserves for room infrastructure.
pub const RESERVED_PORTS: &[u64] = &[8078];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub metadata: ServiceMetadata,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<PortSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<ServiceFileSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalServiceSpec>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceMetadata {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFileSpec {
    pub path: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalServiceSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerSpec {
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as: Option<Value>,
    /// `agent` (the default) or `none`.
    #[serde(default = "agent_template", skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_secret: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Vec<EnvironmentVariable>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writable_root_fs: Option<bool>,
    #[serde(default = "yes")]
    pub private: bool,
}

fn agent_template() -> Option<String> {
    Some("agent".into())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentVariable {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Value>,
}

/// A participant token to mint for the service (the SDK's `TokenValue`; extra keys ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenValue {
    pub identity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiScope>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl TokenValue {
    /// `TokenValue.resolved_api_scope()`: the given scope, else the role's default.
    pub fn resolved_api_scope(&self) -> ApiScope {
        match (&self.api, self.role.as_deref()) {
            (Some(api), _) => api.clone(),
            (None, Some("user")) => ApiScope::user_default(),
            _ => ApiScope::agent_default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSpec {
    /// `"*"` or a port number.
    #[serde(default = "any_port")]
    pub num: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_port: Option<u64>,
    #[serde(default = "http_type", skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(default)]
    pub endpoints: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
}

fn any_port() -> Value {
    Value::String("*".into())
}

fn http_type() -> Option<String> {
    Some("http".into())
}

impl PortSpec {
    /// The port number, when it is one (not `"*"`).
    pub fn number(&self) -> Option<u16> {
        self.num.as_u64().and_then(|n| u16::try_from(n).ok())
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

fn bad(msg: impl Into<String>) -> SpecError {
    SpecError(msg.into())
}

impl ServiceSpec {
    /// Parses YAML or JSON (JSON is YAML) and checks it.
    pub fn parse(text: &str) -> Result<ServiceSpec, SpecError> {
        if text.len() > 1024 * 1024 {
            return Err(bad("a service spec is at most 1 MiB"));
        }
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) => serde_yaml_ng::from_str(text)
                .map_err(|e| bad(format!("not valid YAML or JSON: {e}")))?,
        };
        ServiceSpec::from_value(value)
    }

    pub fn from_value(value: Value) -> Result<ServiceSpec, SpecError> {
        if !value.is_object() {
            return Err(bad(
                "a service spec is a mapping (version, kind, metadata, ...)",
            ));
        }
        let spec: ServiceSpec =
            serde_json::from_value(value).map_err(|e| bad(format!("invalid service spec: {e}")))?;
        spec.check()?;
        Ok(spec)
    }

    fn check(&self) -> Result<(), SpecError> {
        if self.version != "v1" {
            return Err(bad(format!(
                "version must be \"v1\", not {:?}",
                self.version
            )));
        }
        if self.kind != "Service" {
            return Err(bad(format!(
                "kind must be \"Service\", not {:?} (only services can be deployed to a room)",
                self.kind
            )));
        }
        let name = &self.metadata.name;
        if name.trim().is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
            return Err(bad("metadata.name must be 1 to 128 printable characters"));
        }
        if let Some(id) = &self.id
            && (id.is_empty() || id.len() > 128 || id.chars().any(char::is_control))
        {
            return Err(bad("id must be 1 to 128 printable characters"));
        }
        if let Some(agents) = &self.agents {
            for (i, a) in agents.iter().enumerate() {
                if !a.get("name").is_some_and(Value::is_string) {
                    return Err(bad(format!("agents[{i}] needs a `name` string")));
                }
            }
        }
        for (i, p) in self.ports.iter().flatten().enumerate() {
            match &p.num {
                Value::String(s) if s == "*" => {}
                Value::Number(n) => match n.as_u64() {
                    Some(0) | None => {
                        return Err(bad(format!("ports[{i}].num must be \"*\" or 1..65535")));
                    }
                    Some(n) if n > 65535 => {
                        return Err(bad(format!("ports[{i}].num must be \"*\" or 1..65535")));
                    }
                    Some(n) if RESERVED_PORTS.contains(&n) => {
                        return Err(bad(format!(
                            "ports[{i}].num {n} is reserved for MeshAgent room infrastructure"
                        )));
                    }
                    Some(_) => {}
                },
                _ => return Err(bad(format!("ports[{i}].num must be \"*\" or 1..65535"))),
            }
            if let Some(t) = &p.r#type
                && t != "http"
                && t != "tcp"
            {
                return Err(bad(format!("ports[{i}].type must be http or tcp")));
            }
        }
        if let Some(c) = &self.container {
            if let Some(t) = &c.template
                && t != "agent"
                && t != "none"
            {
                return Err(bad(format!(
                    "container.template must be agent or none, not {t:?}"
                )));
            }
            for (i, e) in c.environment.iter().flatten().enumerate() {
                if e.name.is_empty() || e.name.contains('=') || e.name.contains('\0') {
                    return Err(bad(format!(
                        "container.environment[{i}].name must be a variable name"
                    )));
                }
                if let Some(t) = &e.token {
                    if let Some(role) = &t.role
                        && !matches!(role.as_str(), "user" | "agent" | "tool")
                    {
                        return Err(bad(format!(
                            "container.environment[{i}].token.role must be user, agent or tool"
                        )));
                    }
                    if t.identity.is_empty() {
                        return Err(bad(format!(
                            "container.environment[{i}].token.identity must not be empty"
                        )));
                    }
                }
                if e.secret.is_some() && c.run_as.is_none() {
                    return Err(bad("container.run_as is required when using SecretValue"));
                }
            }
        }
        Ok(())
    }

    /// The spec as the JSON the SDK reads back (`services_json`).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Whether the local runtime can run it: enabled, with a container command.
    pub fn runnable(&self) -> bool {
        self.enabled
            && self
                .container
                .as_ref()
                .and_then(|c| c.command.as_deref())
                .is_some_and(|c| !c.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_json_and_yaml() {
        let s = ServiceSpec::parse(
            r#"{"version":"v1","kind":"Service","id":"svc-1","metadata":{"name":"echo"},"container":{"image":"busybox"}}"#,
        )
        .unwrap();
        assert_eq!(s.metadata.name, "echo");
        assert_eq!(
            s.container.as_ref().unwrap().template.as_deref(),
            Some("agent")
        );
        assert!(!s.runnable());
        let y = ServiceSpec::parse(
            "version: v1\nkind: Service\nmetadata:\n  name: worker\ncontainer:\n  image: python\n  command: python worker.py\n  environment:\n    - name: A\n      value: b\n    - name: TOK\n      token:\n        identity: bot\n        role: agent\nports:\n  - num: 8080\n    liveness: /health\n",
        )
        .unwrap();
        assert!(y.runnable());
        assert_eq!(y.ports.as_ref().unwrap()[0].number(), Some(8080));
        let back = y.to_json();
        assert_eq!(
            back["container"]["environment"][1]["token"]["identity"],
            "bot"
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = |t: &str| ServiceSpec::parse(t).unwrap_err().0;
        assert!(e("version: v2\nkind: Service\nmetadata: {name: a}").contains("version"));
        assert!(e("version: v1\nkind: Route\nmetadata: {name: a}").contains("kind"));
        assert!(e("version: v1\nkind: Service\nmetadata: {name: a}\nbogus: 1").contains("bogus"));
        assert!(e("version: v1\nkind: Service").contains("metadata"));
        assert!(
            e("version: v1\nkind: Service\nmetadata: {name: a}\nports: [{num: 8078}]")
                .contains("reserved")
        );
        assert!(
            e("version: v1\nkind: Service\nmetadata: {name: a}\ncontainer: {image: x, template: weird}")
                .contains("template")
        );
        assert!(e("- a\n- b").contains("mapping"));
        assert!(e(": : :").contains("YAML"));
    }
}
