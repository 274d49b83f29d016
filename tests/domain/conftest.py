"""Shared fixtures of the domain tests: a recorder that sees every response and every log
record of the run (the test secret must never show up in either), an HTTP helper, internal
mutation calls through the real runtime, and a two-user/two-bot world per test module."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from backend.db.pool import create_pool
from backend.runtime.context import ANONYMOUS, Auth
from backend.runtime.jsonvalue import dumps
from backend.runtime.registry import discover
from backend.runtime.runner import Runtime

SECRET = "sk-plutarc-TEST-SECRET-5e1f0c7a9b"
TEMPLATE: dict[str, Any] = {
    "schema_version": 1, "name": "MA cross", "symbol": "BTCUSDT", "timeframe": "1h",
    "signals": [{"type": "ma_cross", "params": {"fast": 10, "slow": 30}}],
    "combination": {"mode": "weighted_sum", "threshold": 0.5},
    "risk": {"sizing": {"mode": "fixed_quantity", "value": 0.01}},
}
SEEN: list[str] = []  # every response body and internal result of the run


class _Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        LOG_LINES.append(text)


LOG_LINES: list[str] = []
_LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "plutarc", "asyncpg")


@pytest.fixture(scope="session", autouse=True)
def secret_watch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A private master key file for the run; every log record collected at DEBUG; at the end,
    the secret must be in no response and no log line."""
    saved = os.environ.get("PLUTARC_MASTER_KEY_FILE")
    os.environ["PLUTARC_MASTER_KEY_FILE"] = str(tmp_path_factory.mktemp("keys") / "master.key")
    handler = _Collect(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    for name in _LOGGERS:
        logging.getLogger(name).addHandler(handler)
    yield
    for name in _LOGGERS:
        logging.getLogger(name).removeHandler(handler)
    root.setLevel(old_level)
    if saved is None:
        os.environ.pop("PLUTARC_MASTER_KEY_FILE", None)
    else:
        os.environ["PLUTARC_MASTER_KEY_FILE"] = saved
    assert SEEN, "the recorder saw no responses"
    assert not [t for t in SEEN if SECRET in t], "the API secret appeared in a response"
    assert not [t for t in LOG_LINES if SECRET in t], "the API secret appeared in a log line"


class Api:
    """Calls functions over HTTP and records every answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=30)  # keep-alive: one connection for the module

    def call(self, kind: str, path: str, args: Any = None, token: str | None = None
             ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.post(f"{self.url}/api/{kind}",
                                  json={"path": path, "args": args or {}}, headers=headers)
        SEEN.append(response.text)
        return response

    def ok(self, kind: str, path: str, args: Any = None, token: str | None = None) -> Any:
        response = self.call(kind, path, args, token)
        assert response.status_code == 200, response.text
        return response.json()["value"]

    def q(self, path: str, args: Any = None, token: str | None = None) -> Any:
        return self.ok("query", path, args, token)

    def m(self, path: str, args: Any = None, token: str | None = None) -> Any:
        return self.ok("mutation", path, args, token)

    def login(self, email: str, password: str = "correct horse battery") -> str:
        self.call("action", "auth:signup", {"email": email, "password": password})
        return self.ok("action", "auth:login", {"email": email, "password": password})["token"]


async def _internal(dsn: str, path: str, args: dict[str, Any], auth: Auth) -> Any:
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        runtime = Runtime(pool, discover())
        return (await runtime.call("mutation", path, args, auth, internal_ok=True)).value
    finally:
        await pool.close()


def internal(dsn: str, path: str, args: dict[str, Any], auth: Auth = ANONYMOUS) -> Any:
    """Call an internal mutation the way the supervisor/scheduler does (system caller)."""
    value = asyncio.run(_internal(dsn, path, args, auth))
    SEEN.append(dumps(value))
    return value


async def _sql(dsn: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return [dict(r) for r in await conn.fetch(sql, *params)]
    finally:
        await conn.close()


def sql(dsn: str, sql_text: str, *params: Any) -> list[dict[str, Any]]:
    """Run SQL directly against the test database (to look behind the API)."""
    return asyncio.run(_sql(dsn, sql_text, *params))


def ts(day: int = 0, hour: float = 0) -> str:
    """An ISO timestamp `day` days and `hour` hours after 2026-01-05 00:00 UTC."""
    base = datetime(2026, 1, 5, tzinfo=UTC).timestamp()
    return datetime.fromtimestamp(base + day * 86400 + hour * 3600, UTC).isoformat()


@dataclass
class Trader:
    """One user with an API key, a strategy and a deployed, online bot."""

    label: str
    token: str
    user_id: int
    api_key_id: int
    strategy_id: int
    bot_id: int
    bot_token: str
    deployment_id: int


def spare_key(api: Api, token: str, label: str) -> int:
    """Another exchange account's key: one running bot per account and symbol."""
    return api.m("apiKeys:add", {"exchange": "local", "label": label,
                                 "api_key": f"SPARE-{label}", "api_secret": SECRET}, token)["id"]


def make_trader(api: Api, dsn: str, email: str, label: str) -> Trader:
    token = api.login(email)
    user_id = api.q("auth:me", token=token)["id"]
    key = api.m("apiKeys:add", {"exchange": "local", "label": label, "api_key": f"KEY-{label}",
                                "api_secret": SECRET, "testnet": False}, token)
    strategy = api.m("strategies:create", {"template": TEMPLATE}, token)
    bot = api.m("bots:create", {"name": f"bot-{label}", "strategy_id": strategy["id"],
                                "api_key_id": key["id"]}, token)
    deployment = internal(dsn, "bots:beginDeployment", {"bot_id": bot["id"]})
    internal(dsn, "bots:markLifecycle", {"bot_id": bot["id"], "lifecycle": "deploying",
                                         "instance_id": f"local-{label}"})
    api.m("bot:heartbeat", {"report_id": "hb-0", "at": ts()}, deployment["token"])
    return Trader(label, token, user_id, key["id"], strategy["id"], bot["id"], deployment["token"],
                  deployment["deployment_id"])


@contextlib.contextmanager
def local_exchange(dsn: str, config: Any) -> Iterator[Any]:
    """The local exchange of `config` (an ExchangeConfig) on its own loop, recorded as the
    `local` endpoint of the database at `dsn`; stopped at the end."""
    from exchange.server import ExchangeServer

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(ExchangeServer(config).start(), loop).result(60)
    internal(dsn, "apiKeys:setExchangeEndpoint", {
        "exchange": "local", "rest_url": server.rest_url, "ws_public_url": server.ws_public_url,
        "ws_private_url": server.ws_private_url, "ca_pem": server.ca_pem})
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


@dataclass
class World:
    api: Api
    dsn: str
    a: Trader
    b: Trader


@pytest.fixture(scope="module")
def world(api_url: str, db_dsn: str) -> World:
    """Two users, each with one online bot, on this module's database and server."""
    api = Api(api_url)
    internal(db_dsn, "apiKeys:setExchangeEndpoint", {
        "exchange": "local", "rest_url": "https://127.0.0.1:9443",
        "ws_public_url": "wss://127.0.0.1:9443/v5/public/linear",
        "ws_private_url": "wss://127.0.0.1:9443/v5/private",
        "ca_pem": "-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n",
    })
    return World(api, db_dsn, make_trader(api, db_dsn, "alice@example.com", "ALICE"),
                 make_trader(api, db_dsn, "bob@example.com", "BOBB"))
