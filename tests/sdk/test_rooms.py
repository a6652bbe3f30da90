"""Rooms and sessions through MeshAgent's REST API: the official `meshagent rooms` CLI and the
SDK's `Meshagent` client against `roomdeck serve` (protocol doc §9, §10)."""

import json

from meshagent.api import RoomException
from meshagent.api.client import Meshagent, PermissionDeniedError
from meshagent.api.participant_token import ApiScope

from helpers import PROJECT_ID, expect_refused, make_token, meshagent_cli, meshagent_cli_env, room_client, run


def admin_token() -> str:
    # The REST routes want a server-signed token with the admin grant; its room is irrelevant.
    return make_token("admin", "anything", scope=ApiScope.full())


def json_after_first_line(stdout: str):
    """`rooms create|get` print a progress line, then the room as JSON."""
    return json.loads(stdout[stdout.index("{"):])


def test_cli_rooms_create_list_get_update_delete(server, room, tmp_path):
    env = meshagent_cli_env(server, room, admin_token(), home=tmp_path)

    async def scenario():
        made = await meshagent_cli(
            env, "rooms", "create", room, "--no-owner", "--metadata", '{"purpose": "test"}',
            "--annotations", '{"team": "a"}',
        )
        assert made.returncode == 0, made
        created = json_after_first_line(made.stdout)
        assert created["name"] == room
        assert created["metadata"] == {"purpose": "test"}
        assert created["annotations"] == {"team": "a"}
        assert created["enabled"] is True

        again = await meshagent_cli(env, "rooms", "create", room, "--no-owner", "--if-not-exists")
        assert again.returncode == 0, again
        assert json_after_first_line(again.stdout)["id"] == created["id"]

        listed = await meshagent_cli(env, "rooms", "list", "-o", "json")
        assert listed.returncode == 0, listed
        assert room in [r["name"] for r in json.loads(listed.stdout)]

        got = await meshagent_cli(env, "rooms", "get", room)
        assert got.returncode == 0, got
        assert json_after_first_line(got.stdout) == created

        disabled = await meshagent_cli(env, "rooms", "update", "--name", room, "--disabled")
        assert disabled.returncode == 0, disabled
        refused = await expect_refused(room_client(server, room, "alice"))
        assert type(refused).__name__ == "RoomDisabledError", repr(refused)

        # (Each CLI run takes seconds; the rest of the set-up goes through the SDK client.)
        async with Meshagent(base_url=server.http_url, token=admin_token()) as api:
            await api.update_room(project_id=PROJECT_ID, room_id=created["id"], name=room, enabled=True)
            async with room_client(server, room, "alice") as alice:
                assert alice.session_id
            # Delete is refused while a room is active (its session lasts the idle timeout),
            # so it is shown on a room nobody joined.
            other = f"{room}-gone"[:64]
            await api.create_room(project_id=PROJECT_ID, name=other)
        deleted = await meshagent_cli(env, "rooms", "delete", "--name", other)
        assert deleted.returncode == 0, deleted
        missing = await meshagent_cli(env, "rooms", "get", other)
        assert missing.returncode == 1 and "room not found" in missing.stdout, missing

    run(scenario(), timeout=120)


def test_sdk_rest_client_rooms_status_and_sessions(server, room):
    async def scenario():
        async with Meshagent(base_url=server.http_url, token=admin_token()) as api:
            made = await api.create_room(project_id=PROJECT_ID, name=room, if_not_exists=True)
            assert made.name == room
            assert (await api.get_room(project_id=PROJECT_ID, name=made.id)).name == room
            page = await api.list_rooms_page(project_id=PROJECT_ID, page_size=500, filter=room)
            assert [r.name for r in page.rooms] == [room]

            status = await api.get_room_status(project_id=PROJECT_ID, name=room)
            assert status.status == "Unallocated"
            async with room_client(server, room, "alice") as alice:
                status = await api.get_room_status(project_id=PROJECT_ID, name=room)
                assert status.status == "Allocated" and status.allocated_at is not None
                sessions = await api.list_recent_room_sessions(PROJECT_ID, room)
                assert sessions[0].id == alice.session_id
                assert sessions[0].is_active and sessions[0].room_name == room

            try:
                await api.get_room(project_id=PROJECT_ID, name=f"{room}-missing")
            except RoomException as ex:
                assert "not found" in str(ex)
            else:
                raise AssertionError("a missing room was found")

    run(scenario())


def test_rest_refuses_tokens_without_the_admin_grant(server, room):
    async def scenario():
        async with Meshagent(base_url=server.http_url, token=make_token("bot", room)) as api:
            try:
                await api.list_rooms(project_id=PROJECT_ID)
            except PermissionDeniedError as ex:
                assert "admin" in str(ex), repr(ex)
            else:
                raise AssertionError("an agent token listed the rooms")

    run(scenario())
