"""`market:candles` reads the bot's exchange (the real local exchange over TLS, its CA
trusted) and says clearly when it cannot; `auth:changePassword` needs the current password
and ends the account's other sessions."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from exchange.config import ExchangeConfig
from tests.domain.conftest import World, internal, local_exchange
from tests.support.servers import free_port


@pytest.fixture(scope="module")
def exchange(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The local exchange (manual clock) on its own loop, recorded as the `local` endpoint."""
    config = ExchangeConfig(clock="manual", symbols=("BTCUSDT",), seed=3,
                            ca_file=tmp_path_factory.mktemp("ca") / "ca.pem")
    with local_exchange(world.dsn, config) as server:
        yield server


def test_candles_are_the_exchanges_klines_of_the_bots_symbol_and_timeframe(
        world: World, exchange: Any) -> None:
    answer = world.api.ok("action", "market:candles", {"bot_id": world.a.bot_id, "limit": 50},
                          world.a.token)
    assert (answer["symbol"], answer["timeframe"]) == ("BTCUSDT", "1h")
    context = ssl.create_default_context(cadata=exchange.ca_pem)
    direct = httpx.get(f"{exchange.rest_url}/v5/market/kline", verify=context, params={
        "category": "linear", "symbol": "BTCUSDT", "interval": "60", "limit": 50}).json()
    rows = list(reversed(direct["result"]["list"]))  # the exchange lists newest first
    assert len(answer["candles"]) == len(rows) > 0
    for candle, row in zip(answer["candles"], rows, strict=True):
        assert candle["time"] == int(row[0]) // 1000
        assert [candle[k] for k in ("open", "high", "low", "close", "volume")] == row[1:6]
    times = [c["time"] for c in answer["candles"]]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_candles_of_another_traders_bot_are_not_found(world: World, exchange: Any) -> None:
    response = world.api.call("action", "market:candles", {"bot_id": world.b.bot_id},
                              world.a.token)
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "bot_id"


def test_an_unreachable_exchange_is_a_clear_503(world: World, exchange: Any) -> None:
    closed = f"https://127.0.0.1:{free_port()}"
    internal(world.dsn, "apiKeys:setExchangeEndpoint", {
        "exchange": "local", "rest_url": closed, "ws_public_url": "wss://127.0.0.1:1/v5/public/linear",
        "ws_private_url": "wss://127.0.0.1:1/v5/private", "ca_pem": exchange.ca_pem})
    try:
        response = world.api.call("action", "market:candles",
                                  {"bot_id": world.b.bot_id, "limit": 10}, world.b.token)
    finally:
        internal(world.dsn, "apiKeys:setExchangeEndpoint", {
            "exchange": "local", "rest_url": exchange.rest_url,
            "ws_public_url": exchange.ws_public_url, "ws_private_url": exchange.ws_private_url,
            "ca_pem": exchange.ca_pem})
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "unavailable"
    assert f"local at {closed}" in error["message"] and "unreachable" in error["message"]
    assert "Traceback" not in response.text


def test_change_password_needs_the_current_one_and_ends_the_other_sessions(
        world: World) -> None:
    api, email = world.api, "alice@example.com"
    other = api.ok("action", "auth:login", {"email": email, "password": "correct horse battery"})
    wrong = api.call("action", "auth:changePassword",
                     {"old_password": "not it", "new_password": "a brand new one"}, world.a.token)
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "old_password"
    short = api.call("action", "auth:changePassword",
                     {"old_password": "correct horse battery", "new_password": "short"},
                     world.a.token)
    assert short.status_code == 400 and short.json()["error"]["field"] == "new_password"
    done = api.ok("action", "auth:changePassword", {"old_password": "correct horse battery",
                                                    "new_password": "a brand new one"},
                  world.a.token)
    assert done == {"ok": True, "sessions_revoked": 1}
    assert api.call("query", "auth:me", token=other["token"]).status_code == 401
    assert api.q("auth:me", token=world.a.token)["email"] == email  # this session stays
    old = api.call("action", "auth:login", {"email": email, "password": "correct horse battery"})
    assert old.status_code == 401
    assert api.ok("action", "auth:login", {"email": email, "password": "a brand new one"})["token"]
