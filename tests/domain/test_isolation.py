"""Two users, two bots: no function lets a user read or write the other's rows, a bot token
reaches only its own bot, and the API secret shows up in no response, log line or the
OpenAPI document."""

from __future__ import annotations

import httpx
import pytest

from tests.domain.conftest import LOG_LINES, SECRET, SEEN, TEMPLATE, Trader, World, ts

USER_QUERIES = ["strategies:list", "apiKeys:list", "bots:list", "dashboard:overview"]
BOT_MUTATIONS = {
    "bot:reportTrade": {"report_id": "iso-t", "symbol": "BTCUSDT", "side": "short",
                        "quantity": "1", "entry_price": "10", "exit_price": "9",
                        "entry_at": ts(30), "exit_at": ts(30, 1), "fees": "0.1", "pnl": "0.9"},
    "bot:reportPositions": {"report_id": "iso-p", "at": ts(30), "positions": [
        {"symbol": "BTCUSDT", "side": "short", "size": "1", "entry_price": "10",
         "unrealised_pnl": "0", "leverage": "2"}]},
    "bot:reportEquity": {"report_id": "iso-e", "at": ts(30), "equity": "500"},
    "bot:reportSignalState": {"report_id": "iso-s", "candle_at": ts(30), "state": {"x": 1}},
    "bot:reportEvent": {"report_id": "iso-v", "kind": "note", "message": "hello"},
    "bot:heartbeat": {"report_id": "iso-h", "at": ts(30)},
}


@pytest.fixture(scope="module", autouse=True)
def both_bots_reported(world: World) -> None:
    """Each bot has reported one of everything before the attacks."""
    for trader in (world.a, world.b):
        for path, args in BOT_MUTATIONS.items():
            world.api.m(path, args, trader.bot_token)


def owned_calls(attacker: Trader, victim: Trader) -> list[tuple[str, str, dict]]:
    """Every user function aimed at the victim's rows (or mixing them with the attacker's)."""
    bot, strategy, key = victim.bot_id, victim.strategy_id, victim.api_key_id
    return [
        ("query", "strategies:get", {"strategy_id": strategy}),
        ("mutation", "strategies:update", {"strategy_id": strategy, "template": TEMPLATE}),
        ("mutation", "strategies:remove", {"strategy_id": strategy}),
        ("mutation", "apiKeys:remove", {"api_key_id": key}),
        ("query", "bots:get", {"bot_id": bot}),
        ("mutation", "bots:update", {"bot_id": bot, "name": "pwned"}),
        ("mutation", "bots:update", {"bot_id": attacker.bot_id, "strategy_id": strategy}),
        ("mutation", "bots:setDesiredState", {"bot_id": bot, "state": "stop"}),
        ("query", "bots:kpis", {"bot_id": bot}),
        ("query", "bots:equity", {"bot_id": bot}),
        ("query", "bots:positions", {"bot_id": bot}),
        ("query", "bots:trades", {"bot_id": bot}),
        ("query", "bots:events", {"bot_id": bot}),
        ("mutation", "bots:create", {"name": "x", "strategy_id": strategy,
                                     "api_key_id": attacker.api_key_id}),
        ("mutation", "bots:create", {"name": "x", "strategy_id": attacker.strategy_id,
                                     "api_key_id": key}),
    ]


def snapshot(world: World, trader: Trader) -> dict:
    api, token = world.api, trader.token
    return {path: api.q(path, token=token) for path in USER_QUERIES} | {
        "bot": api.q("bots:get", {"bot_id": trader.bot_id}, token),
        "events": api.q("bots:events", {"limit": 200}, token),
        "trades": api.q("bots:trades", {"limit": 200}, token),
        "positions": api.q("bots:positions", token=token),
        "config": api.q("bot:config", token=trader.bot_token),
    }


@pytest.mark.parametrize("direction", ["alice_attacks_bob", "bob_attacks_alice"])
def test_no_user_function_crosses_users(world: World, direction: str) -> None:
    attacker, victim = (world.a, world.b) if direction == "alice_attacks_bob" else (world.b, world.a)
    before = snapshot(world, victim)
    for kind, path, args in owned_calls(attacker, victim):
        response = world.api.call(kind, path, args, attacker.token)
        assert response.status_code == 404, (path, response.text)
    for path in USER_QUERIES:
        text = world.api.call("query", path, token=attacker.token).text
        assert f"bot-{victim.label}" not in text and f"KEY-{victim.label}" not in text, path
    for path in ("bots:trades", "bots:events", "bots:positions"):
        value = world.api.q(path, token=attacker.token)
        items = value["items"] if isinstance(value, dict) else value
        assert items and all(i["bot_id"] != victim.bot_id for i in items), path
    assert snapshot(world, victim) == before


def test_a_bot_token_reaches_only_its_own_bot(world: World) -> None:
    api = world.api
    before_b = snapshot(world, world.b)
    assert api.q("bot:config", token=world.a.bot_token)["bot_id"] == world.a.bot_id
    for path, args in BOT_MUTATIONS.items():
        api.m(path, args, world.a.bot_token)
        smuggled = api.call("mutation", path, args | {"bot_id": world.b.bot_id},
                            world.a.bot_token)
        assert smuggled.status_code == 400 and smuggled.json()["error"]["field"] == "bot_id"
    assert snapshot(world, world.b) == before_b
    trades = api.q("bots:trades", {"bot_id": world.a.bot_id}, world.a.token)["items"]
    assert "iso-t" in [t["report_id"] for t in trades]


def test_bot_tokens_cannot_call_user_functions_and_users_cannot_call_bot_ones(
        world: World) -> None:
    api = world.api
    for kind, path, args in owned_calls(world.b, world.a) + [
            ("query", p, {}) for p in USER_QUERIES]:
        assert api.call(kind, path, args, world.a.bot_token).status_code == 403, path
    for path, args in BOT_MUTATIONS.items():
        assert api.call("mutation", path, args, world.a.token).status_code == 403, path
        assert api.call("mutation", path, args).status_code == 401, path
    assert api.call("query", "bot:config", token=world.a.token).status_code == 403
    assert api.call("query", "bot:config").status_code == 401
    for path in ("bots:beginDeployment", "bots:markLifecycle", "bots:endDeployment",
                 "bots:markStale", "bots:retentionSweep", "bots:applyRetention",
                 "apiKeys:setExchangeEndpoint", "deployer:claim", "deployer:renew",
                 "deployer:release", "deployer:event", "regions:rollup"):
        assert api.call("mutation", path, {"bot_id": world.a.bot_id},
                        world.a.token).status_code == 404, path
    for token in (world.a.token, None):
        assert api.call("query", "deployer:work", {}, token).status_code == 404


def test_openapi_lists_the_functions_and_never_the_secret(world: World) -> None:
    document = httpx.get(f"{world.api.url}/api/openapi.json", timeout=10)
    SEEN.append(document.text)
    paths = document.json()["paths"]
    for name in ("strategies:list", "strategies:get", "strategies:create", "strategies:update",
                 "strategies:remove", "apiKeys:list", "apiKeys:add", "apiKeys:remove",
                 "bots:list", "bots:get", "bots:create", "bots:update", "bots:setDesiredState",
                 "bots:kpis", "bots:equity", "bots:positions", "bots:trades", "bots:events",
                 "dashboard:overview", "bot:config", "bot:reportTrade", "bot:reportPositions",
                 "bot:reportEquity", "bot:reportSignalState", "bot:reportEvent", "bot:heartbeat"):
        assert any(p.endswith("/" + name) for p in paths), name
    assert not any("beginDeployment" in p or "markStale" in p for p in paths)
    schema = paths["/api/mutation/apiKeys:add"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert schema["properties"]["api_secret"]["writeOnly"] is True
    assert SECRET not in document.text


def test_the_secret_appears_in_no_response_and_no_log_line(world: World) -> None:
    world.api.call("mutation", "apiKeys:add", {"exchange": "bybit", "label": "x" * 500,
                                               "api_key": "ABCD1234", "api_secret": SECRET},
                   world.a.token)
    assert len(SEEN) > 50 and LOG_LINES
    assert [t for t in SEEN if SECRET in t] == []
    assert [line for line in LOG_LINES if SECRET in line] == []
