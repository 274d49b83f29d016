"""Closed-PnL records (REST position/closed-pnl, https://bybit-exchange.github.io/docs/v5/position/close-pnl):
one per order that closed some of a position, accumulated fill by fill.

closedPnl = PnL realised by the closed part − the opening fees it carried − the closing fees.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from exchange.config import InstrumentSpec
from exchange.numbers import ZERO, fmt, fmt_step, money


@dataclass
class ClosedPnl:
    """Invariant: `closed` > 0 once a fill is added; values are sums over the fills."""

    spec: InstrumentSpec
    order_id: str
    side: str
    order_type: str
    order_price: Decimal
    qty: Decimal
    leverage: Decimal
    created: int
    updated: int = 0
    fill_count: int = 0
    closed: Decimal = ZERO
    entry_value: Decimal = ZERO
    exit_value: Decimal = ZERO
    open_fee: Decimal = ZERO
    close_fee: Decimal = ZERO
    pnl: Decimal = ZERO

    def add(
        self,
        closed: Decimal,
        entry_price: Decimal,
        exit_price: Decimal,
        realised: Decimal,
        open_fee: Decimal,
        close_fee: Decimal,
        ts: int,
    ) -> None:
        self.fill_count += 1
        self.closed += closed
        self.entry_value += entry_price * closed
        self.exit_value += exit_price * closed
        self.open_fee += open_fee
        self.close_fee += close_fee
        self.pnl += realised - open_fee - close_fee
        self.updated = ts

    def to_bybit(self) -> dict:
        s = self.spec
        return {
            "symbol": s.symbol,
            "orderId": self.order_id,
            "side": self.side,
            "qty": fmt_step(self.qty, s.qty_step),
            "orderPrice": fmt_step(self.order_price, s.tick_size) if self.order_price else "0",
            "orderType": self.order_type,
            "execType": "Trade",
            "closedSize": fmt_step(self.closed, s.qty_step),
            "cumEntryValue": money(self.entry_value),
            "avgEntryPrice": fmt_step(self.entry_value / self.closed, s.tick_size),
            "cumExitValue": money(self.exit_value),
            "avgExitPrice": fmt_step(self.exit_value / self.closed, s.tick_size),
            "openFee": money(self.open_fee),
            "closeFee": money(self.close_fee),
            "closedPnl": money(self.pnl),
            "fillCount": str(self.fill_count),
            "leverage": fmt(self.leverage),
            "createdTime": str(self.created),
            "updatedTime": str(self.updated),
        }
