# Mints the SDK fixtures in sdk_fixtures.rs: /tmp/sdkvenv/bin/python mint_fixtures.py
# (meshagent-api 0.56.0). Prints NAME = "value" lines; the JWTs carry no exp except
# `custom` (2100) and `expired` (2001), so they stay valid fixtures.
import json, uuid
from datetime import datetime, timezone
from meshagent.api.participant_token import *
from meshagent.api.file_permissions import *
from meshagent.api.keys import encode_api_key, parse_api_key, ApiKey

SECRET = "roomdeck-test-secret-0123456789abcdef"

def tok(name, role, scope, extra=None, project="proj-1"):
    t = ParticipantToken(name=name, project_id=project, extra_payload=extra)
    t.add_room_grant("demo")
    t.add_role_grant(role)
    t.add_api_grant(scope)
    return t

out = {}
for preset in ["agent_default", "user_default", "full"]:
    t = tok("p-" + preset, "agent", getattr(ApiScope, preset)())
    out[preset] = t.to_jwt(token=SECRET)
    out[preset + "_claims"] = json.dumps(t.to_json(), separators=(",", ":"))

custom = ApiScope(
    queues=QueuesGrant(send=["jobs"], receive=["results"], list=False),
    messaging=MessagingGrant(broadcast=False),
    dataset=DatasetGrant(tables=[TableGrant(name="t1", write=True), TableGrant(name="t2", namespace=["ns"], alter=True)], list_tables=False),
    storage=StorageGrant(paths=[StoragePathGrant(path="public", read_only=True), StoragePathGrant(path="/agents/bob/")]),
    sync=SyncGrant(paths=[SyncPathGrant(path="docs/*", read_only=True), SyncPathGrant(path="notes.md")]),
    memory=MemoryGrant(list=False, memories=[MemoryEntryGrant(name="kb", permissions=MemoryPermissions(drop=False))]),
    developer=DeveloperGrant(logs=False),
    secrets=SecretsGrant(),
)
t = tok("custom", "user", custom, extra={"team": "blue"})
out["custom"] = t.to_jwt(token=SECRET, expiration=datetime(2100, 1, 1, tzinfo=timezone.utc))
out["custom_claims"] = json.dumps(t.to_json(), separators=(",", ":"))

custom2 = ApiScope(
    storage=StorageGrant(files=FilesPolicy(paths=[
        FilePathRule(path="", recursive=True, actions=["list", "read"], excluded_paths=["private"]),
        FilePathRule(path="uploads", recursive=True, actions=["list", "read", "write", "delete", "presign"]),
        FilePathRule(path="one.txt", recursive=False, actions=["read", "write"]),
    ])),
    sqlite=SqliteGrant(create_database=False, databases=[SqliteDatabaseGrant(name="app", drop=True, tables=[SqliteTableGrant(database="app", table="users", write=True)])]),
    containers=ContainersGrant(pull=["docker.io/library/*"], run=["busybox"], logs=False, registry=ContainerRegistryGrant(list=["a*"])),
    llm=LLMGrant(models=["openai/gpt-*"]),
    tunnels=TunnelsGrant(ports=["8080"]),
    agents=AgentsGrant(use_tools=True, allowed_toolkits=["weather"], register_public_toolkit=False),
    livekit=LivekitGrant(breakout_rooms=["side"]),
    services=ServicesGrant(list=False),
    admin=AdminGrant(config=False),
)
t = tok("custom2", "tool", custom2)
out["custom2"] = t.to_jwt(token=SECRET)
out["custom2_claims"] = json.dumps(t.to_json(), separators=(",", ":"))

t = tok("old", "agent", ApiScope.agent_default())
out["expired"] = t.to_jwt(token=SECRET, expiration=datetime(2001, 9, 9, tzinfo=timezone.utc))

key = ApiKey(id="6f1a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b", project_id="0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a", secret="sk-with-dashes-42")
enc = encode_api_key(key)
out["api_key"] = enc
p = parse_api_key(enc)
out["api_key_parsed"] = [p.id, p.project_id, p.secret]
t = ParticipantToken(name="keyed")
t.add_room_grant("demo")
t.add_api_grant(ApiScope.agent_default())
out["api_key_token"] = t.to_jwt(api_key=enc)
for k, v in out.items():
    print(k, "=", json.dumps(v))
