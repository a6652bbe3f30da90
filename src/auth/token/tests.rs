use serde_json::{Value, json};

use super::*;
use crate::auth::scope::*;

#[path = "sdk_fixtures.rs"]
mod sdk;

const SECRET: &str = "unit-test-secret-unit-test-secret";

fn sample() -> ParticipantToken {
    let mut t = ParticipantToken::new("alice");
    t.add_room_grant("demo");
    t.add_role_grant("agent");
    t.add_api_grant(ApiScope::agent_default());
    t.project_id = Some("local".into());
    t
}

fn far_future() -> u64 {
    4_102_444_800 // 2100-01-01
}

#[test]
fn jwt_round_trip() {
    let mut t = sample();
    t.expires_at = Some(far_future());
    t.extra.insert("team".into(), json!("blue"));
    let jwt = t.to_jwt(SECRET).unwrap();
    assert_eq!(ParticipantToken::from_jwt(&jwt, SECRET).unwrap(), t);
}

#[test]
fn header_is_hs256_jwt() {
    let jwt = sample().to_jwt(SECRET).unwrap();
    let header = jsonwebtoken::decode_header(&jwt).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert!(header.kid.is_none());
}

#[test]
fn accessors() {
    let t = sample();
    assert_eq!(t.room(), Some("demo"));
    assert_eq!(t.role(), "agent");
    assert_eq!(t.api(), Some(ApiScope::agent_default()));
    assert_eq!(t.version.as_deref(), Some(PROTOCOL_VERSION));

    let mut bare = ParticipantToken::new("bob");
    assert_eq!(bare.role(), "user");
    assert_eq!(bare.room(), None);
    assert_eq!(bare.api(), None);
    // The first role other than `user` wins, as the SDK's `role` property.
    bare.add_role_grant("user");
    bare.add_role_grant("tool");
    assert_eq!(bare.role(), "tool");
    // One api grant: a second replaces the first.
    bare.add_api_grant(ApiScope::full());
    bare.add_api_grant(ApiScope::user_default());
    assert_eq!(bare.grants.iter().filter(|g| g.name == "api").count(), 1);
    assert_eq!(bare.api(), Some(ApiScope::user_default()));
}

fn decode_sdk(jwt: &str) -> ParticipantToken {
    ParticipantToken::from_jwt(jwt, sdk::SECRET).unwrap()
}

#[test]
fn sdk_presets_verify_here() {
    for (jwt, name, scope) in [
        (
            sdk::AGENT_DEFAULT,
            "p-agent_default",
            ApiScope::agent_default(),
        ),
        (
            sdk::USER_DEFAULT,
            "p-user_default",
            ApiScope::user_default(),
        ),
        (sdk::FULL, "p-full", ApiScope::full()),
    ] {
        let t = decode_sdk(jwt);
        assert_eq!(t.name, name);
        assert_eq!(t.room(), Some("demo"));
        assert_eq!(t.role(), "agent");
        assert_eq!(t.project_id.as_deref(), Some("proj-1"));
        assert_eq!(t.version.as_deref(), Some("0.56.0"));
        assert_eq!(t.expires_at, None);
        assert!(t.extra.is_empty());
        assert_eq!(t.api(), Some(scope), "{name}");
    }
}

#[test]
fn sdk_custom_scope_verifies_here() {
    let t = decode_sdk(sdk::CUSTOM);
    assert_eq!(t.role(), "user");
    assert_eq!(t.expires_at, Some(far_future()));
    assert_eq!(t.extra.get("team"), Some(&json!("blue")));
    let api = t.api().unwrap();

    let q = api.queues.as_ref().unwrap();
    assert!(!q.list);
    assert!(q.can_send("jobs") && !q.can_send("results"));
    assert!(q.can_receive("results") && !q.can_receive("jobs"));

    let m = api.messaging.as_ref().unwrap();
    assert!(!m.broadcast && m.send && m.list);

    let d = api.dataset.as_ref().unwrap();
    assert!(!d.list_tables);
    assert!(d.can_read("t1", None) && d.can_write("t1", None) && !d.can_alter("t1", None));
    assert!(!d.can_read("other", None));
    let ns = ["ns".to_string()];
    assert!(d.can_alter("t2", Some(&ns)) && !d.can_alter("t2", None));

    let s = api.storage.as_ref().unwrap();
    assert!(s.can_read("public/a.txt") && !s.can_write("public/a.txt"));
    assert!(s.can_write("agents/bob/notes.md") && !s.can_read("elsewhere.txt"));

    let sync = api.sync.as_ref().unwrap();
    assert!(sync.can_read("docs/a") && !sync.can_write("docs/a"));
    assert!(sync.can_write("notes.md") && !sync.can_read("notes.md.bak"));

    let mem = api.memory.as_ref().unwrap();
    assert!(!mem.list && mem.can_query("kb", None) && !mem.can_drop("kb", None));

    assert!(!api.developer.as_ref().unwrap().logs);
    assert_eq!(api.secrets, Some(SecretsGrant {}));
    assert!(api.livekit.is_none() && api.llm.is_none() && api.containers.is_none());
}

#[test]
fn sdk_custom2_scope_verifies_here() {
    let t = decode_sdk(sdk::CUSTOM2);
    assert_eq!(t.role(), "tool");
    let api = t.api().unwrap();

    let s = api.storage.as_ref().unwrap();
    assert!(s.can_read("docs/a.txt") && !s.can_write("docs/a.txt"));
    assert!(!s.can_read("private/key.pem") && !s.can_list("private"));
    assert!(s.can_presign("uploads/x.bin") && s.can_delete("uploads", true));
    assert!(s.can_write("one.txt") && !s.can_write("one.txt/child"));

    let sq = api.sqlite.as_ref().unwrap();
    assert!(!sq.can_create_database() && sq.can_list_databases());
    assert!(sq.can_drop_database("app", None) && !sq.can_drop_database("other", None));
    assert!(sq.can_write("app", "users", None) && !sq.can_alter("app", "users", None));
    assert!(!sq.can_read("app", "orders", None));

    let c = api.containers.as_ref().unwrap();
    assert!(!c.logs && c.can_pull("docker.io/library/redis") && !c.can_pull("ghcr.io/x"));
    assert!(c.can_run("busybox") && !c.can_run("busybox:latest"));
    assert!(c.can_registry_list("abc") && !c.can_registry_list("b"));

    let llm = api.llm.as_ref().unwrap();
    assert!(llm.can_use_model("openai", "gpt-5") && !llm.can_use_model("anthropic", "x"));
    assert!(llm.can_use_provider("openai") && !llm.can_use_provider("anthropic"));

    let agents = api.agents.as_ref().unwrap();
    assert!(!agents.register_public_toolkit && agents.register_private_toolkit);
    assert!(agents.can_use_toolkit("weather") && !agents.can_use_toolkit("other"));

    assert!(!api.livekit.as_ref().unwrap().can_join_breakout_room("main"));
    assert!(api.livekit.as_ref().unwrap().can_join_breakout_room("side"));
    assert!(!api.services.as_ref().unwrap().list);
    assert!(!api.admin.as_ref().unwrap().config);
    assert_eq!(
        api.tunnels.as_ref().unwrap().ports,
        Some(vec!["8080".to_string()])
    );
}

/// Our claims JSON equals what the SDK's `to_json` writes for the same token.
#[test]
fn claims_match_the_sdk() {
    for (jwt, expected) in [
        (sdk::AGENT_DEFAULT, sdk::AGENT_DEFAULT_CLAIMS),
        (sdk::USER_DEFAULT, sdk::USER_DEFAULT_CLAIMS),
        (sdk::FULL, sdk::FULL_CLAIMS),
        (sdk::CUSTOM2, sdk::CUSTOM2_CLAIMS),
    ] {
        let expected: Value = serde_json::from_str(expected).unwrap();
        let ours = Value::Object(decode_sdk(jwt).to_claims().unwrap());
        assert_eq!(ours, expected);
    }
    // Built from scratch, not decoded: the presets serialize as the SDK's.
    for (name, scope, expected) in [
        (
            "p-agent_default",
            ApiScope::agent_default(),
            sdk::AGENT_DEFAULT_CLAIMS,
        ),
        (
            "p-user_default",
            ApiScope::user_default(),
            sdk::USER_DEFAULT_CLAIMS,
        ),
        ("p-full", ApiScope::full(), sdk::FULL_CLAIMS),
    ] {
        let mut t = ParticipantToken::new(name);
        t.project_id = Some("proj-1".into());
        t.add_room_grant("demo");
        t.add_role_grant("agent");
        t.add_api_grant(scope);
        let expected: Value = serde_json::from_str(expected).unwrap();
        assert_eq!(Value::Object(t.to_claims().unwrap()), expected, "{name}");
    }
    // `custom` carries `exp` on top of what `to_json` writes.
    let mut claims = decode_sdk(sdk::CUSTOM).to_claims().unwrap();
    assert_eq!(claims.remove("exp"), Some(json!(far_future())));
    let expected: Value = serde_json::from_str(sdk::CUSTOM_CLAIMS).unwrap();
    assert_eq!(Value::Object(claims), expected);
}

#[test]
fn sdk_api_key_token() {
    let key = ApiKey::parse(sdk::API_KEY).unwrap();
    let t = ParticipantToken::from_jwt(sdk::API_KEY_TOKEN, &key.secret).unwrap();
    assert_eq!(t.api_key_id.as_deref(), Some(key.id.as_str()));
    assert_eq!(t.project_id.as_deref(), Some(key.project_id.as_str()));
    assert_eq!(t.role(), "user");
}

#[test]
fn api_key_parsing_like_keys_py() {
    let key = ApiKey::parse(sdk::API_KEY).unwrap();
    assert_eq!(key.id, "6f1a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b");
    assert_eq!(key.project_id, "0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a");
    // Only the first two `-` after `ma-` split; the secret keeps its own.
    assert_eq!(key.secret, "sk-with-dashes-42");
    assert!(!format!("{key:?}").contains("sk-with"));

    // `.` stands for `-` in the base64 of the ids.
    let dotted = ApiKey::parse("ma-.....................w-AAAAAAAAAAAAAAAAAAAAAA-x").unwrap();
    assert_eq!(dotted.id, "fbefbefb-efbe-fbef-befb-efbefbefbefb");
    assert_eq!(dotted.project_id, "00000000-0000-0000-0000-000000000000");

    for bad in [
        "",
        "mb-bxobLD1OT1CKa3yNng8aKw-DZyLem9eTTybKh8OnYx7ag-s",
        "ma-bxobLD1OT1CKa3yNng8aKw-DZyLem9eTTybKh8OnYx7ag",
        "ma-bxobLD1OT1CKa3yNng8aKw-DZyLem9eTTybKh8OnYx7ag-",
        "ma-short-DZyLem9eTTybKh8OnYx7ag-s",
        "ma-bxobLD1OT1CKa3yNng8aKw-not*base64*at*all!!-s",
    ] {
        assert!(
            matches!(ApiKey::parse(bad), Err(AuthError::InvalidApiKey(_))),
            "{bad}"
        );
    }
}

#[test]
fn signing_key_prefers_a_valid_api_key() {
    let (secret, key) = signing_key_from(Some(sdk::API_KEY), Some("plain".into())).unwrap();
    assert_eq!(secret, "sk-with-dashes-42");
    assert!(key.is_some());
    let (secret, key) = signing_key_from(Some("ma-broken"), Some("plain".into())).unwrap();
    assert_eq!((secret.as_str(), key), ("plain", None));
    assert!(signing_key_from(None, None).is_none());
}

#[test]
fn wrong_secret_and_forged_signature_are_rejected() {
    let jwt = sample().to_jwt(SECRET).unwrap();
    assert!(matches!(
        ParticipantToken::from_jwt(&jwt, "another-secret"),
        Err(AuthError::BadSignature)
    ));
    assert!(matches!(
        ParticipantToken::from_jwt(sdk::FULL, SECRET),
        Err(AuthError::BadSignature)
    ));

    // Swap in claims granting more, keeping the old signature.
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut forged = sample();
    forged.add_api_grant(ApiScope::full());
    let forged_jwt = forged.to_jwt("attacker").unwrap();
    let forged_claims = forged_jwt.split('.').nth(1).unwrap();
    let spliced = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
    assert!(matches!(
        ParticipantToken::from_jwt(&spliced, SECRET),
        Err(AuthError::BadSignature)
    ));
}

#[test]
fn other_algorithms_are_rejected() {
    let claims = sample().to_claims().unwrap();
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert!(matches!(
        ParticipantToken::from_jwt(&hs512, SECRET),
        Err(AuthError::Algorithm(_))
    ));
    // alg "none": header {"alg":"none"} and no signature.
    let none = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        sample().to_jwt(SECRET).unwrap().split('.').nth(1).unwrap()
    );
    assert!(ParticipantToken::from_jwt(&none, SECRET).is_err());
}

fn signed(claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

#[test]
fn expiry_and_other_times() {
    assert!(matches!(
        ParticipantToken::from_jwt(sdk::EXPIRED, sdk::SECRET),
        Err(AuthError::Expired { exp: 999_993_600 })
    ));
    let mut t = sample();
    t.expires_at = Some(1);
    let jwt = t.to_jwt(SECRET).unwrap();
    assert!(matches!(
        ParticipantToken::from_jwt(&jwt, SECRET),
        Err(AuthError::Expired { exp: 1 })
    ));

    let base = json!({"name": "a", "grants": []});
    let with = |k: &str, v: Value| {
        let mut c = base.clone();
        c[k] = v;
        signed(c)
    };
    // `exp` is optional; PyJWT treats `exp == now` as expired already.
    assert!(ParticipantToken::from_jwt(&signed(base.clone()), SECRET).is_ok());
    let now = now();
    assert!(matches!(
        ParticipantToken::from_jwt(&with("exp", json!(now)), SECRET),
        Err(AuthError::Expired { .. })
    ));
    assert!(ParticipantToken::from_jwt(&with("exp", json!(now + 60)), SECRET).is_ok());
    assert!(ParticipantToken::from_jwt(&with("exp", json!(4.1e9)), SECRET).is_ok());
    assert!(matches!(
        ParticipantToken::from_jwt(&with("exp", json!("soon")), SECRET),
        Err(AuthError::Malformed(_))
    ));
    assert!(matches!(
        ParticipantToken::from_jwt(&with("nbf", json!(now + 600)), SECRET),
        Err(AuthError::NotYetValid { claim: "nbf" })
    ));
    assert!(matches!(
        ParticipantToken::from_jwt(&with("iat", json!(now + 600)), SECRET),
        Err(AuthError::NotYetValid { claim: "iat" })
    ));
    let past = ParticipantToken::from_jwt(&with("iat", json!(now - 5)), SECRET).unwrap();
    assert_eq!(past.extra.get("iat"), Some(&json!(now - 5)));
    assert!(matches!(
        ParticipantToken::from_jwt(&with("aud", json!("elsewhere")), SECRET),
        Err(AuthError::Audience)
    ));
}

#[test]
fn malformed_tokens() {
    let malformed = |jwt: &str| {
        let r = ParticipantToken::from_jwt(jwt, SECRET);
        assert!(matches!(r, Err(AuthError::Malformed(_))), "{jwt}: {r:?}");
    };
    malformed("");
    malformed("not a jwt");
    malformed("a.b.c");
    malformed(&signed(json!({"grants": []})));
    malformed(&signed(json!({"name": "  ", "grants": []})));
    malformed(&signed(json!({"name": 7, "grants": []})));
    malformed(&signed(json!({"name": "a"})));
    malformed(&signed(json!({"name": "a", "grants": {}})));
    malformed(&signed(json!({"name": "a", "grants": [{"name": "room"}]})));
    malformed(&signed(json!({"name": "a", "grants": ["room"]})));
    malformed(&signed(json!({"name": "a", "grants": [], "sub": 5})));
    // An api grant that is not an ApiScope.
    malformed(&signed(
        json!({"name": "a", "grants": [{"name": "api", "scope": "all"}]}),
    ));
    malformed(&signed(
        json!({"name": "a", "grants": [{"name": "api", "scope": {"queues": {"list": "yes"}}}]}),
    ));
    malformed(&signed(
        json!({"name": "a", "grants": [{"name": "api", "scope": {"secrets": {"x": 1}}}]}),
    ));
    // Claims that are not an object.
    malformed(&signed(json!([1])));

    // Empty secrets never sign nor verify.
    assert!(matches!(sample().to_jwt(""), Err(AuthError::EmptySecret)));
    assert!(matches!(
        ParticipantToken::from_jwt(sdk::FULL, ""),
        Err(AuthError::EmptySecret)
    ));
}

#[test]
fn unknown_grants_and_claims_survive() {
    let jwt = signed(json!({
        "name": "a",
        "grants": [
            {"name": "site", "scope": "s"},
            {"name": "tunnel_ports", "scope": "80,443"},
            {"name": "room", "scope": null}
        ],
        "custom": {"nested": [1, 2]},
    }));
    let t = ParticipantToken::from_jwt(&jwt, SECRET).unwrap();
    assert_eq!(t.room(), None);
    assert_eq!(t.version, None);
    assert_eq!(t.extra.get("custom"), Some(&json!({"nested": [1, 2]})));
    let again = ParticipantToken::from_jwt(&t.to_jwt(SECRET).unwrap(), SECRET).unwrap();
    assert_eq!(again, t);
}

/// The official SDK decodes tokens minted here, with the same grants. Needs Python with
/// meshagent-api 0.56.0:
/// `ROOMDECK_SDK_PYTHON=.../sdk-venv/bin/python cargo test --lib auth`. `.ci/run` sets it
/// (and CI=true makes its absence a failure); a plain `cargo test` without the SDK says so.
#[test]
fn sdk_decodes_our_tokens() {
    use std::io::Write;
    let Ok(python) = std::env::var("ROOMDECK_SDK_PYTHON") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set ROOMDECK_SDK_PYTHON to the SDK venv's python"
        );
        eprintln!(
            "sdk_decodes_our_tokens: ROOMDECK_SDK_PYTHON is not set; the SDK cross-check did not run"
        );
        return;
    };
    let scopes = [
        ApiScope::agent_default(),
        ApiScope::user_default(),
        ApiScope::full(),
        decode_sdk(sdk::CUSTOM).api().unwrap(),
        decode_sdk(sdk::CUSTOM2).api().unwrap(),
    ];
    let mut cases = Vec::new();
    for (i, scope) in scopes.into_iter().enumerate() {
        let mut t = ParticipantToken::new(format!("p{i}"));
        t.add_room_grant("demo");
        t.add_role_grant(["agent", "user", "tool"][i % 3]);
        t.project_id = Some("local".into());
        t.api_key_id = Some("kid-1".into());
        t.expires_at = Some(far_future());
        t.extra.insert("team".into(), json!("blue"));
        t.add_api_grant(scope.clone());
        cases.push(json!({
            "jwt": t.to_jwt(SECRET).unwrap(),
            "name": t.name, "role": t.role(), "scope": scope,
        }));
    }
    let script = r#"
import json, sys
from meshagent.api.participant_token import ParticipantToken, ApiScope
secret, cases = sys.argv[1], json.load(sys.stdin)
for c in cases:
    t = ParticipantToken.from_jwt(c["jwt"], token=secret)
    assert t.name == c["name"] and t.role == c["role"], t.to_json()
    assert t.grant_scope("room") == "demo" and t.project_id == "local"
    assert t.extra_payload == {"team": "blue", "exp": 4102444800}, t.extra_payload
    assert t.get_api_grant() == ApiScope.model_validate(c["scope"]), c["name"]
    dumped = t.get_api_grant().model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    assert dumped == c["scope"], (dumped, c["scope"])
print("ok", len(cases))
"#;
    let mut child = std::process::Command::new(python)
        .args(["-c", script, SECRET])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_vec(&cases).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.starts_with("ok 5"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
