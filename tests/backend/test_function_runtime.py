"""The function runtime over real HTTP against a real database: errors and their statuses,
transactions (rollback, retries, read-only queries), auth (sessions, expiry, bot tokens)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel
from tortoise import Tortoise

from backend.auth.tokens import issue_bot_token
from backend.db.tortoise_config import tortoise_config
from backend.models import Bot, User
from backend.reactive.version import Snapshot
from backend.runtime import BadRequest, Ctx, Id, mutation, query
from backend.runtime.executor import Executor

BotId = Id["bots"]


class Leg(BaseModel):
    symbol: str
    quantity: Decimal


@query
async def echo(ctx: Ctx, count: int, legs: list[Leg], bot_id: BotId, note: str | None = None) -> dict:
    """Echo the validated arguments (test function)."""
    return {"count": count, "legs": [leg.model_dump() for leg in legs], "bot_id": bot_id,
            "note": note}


@query
async def sneakyWrite(ctx: Ctx) -> int:
    """A query that tries to write (test function)."""
    await ctx.db.execute("INSERT INTO counters (name, value) VALUES ('sneaky', 1)")
    return 1


@query
async def boom(ctx: Ctx) -> int:
    """Fails unexpectedly (test function)."""
    raise RuntimeError("secret internal detail")


@mutation
async def addAndFail(ctx: Ctx, name: str) -> None:
    """Writes, then raises: nothing may stay (test function)."""
    await ctx.db.execute("INSERT INTO counters (name, value) VALUES ($1, 1)", name)
    raise BadRequest("refused after writing", field="name")


@mutation
async def increment(ctx: Ctx, name: str) -> int:
    """Read-modify-write on one row (test function)."""
    value = await ctx.db.fetchval("SELECT value FROM counters WHERE name = $1", name)
    await asyncio.sleep(0.01)  # widen the race window
    await ctx.db.execute("UPDATE counters SET value = $2 WHERE name = $1", name, value + 1)
    return value + 1


@pytest.fixture(scope="module", autouse=True)
def counters_table(db_dsn: str) -> None:
    async def create() -> None:
        conn = await asyncpg.connect(db_dsn)
        await conn.execute("CREATE TABLE counters (name text PRIMARY KEY, value int NOT NULL)")
        await conn.execute("INSERT INTO counters VALUES ('shared', 0)")
        await conn.close()

    asyncio.run(create())


def call(url: str, kind: str, path: str, args: Any = None, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{url}/api/{kind}", json={"path": path, "args": args or {}},
                      headers=headers, timeout=30)


def login(url: str, email: str, password: str = "correct horse") -> str:
    assert call(url, "action", "auth:signup", {"email": email, "password": password}).status_code == 200
    response = call(url, "action", "auth:login", {"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["value"]["token"]


def test_valid_arguments_reach_the_function_with_their_types(api_url: str) -> None:
    args = {"count": "3", "legs": [{"symbol": "BTCUSDT", "quantity": "0.001"}], "bot_id": 7}
    response = call(api_url, "query", "test_function_runtime:echo", args)
    assert response.status_code == 200
    body = response.json()
    assert body["value"] == {"count": 3, "bot_id": 7, "note": None,
                             "legs": [{"symbol": "BTCUSDT", "quantity": "0.001"}]}
    Snapshot.parse(body["version"])  # a query's answer carries the snapshot it read


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"legs": [], "bot_id": 1}, "count"),
        ({"count": "x", "legs": [], "bot_id": 1}, "count"),
        ({"count": 1, "legs": [{"symbol": "BTCUSDT", "quantity": "lots"}], "bot_id": 1},
         "legs.0.quantity"),
        ({"count": 1, "legs": [], "bot_id": 0}, "bot_id"),
        ({"count": 1, "legs": [], "bot_id": 1, "extra": True}, "extra"),
    ],
)
def test_bad_arguments_are_400_naming_the_field(api_url: str, args: dict, field: str) -> None:
    response = call(api_url, "query", "test_function_runtime:echo", args)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert response.json()["error"]["code"] == "bad_request"


def test_unknown_function_is_404_and_wrong_kind_is_400(api_url: str) -> None:
    assert call(api_url, "query", "nope:nothing").status_code == 404
    assert call(api_url, "mutation", "auth:finishLogin").status_code == 404  # internal
    wrong = call(api_url, "mutation", "auth:me")
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "path"
    bad_json = httpx.post(f"{api_url}/api/query", content=b"{not json", timeout=10)
    assert bad_json.status_code == 400 and bad_json.json()["error"]["field"] == "body"


def test_unexpected_error_is_500_with_a_request_id_and_no_details(api_url: str) -> None:
    response = call(api_url, "query", "test_function_runtime:boom")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["request_id"] and error["request_id"] in error["message"]
    assert "secret internal detail" not in response.text and "Traceback" not in response.text


def test_a_mutation_that_raises_leaves_no_partial_write(api_url: str, db_dsn: str) -> None:
    response = call(api_url, "mutation", "test_function_runtime:addAndFail", {"name": "ghost"})
    assert response.status_code == 400 and response.json()["error"]["field"] == "name"

    async def count() -> int:
        conn = await asyncpg.connect(db_dsn)
        try:
            return await conn.fetchval("SELECT count(*) FROM counters WHERE name = 'ghost'")
        finally:
            await conn.close()

    assert asyncio.run(count()) == 0


def test_a_query_cannot_write(api_url: str, db_dsn: str) -> None:
    response = call(api_url, "query", "test_function_runtime:sneakyWrite")
    assert response.status_code == 500

    async def count() -> int:
        conn = await asyncpg.connect(db_dsn)
        try:
            return await conn.fetchval("SELECT count(*) FROM counters WHERE name = 'sneaky'")
        finally:
            await conn.close()

    assert asyncio.run(count()) == 0


async def test_concurrent_read_modify_writes_never_lose_an_update(api_url: str, db_dsn: str) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        responses = await asyncio.gather(*[
            client.post(f"{api_url}/api/mutation",
                        json={"path": "test_function_runtime:increment", "args": {"name": "shared"}})
            for _ in range(12)
        ])
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 409}
    applied = statuses.count(200)
    conn = await asyncpg.connect(db_dsn)
    try:
        final = await conn.fetchval("SELECT value FROM counters WHERE name = 'shared'")
    finally:
        await conn.close()
    assert final == applied  # every 200 applied exactly once, every 409 not at all
    assert sorted(r.json()["value"] for r in responses if r.status_code == 200) == list(
        range(1, applied + 1))
    assert all(r.json()["version"] for r in responses if r.status_code == 200)


def test_signup_login_me_update_and_logout(api_url: str) -> None:
    token = login(api_url, "Trader@Example.com")
    me = call(api_url, "query", "auth:me", token=token)
    assert me.status_code == 200 and me.json()["value"]["email"] == "trader@example.com"
    updated = call(api_url, "mutation", "auth:updateProfile", {"display_name": "Ada"}, token)
    assert updated.json()["value"]["display_name"] == "Ada"
    assert call(api_url, "mutation", "auth:logout", token=token).status_code == 200
    after = call(api_url, "query", "auth:me", token=token)
    assert after.status_code == 401


def test_signup_answers_alike_for_a_taken_email_and_refuses_bad_input(api_url: str) -> None:
    login(api_url, "dup@example.com")
    fresh = call(api_url, "action", "auth:signup", {"email": "new@example.com", "password": "x" * 10})
    again = call(api_url, "action", "auth:signup", {"email": "DUP@example.com", "password": "y" * 10})
    assert again.status_code == fresh.status_code == 200
    assert again.json()["value"]["message"] == fresh.json()["value"]["message"]
    # the taken account keeps its password
    assert call(api_url, "action", "auth:login",
                {"email": "dup@example.com", "password": "y" * 10}).status_code == 401
    short = call(api_url, "action", "auth:signup", {"email": "s@example.com", "password": "short"})
    assert short.status_code == 400 and short.json()["error"]["field"] == "password"
    bad = call(api_url, "action", "auth:signup", {"email": "not-an-email", "password": "x" * 10})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "email"


def test_anonymous_calls_are_401(api_url: str) -> None:
    assert call(api_url, "query", "auth:me").status_code == 401
    assert call(api_url, "query", "auth:me", token="pls_forged").status_code == 401
    assert call(api_url, "query", "auth:me", token="garbage").status_code == 401


def test_an_expired_session_is_refused(api_url: str, db_dsn: str) -> None:
    token = login(api_url, "expiring@example.com")
    assert call(api_url, "query", "auth:me", token=token).status_code == 200

    async def expire() -> None:
        conn = await asyncpg.connect(db_dsn)
        await conn.execute("UPDATE sessions SET expires_at = now() - interval '1 second' "
                           "WHERE user_id = (SELECT id FROM users WHERE email = 'expiring@example.com')")
        await conn.close()

    asyncio.run(expire())
    assert call(api_url, "query", "auth:me", token=token).status_code == 401


def test_failed_logins_are_rate_limited_per_account(api_url: str) -> None:
    login(api_url, "target@example.com")
    for _ in range(5):
        wrong = call(api_url, "action", "auth:login", {"email": "target@example.com", "password": "wrong-one"})
        assert wrong.status_code == 401
    blocked = call(api_url, "action", "auth:login",
                   {"email": "target@example.com", "password": "correct horse"})
    assert blocked.status_code == 429


def test_a_bot_token_cannot_call_user_functions(api_url: str, db_dsn: str) -> None:
    login(api_url, "owner@example.com")

    async def make_bot_token() -> str:
        await Tortoise.init(config=tortoise_config(db_dsn))
        try:
            owner = await User.get(email="owner@example.com")
            bot_id = (await Bot.create(user_id=owner.id, name="b")).id
        finally:
            await Tortoise.close_connections()
        conn = await asyncpg.connect(db_dsn)
        try:
            first = await issue_bot_token(Executor(conn), bot_id)
            second = await issue_bot_token(Executor(conn), bot_id)
            assert call(api_url, "query", "auth:me", token=first).status_code == 401  # revoked
            return second
        finally:
            await conn.close()

    bot_token = asyncio.run(make_bot_token())
    response = call(api_url, "query", "auth:me", token=bot_token)
    assert response.status_code == 403
    assert call(api_url, "mutation", "auth:updateProfile", {"display_name": "x"}, bot_token).status_code == 403


def test_openapi_is_valid_3_1_and_lists_every_public_function(api_url: str) -> None:
    document = httpx.get(f"{api_url}/api/openapi.json", timeout=10).json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    for path in ("auth:signup", "auth:me", "auth:updateProfile"):
        assert any(p.endswith("/" + path) for p in document["paths"])
    assert not any("finishLogin" in p or "setPassword" in p for p in document["paths"])
    schema = document["paths"]["/api/query/test_function_runtime:echo"]["post"]["requestBody"]
    assert "legs" in schema["content"]["application/json"]["schema"]["properties"]


def test_each_function_is_callable_at_its_own_url(api_url: str) -> None:
    response = httpx.post(f"{api_url}/api/query/test_function_runtime:echo",
                          json={"count": 1, "legs": [], "bot_id": 2}, timeout=10)
    assert response.status_code == 200 and response.json()["value"]["bot_id"] == 2


def test_health_reports_the_database(api_url: str) -> None:
    body = httpx.get(f"{api_url}/api/health", timeout=10).json()
    assert body["status"] == "ok" and body["database"]["ok"] is True
