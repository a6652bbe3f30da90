"""The developer log stream: developer.logs() (rsc.py:5964-6015) and what feeds it."""

from helpers import LogStream, otel_records, room_client, run


async def stream_is_live(alice, logs: LogStream) -> None:
    """developer.logs() gives no sign that the server has registered the stream, so alice
    logs probes until one shows up in it."""
    for attempt in range(50):
        await alice.developer.log(type="test.probe", data={"attempt": attempt})
        try:
            await logs.wait_for(lambda e: e.type == "test.probe", what="a probe", timeout=0.1)
            return
        except AssertionError:
            continue
    await logs.wait_for(lambda e: e.type == "test.probe", what="a probe in the log stream")


def test_log_from_one_participant_reaches_anothers_stream(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
            LogStream(bob) as logs,
        ):
            await stream_is_live(alice, logs)
            await alice.developer.log(type="test.event", data={"k": "v", "n": 1, "nested": {"ok": True}})
            event = await logs.wait_for(lambda e: e.type == "test.event", what="test.event in bob's stream")
            assert event.data == {"k": "v", "n": 1, "nested": {"ok": True}}

    run(scenario())


def test_info_warning_and_error_arrive_as_otel_records(server, room):
    # `meshagent room developer` shows only otel.log records (meshagent/cli/developer.py:72-100),
    # so that is where a user looks for these.
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
            LogStream(bob) as logs,
        ):
            await stream_is_live(alice, logs)
            alice.developer.info("an info line", extra={"where": "test"})
            alice.developer.warning("a warning line")
            alice.developer.error("an error line")
            for text, severity in (
                ("an info line", "INFO"),
                ("a warning line", "WARN"),
                ("an error line", "ERROR"),
            ):
                event = await logs.wait_for(
                    lambda e, text=text: any(body == text for _, body in otel_records(e)),
                    what=f"an otel.log record {text!r}",
                )
                [level] = [level for level, body in otel_records(event) if body == text]
                assert level.upper().startswith(severity), (text, level)

    run(scenario())


def test_joins_are_logged_by_the_server(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
            LogStream(bob) as logs,
        ):
            await stream_is_live(alice, logs)
            async with room_client(server, room, "carol-the-newcomer"):
                await logs.wait_for(
                    lambda e: any("carol-the-newcomer" in body for _, body in otel_records(e)),
                    what="an otel.log record about carol joining",
                )

    run(scenario())
