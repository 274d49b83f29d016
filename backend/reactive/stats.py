"""Per query path: re-runs, re-run time, invalidations, subscribers — served as /api/stats,
the seed of a reactivity profiler."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class PathStats:
    """Counters of one query path since the process started (subscribers: current)."""

    subscribers: int = 0
    reruns: int = 0
    rerun_seconds: float = 0.0
    invalidations: int = 0


@dataclass
class Stats:
    """Per path, and per cycle phase (a cycle = snapshot, fence, re-runs, install)."""

    paths: dict[str, PathStats] = field(default_factory=dict)
    cycles: int = 0
    cycle_seconds: float = 0.0
    fence_seconds: float = 0.0

    def path(self, path: str) -> PathStats:
        stats = self.paths.get(path)
        if stats is None:
            stats = self.paths[path] = PathStats()
        return stats

    def to_json(self) -> dict[str, Any]:
        paths = {}
        for path, stats in sorted(self.paths.items()):
            row = asdict(stats)
            row["rerun_ms_avg"] = 1000 * stats.rerun_seconds / stats.reruns if stats.reruns else 0.0
            paths[path] = row
        per_cycle = 1000 / self.cycles if self.cycles else 0.0
        return {
            "cycles": self.cycles,
            "cycle_ms_avg": self.cycle_seconds * per_cycle,
            "fence_ms_avg": self.fence_seconds * per_cycle,
            "reruns": sum(s.reruns for s in self.paths.values()),
            "subscribers": sum(s.subscribers for s in self.paths.values()),
            "paths": paths,
        }
