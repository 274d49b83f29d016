"""VWAP, Donchian and SuperTrend against small hand-computed fixtures (both forms)."""

from __future__ import annotations

import numpy as np
import pytest

from strategy.indicators import INDICATORS, Candles

NAN = np.nan
HOUR_MS = 3_600_000
DAY1_22H = 1_704_146_400_000  # 2024-01-01T22:00:00Z


def make(high, low, close, volume=None, open_time_ms=None) -> Candles:
    n = len(close)
    return Candles.of(
        open_time_ms if open_time_ms is not None else np.arange(n) * 60_000,
        close,
        high,
        low,
        close,
        volume if volume is not None else np.ones(n),
    )


def both_forms(name: str, candles: Candles, params: dict) -> list[dict[str, np.ndarray]]:
    spec = INDICATORS[name]
    stream = spec.stream(params)
    rows = [
        stream.update(*row[1:], row[0]) for row in zip(*(c.tolist() for c in candles), strict=True)
    ]
    streamed = {k: np.array([r[j] for r in rows]) for j, k in enumerate(spec.outputs)}
    return [spec.batch(candles, params), streamed]


# Typical prices 10, 20, 10, 30 with volumes 1, 3, 0, 4; the third candle opens a new UTC day.
VWAP_CANDLES = make(
    high=[12, 21, 10, 31],
    low=[9, 18, 10, 29],
    close=[9, 21, 10, 30],
    volume=[1, 3, 0, 4],
    open_time_ms=[DAY1_22H + k * HOUR_MS for k in range(4)],
)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [10.0, 17.5, 17.5, 23.75]),  # (10*1 + 20*3) / 4; unchanged by 0 volume; 190 / 8
        ({"reset_candles": 2}, [10.0, 17.5, 10.0, 30.0]),  # no volume since the reset: tp
        ({"reset_daily": 1}, [10.0, 17.5, 10.0, 30.0]),
        ({"reset_candles": 3}, [10.0, 17.5, 17.5, 30.0]),
    ],
)
def test_vwap_matches_hand_computed_values(params: dict, expected: list[float]) -> None:
    for out in both_forms("vwap", VWAP_CANDLES, params):
        np.testing.assert_array_equal(out["value"], expected)


def test_vwap_of_a_zero_volume_start_is_the_typical_price() -> None:
    candles = make(high=[3, 6], low=[0, 3], close=[3, 3], volume=[0, 2])
    for out in both_forms("vwap", candles, {}):
        np.testing.assert_array_equal(out["value"], [2.0, 4.0])


def test_donchian_matches_hand_computed_values() -> None:
    candles = make(
        high=[10, 12, 11, 15, 13, 9], low=[8, 9, 7, 10, 11, 6], close=[9, 10, 9, 12, 12, 7]
    )
    for out in both_forms("donchian", candles, {"period": 3}):
        np.testing.assert_array_equal(out["upper"], [NAN, NAN, 12, 15, 15, 15])
        np.testing.assert_array_equal(out["lower"], [NAN, NAN, 7, 7, 7, 6])
        np.testing.assert_array_equal(out["middle"], [NAN, NAN, 9.5, 11, 11, 10.5])


def test_supertrend_matches_hand_computed_values() -> None:
    # ATR(2): true ranges 2, 2 -> 2 at candle 2, then (atr + tr) / 2 = 2, 3, 2.5, 4.25.
    # Bands hl2 -/+ ATR; the final upper ratchets 14 -> 13 -> 11 -> 10.5 -> (held) 10.5, the
    # final lower holds at 10, is released to 5.5 by the close of 7 below it, then rises to
    # 7.75.  Up from the start; the close of 7 < 10 turns it down; 13 > 10.5 turns it up.
    candles = make(
        high=[11, 12, 13, 12, 10, 9, 14],
        low=[9, 10, 11, 10, 6, 7, 10],
        close=[10, 11, 12, 10, 7, 8, 13],
    )
    for out in both_forms("supertrend", candles, {"period": 2, "multiplier": 1.0}):
        np.testing.assert_array_equal(out["value"], [NAN, NAN, 10, 10, 11, 10.5, 7.75])
        np.testing.assert_array_equal(out["direction"], [NAN, NAN, 1, 1, -1, -1, 1])
