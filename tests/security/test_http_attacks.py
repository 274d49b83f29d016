"""Attacks over plain HTTP and SSE, replayed with bounded loops: every bad value is a 400
naming the field (never a 500 or a traceback in the log), bodies are bounded before they are
read, half-sent requests are cut off, and password hashing does not stall other clients."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import pytest

from tests.security.conftest import (
    LIMITS,
    PASSWORD,
    Backend,
    assert_no_stall,
    bot_token,
    call,
    user_token,
)

DEEP = "[" * 10_000 + "]" * 10_000


@pytest.fixture(scope="module")
def trader(backend: Backend) -> str:
    return asyncio.run(user_token(backend.url, "values@example.com"))


BAD_VALUES: list[tuple[str, str, dict[str, Any], str]] = [
    ("query", "bots:trades", {"offset": 2**64}, "offset"),
    ("query", "bots:events", {"before_id": 2**63}, "before_id"),
    ("query", "bots:get", {"bot_id": 10**30}, "bot_id"),
    ("mutation", "auth:updateProfile", {"display_name": "a\u0000b"}, "display_name"),
    ("mutation", "auth:updateProfile", {"display_name": "\ud800"}, "display_name"),
    ("mutation", "auth:updateProfile", {"display_name": "evil\u202etxt.exe"}, "display_name"),
    ("action", "auth:signup", {"email": "a\u0000@example.com", "password": PASSWORD}, "email"),
    ("action", "auth:signup", {"email": "x@example.com", "password": " " * 8}, "password"),
    ("action", "auth:signup", {"email": "x@example.com", "password": "\u0000" * 8}, "password"),
    ("action", "auth:signup", {"email": "раypal@example.com", "password": PASSWORD}, "email"),
    ("action", "auth:signup", {"email": "pay\u200bpal@example.com", "password": PASSWORD},
     "email"),
    ("action", "auth:login", {"email": "\ud83d@example.com", "password": PASSWORD}, "email"),
]


async def test_every_bad_value_is_a_400_naming_the_field(backend: Backend, trader: str) -> None:
    before = backend.tracebacks()
    async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
        for kind, path, args, field in BAD_VALUES:
            reply = await call(http, kind, path, args, trader)
            assert reply.status_code == 400, (path, args, reply.text)
            assert (reply.json()["error"]["field"] or "").endswith(field), (path, reply.text)
        infinite = await http.post("/api/mutation", headers={"Authorization": f"Bearer {trader}"},
                                   content='{"path": "auth:updateProfile", '
                                           '"args": {"display_name": 1e400}}')
        assert infinite.status_code == 400
        assert infinite.json()["error"]["field"] == "args.display_name", infinite.text
        deep = await http.post("/api/query/strategies:catalogue", content=DEEP,
                               headers={"Content-Type": "application/json"})
        assert deep.status_code == 400 and "nested" in deep.json()["error"]["message"]
        sse = await http.get("/api/sse", params={"path": "strategies:catalogue", "args": DEEP})
        assert sse.status_code == 400 and sse.json()["error"]["field"] == "args"
        # full-width letters are the same address as their ASCII form: no second account
        for email in ("ｖalues@example.com", "VALUES@example.com"):
            same = await call(http, "action", "auth:login", {"email": email, "password": PASSWORD})
            assert same.status_code == 200, same.text
    assert backend.tracebacks() == before


async def test_reports_are_bounded_so_a_bot_cannot_store_what_totals_cannot_sum(
        backend: Backend, db_dsn: str, trader: str) -> None:
    token = await bot_token(db_dsn, "values@example.com")
    trade = {"report_id": "t1", "symbol": "BTCUSDT", "side": "long", "quantity": "1",
             "entry_price": "1", "exit_price": "2", "entry_at": "2026-01-01T00:00:00Z",
             "exit_at": "2026-01-01T01:00:00Z", "fees": "0"}
    async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
        huge = await call(http, "mutation", "bot:reportTrade", {**trade, "pnl": "1e24"}, token)
        assert huge.status_code == 400 and huge.json()["error"]["field"] == "pnl", huge.text
        big = await call(http, "mutation", "bot:reportEvent", {
            "report_id": "e1", "kind": "note", "message": "x", "data": {"blob": "x" * 100_000}},
            token)
        assert big.status_code == 400 and big.json()["error"]["field"] == "data", big.text
        fine = await call(http, "mutation", "bot:reportEvent", {
            "report_id": "e2", "kind": "note", "message": "x", "data": {"blob": "x" * 1000}},
            token)
        assert fine.status_code == 200, fine.text
        future = await call(http, "mutation", "bot:heartbeat",
                            {"report_id": "h1", "at": "9999-01-01T00:00:00Z"}, token)
        assert future.status_code == 400 and future.json()["error"]["field"] == "at"


async def test_bodies_are_bounded_before_reading_and_smaller_without_a_credential(
        backend: Backend, trader: str) -> None:
    port = int(backend.url.rsplit(":", 1)[1])
    # a declared 100 MB body is refused before a byte of it is sent
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /api/query/strategies:catalogue HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readline(), 5)
    assert b" 413 " in head, head
    writer.close()
    async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
        body = {"display_name": "x" * 200_000}
        anonymous = await http.post("/api/mutation/auth:updateProfile", json=body)
        assert anonymous.status_code == 413
        signed_in = await http.post("/api/mutation/auth:updateProfile", json=body,
                                    headers={"Authorization": f"Bearer {trader}"})
        assert signed_in.status_code == 400  # read (within the limit), then refused by length

        async def chunks() -> Any:
            for _ in range(100):
                yield b" " * 65536
        streamed = await http.post("/api/query/strategies:catalogue", content=chunks())
        assert streamed.status_code == 413


async def test_half_sent_requests_are_cut_off(backend: Backend) -> None:
    port = int(backend.url.rsplit(":", 1)[1])
    heads, bodies = [], []
    for _ in range(100):  # a request line that never ends
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /api/query HTTP/1.1\r\nHost: x\r\n")
        heads.append(s)
    for _ in range(20):  # a head, then half the declared body
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /api/query/strategies:catalogue HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 100\r\n\r\n{\"a\":")
        bodies.append(s)
    limit = float(LIMITS["PLUTARC_LIMIT_HEADER_TIMEOUT_S"])
    await asyncio.sleep(limit + 1.5)
    for s in heads:
        s.settimeout(5)
        assert s.recv(100) == b""  # closed by the server
        s.close()
    for s in bodies:
        s.settimeout(5)
        assert b" 408 " in s.recv(200)
        s.close()


async def test_password_hashing_does_not_stall_other_clients(backend: Backend,
                                                             trader: str) -> None:
    bursts = iter(range(10))

    async def signups() -> None:
        burst = next(bursts)
        async with httpx.AsyncClient(base_url=backend.url, timeout=60) as http:
            replies = await asyncio.gather(*(
                call(http, "action", "auth:signup", {"email": f"burst{burst}-{i}@example.com",
                                                     "password": PASSWORD}) for i in range(40)))
        assert all(r.status_code == 200 for r in replies)

    await assert_no_stall(backend, trader, signups)
