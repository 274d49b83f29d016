"""The search process: runs `strategy.optimize.walk_forward` over the candles it is given and
sends ("progress", done, total) messages, then ("result", summary) or ("error", reason).

It is its own process group, so the pool workers it forks end with it: a thread waits on the
lifeline pipe from the API process, and anything arriving there — a cancel, or the end of the
pipe when the API process dies — kills the whole group. Nothing of a search outlives the API
process that follows it.
"""

from __future__ import annotations

import os
import signal
import threading
from multiprocessing.connection import Connection
from typing import Any

from strategy.indicators import Candles
from strategy.kpis import Kpis
from strategy.optimize import Fold, WalkForward, grid, parse_specs, sample, walk_forward
from strategy.optimize.walkforward import COLLAPSE_EFFICIENCY

NICENESS = 10  # a search is batch work: the API's requests come first
WORKERS_ENV = "PLUTARC_OPTIMIZE_WORKERS"  # worker processes per search (default: every core)


def points_of(template: dict[str, Any], spec: dict[str, Any]) -> tuple[list, list[tuple]]:
    """The parsed specs and the points to try, as `plutarc optimize` draws them."""
    specs = parse_specs(template, spec["params"])
    if spec["kind"] == "random":
        return specs, sample(specs, spec["samples"], spec["seed"])
    return specs, list(grid(specs))


def candles_of(rows: list[dict[str, Any]]) -> Candles:
    """The engine's candles from `market:history` rows (open times in seconds)."""
    return Candles.of([int(r["time"]) * 1000 for r in rows],
                      *([float(r[k]) for r in rows] for k in ("open", "high", "low", "close",
                                                               "volume")))


def _kpis(kpis: Kpis | None) -> dict[str, Any] | None:
    return None if kpis is None else kpis.to_json()


def summary(wf: WalkForward) -> dict[str, Any]:
    """What a run keeps: the last fold's leaders (the parameters to trade now) with their
    in- and out-of-sample KPIs, each fold's winner, the trial count and the warning."""
    last = wf.results[-1]
    warning = None
    if wf.collapsed:
        efficiency = wf.efficiency
        warning = ("The out-of-sample result collapses ("
                   + ("no out-of-sample profit" if efficiency is None or efficiency <= 0 else
                      f"walk-forward efficiency {efficiency:.2f}, below {COLLAPSE_EFFICIENCY}")
                   + "): the in-sample winner is likely overfit.")
    return {
        "trials": wf.trials,
        "efficiency": wf.efficiency,
        "warning": warning,
        "ranked": [{"values": list(leader.values), "in_sample": _kpis(leader.in_sample),
                    "out_of_sample": _kpis(leader.out_of_sample)} for leader in last.leaders],
        "folds": [{"train": list(r.fold.train), "test": list(r.fold.test),
                   "values": None if r.values is None else list(r.values),
                   "in_sample": _kpis(r.in_sample), "out_of_sample": _kpis(r.out_of_sample),
                   "trials": r.trials} for r in wf.results],
    }


def search(template: dict[str, Any], spec: dict[str, Any], candles: Candles,
           progress: Any = None, workers: int | None = None) -> dict[str, Any]:
    """The whole search of a run, as `summary` shapes it (also what tests compare with)."""
    specs, points = points_of(template, spec)
    windows = [Fold((a, b), (c, d)) for a, b, c, d in spec["folds"]]
    wf = walk_forward(template, specs, points, candles, windows, kpi=spec["kpi"],
                      workers=workers, progress=progress, top=spec["top"])
    return summary(wf)


def _guard(lifeline: Connection) -> None:
    try:
        lifeline.recv()
    except (EOFError, OSError):
        pass
    os.killpg(0, signal.SIGKILL)


def main(conn: Connection, lifeline: Connection, template: dict[str, Any],
         spec: dict[str, Any], columns: tuple[Any, ...]) -> None:
    """The process's entry point (see the module docstring)."""
    os.setpgrp()
    os.nice(NICENESS)
    threading.Thread(target=_guard, args=(lifeline,), daemon=True).start()

    def moved(fold: int, folds: int, done: int, total: int) -> None:
        conn.send(("progress", fold * total + done, folds * total))

    try:
        workers = int(os.environ[WORKERS_ENV]) if os.environ.get(WORKERS_ENV) else None
        conn.send(("result", search(template, spec, Candles.of(*columns), moved, workers)))
    except Exception as exc:  # the run shows it; a traceback would help no trader
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()
