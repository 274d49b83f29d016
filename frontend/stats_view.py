"""The reactivity profiler as the /operator page shows it (pure): samples of the API's
`/api/stats` (backend/reactive/stats.py), one JSON object per API process, merged into one
row per query path — sorted by total re-run time, the most expensive first — and a summary
of the cycles.

With several API processes (`plutarc up --api-workers N`) each poll reaches one of them;
the page keeps each process's latest sample for `KEEP_S` and sums the processes. The
invalidation rate is recent: a process's two latest samples subtracted, over the time
between them (its lifetime average until it has been sampled twice).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from frontend import fmt

KEEP_S = 20.0  # a process not heard from for this long (stopped, or never polled) is left out
TOP = 5  # sources shown per path

Samples = dict[str, dict[str, Any]]  # pid -> {"at", "stats", "before"}


def remember(samples: Samples, stats: dict[str, Any], now: float) -> Samples:
    """`samples` with `stats` (one answer of /api/stats, received at `now`, monotonic
    seconds) as its process's latest; processes not heard from for `KEEP_S` are dropped."""
    pid = str(stats["pid"])
    kept = {p: s for p, s in samples.items() if now - s["at"] <= KEEP_S and p != pid}
    last = samples.get(pid)
    before = None
    if last is not None and last["stats"]["uptime_s"] < stats["uptime_s"]:  # else: restarted
        before = {"uptime_s": last["stats"]["uptime_s"],
                  "invalidations": {path: p["invalidations"]
                                    for path, p in last["stats"]["paths"].items()}}
    return kept | {pid: {"at": now, "stats": stats, "before": before}}


def _rate(sample: dict[str, Any], path: str, p: dict[str, Any]) -> float:
    before = sample["before"]
    if before is None:
        return p["invalidations_per_s"]
    elapsed = sample["stats"]["uptime_s"] - before["uptime_s"]
    return (p["invalidations"] - before["invalidations"].get(path, 0)) / elapsed


def merged_paths(samples: Samples) -> list[dict[str, Any]]:
    """One entry per query path, summed over the processes (numbers, not text), sorted by
    total re-run time, then by path."""
    merged: dict[str, dict[str, Any]] = {}
    for sample in samples.values():
        for path, p in sample["stats"]["paths"].items():
            m = merged.setdefault(path, {
                "path": path, "subscribers": 0, "invalidations": 0, "invalidations_per_s": 0.0,
                "reruns": 0, "rerun_ms_total": 0.0, "timeouts": 0, "errors": 0, "rows": 0.0,
                "results": 0, "result_bytes": 0.0, "sources": Counter()})
            m["subscribers"] += p["subscribers"]
            m["invalidations"] += p["invalidations"]
            m["invalidations_per_s"] += _rate(sample, path, p)
            m["reruns"] += p["reruns"]
            m["rerun_ms_total"] += p["rerun_ms_total"]
            m["timeouts"] += p["timeouts"]
            m["errors"] += p["errors"]
            m["rows"] += p["rows_avg"] * p["reruns"]
            m["results"] += p["results"]
            m["result_bytes"] += p["result_bytes_avg"] * p["results"]
            m["sources"].update({s["source"]: s["count"] for s in p["top_sources"]})
    return sorted(merged.values(), key=lambda m: (-m["rerun_ms_total"], m["path"]))


def path_rows(samples: Samples) -> list[dict[str, str]]:
    """The table's rows, formatted."""
    rows = []
    for m in merged_paths(samples):
        reruns, results = m["reruns"], m["results"]
        rows.append({
            "row_id": "path-" + re.sub(r"[^A-Za-z0-9_-]", "-", m["path"]),
            "path": m["path"],
            "subscribers": count(m["subscribers"]),
            "invalidations_per_s": f"{m['invalidations_per_s']:.2f}/s",
            "invalidations": count(m["invalidations"]),
            "reruns": count(reruns),
            "rerun_total": millis(m["rerun_ms_total"]),
            "rerun_total_ms": f"{m['rerun_ms_total']:.3f}",  # for sorting checks
            "rerun_avg": millis(m["rerun_ms_total"] / reruns) if reruns else fmt.MISSING,
            "rows_avg": f"{m['rows'] / reruns:.1f}" if reruns else fmt.MISSING,
            "bytes_avg": size(m["result_bytes"] / results) if results else fmt.MISSING,
            "timeouts": count(m["timeouts"]),
            "timeouts_tone": "red" if m["timeouts"] else "gray",
            "errors": count(m["errors"]),
            "errors_tone": "red" if m["errors"] else "gray",
            "sources": " · ".join(f"{source} ×{n}" for source, n in m["sources"].most_common(TOP))
                       or fmt.MISSING,
        })
    return rows


SUMMARY = (("processes", "API processes"), ("uptime", "Up (longest)"),
           ("subscribers", "Subscriptions"), ("reruns", "Re-runs"), ("cycles", "Cycles"),
           ("cycle_avg", "Cycle (avg)"), ("fences", "Fences (skipped)"),
           ("late", "Late re-runs"), ("timeouts", "Timeouts"), ("backlog", "Stale now"))


def summary_rows(samples: Samples) -> list[dict[str, str]]:
    """The summary cards (`{key, label, value, tone}`), summed over the processes."""
    stats = [s["stats"] for s in samples.values()]

    def total(key: str) -> int:
        return sum(s[key] for s in stats)

    cycles = total("cycles")
    cycle_ms = sum(s["cycle_ms_avg"] * s["cycles"] for s in stats)
    pids = ", ".join(sorted(samples))
    values = {
        "processes": f"{len(stats)} (pid {pids})",
        "uptime": fmt.duration(max((s["uptime_s"] for s in stats), default=0)),
        "subscribers": count(total("subscribers")), "reruns": count(total("reruns")),
        "cycles": count(cycles), "cycle_avg": millis(cycle_ms / cycles) if cycles else fmt.MISSING,
        "fences": f"{count(total('fences'))} ({count(total('fences_skipped'))})",
        "late": count(total("late")), "timeouts": count(total("timeouts")),
        "backlog": count(total("backlog")),
    }
    warn = {"timeouts": total("timeouts") > 0, "backlog": total("backlog") > 0}
    return [{"key": key, "label": label, "value": values[key],
             "tone": "red" if warn.get(key) else "gray"} for key, label in SUMMARY]


def count(n: float) -> str:
    return f"{int(n):,}"


def millis(ms: float) -> str:
    """A duration in milliseconds, as ms below a second, else seconds."""
    if ms >= 1000:
        return f"{ms / 1000:,.2f} s"
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms"


def size(n: float) -> str:
    """Bytes, in B, KB or MB (1,000-based, as JSON sizes are counted)."""
    for unit, scale in (("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"
