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
"""

from __future__ import annotations

import gc
import math
from bisect import bisect_left
from collections.abc import Callable
from decimal import Decimal

import numpy as np

from strategy.backtest.funding import funding_cost
from strategy.backtest.level_fills import LEVEL_REASONS, market_fill
from strategy.backtest.result import BacktestConfig, BacktestResult, Trade
from strategy.components.frame import signal_states
from strategy.components.state import AccountState
from strategy.decision import ENTER_LONG, ENTER_SHORT, SIDES, Decision, Rules, price
from strategy.indicators import Candles
from strategy.kpis import DAY_MS, compute_kpis
from strategy.template.model import Template

Progress = Callable[[float], None]
_ZERO = Decimal(0)


class _Account:
    """Closed-trade bookkeeping the guards read."""

    def __init__(self, initial: Decimal) -> None:
        self.equity = initial
        self.peak = initial
        self.day = -1
        self.day_pnl = Decimal(0)
        self.last_loss_exit_ms: int | None = None
        self._state: AccountState | None = None  # valid until a trade closes or a day starts

    def state(self, now_ms: int) -> AccountState:
        if now_ms // DAY_MS != self.day:
            self.day, self.day_pnl, self._state = now_ms // DAY_MS, Decimal(0), None
        if self._state is None:
            self._state = AccountState(
                equity=self.equity,
                peak_equity=self.peak,
                day_start_equity=self.equity - self.day_pnl,
                day_realized_pnl=self.day_pnl,
                open_positions=0,
                last_loss_exit_ms=self.last_loss_exit_ms,
            )
        return self._state

    def close(self, trade: Trade) -> None:
        self._state = None
        self.equity += trade.pnl
        self.peak = max(self.peak, self.equity)
        if trade.exit_time_ms // DAY_MS != self.day:
            self.day, self.day_pnl = trade.exit_time_ms // DAY_MS, Decimal(0)
        self.day_pnl += trade.pnl
        if trade.pnl < 0:
            self.last_loss_exit_ms = trade.exit_time_ms


def run_backtest(
    template: Template,
    candles: Candles,
    config: BacktestConfig | None = None,
    progress: Progress | None = None,
) -> BacktestResult:
    """Backtest ``template`` over ``candles`` (oldest first); see the module docstring."""
    gc_was_enabled = gc.isenabled()
    gc.disable()  # many small acyclic objects: collection passes would cost ~40% here
    try:
        return _run(template, candles, config or BacktestConfig(), progress)
    finally:
        if gc_was_enabled:
            gc.enable()


def _run(
    template: Template, candles: Candles, config: BacktestConfig, progress: Progress | None
) -> BacktestResult:
    rules = Rules(template, config.qty_step)
    n = len(candles.close)
    series = {
        "open": candles.open,
        "high": candles.high,
        "low": candles.low,
        "close": candles.close,
        "volume": candles.volume,
        "spread_bps": np.full(n, float(config.spread_bps)),
        **rules.plan.batch(candles),
    }
    decision_ms = candles.open_time_ms + template.timeframe_ms
    frame = rules.frame(series, decision_ms)
    atr = series[rules.atr_series] if rules.atr_series else np.full(n, np.nan)  # for atr_stop
    candidates = np.flatnonzero(frame.long_entry | frame.short_entry)
    candidates = candidates[(candidates >= rules.warmup - 1) & (candidates < n - 1)].tolist()
    fills = _Fills(rules, candles, frame, atr, config)

    account = _Account(config.initial_equity)
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
    if progress is not None:
        progress(1.0)
    states = signal_states(rules.plan, series, frame, [t.entry_index - 1 for t in trades])
    for trade, state in zip(trades, states, strict=True):
        trade.signal_state = {**state, **trade.signal_state}

    equity = _equity_curve(candles, trades, float(config.initial_equity))
    start = int(candles.open_time_ms[0]) if n else 0
    end = int(decision_ms[-1]) if n else 0
    kpis = compute_kpis(trades, decision_ms, equity, config.initial_equity, start, end)
    return BacktestResult(template.name, config, trades, decision_ms, equity, kpis, n, rules.warmup)


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


def _equity_curve(candles: Candles, trades: list[Trade], initial: float) -> np.ndarray:
    """Equity at each candle's close: realized cash plus the open position marked to close.

    A position is marked from its entry candle to the candle before its exit candle; by the
    close of the exit candle its PnL is realized.  Positions never overlap.
    """
    n = len(candles.close)
    realized = np.zeros(n)
    if not trades:
        return realized + initial
    entry_i = np.array([t.entry_index for t in trades], dtype=np.int64)
    exit_i = np.array([t.exit_index for t in trades], dtype=np.int64)
    np.add.at(realized, exit_i, [float(t.pnl) for t in trades])
    signed_qty = np.array([float(t.quantity) * (1 if t.side == "long" else -1) for t in trades])
    entry_px = np.array([float(t.entry_price) for t in trades])
    entry_fee = np.array([float(t.entry_fee) for t in trades])
    lengths = exit_i - entry_i
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    bars = np.repeat(entry_i, lengths) + np.arange(lengths.sum()) - first
    unrealized = np.zeros(n)
    unrealized[bars] = np.repeat(signed_qty, lengths) * (
        candles.close[bars] - np.repeat(entry_px, lengths)
    ) - np.repeat(entry_fee, lengths)
    return initial + np.cumsum(realized) + unrealized
