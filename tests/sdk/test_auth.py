"""Tokens: who gets in, and what a token's API grant allows."""

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from meshagent.api import RoomException
from meshagent.api.participant_token import ApiScope, MessagingGrant, ParticipantToken

from helpers import (
    SECRET,
    enable_messaging,
    expect_refused,
    make_token,
    on_message,
    roomdeck,
    room_client,
    run,
)

REFUSED_TOKENS = {
    "forged": lambda room: make_token("mallory", room, secret="not-the-server-secret-but-long-enough"),
    # well past any clock-skew leeway a server may allow
    "expired": lambda room: make_token(
        "late", room, expiration=datetime.now(timezone.utc) - timedelta(hours=1)
    ),
    "other-room": lambda room: make_token("lost", room + "-elsewhere"),
    "none": lambda room: None,  # no Authorization header at all
}


@pytest.mark.parametrize("kind", REFUSED_TOKENS)
def test_bad_tokens_are_refused_before_the_upgrade(server, room, kind):
    # reconnect_timeout=None is the SDK's default (and the CLI's): only HTTP 403/404/423 stop
    # its retry loop (rsc.py:1201-1215), anything else would hang here.
    async def scenario():
        client = room_client(server, room, token=REFUSED_TOKENS[kind](room), reconnect_timeout=None)
        refused = await expect_refused(client, timeout=5)
        assert "403" in str(refused), refused

    run(scenario())


def test_a_token_without_the_queues_grant_is_denied_queues_but_keeps_messaging(server, room):
    async def scenario():
        only_messaging = ApiScope(messaging=MessagingGrant())
        async with (
            room_client(server, room, "limited", scope=only_messaging) as limited,
            room_client(server, room, "peer") as peer,
        ):
            with pytest.raises(RoomException) as raised:
                await asyncio.wait_for(limited.queues.list(), 5)
            assert raised.value.code == 1001, raised.value

            # the refusal did not cost the connection
            at_peer = on_message(peer)
            await enable_messaging(limited, peer)
            await limited.messaging.send_message(
                to=limited.messaging.get_participant(peer.local_participant.id),
                type="after-denial",
                message={"ok": True},
            )
            got = await at_peer.wait_for(lambda m: m.type == "after-denial", what="the message at peer")
            assert got.message == {"ok": True}

    run(scenario())


def mint(*args: str) -> str:
    done = roomdeck("token", *args, "--secret", SECRET)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line (the JWT), got {done.stdout!r}"
    return lines[0].strip()


def test_roomdeck_token_is_accepted_by_the_sdk_and_the_server(server, room):
    token = mint("--room", room, "--name", "minted")
    # the SDK itself can read it back
    parsed = ParticipantToken.from_jwt(token, token=SECRET)
    assert parsed.name == "minted"
    assert parsed.grant_scope("room") == room

    async def scenario():
        async with room_client(server, room, token=token) as client:
            assert client.room_name == room
            await client.queues.send(name="from-minted", message={"n": 1})
            assert {q.name: q.size for q in await client.queues.list()} == {"from-minted": 1}

    run(scenario())


def test_roomdeck_token_role_scope_file_and_ttl(server, room, tmp_path):
    scope_file = tmp_path / "scope.json"
    scope_file.write_text(json.dumps({"messaging": {}}))
    before = time.time()
    token = mint(
        "--room", room, "--name", "narrow", "--role", "agent",
        "--scope", f"@{scope_file}", "--ttl", "600",
    )
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert before + 600 - 30 <= claims["exp"] <= time.time() + 600 + 30, claims

    async def scenario():
        async with (
            room_client(server, room, token=token) as narrow,
            room_client(server, room, "peer") as peer,
        ):
            with pytest.raises(RoomException) as raised:
                await asyncio.wait_for(narrow.queues.list(), 5)
            assert raised.value.code == 1001, raised.value
            await enable_messaging(narrow, peer)
            seen = peer.messaging.get_participant(narrow.local_participant.id)
            assert seen.role == "agent"

    run(scenario())
