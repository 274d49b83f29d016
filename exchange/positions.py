"""One-way-mode positions: signed size, average entry, realised and unrealised PnL, margin,
opening fees still carried, and the position's TP/SL/trailing-stop settings.

Invariant: size > 0 is long, size < 0 short, size == 0 flat (then avg_price == 0,
open_fees == 0 and opened == 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from exchange.config import InstrumentSpec
from exchange.numbers import ZERO, fmt, fmt_step, money

MAINTENANCE_RATE = Decimal("0.005")
AVG_QUANT = Decimal("0.00000001")


@dataclass(frozen=True)
class FillEffect:
    """What one fill did to a position: PnL realised (before fees), quantity closed, and the
    share of the opening fees that the closed part carried."""

    realised: Decimal
    closed: Decimal
    open_fee: Decimal


@dataclass
class Position:
    spec: InstrumentSpec
    leverage: Decimal = Decimal(10)
    size: Decimal = ZERO
    avg_price: Decimal = ZERO
    cum_realised: Decimal = ZERO
    cur_realised: Decimal = ZERO
    # fees paid by the fills that opened the size still held (for closedPnl, breakEvenPrice)
    open_fees: Decimal = ZERO
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    trailing_stop: Decimal | None = None
    active_price: Decimal | None = None
    trail_extreme: Decimal | None = None
    created: int = 0
    opened: int = 0
    updated: int = 0
    seq: int = 0

    @property
    def side(self) -> str:
        return "Buy" if self.size > 0 else "Sell" if self.size < 0 else ""

    def unrealised(self, mark: Decimal) -> Decimal:
        return (mark - self.avg_price) * self.size

    def initial_margin(self) -> Decimal:
        return abs(self.size) * self.avg_price / self.leverage

    def maintenance_margin(self, mark: Decimal) -> Decimal:
        return abs(self.size) * mark * MAINTENANCE_RATE

    def closing_qty(self, side: str) -> Decimal:
        """How much of an order on `side` reduces this position."""
        if (side == "Buy" and self.size < 0) or (side == "Sell" and self.size > 0):
            return abs(self.size)
        return ZERO

    def apply_fill(
        self, side: str, qty: Decimal, price: Decimal, ts: int, fee: Decimal
    ) -> FillEffect:
        """Book a fill and its fee; returns what it realised and closed."""
        signed = qty if side == "Buy" else -qty
        realised = open_fee = closed = ZERO
        if self.size == 0 or (self.size > 0) == (signed > 0):
            total = self.size + signed
            self.avg_price = (
                (self.avg_price * abs(self.size) + price * qty) / abs(total)
            ).quantize(AVG_QUANT)
            self.size = total
            self.open_fees += fee
            if not self.created:
                self.created = ts
            self.opened = self.opened or ts
        else:
            closed = min(qty, abs(self.size))
            direction = 1 if self.size > 0 else -1
            realised = (price - self.avg_price) * closed * direction
            open_fee = (self.open_fees * closed / abs(self.size)).quantize(AVG_QUANT)
            self.open_fees -= open_fee
            self.size += signed
            if self.size == 0:
                self.avg_price = self.open_fees = ZERO
                self.opened = 0
                self.clear_stops()
            elif (self.size > 0) != (direction > 0):
                self.avg_price = price
                self.open_fees = (fee * (qty - closed) / qty).quantize(AVG_QUANT)
                self.opened = ts
                self.clear_stops()
        self.cum_realised += realised - fee
        self.cur_realised += realised - fee
        self.updated = ts
        self.seq += 1
        return FillEffect(realised, closed, open_fee)

    def break_even_price(self, taker_fee: Decimal) -> Decimal | None:
        """The exit price at which closing as taker nets zero after the opening fees."""
        if self.size == 0:
            return None
        qty = abs(self.size)
        if self.size > 0:
            return (qty * self.avg_price + self.open_fees) / (qty * (1 - taker_fee))
        return (qty * self.avg_price - self.open_fees) / (qty * (1 + taker_fee))

    def clear_stops(self) -> None:
        self.take_profit = self.stop_loss = self.trailing_stop = None
        self.active_price = self.trail_extreme = None

    def to_bybit(
        self,
        mark: Decimal,
        liq_price: Decimal | None = None,
        bust_price: Decimal | None = None,
        trade_mode: int = 0,
        taker_fee: Decimal = ZERO,
    ) -> dict:
        """The record of position/list and the `position` topic."""
        s = self.spec
        p = lambda v: fmt_step(v, s.tick_size) if v is not None and v > 0 else ""
        value = abs(self.size) * self.avg_price
        return {
            "positionIdx": 0,
            "riskId": 1,
            "riskLimitValue": "2000000",
            "symbol": s.symbol,
            "side": self.side,
            "size": fmt_step(abs(self.size), s.qty_step),
            "avgPrice": fmt(self.avg_price),
            "entryPrice": fmt(self.avg_price),
            "breakEvenPrice": p(self.break_even_price(taker_fee)) or "0",
            "positionValue": money(value),
            "tradeMode": trade_mode,
            "autoAddMargin": 0,
            "positionStatus": "Normal",
            "leverage": fmt(self.leverage),
            "markPrice": fmt_step(mark, s.tick_size),
            "liqPrice": p(liq_price),
            "bustPrice": p(bust_price),
            "positionIM": money(self.initial_margin()),
            "positionMM": money(self.maintenance_margin(mark)),
            "positionBalance": money(self.initial_margin()),
            "takeProfit": fmt(self.take_profit) or "0",
            "stopLoss": fmt(self.stop_loss) or "0",
            "trailingStop": fmt(self.trailing_stop) or "0",
            "sessionAvgPrice": "",
            "unrealisedPnl": money(self.unrealised(mark)),
            "curRealisedPnl": money(self.cur_realised),
            "cumRealisedPnl": money(self.cum_realised),
            "adlRankIndicator": 2 if self.size else 0,
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "tpslMode": "Full",
            "createdTime": str(self.created),
            "openTime": str(self.opened),
            "updatedTime": str(self.updated),
            "seq": self.seq,
            "category": "linear",
        }
