"""Shared documents through the SDK's SyncClient (rsc.py:2527-3075): Yjs on both sides
(pycrdt in the SDK, yrs in roomdeck), base64 v1 updates on the `sync.open` stream."""

import asyncio
import json

import pytest
from meshagent.api import RoomException
from meshagent.api.participant_token import ApiScope, SyncGrant, SyncPathGrant
from meshagent.api.schema import ChildProperty, ElementType, MeshSchema, ValueProperty

from helpers import eventually, make_token, meshagent_cli, meshagent_cli_env, room_client, roomdeck, run

SCHEMA = MeshSchema(
    root_tag_name="list",
    elements=[
        ElementType(tag_name="list", properties=[ChildProperty(name="items", child_tag_names=["item"])]),
        ElementType(
            tag_name="item",
            properties=[ValueProperty(name="name", type="string"), ValueProperty(name="done", type="boolean")],
        ),
    ],
)


def shape(schema: MeshSchema) -> dict:
    """A schema's meaning, without the order of its keys (roomdeck's JSON keeps keys sorted,
    so the `required` lists come back in another order)."""
    return {
        e.tag_name: sorted(
            (p.name, getattr(p, "type", None), tuple(getattr(p, "child_tag_names", ()))) for p in e.properties
        )
        for e in schema.elements
    } | {"$root": schema.root.tag_name}


def names(doc) -> list[str]:
    return [child.get_attribute("name") for child in doc.root.get_children()]


def test_two_participants_see_each_others_edits(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
        ):
            a = await alice.sync.open(
                path="notes/shopping.list",
                create=True,
                schema=SCHEMA,
                initial_json={"list": {"items": [{"item": {"name": "milk"}}]}},
            )
            assert names(a) == ["milk"]
            b = await bob.sync.open(path="/notes/shopping.list", create=False)
            assert b.schema.root.tag_name == "list"
            assert names(b) == ["milk"]

            a.root.append_child("item", {"name": "eggs"})
            await eventually(lambda: names(b) == ["milk", "eggs"], what="bob to see alice's item")

            bread = b.root.append_child("item", {"name": "bread"})
            await eventually(lambda: names(a) == ["milk", "eggs", "bread"], what="alice to see bob's item")

            bread.set_attribute("done", True)
            await eventually(
                lambda: a.root.get_children()[2].get_attribute("done") is True,
                what="alice to see bob's attribute change",
            )
            a.root.get_children()[0].delete()
            await eventually(lambda: names(b) == ["eggs", "bread"], what="bob to see alice's delete")

            described = await bob.sync.describe(path="notes/shopping.list")
            assert described == a.root.to_json() == b.root.to_json()
            assert described == {
                "list": {"items": [{"item": {"name": "eggs"}}, {"item": {"name": "bread", "done": True}}]}
            }

            await alice.sync.close(path="notes/shopping.list")
            await bob.sync.close(path="notes/shopping.list")

    run(scenario())


def test_a_document_reopened_after_a_restart_keeps_its_content(start_server, room):
    first = start_server()

    async def write():
        async with room_client(first, room, "alice") as alice:
            await alice.sync.create(
                path="kept.list", json={"list": {"items": [{"item": {"name": "one"}}]}}, schema=SCHEMA
            )
            doc = await alice.sync.open(path="kept.list", create=False)
            doc.root.append_child("item", {"name": "two"})
            await alice.sync.close(path="kept.list")
            # another edit, still open when the server stops: the shutdown flush keeps it
            doc = await alice.sync.open(path="kept.list", create=False)
            doc.root.append_child("item", {"name": "three"})
            async with room_client(first, room, "watcher") as watcher:
                seen = await watcher.sync.open(path="kept.list", create=False)
                await eventually(lambda: names(seen) == ["one", "two", "three"], what="the edit to arrive")
            assert first.stop() == 0

    run(write())
    second = start_server(first.data_dir)

    async def read():
        async with room_client(second, room, "bob") as bob:
            doc = await bob.sync.open(path="kept.list", create=False)
            assert names(doc) == ["one", "two", "three"]
            assert shape(doc.schema) == shape(SCHEMA)
            await bob.sync.close(path="kept.list")

    run(read())


def test_errors_and_read_only_grants(server, room):
    async def scenario():
        scope = ApiScope.agent_default()
        scope.sync = SyncGrant(paths=[SyncPathGrant(path="shared/*", read_only=True)])
        async with (
            room_client(server, room, "owner") as owner,
            room_client(server, room, "reader", scope=scope) as reader,
        ):
            with pytest.raises(RoomException) as missing:
                await owner.sync.open(path="missing.list", create=False)
            assert missing.value.code == 1003
            await owner.sync.create(path="shared/plan.list", json={"list": {"items": []}}, schema=SCHEMA)
            with pytest.raises(RoomException) as exists:
                await owner.sync.create(path="shared/plan.list", schema=SCHEMA)
            assert exists.value.code == 1004

            # read-only: opening and reading work; creating and writing do not
            doc = await reader.sync.open(path="shared/plan.list", create=False)
            assert doc.root.to_json() == {"list": {"items": []}}
            with pytest.raises(RoomException) as denied:
                await reader.sync.create(path="shared/new.list", schema=SCHEMA)
            assert denied.value.code == 1001
            with pytest.raises(RoomException) as outside:
                await reader.sync.describe(path="elsewhere.list")
            assert outside.value.code == 1001
            doc.root.append_child("item", {"name": "sneaky"})
            await eventually(
                lambda: getattr(reader.sync._document_streams.get("shared/plan.list"), "error", None),
                what="the refusal of the read-only edit",
            )
            err = reader.sync._document_streams["shared/plan.list"].error
            assert isinstance(err, RoomException) and err.code == 1001
            assert await owner.sync.describe(path="shared/plan.list") == {"list": {"items": []}}

    run(scenario())


@pytest.fixture
def cli_env(server, room, tmp_path):
    return meshagent_cli_env(server, room, make_token("cli", room), home=tmp_path)


def test_official_cli_sync_commands(server, room, cli_env, tmp_path):
    schema_file = tmp_path / "list.json"
    schema_file.write_text(json.dumps(SCHEMA.to_json()))

    async def scenario():
        created = await meshagent_cli(
            cli_env, "room", "sync", "create", "todo.list", "--schema", str(schema_file),
            "--json", '{"list": {"items": [{"item": {"name": "a"}}]}}',
        )
        assert created.returncode == 0, created
        assert "Created document at todo.list" in created.stdout, created

        patch = '[{"op": "add", "path": "/list/items/-", "value": {"item": {"name": "b"}}}]'
        updated = await meshagent_cli(cli_env, "room", "sync", "update", "todo.list", "--patch", patch)
        assert updated.returncode == 0, updated

        got = await meshagent_cli(cli_env, "room", "sync", "get", "todo.list", "--compact")
        assert got.returncode == 0, got
        assert json.loads(got.stdout) == {"list": {"items": [{"item": {"name": "a"}}, {"item": {"name": "b"}}]}}

        inspected = await meshagent_cli(cli_env, "room", "sync", "inspect", "todo.list", "--compact")
        assert inspected.returncode == 0, inspected
        assert shape(MeshSchema.from_json(json.loads(inspected.stdout))) == shape(SCHEMA)

        async with room_client(server, room, "sdk") as sdk:
            assert await sdk.sync.describe(path="todo.list") == json.loads(got.stdout)

    run(scenario(), timeout=120)


def test_roomdeck_cli_edits_a_document_an_sdk_participant_has_open(server, room, tmp_path):
    schema_file = tmp_path / "list.json"
    schema_file.write_text(json.dumps(SCHEMA.to_json()))
    base = ["room", "--room", room, "--url", server.url, "--token", make_token("rd", room), "sync"]

    async def scenario():
        created = await asyncio.to_thread(
            roomdeck, *base, "create", "cli.list", "--schema", str(schema_file),
            "--json", '{"list": {"items": [{"item": {"name": "a"}}]}}',
        )
        assert created.returncode == 0, created
        async with room_client(server, room, "sdk") as sdk:
            doc = await sdk.sync.open(path="cli.list", create=False)
            patch = '[{"op": "add", "path": "/list/items/-", "value": {"item": {"name": "b"}}}]'
            updated = await asyncio.to_thread(roomdeck, *base, "update", "cli.list", "--patch", patch)
            assert updated.returncode == 0, updated
            await eventually(lambda: names(doc) == ["a", "b"], what="the SDK to see the CLI's patch")
            got = await asyncio.to_thread(roomdeck, *base, "get", "cli.list")
            assert got.returncode == 0, got
            assert json.loads(got.stdout) == doc.root.to_json()
            listed = await asyncio.to_thread(roomdeck, *base[:-1], "-o", "json", "sync", "list")
            assert listed.returncode == 0, listed
            assert [d["path"] for d in json.loads(listed.stdout)["documents"]] == ["cli.list"]

    run(scenario(), timeout=60)
