"""Paginated reads of what bots reported: trades (sortable, filterable), the activity feed
(newest first, keyset-paginated) and open positions. Each statement filters on `user_id`
and, for one bot, on `bot_id` too — equality predicates the reactive read sets rely on."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from backend.runtime.executor import Executor

TradeSort = Literal["exit_at", "entry_at", "pnl", "fees", "quantity", "hold_seconds", "symbol"]
TRADE_COLUMNS = (
    "id, bot_id, report_id, symbol, side, trim_scale(quantity) AS quantity, "
    "trim_scale(entry_price) AS entry_price, trim_scale(exit_price) AS exit_price, entry_at, "
    "exit_at, hold_seconds, trim_scale(fees) AS fees, trim_scale(pnl) AS pnl, exit_reason, "
    "signal_state, trim_scale(mfe) AS mfe, trim_scale(mae) AS mae"
)
POSITION_COLUMNS = (
    "id, bot_id, symbol, side, trim_scale(size) AS size, trim_scale(entry_price) AS entry_price, "
    "trim_scale(unrealised_pnl) AS unrealised_pnl, trim_scale(leverage) AS leverage, at"
)
EVENT_COLUMNS = "id, bot_id, kind, level, message, data, at"


class _Where:
    """An AND of `column op $n` terms with their parameters."""

    def __init__(self) -> None:
        self.terms: list[str] = []
        self.params: list[Any] = []

    def add(self, column: str, op: str, value: Any) -> None:
        if value is not None:
            self.params.append(value)
            self.terms.append(f"{column} {op} ${len(self.params)}")

    @property
    def sql(self) -> str:
        return " AND ".join(self.terms)


async def trades(
    db: Executor, user_id: int, bot_id: int | None, symbol: str | None, side: str | None,
    start: datetime | None, end: datetime | None, sort: TradeSort, descending: bool,
    limit: int, offset: int,
) -> dict[str, Any]:
    """A page of closed trades (filtered by exit time in [start, end)) and the total count."""
    where = _Where()
    where.add("user_id", "=", user_id)
    where.add("bot_id", "=", bot_id)
    where.add("symbol", "=", symbol)
    where.add("side", "=", side)
    where.add("exit_at", ">=", start)
    where.add("exit_at", "<", end)
    direction = "DESC" if descending else "ASC"
    n = len(where.params)
    items = await db.fetch(
        f"SELECT {TRADE_COLUMNS} FROM trades WHERE {where.sql} "
        f"ORDER BY {sort} {direction}, id {direction} LIMIT ${n + 1} OFFSET ${n + 2}",
        *where.params, limit, offset,
    )
    total = await db.fetchval(f"SELECT count(*) FROM trades WHERE {where.sql}", *where.params)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


async def events(
    db: Executor, user_id: int, bot_id: int | None, before_id: int | None, limit: int
) -> dict[str, Any]:
    """Events newest first; pass `next_before_id` back as `before_id` for the next page."""
    where = _Where()
    where.add("user_id", "=", user_id)
    where.add("bot_id", "=", bot_id)
    where.add("id", "<", before_id)
    items = await db.fetch(
        f"SELECT {EVENT_COLUMNS} FROM bot_events WHERE {where.sql} "
        f"ORDER BY id DESC LIMIT ${len(where.params) + 1}",
        *where.params, limit,
    )
    more = len(items) == limit
    return {"items": items, "next_before_id": items[-1]["id"] if more and items else None}


async def positions(db: Executor, user_id: int, bot_id: int | None) -> list[dict[str, Any]]:
    """Open positions as of each bot's latest positions report."""
    where = _Where()
    where.add("user_id", "=", user_id)
    where.add("bot_id", "=", bot_id)
    return await db.fetch(
        f"SELECT {POSITION_COLUMNS} FROM positions WHERE {where.sql} ORDER BY bot_id, symbol",
        *where.params,
    )
