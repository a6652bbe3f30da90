"""The official `meshagent` CLI (meshagent-cli==0.56.0) against the server, configured
only through the environment (protocol doc §1)."""

import json

import pytest

from helpers import enable_messaging, make_token, meshagent_cli, meshagent_cli_env, on_message, room_client, run


@pytest.fixture
def cli_env(server, room, tmp_path):
    return meshagent_cli_env(server, room, make_token("cli", room), home=tmp_path)


def test_cli_queue_send_list_receive(server, room, cli_env):
    async def scenario():
        sent = await meshagent_cli(cli_env, "room", "queue", "send", "--queue", "jobs", "--json", '{"n": 1}')
        # `queue send` prints a RoomException and still exits 0 (cli/queue.py:107-108), so
        # the list below is what shows that it worked
        assert sent.returncode == 0, sent

        listed = await meshagent_cli(cli_env, "room", "queue", "list", "-o", "json")
        assert listed.returncode == 0, listed
        assert json.loads(listed.stdout) == {"queues": [{"name": "jobs", "size": 1}]}

        received = await meshagent_cli(cli_env, "room", "queue", "receive", "--queue", "jobs")
        assert received.returncode == 0, received
        assert "{'n': 1}" in received.stdout, received

        empty = await meshagent_cli(cli_env, "room", "queue", "receive", "--queue", "jobs")
        assert empty.returncode == 1, empty
        assert "did not contain any messages" in empty.stdout, empty

    run(scenario(), timeout=100)


def test_cli_messaging_broadcast_reaches_an_sdk_participant(server, room, cli_env):
    async def scenario():
        async with room_client(server, room, "listener") as listener:
            inbox = on_message(listener)
            await enable_messaging(listener)
            done = await meshagent_cli(
                cli_env, "room", "messaging", "broadcast", "--data", '{"text": "hello from the cli"}'
            )
            assert done.returncode == 0, done
            got = await inbox.wait_for(lambda m: m.type == "chat.broadcast", what="the CLI's broadcast")
            assert got.message == {"text": "hello from the cli"}
            assert got.from_participant_id != listener.local_participant.id

    run(scenario(), timeout=60)
