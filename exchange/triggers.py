"""Position take-profit, stop-loss and trailing-stop triggers on the last traded price, the
side rules for TP/SL levels, and the crossing rule of conditional orders.

A trailing stop of distance d arms when the price reaches `active_price` (at once if none);
from then on it follows the best price since arming and fires when the price comes back by d.
"""

from __future__ import annotations

from decimal import Decimal

from exchange.errors import ApiError
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
    """Bybit's side rules for new TP/SL levels of a position; an error message or None."""
    return validate_for_side(position.side, last, take_profit, stop_loss)


def validate_for_side(
    side: str, base: Decimal, take_profit: Decimal | None, stop_loss: Decimal | None
) -> str | None:
    """TP/SL of a Buy (long) must be above/below `base`, of a Sell below/above it (Bybit
    answers 10001 otherwise); an error message or None."""
    long = side == "Buy"
    if take_profit and (take_profit <= base if long else take_profit >= base):
        word = "higher" if long else "lower"
        return f"TakeProfit:{take_profit} set for {side} position should be {word} than base_price:{base}??LastPrice"
    if stop_loss and (stop_loss >= base if long else stop_loss <= base):
        word = "lower" if long else "higher"
        return f"StopLoss:{stop_loss} set for {side} position should be {word} than base_price:{base}??LastPrice"
    return None


RISE, FALL = 1, 2


def check_direction(direction: int, trigger: Decimal, current: Decimal) -> None:
    """A conditional order must wait for a crossing: rising ones sit above the current price,
    falling ones below (Bybit: 110092 / 110093)."""
    if direction == RISE and trigger <= current:
        raise ApiError(
            110092, f"expect Rising, but trigger_price[{trigger}] <= current[{current}]??LastPrice"
        )
    if direction == FALL and trigger >= current:
        raise ApiError(
            110093, f"expect Falling, but trigger_price[{trigger}] >= current[{current}]??LastPrice"
        )


def crossed(direction: int, trigger: Decimal, price: Decimal) -> bool:
    """Whether `price` fires a conditional order waiting at `trigger`."""
    return price >= trigger if direction == RISE else price <= trigger
