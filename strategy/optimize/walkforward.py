"""Walk-forward validation: optimise on a window, test the winner on the next, roll forward.

A fold is a training window followed by a test window of later candles.  Invariants, checked
by :func:`folds` and its tests:

* a fold's test window starts at or after the end of its training window (no candle is
  both trained on and tested on);
* test windows of successive folds do not overlap (``step >= test``), so every
  out-of-sample candle is counted once.

Each test window is backtested on its own candles only (its first candles warm the
indicators up), so nothing from the training window reaches the out-of-sample result.

**Collapse rule** (also in docs/strategy.md): the walk-forward efficiency is the
out-of-sample return per candle divided by the in-sample return per candle, both summed
over folds.  The out-of-sample result *collapses* — and the command warns — when the
in-sample return is positive and either the efficiency is below ``COLLAPSE_EFFICIENCY``
(0.5) or the out-of-sample return is not positive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strategy.backtest import BacktestConfig, run_backtest
from strategy.indicators import Candles
from strategy.kpis import Kpis
from strategy.optimize.params import ParamSpec, with_values
from strategy.optimize.search import search
from strategy.template import validate_template

COLLAPSE_EFFICIENCY = 0.5
FoldProgress = Callable[[int, int, int, int], None]  # (fold, folds, points done, points)


@dataclass(frozen=True)
class Fold:
    """Candle index ranges ``[start, end)`` of one training and one test window."""

    train: tuple[int, int]
    test: tuple[int, int]


def folds(candles: int, train: int, test: int, step: int | None = None,
          anchored: bool = False) -> list[Fold]:
    """The folds over ``candles`` candles: rolling (or ``anchored`` at 0) training windows of
    ``train`` candles, each followed by ``test`` candles, moving by ``step`` (default ``test``)."""
    step = test if step is None else step
    if train < 1 or test < 1:
        raise ValueError(f"train and test must be >= 1 candle, got {train} and {test}")
    if step < test:
        raise ValueError(f"step ({step}) must be >= test ({test}): test windows would overlap")
    out, start = [], 0
    while start + train + test <= candles:
        out.append(Fold((0 if anchored else start, start + train),
                        (start + train, start + train + test)))
        start += step
    if not out:
        raise ValueError(f"{candles:,} candles hold no fold of {train:,} + {test:,} candles")
    return out


@dataclass(frozen=True)
class Leader:
    """One of a fold's best points: its KPIs on the training and on the test window."""

    values: tuple
    in_sample: Kpis | None
    out_of_sample: Kpis | None


@dataclass(frozen=True)
class FoldResult:
    fold: Fold
    values: tuple | None  # the winning values on the training window (None: nothing valid)
    in_sample: Kpis | None
    out_of_sample: Kpis | None
    trials: int
    leaders: tuple[Leader, ...] = ()  # the fold's `top` best, the winner first


@dataclass(frozen=True)
class WalkForward:
    specs: list[ParamSpec]
    kpi: str
    results: list[FoldResult]

    @property
    def trials(self) -> int:
        return sum(r.trials for r in self.results)

    def _return_per_candle(self, which: str) -> float:
        total = 0.0
        for r in self.results:
            kpis = r.in_sample if which == "in" else r.out_of_sample
            start, end = r.fold.train if which == "in" else r.fold.test
            if kpis is not None:
                total += float(kpis.return_pct) / (end - start)
        return total

    @property
    def efficiency(self) -> float | None:
        """Out-of-sample return per candle / in-sample return per candle (None if IS <= 0)."""
        inside = self._return_per_candle("in")
        return None if inside <= 0 else self._return_per_candle("out") / inside

    @property
    def collapsed(self) -> bool:
        """The collapse rule of the module docstring."""
        if self._return_per_candle("in") <= 0:
            return False
        efficiency = self.efficiency
        return self._return_per_candle("out") <= 0 or (
            efficiency is not None and efficiency < COLLAPSE_EFFICIENCY)

    def to_json(self) -> dict[str, Any]:
        def kpis(k: Kpis | None) -> dict[str, Any] | None:
            return None if k is None else k.to_json()

        return {
            "kpi": self.kpi,
            "trials": self.trials,
            "efficiency": self.efficiency,
            "collapsed": self.collapsed,
            "folds": [
                {
                    "train": list(r.fold.train),
                    "test": list(r.fold.test),
                    "best": None if r.values is None else {
                        s.name: v for s, v in zip(self.specs, r.values, strict=True)},
                    "in_sample": kpis(r.in_sample),
                    "out_of_sample": kpis(r.out_of_sample),
                    "trials": r.trials,
                }
                for r in self.results
            ],
        }


def _window(candles: Candles, start: int, end: int) -> Candles:
    return Candles(*(column[start:end] for column in candles))


def walk_forward(
    template: dict[str, Any],
    specs: list[ParamSpec],
    points: list[tuple],
    candles: Candles,
    windows: list[Fold],
    config: BacktestConfig | None = None,
    *,
    kpi: str = "net_pnl",
    workers: int | None = None,
    progress: FoldProgress | None = None,
    top: int = 1,
) -> WalkForward:
    """Search ``points`` on each training window, backtest the winner on its test window;
    with ``top`` > 1, the fold's ``top`` best points too (``FoldResult.leaders``)."""
    config = config or BacktestConfig()
    results = []
    for number, fold in enumerate(windows):
        def step(done: int, total: int, number: int = number) -> None:
            if progress is not None:
                progress(number, len(windows), done, total)

        found = search(template, specs, points, _window(candles, *fold.train), config,
                       kpi=kpi, workers=workers, progress=step)
        leaders = tuple(
            Leader(trial.values, trial.kpis, run_backtest(
                validate_template(with_values(template, specs, trial.values)),
                _window(candles, *fold.test), config).kpis)
            for trial in found.ranked[:max(1, top)] if trial.score(kpi) is not None)
        if not leaders:
            results.append(FoldResult(fold, None, None, None, found.trials))
            continue
        best = leaders[0]
        results.append(FoldResult(fold, best.values, best.in_sample, best.out_of_sample,
                                  found.trials, leaders))
    return WalkForward(specs, kpi, results)

