"""Fixtures for the exchange tests: a real server on loopback TLS, and a Bybit V5 client whose
request signing is written here from Bybit's documentation - independent of the simulator's
own code, so a signature bug on either side fails the tests."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import ssl
import time
from types import SimpleNamespace
from urllib.parse import urlencode

import httpx
import pytest
import pytest_asyncio
import websockets

from exchange.admin import AdminClient
from exchange.config import ExchangeConfig
from exchange.server import ExchangeServer

RECV_WINDOW = "5000"


def hmac_hex(secret: str, text: str) -> str:
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


class BybitClient:
    """Minimal Bybit V5 client: X-BAPI-* headers, sign = HMAC_SHA256(secret, timestamp +
    api_key + recv_window + (query string | JSON body)), hex."""

    def __init__(self, base_url: str, ca_file, api_key: str, api_secret: str) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.api_secret = api_secret
        self.http = httpx.AsyncClient(base_url=base_url, verify=client_ssl(ca_file), timeout=10)

    def headers(
        self, payload: str, timestamp: int | None = None, secret: str | None = None
    ) -> dict:
        ts = str(timestamp if timestamp is not None else int(time.time() * 1000))
        sign = hmac_hex(secret or self.api_secret, ts + self.api_key + RECV_WINDOW + payload)
        return {
            "X-BAPI-API-KEY": self.api_key,
            "X-BAPI-TIMESTAMP": ts,
            "X-BAPI-SIGN": sign,
            "X-BAPI-RECV-WINDOW": RECV_WINDOW,
            "Content-Type": "application/json",
        }

    async def get(self, path: str, params: dict | None = None, **sign_kw) -> httpx.Response:
        query = urlencode(params or {})
        return await self.http.get(
            f"{path}?{query}" if query else path, headers=self.headers(query, **sign_kw)
        )

    async def post(self, path: str, body: dict, **sign_kw) -> httpx.Response:
        raw = json.dumps(body)
        return await self.http.post(path, content=raw, headers=self.headers(raw, **sign_kw))

    async def call(self, method: str, path: str, params: dict) -> dict:
        """Signed call that must succeed; returns `result`."""
        response = await (self.get(path, params) if method == "GET" else self.post(path, params))
        data = response.json()
        assert data["retCode"] == 0, data
        return data["result"]

    async def aclose(self) -> None:
        await self.http.aclose()


def client_ssl(ca_file) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file))


async def open_private(server, api_key: str, api_secret: str, topics: list[str]):
    """Connect /v5/private, authenticate as Bybit documents, subscribe."""
    ws = await websockets.connect(server.ws_private_url, ssl=client_ssl(server.ca_file))
    expires = int((time.time() + 10) * 1000)
    await ws.send(
        json.dumps(
            {
                "op": "auth",
                "args": [api_key, expires, hmac_hex(api_secret, f"GET/realtime{expires}")],
            }
        )
    )
    assert json.loads(await ws.recv())["success"] is True
    await ws.send(json.dumps({"op": "subscribe", "args": topics}))
    assert json.loads(await ws.recv())["success"] is True
    return ws


async def recv_until(ws, predicate, timeout: float = 10.0) -> dict:
    """Next message satisfying `predicate`."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if predicate(message):
                return message


def manual_config(tmp_path, **overrides) -> ExchangeConfig:
    base = {"clock": "manual", "ca_file": tmp_path / "ca.pem", "history_candles": 120, "seed": 11}
    base.update(overrides)
    return ExchangeConfig(**base)


@pytest_asyncio.fixture
async def server(tmp_path):
    async with ExchangeServer(manual_config(tmp_path)) as running:
        yield running


@pytest_asyncio.fixture
async def bybit(server):
    client = BybitClient(
        server.rest_url, server.ca_file, server.config.api_key, server.config.api_secret
    )
    yield client
    await client.aclose()


@pytest_asyncio.fixture
async def admin(server):
    async with AdminClient(server.admin_url, server.ca_file) as client:
        yield client


@pytest.fixture
def linear():
    return {"category": "linear", "symbol": "BTCUSDT"}


@pytest.fixture
def helpers():
    """The module-level helpers, for tests (conftest is not importable in importlib mode)."""
    return SimpleNamespace(
        open_private=open_private,
        recv_until=recv_until,
        client_ssl=client_ssl,
        hmac_hex=hmac_hex,
        manual_config=manual_config,
        BybitClient=BybitClient,
    )
