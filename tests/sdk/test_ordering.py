"""Per-sender order (issue 12.3): one sender's messages reach a receiver in the order the
sender wrote them, also when the SDK pipelines them (`asyncio.gather`), run after run."""

import asyncio

from helpers import enable_messaging, eventually, on_message, room_client, run

MESSAGES = 200
RUNS = 20


def test_pipelined_direct_messages_arrive_in_order(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
        ):
            at_bob = on_message(bob)
            await enable_messaging(alice, bob)
            to_bob = alice.messaging.get_participant(bob.local_participant.id)
            for run_no in range(RUNS):
                kind = f"seq-{run_no}"
                await asyncio.gather(
                    *(
                        alice.messaging.send_message(to=to_bob, type=kind, message={"n": n})
                        for n in range(MESSAGES)
                    )
                )
                await eventually(
                    lambda: len(at_bob.matching(lambda m: m.type == kind)) == MESSAGES,
                    what=f"run {run_no}: all {MESSAGES} messages at bob",
                )
                got = [m.message["n"] for m in at_bob.matching(lambda m: m.type == kind)]
                assert got == list(range(MESSAGES)), f"run {run_no} arrived out of order: {got}"

    run(scenario(), timeout=240)


def test_pipelined_broadcasts_arrive_in_order_at_every_receiver(server, room):
    async def scenario():
        async with (
            room_client(server, room, "alice") as alice,
            room_client(server, room, "bob") as bob,
            room_client(server, room, "carol") as carol,
        ):
            inboxes = {"bob": on_message(bob), "carol": on_message(carol)}
            await enable_messaging(alice, bob, carol)
            for run_no in range(RUNS // 4):
                kind = f"all-{run_no}"
                await asyncio.gather(
                    *(
                        alice.messaging.broadcast_message(type=kind, message={"n": n})
                        for n in range(MESSAGES)
                    )
                )
                for name, inbox in inboxes.items():
                    await eventually(
                        lambda inbox=inbox: len(inbox.matching(lambda m: m.type == kind)) == MESSAGES,
                        what=f"run {run_no}: all {MESSAGES} broadcasts at {name}",
                    )
                    got = [m.message["n"] for m in inbox.matching(lambda m: m.type == kind)]
                    assert got == list(range(MESSAGES)), f"run {run_no}, {name}: out of order: {got}"

    run(scenario(), timeout=240)
