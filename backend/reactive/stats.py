"""The reactivity profiler, served as /api/stats: per query path the invalidations (and what
caused them), re-runs and their cost, rows and result size, subscribers; per cycle phase the
time spent, fences sent and skipped, late and timed-out re-runs, the stale backlog.

Rates are per second of the process's life (`uptime_s`); sample /api/stats twice and take
the difference for a recent rate.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backend.reactive.shared import SharedQuery

TOP = 5  # sources listed per path
MAX_SOURCES = 200  # distinct sources counted per path before the rarest are dropped


@dataclass
class PathStats:
    """Counters of one query path since the process started (subscribers: current)."""

    subscribers: int = 0
    reruns: int = 0
    rerun_seconds: float = 0.0
    invalidations: int = 0
    timeouts: int = 0
    errors: int = 0  # re-runs that ended in an error (timeouts are counted apart)
    rows: int = 0  # rows (list items) returned over all re-runs
    result_bytes: int = 0  # JSON size of installed values, summed
    results: int = 0
    sources: Counter[str] = field(default_factory=Counter)  # "table" or "table.column=value"

    def to_json(self, uptime: float) -> dict[str, Any]:
        return {
            "subscribers": self.subscribers,
            "reruns": self.reruns,
            "rerun_ms_total": 1000 * self.rerun_seconds,
            "rerun_ms_avg": 1000 * self.rerun_seconds / self.reruns if self.reruns else 0.0,
            "invalidations": self.invalidations,
            "invalidations_per_s": self.invalidations / uptime if uptime else 0.0,
            "timeouts": self.timeouts,
            "errors": self.errors,
            "rows_avg": self.rows / self.reruns if self.reruns else 0.0,
            "results": self.results,  # values installed (what result_bytes_avg averages)
            "result_bytes_avg": self.result_bytes / self.results if self.results else 0.0,
            "top_sources": [{"source": s, "count": n} for s, n in self.sources.most_common(TOP)],
        }


@dataclass
class Stats:
    """Per path, and per cycle phase (a cycle = snapshot, fence, re-runs, install)."""

    paths: dict[str, PathStats] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    cycles: int = 0
    cycle_seconds: float = 0.0
    fences: int = 0
    fences_skipped: int = 0
    fence_seconds: float = 0.0
    late: int = 0
    gc_freezes: int = 0
    backlog: int = 0  # stale queries now (set by the engine)

    def path(self, path: str) -> PathStats:
        stats = self.paths.get(path)
        if stats is None:
            stats = self.paths[path] = PathStats()
        return stats

    def rerun(self, path: str, seconds: float, value: Any, failed: bool = False) -> None:
        """One re-run of `path` took `seconds`; `failed`: it ended in an error for its
        subscribers (SQL error, the function raised)."""
        stats = self.path(path)
        stats.reruns += 1
        stats.errors += failed
        stats.rerun_seconds += seconds
        stats.rows += len(value) if isinstance(value, list) else int(value is not None)

    def result(self, path: str, size: int) -> None:
        stats = self.path(path)
        stats.results += 1
        stats.result_bytes += size

    def invalidated(self, queries: Iterable[SharedQuery]) -> None:
        """Count the invalidation of each query."""
        for query in queries:
            self.path(query.fdef.path).invalidations += 1

    def hit(self, source: str, queries: set[SharedQuery]) -> None:
        """`source` ("table" or "table.column=value", from the invalidation index) can have
        changed each of `queries`."""
        for query in queries:
            stats = self.path(query.fdef.path)
            stats.sources[source] += 1
            if len(stats.sources) > MAX_SOURCES:
                stats.sources = Counter(dict(stats.sources.most_common(MAX_SOURCES // 2)))

    def to_json(self) -> dict[str, Any]:
        uptime = time.monotonic() - self.started
        per_cycle = 1000 / self.cycles if self.cycles else 0.0
        return {
            "pid": os.getpid(),  # which API process answered (there may be several)
            "uptime_s": uptime,
            "cycles": self.cycles,
            "cycle_ms_avg": self.cycle_seconds * per_cycle,
            "fences": self.fences,
            "fences_skipped": self.fences_skipped,
            "fence_ms_avg": 1000 * self.fence_seconds / self.fences if self.fences else 0.0,
            "late": self.late,
            "timeouts": sum(s.timeouts for s in self.paths.values()),
            "backlog": self.backlog,
            "gc_freezes": self.gc_freezes,
            "reruns": sum(s.reruns for s in self.paths.values()),
            "subscribers": sum(s.subscribers for s in self.paths.values()),
            "paths": {path: s.to_json(uptime) for path, s in sorted(self.paths.items())},
        }
