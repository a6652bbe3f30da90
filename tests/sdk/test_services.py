"""Room services against the official SDK and CLI: specs deployed with `roomdeck service
deploy` run while their room is active; `services.list` parses, `services.restart`
restarts, and a service written with the official SDK joins its own room with the token
the runtime injected."""

import asyncio
import json
import sys
import textwrap

from meshagent.api import RoomException
from meshagent.api.participant_token import ApiScope

from helpers import WAIT, eventually, make_token, meshagent_cli, meshagent_cli_env, roomdeck, room_client, run


def deploy(server, room: str, spec: dict, tmp_path) -> None:
    path = tmp_path / f"{spec['metadata']['name']}.json"
    path.write_text(json.dumps(spec))
    done = roomdeck("--data-dir", str(server.data_dir), "service", "deploy", str(path), "--room", room)
    assert done.returncode == 0, done


def spec(name: str, command: str, **container) -> dict:
    return {
        "version": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "container": {"image": "local", "command": command, **container},
    }


async def state_of(client, name: str):
    result = await client.services.list()
    service = next(s for s in result.services if s.metadata.name == name)
    return service, result.service_states.get(service.id)


async def wait_state(client, name: str, predicate, what: str, timeout: float = 15.0):
    found = {}

    async def poll():
        while True:
            service, state = await state_of(client, name)
            if state is not None and predicate(state):
                found["v"] = (service, state)
                return
            await asyncio.sleep(0.1)

    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        _, state = await state_of(client, name)
        raise AssertionError(f"timed out waiting for {what}: {state!r}") from None
    return found["v"]


def test_services_list_parses_and_restart_restarts(server, room, tmp_path):
    pids = server.data_dir / "rooms" / room / "files" / "pids"
    deploy(server, room, spec("sleeper", "echo $$ >> pids; exec sleep 600"), tmp_path)
    deploy(server, room, {"version": "v1", "kind": "Service", "metadata": {"name": "listed"},
                          "container": {"image": "busybox"}}, tmp_path)

    async def scenario():
        async with room_client(server, room, "admin", scope=ApiScope.full()) as client:
            service, state = await wait_state(
                client, "sleeper", lambda s: s.state == "running", "the service to run"
            )
            assert service.container.command.startswith("echo $$")
            assert state.restart_count == 0 and state.started_at is not None
            await eventually(lambda: pids.exists() and pids.read_text().count("\n") == 1,
                             what="the first process")

            await client.services.restart(service_id=service.id)
            again, state = await wait_state(
                client, "sleeper", lambda s: s.restart_count == 1 and s.state == "running",
                "a restart",
            )
            assert again == service  # the saved spec is unchanged
            await eventually(lambda: pids.read_text().count("\n") == 2, what="a new process")
            first, second = pids.read_text().split()
            assert first != second

            try:
                await client.services.restart(service_id="svc-does-not-exist")
            except RoomException as ex:
                assert ex.code == 7001, ex
            else:
                raise AssertionError("restarting an unknown service succeeded")
            listed, _ = await state_of(client, "listed")
            try:
                await client.services.restart(service_id=listed.id)
            except RoomException as ex:
                assert ex.code == 7002, ex
            else:
                raise AssertionError("restarting a service with nothing to run succeeded")

    run(scenario(), timeout=60)


def test_a_service_written_with_the_sdk_joins_its_room_and_answers_a_queue(server, room, tmp_path):
    script = tmp_path / "echo_service.py"
    script.write_text(textwrap.dedent("""
        import asyncio
        from meshagent.api import RoomClient

        async def main():
            # No arguments: MESHAGENT_ROOM, MESHAGENT_TOKEN and MESHAGENT_ROOM_URL come from
            # the runtime, as they would in a hosted room.
            async with RoomClient() as room:
                print("joined", room.room_name, flush=True)
                while True:
                    message = await room.queues.receive(name="requests", wait=True)
                    if message is None:
                        continue
                    await room.queues.send(
                        name="replies",
                        message={"echo": message, "by": room.local_participant.get_attribute("name")},
                    )

        asyncio.run(main())
    """))
    deploy(server, room, spec("echo", f'"{sys.executable}" -u "{script}"'), tmp_path)

    async def scenario():
        async with room_client(server, room, "alice") as alice:
            await alice.queues.send(name="requests", message={"question": 42})
            reply = await asyncio.wait_for(alice.queues.receive(name="replies", wait=True), 30)
            assert reply == {"echo": {"question": 42}, "by": "echo"}
            _, state = await state_of(alice, "echo")
            assert state.state == "running" and state.restart_count == 0, state

    run(scenario(), timeout=60)


def test_cli_room_service_list(server, room, tmp_path):
    deploy(server, room, spec("cli-visible", "exec sleep 600"), tmp_path)
    env = meshagent_cli_env(server, room, make_token("cli", room), home=tmp_path)

    async def scenario():
        listed = await meshagent_cli(env, "room", "service", "list")
        assert listed.returncode == 0, listed
        assert "cli-visible" in listed.stdout, listed
        described = await meshagent_cli(env, "room", "service", "describe", "--name", "cli-visible")
        assert described.returncode == 0, described
        assert "cli-visible" in described.stdout, described

    run(scenario(), timeout=90)
