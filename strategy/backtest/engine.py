"""The backtester: a template over historical candles, through the live bot's decision rules.

It uses :class:`strategy.decision.Rules` exactly as the evaluator does; only the iteration
differs.  Indicators come from the batch kernels (equal to the streams), the market frame is
computed once over all candles, and the loop jumps from one possible entry to the next:

* a decision at the close of candle ``i`` fills at the open of ``i + 1`` (entries, time
  exits and opposite-signal exits), with ``slippage_bps`` against the trader;
* stops and targets are checked inside each candle from the entry candle on, stop first
  when both could have been touched, and filled as the exchange-side orders the bot keeps
  for them (``level_fills``: the one place for those rules);
* one position at a time (a template trades one symbol); no entry is decided on the candle
  in which a position closed — the same rule the evaluator applies;
* the account the guards see is closed-trade equity (the backtester is flat whenever it
  decides), its running peak, today's (UTC) realized PnL and the last losing exit;
* a position still open after the last candle is closed at that candle's close
  (reason ``end_of_data``, taker fee).

The loop itself runs compiled (``strategy.backtest.compiled``: numba, exact integer money)
whenever that gives the identical result, else here in Python (``_loop``).
"""

from __future__ import annotations

import gc
import math
from bisect import bisect_left
from collections.abc import Callable
from decimal import Decimal

import numpy as np

from strategy.backtest.account import Account
from strategy.backtest.compiled import run_compiled
from strategy.backtest.compiled.loop import C_ENTRY, C_EXIT, C_SIDE
from strategy.backtest.equity import equity_curve
from strategy.backtest.funding import funding_cost
from strategy.backtest.level_fills import LEVEL_REASONS, market_fill
from strategy.backtest.result import BacktestConfig, BacktestResult, Trade
from strategy.components.frame import MarketFrame, signal_states
from strategy.decision import ENTER_LONG, ENTER_SHORT, SIDES, Decision, Rules, price
from strategy.indicators import Candles
from strategy.kpis import kpis_from_totals, trade_totals
from strategy.template.model import Template

Progress = Callable[[float], None]
_ZERO = Decimal(0)


def run_backtest(
    template: Template,
    candles: Candles,
    config: BacktestConfig | None = None,
    progress: Progress | None = None,
    indicator_cache: dict | None = None,
    *,
    compiled: bool = True,
) -> BacktestResult:
    """Backtest ``template`` over ``candles`` (oldest first); see the module docstring.

    ``indicator_cache``: indicator series computed earlier over these same candles (see
    ``Plan.batch``), shared by the backtests of a parameter search.  ``compiled``: take the
    compiled loop when it supports the backtest (``strategy.backtest.compiled``; the same
    results); False forces the Python loop (the tests compare the two).
    """
    gc_was_enabled = gc.isenabled()
    gc.disable()  # many small acyclic objects: collection passes would cost ~40% here
    try:
        config = config or BacktestConfig()
        return _run(template, candles, config, progress, indicator_cache, compiled)
    finally:
        if gc_was_enabled:
            gc.enable()


def market(
    rules: Rules,
    candles: Candles,
    config: BacktestConfig,
    indicator_cache: dict | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray, MarketFrame]:
    """(candle and indicator series, decision times, market frame) over all ``candles``."""
    series = {
        "open": candles.open,
        "high": candles.high,
        "low": candles.low,
        "close": candles.close,
        "volume": candles.volume,
        "spread_bps": np.full(len(candles.close), float(config.spread_bps)),
        **rules.plan.batch(candles, indicator_cache),
    }
    decision_ms = candles.open_time_ms + rules.timeframe_ms
    return series, decision_ms, rules.frame(series, decision_ms)


def first_decision(rules: Rules, candles: Candles, config: BacktestConfig) -> int:
    """Index of the first candle decided: after the warm-up and from ``decide_from_ms``."""
    first = max(rules.warmup - 1, 0)
    if config.decide_from_ms is not None:
        first = max(first, int(np.searchsorted(candles.open_time_ms, config.decide_from_ms)))
    return first


def _run(
    template: Template,
    candles: Candles,
    config: BacktestConfig,
    progress: Progress | None,
    indicator_cache: dict | None,
    use_compiled: bool,
) -> BacktestResult:
    rules = Rules(template, config.qty_step)
    n = len(candles.close)
    series, decision_ms, frame = market(rules, candles, config, indicator_cache)
    atr = series[rules.atr_series] if rules.atr_series else np.full(n, np.nan)  # for atr_stop
    first = first_decision(rules, candles, config)
    start = int(candles.open_time_ms[0]) if n else 0
    end = int(decision_ms[-1]) if n else 0

    def states(entry_decisions: np.ndarray) -> list[dict]:
        """Signal states of entries decided at these candles (every guard let them in)."""
        names = [kind.type for kind, _ in rules.guards] + ["max_open_positions", "daily_loss_limit"]
        found = signal_states(rules.plan, series, frame, entry_decisions)
        return [{**state, "guards": dict.fromkeys(names, True)} for state in found]

    compiled = use_compiled and run_compiled(
        rules, config, candles, frame, atr, decision_ms, first, states, progress
    )
    if not compiled:
        candidates = np.flatnonzero(frame.long_entry | frame.short_entry)
        candidates = candidates[(candidates >= first) & (candidates < n - 1)]
        trades = _loop(
            rules, candles, frame, atr, config, candidates.tolist(), decision_ms, progress
        )
        found = signal_states(rules.plan, series, frame, [t.entry_index - 1 for t in trades])
        for trade, state in zip(trades, found, strict=True):
            trade.signal_state = {**state, **trade.signal_state}
        totals = trade_totals(trades, start, end)
        entry_i = np.array([t.entry_index for t in trades], dtype=np.int64)
        exit_i = np.array([t.exit_index for t in trades], dtype=np.int64)
        signed_qty = np.array([float(t.quantity) * (1 if t.side == "long" else -1) for t in trades])
        money = np.array(
            [[float(t.pnl), float(t.entry_fee), float(t.entry_price)] for t in trades]
        ).reshape(-1, 3)
    else:
        trades, columns = compiled
        totals = columns.totals(candles.open_time_ms, start, end) or trade_totals(
            trades, start, end
        )
        entry_i, exit_i = columns.rows[:, C_ENTRY], columns.rows[:, C_EXIT]
        floats = columns.floats()
        signed_qty = floats[:, 3] * columns.rows[:, C_SIDE]
        money = floats  # its 4th column (the quantity) the curve does not read
    if progress is not None:
        progress(1.0)
    equity = equity_curve(
        candles.close, entry_i, exit_i, signed_qty, money, float(config.initial_equity)
    )
    kpis = kpis_from_totals(totals, decision_ms, equity, config.initial_equity)
    return BacktestResult(template.name, config, trades, decision_ms, equity, kpis, n, rules.warmup)


def _loop(
    rules: Rules,
    candles: Candles,
    frame: MarketFrame,
    atr: np.ndarray,
    config: BacktestConfig,
    candidates: list[int],
    decision_ms: np.ndarray,
    progress: Progress | None,
) -> list[Trade]:
    """The Python trade loop: every decision through ``Rules.entry``, money in Decimal."""
    n = len(candles.close)
    fills = _Fills(rules, candles, frame, atr, config)
    account = Account(config.initial_equity)
    trades: list[Trade] = []
    next_free, k, reported = 0, 0, 0.0
    long_entry = frame.long_entry
    while True:
        k = bisect_left(candidates, next_free, k)
        if k >= len(candidates):
            break
        i = candidates[k]
        if progress is not None and i / n - reported >= 0.01:
            reported = i / n
            progress(reported)
        now = fills.open_time(i) + fills.tf
        decision = rules.entry(
            ENTER_LONG if long_entry[i] else ENTER_SHORT,
            account.state(now),
            now,
            fills.close(i),
            fills.atr(i),
        )
        if decision.action not in SIDES:
            if decision.reason.startswith("guard:") and decision.until_ms is None:
                break  # flat and the account no longer changes: the block is permanent
            lift = 0 if decision.until_ms is None else decision.until_ms
            next_free = max(i + 1, int(np.searchsorted(decision_ms, lift)))
            continue
        trade = fills.trade(i, decision)
        trades.append(trade)
        account.close(trade)
        next_free = trade.exit_index + 1
    return trades


class _Fills:
    """Turns an entry decision into a closed trade: fill prices, the exit kernel, fees."""

    def __init__(self, rules: Rules, candles: Candles, frame, atr, config: BacktestConfig):
        self.rules, self.candles, self.frame, self.config = rules, candles, frame, config
        self.tf = rules.template.timeframe_ms
        # ``.item`` returns a Python scalar: cheaper per trade than numpy scalars, and
        # cheaper overall than converting whole columns to lists
        self.open = candles.open.item
        self.close = candles.close.item
        self.open_time = candles.open_time_ms.item
        self.atr = atr.item
        self.slip = config.slippage_bps / Decimal(10_000)

    def _price_at(self, ms: int) -> Decimal:
        """The open of the candle that starts at or contains `ms` (a funding time)."""
        i = int(np.searchsorted(self.candles.open_time_ms, ms, side="right")) - 1
        return price(self.open(max(i, 0)))

    def trade(self, i: int, decision: Decision) -> Trade:
        side = SIDES[decision.action]
        c, cfg = self.candles, self.config
        entry_price = market_fill(price(self.open(i + 1)), side, self.slip, closing=False)
        opposite = self.frame.short_signal if side > 0 else self.frame.long_signal
        check = self.rules.manage_new(
            c.open, c.high, c.low, opposite, i + 1, side, float(entry_price), self.atr(i)
        )
        if check.index < 0 or math.isnan(check.price):
            e = len(c.close) - 1
            reason, raw = "end_of_data", self.close(e)
            exit_time = self.open_time(e) + self.tf
        else:
            e, reason, raw = check.index, check.reason, check.price
            # a level is known to be hit by the close of the candle that touched it
            exit_time = self.open_time(e) + (self.tf if reason in LEVEL_REASONS else 0)
        exit_price = market_fill(price(raw), side, self.slip, closing=True)
        qty = decision.quantity
        entry_fee = qty * entry_price * cfg.taker_fee
        fees = entry_fee + qty * exit_price * cfg.taker_fee
        if cfg.funding_rate:
            entry_ms = self.open_time(i + 1)
            fees += funding_cost(side, qty, entry_ms, exit_time, cfg.funding_rate, self._price_at)
        if side > 0:
            best, worst = max(check.best, raw), min(check.worst, raw)
        else:
            best, worst = min(check.best, raw), max(check.worst, raw)
        return Trade(
            side="long" if side > 0 else "short",
            quantity=qty,
            entry_index=i + 1,
            entry_time_ms=self.open_time(i + 1),
            entry_price=entry_price,
            exit_index=e,
            exit_time_ms=exit_time,
            exit_price=exit_price,
            exit_reason=reason,
            entry_fee=entry_fee,
            fees=fees,
            pnl=side * qty * (exit_price - entry_price) - fees,
            mfe=max(_ZERO, side * qty * (price(best) - entry_price)),
            mae=max(_ZERO, side * qty * (entry_price - price(worst))),
            signal_state=decision.signal_state,  # the market part is added after the loop
        )
