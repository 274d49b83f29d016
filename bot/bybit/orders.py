"""Order placement, cancel and lookup on Bybit V5 linear, composed from the client layers
(the Bybit adapter's order client: sides are Bybit's "Buy"/"Sell", views are Bybit rows;
`bot.bybit.venue` turns them into the neutral types).

Every price/quantity passes through the `Instrument` rounding before it leaves. Creation is
at-most-once (`bot.bybit.retry.create_once` keyed by the deterministic orderLinkId); the
functions return the exchange's own view of the order (an order/realtime or history row).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from bot.bybit.convert import SIDES
from bot.bybit.errors import ORDER_NOT_FOUND, ApiError
from bot.bybit.rest import BybitRest
from bot.bybit.retry import create_once
from bot.instrument import Instrument
from bot.venue import Direction

OrderView = dict[str, Any]
Side = Literal["Buy", "Sell"]
OPEN_STATUSES = frozenset({"New", "PartiallyFilled", "Untriggered"})


def opposite(side: Side) -> Side:
    return "Sell" if side == "Buy" else "Buy"


def _direction(position_side: Side) -> Direction:
    return Direction.LONG if position_side == "Buy" else Direction.SHORT


class Orders:
    """Order operations for one symbol on one account (one-way mode, positionIdx 0)."""

    def __init__(self, rest: BybitRest, instrument: Instrument, category: str = "linear") -> None:
        self.rest = rest
        self.instrument = instrument
        self.category = category
        self._base = {"category": category, "symbol": instrument.symbol}

    async def find(self, link_id: str) -> OrderView | None:
        """The exchange's view of the order with ``link_id`` (open first, then history)."""
        for path in ("/v5/order/realtime", "/v5/order/history"):
            result = await self.rest.get(path, {**self._base, "orderLinkId": link_id}, signed=True)
            rows = [r for r in result.get("list", []) if r.get("orderLinkId") == link_id]
            if rows:
                return rows[0]
        return None

    async def place(
        self,
        side: Side,
        qty: Decimal,
        link_id: str,
        *,
        reduce_only: bool = False,
        price: Decimal | None = None,
    ) -> OrderView:
        """Place a market order (or a GTC limit order when ``price`` is given), at most once."""
        body: dict[str, Any] = {
            **self._base,
            "side": side,
            "orderType": "Market" if price is None else "Limit",
            "qty": self.instrument.round_qty(qty, market=price is None),
            "orderLinkId": link_id,
            "positionIdx": 0,
        }
        if price is not None:
            limit = self.instrument.limit_price(price, SIDES[side])
            body |= {"price": limit, "timeInForce": "GTC"}
            self.instrument.check_notional(body["qty"], body["price"])
        if reduce_only:
            body["reduceOnly"] = True

        async def lookup() -> OrderView | None:
            return await self.find(link_id)

        async def create() -> OrderView:
            created = await self.rest.post_once("/v5/order/create", body)
            return await lookup() or {**created, "orderStatus": "New"}

        return await create_once(create, lookup, self.rest.retry)

    async def market_entry(self, side: Side, qty: Decimal, link_id: str) -> OrderView:
        """Open (or add to) a position with a market order."""
        return await self.place(side, qty, link_id)

    async def market_exit(self, position_side: Side, qty: Decimal, link_id: str) -> OrderView:
        """Close up to ``qty`` of a ``position_side`` position with a reduce-only market order."""
        return await self.place(opposite(position_side), qty, link_id, reduce_only=True)

    async def set_trading_stop(
        self,
        position_side: Side,
        *,
        take_profit: Decimal | None = None,
        stop_loss: Decimal | None = None,
    ) -> None:
        """Set the position's TP/SL (full position, last-price trigger); None clears one."""
        direction = _direction(position_side)
        tp = (
            Decimal(0)
            if take_profit is None
            else self.instrument.take_profit_price(take_profit, direction)
        )
        sl = (
            Decimal(0)
            if stop_loss is None
            else self.instrument.stop_loss_price(stop_loss, direction)
        )
        await self.rest.post(
            "/v5/position/trading-stop",
            {
                **self._base,
                "positionIdx": 0,
                "tpslMode": "Full",
                "takeProfit": tp,
                "stopLoss": sl,
                "tpTriggerBy": "LastPrice",
                "slTriggerBy": "LastPrice",
            },
        )

    async def cancel(self, link_id: str) -> OrderView | None:
        """Cancel by orderLinkId; an order already gone is not an error. Returns its view."""
        try:
            await self.rest.post("/v5/order/cancel", {**self._base, "orderLinkId": link_id})
        except ApiError as exc:
            if exc.ret_code != ORDER_NOT_FOUND:
                raise
        return await self.find(link_id)

    async def cancel_all(self) -> list[str]:
        """Cancel every open order on the symbol; returns the cancelled orderLinkIds."""
        result = await self.rest.post("/v5/order/cancel-all", self._base)
        return [row.get("orderLinkId", "") for row in result.get("list", [])]

    async def open_orders(self) -> list[OrderView]:
        """All open orders on the symbol, from order/realtime."""
        rows = self.rest.pages("/v5/order/realtime", {**self._base, "openOnly": 0, "limit": 50})
        return [o async for o in rows if o.get("orderStatus") in OPEN_STATUSES]
