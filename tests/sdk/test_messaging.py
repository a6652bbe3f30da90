"""Direct and broadcast messages between SDK clients."""

import asyncio

import pytest
from meshagent.api import RoomException
from meshagent.api.participant import Participant

from helpers import enable_messaging, on_message, room_client, run

ATTACHMENT = bytes(range(256)) * 5  # 1280 bytes: more than one 1024-byte packet


def test_direct_message_reaches_only_its_target(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
            room_client(server, room, "carol") as carol,
        ):
            at_alice, at_bob, at_carol = on_message(alice), on_message(bob), on_message(carol)
            await enable_messaging(alice, bob, carol)
            alice_id, bob_id = alice.local_participant.id, bob.local_participant.id

            await alice.messaging.send_message(
                to=alice.messaging.get_participant(bob_id),
                type="chat",
                message={"text": "hello bob", "n": 1},
                attachment=ATTACHMENT,
            )
            got = await at_bob.wait_for(lambda m: m.type == "chat", what="the chat message at bob")
            assert got.from_participant_id == alice_id
            assert got.message == {"text": "hello bob", "n": 1}
            assert got.attachment == ATTACHMENT

            # a later message from bob to carol is a barrier: had carol been sent the chat, it
            # would have arrived first
            await bob.messaging.send_message(
                to=bob.messaging.get_participant(carol.local_participant.id),
                type="barrier",
                message={},
            )
            await at_carol.wait_for(lambda m: m.type == "barrier", what="the barrier at carol")
            assert at_carol.matching(lambda m: m.type == "chat") == []
            assert at_alice.matching(lambda m: m.type == "chat") == []

    run(scenario())


def test_broadcast_reaches_everyone_but_the_sender(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
            room_client(server, room, "carol") as carol,
        ):
            at_alice, at_bob, at_carol = on_message(alice), on_message(bob), on_message(carol)
            await enable_messaging(alice, bob, carol)
            alice_id = alice.local_participant.id

            await alice.messaging.broadcast_message(
                type="announce", message={"text": "hello all"}, attachment=b"\x00\xffbytes"
            )
            for inbox, name in ((at_bob, "bob"), (at_carol, "carol")):
                got = await inbox.wait_for(lambda m: m.type == "announce", what=f"the broadcast at {name}")
                assert got.from_participant_id == alice_id
                assert got.message == {"text": "hello all"}
                assert got.attachment == b"\x00\xffbytes"

            # barrier: a direct message to alice sent after the broadcast was delivered
            await bob.messaging.send_message(
                to=bob.messaging.get_participant(alice_id), type="barrier", message={}
            )
            await at_alice.wait_for(lambda m: m.type == "barrier", what="the barrier at alice")
            assert at_alice.matching(lambda m: m.type == "announce") == []

    run(scenario())


def test_message_to_a_participant_who_left_fails_with_not_found(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            async with room_client(server, room, "bob") as bob:
                bob_id = bob.local_participant.id
                await enable_messaging(alice, bob)
            # bob is gone. A plain Participant skips the SDK's own presence check
            # (rsc.py `_resolve_message_recipient`), so the server must answer 1003.
            with pytest.raises(RoomException) as raised:
                await asyncio.wait_for(
                    alice.messaging.send_message(
                        to=Participant(id=bob_id, attributes={}), type="chat", message={"text": "hi?"}
                    ),
                    5,
                )
            assert raised.value.code == 1003, raised.value

            # and the sender's connection still works
            await alice.messaging.broadcast_message(type="still-here", message={})

    run(scenario())


def test_message_to_an_unknown_participant_id_fails_with_not_found(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            await enable_messaging(alice)
            with pytest.raises(RoomException) as raised:
                await asyncio.wait_for(
                    alice.messaging.send_message(
                        to=Participant(id="no-such-participant", attributes={}),
                        type="chat",
                        message={},
                    ),
                    5,
                )
            assert raised.value.code == 1003, raised.value

    run(scenario())
