"""Position take-profit, stop-loss and trailing-stop triggers on the last traded price.

A trailing stop of distance d arms when the price reaches `active_price` (at once if none);
from then on it follows the best price since arming and fires when the price comes back by d.
"""

from __future__ import annotations

from decimal import Decimal

from exchange.positions import Position


def check(position: Position, price: Decimal) -> str | None:
    """The stop that `price` fires on `position` ("TakeProfit", "StopLoss", "TrailingStop"),
    updating the trailing state; None if nothing fires."""
    if position.size == 0:
        return None
    long = position.size > 0
    tp, sl = position.take_profit, position.stop_loss
    if tp is not None and (price >= tp if long else price <= tp):
        return "TakeProfit"
    if sl is not None and (price <= sl if long else price >= sl):
        return "StopLoss"
    if position.trailing_stop is None:
        return None
    if position.trail_extreme is None:
        active = position.active_price
        if active is not None and not (price >= active if long else price <= active):
            return None
        position.trail_extreme = price
    if long:
        position.trail_extreme = max(position.trail_extreme, price)
        fired = price <= position.trail_extreme - position.trailing_stop
    else:
        position.trail_extreme = min(position.trail_extreme, price)
        fired = price >= position.trail_extreme + position.trailing_stop
    return "TrailingStop" if fired else None


def validate(
    position: Position, last: Decimal, take_profit: Decimal | None, stop_loss: Decimal | None
) -> str | None:
    """Bybit's side rules for new TP/SL levels; returns an error message or None."""
    long = position.size > 0
    if take_profit and (take_profit <= last if long else take_profit >= last):
        word = "higher" if long else "lower"
        return f"TakeProfit:{take_profit} set for {position.side} position should be {word} than base_price:{last}??LastPrice"
    if stop_loss and (stop_loss >= last if long else stop_loss <= last):
        word = "lower" if long else "higher"
        return f"StopLoss:{stop_loss} set for {position.side} position should be {word} than base_price:{last}??LastPrice"
    return None
