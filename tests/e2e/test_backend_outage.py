"""The backend stopped for 30 s: the bot keeps trading on its cached config, and every report
made meanwhile arrives exactly once when the backend is back."""

from __future__ import annotations

import asyncio
import time

from tests.e2e.harness import World, trades_from_executions, wait_async


async def _count(world: World, table: str) -> int:
    rows = await world.sql(
        f"SELECT count(*) AS n, count(DISTINCT report_id) AS d FROM {table} WHERE bot_id = $1",
        world.bot_id,
    )
    assert rows[0]["n"] == rows[0]["d"]
    return rows[0]["n"]


OUTAGE_S = 30


async def _outage(world: World, bot, candles: int) -> int:
    """Stop the backend, trade ``candles`` candles over OUTAGE_S seconds, start it again;
    returns how many orders the bot placed meanwhile."""
    before = len(world.exchange_orders())
    await asyncio.to_thread(world.server.stop)
    started = time.monotonic()
    for _ in range(candles):
        await world.candles(bot, 1)
        await asyncio.sleep(OUTAGE_S / candles)
    assert time.monotonic() - started >= OUTAGE_S
    assert len(bot.outbox) > 0, "reports were held while the backend was away"
    await asyncio.to_thread(world.server.start)
    return len(world.exchange_orders()) - before


async def test_backend_outage_trading_continues_and_reports_arrive_once(world: World) -> None:
    await world.deploy()
    bot = world.start_bot()
    await asyncio.wait_for(bot.ready.wait(), 20)
    await world.subscribed()
    await world.candles(bot, 5)
    placed = await _outage(world, bot, 20)
    assert placed > 0, "the bot stopped trading while the backend was away"
    await world.candles(bot, 2)
    await wait_async(lambda: _empty(bot), 20, "the outbox flushed")
    assert await _count(world, "signal_states") == 27
    assert await _count(world, "equity_snapshots") == 27
    await wait_async(lambda: _events(world, 1), 15, "the backend_reconnected event")
    events = await world.events("backend_reconnected")
    assert len(events) == 1 and events[0]["data"]["seconds"] >= OUTAGE_S - 5

    # A bot started while the backend is down trades on the config cached on disk.
    bot.stop.set()
    await world.tasks.pop()
    await asyncio.to_thread(world.server.stop)
    restarted = world.start_bot()
    await asyncio.wait_for(restarted.ready.wait(), 30)
    assert restarted.offline_since is not None, "it should have started from the cache"
    await world.subscribed()
    await world.candles(restarted, 20)
    await asyncio.to_thread(world.server.start)
    async with restarted.trader.lock:
        await restarted.trader.exit("test end")
    await wait_async(lambda: _empty(restarted), 20, "the outbox flushed")
    assert await _count(world, "signal_states") == 47
    expected = trades_from_executions(world.exchange_executions())
    assert len(await world.reported_trades()) == len(expected) > 0
    await wait_async(lambda: _events(world, 2), 15, "the second backend_reconnected event")


async def _empty(bot) -> bool:
    return len(bot.outbox) == 0


async def _events(world: World, count: int) -> bool:
    return len(await world.events("backend_reconnected")) >= count
