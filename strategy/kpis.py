"""KPI definitions shared by the backtester and the backend (one place, one meaning).

Inputs: closed trades (anything with ``pnl``, ``fees``, ``entry_time_ms``, ``exit_time_ms``;
``pnl`` is net of fees), an equity series (times in UTC ms, values in quote currency, oldest
first), the initial equity and the measured period ``[start_ms, end_ms)``.

* ``net_pnl``        sum of trade PnL (after fees)
* ``return_pct``     net_pnl / initial_equity x 100
* ``win_rate``       trades with pnl > 0 / trade count (0..1)
* ``profit_factor``  sum of winning pnl / |sum of losing pnl|; None without losing trades
* ``expectancy``     net_pnl / trade count (average PnL per trade)
* ``sharpe``         equity sampled at the end of each UTC day (the series' first value is
                     the baseline); daily simple returns r; mean(r) / stdev(r, ddof=1) x
                     sqrt(365); risk-free rate 0; None with fewer than 2 returns or no variance
* ``sortino``        mean(r) / sqrt(mean(min(r, 0)^2)) x sqrt(365); None without a losing day
* ``max_drawdown``   largest peak-to-trough fall of the equity series, in quote currency;
  ``max_drawdown_pct`` the largest fall relative to its running peak, in percent
* ``avg_hold_ms``    mean of exit_time_ms - entry_time_ms
* ``fees``           sum of trade fees
* ``trade_count``    number of closed trades
* ``exposure``       time in a position / (end_ms - start_ms), 0..1 (overlapping positions
                     of one bot are counted once)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

import numpy as np
from numba import njit

DAY_MS = 86_400_000
PERIODS_PER_YEAR = 365


class TradeLike(Protocol):
    pnl: Decimal
    fees: Decimal
    entry_time_ms: int
    exit_time_ms: int


@dataclass(frozen=True, slots=True)
class Kpis:
    net_pnl: Decimal
    return_pct: Decimal
    win_rate: float | None
    profit_factor: float | None
    expectancy: Decimal | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: Decimal
    max_drawdown_pct: float
    avg_hold_ms: float | None
    fees: Decimal
    trade_count: int
    exposure: float

    def to_json(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}


def period_returns(times_ms: np.ndarray, values: np.ndarray, period_ms: int = DAY_MS) -> np.ndarray:
    """Simple returns between the last equity values of consecutive periods."""
    if len(values) == 0:
        return np.empty(0)
    bucket = np.asarray(times_ms, dtype=np.int64) // period_ms
    last = np.flatnonzero(np.append(bucket[1:] != bucket[:-1], True))
    closes = np.concatenate(([values[0]], values[last]))
    return closes[1:] / closes[:-1] - 1.0


def sharpe_sortino(returns: np.ndarray) -> tuple[float | None, float | None]:
    if len(returns) < 2:
        return None, None
    scale = math.sqrt(PERIODS_PER_YEAR)
    mean = float(returns.mean())
    std = float(returns.std(ddof=1))
    sharpe = mean / std * scale if std > 0 else None
    downside = float(np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2)))
    sortino = mean / downside * scale if downside > 0 else None
    return sharpe, sortino


def drawdown(values: np.ndarray) -> tuple[float, float]:
    """(largest fall in currency, largest fall in percent of the running peak)."""
    if len(values) == 0:
        return 0.0, 0.0
    fall, pct = _drawdown(np.asarray(values, dtype=np.float64))
    return float(fall), float(pct)


@njit(cache=True)
def _drawdown(values: np.ndarray) -> tuple[float, float]:
    """One pass of: peak = running maximum (NaN once a NaN is seen, as numpy's), fall = peak -
    value, pct = fall / peak x 100 where peak > 0 else 0; the maxima (NaN if any is NaN)."""
    peak = values[0]
    top_fall, top_pct = -np.inf, -np.inf
    for i in range(values.shape[0]):
        v = values[i]
        if np.isnan(peak) or np.isnan(v):
            peak = np.nan
        elif v > peak:
            peak = v
        fall = peak - v
        pct = fall / peak * 100.0 if peak > 0 else 0.0
        top_fall = np.nan if (np.isnan(fall) or np.isnan(top_fall)) else max(top_fall, fall)
        top_pct = np.nan if (np.isnan(pct) or np.isnan(top_pct)) else max(top_pct, pct)
    return top_fall, top_pct


def _exposure(trades: Sequence[TradeLike], start_ms: int, end_ms: int) -> float:
    if end_ms <= start_ms:
        return 0.0
    covered, reach = 0, start_ms
    for t in sorted(trades, key=lambda t: t.entry_time_ms):
        lo, hi = max(t.entry_time_ms, reach), min(t.exit_time_ms, end_ms)
        if hi > lo:
            covered += hi - lo
            reach = hi
    return covered / (end_ms - start_ms)


class TradeTotals(NamedTuple):
    """What the KPIs read from the trades: exact sums (``Decimal(0)`` + each, in order)."""

    count: int
    net: Decimal  # every pnl
    wins: int  # trades with pnl > 0
    gross_win: Decimal  # pnl > 0
    gross_loss: Decimal  # -(pnl < 0), >= 0
    fees: Decimal
    hold_ms: int  # sum of exit_time_ms - entry_time_ms
    exposure: float


def trade_totals(trades: Sequence[TradeLike], start_ms: int, end_ms: int) -> TradeTotals:
    pnls = [t.pnl for t in trades]
    wins = [p for p in pnls if p > 0]
    return TradeTotals(
        count=len(trades),
        net=sum(pnls, Decimal(0)),
        wins=len(wins),
        gross_win=sum(wins, Decimal(0)),
        gross_loss=-sum((p for p in pnls if p < 0), Decimal(0)),
        fees=sum((t.fees for t in trades), Decimal(0)),
        hold_ms=sum(t.exit_time_ms - t.entry_time_ms for t in trades),
        exposure=_exposure(trades, start_ms, end_ms),
    )


def compute_kpis(
    trades: Sequence[TradeLike],
    equity_times_ms: Sequence[int] | np.ndarray,
    equity_values: Sequence[Any] | np.ndarray,
    initial_equity: Decimal,
    start_ms: int,
    end_ms: int,
) -> Kpis:
    """All KPIs; see the module docstring for each definition."""
    totals = trade_totals(trades, start_ms, end_ms)
    return kpis_from_totals(totals, equity_times_ms, equity_values, initial_equity)


def kpis_from_totals(
    totals: TradeTotals,
    equity_times_ms: Sequence[int] | np.ndarray,
    equity_values: Sequence[Any] | np.ndarray,
    initial_equity: Decimal,
) -> Kpis:
    """The KPIs from trade totals (``trade_totals``, or the compiled backtester's own)."""
    values = np.asarray(equity_values, dtype=np.float64)
    sharpe, sortino = sharpe_sortino(period_returns(np.asarray(equity_times_ms), values))
    dd, dd_pct = drawdown(values)
    n, net, gross_loss = totals.count, totals.net, totals.gross_loss
    return Kpis(
        net_pnl=net,
        return_pct=net / initial_equity * 100 if initial_equity else Decimal(0),
        win_rate=totals.wins / n if n else None,
        profit_factor=float(totals.gross_win / gross_loss) if gross_loss else None,
        expectancy=net / n if n else None,
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown=Decimal(repr(dd)),
        max_drawdown_pct=dd_pct,
        avg_hold_ms=totals.hold_ms / n if n else None,
        fees=totals.fees,
        trade_count=n,
        exposure=totals.exposure,
    )
