"""The room's storage mounts through the SDK's MountsClient (rsc.py ~10758) and the official
CLI's `room mounts list`: a local room mounts no volumes."""

import json

from helpers import make_token, meshagent_cli, meshagent_cli_env, room_client, run


def test_mounts_list_is_empty_in_a_local_room(server, room, tmp_path):
    async def scenario():
        async with room_client(server, room, "alice") as alice:
            assert await alice.mounts.list() == []
        env = meshagent_cli_env(server, room, make_token("cli", room), home=tmp_path)
        listed = await meshagent_cli(env, "room", "mounts", "list", "-o", "json")
        assert listed.returncode == 0, listed
        assert json.loads(listed.stdout) == []
        table = await meshagent_cli(env, "room", "mounts", "list")
        assert table.returncode == 0, table
        assert "No storage mounts are ready." in table.stdout, table

    run(scenario(), timeout=60)
