//! Participant tokens: HS256 JWTs whose claims match the SDK's `ParticipantToken`
//! (`meshagent/api/participant_token.py`), and `ma-…` API keys (`keys.py`).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};

use super::scope::ApiScope;

/// What we write into `version`: the SDK release whose wire protocol we speak.
pub const PROTOCOL_VERSION: &str = "0.56.0";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the token is not a valid participant token: {0}")]
    Malformed(String),
    #[error("the token's signature does not match this server's secret")]
    BadSignature,
    #[error("the token is signed with {0}; only HS256 is accepted")]
    Algorithm(String),
    #[error("the token expired at {exp} (seconds since 1970); ask for a new one")]
    Expired { exp: u64 },
    #[error("the token is not valid yet (`{claim}` is in the future)")]
    NotYetValid { claim: &'static str },
    #[error("the token names an audience (`aud`); this server accepts none")]
    Audience,
    #[error("invalid API key: {0}")]
    InvalidApiKey(String),
    #[error("no signing secret: set MESHAGENT_SECRET or MESHAGENT_API_KEY")]
    EmptySecret,
    #[error("could not sign the token: {0}")]
    Sign(String),
}

/// One entry of the `grants` claim.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantGrant {
    /// `room`, `role`, `api`, or another name (`site`, `agent`, `tunnel_ports`, …).
    pub name: String,
    pub scope: GrantScope,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GrantScope {
    /// The scope of the grant named `api`.
    Api(Box<ApiScope>),
    /// Any other grant's scope, usually a string, kept as sent.
    Other(Value),
}

impl ParticipantGrant {
    /// The scope when it is a string (room name, role, …).
    pub fn text(&self) -> Option<&str> {
        match &self.scope {
            GrantScope::Other(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    fn to_json(&self) -> Result<Value, AuthError> {
        let scope = match &self.scope {
            GrantScope::Api(api) => {
                serde_json::to_value(api).map_err(|e| AuthError::Sign(e.to_string()))?
            }
            GrantScope::Other(v) => v.clone(),
        };
        Ok(serde_json::json!({ "name": self.name, "scope": scope }))
    }

    fn from_json(v: &Value) -> Result<ParticipantGrant, String> {
        let obj = v.as_object().ok_or("a grant is not a JSON object")?;
        let name = match obj.get("name") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err("a grant's `name` is not a string".into()),
            None => return Err("a grant has no `name`".into()),
        };
        let scope = obj
            .get("scope")
            .ok_or_else(|| format!("grant `{name}` has no `scope`"))?;
        let scope = if name == "api" {
            let api = serde_json::from_value(scope.clone())
                .map_err(|e| format!("the `api` grant is not a valid ApiScope: {e}"))?;
            GrantScope::Api(Box::new(api))
        } else {
            GrantScope::Other(scope.clone())
        };
        Ok(ParticipantGrant { name, scope })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantToken {
    pub name: String,
    /// `sub`
    pub project_id: Option<String>,
    /// `kid`
    pub api_key_id: Option<String>,
    pub version: Option<String>,
    pub grants: Vec<ParticipantGrant>,
    /// `exp`, seconds since the epoch.
    pub expires_at: Option<u64>,
    /// Claims we don't interpret, kept so a token survives a round trip.
    pub extra: Map<String, Value>,
}

impl ParticipantToken {
    pub fn new(name: impl Into<String>) -> Self {
        ParticipantToken {
            name: name.into(),
            project_id: None,
            api_key_id: None,
            version: Some(PROTOCOL_VERSION.to_string()),
            grants: Vec::new(),
            expires_at: None,
            extra: Map::new(),
        }
    }

    fn add_text_grant(&mut self, name: &str, scope: &str) {
        self.grants.push(ParticipantGrant {
            name: name.to_string(),
            scope: GrantScope::Other(Value::String(scope.to_string())),
        });
    }

    pub fn add_room_grant(&mut self, room: &str) {
        self.add_text_grant("room", room);
    }

    pub fn add_role_grant(&mut self, role: &str) {
        self.add_text_grant("role", role);
    }

    /// A token has one api grant: this replaces an existing one (the SDK raises instead).
    pub fn add_api_grant(&mut self, scope: ApiScope) {
        self.grants.retain(|g| g.name != "api");
        self.grants.push(ParticipantGrant {
            name: "api".to_string(),
            scope: GrantScope::Api(Box::new(scope)),
        });
    }

    fn grant(&self, name: &str) -> Option<&ParticipantGrant> {
        self.grants.iter().find(|g| g.name == name)
    }

    /// The first `room` grant.
    pub fn room(&self) -> Option<&str> {
        self.grant("room").and_then(ParticipantGrant::text)
    }

    /// The first `role` grant other than `user`, else `user` (as the SDK's `role`).
    pub fn role(&self) -> &str {
        self.grants
            .iter()
            .filter(|g| g.name == "role")
            .filter_map(ParticipantGrant::text)
            .find(|r| *r != "user")
            .unwrap_or("user")
    }

    /// The `api` grant; `None` means the participant may call no room API.
    pub fn api(&self) -> Option<ApiScope> {
        self.api_ref().cloned()
    }

    pub fn api_ref(&self) -> Option<&ApiScope> {
        self.grants.iter().find_map(|g| match &g.scope {
            GrantScope::Api(api) if g.name == "api" => Some(api.as_ref()),
            _ => None,
        })
    }

    /// The claims object, as the SDK's `to_json` (plus `exp`).
    pub fn to_claims(&self) -> Result<Map<String, Value>, AuthError> {
        let mut claims = self.extra.clone();
        claims.insert("name".into(), Value::String(self.name.clone()));
        let grants = self
            .grants
            .iter()
            .map(ParticipantGrant::to_json)
            .collect::<Result<Vec<_>, _>>()?;
        claims.insert("grants".into(), Value::Array(grants));
        let optional = [
            ("sub", &self.project_id),
            ("kid", &self.api_key_id),
            ("version", &self.version),
        ];
        for (key, value) in optional {
            if let Some(v) = value {
                claims.insert(key.into(), Value::String(v.clone()));
            }
        }
        if let Some(exp) = self.expires_at {
            claims.insert("exp".into(), Value::from(exp));
        }
        Ok(claims)
    }

    /// Reads claims as the SDK's `from_json` does: `name` (non-blank string) and `grants`
    /// (list) are required; `api` grants must parse; unknown claims land in `extra`.
    pub fn from_claims(mut claims: Map<String, Value>) -> Result<ParticipantToken, AuthError> {
        let bad = |m: &str| AuthError::Malformed(m.to_string());
        let name = match claims.remove("name") {
            Some(Value::String(s)) if !s.trim().is_empty() => s,
            Some(_) => return Err(bad("`name` must be a non-empty string")),
            None => return Err(bad("the `name` claim is missing")),
        };
        let grants = match claims.remove("grants") {
            Some(Value::Array(items)) => items
                .iter()
                .map(ParticipantGrant::from_json)
                .collect::<Result<Vec<_>, _>>()
                .map_err(AuthError::Malformed)?,
            Some(_) => return Err(bad("`grants` must be a list")),
            None => return Err(bad("the `grants` claim is missing")),
        };
        let mut text_claim = |key: &str| match claims.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(AuthError::Malformed(format!("`{key}` must be a string"))),
        };
        let project_id = text_claim("sub")?;
        let api_key_id = text_claim("kid")?;
        let version = text_claim("version")?;
        let expires_at = match claims.remove("exp") {
            None => None,
            Some(v) => Some(numeric_date(&v, "exp")?.max(0) as u64),
        };
        Ok(ParticipantToken {
            name,
            project_id,
            api_key_id,
            version,
            grants,
            expires_at,
            extra: claims,
        })
    }

    /// Signs with HS256 using the secret's UTF-8 bytes, as PyJWT does with a `str` key.
    pub fn to_jwt(&self, secret: &str) -> Result<String, AuthError> {
        if secret.is_empty() {
            return Err(AuthError::EmptySecret);
        }
        let claims = self.to_claims()?;
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .map_err(|e| AuthError::Sign(e.to_string()))
    }

    /// Verifies the signature, then `exp`/`nbf`/`iat`/`aud` the way PyJWT does (no leeway;
    /// `exp` optional; expired when `exp <= now`), then reads the claims.
    pub fn from_jwt(jwt: &str, secret: &str) -> Result<ParticipantToken, AuthError> {
        if secret.is_empty() {
            return Err(AuthError::EmptySecret);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        // Claims are checked below, where the rules match the SDK's.
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Map<String, Value>>(
            jwt,
            &DecodingKey::from_secret(secret.as_bytes()),
            &validation,
        )
        .map_err(jwt_error)?;
        check_times(&data.claims, now())?;
        ParticipantToken::from_claims(data.claims)
    }
}

fn jwt_error(e: jsonwebtoken::errors::Error) -> AuthError {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            AuthError::Algorithm("an algorithm other than HS256".into())
        }
        _ => AuthError::Malformed(e.to_string()),
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// PyJWT's `int(payload[claim])` for the numbers JSON can carry.
fn numeric_date(v: &Value, claim: &str) -> Result<i64, AuthError> {
    v.as_i64()
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.trunc() as i64)
        })
        .ok_or_else(|| AuthError::Malformed(format!("`{claim}` must be an integer")))
}

fn check_times(claims: &Map<String, Value>, now: i64) -> Result<(), AuthError> {
    if let Some(exp) = claims.get("exp") {
        let exp = numeric_date(exp, "exp")?;
        if exp <= now {
            return Err(AuthError::Expired {
                exp: exp.max(0) as u64,
            });
        }
    }
    for claim in ["nbf", "iat"] {
        if let Some(v) = claims.get(claim)
            && numeric_date(v, claim)? > now
        {
            return Err(AuthError::NotYetValid { claim });
        }
    }
    // PyJWT rejects a non-empty `aud` when the verifier expects none; so do we.
    match claims.get("aud") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s.is_empty() => Ok(()),
        Some(Value::Array(a)) if a.is_empty() => Ok(()),
        Some(_) => Err(AuthError::Audience),
    }
}

/// An `ma-<kid>-<project>-<secret>` key. `id` and `project_id` are the UUIDs the two
/// middle parts encode (url-safe base64 with `-` written as `.`); the secret signs tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub project_id: String,
    pub secret: String,
}

impl std::fmt::Debug for ApiKey {
    // Keep the secret out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("id", &self.id)
            .field("project_id", &self.project_id)
            .field("secret", &"…")
            .finish()
    }
}

impl ApiKey {
    /// As `keys.parse_api_key`: split the rest after `ma-` on its first two `-`.
    pub fn parse(s: &str) -> Result<ApiKey, AuthError> {
        let bad = |m: &str| AuthError::InvalidApiKey(m.to_string());
        let rest = s
            .trim()
            .strip_prefix("ma-")
            .ok_or_else(|| bad("it does not start with `ma-`"))?;
        let mut parts = rest.splitn(3, '-');
        let (Some(kid), Some(project), Some(secret)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected ma-<key id>-<project id>-<secret>"));
        };
        if secret.is_empty() {
            return Err(bad("the secret part is empty"));
        }
        Ok(ApiKey {
            id: decompress_uuid(kid).ok_or_else(|| bad("the key id is not an encoded UUID"))?,
            project_id: decompress_uuid(project)
                .ok_or_else(|| bad("the project id is not an encoded UUID"))?,
            secret: secret.to_string(),
        })
    }
}

/// `base64_decompress_uuid`: url-safe base64 of the 16 UUID bytes, `-` written as `.`.
fn decompress_uuid(s: &str) -> Option<String> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    // Python pads and ignores stray trailing bits; be as lenient.
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let bytes = ENGINE.decode(s.replace('.', "-")).ok()?;
    let bytes: [u8; 16] = bytes.try_into().ok()?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// MESHAGENT_API_KEY (its secret; kid/project to stamp into the token) else MESHAGENT_SECRET.
/// An unparsable API key is skipped with a warning, falling back to the secret.
pub fn signing_key_from_env() -> Option<(String, Option<ApiKey>)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    signing_key_from(var("MESHAGENT_API_KEY").as_deref(), var("MESHAGENT_SECRET"))
}

fn signing_key_from(
    api_key: Option<&str>,
    secret: Option<String>,
) -> Option<(String, Option<ApiKey>)> {
    if let Some(raw) = api_key {
        match ApiKey::parse(raw) {
            Ok(key) => return Some((key.secret.clone(), Some(key))),
            Err(e) => tracing::warn!("ignoring MESHAGENT_API_KEY: {e}"),
        }
    }
    secret.map(|s| (s, None))
}

#[cfg(test)]
mod tests;
