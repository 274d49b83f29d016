"""Price paths: a seeded synthetic generator with volatility regimes, and a replay of a candle
CSV (`open_time_ms,open,high,low,close,volume`, header row) that continues synthetically when
the file ends.

The stochastic process runs in floats (model math); every price leaves this module as a
Decimal rounded to the instrument's tick size.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from strategy.candle import Candle
from strategy.candles_csv import read_candle_rows


@dataclass(frozen=True)
class Regime:
    name: str
    drift_per_min: float
    vol_per_min: float


REGIMES = (
    Regime("trend_up", 0.0006, 0.0012),
    Regime("trend_down", -0.0006, 0.0012),
    Regime("chop", 0.0, 0.0007),
    Regime("volatile", 0.0, 0.0030),
)
MEAN_REGIME_MINUTES = 45.0


def quantize(value: float | Decimal, tick: Decimal) -> Decimal:
    """Round to a multiple of `tick` (never below one tick)."""
    steps = (Decimal(str(value)) / tick).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return max(steps, Decimal(1)) * tick


def load_candles_csv(path: Path) -> list[Candle]:
    """Read the shared candle CSV format through the one checked reader."""
    candles = read_candle_rows(path)
    if len(candles) < 2:
        raise ValueError(f"{path}: need at least two candles")
    return candles


class SyntheticPath:
    """Geometric random walk whose drift and volatility switch between regimes."""

    def __init__(self, rng: random.Random, start: Decimal, tick: Decimal, step_ms: int) -> None:
        self._rng = rng
        self._tick = tick
        self._log_price = math.log(float(start))
        self._minutes = step_ms / 60_000
        self._switch_p = self._minutes / MEAN_REGIME_MINUTES
        self.regime = REGIMES[rng.randrange(len(REGIMES))]

    def next_price(self) -> Decimal:
        if self._rng.random() < self._switch_p:
            self.regime = REGIMES[self._rng.randrange(len(REGIMES))]
        r = self.regime
        shock = self._rng.gauss(0.0, r.vol_per_min * math.sqrt(self._minutes))
        self._log_price += r.drift_per_min * self._minutes + shock
        return quantize(math.exp(self._log_price), self._tick)

    def jump_to(self, price: Decimal) -> None:
        self._log_price = math.log(float(price))


class ReplayPath:
    """Walks each CSV candle open -> first extreme -> second extreme -> close over the steps
    of its interval, then hands over to a synthetic path from the last close."""

    def __init__(
        self, rng: random.Random, candles: list[Candle], tick: Decimal, step_ms: int
    ) -> None:
        interval = candles[1].open_time_ms - candles[0].open_time_ms
        if interval <= 0 or interval % step_ms:
            raise ValueError("candle interval must be a positive multiple of the step")
        self._prices = [p for c in candles for p in self._walk(c, interval // step_ms, tick)]
        self._index = 0
        self._tail = SyntheticPath(rng, candles[-1].close, tick, step_ms)
        self.regime = REGIMES[2]

    @staticmethod
    def _walk(c: Candle, steps: int, tick: Decimal) -> list[Decimal]:
        """Prices of the candle's steps; open, both extremes and close are each hit exactly
        (when the candle has at least four steps)."""
        first, second = (c.low, c.high) if c.close >= c.open else (c.high, c.low)
        anchors = [c.open, first, second, c.close]
        n = steps - 1
        marks = [0, round(n / 3), round(2 * n / 3), n]
        out = []
        for i in range(steps):
            k = next((j for j in range(3) if i <= marks[j + 1]), 2)
            span = marks[k + 1] - marks[k]
            frac = Decimal(i - marks[k]) / Decimal(span) if span else Decimal(1)
            out.append(quantize(anchors[k] + (anchors[k + 1] - anchors[k]) * frac, tick))
        return out

    def next_price(self) -> Decimal:
        if self._index < len(self._prices):
            self._index += 1
            return self._prices[self._index - 1]
        price = self._tail.next_price()
        self.regime = self._tail.regime
        return price

    def jump_to(self, price: Decimal) -> None:
        self._index = len(self._prices)
        self._tail.jump_to(price)
