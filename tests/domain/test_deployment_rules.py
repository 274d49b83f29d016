"""The deployment rules a trader meets through the API: one running bot per exchange account
and symbol, `bots:remove` (history kept), the deployment history, and a bot of another
release line refused at its heartbeat."""

from __future__ import annotations

from backend.domain.botversion import backend_version, refusal
from tests.domain.conftest import World, internal, spare_key, ts


def test_a_second_running_bot_on_the_same_account_and_symbol_is_refused(world: World) -> None:
    api, token = world.api, world.a.token
    refused = api.call("mutation", "bots:create", {
        "name": "twin", "strategy_id": world.a.strategy_id, "api_key_id": world.a.api_key_id},
        token)
    assert refused.status_code == 409
    message = refused.json()["error"]["message"]
    assert "'bot-ALICE' already trades BTCUSDT" in message and "one running bot" in message
    idle = api.m("bots:create", {"name": "twin", "strategy_id": world.a.strategy_id,
                                 "api_key_id": world.a.api_key_id, "start": False}, token)
    run = api.call("mutation", "bots:setDesiredState", {"bot_id": idle["id"], "state": "run"},
                   token)
    assert run.status_code == 409 and api.q("bots:get", {"bot_id": idle["id"]},
                                            token)["lifecycle"] == "stopped"


def test_removing_a_stopped_bot_keeps_its_trades_readable(world: World) -> None:
    api, token, dsn = world.api, world.a.token, world.dsn
    bot = api.m("bots:create", {"name": "short-lived", "strategy_id": world.a.strategy_id,
                                "api_key_id": spare_key(api, token, "short")}, token)
    dep = internal(dsn, "bots:beginDeployment", {"bot_id": bot["id"]})
    api.m("bot:reportTrade", {
        "report_id": "t1", "symbol": "BTCUSDT", "side": "long", "quantity": "0.01",
        "entry_price": "100", "exit_price": "110", "entry_at": ts(0, 1), "exit_at": ts(0, 2),
        "fees": "0.01", "pnl": "0.09"}, dep["token"])
    refused = api.call("mutation", "bots:remove", {"bot_id": bot["id"]}, token)
    assert refused.status_code == 409 and "stop it before removing" in refused.text
    api.m("bots:setDesiredState", {"bot_id": bot["id"], "state": "stop"}, token)
    internal(dsn, "bots:endDeployment", {"bot_id": bot["id"], "deployment_id":
                                         dep["deployment_id"], "outcome": "stopped"})
    removed = api.m("bots:remove", {"bot_id": bot["id"]}, token)
    assert removed["removed_at"] is not None and removed["api_key_id"] is None
    assert bot["id"] not in [b["id"] for b in api.q("bots:list", {}, token)]
    trades = api.q("bots:trades", {"bot_id": bot["id"]}, token)
    assert [t["report_id"] for t in trades["items"]] == ["t1"]
    assert api.q("bots:kpis", {"bot_id": bot["id"]}, token)["trade_count"] == 1
    history = api.q("bots:deployments", {"bot_id": bot["id"]}, token)
    assert [(d["provider"], d["outcome"]) for d in history] == [("local", "stopped")]
    again = api.call("mutation", "bots:setDesiredState", {"bot_id": bot["id"], "state": "run"},
                     token)
    assert again.status_code == 409 and "was removed" in again.text
    other = api.call("mutation", "bots:remove", {"bot_id": bot["id"]}, world.b.token)
    assert other.status_code == 404
    peek = api.call("query", "bots:deployments", {"bot_id": bot["id"]}, world.b.token)
    assert peek.status_code == 404


def test_a_bot_of_another_release_line_is_refused_at_its_heartbeat(world: World) -> None:
    api, token, dsn = world.api, world.a.token, world.dsn
    assert refusal(backend_version()) is None and refusal(None) is None
    assert "too old" in (refusal("0.0.9", "0.1.0") or "")
    assert "too new" in (refusal("0.2.0", "0.1.3") or "")
    bot = api.m("bots:create", {"name": "old-timer", "strategy_id": world.a.strategy_id,
                                "api_key_id": spare_key(api, token, "old")}, token)
    dep = internal(dsn, "bots:beginDeployment", {"bot_id": bot["id"]})
    internal(dsn, "bots:markLifecycle", {"bot_id": bot["id"], "lifecycle": "deploying"})
    answer = api.m("bot:heartbeat", {"report_id": "h", "at": ts(), "version": "0.0.1"},
                   dep["token"])
    assert "too old" in answer["refused"] and "redeploy" in answer["refused"]
    got = api.q("bots:get", {"bot_id": bot["id"]}, token)
    assert got["lifecycle"] == "error" and "0.0.1" in got["error_message"]
    assert got["connection"]["status"] == "offline"
