"""Transport edges: a slow WebSocket client gets coalesced transitions (latest state only)
instead of a queue of every change, and SSE tokens never reach the access log."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets

from backend.app import create_app
from backend.reactive.diff import apply_diff
from backend.runtime import Ctx, Functions, mutation, query
from backend.testing.databases import create_captured
from tests.support.servers import ServerThread, app_and_module_functions

BLOB = 500_000  # characters per value: a few changes overflow the socket buffers


def module_functions() -> Functions:
    """The app's functions and this module's test functions."""
    return app_and_module_functions(sys.modules[__name__])


@query
async def blob(ctx: Ctx, blob_id: int) -> dict[str, Any] | None:
    """A large value."""
    return await ctx.db.fetchrow("SELECT id, version, body FROM blobs WHERE id = $1", blob_id)


@mutation
async def bump(ctx: Ctx, blob_id: int) -> int:
    """Change the whole large value."""
    return await ctx.db.fetchval(
        "UPDATE blobs SET version = version + 1, body = repeat(md5(random()::text), $2 / 32) "
        "WHERE id = $1 RETURNING version", blob_id, BLOB)


SETUP = """
CREATE TABLE blobs (id bigint PRIMARY KEY, version int NOT NULL, body text);
INSERT INTO blobs VALUES (1, 0, '');
"""


@pytest.fixture(scope="module")
def edge_url(db_dsn: str) -> Iterator[str]:
    asyncio.run(create_captured(db_dsn, SETUP, ["blobs"]))
    with ServerThread(create_app(db_dsn, functions=module_functions())) as url:
        yield url


async def test_a_slow_client_gets_the_latest_state_not_every_change(edge_url: str) -> None:
    changes = 40
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # no receive autotuning
    sock.connect(("127.0.0.1", int(edge_url.rsplit(":", 1)[1])))
    async with websockets.connect(edge_url.replace("http", "ws") + "/api/sync", max_size=None,
                                  max_queue=1, sock=sock) as ws:
        await ws.send(json.dumps({"type": "connect"}))
        await ws.recv()
        await ws.send(json.dumps({"type": "subscribe", "id": "b", "path": "test_transport_edges:blob",
                                  "args": {"blob_id": 1}}))
        first = json.loads(await ws.recv())
        value = first["changes"][0]["value"]
        async with httpx.AsyncClient(base_url=edge_url, timeout=60) as http:
            for _ in range(changes):  # the client reads nothing meanwhile
                reply = await http.post("/api/mutation", json={"path": "test_transport_edges:bump",
                                                               "args": {"blob_id": 1}})
                assert reply.status_code == 200
        received = 0
        while value["version"] != changes:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if message["type"] != "transition":
                continue
            received += 1
            await ws.send(json.dumps({"type": "ack", "seq": message["seq"]}))
            change = message["changes"][0]
            value = change["value"] if "value" in change else apply_diff(value, change["diff"])
    assert value["version"] == changes
    assert received < changes / 2, f"{received} transitions for {changes} changes: nothing coalesced"


def test_sse_tokens_never_reach_the_access_log(db_dsn: str, edge_url: str) -> None:
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    server = ServerThread(create_app(db_dsn, functions=module_functions()), log_level="info")  # configures uvicorn's logging
    handler = Collect()
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    token = "pls_" + "S3cretSessionTokenValue" * 2
    try:
        with server as url:
            response = httpx.get(f"{url}/api/sse", params={
                "path": "test_transport_edges:blob", "args": "{}", "token": token}, timeout=10)
            assert response.status_code == 401
    finally:
        access.removeHandler(handler)
    assert any("/api/sse" in line for line in records), records
    assert not any(token in line or "S3cretSessionTokenValue" in line for line in records), records
