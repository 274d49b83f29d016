"""Regions: the estimate formula on known city pairs, `regions:list` with the catalogue and
the latency bots measured (rolled up from real heartbeats), and a region a provider does not
have refused by name."""

from __future__ import annotations

import asyncio

import pytest

from backend.db.pool import create_pool
from backend.domain import regions
from backend.runtime.clock import ManualClock
from backend.runtime.registry import discover
from backend.runtime.runner import Runtime
from backend.runtime.scheduler import Scheduler
from tests.domain.conftest import World, internal, spare_key, sql, ts


@pytest.mark.parametrize(("a", "b", "km"), [
    # published great-circle distances between city centres
    ((51.5074, -0.1278), (40.7128, -74.0060), 5570),  # London – New York
    ((1.3521, 103.8198), (35.6762, 139.6503), 5320),  # Singapore – Tokyo
])
def test_the_estimate_is_the_great_circle_there_and_back_at_fibre_speed(a, b, km) -> None:
    distance = regions.great_circle_km(*a, *b)
    assert distance == pytest.approx(km, rel=0.01)
    assert regions.estimated_rtt_ms(distance) == pytest.approx(2 * distance / 200, rel=1e-9)
    assert regions.estimated_rtt_ms(5570) == pytest.approx(55.7)


def test_regions_list_names_engines_with_sources_and_the_closest_region(world: World) -> None:
    catalogue = world.api.q("regions:list", {}, world.a.token)
    bybit = next(e for e in catalogue["exchanges"] if e["exchange"] == "bybit")
    assert "ap-southeast-1" in bybit["location"] and bybit["source"].startswith("Bybit")
    gcp = next(p for p in catalogue["providers"] if p["provider"] == "gcp")["regions"]
    singapore = next(r for r in gcp if r["code"] == "asia-southeast1")
    assert singapore["zone"] == "asia-southeast1-a" and singapore["city"] == "Jurong West"
    assert singapore["estimates"]["bybit"]["rtt_ms_est"] < 1.0
    assert catalogue["closest"]["bybit"]["region"] == "asia-southeast1"
    assert "estimate" in catalogue["estimate_note"]
    assert "hardly matters" in catalogue["guidance"]["1h"]
    local = next(p for p in catalogue["providers"] if p["provider"] == "local")["regions"]
    assert [r["code"] for r in local] == ["local"]


def test_measured_latency_is_rolled_up_per_region_from_heartbeats(world: World) -> None:
    api, dsn = world.api, world.dsn
    for i, ms in enumerate([3.0, 5.0, 4.0, 40.0]):
        api.m("bot:heartbeat", {"report_id": f"lat-{i}", "at": ts(1, i),
                                "exchange_latency_ms": ms}, world.a.bot_token)
    assert internal(dsn, "regions:rollup", {}) >= 1
    catalogue = api.q("regions:list", {}, world.b.token)
    local = next(p for p in catalogue["providers"] if p["provider"] == "local")["regions"][0]
    measured = local["measured"]["local"]
    assert measured["samples"] >= 4 and measured["p50_ms"] == 4.5 and measured["p95_ms"] > 30


async def test_the_rollup_is_a_cron_every_10_s(world: World) -> None:
    api, dsn = world.api, world.dsn
    await asyncio.to_thread(api.m, "bot:heartbeat", {
        "report_id": "lat-cron", "at": ts(2, 0), "exchange_latency_ms": 6.0}, world.b.bot_token)
    await asyncio.to_thread(sql, dsn, "DELETE FROM region_latency")
    pool = await create_pool(dsn, min_size=1, max_size=2)
    clock = ManualClock()
    scheduler = Scheduler(Runtime(pool, discover(), clock=clock), crons={"regions:rollup"})
    try:
        await scheduler.run_due()  # the cron's first tick is set
        clock.advance(10)
        assert await scheduler.run_due() == ["regions:rollup"]
    finally:
        await pool.close()
    catalogue = await asyncio.to_thread(api.q, "regions:list", {}, world.a.token)
    local = next(p for p in catalogue["providers"] if p["provider"] == "local")["regions"][0]
    assert local["measured"]["local"]["samples"] >= 1


def test_a_region_the_provider_does_not_have_is_refused_by_name(world: World) -> None:
    api, token = world.api, world.a.token
    refused = api.call("mutation", "bots:create", {
        "name": "lost", "strategy_id": world.a.strategy_id,
        "api_key_id": spare_key(api, token, "lost"), "provider": "gcp", "region": "mars-1"},
        token)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["field"] == "region" and "'mars-1'" in error["message"]
    assert "asia-southeast1" in error["message"]
