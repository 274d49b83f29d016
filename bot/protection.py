"""Protective levels on the venue: the strategy's stop and target kept as the position's
venue-side stop-loss and take-profit (full position, triggered by the last price, filled at
market).

Why on the exchange: the backtest fills a stop inside the candle that touches it; a stop the
bot enforced at the candle close would fill later, and a bot that crashes or loses its
network would leave its position with no stop at all.  With the level on the exchange the
position is protected whatever happens to the bot, and it fills as the backtest assumes
(``strategy.backtest.level_fills``).  The venue adapter sets them (Bybit:
``position/trading-stop``, see `bot.bybit.venue`).

Rules this module keeps:

* the levels are the evaluator's: at entry `Evaluator.entry_levels` from the fill price, then
  every candle's ``stop_price``/``target_price`` (trailing and break-even moves included);
* each level is rounded to the tick a trade must reach to be at or beyond it
  (`Instrument.stop_loss_price`), so the exchange fires on exactly the trades the strategy
  stops on;
* a call is made only when the rounded levels differ from what the exchange holds (the
  position's ``stop_loss``/``take_profit``, from the private stream and reconciliation), so
  a restart re-sends nothing that is already there;
* a level the market has already passed cannot be set (the venue refuses it): the caller
  gets that level's exit reason back and closes at market at once, as the backtest fills a
  candle that opens beyond a level at its open.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from bot.instrument import Instrument
from bot.venue import Direction, LevelPassed, Trigger, Venue


class Levels(NamedTuple):
    """The strategy's protective levels (None: no such level) and the stop's exit name."""

    stop: Decimal | None
    stop_reason: str | None
    target: Decimal | None


def on_tick(
    instrument: Instrument, levels: Levels, direction: Direction
) -> tuple[Decimal, Decimal]:
    """(stop loss, take profit) rounded to the tick; 0 means none."""
    stop = instrument.stop_loss_price(levels.stop, direction) if levels.stop else Decimal(0)
    target = instrument.take_profit_price(levels.target, direction) if levels.target else Decimal(0)
    return stop, target


async def protect(
    venue: Venue,
    instrument: Instrument,
    levels: Levels,
    direction: Direction,
    held: tuple[Decimal, Decimal] | None,
) -> str | None:
    """Put ``levels`` on the ``direction`` position whose venue levels are ``held`` (stop,
    target; None when unknown); returns the exit reason to close at market when the market
    is already beyond a level, else None."""
    stop, target = on_tick(instrument, levels, direction)
    if (stop, target) == held:
        return None
    try:
        await venue.set_levels(direction, stop or None, target or None)
    except LevelPassed as exc:
        return (levels.stop_reason or "stop_loss") if exc.which == "stop" else "take_profit"
    return None


def exit_reason(trigger: Trigger, stop_reason: str | None) -> str:
    """The strategy's name for an exit the venue made from a position level."""
    if trigger is Trigger.STOP_LOSS:
        return stop_reason or "stop_loss"
    return str(trigger)
