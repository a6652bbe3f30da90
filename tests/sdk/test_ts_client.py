"""The official MeshAgent TypeScript client (`@meshagent/meshagent` from npm, pinned in
tests/ts/package.json, run with this machine's Node.js) in a roomdeck room: it joins with its
token as `?token=`, exchanges messages with a Python SDK participant, and uses the `secrets`
toolkit. The Python SDK (0.56.0) has no secrets client; its raw `invoke` shows the grant check:
a token without `secrets` in its scope is refused with 1001.

Needs `npm ci --prefix tests/ts` first (.ci/run does it)."""

import asyncio
import json
import os
import shutil
from pathlib import Path

from meshagent.api import RoomException
from meshagent.api.participant_token import ApiScope, SecretsGrant

from helpers import WAIT, enable_messaging, make_token, room_client, run

TS_DIR = Path(__file__).resolve().parent.parent / "ts"


def owner_scope() -> ApiScope:
    scope = ApiScope.full()
    scope.secrets = SecretsGrant()
    return scope


async def start_ts_participant(server, room: str) -> asyncio.subprocess.Process:
    node = shutil.which("node")
    assert node, "Node.js is needed for the TypeScript client scenario"
    assert (TS_DIR / "node_modules" / "@meshagent" / "meshagent").is_dir(), (
        "the TypeScript client is not installed: run `npm ci --prefix tests/ts`"
    )
    env = {
        **os.environ,
        "MESHAGENT_ROOM": room,
        "MESHAGENT_ROOM_URL": server.url,
        "MESHAGENT_TOKEN": make_token("ts-client", room, scope=owner_scope()),
    }
    return await asyncio.create_subprocess_exec(
        node, str(TS_DIR / "scenario.mjs"), cwd=TS_DIR, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def next_step(proc: asyncio.subprocess.Process, step: str) -> dict:
    """Reads the scenario's JSON lines until `step`; an `error` line fails with its message."""
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        if not line:
            err = (await proc.stderr.read()).decode(errors="replace")[-2000:]
            raise AssertionError(f"the TS client ended before `{step}`\n{err}")
        event = json.loads(line)
        if event["step"] == "error":
            raise AssertionError(f"the TS client failed: {event['message']}")
        if event["step"] == step:
            return event


def test_the_typescript_client_talks_to_python_and_uses_secrets(server, room):
    async def scenario():
        proc = await start_ts_participant(server, room)
        try:
            async with room_client(server, room, "py") as py:
                await next_step(proc, "messaging_enabled")
                await enable_messaging(py)
                pong = asyncio.get_running_loop().create_future()

                def on_message(message):
                    if message.type == "pong" and not pong.done():
                        pong.set_result(message.message)

                py.messaging.on("message", on_message)
                deadline = asyncio.get_running_loop().time() + WAIT
                ts = None
                while ts is None:
                    ts = next((p for p in py.messaging.get_participants() if p.get_attribute("name") == "ts-client"), None)
                    assert ts is not None or asyncio.get_running_loop().time() < deadline, "the TS client never appeared"
                    await asyncio.sleep(0.05)
                await py.messaging.send_message(to=ts, type="ping", message={"n": 7})
                assert await asyncio.wait_for(pong, WAIT) == {"echo": 7}
                assert (await next_step(proc, "ponged"))["n"] == 7

                secret = await next_step(proc, "secret")
                assert secret["value"] == "s3cr3t-from-ts"
                assert secret["exists"] is True
                assert "ts-key" in secret["listed"]
                assert (await next_step(proc, "secret_deleted"))["exists"] is False
                await next_step(proc, "done")
            assert await asyncio.wait_for(proc.wait(), WAIT) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()

    run(scenario())


def test_secrets_need_the_secrets_grant(server, room):
    async def scenario():
        async with room_client(server, room, "owner", scope=owner_scope()) as owner:
            await owner.invoke(toolkit="secrets", tool="list_secrets", input={})
        async with room_client(server, room, "agent") as agent:
            try:
                await agent.invoke(toolkit="secrets", tool="list_secrets", input={})
                raise AssertionError("an agent_default token must not reach secrets")
            except RoomException as e:
                assert e.code == 1001, e

    run(scenario())
