"""Whether an order may execute, and with what quantity: Bybit's reduce-only and
close-position rules, the limit-order price band, the minimum order value and the margin
check; and the protection price market orders carry (the band's edge)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from exchange.accounts import Account
from exchange.errors import ApiError
from exchange.market.symbol import SymbolMarket
from exchange.orders import Order, OrderRequest


def protection_price(market: SymbolMarket, side: str) -> Decimal:
    """A market order sweeps no further than the price band (its `price` on Bybit)."""
    high, low = market.price_band()
    return high if side == "Buy" else low


def admit(
    account: Account,
    market: SymbolMarket,
    side: str,
    qty: Decimal,
    req: OrderRequest | Order,
    close_position: bool,
    mark: Callable[[str], Decimal],
) -> Decimal:
    """The quantity the order may execute with, or Bybit's refusal (ApiError)."""
    spec = market.spec
    position = account.position(spec)
    closing = position.closing_qty(side)
    if close_position:
        qty = min(closing, spec.max_market_qty)
    (bid, _), (ask, _) = market.book.best()
    limit = req.order_type == "Limit"
    if limit:
        high, low = market.price_band()
        if side == "Buy" and req.price > high:
            raise ApiError(110003, f"Order price cannot be higher than {high}.")
        if side == "Sell" and req.price < low:
            raise ApiError(110003, f"Order price cannot be lower than {low}.")
    ref = req.price if limit else (ask if side == "Buy" else bid)
    if req.reduce_only or close_position:
        if closing == 0:
            raise ApiError(110017, "Reduce-only rule not satisfied")
        return min(qty, closing)
    if qty * ref < spec.min_notional and closing < qty:
        raise ApiError(110094, f"Order does not meet minimum order value {spec.min_notional}USDT")
    opening = qty - min(qty, closing)
    cost = opening * ref / position.leverage + qty * ref * account.taker_fee
    if cost > account.available(mark):
        raise ApiError(110007, "ab not enough for new order")
    return qty
