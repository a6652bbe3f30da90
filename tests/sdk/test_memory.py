"""Room memories through the SDK's MemoryClient (rsc.py:9446-9893) and the official CLI's
`meshagent room memory` commands."""

import json

import pytest
from meshagent.api import RoomException
from meshagent.api.participant_token import ApiScope, MemoryEntryGrant, MemoryGrant, MemoryPermissions
from meshagent.api.room_server_client import (
    MemoryDetails,
    MemoryEntityRecord,
    MemoryIngestResult,
    MemoryRecallResult,
    MemoryRelationshipRecord,
    MemoryRelationshipSelector,
)

from helpers import make_token, meshagent_cli, meshagent_cli_env, room_client, run

TEXT = (
    "The mitochondria is the powerhouse of the cell. "
    "Paris is the capital city of France and sits on the Seine. "
    "Rust programs are memory safe without a garbage collector. "
    "Ada Lovelace wrote the first published program for the Analytical Engine."
)


def test_create_ingest_recall_drop(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            await alice.memory.create(name="kb")
            assert await alice.memory.list() == ["kb"]
            with pytest.raises(RoomException) as exists:
                await alice.memory.create(name="kb")
            assert exists.value.code == 2002
            await alice.memory.create(name="kb", ignore_exists=True)

            ingested = await alice.memory.ingest_text(name="kb", text=TEXT)
            assert isinstance(ingested, MemoryIngestResult)
            assert ingested.name == "kb"
            assert ingested.stats.sources == 1
            assert ingested.stats.entities >= 4
            assert len(ingested.entity_ids) == ingested.stats.entities

            recalled = await alice.memory.recall(name="kb", query="What is the capital of France?", limit=3)
            assert isinstance(recalled, MemoryRecallResult)
            assert recalled.query == "What is the capital of France?"
            first = recalled.items[0]
            assert first.entity_type == "MEMORY"
            assert "capital city of France" in first.context
            assert first.score >= recalled.items[-1].score
            assert any(r.relationship_type == "MENTIONS" for r in first.relationships)

            details = await alice.memory.inspect(name="kb")
            assert isinstance(details, MemoryDetails)
            assert details.path == "memory/kb"
            assert [d.name for d in details.datasets][:2] == ["Entity", "RELATIONSHIP"]
            assert details.datasets[0].rows == ingested.stats.entities

            optimized = await alice.memory.optimize(name="kb")
            assert optimized.name == "kb"

            await alice.memory.drop(name="kb")
            assert await alice.memory.list() == []
            with pytest.raises(RoomException) as missing:
                await alice.memory.recall(name="kb", query="France")
            assert missing.value.code == 2001
            await alice.memory.drop(name="kb", ignore_missing=True)

    run(scenario())


def test_upsert_nodes_and_relationships_then_query(server, room):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            ns = ["team"]
            await alice.memory.create(name="graph", namespace=ns)
            await alice.memory.upsert_nodes(
                name="graph",
                namespace=ns,
                records=[
                    MemoryEntityRecord(entity_id="ada", name="Ada Lovelace", entity_type="Person", metadata={"born": "1815"}),
                    MemoryEntityRecord(entity_id="charles", name="Charles Babbage", entity_type="Person"),
                    MemoryEntityRecord(entity_id="engine", name="Analytical Engine", entity_type="Machine"),
                ],
            )
            await alice.memory.upsert_relationships(
                name="graph",
                namespace=ns,
                records=[
                    MemoryRelationshipRecord(source_entity_id="ada", target_entity_id="engine", relationship_type="PROGRAMMED"),
                    MemoryRelationshipRecord(source_entity_id="charles", target_entity_id="engine", relationship_type="DESIGNED"),
                ],
            )
            assert await alice.memory.list(namespace=ns) == ["graph"]

            rows = await alice.memory.query(
                name="graph", namespace=ns,
                statement="MATCH (e:Entity) WHERE e.entity_type = 'Person' "
                "RETURN e.entity_id as entity_id, e.name as name, e.born AS born ORDER BY e.name LIMIT 10",
            )
            assert rows == [
                {"entity_id": "ada", "name": "Ada Lovelace", "born": "1815"},
                {"entity_id": "charles", "name": "Charles Babbage", "born": None},
            ]

            rows = await alice.memory.query(
                name="graph", namespace=ns,
                statement="MATCH (a:Person)-[r:DESIGNED]->(b) RETURN a.name, type(r) AS t, b.name",
            )
            assert rows == [{"a.name": "Charles Babbage", "t": "DESIGNED", "b.name": "Analytical Engine"}]

            # MeshAgent's memories toolkit reads relationships like this (meshagent/tools/memories.py)
            rows = await alice.memory.query(
                name="graph", namespace=ns,
                statement="MATCH (r:RELATIONSHIP) WHERE (r.source_entity_id = 'ada' OR r.target_entity_id = 'ada') "
                "RETURN r.source_entity_id as source_entity_id, r.target_entity_name as target_entity_name, "
                "r.relationship_type as relationship_type ORDER BY r.valid_at DESC, r.created_at DESC LIMIT 5",
            )
            assert rows == [{"source_entity_id": "ada", "target_entity_name": "Analytical Engine", "relationship_type": "PROGRAMMED"}]

            with pytest.raises(RoomException) as bad:
                await alice.memory.query(name="graph", namespace=ns, statement="CREATE (n:Person {name: 'x'})")
            assert bad.value.code == 1002
            assert "CREATE" in str(bad.value)

            deleted = await alice.memory.delete_relationships(
                name="graph", namespace=ns,
                relationships=[MemoryRelationshipSelector(source_entity_id="ada", target_entity_id="engine")],
            )
            assert deleted.deleted_relationships == 1
            deleted = await alice.memory.delete_entities(name="graph", namespace=ns, entity_ids=["engine"])
            assert (deleted.deleted_entities, deleted.deleted_relationships) == (1, 1)

    run(scenario())


def test_a_token_without_the_memory_grant_is_refused(server, room):
    async def scenario():
        async with room_client(server, room, "owner") as owner:
            await owner.memory.create(name="kb")
        no_memory = ApiScope.agent_default()
        no_memory.memory = None
        async with room_client(server, room, "nomem", scope=no_memory) as nomem:
            with pytest.raises(RoomException) as denied:
                await nomem.memory.recall(name="kb", query="anything")
            assert denied.value.code == 1001
        read_only = ApiScope.agent_default()
        read_only.memory = MemoryGrant(
            memories=[MemoryEntryGrant(name="kb", permissions=MemoryPermissions(ingest=False, upsert=False))]
        )
        async with room_client(server, room, "reader", scope=read_only) as reader:
            await reader.memory.recall(name="kb", query="anything")
            with pytest.raises(RoomException) as denied:
                await reader.memory.ingest_text(name="kb", text="Hello there.")
            assert denied.value.code == 1001

    run(scenario())


def test_official_cli_memory_commands(server, room, tmp_path):
    env = meshagent_cli_env(server, room, make_token("cli", room), home=tmp_path)

    async def scenario():
        created = await meshagent_cli(env, "room", "memory", "create", "--name", "notes")
        assert created.returncode == 0, created
        assert "Created memory" in created.stdout, created

        ingested = await meshagent_cli(
            env, "room", "memory", "ingest-text", "--name", "notes", "--text", TEXT, "--no-pretty"
        )
        assert ingested.returncode == 0, ingested
        assert json.loads(ingested.stdout)["stats"]["sources"] == 1, ingested

        recalled = await meshagent_cli(
            env, "room", "memory", "recall", "--name", "notes", "--query", "garbage collector", "--no-pretty"
        )
        assert recalled.returncode == 0, recalled
        items = json.loads(recalled.stdout)["items"]
        assert items[0]["context"].startswith("Rust programs"), recalled

        queried = await meshagent_cli(
            env, "room", "memory", "query", "--name", "notes", "--no-pretty",
            "--statement", "MATCH (e:Entity) WHERE e.entity_type = 'CONCEPT' RETURN e.name LIMIT 10",
        )
        assert queried.returncode == 0, queried
        names = {row["e.name"] for row in json.loads(queried.stdout)["results"]}
        assert {"Paris", "France", "Ada Lovelace"} <= names, queried

        listed = await meshagent_cli(env, "room", "memory", "list", "--no-pretty")
        assert json.loads(listed.stdout) == {"memories": ["notes"]}, listed

    run(scenario(), timeout=120)
