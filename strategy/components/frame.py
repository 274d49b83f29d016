"""The market side of a decision: signals, combined score, filters and sessions per candle.

``market_frame`` runs on aligned series of any length — a few candles in the live evaluator,
the whole history in the backtester — and never looks past element ``i`` to produce
element ``i``.  Everything here depends on candles only, not on the account.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from strategy.components.combination import combine
from strategy.components.plan import CANDLE_SERIES, Bound, Plan
from strategy.sessions import in_session


@dataclass(frozen=True, slots=True)
class MarketFrame:
    """Per-candle arrays; ``long_entry``/``short_entry`` already include sessions and filters."""

    scores: np.ndarray  # (signals, n)
    combined: np.ndarray  # (n,)
    long_signal: np.ndarray  # combined >= threshold
    short_signal: np.ndarray  # combined <= -threshold
    filter_pass: np.ndarray  # (filters, n) bool
    session: np.ndarray  # (n,) bool
    long_entry: np.ndarray
    short_entry: np.ndarray


def _local(bound: Bound, series: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    local = {name: series[name] for name in CANDLE_SERIES}
    local.update({label: series[name] for label, name in bound.labels.items()})
    return local


def market_frame(
    plan: Plan,
    series: dict[str, np.ndarray],
    decision_ms: np.ndarray,
    *,
    mode: str,
    threshold: float,
    long_enabled: bool,
    short_enabled: bool,
    session_mask: np.ndarray | None,
) -> MarketFrame:
    """Evaluate every signal and filter over ``series`` (candle columns + indicator series)."""
    n = decision_ms.shape[0]
    scores = np.empty((len(plan.signals), n))
    for row, b in enumerate(plan.signals):
        scores[row] = b.kind.compute(_local(b, series), b.spec.params)
    weights = np.array([b.spec.weight for b in plan.signals])
    combined = combine(mode, scores, weights, threshold)
    filter_pass = np.ones((len(plan.filters), n), dtype=np.bool_)
    for row, b in enumerate(plan.filters):
        filter_pass[row] = b.kind.compute(_local(b, series), b.spec.params)
    session = in_session(session_mask, decision_ms)
    allowed = session & filter_pass.all(axis=0)
    long_signal = combined >= threshold
    short_signal = combined <= -threshold
    return MarketFrame(
        scores=scores,
        combined=combined,
        long_signal=long_signal,
        short_signal=short_signal,
        filter_pass=filter_pass,
        session=session,
        long_entry=long_signal & allowed if long_enabled else np.zeros(n, dtype=np.bool_),
        short_entry=short_signal & allowed if short_enabled else np.zeros(n, dtype=np.bool_),
    )


def _column(values: np.ndarray) -> list[Any]:
    out = values.tolist()
    if values.dtype.kind == "f" and np.isnan(values).any():
        out = [None if math.isnan(v) else v for v in out]
    return out


def signal_states(
    plan: Plan, series: dict[str, np.ndarray], frame: MarketFrame, indices: np.ndarray
) -> list[dict[str, Any]]:
    """JSON-able per-component outputs (the "signal state") at each candle of ``indices``.

    Gathers every column at all indices at once, so a backtest with many trades pays one
    numpy gather per output instead of one lookup per trade and output.
    """
    idx = np.asarray(indices, dtype=np.int64)

    def outputs(b: Bound) -> list[tuple[str, list[Any]]]:
        cols = []
        for o in b.kind.outputs:
            name = b.labels.get(o, o if o in CANDLE_SERIES else None)
            if name is not None:
                cols.append((o, _column(series[name][idx])))
        return cols

    signals = [(b, _column(frame.scores[r, idx]), outputs(b)) for r, b in enumerate(plan.signals)]
    filters = [
        (b, frame.filter_pass[r, idx].tolist(), outputs(b)) for r, b in enumerate(plan.filters)
    ]
    score = _column(frame.combined[idx])
    long_signal = frame.long_signal[idx].tolist()
    short_signal = frame.short_signal[idx].tolist()
    session = frame.session[idx].tolist()
    return [
        {
            "score": score[k],
            "long_signal": long_signal[k],
            "short_signal": short_signal[k],
            "session": session[k],
            "signals": [
                {
                    "type": b.spec.type,
                    "weight": b.spec.weight,
                    "score": sc[k],
                    "values": {o: col[k] for o, col in cols},
                }
                for b, sc, cols in signals
            ],
            "filters": [
                {"type": b.spec.type, "pass": ok[k], "values": {o: col[k] for o, col in cols}}
                for b, ok, cols in filters
            ],
        }
        for k in range(len(idx))
    ]
