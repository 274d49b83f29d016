"""The bot's own model of its account on one symbol: position, open orders, fills seen.

Updated from the venue's private-stream updates as they arrive (`apply`, already converted
to `bot.venue` types by the adapter), and made to agree with the venue's REST view by
`AccountModel.reconcile`, which returns every difference with both views so the caller can
log an event.  A fill the stream never delivered is found there: the venue's fills since the
last fill time seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.venue import AccountUpdate, Fill, Order, Position, Venue

# fills are asked for a little before the newest one seen, as several can share one
# millisecond and the clocks of stream and REST may round differently.
FILL_LOOKBACK_MS = 5_000


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
    missed_fills: list[Fill] = field(default_factory=list)


class AccountModel:
    """Position, open orders and fills of one symbol as the bot believes them.

    Invariants:

    * ``fills`` holds every exec id ever reported to the caller (by `apply` or as a missed
      fill), so no fill is reported twice and none is skipped;
    * ``last_fill_ms`` is the newest time among ``fills`` (0 before the first);
    * ``open_orders`` holds only orders whose status is open, keyed by order id;
    * ``position`` is the latest view of the symbol's position (stream or REST, whichever
      is newer by the venue's update time).
    """

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.position = Position.flat()
        self.open_orders: dict[str, Order] = {}
        self.fills: dict[str, Fill] = {}
        self.last_fill_ms = 0
        self.wallet_balance: Decimal | None = None

    def apply(self, update: AccountUpdate) -> list[Fill]:
        """Apply one private-stream update; returns the fills it brought that are new."""
        if update.wallet_balance is not None:
            self.wallet_balance = update.wallet_balance
        for symbol, order in update.orders:
            if symbol == self.symbol:
                self._set_order(order)
        for symbol, position in update.positions:
            if symbol == self.symbol:
                self.position = position
        return [f for f in update.fills if f.symbol == self.symbol and self._record(f)]

    def fills_of(self, link_id: str) -> list[Fill]:
        """Fills of one order, in time order."""
        return sorted((f for f in self.fills.values() if f.link_id == link_id), key=_time)

    async def load(self, venue: Venue) -> None:
        """Adopt the venue's state without reporting anything (start or restart)."""
        position, orders, fills = await self._fetch(venue, None)
        self.position = position
        self.open_orders = orders
        for f in fills:
            self._record(f)

    async def reconcile(self, venue: Venue) -> Reconciliation:
        """Compare with the venue's REST view, adopt it, and return differences and missed
        fills."""
        since = self.last_fill_ms - FILL_LOOKBACK_MS if self.last_fill_ms else None
        position, orders, fills = await self._fetch(venue, since)
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
        for f in fills:
            if self._record(f):
                out.missed_fills.append(f)
                out.differences.append(Difference("execution", f.exec_id, None, f))
        return out

    @staticmethod
    async def _fetch(
        venue: Venue, since_ms: int | None
    ) -> tuple[Position, dict[str, Order], list[Fill]]:
        position = await venue.position()
        orders = {o.order_id: o for o in await venue.open_orders()}
        return position, orders, await venue.fills(since_ms)

    def _set_order(self, order: Order) -> None:
        if order.status.is_open:
            self.open_orders[order.order_id] = order
        else:
            self.open_orders.pop(order.order_id, None)

    def _record(self, f: Fill) -> bool:
        if not f.exec_id or f.exec_id in self.fills:
            return False
        self.fills[f.exec_id] = f
        self.last_fill_ms = max(self.last_fill_ms, f.time_ms)
        return True


def _time(f: Fill) -> int:
    return f.time_ms
