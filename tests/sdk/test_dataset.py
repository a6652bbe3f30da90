"""The room's tables through the SDK's DatasetsClient (rsc.py:6038-8336) and SqliteClient
(rsc.py:8338-9444), and the official CLI's `room dataset` commands."""

import datetime
import json
import uuid

import pyarrow as pa
import pytest
from meshagent.api import RoomException
from meshagent.api.participant_token import ApiScope, DatasetGrant, TableGrant
from meshagent.api.room_server_client import DatasetJson, DatasetStruct, SqliteSqlCommand

from helpers import make_token, meshagent_cli, meshagent_cli_env, room_client, run


async def people(d) -> None:
    await d.create_table_with_schema(name="people", schema={"id": pa.int64(), "name": pa.string(), "age": pa.int32()})
    await d.insert(
        table="people",
        records=[
            {"id": 1, "name": "Ada", "age": 36},
            {"id": 2, "name": "Grace", "age": 85},
            {"id": 3, "name": "Linus", "age": 55},
        ],
    )


def test_create_insert_sql_with_filter_and_aggregate(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            d = alice.datasets
            await people(d)
            assert await d.list_tables() == ["people"]
            rows = (await d.sql(query="select name from people where age > 50 order by id")).to_pylist()
            assert rows == [{"name": "Grace"}, {"name": "Linus"}]
            agg = await d.sql(query="select count(*) as n, sum(age) as total, avg(age) as mean from people")
            assert agg.to_pylist() == [{"n": 3, "total": 176, "mean": 176 / 3}]
            assert agg.schema.field("n").type == pa.int64()
            # a column keeps the type the table was created with
            ages = await d.sql(query="select age from people where id = 1")
            assert ages.schema.field("age").type == pa.int32()
            # an empty result still has its columns
            none = await d.sql(query="select id, name from people where id > 100")
            assert none.num_rows == 0 and none.schema.names == ["id", "name"]

    run(scenario())


def test_search_count_update_delete_merge(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            d = alice.datasets
            await people(d)
            found = await d.search(table="people", where="age > 40", select=["name"], limit=1)
            assert found.to_pylist() == [{"name": "Grace"}]
            assert (await d.search(table="people", where={"name": "Linus"})).to_pylist() == [
                {"id": 3, "name": "Linus", "age": 55}
            ]
            assert await d.count(table="people") == 3
            assert await d.count(table="people", where="age < 60") == 2

            await d.update(table="people", where="id = 1", values={"name": "Ada Lovelace", "age": 37})
            assert (await d.search(table="people", where="id = 1")).to_pylist() == [
                {"id": 1, "name": "Ada Lovelace", "age": 37}
            ]
            await d.delete(table="people", where="id = 3")
            assert await d.count(table="people") == 2

            await d.merge(table="people", on="id", records=[{"id": 2, "name": "Grace Hopper", "age": 85}, {"id": 4, "name": "Ken", "age": 80}])
            rows = (await d.sql(query="select id, name from people order by id")).to_pylist()
            assert rows == [{"id": 1, "name": "Ada Lovelace"}, {"id": 2, "name": "Grace Hopper"}, {"id": 4, "name": "Ken"}]

            text = await d.search(table="people", text="hopper")
            assert [r["id"] for r in text.to_pylist()] == [2]
            assert await d.count(table="people", text="ken") == 1

    run(scenario())


def test_inspect_and_every_type_round_trips(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            d = alice.datasets
            schema = pa.schema(
                [
                    pa.field("u", pa.uuid()),
                    pa.field("d", pa.date32()),
                    pa.field("t", pa.timestamp("us", tz="UTC")),
                    pa.field("l", pa.list_(pa.int32())),
                    pa.field("s", pa.struct([("a", pa.string()), ("b", pa.float64())])),
                    pa.field("j", pa.json_()),
                    pa.field("bin", pa.binary()),
                    pa.field("ok", pa.bool_()),
                    pa.field("f", pa.float32()),
                    pa.field("v", pa.list_(pa.float32(), 3)),
                ]
            )
            await d.create_table_with_schema(name="types", schema=schema)
            assert await d.inspect(table="types") == schema
            u = uuid.uuid4()
            t = datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.timezone.utc)
            await d.insert(
                table="types",
                records=[
                    {"u": u, "d": datetime.date(2024, 1, 2), "t": t, "l": [1, 2, 3], "s": DatasetStruct({"a": "x", "b": 1.5}),
                     "j": DatasetJson({"k": [1]}), "bin": b"\x00\x01", "ok": True, "f": 0.5, "v": [1.0, 2.0, 3.0]},
                    {"u": None, "d": None, "t": None, "l": None, "s": None, "j": None, "bin": None, "ok": None, "f": None, "v": None},
                ],
            )
            got = await d.sql(query="select * from types")
            assert got.schema == schema
            first, second = got.to_pylist()
            assert first["u"] == u and first["d"] == datetime.date(2024, 1, 2) and first["t"] == t
            assert first["l"] == [1, 2, 3] and first["s"] == {"a": "x", "b": 1.5}
            assert json.loads(first["j"]) == {"k": [1]} and first["bin"] == b"\x00\x01"
            assert first["ok"] is True and first["f"] == 0.5 and first["v"] == [1.0, 2.0, 3.0]
            assert all(v is None for v in second.values())

            near = await d.search(table="types", vector=[1.0, 2.0, 2.0], limit=1)
            assert near.to_pylist()[0]["_distance"] == pytest.approx(1.0)

    run(scenario())


def test_sql_errors_and_refused_statements(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            d = alice.datasets
            with pytest.raises(RoomException) as missing:
                await d.sql(query="select * from nope")
            assert missing.value.code == 1002 and "no such table: nope" in str(missing.value)
            with pytest.raises(RoomException) as attach:
                await d.execute_sql(query="attach database '/etc/passwd' as x")
            assert attach.value.code == 1001 and "ATTACH" in str(attach.value)
            with pytest.raises(RoomException):
                await d.inspect(table="nope")

    run(scenario())


def test_read_only_table_grant_refuses_writes(server, room):
    async def scenario():
        async with room_client(server, room, "owner") as owner:
            await people(owner.datasets)
        scope = ApiScope.agent_default()
        scope.dataset = DatasetGrant(tables=[TableGrant(name="people", read=True, write=False)])
        async with room_client(server, room, "reader", scope=scope) as reader:
            d = reader.datasets
            assert await d.count(table="people") == 3
            assert len((await d.sql(query="select * from people")).to_pylist()) == 3
            with pytest.raises(RoomException) as insert:
                await d.insert(table="people", records=[{"id": 9, "name": "Eve", "age": 1}])
            assert insert.value.code == 1001
            with pytest.raises(RoomException) as update:
                await d.update(table="people", where="id = 1", values={"name": "x"})
            assert update.value.code == 1001
            with pytest.raises(RoomException) as sql:
                await d.execute_sql(query="delete from people")
            assert sql.value.code == 1001
            with pytest.raises(RoomException) as drop:
                await d.drop_table(name="people")
            assert drop.value.code == 1001
            assert await d.count(table="people") == 3

    run(scenario())


def test_sqlite_database_and_sql_with_params(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            db = alice.sqlite.database("app")
            await db.create_database()
            assert "app" in await alice.sqlite.list_databases()
            await db.execute_sql_statement(query="create table kv (k text primary key, v integer)")
            assert await db.execute_sql_statement(query="insert into kv values (?, ?), (?, ?)", params=["a", 1, "b", 2]) == 2
            rows = await db.sql(query="select k from kv where v >= :min", params={"min": 2})
            assert rows.to_pylist() == [{"k": "b"}]
            await db.insert(table="kv", records=[{"k": "c", "v": 3}])
            assert await db.count(table="kv", where="v > ?", params=[1]) == 2
            assert await db.update(table="kv", where="k = ?", params=["c"], values={"v": 30}) == 1
            assert (await db.search(table="kv", where="v > 2", select=["k", "v"])).to_pylist() == [{"k": "c", "v": 30}]
            results = await db.execute_sql_batch(
                commands=[SqliteSqlCommand(query="delete from kv where k = 'a'"), SqliteSqlCommand(query="select count(*) as n from kv")]
            )
            assert results[0].rows_affected == 1
            rows = [b async for b in alice.sqlite.read_sql_query(query_id=results[1].query_id)]
            await alice.sqlite.close_sql_query(query_id=results[1].query_id)
            assert pa.concat_tables(rows).to_pylist() == [{"n": 2}]
            details = await db.inspect_database()
            assert details.tables == 1 and details.size_bytes > 0
            await db.drop_database()
            assert "app" not in await alice.sqlite.list_databases()

    run(scenario())


def test_official_cli_dataset_create_insert_sql(server, room, tmp_path):
    async def scenario():
        env = meshagent_cli_env(server, room, make_token("cli", room), home=tmp_path)
        created = await meshagent_cli(env, "room", "dataset", "create", "-t", "pets", "--columns", "id int, name text")
        assert created.returncode == 0, created
        inserted = await meshagent_cli(env, "room", "dataset", "insert", "-t", "pets", "--json", '[{"id": 1, "name": "Rex"}, {"id": 2, "name": "Tom"}]')
        assert inserted.returncode == 0, inserted
        queried = await meshagent_cli(env, "room", "dataset", "sql", "-q", "select name from pets where id = 2", "--format", "json")
        assert queried.returncode == 0, queried
        assert json.loads(queried.stdout) == [{"name": "Tom"}]
        async with room_client(server, room, "checker") as checker:
            assert await checker.datasets.count(table="pets") == 2

    run(scenario(), timeout=100)
