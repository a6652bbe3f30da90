"""Room storage through the SDK's StorageClient (rsc.py:3677-4421), and the official CLI's
`meshagent room storage` commands, which use the REST Files API (files.py) instead."""

import asyncio
import os
from pathlib import Path

import aiohttp
import pytest
from meshagent.api import RoomException
from meshagent.api.participant_token import ApiScope, StorageGrant, StoragePathGrant

from helpers import Inbox, make_token, meshagent_cli, meshagent_cli_env, room_client, run

PERMISSION_DENIED = 1001
STORAGE_NOT_FOUND = 3001
STORAGE_RECURSIVE_REQUIRED = 3002
STORAGE_INVALID_PATH = 3004
STORAGE_ALREADY_EXISTS = 3005


async def refused(coro, code: int) -> RoomException:
    try:
        await coro
    except RoomException as ex:
        assert ex.code == code, f"expected code {code}, got {ex.code}: {ex}"
        return ex
    raise AssertionError(f"expected a RoomException with code {code}; the call succeeded")


def test_ten_megabyte_upload_and_download_are_byte_identical(server, room):
    async def scenario():
        data = os.urandom(10 * 1024 * 1024)
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
        ):
            await alice.storage.upload(path="big/blob.bin", data=data)
            got = await bob.storage.download(path="big/blob.bin")
            assert got.name == "blob.bin"
            assert got.mime_type == "application/octet-stream"
            assert len(got.data) == len(data)
            assert got.data == data

            # The streaming forms, with chunks of odd sizes and no announced size.
            async def chunks():
                for i in range(0, len(data), 300_001):
                    yield data[i : i + 300_001]

            await alice.storage.upload_stream(path="big/streamed.bin", chunks=chunks())
            received = bytearray()
            async for chunk in bob.storage.download_stream(path="big/streamed.bin", chunk_size=100_000):
                if chunk.headers.get("kind") == "data":
                    received.extend(chunk.data)
            assert bytes(received) == data

    run(scenario(), timeout=90)


def test_exists_stat_list_move_delete(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            st = alice.storage
            await st.upload(path="docs/a.txt", data=b"hello")
            assert await st.exists(path="docs/a.txt")
            assert await st.exists(path="docs")
            assert not await st.exists(path="docs/missing.txt")

            entry = await st.stat(path="docs/a.txt")
            assert (entry.name, entry.is_folder, entry.size) == ("a.txt", False, 5)
            assert entry.created_at is not None and entry.updated_at is not None
            assert (await st.stat(path="docs")).is_folder
            assert await st.stat(path="nothing/here") is None

            listing = await st.list(path="docs")
            assert [(e.name, e.is_folder, e.size) for e in listing] == [("a.txt", False, 5)]
            root = await st.list(path="")
            assert [(e.name, e.is_folder) for e in root] == [("docs", True)]

            await refused(st.upload(path="docs/a.txt", data=b"again"), STORAGE_ALREADY_EXISTS)
            await st.upload(path="docs/a.txt", data=b"replaced", overwrite=True)
            assert (await st.download(path="docs/a.txt")).data == b"replaced"

            await st.move(source_path="docs/a.txt", destination_path="archive/b.txt")
            assert not await st.exists(path="docs/a.txt")
            assert (await st.download(path="archive/b.txt")).data == b"replaced"
            await st.upload(path="docs/c.txt", data=b"c")
            await refused(
                st.move(source_path="docs/c.txt", destination_path="archive/b.txt"),
                STORAGE_ALREADY_EXISTS,
            )
            await st.move(source_path="docs/c.txt", destination_path="archive/b.txt", overwrite=True)
            assert (await st.download(path="archive/b.txt")).data == b"c"

            await refused(st.delete("archive"), STORAGE_RECURSIVE_REQUIRED)
            await st.delete("archive/b.txt")
            await st.delete("archive")  # now empty
            await st.delete("docs", recursive=True)
            assert await st.list(path="") == []
            await refused(st.delete("docs"), STORAGE_NOT_FOUND)
            await refused(st.download(path="docs/c.txt"), STORAGE_NOT_FOUND)

    run(scenario())


def test_a_second_participant_receives_each_event(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
        ):
            inbox = Inbox()
            for event in ("file.updated", "file.moved", "file.deleted"):
                bob.storage.on(event, lambda event=event, **kw: inbox.put((event, kw)))
            me = alice.local_participant.id

            await alice.storage.upload(path="notes/one.md", data=b"# one")
            await inbox.wait_for(
                lambda e: e == ("file.updated", {"path": "notes/one.md", "participant_id": me}),
                what="file.updated",
            )
            await alice.storage.move(source_path="notes/one.md", destination_path="notes/two.md")
            await inbox.wait_for(
                lambda e: e
                == (
                    "file.moved",
                    {"source_path": "notes/one.md", "destination_path": "notes/two.md", "participant_id": me},
                ),
                what="file.moved",
            )
            await alice.storage.delete("notes/two.md")
            await inbox.wait_for(
                lambda e: e == ("file.deleted", {"path": "notes/two.md", "participant_id": me}),
                what="file.deleted",
            )

    run(scenario())


def test_a_read_only_grant_is_refused_writes(server, room):
    async def scenario():
        scope = ApiScope.agent_default()
        scope.storage = StorageGrant(paths=[StoragePathGrant(path="public", read_only=True)])
        async with (
            room_client(server, room, "owner") as owner,
            room_client(server, room, "reader", scope=scope) as reader,
        ):
            await owner.storage.upload(path="public/readme.txt", data=b"read me")
            assert (await reader.storage.download(path="public/readme.txt")).data == b"read me"
            assert await reader.storage.exists(path="public/readme.txt")

            await refused(reader.storage.upload(path="public/new.txt", data=b"x"), PERMISSION_DENIED)
            await refused(
                reader.storage.upload(path="public/readme.txt", data=b"x", overwrite=True),
                PERMISSION_DENIED,
            )
            await refused(reader.storage.delete("public/readme.txt"), PERMISSION_DENIED)
            await refused(
                reader.storage.move(source_path="public/readme.txt", destination_path="public/moved.txt"),
                PERMISSION_DENIED,
            )
            assert (await owner.storage.download(path="public/readme.txt")).data == b"read me"

    run(scenario())


@pytest.mark.parametrize("path", ["../escape.txt", "a/../../escape.txt", "a\\b.txt", "a//b.txt"])
def test_traversal_paths_are_refused(server, room, path):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            await refused(alice.storage.exists(path=path), STORAGE_INVALID_PATH)
            await refused(alice.storage.upload(path=path, data=b"x"), STORAGE_INVALID_PATH)
            await refused(alice.storage.download(path=path), STORAGE_INVALID_PATH)
            await refused(alice.storage.list(path=path), STORAGE_INVALID_PATH)
        assert not (server.data_dir / "rooms" / "escape.txt").exists()
        assert not (server.data_dir / "rooms" / room / "escape.txt").exists()

    run(scenario())


def test_download_url_serves_the_file_over_http(server, room):
    async def scenario():
        data = os.urandom(200_000)
        async with room_client(server, room, "alice") as alice:
            await alice.storage.upload(path="share/photo.png", data=data)
            url = await alice.storage.download_url(path="share/photo.png")
            # The server names its own address; through an inspector (ROOMDECK_SDK_VIA_INSPECTOR)
            # that is the host behind it, as a hosted room's URLs name the hosted room.
            assert url.startswith((server.http_url + "/", server.direct_http_url + "/")), url
            async with aiohttp.ClientSession() as http:
                async with http.get(url) as response:
                    assert response.status == 200
                    assert response.headers["Content-Type"] == "image/png"
                    assert await response.read() == data
                async with http.get(url.replace("photo.png", "other.png")) as response:
                    assert response.status == 403
            await refused(alice.storage.download_url(path="share/missing.png"), STORAGE_NOT_FOUND)

    run(scenario())


@pytest.fixture
def cli_env(server, room, tmp_path):
    return meshagent_cli_env(server, room, make_token("cli", room), home=tmp_path)


async def cli_ok(env, *args) -> str:
    done = await meshagent_cli(env, "room", "storage", *args)
    assert done.returncode == 0, done
    return done.stdout


def test_official_cli_storage_cp_ls_get_exists(server, room, cli_env, tmp_path: Path):
    async def scenario():
        local = tmp_path / "upload.bin"
        data = os.urandom(3 * 1024 * 1024 + 7)
        local.write_bytes(data)
        (tmp_path / "hello.txt").write_text("hello from the cli\n")

        await cli_ok(cli_env, "cp", str(local), "room://cli/upload.bin")
        await cli_ok(cli_env, "cp", str(tmp_path / "hello.txt"), "room://cli/hello.txt")

        # What the CLI wrote over HTTP, an SDK participant sees over the websocket.
        async with room_client(server, room, "watcher") as watcher:
            assert (await watcher.storage.download(path="cli/upload.bin")).data == data
            names = sorted(e.name for e in await watcher.storage.list(path="cli"))
            assert names == ["hello.txt", "upload.bin"]

        listed = await cli_ok(cli_env, "ls", "-r", "room://")
        assert [line.strip() for line in listed.splitlines()] == ["cli/", "hello.txt", "upload.bin"], listed
        assert (await cli_ok(cli_env, "get", "room://cli/hello.txt")).startswith("hello from the cli")
        assert "exists in remote storage" in await cli_ok(cli_env, "exists", "room://cli/hello.txt")
        assert "does NOT exist" in await cli_ok(cli_env, "exists", "room://cli/nope.txt")

    run(scenario(), timeout=240)


def test_official_cli_storage_cp_down_and_rm(server, room, cli_env, tmp_path: Path):
    async def scenario():
        data = os.urandom(2 * 1024 * 1024 + 3)
        async with room_client(server, room, "owner") as owner:
            await owner.storage.upload(path="cli/upload.bin", data=data)
            await owner.storage.upload(path="cli/keep/note.txt", data=b"note")

        back = tmp_path / "back.bin"
        await cli_ok(cli_env, "cp", "room://cli/upload.bin", str(back))
        assert back.read_bytes() == data

        not_recursive = await meshagent_cli(cli_env, "room", "storage", "rm", "room://cli")
        assert not_recursive.returncode != 0, not_recursive
        await cli_ok(cli_env, "rm", "room://cli/upload.bin")
        async with room_client(server, room, "watcher") as watcher:
            assert [e.name for e in await watcher.storage.list(path="cli")] == ["keep"]
        await cli_ok(cli_env, "rm", "-r", "room://cli")
        async with room_client(server, room, "watcher") as watcher:
            assert await watcher.storage.list(path="") == []

    run(scenario(), timeout=240)


def test_official_cli_is_refused_with_a_read_only_token(server, room, tmp_path: Path):
    async def scenario():
        scope = ApiScope.agent_default()
        scope.storage = StorageGrant(paths=[StoragePathGrant(path="", read_only=True)])
        env = meshagent_cli_env(server, room, make_token("cli", room, scope=scope), home=tmp_path)
        local = tmp_path / "f.txt"
        local.write_text("x")
        done = await meshagent_cli(env, "room", "storage", "cp", str(local), "room://f.txt")
        assert done.returncode != 0, done
        assert "403" in done.stdout + done.stderr, done
        async with room_client(server, room, "watcher") as watcher:
            assert not await watcher.storage.exists(path="f.txt")

    run(scenario(), timeout=120)
