"""One-way-mode positions: signed size, average entry, realised and unrealised PnL, margin,
and the position's TP/SL/trailing-stop settings.

Invariant: size > 0 is long, size < 0 short, size == 0 flat (then avg_price == 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from exchange.config import InstrumentSpec
from exchange.numbers import ZERO, fmt, fmt_step

MAINTENANCE_RATE = Decimal("0.005")
AVG_QUANT = Decimal("0.00000001")


@dataclass
class Position:
    spec: InstrumentSpec
    leverage: Decimal = Decimal(10)
    size: Decimal = ZERO
    avg_price: Decimal = ZERO
    cum_realised: Decimal = ZERO
    cur_realised: Decimal = ZERO
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    trailing_stop: Decimal | None = None
    active_price: Decimal | None = None
    trail_extreme: Decimal | None = None
    created: int = 0
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

    def apply_fill(self, side: str, qty: Decimal, price: Decimal, ts: int) -> Decimal:
        """Book a fill; returns the PnL it realised (before fees)."""
        signed = qty if side == "Buy" else -qty
        realised = ZERO
        if self.size == 0 or (self.size > 0) == (signed > 0):
            total = self.size + signed
            self.avg_price = (
                (self.avg_price * abs(self.size) + price * qty) / abs(total)
            ).quantize(AVG_QUANT)
            self.size = total
            if not self.created:
                self.created = ts
        else:
            closed = min(qty, abs(self.size))
            direction = 1 if self.size > 0 else -1
            realised = (price - self.avg_price) * closed * direction
            self.size += signed
            if self.size == 0:
                self.avg_price = ZERO
                self.clear_stops()
            elif (self.size > 0) != (direction > 0):
                self.avg_price = price
                self.clear_stops()
        self.cum_realised += realised
        self.cur_realised += realised
        self.updated = ts
        self.seq += 1
        return realised

    def clear_stops(self) -> None:
        self.take_profit = self.stop_loss = self.trailing_stop = None
        self.active_price = self.trail_extreme = None

    def to_bybit(self, mark: Decimal) -> dict:
        s = self.spec
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
            "positionValue": fmt(value),
            "tradeMode": 0,
            "autoAddMargin": 0,
            "positionStatus": "Normal",
            "leverage": fmt(self.leverage),
            "markPrice": fmt_step(mark, s.tick_size),
            "liqPrice": "",
            "bustPrice": "",
            "positionIM": fmt(self.initial_margin()),
            "positionMM": fmt(self.maintenance_margin(mark)),
            "positionBalance": fmt(self.initial_margin()),
            "takeProfit": fmt(self.take_profit) or "0",
            "stopLoss": fmt(self.stop_loss) or "0",
            "trailingStop": fmt(self.trailing_stop) or "0",
            "sessionAvgPrice": "",
            "unrealisedPnl": fmt(self.unrealised(mark)),
            "curRealisedPnl": fmt(self.cur_realised),
            "cumRealisedPnl": fmt(self.cum_realised),
            "adlRankIndicator": 2 if self.size else 0,
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "tpslMode": "Full",
            "createdTime": str(self.created),
            "updatedTime": str(self.updated),
            "seq": self.seq,
            "category": "linear",
        }
