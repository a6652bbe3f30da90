"""Joining a room and messaging presence, as two or three SDK clients see each other."""

import asyncio
import contextlib

from helpers import Inbox, enable_messaging, eventually, room_client, run


def test_two_participants_join_with_their_own_identities(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
        ):
            for client in (alice, bob):
                assert client.room_name == room
                assert isinstance(client.room_url, str)
                assert isinstance(client.session_id, str) and client.session_id
                assert client.local_participant is not None
                assert client.local_participant.id
            assert alice.local_participant.id != bob.local_participant.id

    run(scenario())


def test_participant_name_attribute_comes_from_the_token(server, room):
    # The SDK's own fakes give every participant attributes {"name": ...}
    # (room_server_client_test.py:967) and get_participant_by_name reads it (rsc.py:4658).
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
        ):
            assert alice.local_participant.get_attribute("name") == "alice"
            await enable_messaging(alice, bob)
            found = alice.messaging.get_participant_by_name("bob")
            assert found is not None and found.id == bob.local_participant.id

    run(scenario())


def test_messaging_presence_both_ways(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            added = Inbox()
            alice.messaging.on("participant_added", added.handler("participant"))
            await alice.messaging.enable()
            await eventually(lambda: alice.messaging.online, what="alice online")
            assert alice.messaging.get_participants() == []

            async with room_client(server, room, "bob", role="agent") as bob:
                bob_id = bob.local_participant.id
                await bob.messaging.enable()

                # alice is told that bob arrived, with his role
                joined = await added.wait_for(
                    lambda p: p.id == bob_id, what="participant_added for bob at alice"
                )
                assert joined.role == "agent"
                assert alice.messaging.get_participant(bob_id) is not None

                # bob finds alice already there when he comes online
                await eventually(lambda: bob.messaging.online, what="bob online")
                seen_by_bob = bob.messaging.get_participants()
                assert [p.id for p in seen_by_bob] == [alice.local_participant.id]
                assert seen_by_bob[0].role == "user"  # no role grant => user

    run(scenario())


def test_participants_enabling_at_the_same_time_all_see_each_other(server, room):
    # Agents typically call messaging.enable() right after connecting, all at once. Each
    # client must end up seeing every other one, whatever order the server handles them in:
    # the SDK replaces its whole participant list when its own `messaging.enabled` arrives
    # (rsc.py:5428-5440, `_on_messaging_enabled` clears it first), so that list must not be
    # older than any `participant.enabled` the server sent the same client before it.
    async def scenario():
        for round_no in range(15):
            clients = [room_client(server, f"{room}-{round_no}", f"p{i}") for i in range(10)]
            async with contextlib.AsyncExitStack() as stack:
                histories = {}
                for client in clients:
                    await stack.enter_async_context(client)
                    histories[client] = presence_history(client)
                await asyncio.gather(*(client.messaging.enable() for client in clients))
                everyone = {client.local_participant.id for client in clients}
                for client in clients:
                    me = client.local_participant.id
                    try:
                        await eventually(
                            lambda: client.messaging.online
                            and {p.id for p in client.messaging.get_participants()} == everyone - {me},
                            what=f"round {round_no}: {me} to see all {len(everyone) - 1} others",
                        )
                    except AssertionError as ex:
                        raise AssertionError(f"{ex}; what it was told, in order: {histories[client]}") from None

    run(scenario(), timeout=100)


def presence_history(client) -> list[str]:
    """What a client's messaging was told about presence, in arrival order."""
    history = []
    client.messaging.on("participant_added", lambda participant: history.append(f"added {participant.id[:6]}"))
    client.messaging.on(
        "messaging_enabled",
        lambda: history.append(
            "messaging.enabled with [" + " ".join(p.id[:6] for p in client.messaging.get_participants()) + "]"
        ),
    )
    return history


def test_attributes_set_by_one_are_seen_by_the_others(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
        ):
            await enable_messaging(alice, bob)
            alice_id = alice.local_participant.id
            updated = Inbox()
            bob.messaging.on("participant_attributes_updated", updated.handler("participant"))

            alice.local_participant.set_attribute("status", "busy")

            await updated.wait_for(
                lambda p: p.id == alice_id and p.get_attribute("status") == "busy",
                what="participant_attributes_updated for alice at bob",
            )
            assert bob.messaging.get_participant(alice_id).get_attribute("status") == "busy"

            # someone who comes online later gets the current attributes too
            async with room_client(server, room, "carol") as carol:
                await enable_messaging(alice, bob, carol)
                assert carol.messaging.get_participant(alice_id).get_attribute("status") == "busy"

    run(scenario())


def test_leaving_is_seen_as_participant_removed(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            removed = Inbox()
            alice.messaging.on("participant_removed", removed.handler("participant"))
            async with room_client(server, room, "bob") as bob:
                bob_id = bob.local_participant.id
                await enable_messaging(alice, bob)
            # bob has left the room
            await removed.wait_for(lambda p: p.id == bob_id, what="participant_removed for bob")
            assert alice.messaging.get_participant(bob_id) is None
            assert alice.messaging.get_participants() == []

    run(scenario())
