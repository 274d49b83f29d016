"""The position kernel: walks candles of an open position and finds the first exit.

One numba function serves both callers: the live evaluator runs it over the one candle that
just closed; the backtester runs it from the entry candle until an exit.  Per candle ``b``:

1. stop and target levels are computed from the state left by the previous close
   (entry price, best price so far, ATR at entry) — every exit module's ``level``;
2. inside the candle: stop first (if both stop and target could have been touched, the stop
   is assumed), filled at the stop or at the open if the candle gapped through it; then the
   target, a limit filled at the target or the better open;
3. at the close: best/worst prices and bars held are updated; time exit and opposite signal
   are checked and, if due, fill at the next candle's open (index ``b + 1``).

``cfg`` (built by :func:`exit_config`) holds the enabled exits' parameters, NaN/0 when off.
``st`` is the per-position state, updated in place (see the ``ST_*`` indices).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numba import njit

from strategy.components.exits import atr_stop, break_even, stop_loss, take_profit, trailing_stop

NONE, STOP_LOSS, TAKE_PROFIT, TRAILING_STOP, ATR_STOP, TIME_EXIT, BREAK_EVEN, OPPOSITE = range(8)
REASONS = (
    "none",
    "stop_loss",
    "take_profit",
    "trailing_stop",
    "atr_stop",
    "time_exit",
    "break_even",
    "opposite_signal",
)

# cfg indices
SL_PCT, TP_PCT, TRAIL_DIST, TRAIL_ACT, ATR_MULT, TIME_BARS, BE_TRIGGER, BE_OFFSET, OPP = range(9)
# st indices: side (+1/-1), entry price, best and worst price over completed candles,
# ATR at the entry decision, completed candles held.
ST_SIDE, ST_ENTRY, ST_BEST, ST_WORST, ST_ATR, ST_BARS = range(6)


def exit_config(exits: Sequence[tuple[str, dict[str, Any]]]) -> np.ndarray:
    """Pack (type, params) exits into the kernel's cfg vector."""
    cfg = np.full(9, np.nan)
    cfg[TIME_BARS] = 0.0
    cfg[OPP] = 0.0
    cfg[BE_OFFSET] = 0.0
    for kind, p in exits:
        if kind == "stop_loss":
            cfg[SL_PCT] = p["pct"]
        elif kind == "take_profit":
            cfg[TP_PCT] = p["pct"]
        elif kind == "trailing_stop":
            cfg[TRAIL_DIST], cfg[TRAIL_ACT] = p["distance_pct"], p["activation_pct"]
        elif kind == "atr_stop":
            cfg[ATR_MULT] = p["multiplier"]
        elif kind == "time_exit":
            cfg[TIME_BARS] = p["max_bars"]
        elif kind == "break_even":
            cfg[BE_TRIGGER], cfg[BE_OFFSET] = p["trigger_pct"], p["offset_pct"]
        elif kind == "opposite_signal":
            cfg[OPP] = 1.0
    return cfg


@njit(cache=True)
def fresh_state(side, entry, atr_at_entry, best):
    st = np.empty(6)
    st[ST_SIDE], st[ST_ENTRY], st[ST_BEST], st[ST_WORST] = side, entry, best, entry
    st[ST_ATR], st[ST_BARS] = atr_at_entry, 0.0
    return st


def new_state(
    side: int, entry: float, atr_at_entry: float, best: float | None = None
) -> np.ndarray:
    """Kernel state of a position just opened at ``entry`` (``best`` to resume one)."""
    return fresh_state(
        float(side), float(entry), float(atr_at_entry), float(entry if best is None else best)
    )


@njit(cache=True)
def _tighter(side, current, current_reason, candidate, candidate_reason):
    if np.isnan(candidate):  # this exit has no level now
        return current, current_reason
    if np.isnan(current) or side * (candidate - current) > 0:
        return candidate, candidate_reason
    return current, current_reason


@njit(cache=True)
def levels(st, cfg):
    """(stop, stop reason, target) in force for the next candle; NaN when there is none."""
    side, entry, best = st[ST_SIDE], st[ST_ENTRY], st[ST_BEST]
    stop, reason = np.nan, NONE
    if not np.isnan(cfg[SL_PCT]):
        stop, reason = _tighter(
            side, stop, reason, stop_loss.level(side, entry, cfg[SL_PCT]), STOP_LOSS
        )
    if not np.isnan(cfg[ATR_MULT]):
        stop, reason = _tighter(
            side, stop, reason, atr_stop.level(side, entry, st[ST_ATR], cfg[ATR_MULT]), ATR_STOP
        )
    if not np.isnan(cfg[BE_TRIGGER]):
        stop, reason = _tighter(
            side,
            stop,
            reason,
            break_even.level(side, entry, best, cfg[BE_TRIGGER], cfg[BE_OFFSET]),
            BREAK_EVEN,
        )
    if not np.isnan(cfg[TRAIL_DIST]):
        stop, reason = _tighter(
            side,
            stop,
            reason,
            trailing_stop.level(side, entry, best, cfg[TRAIL_DIST], cfg[TRAIL_ACT]),
            TRAILING_STOP,
        )
    target = np.nan
    if not np.isnan(cfg[TP_PCT]):
        target = take_profit.level(side, entry, cfg[TP_PCT])
    return stop, reason, target


@njit(cache=True)
def entry_levels(side, entry, atr_at_entry, cfg):
    """(stop, target) of a position about to open at ``entry``."""
    stop, _, target = levels(fresh_state(side, entry, atr_at_entry, entry), cfg)
    return stop, target


@njit(cache=True)
def scan_new(open_, high, low, opposite, start, cfg, side, entry, atr_at_entry):
    """``scan`` for a position opened at the open of ``start``; also returns its state."""
    st = fresh_state(side, entry, atr_at_entry, entry)
    index, reason, fill = scan(open_, high, low, opposite, start, cfg, st)
    return index, reason, fill, st[ST_BEST], st[ST_WORST]


@njit(cache=True)
def scan(open_, high, low, opposite, start, cfg, st):
    """Walk candles from ``start``; return (exit index, reason, fill price) or (-1, 0, NaN).

    An exit inside candle ``b`` returns ``b``; a market exit decided at the close of ``b``
    returns ``b + 1`` with that candle's open, or NaN when ``b`` is the last candle given
    (the live caller then exits at market).
    """
    n = open_.shape[0]
    side = st[ST_SIDE]
    # ``levels`` (most of the cost of a candle: ~25 ns of ~26 here) reads side, entry and ATR,
    # fixed during a scan, and the best price: it is recomputed only when the best price
    # moved, and never without a stop or target exit (then it is NaN, NONE, NaN throughout)
    has_levels = not (
        np.isnan(cfg[SL_PCT])
        and np.isnan(cfg[ATR_MULT])
        and np.isnan(cfg[BE_TRIGGER])
        and np.isnan(cfg[TRAIL_DIST])
        and np.isnan(cfg[TP_PCT])
    )
    stop, stop_reason, target = np.nan, NONE, np.nan
    levels_best, have_levels = np.nan, False
    for b in range(start, n):
        if has_levels and not (have_levels and st[ST_BEST] == levels_best):
            stop, stop_reason, target = levels(st, cfg)
            levels_best, have_levels = st[ST_BEST], True
        if side > 0:
            if low[b] <= stop:
                return b, stop_reason, min(stop, open_[b])
            if high[b] >= target:
                return b, TAKE_PROFIT, max(target, open_[b])
            st[ST_BEST] = max(st[ST_BEST], high[b])
            st[ST_WORST] = min(st[ST_WORST], low[b])
        else:
            if high[b] >= stop:
                return b, stop_reason, max(stop, open_[b])
            if low[b] <= target:
                return b, TAKE_PROFIT, min(target, open_[b])
            st[ST_BEST] = min(st[ST_BEST], low[b])
            st[ST_WORST] = max(st[ST_WORST], high[b])
        st[ST_BARS] += 1.0
        reason = NONE
        if cfg[TIME_BARS] > 0 and st[ST_BARS] >= cfg[TIME_BARS]:
            reason = TIME_EXIT
        elif cfg[OPP] > 0 and opposite[b]:
            reason = OPPOSITE
        if reason != NONE:
            return b + 1, reason, open_[b + 1] if b + 1 < n else np.nan
    return -1, NONE, np.nan
