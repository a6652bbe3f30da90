"""Participants' JSON is relayed exactly: a float the issue saw changed (1.5e-300 came back
as 1.4999999999999998e-300), integers beyond 64 bits, unicode and deep nesting reach the
receiver value for value, in a message, a broadcast, a queue item and an attachment-bearing
message."""

from helpers import enable_messaging, on_message, room_client, run

PAYLOAD = {
    "tiny": 1.5e-300,
    "floats": [0.1, 1e308, 5e-324, -2.5e-10, 123456789.123456789],
    "big": 2**70,
    "negative_big": -(2**65),
    "text": "ünïcödé ✓ \u0000 \"quoted\" 🎉",
    "deep": [[[[[[[[[[{"x": 1.5e-300}]]]]]]]]]],
}


def test_a_message_and_a_broadcast_arrive_value_for_value(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
        ):
            at_bob = on_message(bob)
            await enable_messaging(alice, bob)
            await alice.messaging.send_message(
                to=alice.messaging.get_participant(bob.local_participant.id),
                type="exact", message=PAYLOAD, attachment=b"\x00\x01",
            )
            await alice.messaging.broadcast_message(type="exact-all", message=PAYLOAD)
            got = await at_bob.wait_for(lambda m: m.type == "exact", what="the direct message")
            assert got.message == PAYLOAD
            assert got.message["tiny"] == 1.5e-300 and type(got.message["big"]) is int
            all_ = await at_bob.wait_for(lambda m: m.type == "exact-all", what="the broadcast")
            assert all_.message == PAYLOAD

    run(scenario())


def test_a_queue_item_comes_back_value_for_value(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            await alice.queues.send(name="exact", message=PAYLOAD, create=True)
            got = await alice.queues.receive(name="exact", wait=False)
            assert got == PAYLOAD
            assert repr(got["tiny"]) == "1.5e-300"

    run(scenario())
