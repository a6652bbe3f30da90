"""The room's built-in tools describe their arguments (issue 12 point 4): every tool listed by
`room.list_toolkits` has an input_spec the SDK's own parser reads, with a JSON Schema that is
valid, and the arguments the SDK really sends for its calls satisfy that schema."""

import jsonschema
import pyarrow as pa
from meshagent.api.room_server_client import BinaryContent, Content, JsonContent, ToolContentSpec

from helpers import enable_messaging, room_client, run
from test_sync import SCHEMA


def builtin(toolkits):
    return [k for k in toolkits if k.participant_id is None]


def test_every_builtin_tool_has_a_valid_input_schema(server, room):
    async def scenario():
        async with room_client(server, room, "lister") as client:
            kits = builtin(await client.list_toolkits())
            assert len(kits) >= 12, [k.name for k in kits]
            problems = []
            for kit in kits:
                assert kit.tools, f"{kit.name} lists no tools"
                for tool in kit.tools:
                    name = f"{kit.name}.{tool.name}"
                    # list_toolkits parsed it with ToolContentSpec.from_json; None = missing.
                    if not isinstance(tool.input_spec, ToolContentSpec) or tool.input_schema is None:
                        problems.append(f"{name}: no input_spec schema")
                        continue
                    if tool.output_spec is None:
                        problems.append(f"{name}: no output_spec")
                    schema = tool.input_schema
                    try:
                        jsonschema.Draft202012Validator.check_schema(schema)
                    except jsonschema.SchemaError as e:
                        problems.append(f"{name}: invalid schema: {e.message}")
                        continue
                    if schema.get("type") != "object":
                        problems.append(f"{name}: schema is not an object schema")
                    for prop, spec in schema.get("properties", {}).items():
                        if not spec.get("description"):
                            problems.append(f"{name}.{prop}: no description")
            assert not problems, "\n".join(problems)

    run(scenario())


async def first_chunk(stream, seen: list):
    """Passes a request stream through, keeping its first chunk."""
    first = True
    async for chunk in stream:
        if first:
            seen.append(chunk)
            first = False
        yield chunk


def record_calls(client) -> list:
    """Wraps client.invoke to keep (toolkit, tool, arguments) of each call: the JSON, the
    binary headers, or the start chunk of a stream, as the server receives them."""
    calls = []
    original = client.invoke

    async def invoke(*, toolkit, tool, input=None, **kwargs):
        if isinstance(input, (dict, Content)) or input is None:
            calls.append((toolkit, tool, input))
            return await original(toolkit=toolkit, tool=tool, input=input, **kwargs)
        seen: list = []
        calls.append((toolkit, tool, seen))
        return await original(toolkit=toolkit, tool=tool, input=first_chunk(input, seen), **kwargs)

    client.invoke = invoke
    return calls


def arguments_of(sent):
    if isinstance(sent, list):  # a stream: its start chunk
        sent = sent[0] if sent else None
    if isinstance(sent, dict):
        return sent
    if isinstance(sent, JsonContent):
        return sent.json
    if isinstance(sent, BinaryContent):
        return sent.headers
    return {}


def test_the_arguments_the_sdk_sends_match_each_tools_schema(server, room):
    async def scenario():
        async with room_client(server, room, "caller") as client:
            schemas = {
                (k.name, t.name): t.input_schema for k in builtin(await client.list_toolkits()) for t in k.tools
            }
            calls = record_calls(client)

            await client.queues.open(name="jobs")
            await client.queues.send(name="jobs", message={"n": 1.5})
            await client.queues.receive(name="jobs", wait=False)
            await client.queues.list()
            await client.queues.drain(name="jobs")
            await client.queues.close(name="jobs")

            await enable_messaging(client)
            await client.messaging.broadcast_message(type="hello", message={"x": 1}, attachment=b"\x01")

            await client.storage.upload(path="notes/a.txt", data=b"hello")
            await client.storage.exists(path="notes/a.txt")
            await client.storage.stat(path="notes/a.txt")
            await client.storage.list(path="notes")
            await client.storage.download(path="notes/a.txt")
            await client.storage.download_url(path="notes/a.txt")
            await client.storage.move(source_path="notes/a.txt", destination_path="notes/b.txt")
            await client.storage.delete(path="notes/b.txt")

            client.developer.info("a line", extra={"k": "v"})  # fire-and-forget in the SDK
            await client.developer.log(type="custom", data={"k": 1})

            d = client.datasets
            await d.create_table_with_schema(name="people", schema={"id": pa.int64(), "name": pa.string()})
            await d.insert(table="people", records=[{"id": 1, "name": "Ada"}])
            await d.count(table="people", where="id = 1")
            await d.inspect(table="people")
            await d.sql(query="select name from people")
            await d.update(table="people", where="id = 1", values={"name": "Grace"})
            await d.delete(table="people", where="id = 2")
            await d.list_tables()
            await d.drop_table(name="people")

            db = client.sqlite.database("app")
            await db.create_database()
            await db.execute_sql_statement(query="create table kv (k text, v integer)")
            await db.execute_sql(query="insert into kv values (?, ?)", params=["a", 1])
            await db.list_tables()
            await client.sqlite.list_databases()

            await client.memory.create(name="kb")
            await client.memory.ingest_text(name="kb", text="Paris is the capital of France.")
            await client.memory.recall(name="kb", query="capital", limit=2)
            await client.memory.list()

            await client.sync.create(path="s.list", json={"list": {"items": []}}, schema=SCHEMA)
            await client.sync.describe(path="s.list")

            await client.services.list()
            await client.mounts.list()

            checked, problems = set(), []
            for toolkit, tool, sent in calls:
                schema = schemas.get((toolkit, tool))
                if schema is None:
                    problems.append(f"{toolkit}.{tool} is not listed")
                    continue
                try:
                    jsonschema.validate(arguments_of(sent), schema)
                    checked.add(f"{toolkit}.{tool}")
                except jsonschema.ValidationError as e:
                    problems.append(f"{toolkit}.{tool}: {e.message} in {arguments_of(sent)}")
            assert not problems, "\n".join(problems)
            # streams (upload, insert, create_table) and unary calls of every kind were seen
            for expected in ("storage.upload", "dataset.insert", "dataset.create_table", "queues.send",
                             "sqlite.execute_sql", "memory.recall", "messaging.broadcast", "sync.create"):
                assert expected in checked, f"{expected} not among {sorted(checked)}"

    run(scenario())
