"""Supervisors over one database: two racing over 20 bots deploy each exactly once; a
supervisor restarted while its bots run adopts them and starts no second instance; a bot
claimed by a live supervisor is left alone by another.

The instances here are real processes started by the local provider, but a stand-in command
(a sleeping Python) instead of the bot: what is tested is who starts what, and 20 real bots
would not fit on a 2-core machine next to everything else.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys

from infra.providers.local import _alive
from tests.e2e.conftest import TEST_OPTIONS, Supervised
from tests.e2e.harness import World, template, wait_async

# exits cleanly on SIGTERM, as the bot does after flushing
SLEEPER = [sys.executable, "-c", "import signal, sys, time; "
           "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); time.sleep(600)"]
# A lease far longer than a busy machine can stall this process's event loop: with the usual
# 6 s, a supervisor starved of CPU for that long rightly loses its claims to the other one,
# which is not what these tests are about (and made them fail under load).
HELD = dataclasses.replace(TEST_OPTIONS, lease_s=60.0)
QUICK_STOP = dataclasses.replace(HELD, stop_timeout_s=1.0)
DEPLOY_ALL_S = 300  # 20 deployments take ~10 s here alone, ~60 s on a busy 2-core machine


async def _bots(world: World, count: int) -> list[int]:
    """`count` bots set to run, each on its own exchange account (one runner per account)."""
    strategy = await world.call("mutation", "strategies:create",
                                {"template": template(name="claims")})
    ids = []
    for i in range(count):
        key = await world.call("mutation", "apiKeys:add", {
            "exchange": "local", "label": f"k{i}", "api_key": f"CLAIM-{strategy['id']}-{i}", "api_secret": "s"})
        bot = await world.call("mutation", "bots:create", {
            "name": f"claim-{i}", "strategy_id": strategy["id"], "api_key_id": key["id"]})
        ids.append(bot["id"])
    return ids


async def _deployments(world: World, ids: list[int]) -> dict[int, list[dict]]:
    rows = await world.sql("SELECT bot_id, id, instance_id, ended_at FROM deployments "
                           "WHERE bot_id = ANY($1::bigint[]) ORDER BY id", ids)
    out: dict[int, list[dict]] = {i: [] for i in ids}
    for row in rows:
        out[row["bot_id"]].append(row)
    return out


async def _all_deploying(world: World, ids: list[int]) -> None:
    async def done() -> bool:
        rows = await world.sql("SELECT count(*) AS n FROM bots WHERE id = ANY($1::bigint[]) "
                               "AND lifecycle = 'deploying'", ids)
        return rows[0]["n"] == len(ids)

    await wait_async(done, DEPLOY_ALL_S, "every bot deploying")


async def test_two_supervisors_racing_over_20_bots_deploy_each_exactly_once(
    world: World, supervised: Supervised
) -> None:
    await world.set_desired("stop")
    ids = await _bots(world, 20)
    first, second = await asyncio.gather(
        supervised.start("sup-a", SLEEPER, HELD), supervised.start("sup-b", SLEEPER, HELD))
    await _all_deploying(world, ids)
    await asyncio.sleep(1.0)  # give a double deployment the time to show
    deployments = await _deployments(world, ids)
    assert all(len(d) == 1 for d in deployments.values()), deployments
    ran = {s.ident: set(s.providers["local"].instances) for s in (first, second)}  # type: ignore[attr-defined]
    assert not ran["sup-a"] & ran["sup-b"], "a bot runs under both supervisors"
    assert ran["sup-a"] | ran["sup-b"] == set(ids)
    pids = [int(d[0]["instance_id"].removeprefix("local:")) for d in deployments.values()]
    assert len(set(pids)) == 20 and all(_alive(p) for p in pids)
    claims = await world.sql("SELECT bot_id, supervisor FROM bot_claims "
                             "WHERE bot_id = ANY($1::bigint[])", ids)
    assert {c["bot_id"]: c["supervisor"] for c in claims} == {
        bot: ident for ident, bots in ran.items() for bot in bots}


async def test_a_restarted_supervisor_adopts_running_bots_and_starts_no_second_instance(
    world: World, supervised: Supervised
) -> None:
    await world.set_desired("stop")
    ids = await _bots(world, 3)
    first = await supervised.start("sup-r1", SLEEPER, HELD)
    await _all_deploying(world, ids)
    before = await _deployments(world, ids)
    await supervised.stop(first, terminate=False)  # the bots keep running
    other = await supervised.start("sup-r2", SLEEPER, HELD)  # another machine: claims are live
    again = await supervised.start("sup-r1", SLEEPER, QUICK_STOP)

    async def adopted() -> bool:
        return set(ids) <= set(again.providers["local"].instances)  # type: ignore[attr-defined]

    await wait_async(adopted, 60, "the restarted supervisor adopting its bots")
    await asyncio.sleep(2 * HELD.sweep_s)  # the other's sweeps: time to (wrongly) take one
    assert await _deployments(world, ids) == before, "a second instance was started"
    assert not set(ids) & set(other.providers["local"].instances)  # type: ignore[attr-defined]

    # stopped while adopted (not its child): the supervisor still ends it and cleans up
    bot = ids[0]
    await world.call("mutation", "bots:setDesiredState", {"bot_id": bot, "state": "stop"})

    async def stopped() -> bool:
        rows = await world.sql("SELECT lifecycle FROM bots WHERE id = $1", bot)
        return rows[0]["lifecycle"] == "stopped"

    await wait_async(stopped, 60, "the adopted bot stopped")
    pid = int(before[bot][0]["instance_id"].removeprefix("local:"))
    assert not _alive(pid)
    assert not (supervised.data_dir / "bots" / f"bot-{bot}").exists()
