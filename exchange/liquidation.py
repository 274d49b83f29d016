"""Liquidation and bankruptcy prices of linear USDT positions, as Bybit's help centre
computes them, and the rule that decides when positions are liquidated.

Isolated margin ("Liquidation Price (USDT Contract)",
https://www.bybit.com/en/help-center/article/Liquidation-Price-USDT-Contract): each position
stands on its own initial margin,
    long  LP = entry − (IM − MM) / size        short LP = entry + (IM − MM) / size
    IM = size · entry / leverage               MM = size · entry · MMR (0.5 %, tier 1)
and the position is closed at the bankruptcy price (0 % margin: entry ∓ IM / size) when the
mark price reaches LP, so the trader loses exactly the position margin.

Cross margin (the unified account's REGULAR_MARGIN): the whole wallet backs every position and
the account is liquidated when its maintenance-margin rate reaches 100 %, i.e. when
equity = wallet + Σ unrealised ≤ Σ MM (at mark). Holding the other positions at their
current mark, a position of signed size q reaches that point at
    long  LP = (q·entry − wallet − U_others + MM_others) / (q · (1 − MMR))
    short LP = (wallet + U_others − MM_others + |q|·entry) / (|q| · (1 + MMR))
and liquidation closes every position at the mark price (what is left of the equity stays).
A price ≤ 0 means the position cannot be liquidated ("" in liqPrice).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from exchange.numbers import ZERO
from exchange.positions import MAINTENANCE_RATE, Position

ISOLATED, CROSS = "ISOLATED_MARGIN", "REGULAR_MARGIN"


def isolated_price(position: Position) -> Decimal | None:
    if position.size == 0:
        return None
    entry, qty = position.avg_price, abs(position.size)
    im = qty * entry / position.leverage
    mm = qty * entry * MAINTENANCE_RATE
    gap = (im - mm) / qty
    price = entry - gap if position.size > 0 else entry + gap
    return price if price > 0 else None


def bankruptcy_price(position: Position) -> Decimal | None:
    """Isolated: the price at which the position's margin is exactly used up."""
    if position.size == 0:
        return None
    gap = position.avg_price / position.leverage
    price = position.avg_price - gap if position.size > 0 else position.avg_price + gap
    return price if price > 0 else None


def cross_price(
    position: Position,
    wallet: Decimal,
    others: list[Position],
    mark: Callable[[str], Decimal],
) -> Decimal | None:
    if position.size == 0:
        return None
    u_others = sum((p.unrealised(mark(p.spec.symbol)) for p in others), ZERO)
    mm_others = sum((p.maintenance_margin(mark(p.spec.symbol)) for p in others), ZERO)
    q, entry = abs(position.size), position.avg_price
    if position.size > 0:
        price = (q * entry - wallet - u_others + mm_others) / (q * (1 - MAINTENANCE_RATE))
    else:
        price = (wallet + u_others - mm_others + q * entry) / (q * (1 + MAINTENANCE_RATE))
    return price if price > 0 else None


def crossed(position: Position, liq: Decimal | None, mark: Decimal) -> bool:
    """Whether `mark` has reached the liquidation price `liq` of `position`."""
    if liq is None or position.size == 0:
        return False
    return mark <= liq if position.size > 0 else mark >= liq
