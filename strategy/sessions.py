"""Trading sessions: named sessions, weekday + UTC time windows, and the "may enter now?" test.

Named sessions (fixed UTC hours, no daylight-saving shifts; Monday to Friday unless the
template lists days):

    asia      00:00-09:00 UTC
    london    07:00-16:00 UTC
    new_york  13:00-22:00 UTC

A window is ``[start, end)`` on each listed weekday; ``end < start`` wraps past midnight
(and the window belongs to the weekday it starts on); ``end == "24:00"`` means midnight.
An entry is allowed when its **decision time** — the close time of the candle that produced
the signal, which is also when the entry order goes out — lies in any window.  No windows
means always.  Sessions gate entries only: exits are managed around the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS = DAYS[:5]
NAMED_SESSIONS: dict[str, tuple[str, str]] = {
    "asia": ("00:00", "09:00"),
    "london": ("07:00", "16:00"),
    "new_york": ("13:00", "22:00"),
}
MINUTES_PER_WEEK = 7 * 1440
# 1970-01-01 was a Thursday: minute 0 of the epoch is minute 3 * 1440 of a Monday-based week.
_EPOCH_WEEK_OFFSET = 3 * 1440


@dataclass(frozen=True, slots=True)
class SessionWindow:
    days: tuple[str, ...]
    start: str  # "HH:MM"
    end: str  # "HH:MM", "24:00" allowed
    name: str | None = None


def parse_hhmm(text: str) -> int:
    """Minutes after midnight of "HH:MM" (00:00..24:00); ValueError otherwise."""
    hh, sep, mm = text.partition(":")
    if not sep or not (hh.isdigit() and mm.isdigit()) or len(hh) != 2 or len(mm) != 2:
        raise ValueError(f"expected HH:MM, got {text!r}")
    minutes = int(hh) * 60 + int(mm)
    if int(mm) >= 60 or minutes > 1440:
        raise ValueError(f"expected a time between 00:00 and 24:00, got {text!r}")
    return minutes


def week_mask(windows: Iterable[SessionWindow]) -> np.ndarray | None:
    """Boolean mask over the 10,080 minutes of a Monday-based UTC week; None = always open."""
    windows = list(windows)
    if not windows:
        return None
    mask = np.zeros(MINUTES_PER_WEEK, dtype=np.bool_)
    for w in windows:
        start, end = parse_hhmm(w.start), parse_hhmm(w.end)
        length = end - start if end > start else end + 1440 - start
        for day in w.days:
            first = DAYS.index(day) * 1440 + start
            idx = np.arange(first, first + length) % MINUTES_PER_WEEK
            mask[idx] = True
    return mask


def in_session(mask: np.ndarray | None, decision_ms: np.ndarray) -> np.ndarray:
    """For each decision time (UTC ms), whether it falls in an active window."""
    decision_ms = np.asarray(decision_ms, dtype=np.int64)
    if mask is None:
        return np.ones(decision_ms.shape, dtype=np.bool_)
    minute = (decision_ms // 60_000 + _EPOCH_WEEK_OFFSET) % MINUTES_PER_WEEK
    return mask[minute]
