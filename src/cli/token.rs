//! `roomdeck token`: mint a participant token for a room.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::auth::secret::load_or_create_secret;
use crate::auth::{ApiKey, ApiScope, ParticipantToken};

#[derive(clap::Args, Debug)]
pub struct TokenArgs {
    /// Room the token admits to.
    #[arg(long)]
    pub room: String,
    /// Participant name.
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "user", value_parser = ["user", "agent", "tool"])]
    pub role: String,
    /// agent_default, user_default, full, owner (full + secrets), or @FILE.json holding an ApiScope.
    #[arg(long, default_value = "agent_default")]
    pub scope: String,
    /// Lifetime in seconds (no expiry when absent).
    #[arg(long, value_name = "SECONDS")]
    pub ttl: Option<u64>,
    /// Signing secret; else MESHAGENT_API_KEY, else this machine's server secret.
    #[arg(long, env = "MESHAGENT_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Data dir holding the server secret used as the last fallback.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// `sub` claim (an API key's project wins).
    #[arg(long, default_value = "local")]
    pub project_id: String,
}

/// Returns the JWT; the caller prints it.
pub fn run(args: &TokenArgs) -> Result<String, String> {
    let scope = parse_scope(&args.scope)?;
    let api_key = std::env::var("MESHAGENT_API_KEY").ok();
    let (secret, key) = signing_key(args, api_key.as_deref())?;

    let mut token = ParticipantToken::new(args.name.clone());
    token.add_room_grant(&args.room);
    token.add_role_grant(&args.role);
    token.add_api_grant(scope);
    token.project_id = Some(args.project_id.clone());
    if let Some(key) = key {
        // As the SDK does: a key stamps its own id and project.
        token.api_key_id = Some(key.id);
        token.project_id = Some(key.project_id);
    }
    if let Some(ttl) = args.ttl {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| format!("the system clock is before 1970: {e}"))?
            .as_secs();
        token.expires_at = Some(now.saturating_add(ttl));
    }
    token.to_jwt(&secret).map_err(|e| e.to_string())
}

fn parse_scope(spec: &str) -> Result<ApiScope, String> {
    match spec {
        "agent_default" => Ok(ApiScope::agent_default()),
        "user_default" => Ok(ApiScope::user_default()),
        "full" => Ok(ApiScope::full()),
        "owner" => Ok(ApiScope::owner()),
        _ => {
            let Some(file) = spec.strip_prefix('@') else {
                return Err(format!(
                    "unknown scope `{spec}`: use agent_default, user_default, full, owner or @FILE.json"
                ));
            };
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("can't read scope file {file}: {e}"))?;
            serde_json::from_str(&text)
                .map_err(|e| format!("{file} is not a valid ApiScope JSON: {e}"))
        }
    }
}

/// `--secret`/MESHAGENT_SECRET, else `api_key` (MESHAGENT_API_KEY), else the data dir's secret.
fn signing_key(
    args: &TokenArgs,
    api_key: Option<&str>,
) -> Result<(String, Option<ApiKey>), String> {
    if let Some(secret) = args.secret.as_deref().filter(|s| !s.is_empty()) {
        return Ok((secret.to_string(), None));
    }
    // A key that is set but broken is an error, not a reason to sign with something else.
    if let Some(raw) = api_key.filter(|s| !s.trim().is_empty()) {
        let key = ApiKey::parse(raw).map_err(|e| format!("MESHAGENT_API_KEY: {e}"))?;
        return Ok((key.secret.clone(), Some(key)));
    }
    let dir = args.data_dir.clone().unwrap_or_else(crate::paths::data_dir);
    let secret = load_or_create_secret(&dir)
        .map_err(|e| format!("can't read the server secret in {}: {e}", dir.display()))?;
    Ok((secret, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &std::path::Path) -> TokenArgs {
        TokenArgs {
            room: "demo".into(),
            name: "alice".into(),
            role: "agent".into(),
            scope: "user_default".into(),
            ttl: Some(60),
            secret: Some("s3cret-s3cret-s3cret-s3cret-s3cret".into()),
            data_dir: Some(dir.to_path_buf()),
            project_id: "local".into(),
        }
    }

    #[test]
    fn mints_a_verifiable_token() {
        let dir = tempfile::tempdir().unwrap();
        let a = args(dir.path());
        let jwt = run(&a).unwrap();
        let t = ParticipantToken::from_jwt(&jwt, "s3cret-s3cret-s3cret-s3cret-s3cret").unwrap();
        assert_eq!(t.name, "alice");
        assert_eq!(t.room(), Some("demo"));
        assert_eq!(t.role(), "agent");
        assert_eq!(t.project_id.as_deref(), Some("local"));
        assert_eq!(t.api(), Some(ApiScope::user_default()));
        assert!(t.expires_at.is_some());
    }

    #[test]
    fn falls_back_to_the_data_dir_secret() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args(dir.path());
        a.secret = None;
        let (secret, key) = signing_key(&a, None).unwrap();
        assert!(key.is_none());
        assert_eq!(secret, load_or_create_secret(dir.path()).unwrap());
    }

    #[test]
    fn api_key_is_used_when_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args(dir.path());
        a.secret = None;
        let raw = "ma-bxobLD1OT1CKa3yNng8aKw-DZyLem9eTTybKh8OnYx7ag-sk-with-dashes-42";
        let (secret, key) = signing_key(&a, Some(raw)).unwrap();
        assert_eq!(secret, "sk-with-dashes-42");
        assert_eq!(key.unwrap().id, "6f1a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b");
        // A broken key is reported, not silently replaced by another secret.
        assert!(signing_key(&a, Some("ma-broken")).is_err());
        // An explicit secret wins over the key.
        a.secret = Some("explicit".into());
        assert_eq!(signing_key(&a, Some(raw)).unwrap().0, "explicit");
    }

    #[test]
    fn flags_parse() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            token: TokenArgs,
        }
        let cli = Cli::try_parse_from(["t", "--room", "r", "--name", "n", "--ttl", "60"]).unwrap();
        assert_eq!(cli.token.role, "user");
        assert_eq!(cli.token.scope, "agent_default");
        assert_eq!(cli.token.project_id, "local");
        assert_eq!(cli.token.ttl, Some(60));
        assert!(
            Cli::try_parse_from(["t", "--room", "r", "--name", "n", "--role", "admin"]).is_err()
        );
        assert!(Cli::try_parse_from(["t", "--name", "n"]).is_err());
    }

    #[test]
    fn scope_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("scope.json");
        std::fs::write(&file, r#"{"queues":{"send":["jobs"]}}"#).unwrap();
        let scope = parse_scope(&format!("@{}", file.display())).unwrap();
        assert_eq!(scope.queues.unwrap().send, Some(vec!["jobs".to_string()]));
        assert!(scope.storage.is_none());
        assert!(parse_scope("everything").is_err());
        assert!(parse_scope("@/no/such/file.json").is_err());
    }
}
