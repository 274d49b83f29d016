"""Protective levels on the exchange: the strategy's stop and target kept as the position's
exchange-side stop-loss and take-profit (Bybit V5 ``position/trading-stop``, full position,
triggered by the last price, filled at market).

Why on the exchange: the backtest fills a stop inside the candle that touches it; a stop the
bot enforced at the candle close would fill later, and a bot that crashes or loses its
network would leave its position with no stop at all.  With the level on the exchange the
position is protected whatever happens to the bot, and it fills as the backtest assumes
(``strategy.backtest.level_fills``).

Rules this module keeps:

* the levels are the evaluator's: at entry `Evaluator.entry_levels` from the fill price, then
  every candle's ``stop_price``/``target_price`` (trailing and break-even moves included);
* each level is rounded to the tick a trade must reach to be at or beyond it
  (`Instrument.stop_loss_price`), so the exchange fires on exactly the trades the strategy
  stops on;
* a call is made only when the rounded levels differ from what the exchange holds (the
  position's ``stop_loss``/``take_profit``, from the private stream and reconciliation), so
  a restart re-sends nothing that is already there;
* a level the market has already passed cannot be set (the exchange refuses it): the caller
  gets that level's exit reason back and closes at market at once, as the backtest fills a
  candle that opens beyond a level at its open.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from bot.bybit.errors import ApiError
from bot.instrument import Instrument, Side
from bot.orders import Orders

PARAMETER_ERROR = 10001  # Bybit's answer to a level on the wrong side of the last price
NOT_MODIFIED = 34040  # Bybit: the levels sent are the ones already set


class Levels(NamedTuple):
    """The strategy's protective levels (None: no such level) and the stop's exit name."""

    stop: Decimal | None
    stop_reason: str | None
    target: Decimal | None


def on_tick(instrument: Instrument, levels: Levels, side: Side) -> tuple[Decimal, Decimal]:
    """(stop loss, take profit) rounded for the exchange; 0 means none (Bybit's "clear")."""
    stop = instrument.stop_loss_price(levels.stop, side) if levels.stop else Decimal(0)
    target = instrument.take_profit_price(levels.target, side) if levels.target else Decimal(0)
    return stop, target


async def protect(
    orders: Orders, levels: Levels, side: Side, held: tuple[Decimal, Decimal]
) -> str | None:
    """Put ``levels`` on the ``side`` position whose exchange levels are ``held`` (stop,
    target); returns the exit reason to close at market when the market is already beyond a
    level, else None."""
    stop, target = on_tick(orders.instrument, levels, side)
    if (stop, target) == held:
        return None
    try:
        await orders.set_trading_stop(
            side, stop_loss=stop if stop else None, take_profit=target if target else None
        )
    except ApiError as exc:
        if exc.ret_code == NOT_MODIFIED:
            return None
        if exc.ret_code != PARAMETER_ERROR:
            raise
        text = exc.ret_msg
        if "StopLoss" in text:
            return levels.stop_reason or "stop_loss"
        if "TakeProfit" in text:
            return "take_profit"
        raise
    return None


STOP_ORDER_REASONS = {"TakeProfit": "take_profit", "TrailingStop": "trailing_stop"}


def exit_reason(stop_order_type: str, stop_reason: str | None) -> str:
    """The strategy's name for an exit the exchange made from a position level."""
    return STOP_ORDER_REASONS.get(stop_order_type) or stop_reason or "stop_loss"
