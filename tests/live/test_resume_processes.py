"""Resume across API processes (docs/protocol.md 4.7), with two real backend processes on one
database over real WebSockets: a client that held a value only one process knew gets the
whole current value from the other; a value's hash is the same in every process; a
mutation's version from one is honoured by the other; and a client resuming on a process
that is behind (stopped with SIGSTOP while the write happened) gets nothing older than the
version it had reached."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from backend.reactive.version import Snapshot
from backend.runtime import Ctx, mutation, query
from backend.testing.databases import create_captured
from tests.live.wire import Wire
from tests.support.backend_process import backends

MODULE = "test_resume_processes"


@query
async def counter(ctx: Ctx, counter_id: int) -> dict[str, Any] | None:
    """One counter (test function)."""
    return await ctx.db.fetchrow("SELECT id, n FROM counters WHERE id = $1", counter_id)


@mutation
async def bump(ctx: Ctx, counter_id: int) -> int:
    """Add one to a counter (test function)."""
    return await ctx.db.fetchval("UPDATE counters SET n = n + 1 WHERE id = $1 RETURNING n",
                                 counter_id)


SETUP = """
CREATE TABLE counters (id bigint PRIMARY KEY, n int NOT NULL);
INSERT INTO counters SELECT g, 0 FROM generate_series(1, 9) g;
"""


@pytest.fixture(scope="module")
def two(db_dsn: str) -> Iterator[list[tuple[subprocess.Popen, str]]]:
    asyncio.run(create_captured(db_dsn, SETUP, ["counters"]))
    with backends(db_dsn, f"tests.live.{MODULE}", 2) as procs:
        yield procs


async def _bump(url: str, counter_id: int) -> int:
    """Bump through `url`'s process; the mutation's version (an xid)."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        reply = await http.post("/api/mutation", json={"path": f"{MODULE}:bump",
                                                       "args": {"counter_id": counter_id}})
    assert reply.status_code == 200, reply.text
    return int(reply.json()["version"])


async def _reached(wire: Wire, xid: int) -> Snapshot:
    """Ask `wire`'s process for a transition that includes `xid`; its version."""
    await wire.ws.send(json.dumps({"type": "wait", "version": xid}))
    await wire.until(lambda w: any(Snapshot.parse(t["version"]).includes(xid)
                                   for t in w.transitions))
    return Snapshot.parse(wire.transitions[-1]["version"])


async def _first(wire: Wire, sub_id: str, counter_id: int,
                 held: tuple[Any, str] | None = None) -> tuple[Any, str]:
    await wire.subscribe(sub_id, f"{MODULE}:counter", {"counter_id": counter_id}, held)
    await wire.until(lambda w: sub_id in w.kinds)
    return wire.values[sub_id], wire.hashes[sub_id]


async def test_resuming_on_another_process_gives_whole_current_values_and_honours_versions(
        two: list[tuple[subprocess.Popen, str]]) -> None:
    (_, url_a), (_, url_b) = two
    on_a = await Wire.open(url_a)
    old = await _first(on_a, "c", 1)
    assert old[0] == {"id": 1, "n": 0}
    await on_a.close()  # the connection drops; meanwhile the counter changes
    await _bump(url_a, 1)

    on_b = await Wire.open(url_b)  # B never saw the value held: it sends the whole new one
    value, value_hash = await _first(on_b, "c", 1, held=old)
    assert value == {"id": 1, "n": 1} and value_hash != old[1]
    assert on_b.kinds["c"] == "value"

    on_a = await Wire.open(url_a)  # the same value has the same hash in every process
    current = await _first(on_a, "c", 1)
    assert current == (value, value_hash)
    again_on_b = await Wire.open(url_b)
    assert await _first(again_on_b, "c", 1, held=current) == current
    assert again_on_b.kinds["c"] == "unchanged"

    xid = await _bump(url_a, 1)  # A's version, waited for on B
    await _reached(again_on_b, xid)
    assert again_on_b.values["c"] == {"id": 1, "n": 2}
    for wire in (on_a, on_b, again_on_b):
        await wire.close()


async def test_resuming_on_a_process_that_is_behind_sends_nothing_older(
        two: list[tuple[subprocess.Popen, str]]) -> None:
    (_, url_a), (proc_b, url_b) = two
    watcher = await Wire.open(url_b)  # B holds the query live: it has a value to answer with
    client = await Wire.open(url_a)
    assert (await _first(watcher, "c", 2))[0] == (await _first(client, "c", 2))[0]
    resumed = await Wire.socket(url_b)  # open now: B can't accept while stopped
    os.kill(proc_b.pid, signal.SIGSTOP)
    try:
        reached = await _reached(client, await _bump(url_a, 2))
        assert client.values["c"] == {"id": 2, "n": 1}
        # the client's connection drops; it resumes on B, which has not seen the write yet
        await resumed.connect(version=str(reached))
        await resumed.subscribe("c", f"{MODULE}:counter", {"counter_id": 2},
                                (client.values["c"], client.hashes["c"]))
    finally:
        os.kill(proc_b.pid, signal.SIGCONT)
    await resumed.until(lambda w: "c" in w.kinds)
    assert resumed.values["c"] == {"id": 2, "n": 1}
    await asyncio.sleep(0.3)  # anything older would have come by now
    assert resumed.transitions, "nothing was sent"
    for transition in resumed.transitions:
        assert Snapshot.parse(transition["version"]).covers(reached), transition
        assert all(c.get("value", {}).get("n") != 0 for c in transition["changes"]), transition
    for wire in (watcher, client, resumed):
        await wire.close()
