"""Small builders for the strategy tests: hand-made candles and templates."""

from __future__ import annotations

from typing import Any

from strategy.indicators import Candles
from strategy.template import Template, validate_template

START_MS = 1_704_067_200_000  # Monday 2024-01-01 00:00 UTC
MINUTE = 60_000

FLAT = (100.0, 100.0, 100.0, 100.0)


def candles(
    rows: list[tuple[float, float, float, float]], start_ms: int = START_MS, step_ms: int = MINUTE
) -> Candles:
    """Candles from (open, high, low, close) rows, one minute apart, volume 1."""
    return Candles.of(
        [start_ms + i * step_ms for i in range(len(rows))],
        *zip(*rows, strict=True),
        [1.0] * len(rows),
    )


def template(**overrides: Any) -> Template:
    """A breakout template: a close above the previous high is a long signal, below the
    previous low a short one (donchian_breakout, period 1; warm-up 2 candles)."""
    data: dict[str, Any] = {
        "schema_version": 1,
        "name": "test",
        "symbol": "BTCUSDT",
        "timeframe": "1m",
        "long_enabled": True,
        "short_enabled": True,
        "signals": [{"type": "donchian_breakout", "params": {"period": 1}}],
        "exits": [],
        "combination": {"mode": "any", "threshold": 1.0},
        "risk": {"sizing": {"mode": "fixed_quantity", "value": 1}},
    }
    data.update(overrides)
    return validate_template(data)
