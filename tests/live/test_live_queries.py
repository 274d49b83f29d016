"""Live queries end to end: a real server, a real database, real WebSockets, SSE and the
Python client. Test functions below are registered as `test_live_queries:*`."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import websockets

from backend.app import create_app
from backend.client import Client, ClientError
from backend.reactive.capture import CHANNEL
from backend.runtime import Ctx, Functions, NotFound, mutation, query
from backend.testing.databases import create_captured
from tests.support.servers import ServerThread, app_and_module_functions, free_port

TOTAL = 1000


def module_functions() -> Functions:
    """The app's functions and this module's test functions."""
    return app_and_module_functions(sys.modules[__name__])


@query
async def account(ctx: Ctx, account_id: int) -> dict[str, Any] | None:
    """One account."""
    return await ctx.db.fetchrow("SELECT id, owner_id, balance, status FROM accounts WHERE id = $1",
                                 account_id)


@query
async def activeAccounts(ctx: Ctx, owner_id: int) -> list[dict[str, Any]]:
    """The owner's active accounts."""
    return await ctx.db.fetch(
        "SELECT id, balance FROM accounts WHERE owner_id = $1 AND status = 'active' ORDER BY id",
        owner_id)


@mutation
async def transfer(ctx: Ctx, src: int, dst: int, amount: int) -> None:
    """Move `amount` from one account to another, in one transaction."""
    await ctx.db.execute("UPDATE accounts SET balance = balance - $2 WHERE id = $1", src, amount)
    await ctx.db.execute("UPDATE accounts SET balance = balance + $2 WHERE id = $1", dst, amount)


@mutation
async def setStatus(ctx: Ctx, account_id: int, status: str) -> None:
    """Change an account's status."""
    await ctx.db.execute("UPDATE accounts SET status = $2 WHERE id = $1", account_id, status)


@mutation
async def setBalanceThenFail(ctx: Ctx, account_id: int, balance: int) -> None:
    """Writes, then raises: the write must never reach a client."""
    await ctx.db.execute("UPDATE accounts SET balance = $2 WHERE id = $1", account_id, balance)
    raise NotFound("rolled back on purpose")


@query
async def myNotes(ctx: Ctx) -> list[dict[str, Any]]:
    """The caller's notes."""
    user_id = ctx.auth.require_user()
    return await ctx.db.fetch("SELECT id, body FROM notes WHERE user_id = $1 ORDER BY id", user_id)


@query
async def note(ctx: Ctx, note_id: int) -> dict[str, Any]:
    """One of the caller's notes (404 for anyone else's)."""
    user_id = ctx.auth.require_user()
    row = await ctx.db.fetchrow("SELECT id, body FROM notes WHERE id = $1 AND user_id = $2",
                                note_id, user_id)
    if row is None:
        raise NotFound("no such note", field="note_id")
    return row


@mutation
async def addNote(ctx: Ctx, body: str) -> int:
    """Add a note for the caller."""
    user_id = ctx.auth.require_user()
    return await ctx.db.fetchval("INSERT INTO notes (user_id, body) VALUES ($1, $2) RETURNING id",
                                 user_id, body)


SETUP = f"""
CREATE TABLE accounts (id bigint PRIMARY KEY, owner_id bigint NOT NULL, balance bigint NOT NULL,
                       status varchar(16) NOT NULL DEFAULT 'active');
CREATE TABLE notes (id bigserial PRIMARY KEY, user_id bigint NOT NULL, body text);
INSERT INTO accounts SELECT g, g % 10, 100, 'active' FROM generate_series(1, 1000) g;
UPDATE accounts SET balance = {TOTAL} WHERE id = 1;
UPDATE accounts SET balance = 0 WHERE id = 2;
"""


@pytest.fixture(scope="module")
def live_url(db_dsn: str) -> Iterator[str]:
    asyncio.run(create_captured(db_dsn, SETUP, ["accounts", "notes"]))
    with ServerThread(create_app(db_dsn, functions=module_functions())) as url:
        yield url


def stats(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/api/stats", timeout=10).json()


def reruns(url: str, path: str) -> int:
    return stats(url)["paths"].get(path, {}).get("reruns", 0)


async def next_value(sub: Any, timeout: float = 10) -> Any:
    return await asyncio.wait_for(anext(sub), timeout)


async def token_for(url: str, email: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        await http.post("/api/action", json={"path": "auth:signup",
                                               "args": {"email": email, "password": "long enough"}})
        reply = await http.post("/api/action", json={"path": "auth:login",
                                                     "args": {"email": email, "password": "long enough"}})
        return reply.json()["value"]["token"]


async def test_initial_value_then_the_change_after_a_commit(live_url: str) -> None:
    async with Client(live_url) as client:
        sub = client.subscribe("test_live_queries:account", {"account_id": 5})
        first = await next_value(sub)
        assert first == {"id": 5, "owner_id": 5, "balance": 100, "status": "active"}
        await client.mutation("test_live_queries:transfer", {"src": 5, "dst": 6, "amount": 7})
        assert (await next_value(sub))["balance"] == 93
        assert sub.live


async def test_rolled_back_writes_never_reach_a_client(live_url: str) -> None:
    async with Client(live_url) as client:
        sub = client.subscribe("test_live_queries:account", {"account_id": 7})
        await next_value(sub)
        with pytest.raises(ClientError) as failure:
            await client.mutation("test_live_queries:setBalanceThenFail",
                                  {"account_id": 7, "balance": 999_999})
        assert failure.value.status == 404
        await client.mutation("test_live_queries:transfer", {"src": 7, "dst": 8, "amount": 1})
        assert (await next_value(sub))["balance"] == 99  # never 999999


async def test_a_write_re_runs_only_the_subscriptions_it_can_touch(live_url: str) -> None:
    async with Client(live_url) as client:
        subs = [client.subscribe("test_live_queries:account", {"account_id": i})
                for i in range(1, 1001)]
        await asyncio.gather(*(next_value(s, 60) for s in subs))
        before = reruns(live_url, "test_live_queries:account")
        await client.mutation("test_live_queries:setStatus", {"account_id": 500, "status": "frozen"})
        assert (await next_value(subs[499]))["status"] == "frozen"
        await client.wait_for_version(client.last_version)
        assert reruns(live_url, "test_live_queries:account") - before == 1


async def test_rows_leave_and_enter_a_filtered_list(live_url: str) -> None:
    async with Client(live_url) as client:
        sub = client.subscribe("test_live_queries:activeAccounts", {"owner_id": 3})
        ids = [row["id"] for row in await next_value(sub)]
        assert 13 in ids
        await client.mutation("test_live_queries:setStatus", {"account_id": 13, "status": "closed"})
        assert 13 not in [row["id"] for row in await next_value(sub)]
        await client.mutation("test_live_queries:setStatus", {"account_id": 13, "status": "active"})
        assert [row["id"] for row in await next_value(sub)] == ids


async def test_no_message_ever_breaks_an_invariant_across_queries(live_url: str) -> None:
    ws_url = live_url.replace("http", "ws") + "/api/sync"
    seen: list[dict[str, Any]] = []
    async with websockets.connect(ws_url) as ws:
        await ws.send(json.dumps({"type": "connect"}))
        await ws.recv()
        for sub_id, account_id in (("a", 1), ("b", 2)):
            await ws.send(json.dumps({"type": "subscribe", "id": sub_id,
                                      "path": "test_live_queries:account",
                                      "args": {"account_id": account_id}}))
        values: dict[str, int] = {}

        async def transfers() -> None:
            async with httpx.AsyncClient(base_url=live_url, timeout=30) as http:
                for i in range(40):
                    src, dst = (1, 2) if i % 2 == 0 else (2, 1)
                    await http.post("/api/mutation", json={
                        "path": "test_live_queries:transfer",
                        "args": {"src": src, "dst": dst, "amount": 3 + i}})

        writer = asyncio.create_task(transfers())
        while not writer.done() or len(values) < 2:
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), 2))
            except TimeoutError:
                continue
            if message["type"] != "transition":
                continue
            for change in message["changes"]:
                assert "value" in change or "diff" in change
                if "value" in change:
                    values[change["id"]] = change["value"]["balance"]
                else:
                    from backend.reactive.diff import apply_diff
                    current = {"balance": values[change["id"]]}
                    values[change["id"]] = apply_diff(current | {"id": 0, "owner_id": 0, "status": ""},
                                                      change["diff"])["balance"]
            seen.append(dict(values))
            if len(values) == 2:
                assert values["a"] + values["b"] == TOTAL, seen
        await writer
    assert len(seen) >= 3


async def test_a_dropped_listener_re_runs_every_subscription(live_url: str, db_dsn: str) -> None:
    async with Client(live_url) as client:
        subs = [client.subscribe("test_live_queries:account", {"account_id": i}) for i in (20, 21)]
        await asyncio.gather(*(next_value(s) for s in subs))
        before = reruns(live_url, "test_live_queries:account")
        conn = await asyncpg.connect(db_dsn)
        try:
            await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE application_name = 'plutarc-listener' AND datname = current_database()")
            # written while the listener is gone: its notice is lost, the re-run must catch it
            await conn.execute("UPDATE accounts SET balance = 4242 WHERE id = 20")
        finally:
            await conn.close()
        assert (await next_value(subs[0], 20))["balance"] == 4242
        assert reruns(live_url, "test_live_queries:account") - before >= 2


async def test_a_reconnecting_client_resumes_without_gaps_or_duplicates(live_url: str) -> None:
    async with Client(live_url) as client:
        sub = client.subscribe("test_live_queries:account", {"account_id": 30})
        assert (await next_value(sub))["balance"] == 100
        await client._ws.close()  # the connection drops
        async with Client(live_url) as writer:
            await writer.mutation("test_live_queries:transfer", {"src": 30, "dst": 31, "amount": 10})
        assert (await next_value(sub, 20))["balance"] == 90
        await client.mutation("test_live_queries:transfer", {"src": 30, "dst": 31, "amount": 5})
        assert (await next_value(sub))["balance"] == 85


async def test_bulk_insert_of_10000_rows_sends_few_notices_and_stays_correct(live_url: str, db_dsn: str) -> None:
    notices: list[str] = []
    listener = await asyncpg.connect(db_dsn)
    await listener.add_listener(CHANNEL, lambda *args: notices.append(args[-1]))
    try:
        async with Client(live_url) as client:
            sub = client.subscribe("test_live_queries:activeAccounts", {"owner_id": 77})
            assert await next_value(sub) == []
            before = stats(live_url)["reruns"]
            conn = await asyncpg.connect(db_dsn)
            try:
                await conn.execute(
                    "INSERT INTO accounts SELECT g, 77, 1, 'active' FROM generate_series(100001, 110000) g")
            finally:
                await conn.close()
            rows = await next_value(sub, 30)
            assert len(rows) == 10_000
            await asyncio.sleep(0.3)
            notices = [n for n in notices if not n.startswith('{"fence"')]
            assert len(notices) <= 12
            assert all(len(n.encode()) < 8000 for n in notices)
            assert stats(live_url)["reruns"] - before <= 3
    finally:
        await listener.close()


async def test_sse_streams_a_query_to_a_plain_http_client(live_url: str) -> None:
    token = await token_for(live_url, "sse@example.com")
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as http:
        await http.post("/api/mutation", json={"path": "test_live_queries:addNote",
                                               "args": {"body": "first"}},
                        headers={"Authorization": f"Bearer {token}"})
        events: list[dict[str, Any]] = []
        params = {"path": "test_live_queries:myNotes", "args": "{}", "token": token}
        async with http.stream("GET", "/api/sse", params=params) as stream:
            assert stream.status_code == 200
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    events.append(json.loads(line[5:]))
                    if len(events) == 1:
                        await http.post("/api/mutation", json={"path": "test_live_queries:addNote",
                                                               "args": {"body": "second"}},
                                        headers={"Authorization": f"Bearer {token}"})
                    else:
                        break
    assert [n["body"] for n in events[0]["changes"][0]["value"]] == ["first"]
    assert "diff" in events[1]["changes"][0] or "value" in events[1]["changes"][0]


async def test_a_user_cannot_subscribe_to_another_users_data(live_url: str) -> None:
    alice = await token_for(live_url, "alice-live@example.com")
    bob = await token_for(live_url, "bob-live@example.com")
    async with Client(live_url, alice) as client:
        note_id = await client.mutation("test_live_queries:addNote", {"body": "alice's secret"})
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as http:
        params = {"path": "test_live_queries:note", "args": json.dumps({"note_id": note_id})}
        denied = await http.get("/api/sse", params=params, headers={"Authorization": f"Bearer {bob}"})
        assert denied.status_code == 404 and "secret" not in denied.text
        anonymous = await http.get("/api/sse", params=params)
        assert anonymous.status_code == 401
    async with Client(live_url, bob) as client:
        sub = client.subscribe("test_live_queries:note", {"note_id": note_id})
        with pytest.raises(ClientError) as failure:
            await next_value(sub)
        assert failure.value.code == "not_found"
        mine = client.subscribe("test_live_queries:myNotes", {})
        assert await next_value(mine) == []


async def test_the_client_serves_its_disk_cache_while_the_backend_is_unreachable(
        live_url: str, db_dsn: str, tmp_path) -> None:
    port = free_port()
    with ServerThread(create_app(db_dsn, functions=module_functions()), port=port) as url:
        async with Client(url, cache_dir=tmp_path) as client:
            sub = client.subscribe("test_live_queries:account", {"account_id": 40})
            live_value = await next_value(sub)
            assert sub.live
    # the backend is gone: a new client (a restarted bot) still gets the last value, marked
    async with Client(url, cache_dir=tmp_path, backoff=(0.05, 0.2)) as client:
        sub = client.subscribe("test_live_queries:account", {"account_id": 40})
        assert await next_value(sub) == live_value
        assert not sub.live
        async with Client(live_url) as writer:
            await writer.mutation("test_live_queries:transfer", {"src": 40, "dst": 41, "amount": 2})
        with ServerThread(create_app(db_dsn, functions=module_functions()), port=port):  # the backend is back
            fresh = await next_value(sub, 20)
            assert sub.live and fresh["balance"] == live_value["balance"] - 2


async def test_identical_subscriptions_share_one_execution(live_url: str) -> None:
    clients = [Client(live_url) for _ in range(25)]
    try:
        subs = [c.subscribe("test_live_queries:account", {"account_id": 50}) for c in clients]
        await asyncio.gather(*(next_value(s) for s in subs))
        before = reruns(live_url, "test_live_queries:account")
        await clients[0].mutation("test_live_queries:transfer", {"src": 50, "dst": 51, "amount": 1})
        values = await asyncio.gather(*(next_value(s) for s in subs))
        assert {v["balance"] for v in values} == {99}
        assert reruns(live_url, "test_live_queries:account") - before == 1
    finally:
        await asyncio.gather(*(c.close() for c in clients))


async def test_logging_out_ends_the_live_sessions_of_that_token(live_url: str) -> None:
    token = await token_for(live_url, "leaving@example.com")
    async with Client(live_url, token, backoff=(0.05, 0.2)) as client:
        notes = client.subscribe("test_live_queries:myNotes", {})
        assert await next_value(notes) == []
        async with httpx.AsyncClient(base_url=live_url, timeout=30) as http:
            params = {"path": "test_live_queries:myNotes", "args": "{}", "token": token}
            async with http.stream("GET", "/api/sse", params=params) as stream:
                lines = stream.aiter_lines()
                assert (await anext(lines)).startswith("event: transition")
                await client.mutation("auth:logout", {})
                rest = [line async for line in lines]  # the stream ends by itself
        assert "event: error" in rest and any("unauthorized" in line for line in rest)
        with pytest.raises(ClientError) as ended:
            await next_value(notes, 20)
        assert ended.value.code == "unauthorized"


async def test_versions_compare_across_backend_processes(live_url: str, db_dsn: str) -> None:
    with ServerThread(create_app(db_dsn, functions=module_functions())) as other_url:  # a second backend on the same database
        async with Client(live_url) as reader, Client(other_url) as writer:
            sub = reader.subscribe("test_live_queries:account", {"account_id": 60})
            before = (await next_value(sub))["balance"]
            await writer.mutation("test_live_queries:transfer", {"src": 60, "dst": 61, "amount": 9})
            # the version a backend answered is honoured by another backend's subscriptions
            await reader.wait_for_version(writer.last_version)
            assert sub.value["balance"] == before - 9
