"""The compiled trade loop gives the Python loop's results to the last unit, or stands aside."""

from __future__ import annotations

import math
import struct
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategy.backtest import BacktestConfig, run_backtest
from strategy.backtest.compiled import fixed as fx
from strategy.backtest.compiled import unsupported
from strategy.backtest.compiled.edge import TradeColumns
from strategy.backtest.synthetic import random_walk
from strategy.decision import Rules, price
from tests.strategy.builders import candles, template
from tests.strategy.test_backtest_fixtures import FEES, ROWS


def assert_same(tpl, cs, config) -> None:
    """Both loops, every trade field (Decimal text included), KPIs and equity curve."""
    fast = run_backtest(tpl, cs, config)
    slow = run_backtest(tpl, cs, config, compiled=False)
    assert isinstance(fast.trades, TradeColumns), unsupported(Rules(tpl), config, cs)
    assert isinstance(slow.trades, list)
    assert [t.to_json() for t in fast.trades] == [t.to_json() for t in slow.trades]
    assert fast.kpis.to_json() == slow.kpis.to_json()
    assert np.array_equal(fast.equity, slow.equity)
    assert fast.to_json() == slow.to_json()


def _decimal(x: float) -> tuple[int, int]:
    _, digits, e = price(x).as_tuple()
    return int("".join(map(str, digits))), int(e)


@given(st.floats(min_value=1e-10, max_value=1e11, exclude_max=True))
@settings(max_examples=3000, deadline=None)
def test_dec12_is_the_twelve_digit_decimal_of_any_float(x):
    c, e, ok = fx.dec12(x)
    assert ok and (c, e) == _decimal(x)


def test_dec12_on_ties_and_round_numbers():
    # exact binary halfway cases at the 12th digit (half-even both ways), round numbers,
    # and every neighbour one ulp away
    cases = [12345678901.25, 12345678901.75, 1234567890.125, 1234567890.375, 0.5, 20000.0]
    cases += [99.96, 1e-10, 0.1 + 0.2, 99999999999.99, 9.999999999995]
    for x in list(cases):
        bits = struct.unpack("<q", struct.pack("<d", x))[0]
        cases += [struct.unpack("<d", struct.pack("<q", bits + d))[0] for d in (-1, 1)]
    for x in (x for x in cases if 1e-10 <= x < 1e11):
        c, e, ok = fx.dec12(x)
        assert ok and (c, e) == _decimal(x), x
    assert not fx.dec12(math.nan)[2] and not fx.dec12(1e11)[2] and not fx.dec12(0.0)[2]


LIMB = st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1)


@given(LIMB, LIMB, LIMB, LIMB)
@settings(deadline=None)  # the first call loads compiled code
def test_wide_integers_are_exact(a, b, c, d):
    ab, cd = fx.mul(a, b), fx.mul(c, d)
    assert fx.to_int(*ab) == a * b and 0 <= ab[1] < fx.BASE
    assert fx.to_int(*fx.add(*ab, *cd)) == a * b + c * d
    assert fx.to_int(*fx.sub(*ab, *cd)) == a * b - c * d
    assert fx.sign(*ab) == (a * b > 0) - (a * b < 0)


EXIT_KINDS = [
    {"type": "stop_loss", "params": {"pct": 0.7}},
    {"type": "stop_loss", "params": {"pct": 2}},
    {"type": "take_profit", "params": {"pct": 1.3}},
    {"type": "trailing_stop", "params": {"distance_pct": 0.5, "activation_pct": 0.2}},
    {"type": "atr_stop", "params": {"period": 7, "multiplier": 1.5}},
    {"type": "break_even", "params": {"trigger_pct": 0.4, "offset_pct": 0.05}},
    {"type": "time_exit", "params": {"max_bars": 40}},
    {"type": "opposite_signal"},
]
EXITS = st.lists(st.sampled_from(EXIT_KINDS), max_size=4, unique_by=lambda e: e["type"])


@given(
    exits=EXITS,
    period=st.integers(2, 30),
    qty=st.sampled_from(["1", "0.25", "2.5", "37", "0.123"]),
    qty_step=st.sampled_from([None, Decimal("0.001"), Decimal("0.1")]),
    fee=st.sampled_from([Decimal("0.00055"), Decimal("0.001"), Decimal("0.0002")]),
    slippage=st.sampled_from([Decimal(0), Decimal(2), Decimal("7.5")]),
    cooldown=st.sampled_from([None, 1, 30]),
    seed=st.integers(0, 1000),
    start_price=st.sampled_from([0.05, 3.7, 100.0, 64_000.0]),
    long_only=st.booleans(),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_compiled_equals_python_on_random_templates(
    exits, period, qty, qty_step, fee, slippage, cooldown, seed, start_price, long_only
):
    guards = (
        [] if cooldown is None else [{"type": "cooldown_after_loss", "params": {"bars": cooldown}}]
    )
    tpl = template(
        signals=[{"type": "donchian_breakout", "params": {"period": period}}],
        exits=exits,
        guards=guards,
        short_enabled=not long_only,
        risk={"sizing": {"mode": "fixed_quantity", "value": float(qty)}},
    )
    cs = random_walk(1500, seed=seed, price=start_price, volatility=0.003)
    if start_price < 1:  # a 0.01 tick would flatten these: keep 6 decimals
        cs = random_walk(1500, seed=seed, price=start_price * 1e4, volatility=0.003)
        cs = type(cs).of(
            cs.open_time_ms, cs.open / 1e4, cs.high / 1e4, cs.low / 1e4, cs.close / 1e4, cs.volume
        )
    config = BacktestConfig(
        initial_equity=Decimal(10_000), taker_fee=fee, slippage_bps=slippage, qty_step=qty_step
    )
    assert_same(tpl, cs, config)


def test_the_hand_fixtures_match():
    config = BacktestConfig(initial_equity=Decimal(1000), taker_fee=FEES.taker_fee)
    for exits in (
        [
            {"type": "stop_loss", "params": {"pct": 2}},
            {"type": "take_profit", "params": {"pct": 2}},
        ],
        [{"type": "stop_loss", "params": {"pct": 2}}],
        [],
    ):
        tpl = template(exits=exits, risk={"sizing": {"mode": "fixed_quantity", "value": 2}})
        assert_same(tpl, candles(ROWS), config)


@pytest.mark.parametrize(
    ("change", "config", "reason"),
    [
        (
            {"risk": {"sizing": {"mode": "percent_equity", "value": 10}}},
            {},
            "sizing percent_equity without a qty_step",
        ),
        (
            {
                "exits": [{"type": "stop_loss", "params": {"pct": 1}}],
                "risk": {"sizing": {"mode": "risk_per_trade", "value": 1}},
            },
            {"qty_step": Decimal(0)},
            "sizing risk_per_trade without a qty_step",
        ),
        ({}, {"taker_fee": Decimal(0)}, "taker_fee"),
        ({}, {"qty_step": Decimal(5)}, "rounds to zero"),
    ],
)
def test_the_python_loop_takes_what_the_compiled_one_cannot(change, config, reason):
    tpl = template(**change)
    cfg = BacktestConfig(**config)
    cs = random_walk(600, seed=3, volatility=0.003)
    assert reason in unsupported(Rules(tpl), cfg, cs)
    result = run_backtest(tpl, cs, cfg)
    assert isinstance(result.trades, list)
    assert result.to_json() == run_backtest(tpl, cs, cfg, compiled=False).to_json()


def test_an_amount_beyond_28_digits_falls_back_to_python():
    tpl = template(risk={"sizing": {"mode": "fixed_quantity", "value": 123456789.123456}})
    cs = random_walk(300, seed=1, price=5e10, volatility=0.003)
    cfg = BacktestConfig()
    assert unsupported(Rules(tpl), cfg, cs) is None  # allowed in principle ...
    result = run_backtest(tpl, cs, cfg)
    assert isinstance(result.trades, list)  # ... but the loop found it inexact
    assert result.to_json() == run_backtest(tpl, cs, cfg, compiled=False).to_json()


def test_progress_slices_give_the_same_backtest():
    tpl = template(exits=[{"type": "time_exit", "params": {"max_bars": 5}}])
    cs = random_walk(3000, seed=7, volatility=0.003)
    seen: list[float] = []
    sliced = run_backtest(tpl, cs, BacktestConfig(), progress=seen.append)
    assert isinstance(sliced.trades, TradeColumns) and len(sliced.trades) > 10
    assert seen == sorted(seen) and len(seen) > 10 and seen[-1] == 1.0
    assert sliced.to_json() == run_backtest(tpl, cs, BacktestConfig()).to_json()


def test_decisions_from_a_later_candle_match():
    tpl = template(exits=[{"type": "time_exit", "params": {"max_bars": 5}}])
    cs = random_walk(2000, seed=11, volatility=0.003)
    config = BacktestConfig(decide_from_ms=int(cs.open_time_ms[700]))
    assert_same(tpl, cs, config)
    assert run_backtest(tpl, cs, config).trades[0].entry_index > 700


@given(
    st.integers(min_value=-(10**28) + 1, max_value=10**28 - 1),
    st.integers(min_value=0, max_value=40),
)
@settings(max_examples=3000, deadline=None)
def test_wide_float_is_the_float_of_the_decimal_or_refused_at_a_tie(value, scale):
    h, lo = divmod(value, fx.BASE)
    f, ok = fx.wide_float(h, lo, scale, -scale)
    exact = Fraction(value, 10**scale)
    if ok:
        assert f == float(Decimal(value).scaleb(-scale)) == float(exact)
    else:  # only a value (all but) halfway between two floats is refused
        nearest = float(exact)
        other = math.nextafter(nearest, math.inf if exact > Fraction(nearest) else -math.inf)
        midpoint = (Fraction(nearest) + Fraction(other)) / 2
        assert abs(exact - midpoint) <= abs(Fraction(other) - Fraction(nearest)) * 1e-11


@given(st.integers(min_value=-9 * 10**36, max_value=9 * 10**36), st.integers(0, 12))
@settings(deadline=None)
def test_fits_holds_only_amounts_with_28_digit_coefficients(value, digits):
    h, _ = divmod(value, fx.BASE)
    if fx.fits(h, digits):  # the coefficient value / 10**digits has at most 28 digits
        assert abs(value) < min(10 ** (28 + digits), 10**36)
    if abs(value) < 10 ** (27 + min(digits, 8)):  # and nothing much smaller is refused
        assert fx.fits(h, digits)
