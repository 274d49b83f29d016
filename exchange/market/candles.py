"""Candles of every Bybit interval built from the price ticks of one symbol.

Each interval keeps its closed candles (bounded history) and the open one. A tick that lands
in a later bucket closes the open candle and fills any skipped buckets (a paused market) with
flat, zero-volume candles, so history has no gaps.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

INTERVAL_MS: dict[str, int] = {
    "1": 60_000,
    "3": 180_000,
    "5": 300_000,
    "15": 900_000,
    "30": 1_800_000,
    "60": 3_600_000,
    "120": 7_200_000,
    "240": 14_400_000,
    "360": 21_600_000,
    "720": 43_200_000,
    "D": 86_400_000,
}
HISTORY = 5000
MAX_GAP_FILL = 2000


@dataclass
class Candle:
    """One candle; only the open candle of a series is ever mutated (by `add`)."""

    start: int
    interval_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    turnover: Decimal

    @property
    def end(self) -> int:
        return self.start + self.interval_ms - 1

    def add(self, price: Decimal, volume: Decimal) -> None:
        if price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        self.close = price
        self.volume += volume
        self.turnover += volume * price


def _flat(start: int, interval_ms: int, price: Decimal) -> Candle:
    return Candle(start, interval_ms, price, price, price, price, Decimal(0), Decimal(0))


class CandleSeries:
    """Closed history plus the open candle of one interval."""

    def __init__(self, interval_ms: int) -> None:
        self.interval_ms = interval_ms
        self.closed: deque[Candle] = deque(maxlen=HISTORY)
        self.current: Candle | None = None

    def tick(self, ts: int, price: Decimal, volume: Decimal) -> list[Candle]:
        """Add a trade tick; returns the candles it closed (oldest first)."""
        start = ts - ts % self.interval_ms
        closed: list[Candle] = []
        cur = self.current
        if cur is not None and start > cur.start:
            closed.append(cur)
            gap_start = max(cur.start + self.interval_ms, start - MAX_GAP_FILL * self.interval_ms)
            closed.extend(
                _flat(s, self.interval_ms, cur.close)
                for s in range(gap_start, start, self.interval_ms)
            )
            self.closed.extend(closed)
            cur = None
        if cur is None:
            cur = Candle(
                start, self.interval_ms, price, price, price, price, Decimal(0), Decimal(0)
            )
        cur.add(price, volume)
        self.current = cur
        return closed

    def window(self, start: int | None, end: int | None, limit: int) -> list[Candle]:
        """Candles (closed and open) with start in [start, end], newest first, at most limit."""
        out = []
        everything = list(self.closed) + ([self.current] if self.current else [])
        for candle in reversed(everything):
            if end is not None and candle.start > end:
                continue
            if start is not None and candle.start < start:
                break
            out.append(candle)
            if len(out) >= limit:
                break
        return out


class Candles:
    """All intervals of one symbol."""

    def __init__(self) -> None:
        self.series = {name: CandleSeries(ms) for name, ms in INTERVAL_MS.items()}

    def tick(self, ts: int, price: Decimal, volume: Decimal) -> dict[str, list[Candle]]:
        """Feed one tick to every interval; returns closed candles per interval name."""
        return {name: s.tick(ts, price, volume) for name, s in self.series.items()}
