"""One trade from its first entry fill to the fill that makes it flat, accounted from the
venue's fills only (`bot.venue.Fill`): quantity, volume-weighted entry and exit prices, fees
(the sum of the fills' fees) and PnL net of fees; MFE/MAE are the most favourable/adverse
excursions in quote currency, from the highs and lows of the candles while the position was
open (both reported as non-negative amounts).  The open trade is saved in the working
directory (``open_trade.json``) so that it survives a crash of the bot.

Invariants: ``exec_ids`` lists each fill accounted, once; ``entry_qty >= exit_qty`` while the
trade is open, and it is closed once they are equal (``closed``); ``exit_reason`` is set once
an exit was decided (by the strategy, or by the venue's stop or target firing).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.reporting import iso, json_safe, money
from bot.venue import ZERO, Direction, Fill, Side


@dataclass
class OpenTrade:
    """One trade from its first entry execution to the execution that makes it flat."""

    seq: int
    side: Direction
    entry_candle_ms: int  # open time of the candle in which the position was opened
    signal_state: dict[str, Any] = field(default_factory=dict)
    entry_qty: Decimal = ZERO
    entry_value: Decimal = ZERO
    exit_qty: Decimal = ZERO
    exit_value: Decimal = ZERO
    fees: Decimal = ZERO
    entry_ms: int = 0
    exit_ms: int = 0
    high: Decimal | None = None
    low: Decimal | None = None
    exit_reason: str = ""
    exit_attempts: int = 0
    entry_atr: float | None = None  # the atr_stop's ATR at the entry decision (restart parity)
    stop_reason: str | None = None  # the exit whose level is the exchange-side stop now
    exec_ids: list[str] = field(default_factory=list)

    @property
    def open_qty(self) -> Decimal:
        return self.entry_qty - self.exit_qty

    @property
    def entry_side(self) -> Side:
        return self.side.entry_side

    @property
    def entry_price(self) -> Decimal:
        return money(self.entry_value / self.entry_qty) if self.entry_qty else ZERO

    @property
    def exit_price(self) -> Decimal:
        return money(self.exit_value / self.exit_qty) if self.exit_qty else ZERO

    @property
    def closed(self) -> bool:
        return self.entry_qty > 0 and self.open_qty <= 0

    def add_fill(self, fill: Fill) -> None:
        """Account one fill (entry when on the trade's side, else exit)."""
        if fill.exec_id in self.exec_ids:
            return
        self.exec_ids.append(fill.exec_id)
        self.fees += fill.fee
        if fill.side is self.entry_side:
            self.entry_qty += fill.qty
            self.entry_value += fill.qty * fill.price
            self.entry_ms = self.entry_ms or fill.time_ms
            self.observe(fill.price, fill.price)
        else:
            self.exit_qty += fill.qty
            self.exit_value += fill.qty * fill.price
            self.exit_ms = max(self.exit_ms, fill.time_ms)

    def add_funding(self, fill: Fill) -> None:
        """Account one funding payment while the trade is open: a fee > 0 was paid, < 0
        received; it counts in the trade's fees, hence in its PnL."""
        if fill.exec_id in self.exec_ids:
            return
        self.exec_ids.append(fill.exec_id)
        self.fees += fill.fee

    def observe(self, high: Decimal, low: Decimal) -> None:
        """Extend the price range seen while the position is open."""
        self.high = high if self.high is None else max(self.high, high)
        self.low = low if self.low is None else min(self.low, low)

    @property
    def best_price(self) -> Decimal | None:
        """The most favourable price since entry (the high of a long, the low of a short)."""
        return self.high if self.side is Direction.LONG else self.low

    @property
    def pnl(self) -> Decimal:
        """Realised PnL of the closed quantity, net of every fee of the trade."""
        if not self.entry_qty:
            return -self.fees
        entry_of_closed = self.entry_value * self.exit_qty / self.entry_qty
        gross = self.exit_value - entry_of_closed
        return money((gross if self.side is Direction.LONG else -gross) - self.fees)

    def excursions(self) -> tuple[Decimal, Decimal]:
        """(MFE, MAE) in quote currency over the entry quantity, both >= 0."""
        if self.high is None or self.low is None or not self.entry_qty:
            return ZERO, ZERO
        entry = self.entry_value / self.entry_qty
        up, down = (self.high - entry) * self.entry_qty, (entry - self.low) * self.entry_qty
        mfe, mae = (up, down) if self.side is Direction.LONG else (down, up)
        mfe, mae = max(ZERO, mfe), max(ZERO, mae)
        return money(mfe), money(mae)

    def report(self, symbol: str) -> dict[str, Any]:
        """The arguments of bot:reportTrade (without report_id)."""
        mfe, mae = self.excursions()
        return {
            "symbol": symbol,
            "side": str(self.side),
            "quantity": money(self.entry_qty),
            "entry_price": self.entry_price,
            "exit_price": self.exit_price,
            "entry_at": iso(self.entry_ms),
            "exit_at": iso(max(self.exit_ms, self.entry_ms)),
            "fees": money(self.fees),
            "pnl": self.pnl,
            "exit_reason": self.exit_reason[:64],
            "signal_state": json_safe(self.signal_state),
            "mfe": mfe,
            "mae": mae,
        }

    # the open trade survives a crash of the bot in its working directory -------------------

    def save(self, path: Path) -> None:
        data = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(json_safe(data)))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> OpenTrade | None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        decimals = ("entry_qty", "entry_value", "exit_qty", "exit_value", "fees", "high", "low")
        for name in decimals:
            if data.get(name) is not None:
                data[name] = Decimal(data[name])
        data["side"] = Direction(data["side"])
        return cls(**data)
