"""`BybitVenue`: the Bybit V5 (linear, one-way) adapter of the bot's `bot.venue.Venue`.

It composes the Bybit clients (`BybitRest`, `Orders`) and hands the core neutral types
only (`bot.bybit.convert`); Bybit's retCodes that the core acts on become the neutral
failures: 110017 (reduce-only with no position) → `NoPosition`, 10001 on a TP/SL level →
`LevelPassed`; "not modified" answers (110043 leverage, 34040 TP/SL) are success.
"""

from __future__ import annotations

from decimal import Decimal

from bot.bybit import convert
from bot.bybit.errors import (
    LEVERAGE_NOT_MODIFIED,
    PARAMETER_ERROR,
    REDUCE_ONLY_NO_POSITION,
    TPSL_NOT_MODIFIED,
    ApiError,
)
from bot.bybit.orders import OPEN_STATUSES, Orders
from bot.bybit.rest import BybitRest
from bot.instrument import Instrument
from bot.venue import Direction, Fill, LevelPassed, NoPosition, Order, Position, Side

CATEGORY = "linear"


async def fetch_instrument(rest: BybitRest, symbol: str) -> Instrument:
    """``symbol``'s rules from market/instruments-info."""
    result = await rest.get("/v5/market/instruments-info", {"category": CATEGORY, "symbol": symbol})
    for item in result.get("list", []):
        if item.get("symbol") == symbol:
            return convert.instrument(item)
    raise LookupError(f"{CATEGORY} instrument {symbol!r} not found")


class BybitVenue:
    """One symbol of one Bybit account, as a `bot.venue.Venue`."""

    def __init__(self, rest: BybitRest, instrument: Instrument) -> None:
        self.rest = rest
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.orders = Orders(rest, instrument, CATEGORY)
        self._base = {"category": CATEGORY, "symbol": self.symbol}

    async def position(self) -> Position:
        result = await self.rest.get("/v5/position/list", self._base, signed=True)
        rows = [r for r in result.get("list", []) if r.get("symbol") == self.symbol]
        return convert.position(rows[0]) if rows else Position.flat()

    async def open_orders(self) -> list[Order]:
        query = {**self._base, "openOnly": 0, "limit": 50}
        rows = self.rest.pages("/v5/order/realtime", query)
        return [convert.order(o) async for o in rows if o.get("orderStatus") in OPEN_STATUSES]

    async def fills(self, since_ms: int | None) -> list[Fill]:
        query = {**self._base, "limit": 100} | ({"startTime": since_ms} if since_ms else {})
        rows = [e async for e in self.rest.pages("/v5/execution/list", query)]
        fills = [convert.fill(e) for e in rows if convert.is_fill(e)]
        return sorted(fills, key=lambda f: f.time_ms)

    async def order_history(self, max_pages: int) -> list[Order]:
        query = {**self._base, "limit": 50}
        rows = self.rest.pages("/v5/order/history", query, max_pages=max_pages)
        return [convert.order(o) async for o in rows]

    async def wallet_balance(self) -> Decimal:
        result = await self.rest.get(
            "/v5/account/wallet-balance", {"accountType": "UNIFIED"}, signed=True
        )
        return convert.wallet_balance(result.get("list") or []) or Decimal(0)

    async def find_order(self, link_id: str) -> Order | None:
        row = await self.orders.find(link_id)
        return None if row is None else convert.order(row)

    async def market_order(
        self, side: Side, qty: Decimal, link_id: str, *, reduce_only: bool = False
    ) -> Order:
        try:
            row = await self.orders.place(
                convert.side_name(side), qty, link_id, reduce_only=reduce_only
            )
        except ApiError as exc:
            if exc.ret_code == REDUCE_ONLY_NO_POSITION:
                raise NoPosition(str(exc)) from exc
            raise
        return convert.order(row)

    async def cancel(self, link_id: str) -> Order | None:
        row = await self.orders.cancel(link_id)
        return None if row is None else convert.order(row)

    async def set_levels(
        self, direction: Direction, stop: Decimal | None, target: Decimal | None
    ) -> None:
        side = convert.side_name(direction.entry_side)
        try:
            await self.orders.set_trading_stop(side, take_profit=target, stop_loss=stop)
        except ApiError as exc:
            if exc.ret_code == TPSL_NOT_MODIFIED:
                return
            if exc.ret_code == PARAMETER_ERROR and "StopLoss" in exc.ret_msg:
                raise LevelPassed("stop", str(exc)) from exc
            if exc.ret_code == PARAMETER_ERROR and "TakeProfit" in exc.ret_msg:
                raise LevelPassed("target", str(exc)) from exc
            raise

    async def set_leverage(self, leverage: Decimal) -> None:
        body = {**self._base, "buyLeverage": leverage, "sellLeverage": leverage}
        try:
            await self.rest.post("/v5/position/set-leverage", body)
        except ApiError as exc:
            if exc.ret_code != LEVERAGE_NOT_MODIFIED:
                raise
