"""Stops live on the exchange: a bot process (deployed by the supervisor) enters, sets the template's
stop-loss and take-profit and the template's leverage on the exchange, is `kill -9`'d, and
the exchange-side stop closes its position at the stop price with no bot running."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from tests.e2e.conftest import Supervised
from tests.e2e.harness import MINUTE, SYMBOL, World, template, wait_async, wait_for
from tests.e2e.test_supervisor_lifecycle import _open_a_position, _position, _until

STOP_PCT = Decimal("0.5")
TARGET_PCT = Decimal(3)


def _protected_template() -> dict:
    tpl = template(name="e2e protected", max_bars=500)
    tpl["exits"] = [
        {"type": "stop_loss", "params": {"pct": float(STOP_PCT)}},
        {"type": "take_profit", "params": {"pct": float(TARGET_PCT)}},
        {"type": "time_exit", "params": {"max_bars": 500}},
    ]
    tpl["risk"]["leverage"] = 3
    return tpl


def _tick_at_or_beyond(level: Decimal, tick: Decimal, down: bool) -> Decimal:
    rounding = ROUND_FLOOR if down else ROUND_CEILING
    return (level / tick).to_integral_value(rounding=rounding) * tick


async def test_a_killed_bots_position_is_closed_by_its_exchange_side_stop(
    world: World, supervised: Supervised
) -> None:
    await world.call(
        "mutation",
        "strategies:update",
        {"strategy_id": world.strategy_id, "template": _protected_template()},
    )
    await world.call("mutation", "bots:update", {"bot_id": world.bot_id, "strategy_version": 2})
    supervisor = await supervised.start()
    await _until(world, "online", 30)
    await _open_a_position(world)
    position = world.exchange_account().positions[SYMBOL]
    assert position.size, "no position opened"
    long = position.size > 0
    tick = position.spec.tick_size

    # the levels are set on the exchange from the fill price, on the tick a trade must reach
    await wait_for(lambda: position.stop_loss is not None, 10, "the exchange-side stop")
    sign = 1 if long else -1
    stop = _tick_at_or_beyond(position.avg_price * (1 - sign * STOP_PCT / 100), tick, long)
    target = _tick_at_or_beyond(position.avg_price * (1 + sign * TARGET_PCT / 100), tick, not long)
    assert abs(position.stop_loss - stop) <= tick, (position.stop_loss, stop)
    assert abs(position.take_profit - target) <= tick, (position.take_profit, target)
    assert position.leverage == 3  # the template's, set on the exchange at start

    async def reported_leverage() -> list:
        rows = await world.sql("SELECT leverage FROM positions WHERE bot_id = $1", world.bot_id)
        return [r["leverage"] for r in rows]

    await wait_async(reported_leverage, 15, "a positions report")
    assert set(await reported_leverage()) == {3}  # reported as the exchange holds it

    # the supervisor restarts a crashed bot after a backoff of at least a second: the price
    # below moves within milliseconds, with no bot running
    await supervisor.providers["local"].kill(world.bot_id)  # type: ignore[attr-defined]
    held = abs(position.size)
    executions_before = len(world.exchange_executions())
    # the market trades one tick beyond the stop while no bot is running
    await world.admin.set_price(SYMBOL, stop - sign * tick)
    await world.admin.advance(ms=MINUTE // 4)
    assert _position(world) == 0, "the exchange-side stop did not close the position"
    closing = world.exchange_executions()[executions_before:]
    assert [e["stopOrderType"] for e in closing] == ["StopLoss"] * len(closing)
    assert sum(Decimal(e["execQty"]) for e in closing) == held
    for e in closing:  # filled at the stop, give or take the book's spread and impact
        assert abs(Decimal(e["execPrice"]) - stop) / stop < Decimal("0.001"), e
