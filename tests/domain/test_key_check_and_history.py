"""`apiKeys:test` makes a signed read (`/v5/user/query-api`) on the real local exchange with
the stored key: it works and warns about the missing IP restriction, or it says in words
why the exchange refused (wrong secret, unknown key); the secret is in no answer.
`market:history` returns the exchange's klines of any symbol and timeframe."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from exchange.config import DEMO_API_KEY, DEMO_API_SECRET
from tests.domain import test_market_and_password as market_tests
from tests.domain.conftest import World

exchange = market_tests.exchange  # the same module-scoped fixture: a local exchange here too


def _key(world: World, secret: str, api_key: str = DEMO_API_KEY, label: str = "demo") -> int:
    return world.api.m("apiKeys:add", {"exchange": "local", "label": label, "api_key": api_key,
                                        "api_secret": secret}, world.a.token)["id"]


def test_a_working_key_says_so_and_warns_it_has_no_ip_restriction(
        world: World, exchange: Any) -> None:
    key_id = _key(world, DEMO_API_SECRET)
    response = world.api.call("action", "apiKeys:test", {"api_key_id": key_id}, world.a.token)
    answer = response.json()["value"]
    assert answer["ok"] is True and "the key works" in answer["message"]
    assert any("no IP restriction" in w for w in answer["warnings"])
    assert not any("withdraw" in w for w in answer["warnings"])  # the demo key cannot
    assert DEMO_API_SECRET not in response.text


def test_a_wrong_secret_or_an_unknown_key_is_the_exchanges_refusal_in_words(
        world: World, exchange: Any) -> None:
    wrong = world.api.ok("action", "apiKeys:test",
                         {"api_key_id": _key(world, "not-the-secret", label="wrong")},
                         world.a.token)
    assert wrong["ok"] is False
    assert "secret does not match" in wrong["message"] and "10004" in wrong["message"]
    unknown = world.api.ok("action", "apiKeys:test", {"api_key_id": _key(
        world, DEMO_API_SECRET, api_key="nobodysKey0000", label="unknown")}, world.a.token)
    assert unknown["ok"] is False and "does not know this API key" in unknown["message"]


def test_another_traders_key_cannot_be_tested(world: World, exchange: Any) -> None:
    key_id = _key(world, DEMO_API_SECRET, label="mine")
    response = world.api.call("action", "apiKeys:test", {"api_key_id": key_id}, world.b.token)
    assert response.status_code == 404
    assert DEMO_API_SECRET not in response.text


def test_history_is_the_exchanges_klines_of_any_symbol_and_timeframe(
        world: World, exchange: Any) -> None:
    answer = world.api.ok("action", "market:history", {
        "exchange": "local", "symbol": "BTCUSDT", "timeframe": "1m", "limit": 100},
        world.a.token)
    direct = httpx.get(f"{exchange.rest_url}/v5/market/kline",
                       verify=ssl.create_default_context(cadata=exchange.ca_pem),
                       params={"category": "linear", "symbol": "BTCUSDT", "interval": "1",
                               "limit": 100}).json()["result"]["list"][::-1]
    assert [c["time"] for c in answer["candles"]] == [int(r[0]) // 1000 for r in direct]
    assert [c["close"] for c in answer["candles"]] == [r[4] for r in direct]
    bad = world.api.call("action", "market:history", {
        "exchange": "local", "symbol": "BTCUSDT", "timeframe": "7m"}, world.a.token)
    assert bad.status_code == 400 and "timeframe" in bad.text and "7m" in bad.text
