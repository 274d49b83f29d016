"""Grid and random search: many backtests of one template over one candle set, on every core.

Each point of the search is the base template with the searched values applied; it is
validated (a combination the validator refuses, e.g. fast >= slow, is recorded as skipped
with the reason, never run) and backtested with the same ``run_backtest`` as
``plutarc backtest``, so a point's KPIs equal a plain backtest of that template.

Work is split in contiguous chunks over worker processes (fork: the candles are shared
copy-on-write, not pickled).  Points are generated with the last parameter varying fastest,
so a chunk's points mostly share their indicators; each worker keeps the indicator series it
computed (keyed by indicator, parameters and source, for this candle set) and reuses them.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from strategy.backtest import BacktestConfig, run_backtest
from strategy.indicators import Candles
from strategy.kpis import Kpis
from strategy.optimize.params import ParamSpec, with_values
from strategy.template import TemplateError, validate_template

# KPIs a search can rank by, and whether larger is better.
RANK_KPIS: dict[str, bool] = {
    "net_pnl": True,
    "return_pct": True,
    "sharpe": True,
    "sortino": True,
    "profit_factor": True,
    "win_rate": True,
    "expectancy": True,
    "max_drawdown": False,
    "max_drawdown_pct": False,
}
CACHE_SERIES = 64  # indicator series a worker keeps (8 MB each at 1M candles)
WARM_UP_CANDLES = 2_000  # enough for a template to trade on before the pool forks
Progress = Callable[[int, int], None]  # (points done, points in all)


@dataclass(frozen=True)
class Trial:
    """One evaluated point: its values, its KPIs, or why it was skipped."""

    values: tuple
    kpis: Kpis | None
    skipped: str | None = None

    def score(self, kpi: str) -> float | None:
        return kpi_value(self.kpis, kpi)


@dataclass(frozen=True)
class SearchResult:
    """Every trial of a search, ranked; ``trials`` is how many points were evaluated, the
    number to judge the best one against (the more tried, the likelier a lucky winner)."""

    specs: list[ParamSpec]
    kpi: str
    ranked: list[Trial]  # best first; skipped and KPI-less points last
    trials: int

    @property
    def best(self) -> Trial | None:
        first = self.ranked[0] if self.ranked else None
        return first if first is not None and first.score(self.kpi) is not None else None

    def best_template(self, template: dict[str, Any]) -> dict[str, Any] | None:
        best = self.best
        return None if best is None else with_values(template, self.specs, best.values)

    def to_json(self, top: int | None = None) -> dict[str, Any]:
        rows = []
        for trial in self.ranked[:top]:
            row: dict[str, Any] = {s.name: v for s, v in zip(self.specs, trial.values, strict=True)}
            if trial.kpis is not None:
                row["kpis"] = trial.kpis.to_json()
            if trial.skipped:
                row["skipped"] = trial.skipped
            rows.append(row)
        return {"kpi": self.kpi, "trials": self.trials, "results": rows}


def rank(trials: list[Trial], kpi: str) -> list[Trial]:
    """Best first by ``kpi``; trials without a value for it (or skipped) last, in order."""
    if kpi not in RANK_KPIS:
        raise ValueError(f"cannot rank by {kpi!r}; choose one of {', '.join(RANK_KPIS)}")
    sign = 1.0 if RANK_KPIS[kpi] else -1.0
    scored = [t for t in trials if t.score(kpi) is not None]
    rest = [t for t in trials if t.score(kpi) is None]
    scored.sort(key=lambda t: -sign * t.score(kpi))  # stable: ties keep grid order
    return scored + rest


# Worker-process state, set once per process by ``_init`` (fork: inherited, not pickled).
_JOB: dict[str, Any] = {}


def _init(template: dict, specs: list[ParamSpec], candles: Candles, config: BacktestConfig) -> None:
    _JOB.update(template=template, specs=specs, candles=candles, config=config, cache={})


def _evaluate(points: Sequence[tuple]) -> list[Trial]:
    template, specs, candles, config = (_JOB[k] for k in ("template", "specs", "candles", "config"))
    cache: dict = _JOB["cache"]
    out = []
    for values in points:
        try:
            tpl = validate_template(with_values(template, specs, values))
        except TemplateError as exc:
            out.append(Trial(values, None, skipped=str(exc)))
            continue
        if len(cache) > CACHE_SERIES:
            cache.clear()
        result = run_backtest(tpl, candles, config, indicator_cache=cache)
        out.append(Trial(values, result.kpis))
    return out


def _warm_up(args: tuple, point: tuple) -> None:
    """Run one point over a few candles in this process before forking: the workers then
    inherit every compiled function loaded, instead of each loading them from numba's cache
    (about a second per worker, more than a whole 100,000-candle backtest takes now)."""
    template, specs, candles, config = args
    _init(template, specs, Candles(*(c[:WARM_UP_CANDLES] for c in candles)), config)
    _evaluate([point])
    _JOB.clear()


def _chunks(points: list[tuple], workers: int) -> list[list[tuple]]:
    """Contiguous chunks, several per worker so that progress moves and load balances."""
    size = max(1, math.ceil(len(points) / (workers * 8)))
    return [points[i : i + size] for i in range(0, len(points), size)]


def search(
    template: dict[str, Any],
    specs: list[ParamSpec],
    points: list[tuple],
    candles: Candles,
    config: BacktestConfig | None = None,
    *,
    kpi: str = "net_pnl",
    workers: int | None = None,
    progress: Progress | None = None,
) -> SearchResult:
    """Backtest every point and rank them by ``kpi``; ``workers`` defaults to every core."""
    if kpi not in RANK_KPIS:
        raise ValueError(f"cannot rank by {kpi!r}; choose one of {', '.join(RANK_KPIS)}")
    config = config or BacktestConfig()
    workers = max(1, min(workers or os.cpu_count() or 1, len(points) or 1))
    results: dict[tuple, Trial] = {}
    args = (template, specs, candles, config)
    if workers == 1:
        _init(*args)
        for chunk in _chunks(points, 1):
            for trial in _evaluate(chunk):
                results[trial.values] = trial
            if progress is not None:
                progress(len(results), len(points))
    else:
        _warm_up(args, points[0])
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init,
                                 initargs=args) as pool:
            futures = [pool.submit(_evaluate, chunk) for chunk in _chunks(points, workers)]
            for future in as_completed(futures):
                for trial in future.result():
                    results[trial.values] = trial
                if progress is not None:
                    progress(len(results), len(points))
    trials = [results[p] for p in points]
    return SearchResult(specs, kpi, rank(trials, kpi), len(trials))


def kpi_value(kpis: Kpis | None, kpi: str) -> float | None:
    """A KPI as a float (``None`` when absent), for tables and comparisons."""
    if kpis is None:
        return None
    value = getattr(kpis, kpi)
    return float(value) if isinstance(value, Decimal | int | float) else None
