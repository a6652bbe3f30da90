"""`roomdeck inspect` in front of a room, with the official SDK on the other side: the calls
work as they do directly, and the inspector's recording holds every one of them, with its
arguments, answer or error, and duration, under the participant's name."""

from __future__ import annotations

from pathlib import Path

from meshagent.api import RoomClient, RoomException, WebSocketClientProtocol

from helpers import Inspector, enable_messaging, eventually, make_token, on_message, run


def client_via(inspector: Inspector, room: str, name: str, secret: str) -> RoomClient:
    token = make_token(name, room, secret=secret)
    protocol = WebSocketClientProtocol(url=f"{inspector.url}/rooms/{room}", token=token)
    return RoomClient(protocol_factory=protocol.create_factory(), reconnect_timeout=0)


def test_the_recording_holds_every_call_through_the_inspector(server, room, tmp_path: Path):
    inspector = Inspector(
        upstream=server.direct_url, data_dir=tmp_path / "inspector", log_path=tmp_path / "inspect.log"
    ).start()
    try:
        data = bytes(range(256)) * 600  # 150 kB: several pulled chunks each way

        async def scenario():
            async with client_via(inspector, room, "alice", server.secret) as alice, client_via(
                inspector, room, "bob", server.secret
            ) as bob:
                for n in range(3):
                    await alice.queues.send(name="jobs", message={"n": n}, create=True)
                assert await alice.queues.receive(name="jobs", wait=False) == {"n": 0}
                await alice.storage.upload(path="docs/blob.bin", data=data)
                assert (await alice.storage.download(path="docs/blob.bin")).data == data
                try:
                    await alice.storage.download(path="docs/missing.bin")
                except RoomException:
                    pass
                else:
                    raise AssertionError("downloading a missing file succeeded")
                inbox = on_message(alice)
                await enable_messaging(alice, bob)
                await bob.messaging.send_message(
                    to=bob.messaging.get_participant(alice.local_participant.id),
                    type="chat",
                    message={"text": "hi"},
                )
                await inbox.wait_for(lambda m: m.type == "chat", what="bob's chat message")

            def closed():
                events = inspector.events()
                done = [e for e in events if e["kind"] == "session" and e.get("summary", "").startswith("connection closed")]
                return events if len(done) >= 2 else None

            return await eventually(closed, what="both connections' close in the recording", timeout=10)

        events = run(scenario())
    finally:
        assert inspector.stop() == 0, inspector.log_tail()

    calls = [e for e in events if "duration_ms" in e]

    def of(toolkit: str, tool: str) -> list[dict]:
        return [e for e in calls if e.get("toolkit") == toolkit and e.get("tool") == tool]

    sends = of("queues", "send")
    assert len(sends) == 3, events
    assert all(e["participant"] == "alice" and e["summary"] == "queues.send jobs" for e in sends), sends
    assert [e["request"]["message"]["n"] for e in sends] == [0, 1, 2]
    assert of("queues", "receive")[0]["answer"] == {"n": 0}
    (upload,) = of("storage", "upload")
    assert upload["summary"].startswith("storage.upload docs/blob.bin") and f"{len(data)} B" in upload["summary"], upload
    downloads = of("storage", "download")
    assert len(downloads) == 2, downloads
    assert [("error" in d) for d in downloads] == [False, True], downloads
    (sent,) = of("messaging", "send")
    assert sent["participant"] == "bob" and "error" not in sent
    delivered = [e for e in events if e["kind"] == "message" and e.get("tool") == "chat"]
    assert len(delivered) == 1 and delivered[0]["participant"] == "bob", events
    assert all(e["duration_ms"] >= 0 for e in calls)
    # One session for the room, its source the room's real URL.
    assert {e["session"] for e in events} and {e["room"] for e in events} == {room}
    assert any(e["kind"] == "session" and e.get("summary", "").startswith("inspecting " + server.direct_url) for e in events)
