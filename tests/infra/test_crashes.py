"""The crash policy: capped doubling backoff, a stable run resets the streak, the 5th crash
within 10 minutes gives up."""

from __future__ import annotations

from infra.supervisor.crashes import Crashes, CrashPolicy


def test_backoff_doubles_then_the_fifth_crash_in_ten_minutes_gives_up() -> None:
    crashes = Crashes()
    delays = [crashes.record(t) for t in (0, 10, 20, 30)]
    assert delays == [1, 2, 4, 8]
    assert crashes.record(40) is None and crashes.recent == 5


def test_crashes_older_than_the_window_are_forgotten_and_the_delay_is_capped() -> None:
    crashes = Crashes(CrashPolicy(limit=5, window_s=600, stable_s=10_000))
    delays = [crashes.record(t * 200.0) for t in range(10)]  # never 5 within 600 s
    assert None not in delays and delays[-1] == 60
    assert crashes.recent == 4


def test_a_stable_run_resets_the_streak() -> None:
    crashes = Crashes()
    crashes.record(0)
    crashes.record(1)
    crashes.started(2)
    assert crashes.record(400) == 1  # ran 398 s ≥ stable_s
