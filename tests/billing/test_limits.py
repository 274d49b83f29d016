"""Plan limits are enforced by the backend: each refusal names the plan, the limit and the
way up (a 403 `plan_limit`), and changes nothing; an upgrade lifts them. Plus the pure rules:
which plan applies, which bots a plan does not cover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.billing.account import effective_plan
from backend.billing.limits import over_limit
from backend.billing.plans import BY_KEY, FREE, way_up
from tests.billing.support import Billing, Trader
from tests.domain.conftest import sql


def _refused(response, *words: str) -> str:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "plan_limit"
    for word in words:
        assert word in error["message"], error["message"]
    return error["field"]


def test_free_refuses_a_second_running_bot_a_live_key_and_other_regions(billing: Billing
                                                                        ) -> None:
    trader = Trader(billing)
    strategy_id = trader.strategy()
    first = trader.bot(strategy_id)
    assert first.status_code == 200
    field = _refused(trader.bot(strategy_id),
                     "Free plan allows 1 running bot", "1 already runs", "upgrade to Pro")
    assert field == "start"
    stopped = trader.bot(strategy_id, start=False)
    assert stopped.status_code == 200, "a stopped bot takes no slot"
    run = trader.call("mutation", "bots:setDesiredState",
                      {"bot_id": stopped.json()["value"]["id"], "state": "run"})
    assert _refused(run, "Free plan allows 1 running bot", "upgrade to Pro") == "state"
    region = trader.bot(strategy_id, provider="gcp", region="asia-southeast1", start=False)
    assert _refused(region, "Free plan", "'asia-southeast1'", "upgrade to Pro") == "region"
    moved = trader.call("mutation", "bots:update", {
        "bot_id": stopped.json()["value"]["id"], "provider": "gcp", "region": "asia-southeast1"})
    assert _refused(moved, "Free plan", "'asia-southeast1'") == "region"
    live = trader.call("mutation", "apiKeys:add", {
        "exchange": "bybit", "label": "live", "api_key": "LIVEKEY1", "api_secret": "s"})
    assert _refused(live, "Free plan allows local-exchange and testnet keys only",
                    "upgrade to Pro") == "testnet"
    testnet = trader.call("mutation", "apiKeys:add", {
        "exchange": "bybit", "label": "testnet", "api_key": "TESTKEY1", "api_secret": "s",
        "testnet": True})
    assert testnet.status_code == 200
    bots = sql(billing.dsn, "SELECT desired_state FROM bots WHERE user_id = $1", trader.user_id)
    assert sorted(b["desired_state"] for b in bots) == ["run", "stop"], "nothing else changed"
    keys = sql(billing.dsn, "SELECT label FROM api_keys WHERE user_id = $1", trader.user_id)
    assert sorted({k["label"] for k in keys}) == ["local", "testnet"], "no live key was stored"

    trader.ok("action", "billing:changePlan", {"plan": "pro", "payment_method_id": trader.card_id()})
    assert trader.call("mutation", "bots:setDesiredState", {
        "bot_id": stopped.json()["value"]["id"], "state": "run"}).status_code == 200
    assert trader.call("mutation", "apiKeys:add", {
        "exchange": "bybit", "label": "live", "api_key": "LIVEKEY1", "api_secret": "s"}
    ).status_code == 200
    assert trader.bot(strategy_id, provider="gcp", region="asia-southeast1").status_code == 200
    usage = trader.status()["usage"]
    assert usage["running_bots"] == 3 and usage["max_bots"] == 5 and usage["live_keys"] == 1


NOW = datetime(2026, 12, 6, tzinfo=UTC)


@pytest.mark.parametrize(("status", "grace", "expected"), [
    ("active", None, "pro"), ("trialing", None, "pro"),
    ("past_due", NOW + timedelta(days=1), "pro"), ("past_due", NOW, "free"),
    ("unpaid", NOW - timedelta(seconds=1), "free"), ("past_due", None, "free"),
    ("canceled", None, "free"), ("incomplete", None, "free"), ("none", None, "free"),
])
def test_the_plan_in_force_follows_status_and_grace(status, grace, expected) -> None:
    assert effective_plan("pro", status, grace, NOW) == expected


def _bot(id_: int, exchange: str = "local", testnet: bool = False, region: str = "local"
         ) -> dict:
    return {"id": id_, "exchange": exchange, "testnet": testnet, "region": region}


def test_a_plan_pauses_what_it_refuses_first_then_the_newest_over_the_count() -> None:
    bots = [_bot(3), _bot(1), _bot(2, exchange="bybit"), _bot(4, region="asia-southeast1")]
    assert [b["id"] for b in over_limit(bots, FREE)] == [2, 4, 3]
    assert over_limit(bots, BY_KEY["pro"]) == []
    assert [b["id"] for b in over_limit([_bot(i) for i in range(1, 8)], BY_KEY["pro"])] == [6, 7]
    assert over_limit([_bot(2, exchange="bybit", testnet=True)], FREE) == []


def test_the_way_up_is_the_smallest_plan_that_allows_it() -> None:
    assert way_up(FREE, lambda p: p.max_bots > 1).key == "pro"
    assert way_up(FREE, lambda p: p.max_bots > 5).key == "team"
    assert way_up(BY_KEY["team"], lambda p: p.max_bots > 25) is None


def test_two_bots_created_at_once_on_free_cannot_both_run(billing: Billing) -> None:
    from concurrent.futures import ThreadPoolExecutor

    trader = Trader(billing)
    strategy_id = trader.strategy()
    others = [Trader(billing, trader.token) for _ in range(4)]  # a connection each
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda t: t.bot(strategy_id), others))
    assert sorted(a.status_code for a in answers) == [200, 403, 403, 403], [
        a.text for a in answers]
    running = sql(billing.dsn, "SELECT count(*) AS n FROM bots WHERE user_id = $1 AND "
                  "desired_state = 'run'", trader.user_id)
    assert running[0]["n"] == 1
