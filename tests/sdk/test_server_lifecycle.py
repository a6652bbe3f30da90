"""The server process itself: what survives a crash, and a clean stop with clients attached."""

import asyncio
import signal

import pytest

from helpers import room_client, run


def test_queued_items_survive_a_killed_server(start_server, room):
    first = start_server()
    messages = [{"n": n, "text": f"item {n}"} for n in range(5)]

    async def send_all():
        async with room_client(first, room, "alice") as alice:
            for message in messages:
                await alice.queues.send(name="durable", message=message)
            # every send was acknowledged: the items must be on disk now
            return {q.name: q.size for q in await alice.queues.list()}

    assert run(send_all()) == {"durable": len(messages)}
    first.kill()  # SIGKILL: no shutdown, no flush

    second = start_server(first.data_dir)

    async def receive_all():
        async with room_client(second, room, "bob") as bob:
            assert {q.name: q.size for q in await bob.queues.list()} == {"durable": len(messages)}
            received = [await bob.queues.receive(name="durable", wait=False) for _ in messages]
            assert received == messages
            assert await bob.queues.receive(name="durable", wait=False) is None

    run(receive_all())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_server_exits_cleanly_with_a_client_connected(start_server, room, sig):
    srv = start_server()

    async def scenario():
        async with room_client(srv, room, "alice") as alice:
            await alice.queues.send(name="q", message={"n": 1})
            code = await asyncio.to_thread(srv.stop, sig)
            assert code == 0, f"exit code {code} after {sig.name} (None = still running)\n{srv.log_tail()}"

    run(scenario())
