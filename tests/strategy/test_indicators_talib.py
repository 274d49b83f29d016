"""Every indicator TA-Lib has equals TA-Lib (the oracle) on random walks.

TA-Lib 0.8 also ships DONCHIAN, VWAP (session-less, no reset) and SUPERTREND, so those are
checked against it here on top of their hand-computed fixtures.
"""

from __future__ import annotations

import numpy as np
import pytest
import talib

from strategy.backtest.synthetic import random_walk
from strategy.indicators import INDICATORS, Candles

SEEDS = (1, 7, 42)
N = 1500


def _talib(name: str, c, p: dict) -> dict[str, np.ndarray]:
    h, lo, cl, v = c.high, c.low, c.close, c.volume
    if name == "sma":
        return {"value": talib.SMA(cl, p["period"])}
    if name == "ema":
        return {"value": talib.EMA(cl, p["period"])}
    if name == "wma":
        return {"value": talib.WMA(cl, p["period"])}
    if name == "rsi":
        return {"value": talib.RSI(cl, p["period"])}
    if name == "macd":
        m, s, hist = talib.MACD(cl, p["fast"], p["slow"], p["signal"])
        return {"macd": m, "signal": s, "hist": hist}
    if name == "bbands":
        up, mid, dn = talib.BBANDS(cl, p["period"], p["nbdev"], p["nbdev"], 0)
        return {"upper": up, "middle": mid, "lower": dn}
    if name == "atr":
        return {"value": talib.ATR(h, lo, cl, p["period"])}
    if name == "adx":
        n = p["period"]
        return {
            "adx": talib.ADX(h, lo, cl, n),
            "plus_di": talib.PLUS_DI(h, lo, cl, n),
            "minus_di": talib.MINUS_DI(h, lo, cl, n),
        }
    if name == "stoch":
        k, d = talib.STOCH(h, lo, cl, p["fastk"], p["slowk"], 0, p["slowd"], 0)
        return {"k": k, "d": d}
    if name == "cci":
        return {"value": talib.CCI(h, lo, cl, p["period"])}
    if name == "obv":
        return {"value": talib.OBV(cl, v)}
    if name == "roc":
        return {"value": talib.ROC(cl, p["period"])}
    if name == "donchian":
        up, mid, dn = talib.DONCHIAN(h, lo, p["period"])
        return {"upper": up, "middle": mid, "lower": dn}
    if name == "vwap":
        return {"value": talib.VWAP(h, lo, cl, v)}
    if name == "supertrend":
        value, trend = talib.SUPERTREND(h, lo, cl, p["period"], p["multiplier"])
        lookback = INDICATORS["supertrend"].lookback(p)
        direction = trend.astype(float)
        direction[:lookback] = np.nan  # TA-Lib's integer output says 0 while warming up
        return {"value": value, "direction": direction}
    raise KeyError(name)


CASES = [
    ("sma", {"period": 1}),
    ("sma", {"period": 2}),
    ("sma", {"period": 20}),
    ("sma", {"period": 200}),
    ("ema", {"period": 1}),
    ("ema", {"period": 2}),
    ("ema", {"period": 20}),
    ("ema", {"period": 100}),
    ("wma", {"period": 1}),
    ("wma", {"period": 2}),
    ("wma", {"period": 9}),
    ("wma", {"period": 50}),
    ("rsi", {"period": 2}),
    ("rsi", {"period": 14}),
    ("rsi", {"period": 50}),
    ("macd", {"fast": 12, "slow": 26, "signal": 9}),
    ("macd", {"fast": 5, "slow": 35, "signal": 5}),
    ("macd", {"fast": 30, "slow": 10, "signal": 1}),
    ("macd", {"fast": 8, "slow": 8, "signal": 3}),
    ("bbands", {"period": 5, "nbdev": 2.0}),
    ("bbands", {"period": 20, "nbdev": 1.0}),
    ("bbands", {"period": 50, "nbdev": 2.5}),
    ("atr", {"period": 1}),
    ("atr", {"period": 14}),
    ("atr", {"period": 30}),
    ("adx", {"period": 2}),
    ("adx", {"period": 14}),
    ("adx", {"period": 30}),
    ("stoch", {"fastk": 5, "slowk": 3, "slowd": 3}),
    ("stoch", {"fastk": 14, "slowk": 1, "slowd": 1}),
    ("stoch", {"fastk": 21, "slowk": 5, "slowd": 4}),
    ("cci", {"period": 2}),
    ("cci", {"period": 14}),
    ("cci", {"period": 40}),
    ("obv", {}),
    ("roc", {"period": 1}),
    ("roc", {"period": 10}),
    ("roc", {"period": 60}),
    ("donchian", {"period": 2}),
    ("donchian", {"period": 20}),
    ("donchian", {"period": 55}),
    ("vwap", {}),
    ("supertrend", {"period": 10, "multiplier": 3.0}),
    ("supertrend", {"period": 2, "multiplier": 1.0}),
    ("supertrend", {"period": 30, "multiplier": 0.5}),
]


def assert_matches_oracle(ours: np.ndarray, ref: np.ndarray, label: str) -> None:
    assert np.array_equal(np.isnan(ours), np.isnan(ref)), f"{label}: NaN positions differ"
    valid = ~np.isnan(ref)
    err = np.abs(ours[valid] - ref[valid]) / np.maximum(1.0, np.abs(ref[valid]))
    assert err.max(initial=0.0) <= 1e-9, f"{label}: max relative error {err.max():.3e}"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_batch_equals_talib_after_warm_up(name: str, params: dict, seed: int) -> None:
    candles = random_walk(N, seed=seed)
    ours = INDICATORS[name].batch(candles, params)
    for output, ref in _talib(name, candles, params).items():
        assert_matches_oracle(ours[output], ref, f"{name}.{output}")


def test_every_indicator_is_checked_against_talib() -> None:
    assert {name for name, _ in CASES} == set(INDICATORS)


FLAT_CASES = [
    (name, noise)
    for name in ("rsi", "stoch", "cci", "adx", "bbands", "roc", "obv", "atr")
    for noise in (0.0, 1e-15, 1e-12)
    if (name, noise) != ("cci", 1e-12)  # CCI of 1e-12 wiggles is rounding noise in any code
]


@pytest.mark.parametrize(("name", "noise"), FLAT_CASES)
def test_flat_and_near_flat_markets_take_talibs_zero_branches(name: str, noise: float) -> None:
    """Zero ranges and moves within rounding of zero hit TA-Lib's "is zero" tests (exact or
    relative to the prices); we take the same branches.  Closes jitter by ``noise``."""
    candles = random_walk(300, seed=3)
    jitter = 1.0 + noise * np.random.default_rng(9).normal(size=(3, 150))
    flat = candles._replace(
        high=np.concatenate((candles.high[:150], 100.0 * jitter[0])),
        low=np.concatenate((candles.low[:150], 100.0 * jitter[1])),
        close=np.concatenate((candles.close[:150], 100.0 * jitter[2])),
    )
    params = next(p for n, p in CASES if n == name)
    ours = INDICATORS[name].batch(flat, params)
    for output, ref in _talib(name, flat, params).items():
        assert_matches_oracle(ours[output], ref, f"{name}.{output}")


@pytest.mark.parametrize(("name", "params"), CASES[1::3], ids=[f"{n}-{p}" for n, p in CASES[1::3]])
def test_inputs_around_the_lookback_match_talib(name: str, params: dict) -> None:
    spec = INDICATORS[name]
    lookback = spec.lookback(params)
    for n in sorted({1, 2, lookback, lookback + 1, lookback + 2} - {0}):
        candles = random_walk(n, seed=5)
        ours = spec.batch(candles, params)
        for output, ref in _talib(name, candles, params).items():
            assert_matches_oracle(ours[output], ref, f"{name}.{output}[n={n}]")


@pytest.mark.parametrize("name", sorted(INDICATORS))
def test_no_candles_give_empty_outputs(name: str) -> None:
    empty = Candles.of(*([],) * 6)
    assert all(v.shape == (0,) for v in INDICATORS[name].batch(empty).values())
