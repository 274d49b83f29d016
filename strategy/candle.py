"""The one closed-candle type shared by the candle CSV, the bot's market data and the local
exchange's replay: an open time and Decimal prices exactly as the source wrote them.

Indicator math reads floats: `Candle.floats` gives the evaluator's row
(`strategy.evaluator.Candle`), and `strategy.indicators.Candles` holds whole columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Candle:
    """One closed candle; ``open_time_ms`` is its start in UTC milliseconds."""

    open_time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def floats(self) -> tuple[int, float, float, float, float, float]:
        """The candle as the evaluator's float row."""
        return (
            self.open_time_ms,
            float(self.open),
            float(self.high),
            float(self.low),
            float(self.close),
            float(self.volume),
        )
