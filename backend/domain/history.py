"""Reads of what bots reported, with their row types: trades (sortable, filterable) and the
activity feed (newest first), both cursor-paginated (backend/runtime/pagination.py), and open
positions. Each statement filters on `user_id` and, for one bot, on `bot_id` too — equality
predicates the reactive read sets rely on."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypedDict

from backend.runtime.executor import Executor
from backend.runtime.pagination import Keyset, Page, paginate

TradeSort = Literal["exit_at", "entry_at", "pnl", "fees", "quantity", "hold_seconds", "symbol"]
SORT_TYPES: dict[str, str] = {
    "exit_at": "timestamptz", "entry_at": "timestamptz", "pnl": "numeric", "fees": "numeric",
    "quantity": "numeric", "hold_seconds": "bigint", "symbol": "text",
}
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


class TradeOutcome(TypedDict):
    """What a closed trade did (side, size, prices, times, fees, net PnL, why it exited): the
    part a comparison with a backtest reads; `pnl` is net of `fees`; money as exact decimals."""

    side: str
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    entry_at: datetime
    exit_at: datetime
    fees: Decimal
    pnl: Decimal
    exit_reason: str


class Trade(TradeOutcome):
    """A closed trade as reported, with its ids, hold time, signal state and excursions."""

    id: int
    bot_id: int
    report_id: str
    symbol: str
    hold_seconds: int
    signal_state: dict[str, Any] | None
    mfe: Decimal | None
    mae: Decimal | None


class TradePage(TypedDict):
    """A page of trades (the fields of `Page`, spelled out: pydantic does not carry a type
    argument into a subclass of a generic TypedDict) and the number of trades matching the
    filters, over all pages."""

    items: list[Trade]
    continue_cursor: str | None
    is_done: bool
    total: int


class Event(TypedDict):
    """One entry of a bot's activity feed."""

    id: int
    bot_id: int
    kind: str
    level: str
    message: str
    data: dict[str, Any] | None
    at: datetime


class Position(TypedDict):
    """An open position as of the bot's latest positions report."""

    id: int
    bot_id: int
    symbol: str
    side: str
    size: Decimal
    entry_price: Decimal
    unrealised_pnl: Decimal
    leverage: Decimal
    at: datetime


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
    limit: int, cursor: str | None, end_cursor: str | None,
) -> TradePage:
    """A page of closed trades (filtered by exit time in [start, end)) and the total count."""
    where = _Where()
    where.add("user_id", "=", user_id)
    where.add("bot_id", "=", bot_id)
    where.add("symbol", "=", symbol)
    where.add("side", "=", side)
    where.add("exit_at", ">=", start)
    where.add("exit_at", "<", end)
    keyset = Keyset(TRADE_COLUMNS, "trades", where.sql, tuple(where.params), sort,
                    SORT_TYPES[sort], descending)
    page = await paginate(db, keyset, cursor=cursor, end_cursor=end_cursor, limit=limit)
    total = await db.fetchval(f"SELECT count(*) FROM trades WHERE {where.sql}", *where.params)
    return {**page, "total": total}  # type: ignore[typeddict-item]


async def events(
    db: Executor, user_id: int, bot_id: int | None, limit: int, cursor: str | None,
    end_cursor: str | None,
) -> Page[Event]:
    """Events newest first, a page at a time."""
    where = _Where()
    where.add("user_id", "=", user_id)
    where.add("bot_id", "=", bot_id)
    keyset = Keyset(EVENT_COLUMNS, "bot_events", where.sql, tuple(where.params), "id", "bigint")
    return await paginate(db, keyset, cursor=cursor, end_cursor=end_cursor,  # type: ignore[return-value]
                          limit=limit)


async def positions(db: Executor, user_id: int, bot_id: int | None) -> list[Position]:
    """Open positions as of each bot's latest positions report."""
    where = _Where()
    where.add("user_id", "=", user_id)
    where.add("bot_id", "=", bot_id)
    return await db.fetch(
        f"SELECT {POSITION_COLUMNS} FROM positions WHERE {where.sql} ORDER BY bot_id, symbol",
        *where.params,
    )
