"""How the backtester fills an exit at a protective level — the one place for those rules.

The live bot keeps the strategy's stop and target on the exchange as the position's
stop-loss and take-profit (``bot.protection``: Bybit V5 ``position/trading-stop``, full
position, last-price trigger).  On the exchange both are market orders sent when a trade
reaches the level, so the backtest fills them the same way:

* **where**: a level touched inside a candle fills at the level, or at the candle's open
  when the candle opened beyond it (its first trade is the trigger); a candle that could
  have touched both stop and target is assumed to have hit the stop.  The exit kernel
  (``strategy.components.exits.kernel.scan``) finds the candle and this raw price.
* **cost**: a market order: the taker fee, and ``slippage_bps`` against the trader — for
  stops and targets alike (a take-profit is not a resting limit order).
* **when**: the trade's exit time is the close of the candle that touched the level (the
  bar it is known by).

Market exits decided at a close (time exit, opposite signal, end of data) fill at the next
open, with the same fee and slippage; entries likewise (``engine._Fills``).
"""

from __future__ import annotations

from decimal import Decimal

LEVEL_REASONS = frozenset(("stop_loss", "take_profit", "trailing_stop", "atr_stop", "break_even"))


def market_fill(price: Decimal, side: int, slip: Decimal, *, closing: bool) -> Decimal:
    """``price`` moved by the slippage fraction ``slip`` against a ``side`` (+1/-1) trader:
    an opening order pays more (long) or receives less (short); a closing one the reverse."""
    if not slip:
        return price
    sign = -side if closing else side
    return price * (1 + sign * slip)
