"""`room.messaging.stream(...)`: a two-way stream of messages between two SDK clients, the
receiver asked through `stream_requested` and answering with `accept()` or `reject()`."""

import asyncio

import pytest
from meshagent.api import RoomException
from meshagent.api.participant_token import ApiScope, MessagingGrant
from meshagent.api.room_server_client import (
    IncomingMessagingStreamRequest,
    MessagingStream,
    MessagingStreamClientDisconnected,
    MessagingStreamClosed,
    RoomMessage,
)
from meshagent.api.participant import Participant

from helpers import WAIT, Inbox, enable_messaging, eventually, room_client, run


def on_stream_requested(client) -> Inbox:
    """Every `stream_requested` the client is asked (IncomingMessagingStreamRequest)."""
    inbox = Inbox()
    client.messaging.on("stream_requested", inbox.handler("request"))
    return inbox


async def events_until(stream: MessagingStream, predicate, *, what: str) -> list:
    """Events of `stream` up to and including the first that matches `predicate`."""
    seen = []
    try:
        async with asyncio.timeout(WAIT):
            while True:
                event = await stream.receive()
                if event is None:
                    raise AssertionError(f"the stream ended before {what}; got {seen!r}")
                seen.append(event)
                if predicate(event):
                    return seen
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}; got {seen!r}") from None


def stream_to(sender, receiver, type: str = "call", message: dict | None = None):
    """sender.messaging.stream(...) to receiver, as a coroutine."""
    return sender.messaging.stream(
        to=sender.messaging.get_participant(receiver.local_participant.id),
        type=type,
        message=message or {},
    )


async def refused_stream(sender, receiver) -> RoomException:
    """A stream sender -> receiver that must fail; the error it failed with."""
    with pytest.raises(RoomException) as raised:
        await asyncio.wait_for(stream_to(sender, receiver), WAIT)
    return raised.value


async def open_accepted(alice, bob, requests: Inbox, *, message: dict):
    """alice opens a stream to bob, bob accepts: (alice's stream, bob's stream, the request)."""
    opening = asyncio.create_task(
        alice.messaging.stream(
            to=alice.messaging.get_participant(bob.local_participant.id),
            type="call",
            message=message,
            attachment=b"\x00hello\xff",
        )
    )
    request: IncomingMessagingStreamRequest = await requests.wait_for(
        lambda r: not r.accepted and not r.closed, what="a new stream request at bob"
    )
    at_bob = await request.accept()
    at_alice = await asyncio.wait_for(opening, WAIT)
    return at_alice, at_bob, request


def test_accepted_stream_carries_messages_both_ways_in_order(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
        ):
            requests = on_stream_requested(bob)
            await enable_messaging(alice, bob)
            alice_id, bob_id = alice.local_participant.id, bob.local_participant.id

            at_alice, at_bob, request = await open_accepted(
                alice, bob, requests, message={"topic": "sync", "x": 1.5e-300}
            )
            assert request.from_participant_id == alice_id
            assert request.type == "call"
            assert request.message == {"topic": "sync", "x": 1.5e-300}
            assert request.attachment == b"\x00hello\xff"
            assert at_alice.stream_id == at_bob.stream_id == request.stream_id
            assert at_alice.remote_participant_id == bob_id
            assert at_bob.remote_participant_id == alice_id

            for n in range(20):
                await at_alice.send_message(type="up", message={"n": n}, attachment=bytes([n]))
            for n in range(20):
                await at_bob.send_message(type="down", message={"n": n, "text": "ünïcode ✓"})

            got_bob = await events_until(at_bob, lambda e: getattr(e, "message", {}).get("n") == 19, what="bob's 20th chunk")
            assert [(e.type, e.message["n"], e.attachment) for e in got_bob] == [
                ("up", n, bytes([n])) for n in range(20)
            ]
            assert all(e.from_participant_id == alice_id for e in got_bob)
            got_alice = await events_until(at_alice, lambda e: getattr(e, "message", {}).get("n") == 19, what="alice's 20th chunk")
            assert [(e.type, e.message) for e in got_alice] == [
                ("down", {"n": n, "text": "ünïcode ✓"}) for n in range(20)
            ]
            assert all(isinstance(e, RoomMessage) and e.from_participant_id == bob_id for e in got_alice)

            # alice closes: bob is told the initiating side went away, and his stream ends
            await at_alice.close()
            closed = await events_until(
                at_bob, lambda e: isinstance(e, MessagingStreamClientDisconnected), what="the close at bob"
            )
            assert closed[-1].participant_id == alice_id
            assert await asyncio.wait_for(at_bob.receive(), WAIT) is None
            assert at_bob.closed

            # the connection is still good for the next stream
            again, at_bob2, _ = await open_accepted(alice, bob, requests, message={"round": 2})
            await again.send_message(type="up", message={"round": 2})
            got = await events_until(at_bob2, lambda e: isinstance(e, RoomMessage), what="round 2")
            assert got[-1].message == {"round": 2}
            # and the receiver can close too: alice sees bob disconnect
            await at_bob2.close()
            ended = await events_until(
                again, lambda e: isinstance(e, MessagingStreamClientDisconnected), what="the close at alice"
            )
            assert ended[-1].participant_id == bob_id

    run(scenario())


def test_rejected_stream_fails_the_call_with_the_receivers_message(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
        ):
            await enable_messaging(alice, bob)

            def reject(request):
                asyncio.get_running_loop().create_task(request.reject(message="bob is busy right now"))

            bob.messaging.on("stream_requested", reject)
            assert "bob is busy right now" in str(await refused_stream(alice, bob))

    run(scenario())


@pytest.mark.parametrize("leaver", ["receiver", "initiator"])
def test_the_other_side_leaving_mid_stream_ends_it(server, room, leaver):
    async def scenario():
        async with room_client(server, room, "stayer") as stayer:
            leaving = room_client(server, room, "leaver")
            await leaving.__aenter__()
            try:
                if leaver == "receiver":
                    alice, bob = stayer, leaving
                else:
                    alice, bob = leaving, stayer
                requests = on_stream_requested(bob)
                await enable_messaging(alice, bob)
                at_alice, at_bob, _ = await open_accepted(alice, bob, requests, message={})
                await at_alice.send_message(type="up", message={"n": 1})
                await events_until(at_bob, lambda e: isinstance(e, RoomMessage), what="the first chunk")
                leaving_id = leaving.local_participant.id
            finally:
                await leaving.__aexit__(None, None, None)

            at_stayer = at_alice if leaver == "receiver" else at_bob
            ended = await events_until(
                at_stayer,
                lambda e: isinstance(e, (MessagingStreamClientDisconnected, MessagingStreamClosed)),
                what="the other side's departure",
            )
            assert isinstance(ended[-1], MessagingStreamClientDisconnected), ended
            assert ended[-1].participant_id == leaving_id
            assert await asyncio.wait_for(at_stayer.receive(), WAIT) is None
            with pytest.raises(RoomException):
                await at_stayer.send_message(type="up", message={"late": True})

    run(scenario())


def test_stream_to_someone_not_in_the_room_is_not_found(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            ghost = Participant(id="no-such-participant", attributes={})
            with pytest.raises(RoomException) as raised:
                await asyncio.wait_for(
                    alice.messaging.stream(to=ghost, type="call", message={}), WAIT
                )
            assert "not in the room" in str(raised.value)

    run(scenario())


def test_a_participant_without_the_send_grant_cannot_open_a_stream(server, room):
    async def scenario():
        no_send = ApiScope(messaging=MessagingGrant(send=False))
        async with (
            room_client(server, room, "limited", scope=no_send) as limited,
            room_client(server, room, "bob") as bob,
        ):
            requests = on_stream_requested(bob)
            await enable_messaging(limited, bob)
            refused = await refused_stream(limited, bob)
            assert refused.code == 1001, refused
            assert "denied" in str(refused)

            # bob was never asked: a stream he is asked for after the refusal is the first
            other = room_client(server, room, "other")
            async with other:
                await enable_messaging(other, bob)
                opening = asyncio.create_task(stream_to(other, bob, type="barrier"))
                first = await requests.wait_for(lambda r: True, what="the barrier request")
                assert first.type == "barrier"
                await first.reject()
                with pytest.raises(RoomException):
                    await asyncio.wait_for(opening, WAIT)
            assert len(requests.items) == 1

    run(scenario())


def test_roomdeck_cli_streams_stdin_lines_to_an_sdk_participant(server, room):
    """`roomdeck room messaging stream`: stdin lines go out as messages, what the SDK side
    sends back is printed, and EOF closes the stream (the SDK side sees the close)."""
    from helpers import make_token, roomdeck_bin

    async def scenario():
        async with room_client(server, room, "bob") as bob:
            streams: list[MessagingStream] = []

            async def echo(request):
                stream = await request.accept()
                streams.append(stream)
                async for event in stream:
                    if isinstance(event, RoomMessage):
                        await stream.send_message(type="echo", message={"got": event.message})

            bob.messaging.on(
                "stream_requested",
                lambda request: asyncio.get_running_loop().create_task(echo(request)),
            )
            cli = await asyncio.create_subprocess_exec(
                roomdeck_bin(), "room", "--room", room, "--url", server.url,
                "--token", make_token("rd", room), "messaging", "stream",
                "--to-participant-id", bob.local_participant.id, "--data", '{"hello": true}',
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                assert cli.stdin is not None and cli.stdout is not None
                cli.stdin.write(b"hello there\n")
                await cli.stdin.drain()
                first = await asyncio.wait_for(cli.stdout.readline(), WAIT)
                assert first.decode().strip() == 'echo: {"got":{"text":"hello there"}}'
                cli.stdin.write(b'{"x": 1.5e-300, "big": 1180591620717411303424}\n')
                await cli.stdin.drain()
                second = await asyncio.wait_for(cli.stdout.readline(), WAIT)
                assert second.decode().strip() == 'echo: {"got":{"big":1180591620717411303424,"x":1.5e-300}}'
                cli.stdin.close()
                assert await asyncio.wait_for(cli.wait(), WAIT) == 0
            finally:
                if cli.returncode is None:
                    cli.kill()
                    await cli.wait()
            await eventually(lambda: streams and streams[0].closed, what="bob to see the CLI close")

    run(scenario())


def test_the_rooms_log_shows_each_stream_with_who_and_how_many_messages(server, room):
    from helpers import LogStream, otel_records
    from test_developer import stream_is_live

    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
            room_client(server, room, "watcher") as watcher,
            LogStream(watcher) as logs,
        ):
            await stream_is_live(alice, logs)
            requests = on_stream_requested(bob)
            await enable_messaging(alice, bob)
            at_alice, at_bob, _ = await open_accepted(alice, bob, requests, message={})
            sid = at_alice.stream_id
            opened = f"messaging stream {sid} opened: alice -> bob"
            await logs.wait_for(lambda e: any(b == opened for _, b in otel_records(e)), what=opened)
            for n in range(3):
                await at_alice.send_message(type="up", message={"n": n})
            await at_bob.send_message(type="down", message={})
            await events_until(at_bob, lambda e: getattr(e, "message", {}).get("n") == 2, what="bob's 3rd")
            await events_until(at_alice, lambda e: isinstance(e, RoomMessage), what="alice's reply")
            await at_alice.close()
            closed = f"messaging stream {sid} closed: alice -> bob, 3 messages sent, 1 received"
            await logs.wait_for(lambda e: any(b == closed for _, b in otel_records(e)), what=closed)

    run(scenario())
