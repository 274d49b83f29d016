"""The compiled backtest path: which backtests it takes, and running them.

``engine._run`` asks :func:`run_compiled` first; it returns None — and the Python loop runs,
with the same results — unless every decision of the backtest can be made without reading
the account's money, and every amount is exact in the loop's integers:

* sizing ``fixed_quantity`` (with or without ``qty_step``): the quantity never changes;
  ``percent_equity`` and ``risk_per_trade`` divide the equity (28-digit Decimal quotients);
* guards: none, or ``cooldown_after_loss`` (it reads only the sign of each trade's PnL,
  which the loop has exactly); ``max_drawdown`` and a ``daily_loss_limit`` read equity;
* ``funding_rate`` 0, and ``taker_fee`` > 0 (with a zero fee a Decimal PnL can be -0);
* at least 2 candles, candle closes > 0 and every price in [1e-10, 1e11);
* the loop itself gives up (``loop.INEXACT``) on a price finer than its price scale or an
  amount at or beyond 10**28 (where Decimal's context would round); the Python loop reruns.

:func:`unsupported` names the first rule a backtest breaks (tests and docs use it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from strategy.backtest.compiled import loop
from strategy.backtest.compiled.edge import Columns, TradeColumns
from strategy.backtest.level_fills import LEVEL_REASONS, market_fill
from strategy.backtest.result import BacktestConfig
from strategy.components.exits import kernel
from strategy.decision import Rules
from strategy.indicators import Candles
from strategy.sizing import position_size

REASONS = (*kernel.REASONS, "end_of_data")
_LEVEL = np.array([r in LEVEL_REASONS for r in REASONS])
_SLICES = 50  # progress reports per run when a progress callback is given


def fixed_quantity(rules: Rules, config: BacktestConfig) -> Decimal:
    """The one quantity a fixed_quantity template enters with (after the lot rounding)."""
    return position_size(
        "fixed_quantity",
        rules.sizing_value,
        equity=config.initial_equity,
        price=Decimal(1),
        qty_step=config.qty_step,
    )


def unsupported(rules: Rules, config: BacktestConfig, candles: Candles) -> str | None:
    """Why this backtest runs on the Python loop (None: the compiled loop takes it)."""
    if rules.sizing_mode != "fixed_quantity":
        return f"sizing {rules.sizing_mode} reads the equity"
    blocking = [g.type for g in rules.template.guards if g.type != "cooldown_after_loss"]
    if blocking:
        return f"guard {blocking[0]} reads the equity"
    if rules.daily_loss_limit is not None:
        return "daily_loss_limit reads the equity"
    if config.funding_rate:
        return "funding is charged"
    if config.taker_fee <= 0:
        return "taker_fee is not positive"
    if fixed_quantity(rules, config) <= 0:
        return "the quantity rounds to zero"
    if len(candles.close) < 2:
        return "fewer than 2 candles"
    if not (np.all(candles.close > 0) and np.all(candles.low >= 1e-10)):
        return "a candle price is below 1e-10 (or not positive)"
    if not np.all(candles.high < 1e11):
        return "a candle price is 1e11 or more"
    return None


def _coefficient(d: Decimal) -> tuple[int, int]:
    """(coefficient, exponent) of a finite Decimal: d == coefficient * 10**exponent."""
    sign, digits, e = d.as_tuple()
    return int("".join(map(str, digits))) * (-1 if sign else 1), int(e)


def _scaled(d: Decimal) -> tuple[int, int, int]:
    """(count of 10**-scale units, Decimal exponent, scale) with the smallest scale >= 0."""
    c, e = _coefficient(d)
    scale = max(0, -e)
    return c * 10 ** (e + scale), e, scale


def _money(rules: Rules, config: BacktestConfig, low: float) -> tuple[np.ndarray, int, int] | None:
    """The loop's integer money parameters, its money scale and its price scale."""
    qty, q_e, q_scale = _scaled(fixed_quantity(rules, config))
    fee, fee_e, f_scale = _scaled(config.taker_fee)
    slip = config.slippage_bps / Decimal(10_000)
    # the factors market_fill multiplies a price by: opening a long / closing one
    up = market_fill(Decimal(1), 1, slip, closing=False) if slip else Decimal(1)
    down = market_fill(Decimal(1), 1, slip, closing=True) if slip else Decimal(1)
    (up_c, up_e), (down_c, down_e) = _coefficient(up), _coefficient(down)
    # 12 significant digits of the lowest low (every fill, best and worst price is within the
    # candles' range: a stop touched fills at the stop or the lower open), slippage's digits
    price_scale = 11 - math.floor(math.log10(low)) + max(0, -up_e, -down_e)
    money_scale = price_scale + q_scale + f_scale
    params = [q_e, qty * fee, qty * 10**f_scale, fee_e, up_c, up_e, down_c, down_e]
    if max(abs(v) for v in params) >= 10**18 or price_scale < 0:
        return None
    return np.array([*params, price_scale], dtype=np.int64), money_scale, price_scale


def run_compiled(
    rules: Rules,
    config: BacktestConfig,
    candles: Candles,
    frame: Any,
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
    money = _money(rules, config, float(candles.low.min()))
    if money is None:
        return None
    params, money_scale, price_scale = money
    n = len(candles.close)
    cooldown = max((int(g.params["bars"]) for g in rules.template.guards), default=0)
    # a trade takes its entry candle and the next decision's: at most n // 2 of them; the
    # pages are touched only as rows are filled
    rows = np.empty((n // 2 + 1, loop.N_COLS), dtype=np.int64)
    state = np.array([first, 0, -1, loop.RUNNING], dtype=np.int64)  # first: engine.first_decision
    step = n if progress is None else max(1, n // _SLICES)
    limit = 0
    while state[loop.S_OUTCOME] == loop.RUNNING:  # DONE once limit reaches n
        limit = min(limit + step, n)
        loop.run(
            rows, state, limit, frame.long_entry, frame.short_entry, candles.open, candles.high,
            candles.low, candles.close, candles.open_time_ms, decision_ms, frame.long_signal,
            frame.short_signal, atr, rules.exit_cfg, rules.timeframe_ms, _LEVEL,
            len(REASONS) - 1, params, cooldown,
        )  # fmt: skip
        if progress is not None:
            progress(limit / n)
    if state[loop.S_OUTCOME] == loop.INEXACT:
        return None
    columns = Columns(
        rows[: state[loop.S_COUNT]], money_scale, price_scale, fixed_quantity(rules, config)
    )
    return TradeColumns(columns, candles.open_time_ms, REASONS, signal_states), columns
