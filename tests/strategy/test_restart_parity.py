"""Restart and hot-swap parity: a live evaluator rebuilt at 100 points of a long series, warmed
on ``parity_history`` candles as the bot does, decides exactly as the backtest that ran
through.  The templates together use every signal, filter and exit of the catalogue.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from strategy.backtest import BacktestConfig, run_backtest
from strategy.backtest.synthetic import random_walk
from strategy.components.catalogue import CATALOGUE
from strategy.components.state import AccountState, PositionState
from strategy.decision import price
from strategy.evaluator import Candle, Evaluator
from strategy.indicators import Candles
from strategy.template import validate_template

RESTARTS = 100
SPACING = 240  # candles decided after each restart before the next one
SPREAD_BPS = 1.0


def _template(name, signals, filters, exits, mode="any", threshold=1.0):
    return validate_template(
        {
            "schema_version": 1,
            "name": name,
            "symbol": "BTCUSDT",
            "timeframe": "1m",
            "long_enabled": True,
            "short_enabled": True,
            "signals": signals,
            "filters": filters,
            "guards": [{"type": "cooldown_after_loss", "params": {"bars": 2}}],
            "exits": exits,
            "combination": {"mode": mode, "threshold": threshold},
            "risk": {"sizing": {"mode": "fixed_quantity", "value": 1}},
        }
    )


TEMPLATES = {
    "ema_cross_macd": _template(
        "ema cross + macd",
        [
            {"type": "ma_cross", "params": {"fast": 9, "slow": 21, "ma": "ema"}},
            {"type": "macd_histogram", "params": {"fast": 12, "slow": 26, "signal": 9}},
        ],
        [{"type": "trend_strength", "params": {"period": 10, "min_adx": 15}}],
        [
            {"type": "atr_stop", "params": {"period": 14, "multiplier": 2}},
            {"type": "take_profit", "params": {"pct": 0.5}},
            {"type": "time_exit", "params": {"max_bars": 30}},
        ],
    ),
    "wma_rsi_bollinger": _template(
        "wma trend + rsi + bollinger",
        [
            {"type": "ma_cross", "params": {"fast": 5, "slow": 20, "ma": "wma", "mode": "trend"}},
            {"type": "rsi_reversal", "params": {"period": 9, "oversold": 35, "overbought": 65}},
            {"type": "bollinger_breakout", "params": {"period": 20, "nbdev": 1.5}},
        ],
        [
            {"type": "volume", "params": {"period": 10, "min_ratio": 0.5}},
            {"type": "volatility_band", "params": {"period": 14, "max_pct": 5}},
        ],
        [
            {"type": "stop_loss", "params": {"pct": 0.4}},
            {"type": "trailing_stop", "params": {"distance_pct": 0.3, "activation_pct": 0.2}},
            {"type": "break_even", "params": {"trigger_pct": 0.15, "offset_pct": 0.02}},
            {"type": "opposite_signal"},
        ],
        mode="weighted_average",
        threshold=0.3,
    ),
    "macd_donchian_supertrend": _template(
        "macd + donchian + supertrend",
        [
            {"type": "macd_histogram", "params": {"fast": 8, "slow": 21, "signal": 5}},
            {"type": "donchian_breakout", "params": {"period": 15}},
            {"type": "supertrend_direction", "params": {"period": 7, "multiplier": 2}},
            {"type": "ma_cross", "params": {"fast": 10, "slow": 30, "ma": "sma"}},
        ],
        [{"type": "spread", "params": {"max_bps": 5}}],
        [
            {"type": "stop_loss", "params": {"pct": 0.6}},
            {"type": "take_profit", "params": {"pct": 0.8}},
            {"type": "opposite_signal"},
        ],
    ),
}


def test_the_templates_cover_the_whole_catalogue():
    used = {"signals": set(), "filters": set(), "exits": set()}
    for tpl in TEMPLATES.values():
        used["signals"] |= {c.type for c in tpl.signals}
        used["filters"] |= {c.type for c in tpl.filters}
        used["exits"] |= {c.type for c in tpl.exits}
    for section, types in used.items():
        assert types == set(CATALOGUE[section]), section


def _rows(cs: Candles) -> list[Candle]:
    return [Candle(*r) for r in zip(*cs, strict=True)]


def live_trades(tpl, cs: Candles, restarts: list[int], warm: int | None) -> list[tuple]:
    """Drive evaluators like the bot (entries and market exits at the next open, level exits
    at the level); at each index in ``restarts`` the evaluator is thrown away and a new one is
    warmed on the ``warm`` candles before it (default: its ``parity_history``), and the open
    position is handed over with its best price and entry ATR, and the candle of the last
    exit, as the bot does."""
    rows, tf = _rows(cs), tpl.timeframe_ms
    ev = Evaluator(tpl)
    pos = pending = last_loss = last_exit = None
    trades = []
    restart_at = set(restarts)
    for i, c in enumerate(rows):
        if i in restart_at:
            ev = Evaluator(tpl)
            n = ev.parity_history if warm is None else warm
            ev.warm(Candles(*(col[i - n : i] for col in cs)))
        if pending is not None:
            kind, payload = pending
            pending = None
            if kind == "enter":
                side, qty, atr = payload
                pos = {"side": side, "qty": qty, "entry": price(c.open), "i": i, "atr": atr}
                pos["best"] = pos["entry"]
            else:
                trades.append(_closed(pos, i, payload, price(c.open)))
                last_exit = c.open_time_ms
                last_loss = _loss_ms(pos, price(c.open), c.open_time_ms, last_loss)
                pos = None
        state = None
        if pos is not None:
            state = PositionState(
                "long" if pos["side"] > 0 else "short",
                pos["qty"],
                pos["entry"],
                int(cs.open_time_ms[pos["i"]]),
                pos["best"],
                pos["atr"],
            )
        d = ev.on_candle(
            c,
            AccountState(equity=Decimal(10_000), last_loss_exit_ms=last_loss),
            state,
            spread_bps=SPREAD_BPS,
            last_exit_candle_ms=last_exit,
        )
        if d.action == "exit":
            if d.exit_price is not None:
                trades.append(_closed(pos, i, d.reason, d.exit_price))
                last_exit = c.open_time_ms
                last_loss = _loss_ms(pos, d.exit_price, c.open_time_ms + tf, last_loss)
                pos = None
            else:
                pending = ("exit", d.reason)
        elif d.action in ("enter_long", "enter_short"):
            side = 1 if d.action == "enter_long" else -1
            pending = ("enter", (side, d.quantity, d.entry_atr))
        if pos is not None:  # the best price of completed candles, for the next decision
            extreme = price(c.high) if pos["side"] > 0 else price(c.low)
            pos["best"] = (
                max(pos["best"], extreme) if pos["side"] > 0 else min(pos["best"], extreme)
            )
    return trades


def _closed(pos, i, reason, fill):
    return ("long" if pos["side"] > 0 else "short", pos["i"], i, reason, pos["entry"], fill)


def _loss_ms(pos, fill, exit_ms, last_loss):
    return exit_ms if pos["side"] * (fill - pos["entry"]) < 0 else last_loss


def backtest_trades(tpl, cs: Candles) -> list[tuple]:
    config = BacktestConfig(taker_fee=Decimal(0), spread_bps=SPREAD_BPS)
    return [
        (t.side, t.entry_index, t.exit_index, t.exit_reason, t.entry_price, t.exit_price)
        for t in run_backtest(tpl, cs, config).trades
        if t.exit_reason != "end_of_data"
    ]


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_a_bot_restarted_at_100_points_decides_as_the_backtest(name):
    tpl = TEMPLATES[name]
    history = Evaluator(tpl).parity_history
    cs = random_walk(history + RESTARTS * SPACING + 1, seed=11, volatility=0.002, trend=0.3)
    restarts = [history + k * SPACING for k in range(RESTARTS)]
    expected = backtest_trades(tpl, cs)
    assert len(expected) > 100
    assert live_trades(tpl, cs, restarts, warm=None) == expected


def test_warming_on_the_bare_minimum_would_decide_differently():
    """The control: with only ``warmup`` candles the EMA template's decisions drift."""
    tpl = TEMPLATES["ema_cross_macd"]
    ev = Evaluator(tpl)
    assert ev.parity_history > 10 * ev.warmup
    cs = random_walk(ev.parity_history + 20 * SPACING + 1, seed=11, volatility=0.002, trend=0.3)
    restarts = [ev.parity_history + k * SPACING for k in range(20)]
    assert live_trades(tpl, cs, restarts, warm=ev.warmup) != backtest_trades(tpl, cs)
