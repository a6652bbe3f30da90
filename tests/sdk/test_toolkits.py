"""Toolkits hosted by a participant (meshagent-tools' start_hosted_toolkit, hosting.py) and
called by another through the room (rsc.py invoke / list_toolkits)."""

import asyncio

from meshagent.api import RoomException
from meshagent.tools import Toolkit
from meshagent.tools.hosting import start_hosted_toolkit
from meshagent.tools.tool import tool

from helpers import room_client, run


@tool(name="add", description="Adds two numbers")
def add(a: int, b: int) -> dict:
    return {"sum": a + b}


@tool(name="fail", description="Always fails")
def fail(reason: str) -> dict:
    raise ValueError(reason)


def test_a_hosted_toolkit_is_listed_and_called_by_another_participant(server, room):
    async def scenario():
        async with room_client(server, room, "host") as host, room_client(server, room, "caller") as caller:
            hosted = await start_hosted_toolkit(room=host, toolkit=Toolkit(name="math", tools=[add, fail]))
            listed = {t.name: t for t in await caller.list_toolkits()}
            assert "math" in listed and "queues" in listed
            assert {t.name for t in listed["math"].tools} == {"add", "fail"}

            answer = await caller.invoke(toolkit="math", tool="add", input={"a": 2, "b": 3})
            assert answer.json == {"sum": 5}

            try:
                await caller.invoke(toolkit="math", tool="fail", input={"reason": "nope"})
                raise AssertionError("a failing tool must raise in the caller")
            except RoomException as e:
                assert "nope" in str(e)

            await hosted.stop()
            assert "math" not in {t.name for t in await caller.list_toolkits()}

    run(scenario())


def test_the_host_leaving_ends_its_toolkit(server, room):
    async def scenario():
        async with room_client(server, room, "caller") as caller:
            async with room_client(server, room, "host") as host:
                await start_hosted_toolkit(room=host, toolkit=Toolkit(name="gone", tools=[add]))
                assert "gone" in {t.name for t in await caller.list_toolkits()}
            for _ in range(100):
                if "gone" not in {t.name for t in await caller.list_toolkits()}:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the toolkit outlived its host")
            try:
                await caller.invoke(toolkit="gone", tool="add", input={"a": 1, "b": 1})
                raise AssertionError("calling a toolkit whose host left must fail")
            except RoomException as e:
                assert e.code == 1003

    run(scenario())
