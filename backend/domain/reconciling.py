"""The `reconciling` condition of a bot, read from its event log: a bot is reconciling from
its first `reconciliation` event (the bot's position model and the exchange disagreed; the
event holds both views) until its next `reconciled` event (a later pass found no
difference). `insights:reconciliation` shows it; the events stay in the activity feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from backend.runtime.executor import Executor

MAX_SHOWN = 50  # differences listed while reconciling (the feed keeps them all)


class Difference(TypedDict):
    """One difference: what (`position`, `order`, `execution`), its key and both views."""

    at: datetime
    kind: str
    key: str
    stream: Any
    rest: Any


class ReconcilingState(TypedDict):
    """Whether the bot is reconciling, since when, and the differences found since then."""

    reconciling: bool
    since: datetime | None
    differences: list[Difference]


async def reconciling_state(db: Executor, bot_id: int) -> ReconcilingState:
    """The bot's condition: see the module docstring."""
    rows = await db.fetch(
        "SELECT at, data FROM bot_events WHERE bot_id = $1 AND kind = 'reconciliation' "
        "AND id > (SELECT coalesce(max(id), 0) FROM bot_events "
        "          WHERE bot_id = $1 AND kind = 'reconciled') ORDER BY id LIMIT $2",
        bot_id, MAX_SHOWN,
    )
    differences: list[Difference] = [
        {"at": r["at"], "kind": (r["data"] or {}).get("kind", ""),
         "key": (r["data"] or {}).get("key", ""), "stream": (r["data"] or {}).get("stream"),
         "rest": (r["data"] or {}).get("rest")}
        for r in rows
    ]
    return {"reconciling": bool(rows), "since": rows[0]["at"] if rows else None,
            "differences": differences}
