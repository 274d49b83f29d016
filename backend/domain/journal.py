"""The decision journal's storage: one `decisions` row per bot and closed candle, written
from the signal state a bot reports (`bot:reportSignalState`) and read per time range
(`insights:decisions`). The record itself is `strategy.journal.JournalRecord`; retention follows
signal states (retention.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from backend.domain import alerts
from backend.runtime import BadRequest
from backend.runtime.executor import Executor
from strategy.journal import from_state

MAX_RANGE = timedelta(days=7)  # a query returns at most a week: 10,080 rows for a 1m bot


class DecisionRow(TypedDict):
    """One candle's decision: its open time, outcome and the compact record
    (`a` action, `r` reason, `d` desired side, `c` combined score, `s` signal scores,
    `f` [filter, passed], `ses` in session, `g` [guard, allowed], `o` outcome)."""

    candle_at: datetime
    outcome: str
    record: dict[str, Any]


async def record_decision(db: Executor, bot: dict[str, Any], candle_at: datetime,
                          state: dict[str, Any]) -> None:
    """Store the journal record of a reported signal state (once per candle). A state
    without an `action` (not from the evaluator) has no record."""
    if not isinstance(state.get("action"), str):
        return
    try:
        record = from_state(int(candle_at.timestamp() * 1000), state)
    except (KeyError, TypeError, AttributeError) as e:
        raise BadRequest(f"signal state is not an evaluator state: {e!r}", field="state") from e
    await db.execute(
        "INSERT INTO decisions (bot_id, user_id, candle_at, outcome, record) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (bot_id, candle_at) DO NOTHING",
        bot["id"], bot["user_id"], candle_at, record.outcome, record.to_json(),
    )
    if record.outcome.startswith("guard:"):
        guard = record.outcome.split(":", 1)[1]
        await alerts.notify(db, bot, "guard", "warning", f"entries blocked by guard {guard}")


async def decisions(db: Executor, bot_id: int, start: datetime, end: datetime
                    ) -> list[DecisionRow]:
    """The bot's records of candles opened in [start, end), oldest first."""
    if end <= start:
        raise BadRequest("end must be after start", field="end")
    if end - start > MAX_RANGE:
        raise BadRequest(f"at most {MAX_RANGE.days} days per query", field="end")
    return await db.fetch(
        "SELECT candle_at, outcome, record FROM decisions "
        "WHERE bot_id = $1 AND candle_at >= $2 AND candle_at < $3 ORDER BY candle_at",
        bot_id, start.astimezone(UTC), end.astimezone(UTC),
    )
