"""The bot's own model of its account on one symbol: position, open orders, executions seen.

Updated from private-stream messages as they arrive, and made to agree with REST
(position/list, order/realtime, execution/list) by `AccountModel.reconcile`, which returns
every difference with both views so the caller can log an event. A fill the stream never
delivered is found there: execution/list since the last execution time seen.

Invariant: ``executions`` holds every execId ever reported to the caller (by `apply` or as a
missed fill), so no fill is reported twice and none is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.bybit.rest import BybitRest
from bot.orders import OPEN_STATUSES

Row = dict[str, Any]
# execution/list is asked for a little before the newest execution seen, as several
# executions can share one millisecond and clocks of stream and REST may round differently.
EXEC_LOOKBACK_MS = 5_000


@dataclass(frozen=True)
class Position:
    side: str  # "Buy", "Sell", or "" when flat
    size: Decimal
    avg_price: Decimal
    take_profit: Decimal = Decimal(0)
    stop_loss: Decimal = Decimal(0)
    updated_ms: int = 0
    leverage: Decimal = Decimal(0)  # 0: not reported

    @classmethod
    def flat(cls) -> Position:
        return cls("", Decimal(0), Decimal(0))

    @classmethod
    def from_bybit(cls, row: Row) -> Position:
        size = Decimal(row.get("size") or 0)
        return cls(
            side=row.get("side", "") if size else "",
            size=size,
            avg_price=Decimal(row.get("avgPrice") or row.get("entryPrice") or 0),
            take_profit=Decimal(row.get("takeProfit") or 0),
            stop_loss=Decimal(row.get("stopLoss") or 0),
            updated_ms=int(row.get("updatedTime") or 0),
            leverage=Decimal(row.get("leverage") or 0),
        )

    def same_holding(self, other: Position) -> bool:
        """Equal in what is held (side, size, entry); timestamps aside."""
        return (self.side, self.size, self.avg_price) == (other.side, other.size, other.avg_price)


@dataclass(frozen=True)
class Difference:
    """The stream-fed model and REST disagreed about ``key``; REST was adopted."""

    kind: str  # "position" | "order" | "execution"
    key: str
    stream: Any
    rest: Any


@dataclass
class Reconciliation:
    differences: list[Difference] = field(default_factory=list)
    missed_executions: list[Row] = field(default_factory=list)


class AccountModel:
    """Position, open orders and executions of one symbol as the bot believes them."""

    def __init__(self, symbol: str, category: str = "linear") -> None:
        self.symbol = symbol
        self.category = category
        self.position = Position.flat()
        self.open_orders: dict[str, Row] = {}
        self.executions: dict[str, Row] = {}
        self.last_exec_ms = 0
        self.wallet: Row | None = None

    def apply(self, msg: Row) -> list[Row]:
        """Apply one private-stream message; returns the executions it brought that are new."""
        topic, rows = msg.get("topic", ""), msg.get("data") or []
        if topic == "wallet":
            self.wallet = rows[0] if rows else self.wallet
            return []
        rows = [r for r in rows if r.get("symbol") == self.symbol]
        if topic == "order":
            for row in rows:
                self._set_order(row)
        elif topic == "position":
            for row in rows:
                self.position = Position.from_bybit(row)
        elif topic == "execution":
            return [row for row in rows if self._record_execution(row)]
        return []

    def executions_of(self, order_link_id: str) -> list[Row]:
        """Trade executions of one order, in execution-time order."""
        rows = [e for e in self.executions.values() if e.get("orderLinkId") == order_link_id]
        return sorted(rows, key=lambda e: int(e.get("execTime") or 0))

    async def load(self, rest: BybitRest, *, since_ms: int | None = None) -> None:
        """Adopt the exchange's state without reporting anything (start or restart)."""
        position, orders, executions = await self._fetch(rest, since_ms)
        self.position = position
        self.open_orders = orders
        for row in executions:
            self._record_execution(row)

    async def reconcile(self, rest: BybitRest) -> Reconciliation:
        """Compare with REST, adopt REST, and return the differences and missed fills."""
        since = self.last_exec_ms - EXEC_LOOKBACK_MS if self.last_exec_ms else None
        position, orders, executions = await self._fetch(rest, since)
        out = Reconciliation()
        # A stream update newer than the REST answer is kept: REST was read before it.
        if (
            not self.position.same_holding(position)
            and position.updated_ms >= self.position.updated_ms
        ):
            out.differences.append(Difference("position", self.symbol, self.position, position))
            self.position = position
        for order_id in sorted(self.open_orders.keys() ^ orders.keys()):
            out.differences.append(
                Difference("order", order_id, self.open_orders.get(order_id), orders.get(order_id))
            )
        self.open_orders = orders
        for row in executions:
            if self._record_execution(row):
                out.missed_executions.append(row)
                out.differences.append(Difference("execution", row["execId"], None, row))
        return out

    async def _fetch(
        self, rest: BybitRest, since_ms: int | None
    ) -> tuple[Position, dict[str, Row], list[Row]]:
        base = {"category": self.category, "symbol": self.symbol}
        result = await rest.get("/v5/position/list", base, signed=True)
        rows = [r for r in result.get("list", []) if r.get("symbol") == self.symbol]
        position = Position.from_bybit(rows[0]) if rows else Position.flat()
        orders = {
            o["orderId"]: o
            async for o in rest.pages("/v5/order/realtime", {**base, "openOnly": 0, "limit": 50})
            if o.get("orderStatus") in OPEN_STATUSES
        }
        query = {**base, "limit": 100} | ({"startTime": since_ms} if since_ms else {})
        executions = [e async for e in rest.pages("/v5/execution/list", query)]
        executions.sort(key=lambda e: int(e.get("execTime") or 0))
        return position, orders, executions

    def _set_order(self, row: Row) -> None:
        if row.get("orderStatus") in OPEN_STATUSES:
            self.open_orders[row["orderId"]] = row
        else:
            self.open_orders.pop(row["orderId"], None)

    def _record_execution(self, row: Row) -> bool:
        exec_id = row.get("execId")
        if not exec_id or exec_id in self.executions:
            return False
        self.executions[exec_id] = row
        self.last_exec_ms = max(self.last_exec_ms, int(row.get("execTime") or 0))
        return True
