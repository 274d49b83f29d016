"""The decision journal: the live evaluator's records equal the backtester's for the same
candles, and each record names the first reason a candle did not enter."""

from __future__ import annotations

from decimal import Decimal

from strategy.backtest import BacktestConfig, run_backtest
from strategy.backtest.synthetic import random_walk
from strategy.decision import WARMING_UP
from strategy.journal import backtest_journal, from_state
from strategy.template import validate_template
from tests.strategy.builders import candles, template
from tests.strategy.test_evaluator import RICH, replay


def live_journal(tpl, cs):
    seen: list = []
    replay(tpl, cs, seen)
    return [
        from_state(c.open_time_ms, {**d.signal_state, "action": d.action, "reason": d.reason})
        for c, d in seen
        if d.action != WARMING_UP
    ]


def test_backtest_journal_equals_the_live_bots_records_for_the_same_candles():
    # a tighter volatility band than RICH's, so that the filter refuses some entries
    filters = [{"type": "volatility_band", "params": {"period": 14, "max_pct": 0.35}}]
    tpl = validate_template({**RICH, "filters": filters})
    cs = random_walk(1800, seed=7, volatility=0.002, trend=0.3)
    config = BacktestConfig(taker_fee=Decimal(0))
    result = run_backtest(tpl, cs, config)
    journal = backtest_journal(tpl, cs, result, config)
    live = live_journal(tpl, cs)
    assert len(journal) == len(live) == 1800 - 20
    outcomes = {r.outcome.split(":")[0] for r in journal}
    # every branch shows up: entries, exits, holds in a position, refusals of each kind
    assert {"entered_long", "entered_short", "exit", "in_position", "no_signal",
            "guard", "filter", "position_closed_this_candle"} <= outcomes
    assert journal == live


def test_outcome_names_the_first_reason_no_entry_was_made():
    rows = [(100.0, 101.0, 99.0, 100.0)] * 3 + [(100.0, 103.0, 100.0, 102.0)]
    tpl = template(long_enabled=False)
    journal = backtest_journal(tpl, candles(rows), run_backtest(tpl, candles(rows)))
    assert [r.outcome for r in journal] == ["no_signal", "no_signal", "side_disabled"]
    assert journal[-1].desired == 1 and journal[-1].guards == ()
    night = template(sessions=[{"days": ["mon"], "start": "09:00", "end": "10:00"}])
    journal = backtest_journal(night, candles(rows), run_backtest(night, candles(rows)))
    assert journal[-1].outcome == "out_of_session"
    assert journal[-1].to_json() == {
        "a": "hold", "r": "no_entry", "d": 1, "c": 1.0, "s": [1.0], "f": [], "ses": False,
        "g": [], "o": "out_of_session"}
