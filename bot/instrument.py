"""Instrument rules (tick size, lot step, quantity bounds) and the ONE place that rounds.

Every price and quantity goes through `Instrument` before an order leaves the bot. All
arithmetic is Decimal. Quantities round down to the lot step (never trade more than asked);
prices round toward the side that is safe for their purpose (see each method).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

from bot.venue import Direction, Side


class QuantityError(ValueError):
    """A quantity that cannot be sent: below the minimum after rounding, or above the maximum."""


@dataclass(frozen=True)
class Instrument:
    symbol: str
    tick_size: Decimal
    qty_step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    max_market_qty: Decimal
    min_notional: Decimal = Decimal(0)

    def round_qty(self, qty: Decimal, *, market: bool = True) -> Decimal:
        """Round down to the lot step; raise `QuantityError` outside [min, max]."""
        rounded = _to_step(qty, self.qty_step, ROUND_FLOOR)
        if rounded < self.min_qty:
            raise QuantityError(
                f"{self.symbol}: quantity {qty} rounds to {rounded}, below the minimum "
                f"{self.min_qty} (step {self.qty_step})"
            )
        limit = self.max_market_qty if market else self.max_qty
        if rounded > limit:
            raise QuantityError(f"{self.symbol}: quantity {rounded} above the maximum {limit}")
        return rounded

    def check_notional(self, qty: Decimal, price: Decimal) -> None:
        """Raise `QuantityError` when ``qty`` at ``price`` is below the minimum order value."""
        if qty * price < self.min_notional:
            raise QuantityError(
                f"{self.symbol}: order value {qty * price} below the minimum {self.min_notional}"
            )

    def round_price(self, price: Decimal, direction: Literal["down", "up"]) -> Decimal:
        """Round to the tick, down or up."""
        if price <= 0:
            raise ValueError(f"{self.symbol}: price must be positive, got {price}")
        rounding = ROUND_FLOOR if direction == "down" else ROUND_CEILING
        return _to_step(price, self.tick_size, rounding)

    def limit_price(self, price: Decimal, side: Side) -> Decimal:
        """A buy never pays more than asked (down); a sell never receives less (up)."""
        return self.round_price(price, "down" if side is Side.BUY else "up")

    def stop_loss_price(self, price: Decimal, direction: Direction) -> Decimal:
        """The tick at which a stop at level ``price`` fires exactly when the strategy's does.

        Trades happen on the tick grid, and the strategy (and the backtest) stop a long when a
        price at or below the level trades: that is a trade at or below the level rounded
        *down* to the tick, so a long's stop rounds down and a short's up.  Rounding the other
        way would fire on a tick the backtest does not stop on.
        """
        return self.round_price(price, "down" if direction is Direction.LONG else "up")

    def take_profit_price(self, price: Decimal, direction: Direction) -> Decimal:
        """Likewise for a target: a long's rounds up (a trade at or above the level), a
        short's down."""
        return self.round_price(price, "up" if direction is Direction.LONG else "down")


def _to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    units = (value / step).to_integral_value(rounding=rounding)
    return (units * step).quantize(step)
