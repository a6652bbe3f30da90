"""Whole-database transfers through the SDK's SqliteClient.backup/restore
(meshagent/api/sqlite_transfer.py) and the official CLI's `room sqlite backup|restore`."""

import sqlite3

import pytest
from meshagent.api import RoomException

from helpers import make_token, meshagent_cli, meshagent_cli_env, room_client, run


async def make_app(alice) -> None:
    db = alice.sqlite.database("app")
    await db.create_database()
    await db.execute_sql_statement(query="create table kv (k text primary key, v integer, blob blob)")
    # ~600 kB: three chunks of at most 256 KiB each way
    await db.execute_sql_statement(
        query="insert into kv with recursive c(x) as (select 1 union all select x + 1 from c where x < 600) "
        "select 'k' || x, x, randomblob(1000) from c"
    )


async def everything(alice, name: str, namespace=None) -> list[dict]:
    rows = await alice.sqlite.database(name, namespace=namespace).sql(query="select k, v, hex(blob) as b from kv order by v")
    return rows.to_pylist()


async def collect(stream) -> bytes:
    return b"".join([chunk async for chunk in stream])


async def chunks(data: bytes, size: int = 256 * 1024):
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_sqlite_backup_and_restore_round_trip(server, room, tmp_path):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            await make_app(alice)
            data = await collect(alice.sqlite.backup(database="app"))
            assert data.startswith(b"SQLite format 3\x00") and len(data) > 512 * 1024

            # the bytes are a database of their own
            path = tmp_path / "app.sqlite"
            path.write_bytes(data)
            with sqlite3.connect(path) as local:
                assert local.execute("select count(*), sum(v) from kv").fetchone() == (600, 600 * 601 // 2)

            await alice.sqlite.restore(database="copy", source=chunks(data))
            assert sorted(await alice.sqlite.list_databases()) == ["app", "copy"]
            assert await everything(alice, "copy") == await everything(alice, "app")

            await alice.sqlite.restore(database="copy", namespace=["team"], source=chunks(data, 100_000))
            assert await everything(alice, "copy", ["team"]) == await everything(alice, "app")
            again = await collect(alice.sqlite.backup(database="copy", namespace=["team"]))
            assert again.startswith(b"SQLite format 3\x00")

            # a restore never replaces a database
            with pytest.raises(RoomException) as exists:
                await alice.sqlite.restore(database="app", source=chunks(data))
            assert exists.value.code == 1004
            with pytest.raises(RoomException) as missing:
                await collect(alice.sqlite.backup(database="nope"))
            assert missing.value.code == 1003

    run(scenario(), timeout=60)


def test_sqlite_restore_refuses_what_is_not_a_database(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            await make_app(alice)
            data = await collect(alice.sqlite.backup(database="app"))
            with pytest.raises(RoomException) as text:
                await alice.sqlite.restore(database="csv", source=chunks(b"k,v\na,1\n" * 100))
            assert text.value.code == 1002 and "not a SQLite database" in str(text.value)
            with pytest.raises(RoomException) as cut:
                await alice.sqlite.restore(database="cut", source=chunks(data[: len(data) // 2]))
            assert cut.value.code == 1002 and "not a sound SQLite database" in str(cut.value)

            async def failing():
                yield data[:1000]
                raise OSError("local read failed")

            with pytest.raises(OSError):
                await alice.sqlite.restore(database="failed", source=failing())
            assert await alice.sqlite.list_databases() == ["app"]

    run(scenario(), timeout=60)


def test_official_cli_sqlite_backup_and_restore(server, room, tmp_path):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            await make_app(alice)
            env = meshagent_cli_env(server, room, make_token("cli", room), home=tmp_path)
            out = tmp_path / "app-backup.sqlite"
            saved = await meshagent_cli(env, "room", "sqlite", "backup", "-d", "app", "--output", str(out))
            assert saved.returncode == 0, saved
            assert "Saved database" in saved.stdout, saved
            with sqlite3.connect(out) as local:
                assert local.execute("select count(*) from kv").fetchone() == (600,)

            restored = await meshagent_cli(env, "room", "sqlite", "restore", "-d", "restored", "--input", str(out))
            assert restored.returncode == 0, restored
            assert "Restored database" in restored.stdout, restored
            assert await everything(alice, "restored") == await everything(alice, "app")

            again = await meshagent_cli(env, "room", "sqlite", "restore", "-d", "restored", "--input", str(out))
            assert again.returncode == 1, again
            assert "already exists" in again.stdout, again

            junk = tmp_path / "junk.sqlite"
            junk.write_bytes(b"not a database at all\n" * 50)
            refused = await meshagent_cli(env, "room", "sqlite", "restore", "-d", "junk", "--input", str(junk))
            assert refused.returncode == 1, refused
            assert "not a SQLite database" in refused.stdout, refused
            assert sorted(await alice.sqlite.list_databases()) == ["app", "restored"]

    run(scenario(), timeout=120)
