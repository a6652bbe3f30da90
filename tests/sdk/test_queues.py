"""Room queues through the SDK's QueuesClient (rsc.py:4424-4534)."""

import asyncio

import pytest
from meshagent.api import RoomException

from helpers import room_client, run


def sizes(queues) -> dict[str, int]:
    return {q.name: q.size for q in queues}


def test_send_list_receive(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            await alice.queues.send(name="jobs", message={"n": 1})
            await alice.queues.send(name="jobs", message={"n": 2, "text": "two"})
            assert sizes(await alice.queues.list()) == {"jobs": 2}

            assert await alice.queues.receive(name="jobs", wait=False) == {"n": 1}
            assert await alice.queues.receive(name="jobs", wait=False) == {"n": 2, "text": "two"}
            assert await alice.queues.receive(name="jobs", wait=False) is None
            assert sizes(await alice.queues.list()).get("jobs", 0) == 0

    run(scenario())


def test_items_sent_by_one_participant_are_received_by_another(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
        ):
            await alice.queues.send(name="work", message={"task": "wash"})
            assert sizes(await bob.queues.list()) == {"work": 1}
            assert await bob.queues.receive(name="work", wait=False) == {"task": "wash"}

    run(scenario())


def test_receive_with_wait_blocks_until_someone_sends(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
        ):
            waiting = asyncio.create_task(bob.queues.receive(name="inbox", wait=True))
            await asyncio.sleep(0.5)
            assert not waiting.done(), f"receive(wait=True) on an empty queue returned {waiting.result()!r}"

            await alice.queues.send(name="inbox", message={"wake": "up"})
            assert await asyncio.wait_for(waiting, 5) == {"wake": "up"}
            # the item was handed to the waiter, not left in the queue
            assert await alice.queues.receive(name="inbox", wait=False) is None

    run(scenario())


def test_drain_empties_a_queue(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            for n in range(3):
                await alice.queues.send(name="backlog", message={"n": n})
            assert sizes(await alice.queues.list()) == {"backlog": 3}
            assert await alice.queues.drain(name="backlog") is None
            assert sizes(await alice.queues.list()) == {"backlog": 0}
            assert await alice.queues.receive(name="backlog", wait=False) is None

    run(scenario())


def test_open_and_close(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            assert await alice.queues.open(name="opened") is None
            assert sizes(await alice.queues.list()) == {"opened": 0}
            await alice.queues.send(name="opened", message={"n": 1}, create=False)
            assert sizes(await alice.queues.list()) == {"opened": 1}
            assert await alice.queues.close(name="opened") is None
            await alice.queues.list()  # the connection still answers

    run(scenario())


def test_send_without_create_to_a_missing_queue_is_an_error(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            with pytest.raises(RoomException) as raised:
                await asyncio.wait_for(
                    alice.queues.send(name="missing", message={"n": 1}, create=False), 5
                )
            # any error code will do, but not the SDK's "unexpected response" (1100)
            assert raised.value.code != 1100, raised.value
            assert "missing" not in sizes(await alice.queues.list())

    run(scenario())


def test_queues_are_per_room(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room + "-other", "bob") as bob,
        ):
            await alice.queues.send(name="private", message={"n": 1})
            assert "private" not in sizes(await bob.queues.list())

    run(scenario())
