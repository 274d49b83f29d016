"""The compiled backtest path: which backtests it takes, and running them.

``engine._run`` asks :func:`run_compiled` first; it returns None — and the Python loop runs,
with the same results — unless every amount of the backtest is exact in the loop's integers:

* sizing ``fixed_quantity`` (with or without ``qty_step``), or ``percent_equity`` and
  ``risk_per_trade`` with a ``qty_step`` (the quantity is a whole number of lots; without a
  step it would be a 28-digit quotient, and every amount made from it would round);
* guards ``cooldown_after_loss`` and ``max_drawdown``, and the ``daily_loss_limit``: the
  account they read is kept exactly (``compiled.account``), their comparisons and the lot
  rounding are certified floats, and the few too close to call are decided by ``Rules.entry``
  itself (``compiled.ask``);
* funding at any ``funding_rate`` (``compiled.funding``);
* ``taker_fee`` > 0 (with a zero fee a Decimal PnL can be -0);
* at least 2 candles, candle closes > 0 and every price in [1e-10, 1e11);
* the loop itself gives up (``loop.INEXACT``) on a price finer than its price scale or an
  amount whose Decimal coefficient passes 28 digits (Decimal would round); the Python loop
  reruns.

:func:`unsupported` names the first rule a backtest breaks (tests and docs use it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from strategy.backtest.compiled import account, ask, loop
from strategy.backtest.compiled import params as pm
from strategy.backtest.compiled.edge import Columns, TradeColumns
from strategy.backtest.level_fills import LEVEL_REASONS
from strategy.backtest.result import BacktestConfig
from strategy.components.exits import kernel
from strategy.components.frame import MarketFrame
from strategy.decision import Rules
from strategy.indicators import Candles

REASONS = (*kernel.REASONS, "end_of_data")
_LEVEL = np.array([r in LEVEL_REASONS for r in REASONS])
_SLICES = 50  # progress reports per run when a progress callback is given


def unsupported(rules: Rules, config: BacktestConfig, candles: Candles) -> str | None:
    """Why this backtest runs on the Python loop (None: the compiled loop takes it)."""
    if rules.sizing_mode != "fixed_quantity" and not (config.qty_step and config.qty_step > 0):
        return f"sizing {rules.sizing_mode} without a qty_step (28-digit quantities round)"
    other = [g.type for g in rules.template.guards if g.type not in pm.GUARDS]
    if other:
        return f"guard {other[0]} is not compiled"
    if config.taker_fee <= 0:
        return "taker_fee is not positive"
    if rules.sizing_mode == "fixed_quantity" and pm.fixed_quantity(rules, config) <= 0:
        return "the quantity rounds to zero"
    if len(candles.close) < 2:
        return "fewer than 2 candles"
    # min/max: no boolean temporaries; a NaN fails every comparison, as with np.all
    if not (candles.close.min() > 0 and candles.low.min() >= 1e-10):
        return "a candle price is below 1e-10 (or not positive)"
    if not candles.high.max() < 1e11:
        return "a candle price is 1e11 or more"
    return None


def run_compiled(
    rules: Rules,
    config: BacktestConfig,
    candles: Candles,
    frame: MarketFrame,
    atr: np.ndarray,
    decision_ms: np.ndarray,
    first: int,
    signal_states: Callable[[np.ndarray], list[dict[str, Any]]],
    progress: Callable[[float], None] | None,
) -> tuple[TradeColumns, Columns] | None:
    """The trades of a supported backtest (see the module docstring), or None; entries are
    decided from candle ``first`` on."""
    if unsupported(rules, config, candles) is not None:
        return None
    params = pm.build(rules, config, float(candles.low.min()))
    if params is None:
        return None
    n = len(candles.close)
    # a trade takes its entry candle and the next decision's: at most n // 2 of them; the
    # pages are touched only as rows are filled
    rows = np.empty((n // 2 + 1, loop.N_COLS), dtype=np.int64)
    state = np.zeros(loop.N_STATE, dtype=np.int64)
    state[loop.S_FREE], state[loop.S_ANSWER] = first, loop.NO_ANSWER  # engine.first_decision
    acct = account.new(params.initial)
    step = n if progress is None else max(1, n // _SLICES)
    limit = 0
    while state[loop.S_OUTCOME] in (loop.RUNNING, loop.ASK):  # DONE once limit reaches n
        if state[loop.S_OUTCOME] == loop.ASK:
            if not ask.answer(rules, params, candles, frame, atr, state, acct):
                return None
        else:
            limit = min(limit + step, n)
        loop.run(
            rows, state, acct, limit, frame.long_entry, frame.short_entry, candles.open,
            candles.high, candles.low, candles.close, candles.open_time_ms, decision_ms,
            frame.long_signal, frame.short_signal, atr, rules.exit_cfg, rules.timeframe_ms,
            _LEVEL, len(REASONS) - 1, params.ints, params.floats,
        )  # fmt: skip
        if progress is not None and state[loop.S_OUTCOME] != loop.ASK:
            progress(limit / n)
    if state[loop.S_OUTCOME] == loop.INEXACT:
        return None
    columns = Columns(
        rows[: state[loop.S_COUNT]], params.money_scale, params.price_scale, params.q_scale
    )
    return TradeColumns(columns, candles.open_time_ms, REASONS, signal_states), columns
