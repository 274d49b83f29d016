"""Bots: the lifecycle state machine, desired states, deployments and their tokens,
heartbeats, connection status and the stale-heartbeat cron."""

from __future__ import annotations

import asyncio
from itertools import pairwise

import pytest

from backend.db.pool import create_pool
from backend.domain import lifecycle
from backend.runtime import Conflict
from backend.runtime.clock import ManualClock
from backend.runtime.context import ANONYMOUS
from backend.runtime.registry import discover
from backend.runtime.runner import Runtime
from backend.runtime.scheduler import Scheduler
from tests.domain.conftest import World, internal, spare_key, sql, ts


def waiting(dsn: str) -> list[int]:
    """Bots the deployment supervisor would deploy: in its work, with no open deployment."""

    async def go() -> list[int]:
        pool = await create_pool(dsn, min_size=1, max_size=1)
        try:
            work = await Runtime(pool, discover()).call(
                "query", "deployer:work", {}, ANONYMOUS, internal_ok=True)
        finally:
            await pool.close()
        return [w["bot_id"] for w in work.value if w["deployment_id"] is None]

    return asyncio.run(go())


def kinds(world: World, bot_id: int, token: str) -> list[str]:
    feed = world.api.q("bots:events", {"bot_id": bot_id, "limit": 200}, token)["items"]
    return [e["message"] for e in reversed(feed)]


def test_every_allowed_transition_is_in_the_table_and_others_are_refused() -> None:
    path = ["provisioning", "deploying", "online", "paused", "online", "stopping", "stopped",
            "provisioning", "error", "stopped"]
    for current, target in pairwise(path):
        assert lifecycle.check(current, target) == target
    for current in lifecycle.STATES:
        assert current == "error" or "error" in lifecycle.ALLOWED[current]
    with pytest.raises(lifecycle.IllegalTransition, match="from stopped to online"):
        lifecycle.check("stopped", "online")
    with pytest.raises(lifecycle.IllegalTransition, match="cannot pause a bot that is stopped"):
        lifecycle.for_desired("stopped", "pause", deployed=False)
    assert lifecycle.for_desired("online", "stop", deployed=True) == "stopping"
    assert lifecycle.for_desired("provisioning", "stop", deployed=False) == "stopped"


def test_a_bot_goes_through_its_whole_lifecycle_with_an_event_for_each_step(world: World) -> None:
    api, token, dsn = world.api, world.a.token, world.dsn
    bot = api.m("bots:create", {"name": "walker", "strategy_id": world.a.strategy_id,
                                "api_key_id": spare_key(api, token, "walker"), "region": "europe-west1",
                                "provider": "gcp"}, token)
    assert (bot["lifecycle"], bot["desired_state"]) == ("provisioning", "run")
    first = internal(dsn, "bots:beginDeployment", {"bot_id": bot["id"]})
    assert first["token"].startswith("plb_") and len(first["data_key"]) == 44
    internal(dsn, "bots:markLifecycle", {"bot_id": bot["id"], "lifecycle": "deploying",
                                         "instance_id": "vm-123"})
    assert api.q("bot:config", token=first["token"])["lifecycle"] == "deploying"
    api.m("bot:heartbeat", {"report_id": "h1", "at": ts(0, 1), "exchange_latency_ms": 12.4},
          first["token"])
    got = api.q("bots:get", {"bot_id": bot["id"]}, token)
    assert got["lifecycle"] == "online" and got["connection"]["status"] == "online"
    assert got["connection"]["exchange_latency_ms"] == 12
    assert api.m("bots:setDesiredState", {"bot_id": bot["id"], "state": "pause"},
                 token)["lifecycle"] == "paused"
    assert api.q("bot:config", token=first["token"])["desired_state"] == "pause"
    assert api.m("bots:setDesiredState", {"bot_id": bot["id"], "state": "run"},
                 token)["lifecycle"] == "online"
    stopping = api.m("bots:setDesiredState", {"bot_id": bot["id"], "state": "stop",
                                              "close_positions": False}, token)
    assert (stopping["lifecycle"], stopping["close_positions"]) == ("stopping", False)
    ended = internal(dsn, "bots:endDeployment", {"bot_id": bot["id"], "outcome": "stopped",
                                                 "deployment_id": first["deployment_id"]})
    assert ended["lifecycle"] == "stopped"
    assert api.call("query", "bot:config", token=first["token"]).status_code == 401  # revoked
    got = api.q("bots:get", {"bot_id": bot["id"]}, token)
    assert got["connection"]["status"] == "offline"
    [dep] = got["deployments"]
    assert (dep["region"], dep["provider"], dep["instance_id"], dep["outcome"]) == (
        "europe-west1", "gcp", "vm-123", "stopped") and dep["ended_at"]
    messages = kinds(world, bot["id"], token)
    transitions = [m for m in messages if "→" in m]
    assert transitions == [
        "provisioning → deploying", "deploying → online: first heartbeat",
        "online → paused: desired state pause", "paused → online: desired state run",
        "online → stopping: desired state stop", "stopping → stopped: deployment ended",
    ]
    # run again: a new deployment with a new token; the old one stays revoked
    assert api.m("bots:setDesiredState", {"bot_id": bot["id"], "state": "run"},
                 token)["lifecycle"] == "provisioning"
    second = internal(dsn, "bots:beginDeployment", {"bot_id": bot["id"]})
    assert second["token"] != first["token"] and second["data_key"] == first["data_key"]
    assert api.q("bot:config", token=second["token"])["bot_id"] == bot["id"]
    assert len(api.q("bots:get", {"bot_id": bot["id"]}, token)["deployments"]) == 2


def test_a_forbidden_transition_is_a_clear_409_and_changes_nothing(world: World) -> None:
    api, token, dsn = world.api, world.a.token, world.dsn
    bot = api.m("bots:create", {"name": "sleeper", "strategy_id": world.a.strategy_id,
                                "api_key_id": world.a.api_key_id, "start": False}, token)
    before = api.q("bots:get", {"bot_id": bot["id"]}, token)
    events_before = kinds(world, bot["id"], token)
    refused = api.call("mutation", "bots:setDesiredState", {"bot_id": bot["id"],
                                                            "state": "pause"}, token)
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == (
        "bot 'sleeper': cannot pause a bot that is stopped: run it first")
    with pytest.raises(Conflict, match="cannot go from stopped to online"):
        internal(dsn, "bots:markLifecycle", {"bot_id": bot["id"], "lifecycle": "online"})
    with pytest.raises(Conflict, match="only a provisioning bot can be deployed"):
        internal(dsn, "bots:beginDeployment", {"bot_id": bot["id"]})
    assert api.q("bots:get", {"bot_id": bot["id"]}, token) == before
    assert kinds(world, bot["id"], token) == events_before
    assert sql(dsn, "SELECT count(*) AS n FROM bot_tokens WHERE bot_id = $1", bot["id"])[0][
        "n"] == 0


def test_an_instance_that_dies_puts_the_bot_in_error_with_the_reason(world: World) -> None:
    api, token, dsn = world.api, world.a.token, world.dsn
    bot = api.m("bots:create", {"name": "fragile", "strategy_id": world.a.strategy_id,
                                "api_key_id": spare_key(api, token, "fragile")}, token)
    assert bot["id"] in waiting(dsn)
    dep = internal(dsn, "bots:beginDeployment", {"bot_id": bot["id"]})
    assert bot["id"] not in waiting(dsn)
    ended = internal(dsn, "bots:endDeployment", {"bot_id": bot["id"], "outcome": "failed",
                                                 "deployment_id": dep["deployment_id"],
                                                 "detail": "VM quota exceeded"})
    assert ended["lifecycle"] == "error" and ended["error_message"] == "VM quota exceeded"
    assert api.m("bots:setDesiredState", {"bot_id": bot["id"], "state": "run"},
                 token)["lifecycle"] == "provisioning"


def test_redeploy_settings_change_only_while_stopped(world: World) -> None:
    api, token = world.api, world.a.token
    refused = api.call("mutation", "bots:update", {"bot_id": world.a.bot_id,
                                                   "region": "us-east1"}, token)
    assert refused.status_code == 409 and refused.json()["error"]["field"] == "region"
    renamed = api.m("bots:update", {"bot_id": world.a.bot_id, "name": "alice-main"}, token)
    assert renamed["name"] == "alice-main" and renamed["lifecycle"] == "online"


def test_a_running_bot_follows_a_new_strategy_version_through_its_config(world: World) -> None:
    api, token = world.api, world.a.token
    config = api.q("bot:config", token=world.a.bot_token)
    template = dict(config["template"])
    template["combination"] = {"mode": "any", "threshold": 0.7}
    api.m("strategies:update", {"strategy_id": world.a.strategy_id, "template": template}, token)
    assert api.q("bot:config", token=world.a.bot_token)["template_version"] == 1
    api.m("bots:update", {"bot_id": world.a.bot_id, "strategy_id": world.a.strategy_id}, token)
    config = api.q("bot:config", token=world.a.bot_token)
    assert config["template_version"] == 2 and config["template"]["combination"]["mode"] == "any"
    assert config["exchange"]["rest_url"] == "https://127.0.0.1:9443"
    assert config["exchange"]["ca_pem"].startswith("-----BEGIN CERTIFICATE")
    assert config["exchange"]["api_key"] == "KEY-ALICE" and config["timeframe"] == "1h"


async def test_the_stale_cron_marks_a_silent_bot_stale_and_a_heartbeat_restores_it(
        world: World) -> None:
    api, token, dsn = world.api, world.b.token, world.dsn
    await asyncio.to_thread(api.m, "bot:heartbeat", {"report_id": "hb-m1", "at": ts(0, 2)},
                            world.b.bot_token)
    await asyncio.to_thread(
        sql, dsn, "UPDATE bot_connections SET last_seen_at = now() - interval '2 minutes' "
        "WHERE bot_id = $1", world.b.bot_id)
    pool = await create_pool(dsn, min_size=1, max_size=2)
    clock = ManualClock()
    scheduler = Scheduler(Runtime(pool, discover(), clock=clock), crons={"bots:markStale"})
    try:
        await scheduler.run_due()  # the crons' first ticks are set
        clock.advance(10)  # bots:markStale runs every 10 s
        assert await scheduler.run_due() == ["bots:markStale"]
        got = await asyncio.to_thread(api.q, "bots:get", {"bot_id": world.b.bot_id}, token)
        assert got["connection"]["status"] == "stale"
        assert got["connection"]["uptime_s"] == 0
        clock.advance(10)
        assert await scheduler.run_due() == ["bots:markStale"]  # runs again, and changes nothing: idempotent
    finally:
        await pool.close()
    await asyncio.to_thread(api.m, "bot:heartbeat", {"report_id": "hb-m2", "at": ts(0, 3)},
                            world.b.bot_token)
    listed = await asyncio.to_thread(api.q, "bots:list", None, token)
    assert [b["connection"]["status"] for b in listed] == ["online"]
    feed = await asyncio.to_thread(api.q, "bots:events", {"bot_id": world.b.bot_id}, token)
    assert [e["message"] for e in feed["items"][:3]] == [
        "connection restored", "no heartbeat for 60s: connection stale",
        "deploying → online: first heartbeat"]  # marked stale once, though it ran twice
