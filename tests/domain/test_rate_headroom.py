"""The account's rate-limit headroom: bots report the exchange's X-Bapi-Limit-Status with
their heartbeats; `rateBudget:headroom` shows it per key (latest report wins, per user);
`bot:config` hands each bot its share of the account's limits."""

from __future__ import annotations

from tests.domain.conftest import World, ts


def beat(world: World, report_id: str, at: str, remaining: int) -> None:
    world.api.m("bot:heartbeat", {"report_id": report_id, "at": at, "rate_limits": [
        {"path": "/v5/order/create", "remaining": remaining, "limit": 10},
        {"path": "/v5/position/list", "remaining": 49, "limit": 50}]}, world.a.bot_token)


def test_heartbeats_publish_the_accounts_headroom_per_key(world: World) -> None:
    beat(world, "hb-r1", ts(1, 1), 3)
    beat(world, "hb-r0", ts(1, 0), 9)  # older: the stored headroom stays
    keys = world.api.q("rateBudget:headroom", {}, world.a.token)
    assert [(k["api_key_id"], k["bots_sharing"]) for k in keys] == [(world.a.api_key_id, 1)]
    assert [(e["path"], e["remaining"], e["window_limit"]) for e in keys[0]["endpoints"]] == [
        ("/v5/order/create", 3, 10), ("/v5/position/list", 49, 50)]
    assert world.api.q("rateBudget:headroom", {}, world.b.token)[0]["endpoints"] == []
    assert world.api.q("bot:config", {}, world.a.bot_token)["rate_share"] == 1.0
    bad = world.api.call("mutation", "bot:heartbeat", {
        "report_id": "hb-bad", "at": ts(1, 2),
        "rate_limits": [{"path": "https://elsewhere", "remaining": 1, "limit": 1}]},
        world.a.bot_token)
    assert bad.status_code == 400 and "rate_limits.0.path" in bad.text
