"""The room's recorded timeline (issue 14): what official SDK clients do in a room is in
`roomdeck sessions export`, call by call, and `roomdeck sessions replay` sends its messages
and queue items again into another room."""

import json

from meshagent.api import RoomException

from meshagent.api.participant_token import ApiScope

from helpers import enable_messaging, eventually, make_token, on_message, roomdeck, room_client, run


def session_of(server, room: str) -> str:
    out = roomdeck("--data-dir", str(server.data_dir), "sessions", "list", "--room", room, "-o", "json")
    assert out.returncode == 0, out.stderr
    sessions = json.loads(out.stdout)
    assert sessions, f"no session of {room}"
    assert sessions[0].get("recording"), f"the session has no recording: {sessions[0]}"
    return sessions[0]["id"]


def export(server, session: str) -> list[dict]:
    out = roomdeck("--data-dir", str(server.data_dir), "sessions", "export", session)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def calls(events: list[dict]) -> list[tuple[str, str, str]]:
    return [
        (e.get("participant", ""), e["toolkit"], e["tool"])
        for e in events
        if "duration_ms" in e
    ]


def test_the_timeline_holds_every_call_the_sdk_made(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
        ):
            at_bob = on_message(bob)
            await enable_messaging(alice, bob)
            await alice.messaging.send_message(
                to=alice.messaging.get_participant(bob.local_participant.id),
                type="hello", message={"n": 1}, attachment=b"\x00\x01",
            )
            await alice.messaging.broadcast_message(type="news", message={"text": "all"})
            await at_bob.wait_for(lambda m: m.type == "news", what="the broadcast")
            await alice.queues.send(name="jobs", message={"job": 7})
            assert await bob.queues.receive(name="jobs", wait=False) == {"job": 7}
            await alice.storage.upload(path="notes/t.txt", data=b"timeline")
            alice.local_participant.set_attribute("status", "busy")
            try:
                await bob.queues.receive(name="missing", create=False, wait=False)
                raise AssertionError("receiving from a queue that does not exist succeeded")
            except RoomException:
                pass

            session = session_of(server, room)
            wanted = [
                ("alice", "messaging", "send"),
                ("alice", "messaging", "broadcast"),
                ("alice", "queues", "send"),
                ("bob", "queues", "receive"),
                ("alice", "storage", "upload"),
                ("bob", "queues", "receive"),
            ]

            def recorded():
                # The recording is written while the session runs: poll until it caught up.
                events = export(server, session)
                rest = iter(calls(events))
                in_order = all(any(c == w for c in rest) for w in wanted)
                return events if in_order else None

            events = await eventually(recorded, what="every call in the timeline")
            changed = lambda: [e for e in export(server, session) if e["kind"] == "attributes"]
            attrs = await eventually(changed, what="the attribute change in the timeline")
            assert attrs[0]["participant"] == "alice" and attrs[0]["request"] == {"status": "busy"}
            joined = {e["participant"] for e in events if e["kind"] == "join"}
            assert {"alice", "bob"} <= joined
            send = next(e for e in events if e.get("tool") == "send" and e["kind"] == "message")
            assert send["request"]["type"] == "hello"
            assert "to bob" in send["summary"]
            receive = next(e for e in events if e.get("tool") == "receive")
            assert receive["answer"] == {"job": 7}
            failed = [e for e in events if e.get("tool") == "receive" and "error" in e]
            assert len(failed) == 1 and failed[0]["request"]["name"] == "missing"
            assert all(e["duration_ms"] >= 0 for e in events if "duration_ms" in e)

    run(scenario())


def test_replay_sends_the_messages_and_queue_items_again(server, room):
    source, target = f"{room}-src", f"{room}-dst"

    async def scenario():
        async with room_client(server, source, "alice") as alice:
            await alice.messaging.enable()
            await alice.messaging.broadcast_message(type="again", message={"n": 1})
            await alice.queues.send(name="redo", message={"n": 2})
        session = session_of(server, source)
        await eventually(
            lambda: [e for e in export(server, session) if e.get("tool") in ("broadcast", "send")],
            what="the calls in the timeline",
        )
        async with (
            room_client(server, target, "bob") as bob,
        ):
            inbox = on_message(bob)
            await enable_messaging(bob)
            out = roomdeck(
                "--data-dir", str(server.data_dir), "sessions", "replay", session,
                "--to", target, "--speed", "0", "--url", server.url,
                "--token", make_token("replayer", target, scope=ApiScope.full(), secret=server.secret),
            )
            assert out.returncode == 0, out.stderr
            assert f"replayed 1 messages and 1 queue items into {target}" in out.stdout, out.stdout
            got = await inbox.wait_for(lambda m: m.type == "again", what="the replayed broadcast")
            assert got.message == {"n": 1}
            assert await bob.queues.receive(name="redo", wait=False) == {"n": 2}

    run(scenario())
