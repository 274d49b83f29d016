"""Bounded growth of the per-candle tables (run hourly by the `bots:retentionSweep` cron):

- equity_snapshots: full resolution for `RAW_DAYS`; older than that, the last snapshot of
  each hour; older than `HOURLY_DAYS`, the last snapshot of each UTC day. A bot's very first
  snapshot is always kept (the start of its curve). KPIs do not read this table's history:
  initial equity lives in kpi_totals and daily closes in equity_daily (one row per bot per
  day), so thinning changes no KPI.
- signal_states: the last `SIGNAL_DAYS` days (the state at each trade's entry is copied into
  the trade row, so it outlives this window).

At most (RAW_DAYS · candles per day) + 24 · (HOURLY_DAYS − RAW_DAYS) + days of history
equity rows per bot, e.g. ≈ 12.5k for a 1m bot after a year.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypedDict

from backend.runtime.executor import Executor

RAW_DAYS = 7
HOURLY_DAYS = 90
SIGNAL_DAYS = 7

_THIN = """
DELETE FROM equity_snapshots WHERE bot_id = $1 AND at < $2
  AND id NOT IN (
      SELECT DISTINCT ON (date_trunc('{unit}', at AT TIME ZONE 'UTC')) id
      FROM equity_snapshots WHERE bot_id = $1 AND at < $2
      ORDER BY date_trunc('{unit}', at AT TIME ZONE 'UTC'), at DESC)
  AND id <> (SELECT id FROM equity_snapshots WHERE bot_id = $1 ORDER BY at, id LIMIT 1)
"""
_SIGNALS = "DELETE FROM signal_states WHERE bot_id = $1 AND candle_at < $2"


class Retention(TypedDict):
    """Rows deleted by one retention pass."""

    equity_snapshots: int
    signal_states: int


def _count(tag: str) -> int:
    return int(tag.rsplit(" ", 1)[-1])


async def apply_retention(db: Executor, bot_id: int, now: datetime) -> Retention:
    """Thin one bot's equity snapshots and drop its old signal states; rows deleted."""
    hourly = _count(await db.execute(
        _THIN.format(unit="hour"), bot_id, now - timedelta(days=RAW_DAYS)))
    daily = _count(await db.execute(
        _THIN.format(unit="day"), bot_id, now - timedelta(days=HOURLY_DAYS)))
    signals = _count(await db.execute(_SIGNALS, bot_id, now - timedelta(days=SIGNAL_DAYS)))
    return {"equity_snapshots": hourly + daily, "signal_states": signals}
