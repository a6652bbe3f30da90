"""Containers against the official SDK: on a machine without a usable container engine,
`room.containers` calls fail with DEPENDENCY_MISSING (1007) and a sentence saying what is
missing, a token without the containers grant is refused with 1001 first, and the room
keeps serving.

The server's engine is pinned (ROOMDECK_CONTAINER_CLI) to a CLI that does not exist, so the
scenario does not depend on what this machine has installed."""

import asyncio

from meshagent.api import RoomException
from meshagent.api.participant_token import ApiScope

from helpers import room_client, run

NO_ENGINE = {"ROOMDECK_CONTAINER_CLI": "roomdeck-test-no-such-engine"}


async def refused(call) -> RoomException:
    try:
        await call
    except RoomException as e:
        return e
    raise AssertionError("the call must be refused")


def test_without_an_engine_every_call_says_what_is_missing(start_server, room):
    server = start_server(env=NO_ENGINE)

    async def scenario():
        async with room_client(server, room, "alice") as alice:
            for call in (
                alice.containers.list(all=True),
                alice.containers.list_images(),
                alice.containers.run(image="busybox", command="echo hi"),
                alice.containers.stop(container_id="c1"),
                alice.containers.wait_for_exit(container_id="c1"),
            ):
                e = await refused(call)
                assert e.code == 1007, e
                assert "neither podman nor docker" in str(e), e

            logs = alice.containers.logs(container_id="c1", follow=True)
            e = await refused(asyncio.wait_for(logs.result, 10))
            assert e.code == 1007, e

            # The room goes on serving.
            await alice.queues.send(name="after", message={"ok": True}, create=True)
            assert (await alice.queues.receive(name="after", wait=False)) == {"ok": True}

    run(scenario())


def test_a_token_without_the_containers_grant_is_refused(start_server, room):
    server = start_server(env=NO_ENGINE)
    scope = ApiScope.agent_default()
    scope.containers = None

    async def scenario():
        async with room_client(server, room, "bob", scope=scope) as bob:
            e = await refused(bob.containers.list())
            assert e.code == 1001, e

    run(scenario())
