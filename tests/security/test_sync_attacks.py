"""Attacks over the sync socket, each replayed with its own bounded loop: the bound answers
with an error (not a stall): another client's `auth:me` p99 stays under 100 ms, the
backend's RSS returns within 50 MB of its start after the attacker leaves, and the
connection survives malformed frames with protocol errors and no traceback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import httpx
import websockets

from tests.security.conftest import (
    LIMITS,
    Backend,
    assert_no_stall,
    bot_token,
    rss_settles,
    user_token,
)

PER_SOCKET = int(LIMITS["PLUTARC_LIMIT_SUBSCRIPTIONS_PER_SOCKET"])
TRANSITION = int(LIMITS["PLUTARC_LIMIT_TRANSITION_BYTES"])
CALLS = int(LIMITS["PLUTARC_LIMIT_CALLS_PER_SOCKET"])


async def connect(backend: Backend, token: str | None = None) -> Any:
    ws = await websockets.connect(backend.ws, max_size=None)
    await ws.send(json.dumps({"type": "connect", "token": token}))
    assert json.loads(await ws.recv())["type"] == "connected"
    return ws


async def until(ws: Any, predicate: Any, timeout: float = 10) -> list[dict[str, Any]]:
    """Messages received until one satisfies `predicate` (included)."""
    seen = []
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        seen.append(message)
        if predicate(message):
            return seen


async def test_a_subscription_flood_stops_at_the_socket_limit_in_bounded_frames(
        backend: Backend) -> None:
    token = await user_token(backend.url, "flood-probe@example.com")
    start = backend.rss()

    async def flood() -> None:
        ws = await connect(backend)  # anonymous, as in the report
        for i in range(PER_SOCKET * 3):
            await ws.send(json.dumps({"type": "subscribe", "id": i,
                                      "path": "strategies:catalogue", "args": {}}))
        refused, values, sizes, more = set(), set(), [], 0
        while len(refused) + len(values) < PER_SOCKET * 3:
            raw = await asyncio.wait_for(ws.recv(), 20)
            message = json.loads(raw)
            if message["type"] == "error":
                assert message["error"]["code"] == "rate_limited"
                assert "SUBSCRIPTIONS_PER_SOCKET" in message["error"]["message"]
                refused.add(message["id"])
            elif message["type"] == "transition":
                sizes.append(len(raw))
                more += bool(message.get("more"))
                values |= {c["id"] for c in message["changes"] if "value" in c}
                await ws.send(json.dumps({"type": "ack", "seq": message["seq"]}))
        await ws.close()
        assert len(values) == PER_SOCKET and len(refused) == PER_SOCKET * 2
        assert max(sizes) <= TRANSITION + (16 << 10), max(sizes)  # one value may overhang
        assert more >= 1  # PER_SOCKET values do not fit one transition: it was split

    await assert_no_stall(backend, token, flood)
    assert await rss_settles(backend, start) <= start + (50 << 20)


async def test_subscriptions_per_user_are_counted_across_sockets(backend: Backend) -> None:
    token = await user_token(backend.url, "many-sockets@example.com")
    per_user = int(LIMITS["PLUTARC_LIMIT_SUBSCRIPTIONS_PER_USER"])
    sockets = [await connect(backend, token) for _ in range(2)]
    outcomes: dict[str, int] = {"ok": 0, "refused": 0}
    for ws in sockets:
        for i in range(PER_SOCKET):
            await ws.send(json.dumps({"type": "subscribe", "id": i, "path": "auth:me"}))
        await ws.send(json.dumps({"type": "ping"}))
        for message in await until(ws, lambda m: m["type"] == "pong"):
            if message["type"] == "error":
                assert "SUBSCRIPTIONS_PER_USER" in message["error"]["message"], message
                outcomes["refused"] += 1
    assert outcomes["refused"] == 2 * PER_SOCKET - per_user
    for ws in sockets:
        await ws.close()
    # closing the sockets frees the user's room
    ws = await connect(backend, token)
    await ws.send(json.dumps({"type": "subscribe", "id": "again", "path": "auth:me"}))
    first = (await until(ws, lambda m: m["type"] in ("transition", "error")))[-1]
    assert first["type"] == "transition", first
    await ws.close()


async def test_a_query_value_above_the_limit_is_an_error_naming_the_query(
        backend: Backend, db_dsn: str) -> None:
    owner = "bigrows@example.com"
    token = await user_token(backend.url, owner)
    bot = await bot_token(db_dsn, owner)
    async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
        for i in range(40):  # each event as large as a report field may be (16 KiB)
            reply = await http.post("/api/mutation/bot:reportEvent", json={
                "report_id": f"big-{i}", "kind": "note", "message": "m",
                "data": {"blob": "x" * 16_000}}, headers={"Authorization": f"Bearer {bot}"})
            assert reply.status_code == 200, reply.text
    ws = await connect(backend, token)
    await ws.send(json.dumps({"type": "subscribe", "id": "feed", "path": "bots:events",
                              "args": {"limit": 40}}))
    await ws.send(json.dumps({"type": "subscribe", "id": "page", "path": "bots:events",
                              "args": {"limit": 5}}))
    changes: dict[str, Any] = {}
    while len(changes) < 2:
        message = (await until(ws, lambda m: m["type"] == "transition"))[-1]
        changes |= {c["id"]: c for c in message["changes"]}
    assert changes["feed"]["error"]["code"] == "too_large"
    assert "bots:events" in changes["feed"]["error"]["message"]
    assert len(changes["page"]["value"]["items"]) == 5  # a smaller page is fine
    await ws.close()


async def test_a_wait_for_an_unissued_version_is_refused_and_a_pending_one_costs_little(
        backend: Backend, db_dsn: str) -> None:
    ws = await connect(backend)
    for version in (10**15, "99999999999999999", 2**63):
        await ws.send(json.dumps({"type": "wait", "version": version}))
        error = (await until(ws, lambda m: m["type"] == "error"))[-1]["error"]
        assert error["field"] == "version", error
    for bad in (1e308, -1, None, {"x": 1}):
        await ws.send(json.dumps({"type": "wait", "version": bad}))
        assert (await until(ws, lambda m: m["type"] == "error"))[-1]["error"]["field"] == "version"
    # an issued xid that is still running: the engine re-checks at a bounded rate
    conn = await asyncpg.connect(db_dsn)
    try:
        tx = conn.transaction()
        await tx.start()
        xid = int(await conn.fetchval("SELECT pg_current_xact_id()::text"))
        before = httpx.get(backend.url + "/api/stats", timeout=10).json()["cycles"]
        await ws.send(json.dumps({"type": "wait", "version": xid}))
        await asyncio.sleep(1.0)
        cycles = httpx.get(backend.url + "/api/stats", timeout=10).json()["cycles"] - before
        assert cycles <= 40, cycles  # 20 re-checks/s (was ~1,600/s)
        await tx.commit()
    finally:
        await conn.close()
    reached = await until(ws, lambda m: m["type"] == "transition")
    assert reached[-1]["version"]
    # one that stays running past the wait timeout: an error, and the wait is dropped
    conn = await asyncpg.connect(db_dsn)
    try:
        async with conn.transaction():
            xid = int(await conn.fetchval("SELECT pg_current_xact_id()::text"))
            await ws.send(json.dumps({"type": "wait", "version": str(xid)}))
            expired = (await until(ws, lambda m: m["type"] == "error", timeout=10))[-1]
            assert expired["version"] == xid and "WAIT_TIMEOUT" in expired["error"]["message"]
    finally:
        await conn.close()
    await ws.close()


async def test_malformed_frames_get_protocol_errors_and_the_socket_lives_on(
        backend: Backend) -> None:
    before = backend.tracebacks()
    ws = await connect(backend)
    bad_frames: list[Any] = [
        b"\x00\x01binary",
        "[" * 10_000 + "]" * 10_000,
        json.dumps({"type": "subscribe", "id": "h", "path": "strategies:catalogue",
                    "hash": {"not": "a string"}}),
        '{"type": "ack", "seq": 1e400}',
        json.dumps({"type": "ack", "seq": -5}),
        json.dumps({"type": "ack", "seq": 10**9}),  # ahead of what was sent
        json.dumps({"type": "subscribe", "id": None, "path": "strategies:catalogue"}),
        json.dumps({"type": "query", "request_id": {"a": 1}, "path": "strategies:catalogue"}),
        json.dumps({"type": "subscribe", "id": "x", "path": "strategies:catalogue",
                    "args": {"a\u0000": 1}}),
        '{"type": "query", "request_id": "s", "path": "auth:me", "args": {"x": "\\ud800"}}',
        "not json at all",
        json.dumps({"type": "teleport"}),
        json.dumps({"type": "connect", "token": 12}),
    ]
    for frame in bad_frames:
        await ws.send(frame)
        reply = (await until(ws, lambda m: m["type"] in ("error", "transition")))[-1]
        assert reply["type"] == "error", (frame[:60], reply)
        assert reply["error"]["code"] == "bad_request", (frame[:60], reply)
    await ws.send(json.dumps({"type": "ping"}))
    assert (await until(ws, lambda m: m["type"] == "pong"))[-1] == {"type": "pong"}
    stats = httpx.get(backend.url + "/api/stats", timeout=10).json()
    assert all(p["subscribers"] >= 0 for p in stats.get("paths", {}).values()), stats
    await ws.close()
    # a first frame that is not JSON: an error, then close code 4400
    ws = await websockets.connect(backend.ws)
    await ws.send("hello?")
    assert json.loads(await ws.recv())["type"] == "error"
    await asyncio.wait_for(ws.wait_closed(), 5)
    assert ws.close_code == 4400
    # a resume version that is no snapshot (xmin above xmax, not numbers, beyond 64 bits)
    for version in ("12:10:", "x:y:z", f"1:{'9' * 30}:", 7):
        ws = await websockets.connect(backend.ws)
        await ws.send(json.dumps({"type": "connect", "token": None, "version": version}))
        assert json.loads(await ws.recv())["error"]["field"] == "version", version
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 4400
    assert backend.tracebacks() == before


async def test_pipelined_calls_beyond_the_limit_are_refused_without_stalling_others(
        backend: Backend) -> None:
    token = await user_token(backend.url, "calls-probe@example.com")
    start = backend.rss()

    async def pipeline(total: int = 1_000) -> None:
        ws = await connect(backend)
        for i in range(total):  # written without reading a single answer
            await ws.send(json.dumps({"type": "query", "request_id": i,
                                      "path": "strategies:catalogue"}))
        results = refused = 0
        while results + refused < total:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if message["type"] == "result":
                results += 1
            elif message["type"] == "error":
                assert message["error"]["code"] == "rate_limited", message
                refused += 1
        await ws.close()
        assert results >= CALLS and refused > total / 2

    await assert_no_stall(backend, token, pipeline)
    assert await rss_settles(backend, start) <= start + (50 << 20)


async def test_a_socket_that_never_connects_is_closed_after_the_connect_timeout(
        backend: Backend) -> None:
    sockets = [await websockets.connect(backend.ws) for _ in range(50)]
    await asyncio.sleep(float(LIMITS["PLUTARC_LIMIT_CONNECT_TIMEOUT_S"]) + 1.5)
    for ws in sockets:
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 4408
