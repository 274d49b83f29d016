"""Position sizing: how many units an entry buys or sells.

Modes (``risk.sizing`` in the template; ``value`` is a decimal number):

* ``fixed_quantity`` — ``value`` units of the base asset.
* ``percent_equity`` — notional = equity x value / 100 x leverage; quantity = notional / price.
* ``risk_per_trade`` — lose ``value`` percent of equity if the stop is hit:
  quantity = equity x value / 100 / |price - stop|, capped at equity x leverage / price.
  Needs a stop_loss or atr_stop exit (the validator insists).

``price`` is the reference price of the decision (the signal candle's close; the fill comes
at the next open).  Quantities are rounded *down* to ``qty_step`` when one is given (the
instrument's lot size belongs to the instrument: the bot passes it, the backtester's config
has one); a quantity that rounds to zero means no entry.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal


def position_size(
    mode: str,
    value: Decimal,
    *,
    equity: Decimal,
    price: Decimal,
    leverage: Decimal = Decimal(1),
    stop_price: Decimal | None = None,
    qty_step: Decimal | None = None,
) -> Decimal:
    """Quantity for an entry at ``price``; Decimal(0) when no position can be taken."""
    if price <= 0 or (equity <= 0 and mode != "fixed_quantity"):
        return Decimal(0)
    if mode == "fixed_quantity":
        qty = value
    elif mode == "percent_equity":
        qty = equity * value / 100 * leverage / price
    elif mode == "risk_per_trade":
        if stop_price is None or stop_price == price:
            return Decimal(0)
        qty = min(equity * value / 100 / abs(price - stop_price), equity * leverage / price)
    else:
        raise ValueError(f"unknown sizing mode {mode!r}")
    if qty_step is not None and qty_step > 0:
        qty = (qty / qty_step).to_integral_value(rounding=ROUND_DOWN) * qty_step
    return max(qty, Decimal(0))
