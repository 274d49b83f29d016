"""The live evaluator: warm-up, no look-ahead, pause, hot-swap, and equality with backtests."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from strategy.backtest import BacktestConfig, run_backtest
from strategy.backtest.synthetic import random_walk
from strategy.components.state import AccountState, PositionState
from strategy.decision import price
from strategy.evaluator import Candle, Evaluator
from strategy.indicators import Candles
from strategy.template import validate_template
from tests.strategy.builders import FLAT, START_MS, candles, template

ACCOUNT = AccountState(equity=Decimal(10_000))
RICH = {
    "schema_version": 1,
    "name": "rich",
    "symbol": "BTCUSDT",
    "timeframe": "1m",
    "long_enabled": True,
    "short_enabled": True,
    "signals": [
        {"type": "ma_cross", "weight": 2, "params": {"fast": 5, "slow": 20, "mode": "trend"}},
        {"type": "rsi_reversal", "params": {"period": 7, "oversold": 35, "overbought": 65}},
        {"type": "supertrend_direction", "params": {"period": 7, "multiplier": 2}},
    ],
    "filters": [{"type": "volatility_band", "params": {"period": 14, "max_pct": 5}}],
    "guards": [{"type": "cooldown_after_loss", "params": {"bars": 3}}],
    "exits": [
        {"type": "stop_loss", "params": {"pct": 0.4}},
        {"type": "take_profit", "params": {"pct": 0.6}},
        {"type": "trailing_stop", "params": {"distance_pct": 0.3, "activation_pct": 0.2}},
        {"type": "break_even", "params": {"trigger_pct": 0.15, "offset_pct": 0.02}},
        {"type": "time_exit", "params": {"max_bars": 40}},
        {"type": "opposite_signal"},
    ],
    "combination": {"mode": "weighted_average", "threshold": 0.5},
    "risk": {"sizing": {"mode": "fixed_quantity", "value": 1}},
}


def rows(c: Candles):
    return [Candle(*r) for r in zip(*c, strict=True)]


def decisions(tpl, cs: Candles):
    ev = Evaluator(tpl)
    return [ev.on_candle(c, ACCOUNT, None) for c in rows(cs)]


def replay(tpl, cs: Candles):
    """Drive the evaluator like a bot: entries and market exits fill at the next open,
    level exits at the level; returns (side, entry i, exit i, reason, entry, exit, signal
    state at entry) tuples."""
    ev, tf = Evaluator(tpl), tpl.timeframe_ms
    pos, pending, last_loss, trades = None, None, None, []

    def close(i, fill, reason, exit_ms):
        nonlocal pos, last_loss
        side, qty, entry, entry_i, state = pos
        pnl = side * qty * (fill - entry)
        if pnl < 0:
            last_loss = exit_ms
        trades.append(("long" if side > 0 else "short", entry_i, i, reason, entry, fill, state))
        pos = None

    for i, c in enumerate(rows(cs)):
        if pending is not None:
            kind, payload = pending
            if kind == "enter":
                pos = (*payload[:2], price(c.open), i, payload[2])
            else:
                close(i, price(c.open), payload, c.open_time_ms)
            pending = None
        state = (
            None
            if pos is None
            else PositionState(
                "long" if pos[0] > 0 else "short", pos[1], pos[2], int(cs.open_time_ms[pos[3]])
            )
        )
        d = ev.on_candle(
            c, AccountState(equity=Decimal(10_000), last_loss_exit_ms=last_loss), state
        )
        if d.action == "exit":
            if d.exit_price is not None:
                close(i, d.exit_price, d.reason, c.open_time_ms + tf)
            else:
                pending = ("exit", d.reason)
        elif d.action in ("enter_long", "enter_short"):
            pending = ("enter", (1 if d.action == "enter_long" else -1, d.quantity, d.signal_state))
    return trades


def test_warming_up_until_the_indicators_have_history():
    tpl = validate_template(RICH)
    ds = decisions(tpl, random_walk(60, seed=1))
    ev = Evaluator(tpl)
    assert ev.warmup == 21  # SMA(20): 19 NaNs, 1 previous value (ma_cross history), the candle
    assert all(d.action == "warming_up" for d in ds[: ev.warmup - 1])
    assert all(d.action != "warming_up" for d in ds[ev.warmup - 1 :])


def test_backtest_takes_the_same_decisions_as_the_live_evaluator():
    tpl = validate_template(RICH)
    cs = random_walk(4000, seed=7, volatility=0.002, trend=0.3)
    config = BacktestConfig(taker_fee=Decimal(0))
    backtest = [
        (
            t.side,
            t.entry_index,
            t.exit_index,
            t.exit_reason,
            t.entry_price,
            t.exit_price,
            t.signal_state,
        )
        for t in run_backtest(tpl, cs, config).trades
        if t.exit_reason != "end_of_data"
    ]
    live = replay(tpl, cs)
    assert len(backtest) > 50
    assert {t[3] for t in backtest} >= {"stop_loss", "take_profit", "opposite_signal"}
    assert live == backtest


def test_changing_a_future_candle_never_changes_a_past_decision():
    tpl = validate_template(RICH)
    cs = random_walk(400, seed=3, volatility=0.003)
    before = decisions(tpl, cs)
    for k in (150, 300):
        changed = Candles(*(col.copy() for col in cs))
        changed.close[k] *= 1.05
        changed.high[k] = max(changed.high[k], changed.close[k])
        after = decisions(tpl, changed)
        assert after[:k] == before[:k]
        assert after[k:] != before[k:]
        trades_before = run_backtest(tpl, cs).trades
        trades_after = run_backtest(tpl, changed).trades
        assert [t for t in trades_before if t.exit_index < k] == [
            t for t in trades_after if t.exit_index < k
        ]


def test_paused_bot_enters_nothing_but_still_manages_exits():
    tpl = template(exits=[{"type": "stop_loss", "params": {"pct": 2}}])
    cs = candles(
        [FLAT, FLAT, (100, 101, 100, 101), (102, 104, 101.5, 103), (103, 103.5, 99.9, 100)]
    )
    ev = Evaluator(tpl)
    seen = [ev.on_candle(c, ACCOUNT, None, entries_enabled=False) for c in rows(cs)[:3]]
    assert (seen[-1].action, seen[-1].reason) == ("hold", "paused")
    pos = PositionState("long", Decimal(1), Decimal(102), int(cs.open_time_ms[3]))
    hold = ev.on_candle(rows(cs)[3], ACCOUNT, pos, entries_enabled=False)
    assert (hold.action, hold.stop_price) == ("hold", Decimal("99.96"))
    out = ev.on_candle(rows(cs)[4], ACCOUNT, pos, entries_enabled=False)
    assert (out.action, out.reason, out.exit_price) == ("exit", "stop_loss", Decimal("99.96"))


def test_entry_decision_carries_quantity_levels_and_signal_state():
    tpl = template(
        exits=[
            {"type": "stop_loss", "params": {"pct": 1}},
            {"type": "take_profit", "params": {"pct": 3}},
        ]
    )
    d = decisions(tpl, candles([FLAT, FLAT, (100, 101, 100, 101)]))[-1]
    assert (d.action, d.quantity) == ("enter_long", Decimal(1))
    assert (d.stop_price, d.target_price) == (Decimal("99.99"), Decimal("104.03"))
    assert d.signal_state["score"] == 1.0
    assert d.signal_state["signals"][0]["values"] == {"upper": 101.0, "lower": 100.0}
    assert d.signal_state["guards"] == {"max_open_positions": True, "daily_loss_limit": True}


def test_a_hot_swapped_evaluator_warmed_from_history_decides_like_the_old_one():
    tpl = validate_template(RICH)
    cs = random_walk(300, seed=5, volatility=0.003)
    old = decisions(tpl, cs)
    fresh = Evaluator(tpl)
    fresh.warm(Candles(*(col[:200] for col in cs)))
    new = [fresh.on_candle(c, ACCOUNT, None) for c in rows(cs)[200:]]
    assert new == old[200:]
    assert np.all([d.signal_state for d in new])


def test_a_cold_evaluator_still_stops_out_an_open_position():
    tpl = template(
        exits=[{"type": "stop_loss", "params": {"pct": 2}}],
        signals=[{"type": "donchian_breakout", "params": {"period": 10}}],
    )
    ev = Evaluator(tpl)
    pos = PositionState("long", Decimal(1), Decimal(102), START_MS)
    first, second = (
        ev.on_candle(c, ACCOUNT, pos)
        for c in rows(candles([(102, 103, 101, 102), (102, 102, 99, 99.5)]))
    )
    assert first.action == "warming_up"
    assert (second.action, second.reason, second.exit_price) == (
        "exit",
        "stop_loss",
        Decimal("99.96"),
    )


def test_best_price_seeds_a_resumed_position_but_not_its_entry_candle():
    tpl = template(exits=[{"type": "trailing_stop", "params": {"distance_pct": 1}}])
    cs = rows(candles([FLAT, FLAT, (109.5, 109.8, 109.2, 109.5)]))
    resumed = Evaluator(tpl)
    resumed.warm(candles([FLAT, FLAT]))
    pos = PositionState("long", Decimal(1), Decimal(100), START_MS, best_price=Decimal(110))
    assert resumed.on_candle(cs[2], ACCOUNT, pos).stop_price == Decimal("108.9")
    fresh = Evaluator(tpl)
    for c in cs[:2]:
        fresh.on_candle(c, ACCOUNT, None)
    entered = pos._replace(entry_time_ms=cs[2].open_time_ms)
    assert fresh.on_candle(cs[2], ACCOUNT, entered).stop_price == Decimal("108.702")
