"""Every public async method of every sub-client of the SDK's `RoomClient`, called against
`roomdeck serve`: each one works, or is refused with an error that says why a local room
cannot do it (never "no tool named ..."). The list of methods comes from the SDK's own
classes, so a method this table does not know fails the test: a new SDK version shows its
new gaps here. The README's "SDK compatibility" table is this one in prose.

The server runs with a container CLI that does not exist (as in test_containers.py), so the
containers rows do not depend on what this machine has installed."""

from __future__ import annotations

import asyncio
import inspect
import uuid
from typing import Any, Callable

import pyarrow as pa
import pytest
from meshagent.api import RoomClient, RoomException, WebSocketClientProtocol
from meshagent.api.room_server_client import DatasetIndexConfig, SqliteSqlCommand
from meshagent.api.schema import ChildProperty, ElementType, MeshSchema, ValueProperty

from helpers import enable_messaging, room_client, run

NO_ENGINE = {"ROOMDECK_CONTAINER_CLI": "roomdeck-test-no-such-engine"}

SCHEMA = MeshSchema(
    root_tag_name="list",
    elements=[
        ElementType(tag_name="list", properties=[ChildProperty(name="items", child_tag_names=["item"])]),
        ElementType(tag_name="item", properties=[ValueProperty(name="name", type="string")]),
    ],
)

# Errors that mean "roomdeck never heard of this": none may answer any method.
UNKNOWN = ("no tool named", "has no toolkit", "unknown tool")


def sdk_methods() -> list[str]:
    """`client.method` for every public coroutine or async generator of every sub-client."""
    protocol = WebSocketClientProtocol(url="ws://127.0.0.1:1/rooms/x", token="t")
    room = RoomClient(protocol_factory=protocol.create_factory())
    names = []
    for attr, client in vars(room).items():
        if attr.startswith("_") or attr == "protocol":
            continue
        if not type(client).__module__.startswith("meshagent"):
            continue
        for name, fn in inspect.getmembers(type(client)):
            if name.startswith("_"):
                continue
            if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
                names.append(f"{attr}.{name}")
    return sorted(names)


class Ctx:
    """What the calls share: two connected clients and names made fresh per test run."""

    def __init__(self, alice: RoomClient, bob: RoomClient):
        self.alice, self.bob = alice, bob
        self.tag = uuid.uuid4().hex[:8]

    def bob_participant(self):
        return self.alice.messaging.get_participant(self.bob.local_participant.id)


async def first(items) -> Any:
    """The first item of an async iterator (what a caller of a stream sees first)."""
    async for item in items:
        return item
    return None


async def chunks(*parts: bytes):
    for p in parts:
        yield p


async def batches():
    yield pa.RecordBatch.from_pylist([{"id": 9, "name": "nine"}], schema=pa.schema([("id", pa.int64()), ("name", pa.string())]))


async def dataset_table(c: Ctx, name: str) -> str:
    await c.alice.datasets.create_table_with_schema(name=name, schema={"id": pa.int64(), "name": pa.string()})
    await c.alice.datasets.insert(table=name, records=[{"id": 1, "name": "one"}, {"id": 2, "name": "two"}])
    return name


async def sqlite_db(c: Ctx, name: str) -> str:
    await c.alice.sqlite.create_database(name=name)
    await c.alice.sqlite.execute_sql_statement(database=name, query="create table t (id integer, name text)")
    await c.alice.sqlite.execute_sql_statement(database=name, query="insert into t values (1, 'one')")
    return name


async def memory(c: Ctx, name: str) -> str:
    await c.alice.memory.create(name=name)
    return name


async def answered_stream(c: Ctx):
    """alice opens a messaging stream that bob accepts."""
    def accept(request):
        asyncio.get_running_loop().create_task(request.accept())

    c.bob.messaging.on("stream_requested", accept)
    await enable_messaging(c.alice, c.bob)
    stream = await c.alice.messaging.stream(to=c.bob_participant(), type="t", message={})
    await stream.close()


async def logs_after_a_log(c: Ctx):
    logs = c.alice.developer.logs()
    reading = asyncio.ensure_future(first(logs))
    await asyncio.sleep(0.2)
    await c.bob.developer.log(type="surface", data={"n": 1})
    return await reading


async def watch_an_insert(c: Ctx):
    table = await dataset_table(c, f"watched_{c.tag}")
    events = c.alice.datasets.watch_table(table=table, poll_interval_seconds=0.05)
    return await first(events)


async def sql_query(client, db: str | None, c: Ctx):
    """open_sql_query then read_sql_query on its id."""
    if db is None:
        await dataset_table(c, f"q_{c.tag}")
        query = await c.alice.datasets.open_sql_query(query=f"select * from q_{c.tag}")
    else:
        await sqlite_db(c, db)
        query = await c.alice.sqlite.open_sql_query(database=db, query="select * from t")
    return query


async def read_query(c: Ctx, kind: str):
    query = await sql_query(None, None if kind == "datasets" else f"rq_{c.tag}", c)
    client = c.alice.datasets if kind == "datasets" else c.alice.sqlite
    return await first(client.read_sql_query(query_id=query.query_id))


async def close_query(c: Ctx, kind: str, how: str):
    query = await sql_query(None, None if kind == "datasets" else f"cq_{c.tag}", c)
    client = c.alice.datasets if kind == "datasets" else c.alice.sqlite
    return await getattr(client, how)(query_id=query.query_id)


async def uploaded(c: Ctx, path: str) -> str:
    await c.alice.storage.upload(path=path, data=b"hello surface")
    return path


# Each row: (expectation, the call). "works" must return without an error; ("refused", why)
# must raise a RoomException whose message contains `why` (the reason a local room gives).
Call = Callable[[Ctx], Any]
NO_ENGINE_WHY = "neither podman nor docker"
T: dict[str, tuple[Any, Call]] = {
    # --- agents
    "agents.invoke_tool": ("works", lambda c: c.alice.agents.invoke_tool(toolkit="queues", tool="list", input={})),
    "agents.list_toolkits": ("works", lambda c: c.alice.agents.list_toolkits()),
    "agents.make_call": (("refused", "cannot place calls to agent URLs"), lambda c: c.alice.agents.make_call(name="agent", url="http://127.0.0.1:9/agent", arguments={})),
    # --- containers (no engine on the server: each says what is missing)
    **{
        f"containers.{m}": (("refused", why), call)
        for m, why, call in [
            ("build", NO_ENGINE_WHY, lambda c: c.alice.containers.build(tag="x:1", mount_path="/", context_path=".", chunks=chunks(b""))),
            ("cancel_build", NO_ENGINE_WHY, lambda c: c.alice.containers.cancel_build(build_id="b1")),
            ("delete", NO_ENGINE_WHY, lambda c: c.alice.containers.delete(container_id="c1")),
            ("delete_build", NO_ENGINE_WHY, lambda c: c.alice.containers.delete_build(build_id="b1")),
            ("delete_image", NO_ENGINE_WHY, lambda c: c.alice.containers.delete_image(image="busybox")),
            ("exec", NO_ENGINE_WHY, lambda c: _exec(c)),
            ("inspect_image", NO_ENGINE_WHY, lambda c: c.alice.containers.inspect_image(image_id="busybox")),
            ("list", NO_ENGINE_WHY, lambda c: c.alice.containers.list()),
            ("list_builds", NO_ENGINE_WHY, lambda c: c.alice.containers.list_builds()),
            ("list_images", NO_ENGINE_WHY, lambda c: c.alice.containers.list_images()),
            ("load", NO_ENGINE_WHY, lambda c: c.alice.containers.load(archive_path="/x.tar")),
            ("load_image", NO_ENGINE_WHY, lambda c: c.alice.containers.load_image(mounts=[], archive_path="/x.tar")),
            ("pull_image", NO_ENGINE_WHY, lambda c: c.alice.containers.pull_image(tag="busybox")),
            ("push_image", NO_ENGINE_WHY, lambda c: c.alice.containers.push_image(tag="busybox")),
            ("run", NO_ENGINE_WHY, lambda c: c.alice.containers.run(image="busybox", command="true")),
            ("run_service", NO_ENGINE_WHY, lambda c: c.alice.containers.run_service(service_id="s1")),
            ("save_image", NO_ENGINE_WHY, lambda c: c.alice.containers.save_image(tag="busybox", mounts=[], archive_path="/x.tar")),
            ("stop", NO_ENGINE_WHY, lambda c: c.alice.containers.stop(container_id="c1")),
            ("wait_for_exit", NO_ENGINE_WHY, lambda c: c.alice.containers.wait_for_exit(container_id="c1")),
            ("wait_for_exit_status", NO_ENGINE_WHY, lambda c: c.alice.containers.wait_for_exit_status(container_id="c1")),
        ]
    },
    # --- datasets
    "datasets.add_columns": ("works", lambda c: _then(dataset_table(c, f"ac_{c.tag}"), lambda t: c.alice.datasets.add_columns(table=t, new_columns={"age": pa.int32()}))),
    "datasets.cancel_sql_query": ("works", lambda c: close_query(c, "datasets", "cancel_sql_query")),
    "datasets.close_sql_query": ("works", lambda c: close_query(c, "datasets", "close_sql_query")),
    "datasets.count": ("works", lambda c: _then(dataset_table(c, f"co_{c.tag}"), lambda t: c.alice.datasets.count(table=t))),
    "datasets.create_branch": (("refused", "have no branches"), lambda c: c.alice.datasets.create_branch(branch="dev")),
    "datasets.create_index": ("works", lambda c: _then(dataset_table(c, f"ci_{c.tag}"), lambda t: c.alice.datasets.create_index(table=t, config=DatasetIndexConfig(column="id", index_type="BTREE")))),
    "datasets.create_table_from_data": ("works", lambda c: c.alice.datasets.create_table_from_data(name=f"fd_{c.tag}", data=[{"id": 1}])),
    "datasets.create_table_from_data_stream": ("works", lambda c: c.alice.datasets.create_table_from_data_stream(name=f"fs_{c.tag}", chunks=batches())),
    "datasets.create_table_from_json_data": ("works", lambda c: c.alice.datasets.create_table_from_json_data(name=f"fj_{c.tag}", data=[{"id": 1, "name": "x"}])),
    "datasets.create_table_with_schema": ("works", lambda c: c.alice.datasets.create_table_with_schema(name=f"ws_{c.tag}", schema={"id": pa.int64()})),
    "datasets.delete": ("works", lambda c: _then(dataset_table(c, f"de_{c.tag}"), lambda t: c.alice.datasets.delete(table=t, where="id = 1"))),
    "datasets.delete_branch": (("refused", "have no branches"), lambda c: c.alice.datasets.delete_branch(branch="dev")),
    "datasets.drop_columns": ("works", lambda c: _then(dataset_table(c, f"dc_{c.tag}"), lambda t: c.alice.datasets.drop_columns(table=t, columns=["name"]))),
    "datasets.drop_index": ("works", lambda c: _then(dataset_table(c, f"di_{c.tag}"), lambda t: _then(c.alice.datasets.create_index(table=t, config=DatasetIndexConfig(column="id", index_type="BTREE")), lambda _: _drop_first_index(c, t)))),
    "datasets.drop_table": ("works", lambda c: _then(dataset_table(c, f"dt_{c.tag}"), lambda t: c.alice.datasets.drop_table(name=t))),
    "datasets.execute_sql": ("works", lambda c: _then(dataset_table(c, f"es_{c.tag}"), lambda t: c.alice.datasets.execute_sql(query=f"select * from {t}"))),
    "datasets.execute_sql_statement": ("works", lambda c: _then(dataset_table(c, f"et_{c.tag}"), lambda t: c.alice.datasets.execute_sql_statement(query=f"delete from {t} where id = 2"))),
    "datasets.insert": ("works", lambda c: _then(dataset_table(c, f"in_{c.tag}"), lambda t: c.alice.datasets.insert(table=t, records=[{"id": 3, "name": "three"}]))),
    "datasets.insert_stream": ("works", lambda c: _then(dataset_table(c, f"is_{c.tag}"), lambda t: c.alice.datasets.insert_stream(table=t, chunks=batches()))),
    "datasets.inspect": ("works", lambda c: _then(dataset_table(c, f"ip_{c.tag}"), lambda t: c.alice.datasets.inspect(table=t))),
    "datasets.list_branches": ("works", lambda c: c.alice.datasets.list_branches()),
    "datasets.list_indexes": ("works", lambda c: _then(dataset_table(c, f"li_{c.tag}"), lambda t: c.alice.datasets.list_indexes(table=t))),
    "datasets.list_tables": ("works", lambda c: c.alice.datasets.list_tables()),
    "datasets.list_versions": ("works", lambda c: _then(dataset_table(c, f"lv_{c.tag}"), lambda t: c.alice.datasets.list_versions(table=t))),
    "datasets.merge": ("works", lambda c: _then(dataset_table(c, f"me_{c.tag}"), lambda t: c.alice.datasets.merge(table=t, on="id", records=[{"id": 1, "name": "uno"}]))),
    "datasets.merge_stream": ("works", lambda c: _then(dataset_table(c, f"ms_{c.tag}"), lambda t: c.alice.datasets.merge_stream(table=t, on="id", chunks=batches()))),
    "datasets.open_sql_query": ("works", lambda c: sql_query(None, None, c)),
    "datasets.optimize": ("works", lambda c: _then(dataset_table(c, f"op_{c.tag}"), lambda t: c.alice.datasets.optimize(table=t))),
    "datasets.read_sql_query": ("works", lambda c: read_query(c, "datasets")),
    "datasets.rename_table": ("works", lambda c: _then(dataset_table(c, f"rn_{c.tag}"), lambda t: c.alice.datasets.rename_table(name=t, new_name=f"rn2_{c.tag}"))),
    "datasets.restore": (("refused", "keeps only the current version"), lambda c: _then(dataset_table(c, f"rs_{c.tag}"), lambda t: c.alice.datasets.restore(table=t, version=0))),
    "datasets.search": ("works", lambda c: _then(dataset_table(c, f"se_{c.tag}"), lambda t: c.alice.datasets.search(table=t, where="id = 1"))),
    "datasets.search_stream": ("works", lambda c: _then(dataset_table(c, f"ss_{c.tag}"), lambda t: first(c.alice.datasets.search_stream(table=t)))),
    "datasets.sql": ("works", lambda c: _then(dataset_table(c, f"sq_{c.tag}"), lambda t: c.alice.datasets.sql(query=f"select count(*) as n from {t}"))),
    "datasets.sql_stream": ("works", lambda c: _then(dataset_table(c, f"st_{c.tag}"), lambda t: first(c.alice.datasets.sql_stream(query=f"select * from {t}")))),
    "datasets.stats": ("works", lambda c: _then(dataset_table(c, f"sa_{c.tag}"), lambda t: c.alice.datasets.stats(table=t))),
    "datasets.update": ("works", lambda c: _then(dataset_table(c, f"up_{c.tag}"), lambda t: c.alice.datasets.update(table=t, where="id = 1", values={"name": "uno"}))),
    "datasets.watch_table": (("refused", "does not push table changes"), watch_an_insert),
    # --- developer
    "developer.log": ("works", lambda c: c.alice.developer.log(type="surface", data={"ok": True})),
    "developer.logs": ("works", logs_after_a_log),
    # --- livekit
    "livekit.get_connection_info": (("refused", "has no LiveKit server"), lambda c: c.alice.livekit.get_connection_info()),
    # --- memory
    "memory.create": ("works", lambda c: c.alice.memory.create(name=f"m_{c.tag}")),
    "memory.delete_entities": ("works", lambda c: _then(memory(c, f"mde_{c.tag}"), lambda m: c.alice.memory.delete_entities(name=m, entity_ids=["x"]))),
    "memory.delete_relationships": ("works", lambda c: _then(memory(c, f"mdr_{c.tag}"), lambda m: c.alice.memory.delete_relationships(name=m, relationships=[]))),
    "memory.drop": ("works", lambda c: _then(memory(c, f"mdp_{c.tag}"), lambda m: c.alice.memory.drop(name=m))),
    "memory.ingest_file": ("works", lambda c: _then(memory(c, f"mif_{c.tag}"), lambda m: c.alice.memory.ingest_file(name=m, text="Paris is in France.", mime_type="text/plain"))),
    "memory.ingest_from_storage": ("works", lambda c: _then(uploaded(c, f"mem/{c.tag}.txt"), lambda p: _then(memory(c, f"mis_{c.tag}"), lambda m: c.alice.memory.ingest_from_storage(name=m, paths=[p])))),
    "memory.ingest_from_table": (("refused", "is not available in roomdeck"), lambda c: _then(memory(c, f"mit_{c.tag}"), lambda m: c.alice.memory.ingest_from_table(name=m, table="t"))),
    "memory.ingest_image": ("works", lambda c: _then(memory(c, f"mii_{c.tag}"), lambda m: c.alice.memory.ingest_image(name=m, caption="a cat on a mat"))),
    "memory.ingest_text": ("works", lambda c: _then(memory(c, f"mit2_{c.tag}"), lambda m: c.alice.memory.ingest_text(name=m, text="Paris is in France."))),
    "memory.inspect": ("works", lambda c: _then(memory(c, f"mip_{c.tag}"), lambda m: c.alice.memory.inspect(name=m))),
    "memory.list": ("works", lambda c: c.alice.memory.list()),
    "memory.optimize": ("works", lambda c: _then(memory(c, f"mop_{c.tag}"), lambda m: c.alice.memory.optimize(name=m))),
    "memory.query": ("works", lambda c: _then(memory(c, f"mq_{c.tag}"), lambda m: c.alice.memory.query(name=m, statement="MATCH (n) RETURN n"))),
    "memory.recall": ("works", lambda c: _then(memory(c, f"mr_{c.tag}"), lambda m: c.alice.memory.recall(name=m, query="France"))),
    "memory.upsert_nodes": ("works", lambda c: _then(memory(c, f"mun_{c.tag}"), lambda m: c.alice.memory.upsert_nodes(name=m, records=[{"id": "paris", "name": "Paris"}]))),
    "memory.upsert_relationships": ("works", lambda c: _then(memory(c, f"mur_{c.tag}"), lambda m: c.alice.memory.upsert_relationships(name=m, records=[]))),
    "memory.upsert_table": ("works", lambda c: _then(memory(c, f"mut_{c.tag}"), lambda m: c.alice.memory.upsert_table(name=m, table="notes", records=[{"id": "1", "text": "x"}]))),
    # --- messaging
    "messaging.broadcast_message": ("works", lambda c: _then(enable_messaging(c.alice, c.bob), lambda _: c.alice.messaging.broadcast_message(type="t", message={}))),
    "messaging.send_message": ("works", lambda c: _then(enable_messaging(c.alice, c.bob), lambda _: c.alice.messaging.send_message(to=c.bob_participant(), type="t", message={}))),
    "messaging.start": ("works", lambda c: _then(c.bob.messaging.stop(), lambda _: c.bob.messaging.start())),
    "messaging.stop": ("works", lambda c: c.bob.messaging.stop()),
    "messaging.stream": ("works", answered_stream),
    # --- mounts
    "mounts.list": ("works", lambda c: c.alice.mounts.list()),
    # --- queues
    "queues.close": ("works", lambda c: _then(c.alice.queues.open(name=f"qc_{c.tag}"), lambda _: c.alice.queues.close(name=f"qc_{c.tag}"))),
    "queues.drain": ("works", lambda c: _then(c.alice.queues.open(name=f"qd_{c.tag}"), lambda _: c.alice.queues.drain(name=f"qd_{c.tag}"))),
    "queues.list": ("works", lambda c: c.alice.queues.list()),
    "queues.open": ("works", lambda c: c.alice.queues.open(name=f"qo_{c.tag}")),
    "queues.receive": ("works", lambda c: c.alice.queues.receive(name=f"qr_{c.tag}", create=True, wait=False)),
    "queues.send": ("works", lambda c: c.alice.queues.send(name=f"qs_{c.tag}", message={"x": 1}, create=True)),
    # --- services
    "services.list": ("works", lambda c: c.alice.services.list()),
    "services.restart": (("refused", "no service"), lambda c: c.alice.services.restart(service_id="no-such-service")),
    # --- sqlite
    "sqlite.add_columns": ("works", lambda c: _then(sqlite_db(c, f"sac_{c.tag}"), lambda d: c.alice.sqlite.add_columns(database=d, table="t", new_columns={"age": pa.int32()}))),
    "sqlite.backup": ("works", lambda c: _then(sqlite_db(c, f"sbk_{c.tag}"), lambda d: first(c.alice.sqlite.backup(database=d)))),
    "sqlite.cancel_sql_query": ("works", lambda c: close_query(c, "sqlite", "cancel_sql_query")),
    "sqlite.close_sql_query": ("works", lambda c: close_query(c, "sqlite", "close_sql_query")),
    "sqlite.count": ("works", lambda c: _then(sqlite_db(c, f"sco_{c.tag}"), lambda d: c.alice.sqlite.count(database=d, table="t"))),
    "sqlite.create_database": ("works", lambda c: c.alice.sqlite.create_database(name=f"scd_{c.tag}")),
    "sqlite.create_table_from_data": ("works", lambda c: _then(c.alice.sqlite.create_database(name=f"sfd_{c.tag}"), lambda _: c.alice.sqlite.create_table_from_data(database=f"sfd_{c.tag}", name="t", data=[{"id": 1}]))),
    "sqlite.create_table_with_schema": ("works", lambda c: _then(c.alice.sqlite.create_database(name=f"sws_{c.tag}"), lambda _: c.alice.sqlite.create_table_with_schema(database=f"sws_{c.tag}", name="t", schema={"id": pa.int64()}))),
    "sqlite.delete": ("works", lambda c: _then(sqlite_db(c, f"sde_{c.tag}"), lambda d: c.alice.sqlite.delete(database=d, table="t", where="id = 1"))),
    "sqlite.drop_columns": ("works", lambda c: _then(sqlite_db(c, f"sdc_{c.tag}"), lambda d: c.alice.sqlite.drop_columns(database=d, table="t", columns=["name"]))),
    "sqlite.drop_database": ("works", lambda c: _then(sqlite_db(c, f"sdd_{c.tag}"), lambda d: c.alice.sqlite.drop_database(name=d))),
    "sqlite.drop_table": ("works", lambda c: _then(sqlite_db(c, f"sdt_{c.tag}"), lambda d: c.alice.sqlite.drop_table(database=d, name="t"))),
    "sqlite.execute_sql": ("works", lambda c: _then(sqlite_db(c, f"ses_{c.tag}"), lambda d: c.alice.sqlite.execute_sql(database=d, query="select * from t"))),
    "sqlite.execute_sql_batch": ("works", lambda c: _then(sqlite_db(c, f"seb_{c.tag}"), lambda d: c.alice.sqlite.execute_sql_batch(database=d, commands=[_sql_command("insert into t values (2, 'two')")]))),
    "sqlite.execute_sql_statement": ("works", lambda c: _then(sqlite_db(c, f"set_{c.tag}"), lambda d: c.alice.sqlite.execute_sql_statement(database=d, query="delete from t"))),
    "sqlite.flush_database": ("works", lambda c: _then(sqlite_db(c, f"sfl_{c.tag}"), lambda d: c.alice.sqlite.flush_database(name=d))),
    "sqlite.get_database_settings": ("works", lambda c: _then(sqlite_db(c, f"sgs_{c.tag}"), lambda d: c.alice.sqlite.get_database_settings(name=d))),
    "sqlite.insert": ("works", lambda c: _then(sqlite_db(c, f"sin_{c.tag}"), lambda d: c.alice.sqlite.insert(database=d, table="t", records=[{"id": 5, "name": "five"}]))),
    "sqlite.inspect": ("works", lambda c: _then(sqlite_db(c, f"sip_{c.tag}"), lambda d: c.alice.sqlite.inspect(database=d, table="t"))),
    "sqlite.inspect_database": ("works", lambda c: _then(sqlite_db(c, f"sid_{c.tag}"), lambda d: c.alice.sqlite.inspect_database(name=d))),
    "sqlite.list_databases": ("works", lambda c: c.alice.sqlite.list_databases()),
    "sqlite.list_tables": ("works", lambda c: _then(sqlite_db(c, f"slt_{c.tag}"), lambda d: c.alice.sqlite.list_tables(database=d))),
    "sqlite.open_sql_query": ("works", lambda c: sql_query(None, f"soq_{c.tag}", c)),
    "sqlite.read_sql_query": ("works", lambda c: read_query(c, "sqlite")),
    "sqlite.rename_table": ("works", lambda c: _then(sqlite_db(c, f"srn_{c.tag}"), lambda d: c.alice.sqlite.rename_table(database=d, name="t", new_name="u"))),
    "sqlite.restore": ("works", lambda c: _then(sqlite_db(c, f"srs_{c.tag}"), lambda d: _restore_copy(c, d))),
    "sqlite.search": ("works", lambda c: _then(sqlite_db(c, f"sse_{c.tag}"), lambda d: c.alice.sqlite.search(database=d, table="t"))),
    "sqlite.search_stream": ("works", lambda c: _then(sqlite_db(c, f"sss_{c.tag}"), lambda d: first(c.alice.sqlite.search_stream(database=d, table="t")))),
    "sqlite.sql": ("works", lambda c: _then(sqlite_db(c, f"ssq_{c.tag}"), lambda d: c.alice.sqlite.sql(database=d, query="select * from t"))),
    "sqlite.sql_stream": ("works", lambda c: _then(sqlite_db(c, f"sst_{c.tag}"), lambda d: first(c.alice.sqlite.sql_stream(database=d, query="select * from t")))),
    "sqlite.update": ("works", lambda c: _then(sqlite_db(c, f"sup_{c.tag}"), lambda d: c.alice.sqlite.update(database=d, table="t", where="id = 1", values={"name": "uno"}))),
    "sqlite.update_database_settings": ("works", lambda c: _then(sqlite_db(c, f"sus_{c.tag}"), lambda d: c.alice.sqlite.update_database_settings(name=d, flush_interval_ms=100))),
    # --- storage
    "storage.delete": ("works", lambda c: _then(uploaded(c, f"s/{c.tag}/del.txt"), lambda p: c.alice.storage.delete(p))),
    "storage.download": ("works", lambda c: _then(uploaded(c, f"s/{c.tag}/dl.txt"), lambda p: c.alice.storage.download(path=p))),
    "storage.download_stream": ("works", lambda c: _then(uploaded(c, f"s/{c.tag}/ds.txt"), lambda p: first(c.alice.storage.download_stream(path=p)))),
    "storage.download_url": ("works", lambda c: _then(uploaded(c, f"s/{c.tag}/du.txt"), lambda p: c.alice.storage.download_url(path=p))),
    "storage.exists": ("works", lambda c: c.alice.storage.exists(path="nothing/here.txt")),
    "storage.list": ("works", lambda c: c.alice.storage.list(path="")),
    "storage.move": ("works", lambda c: _then(uploaded(c, f"s/{c.tag}/mv.txt"), lambda p: c.alice.storage.move(source_path=p, destination_path=f"s/{c.tag}/mv2.txt"))),
    "storage.stat": ("works", lambda c: _then(uploaded(c, f"s/{c.tag}/st.txt"), lambda p: c.alice.storage.stat(path=p))),
    "storage.upload": ("works", lambda c: c.alice.storage.upload(path=f"s/{c.tag}/up.txt", data=b"x")),
    "storage.upload_stream": ("works", lambda c: c.alice.storage.upload_stream(path=f"s/{c.tag}/us.txt", chunks=chunks(b"a", b"b"))),
    # --- sync
    "sync.close": ("works", lambda c: _then(c.alice.sync.open(path=f"sc_{c.tag}.list", schema=SCHEMA), lambda _: c.alice.sync.close(path=f"sc_{c.tag}.list"))),
    "sync.create": ("works", lambda c: c.alice.sync.create(path=f"cr_{c.tag}.list", json={"list": {"items": []}}, schema=SCHEMA)),
    "sync.describe": ("works", lambda c: _then(c.alice.sync.create(path=f"de_{c.tag}.list", schema=SCHEMA), lambda _: c.alice.sync.describe(path=f"de_{c.tag}.list"))),
    "sync.open": ("works", lambda c: c.alice.sync.open(path=f"op_{c.tag}.list", schema=SCHEMA)),
    "sync.start": ("works", lambda c: _then(c.bob.sync.stop(), lambda _: c.bob.sync.start())),
    "sync.stop": ("works", lambda c: c.bob.sync.stop()),
    "sync.sync": ("works", lambda c: _then(c.alice.sync.open(path=f"sy_{c.tag}.list", schema=SCHEMA), lambda _: c.alice.sync.sync(path=f"sy_{c.tag}.list", data=b"\x00\x00"))),
}


async def _then(first_step, then: Callable[[Any], Any]):
    """Await a set-up step, then the call under test on what it returned."""
    value = await first_step
    result = then(value)
    return await result if inspect.isawaitable(result) else result


async def _drop_first_index(c: Ctx, table: str):
    indexes = await c.alice.datasets.list_indexes(table=table)
    return await c.alice.datasets.drop_index(table=table, name=indexes[0].name)


def _sql_command(query: str):
    return SqliteSqlCommand(query=query)


async def _exec(c: Ctx):
    session = c.alice.containers.exec(container_id="c1", command="true")
    if inspect.isawaitable(session):
        session = await session
    return await session.result


async def _restore_copy(c: Ctx, db: str):
    data = b""
    async for chunk in c.alice.sqlite.backup(database=db):
        data += chunk
    return await c.alice.sqlite.restore(database=f"{db}_copy", source=chunks(data))


# Read once, at collection (building a RoomClient needs an event loop, which asyncio.run
# leaves closed after each scenario).
METHODS = sdk_methods()


def test_the_table_knows_every_method_of_the_sdk():
    methods = METHODS
    unknown = sorted(set(methods) - set(T))
    assert not unknown, f"SDK methods the surface table does not cover (add a row): {unknown}"
    stale = sorted(set(T) - set(methods))
    assert not stale, f"rows for methods the SDK no longer has: {stale}"


@pytest.fixture(scope="module")
def surface_server(tmp_path_factory):
    from helpers import RoomdeckServer

    base = tmp_path_factory.mktemp("surface")
    server = RoomdeckServer(data_dir=base / "data", log_path=base / "server.log", env=NO_ENGINE).start()
    yield server
    server.stop()


@pytest.mark.parametrize("method", METHODS)
def test_method_works_or_is_refused_clearly(surface_server, room, method):
    expectation, call = T.get(method, (None, None))
    if call is None:
        pytest.fail(f"{method} has no row in the surface table")

    async def scenario():
        async with (
            room_client(surface_server, room, "alice") as alice,
            room_client(surface_server, room, "bob") as bob,
        ):
            ctx = Ctx(alice, bob)
            try:
                result = call(ctx)
                if inspect.isawaitable(result):
                    await asyncio.wait_for(result, 10)
            except RoomException as e:
                text = str(e)
                assert not any(u in text for u in UNKNOWN), f"{method}: answered as unknown: {text}"
                assert expectation != "works", f"{method} should work, failed: {text!r}"
                assert expectation[1] in text, f"{method}: refusal {text!r} does not say {expectation[1]!r}"
                return
            assert expectation == "works", f"{method} should be refused ({expectation[1]!r}) but worked"

    run(scenario())
