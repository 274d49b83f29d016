"""The profiler's figures (frontend/stats_view.py), without a browser: samples of several API
processes are summed, the invalidation rate is the recent one, a restarted or silent process
is handled, and rows come sorted by total re-run time."""

from __future__ import annotations

from typing import Any

from frontend import stats_view


def _path(reruns: int, ms_total: float, invalidations: int, sources: dict[str, int],
          timeouts: int = 0, rows_avg: float = 1.0, results: int = 1,
          bytes_avg: float = 100.0, errors: int = 0) -> dict[str, Any]:
    return {"subscribers": 1, "reruns": reruns, "rerun_ms_total": ms_total,
            "rerun_ms_avg": ms_total / reruns if reruns else 0.0, "invalidations": invalidations,
            "invalidations_per_s": invalidations / 100, "timeouts": timeouts, "errors": errors,
            "rows_avg": rows_avg, "results": results, "result_bytes_avg": bytes_avg,
            "top_sources": [{"source": s, "count": n} for s, n in sources.items()]}


def _stats(pid: int, uptime: float, paths: dict[str, Any], **totals: int) -> dict[str, Any]:
    base = {"pid": pid, "uptime_s": uptime, "cycles": 10, "cycle_ms_avg": 2.0, "fences": 8,
            "fences_skipped": 2, "late": 0, "timeouts": 0, "backlog": 0, "reruns": 0,
            "subscribers": 0, "paths": paths}
    return base | totals


def test_two_processes_are_summed_and_sorted_by_total_rerun_time() -> None:
    samples = stats_view.remember({}, _stats(11, 100, {
        "bots:list": _path(10, 50.0, 9, {"bots.user_id=1": 9}, rows_avg=2.0, bytes_avg=300,
                           errors=1),
        "alerts:unread": _path(4, 8.0, 3, {"notifications": 3}),
    }), now=0)
    samples = stats_view.remember(samples, _stats(22, 100, {
        "bots:list": _path(30, 250.0, 29, {"bots.user_id=1": 20, "bots.user_id=2": 9},
                           rows_avg=4.0, results=3, bytes_avg=500, errors=2),
        "trades:recent": _path(2, 120.0, 1, {"trades": 1}, timeouts=1),
    }), now=1)
    rows = stats_view.path_rows(samples)
    assert [r["path"] for r in rows] == ["bots:list", "trades:recent", "alerts:unread"]
    bots = rows[0]
    assert bots["reruns"] == "40" and bots["rerun_total"] == "300.0 ms"
    assert bots["rerun_avg"] == "7.50 ms"
    assert bots["rows_avg"] == "3.5"  # (10 * 2 + 30 * 4) / 40
    assert bots["bytes_avg"] == "450 B"  # (1 * 300 + 3 * 500) / 4
    assert bots["sources"] == "bots.user_id=1 ×29 · bots.user_id=2 ×9"
    assert bots["subscribers"] == "2" and bots["invalidations"] == "38"
    assert rows[1]["timeouts"] == "1" and rows[1]["timeouts_tone"] == "red"
    assert bots["errors"] == "3" and bots["errors_tone"] == "red"
    assert rows[2]["errors"] == "0" and rows[2]["errors_tone"] == "gray"
    assert rows[0]["row_id"] == "path-bots-list"
    cards = {c["key"]: c["value"] for c in stats_view.summary_rows(samples)}
    assert cards["processes"] == "2 (pid 11, 22)"
    assert cards["cycles"] == "20" and cards["fences"] == "16 (4)"


def test_the_invalidation_rate_is_recent_and_a_restart_starts_over() -> None:
    first = _stats(7, 100, {"q:a": _path(100, 10.0, 100, {})})
    samples = stats_view.remember({}, first, now=0)
    assert stats_view.path_rows(samples)[0]["invalidations_per_s"] == "1.00/s"  # lifetime
    samples = stats_view.remember(samples, _stats(7, 102, {"q:a": _path(110, 11.0, 110, {})}),
                                  now=2)
    assert stats_view.path_rows(samples)[0]["invalidations_per_s"] == "5.00/s"  # 10 in 2 s
    restarted = _stats(7, 1, {"q:a": _path(3, 1.0, 3, {})})  # the same pid, a new process
    samples = stats_view.remember(samples, restarted, now=3)
    assert stats_view.path_rows(samples)[0]["invalidations_per_s"] == "0.03/s"


def test_a_process_not_heard_from_is_dropped_and_nothing_is_an_empty_table() -> None:
    samples = stats_view.remember({}, _stats(1, 10, {"q:a": _path(1, 1.0, 1, {})}), now=0)
    samples = stats_view.remember(samples, _stats(2, 10, {}), now=stats_view.KEEP_S + 1)
    assert list(samples) == ["2"] and stats_view.path_rows(samples) == []
    assert stats_view.path_rows({}) == []
    assert {c["key"]: c["value"] for c in stats_view.summary_rows({})}["cycle_avg"] == "—"


def test_sizes_and_durations_read_well() -> None:
    assert [stats_view.millis(v) for v in (0.123, 12.34, 1234.5)] == [
        "0.12 ms", "12.3 ms", "1.23 s"]
    assert [stats_view.size(v) for v in (812, 1_250, 3_400_000)] == ["812 B", "1.2 KB", "3.4 MB"]
