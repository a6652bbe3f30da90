"""Benchmark (issue 5): insert N rows (a few typed columns) through the dataset toolkit in
Arrow batches, then run an aggregate; the sqlite3 command-line tool does the same on the same
machine in the same run. Prints both times, the ratios, and the server's peak memory.

    ROOMDECK_BIN=target/release/roomdeck python bench/dataset_insert.py [ROWS]

Needs the SDK venv (tests/sdk/venv) and `sqlite3` on PATH.
"""

import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
from meshagent.api import RoomClient, WebSocketClientProtocol
from meshagent.api.participant_token import ApiScope, ParticipantToken

SECRET = "bench-secret-bench-secret-bench-secret"
ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
BATCH = 50_000
AGG = "select category, count(*) as n, sum(amount) as total, avg(score) as mean from sales group by category order by category"


def batch(start: int, n: int) -> pa.Table:
    ids = pa.array(range(start, start + n), pa.int64())
    return pa.table(
        {
            "id": ids,
            "category": pa.array([f"c{i % 16}" for i in range(start, start + n)]),
            "amount": pa.array([(i * 7) % 1000 for i in range(start, start + n)], pa.int64()),
            "score": pa.array([(i % 100) / 10.0 for i in range(start, start + n)], pa.float64()),
        }
    )


def peak_kib(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", text).group(1))


async def roomdeck(url: str) -> tuple[float, float, list]:
    tok = ParticipantToken(name="bench", project_id="bench")
    tok.add_room_grant("bench")
    tok.add_api_grant(ApiScope.agent_default())
    proto = WebSocketClientProtocol(url=f"{url}/rooms/bench", token=tok.to_jwt(token=SECRET))
    async with RoomClient(protocol_factory=proto.create_factory(), reconnect_timeout=0) as room:
        d = room.datasets
        schema = batch(0, 1).schema
        await d.create_table_with_schema(name="sales", schema=schema)
        chunks = [batch(s, min(BATCH, ROWS - s)) for s in range(0, ROWS, BATCH)]
        t0 = time.perf_counter()
        await d.insert_stream(table="sales", chunks=chunks)
        t1 = time.perf_counter()
        result = (await d.sql(query=AGG)).to_pylist()
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, result


def sqlite3_cli(dir: Path) -> tuple[float, float, str]:
    csv = dir / "sales.csv"
    with csv.open("w") as f:
        for t in (batch(s, min(BATCH, ROWS - s)) for s in range(0, ROWS, BATCH)):
            for r in t.to_pylist():
                f.write(f"{r['id']},{r['category']},{r['amount']},{r['score']}\n")
    db = dir / "cli.db"
    setup = "pragma journal_mode=wal; pragma synchronous=full; create table sales (id integer, category text, amount integer, score real);"
    subprocess.run(["sqlite3", str(db), setup], check=True, capture_output=True)
    t0 = time.perf_counter()
    subprocess.run(["sqlite3", str(db), "-cmd", ".mode csv", f".import {csv} sales"], check=True, capture_output=True)
    t1 = time.perf_counter()
    out = subprocess.run(["sqlite3", str(db), AGG], check=True, capture_output=True, text=True).stdout
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, out


def main() -> None:
    binary = os.environ.get("ROOMDECK_BIN", "target/release/roomdeck")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        proc = subprocess.Popen(
            [binary, "serve", "--bind", "127.0.0.1:0", "--data-dir", str(tmp / "data"), "--secret", SECRET],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        try:
            url = None
            for line in proc.stdout:
                m = re.search(r"roomdeck: serving (ws://\S+)", line)
                if m:
                    url = m.group(1)
                    break
            ins, agg, rows = asyncio.run(roomdeck(url))
            peak = peak_kib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
        cli_ins, cli_agg, cli_out = sqlite3_cli(tmp)
    assert len(rows) == 16 and sum(r["n"] for r in rows) == ROWS, rows
    assert len(cli_out.splitlines()) == 16
    print(f"rows: {ROWS} in Arrow batches of {BATCH}")
    print(f"roomdeck dataset insert: {ins:.2f} s ({ROWS / ins:,.0f} rows/s); aggregate: {agg * 1000:.0f} ms")
    print(f"sqlite3 CLI .import:     {cli_ins:.2f} s ({ROWS / cli_ins:,.0f} rows/s); aggregate: {cli_agg * 1000:.0f} ms")
    print(f"ratios roomdeck/sqlite3: insert {ins / cli_ins:.2f}x, aggregate {agg / cli_agg:.2f}x")
    print(f"server peak memory (VmHWM): {peak / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
