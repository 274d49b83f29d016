"""The live evaluator: streaming indicator state plus the template's rules, one candle at a time.

Contract (what the bot relies on):

* Call :meth:`Evaluator.on_candle` once per **closed** candle, in order, with the account and
  the open position of the template's symbol (or None).  It returns a :class:`Decision`.
* Entries (``enter_long``/``enter_short``) are meant to fill at the next candle's open;
  the position is then passed back on the next call.  The position's first candle is the
  one it was opened in, and its stop/target are checked inside that candle already.
* Exits are evaluated on every candle, also while paused (``entries_enabled=False``) and
  outside sessions.  An exit with ``exit_price`` means the candle touched a stop/target
  level: the exchange-side order at that level (``stop_price``/``target_price`` of the
  previous decision) has filled, or the bot exits at market if it placed none.  An exit
  without ``exit_price`` (time exit, opposite signal) is at market now.
* No entry is decided on the candle in which a position closed (at its open or through a
  level inside it): the bot passes ``position=None`` and gets ``hold``.
* Until ``warmup`` candles have been seen the answer is ``warming_up`` (a position's stops
  and targets are still checked meanwhile, and an exit is returned if one is touched).  To hot-swap a
  template (or restart), build a new Evaluator and :meth:`warm` it with the last
  ``parity_history`` candles, then switch: it then decides as one that never stopped.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace
from decimal import Decimal
from typing import NamedTuple

import numpy as np

from strategy.components.exits import kernel
from strategy.components.frame import signal_states
from strategy.components.plan import CANDLE_SERIES
from strategy.components.state import AccountState, PositionState
from strategy.decision import ENTER_LONG, ENTER_SHORT, EXIT, HOLD, WARMING_UP, Decision, Rules
from strategy.decision import price as to_price
from strategy.indicators import Candles
from strategy.template.model import Template


class Candle(NamedTuple):
    """One closed candle (floats: indicator math input)."""

    open_time_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class _Tracker:
    """Exit bookkeeping of the position the evaluator last saw."""

    __slots__ = ("entry_time_ms", "exit_at_level", "state")

    def __init__(self, entry_time_ms: int, state: np.ndarray) -> None:
        self.entry_time_ms = entry_time_ms
        self.state = state
        self.exit_at_level: bool | None = None  # set once an exit was decided


class Evaluator:
    """Streaming decisions for one template; see the module docstring."""

    def __init__(self, template: Template, qty_step: Decimal | None = None) -> None:
        self.rules = Rules(template, qty_step)
        self.template = template
        self._streams = self.rules.plan.streams()
        width = self.rules.plan.history + 1
        names = (*CANDLE_SERIES, *self.rules.plan.needs)
        self._window: dict[str, deque[float]] = {n: deque(maxlen=width) for n in names}
        self._times: deque[int] = deque(maxlen=width)
        self.candles_seen = 0
        self._tracker: _Tracker | None = None
        self._entry_atr = math.nan

    @property
    def warmup(self) -> int:
        """Closed candles needed before the first decision."""
        return self.rules.warmup

    @property
    def parity_history(self) -> int:
        """Closed candles to warm on so that decisions equal those of an evaluator (or a
        backtest) that started long before: ``warmup`` plus the indicators' settle
        (``strategy.indicators.memory``).  Fewer still decide from ``warmup`` on, but
        recursive indicators (EMA, MACD, Wilder, SuperTrend) then have not converged."""
        return self.rules.warmup + self.rules.plan.settle

    def warm(self, candles: Candles) -> None:
        """Feed history without deciding (e.g. before a hot-swap)."""
        for row in zip(*candles, strict=True):
            self._push(Candle(*row), float("nan"))

    def _push(self, c: Candle, spread_bps: float) -> None:
        w = self._window
        for name, value in zip(CANDLE_SERIES, (*c[1:], spread_bps), strict=True):
            w[name].append(float(value))
        for name, value in self._streams.update(
            int(c.open_time_ms), c.open, c.high, c.low, c.close, c.volume
        ):
            w[name].append(value)
        self._times.append(int(c.open_time_ms))
        self.candles_seen += 1

    def on_candle(
        self,
        candle: Candle,
        account: AccountState,
        position: PositionState | None,
        *,
        entries_enabled: bool = True,
        spread_bps: float = float("nan"),
        last_exit_candle_ms: int | None = None,
    ) -> Decision:
        """Decide after ``candle`` closed; ``spread_bps`` feeds the spread filter.

        ``last_exit_candle_ms``: open time of the candle in which the last position closed,
        if the caller knows it; an evaluator that did not see that position (a restart, a
        hot-swap) then still decides no entry on that candle.
        """
        self._push(candle, spread_bps)
        series = {name: np.array(values) for name, values in self._window.items()}
        last = len(self._times) - 1
        if self.candles_seen < self.warmup:
            # no signals yet, but a position's stops and targets are still watched
            if position is not None:
                no_signal = np.zeros(last + 1, dtype=np.bool_)
                d = self._manage(series, no_signal, no_signal, last, position, {})
                if d.action == EXIT:
                    return d
            return Decision(WARMING_UP, reason=f"{self.candles_seen}/{self.warmup} candles")
        decision_ms = np.array(self._times, dtype=np.int64) + self.template.timeframe_ms
        frame = self.rules.frame(series, decision_ms)

        def state() -> dict:
            return signal_states(self.rules.plan, series, frame, np.array([last]))[0]

        if position is not None:
            return self._manage(
                series, frame.long_signal, frame.short_signal, last, position, state()
            )
        tracker, self._tracker = self._tracker, None
        closed_now = tracker is not None and not tracker.exit_at_level
        if closed_now or last_exit_candle_ms == candle.open_time_ms:
            return Decision(HOLD, reason="position_closed_this_candle", signal_state=state())
        atr = self._atr(series)
        for action, allowed in ((ENTER_LONG, frame.long_entry), (ENTER_SHORT, frame.short_entry)):
            if allowed[last]:
                self._entry_atr = atr
                d = self.rules.entry(
                    action,
                    account,
                    int(decision_ms[last]),
                    float(candle.close),
                    atr,
                    entries_enabled,
                )
                return replace(
                    d,
                    signal_state={**state(), **d.signal_state},
                    entry_atr=None if math.isnan(atr) else atr,
                )
        return Decision(HOLD, reason="no_entry", signal_state=state())

    def _atr(self, series: dict[str, np.ndarray]) -> float:
        """The atr_stop's ATR at the latest candle (NaN without an atr_stop exit)."""
        return float(series[self.rules.atr_series][-1]) if self.rules.atr_series else math.nan

    def _manage(
        self, series, long_signal, short_signal, last, position: PositionState, state: dict
    ) -> Decision:
        t = self._tracker
        if t is None or t.entry_time_ms != position.entry_time_ms:
            side = 1 if position.side == "long" else -1
            # best_price covers completed candles since entry: none on the entry candle
            resumed = position.best_price is not None and position.entry_time_ms < self._times[-1]
            best = float(position.best_price) if resumed else None
            # the ATR of the entry decision; after a restart the caller's copy of it, else
            # the latest one
            atr = self._entry_atr
            if math.isnan(atr):
                atr = self._atr(series) if position.entry_atr is None else position.entry_atr
            st = kernel.new_state(side, float(position.entry_price), atr, best)
            t = self._tracker = _Tracker(position.entry_time_ms, st)
            self._entry_atr = math.nan
        opposite = short_signal if t.state[kernel.ST_SIDE] > 0 else long_signal
        bar = slice(last, last + 1)
        check = self.rules.manage(
            series["open"][bar],
            series["high"][bar],
            series["low"][bar],
            opposite[bar],
            0,
            t.state,
        )
        if check.index >= 0:
            t.exit_at_level = check.index == 0
            return Decision(
                EXIT, reason=check.reason, exit_price=to_price(check.price), signal_state=state
            )
        stop, reason, target = self.rules.levels(t.state)
        return Decision(
            HOLD, stop_price=stop, target_price=target, stop_reason=reason, signal_state=state
        )

    def entry_levels(
        self, side: str, entry_price: Decimal, entry_atr: float | None
    ) -> tuple[Decimal | None, str | None, Decimal | None]:
        """(stop, its exit, target) of a ``side`` position just filled at ``entry_price``:
        what the bot sets on the exchange at once, before the next candle's decision."""
        atr = math.nan if entry_atr is None else entry_atr
        st = kernel.new_state(1 if side == "long" else -1, float(entry_price), atr)
        return self.rules.levels(st)
