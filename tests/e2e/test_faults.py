"""Faults from the exchange's own switches: a WebSocket dropped mid-position, a private
execution message lost, 20% of REST calls failing or timing out (some after placing the
order). In every case the exchange's own order and execution lists are the judge: no order
doubled (one entry and one closing quantity per trade, never more than one position's
worth open), no fill lost (every execution is in a reported trade)."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

from bot.order_ids import parse_order_link_id
from tests.e2e.harness import World, trades_from_executions, wait_async

QTY = Decimal("0.01")


async def _started(world: World):
    await world.deploy()
    bot = world.start_bot()
    await asyncio.wait_for(bot.ready.wait(), 20)
    await world.subscribed()
    return bot


async def _open_position(world: World, bot, limit: int = 40) -> None:
    for _ in range(limit):
        if bot.trader.account.position.size:
            return
        await world.candles(bot, 1)
    raise AssertionError("no position opened")


async def _judge(world: World, bot) -> None:
    """Flatten, then compare the bot's reports with the exchange's lists."""
    await world.admin.set_faults(rest_error_rate=0, rest_timeout_rate=0, rest_timeout_after_rate=0)
    async with bot.trader.lock:
        await bot.trader.exit("test end")
    executions = world.exchange_executions()
    signed = Decimal(0)
    for row in sorted(executions, key=lambda r: int(r["execTime"])):
        signed += Decimal(row["execQty"]) * (1 if row["side"] == "Buy" else -1)
        assert abs(signed) <= QTY, "more than one position's worth was open: a doubled order"
    assert signed == 0
    per_intent: dict[str, Decimal] = {}
    for row in executions:
        per_intent[row["orderLinkId"]] = per_intent.get(row["orderLinkId"], Decimal(0)) + Decimal(
            row["execQty"]
        )
    entries = {k: v for k, v in per_intent.items() if parse_order_link_id(k).leg == "en"}
    assert all(v == QTY for v in entries.values())
    expected = trades_from_executions(executions)
    assert expected, "the strategy should have traded"

    async def reported() -> bool:
        return len(await world.reported_trades()) == len(expected)

    await wait_async(reported, 15, "every trade reported")
    rows = await world.reported_trades()
    got = sorted(
        (
            {
                "seq": int(r["report_id"].split(":")[1]),
                "quantity": r["quantity"].normalize(),
                "entry_price": r["entry_price"].normalize(),
                "exit_price": r["exit_price"].normalize(),
                "fees": r["fees"].normalize(),
            }
            for r in rows
        ),
        key=lambda t: t["seq"],
    )
    assert got == expected
    assert set(bot.trader.account.fills) >= {e["execId"] for e in executions}


async def test_websockets_dropped_mid_position_lose_nothing(world: World) -> None:
    bot = await _started(world)
    await _open_position(world, bot)
    await world.admin.drop_ws("all")
    await world.subscribed()  # cryptofeed is back on the candles
    await wait_async(_ready(bot), 10, "private stream back")
    await world.candles(bot, 12)
    await _judge(world, bot)
    assert await world.events("reconnected")


async def test_a_lost_execution_message_is_found_by_reconciliation(world: World) -> None:
    bot = await _started(world)
    await world.admin.lose("execution", count=3)
    await _open_position(world, bot)
    await world.candles(bot, 12)
    await _judge(world, bot)
    await wait_async(_has_event(world, "reconciliation"), 10, "a reconciliation event")


async def test_twenty_percent_rest_failures_never_double_an_order(world: World, caplog) -> None:
    caplog.set_level(logging.INFO, logger="bot.bybit.retry")
    bot = await _started(world)
    # 20% of signed calls fail (10% 503, 5% held then 504, 5% of writes 504 after the order
    # was placed), and the next two writes surely time out after placing their order.
    await world.admin.set_faults(
        rest_error_rate=0.1,
        rest_timeout_rate=0.05,
        rest_timeout_after_rate=0.05,
        rest_timeout_after_next=2,
        timeout_seconds=0.2,
    )
    await world.candles(bot, 30, timeout_s=30)
    await _judge(world, bot)
    assert "but the exchange has it" in caplog.text, "no ambiguous create was exercised"


def _ready(bot):
    async def check() -> bool:
        return bot.stream.ready.is_set() and bot.stream.connections >= 2

    return check


def _has_event(world: World, kind: str):
    async def check() -> bool:
        return bool(await world.events(kind))

    return check
