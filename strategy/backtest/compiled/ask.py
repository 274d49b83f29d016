"""The entry decisions the compiled loop leaves to Python: ``Rules.entry`` on its account.

``compiled.entry`` answers ASK when a float comparison is too close to call (see there); the
loop then stops at that candle and :func:`answer` decides it as the Python loop does — the
same ``Account`` values (``account.python_account``), the same ``Rules.entry`` call — and
writes the decision where the loop reads it when it resumes.
"""

from __future__ import annotations

import numpy as np

from strategy.backtest.compiled import entry, loop
from strategy.backtest.compiled.account import python_account
from strategy.backtest.compiled.fixed import BASE
from strategy.backtest.compiled.params import Params, coefficient
from strategy.components.frame import MarketFrame
from strategy.decision import ENTER_LONG, ENTER_SHORT, SIDES, Rules
from strategy.indicators import Candles


def answer(
    rules: Rules,
    params: Params,
    candles: Candles,
    frame: MarketFrame,
    atr: np.ndarray,
    state: np.ndarray,
    acct: np.ndarray,
) -> bool:
    """Decide the entry at candle ``state[S_FREE]`` into ``state``; False when its quantity
    does not fit the loop's integers."""
    i = int(state[loop.S_FREE])
    now = int(candles.open_time_ms[i]) + rules.timeframe_ms
    account = python_account(acct, params.money_scale)
    decision = rules.entry(
        ENTER_LONG if frame.long_entry[i] else ENTER_SHORT,
        account.state(now),
        now,
        candles.close.item(i),
        atr.item(i),
    )
    if decision.action in SIDES:
        assert decision.quantity is not None
        c, e = coefficient(decision.quantity)
        if e + params.q_scale < 0 or c * 10 ** (e + params.q_scale) >= BASE:
            return False
        found = (entry.ENTER, c * 10 ** (e + params.q_scale), e)
    elif decision.reason and decision.reason.startswith("guard:"):
        until = entry.FOREVER if decision.until_ms is None else decision.until_ms
        found = (entry.BLOCKED, until, 0)
    else:
        found = (entry.SIZE_ZERO, 0, 0)
    state[loop.S_ANSWER], state[loop.S_ANSWER_A], state[loop.S_ANSWER_B] = found
    state[loop.S_OUTCOME] = loop.RUNNING
    return True
