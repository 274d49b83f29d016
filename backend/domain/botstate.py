"""Reading and changing a bot's state inside a function's transaction: ownership checks,
lifecycle changes (through backend/domain/lifecycle.py) and the event log they write."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from backend.domain import lifecycle
from backend.runtime import Conflict, Ctx, Forbidden, NotFound
from backend.runtime.executor import Executor

BOT_COLUMNS = (
    "id, user_id, name, strategy_id, strategy_version, symbol, api_key_id, region, provider, "
    "lifecycle, desired_state, close_positions, error_message, created_at, updated_at, removed_at"
)


class BotRow(TypedDict):
    """A bot as `BOT_COLUMNS` reads it."""

    id: int
    user_id: int
    name: str
    strategy_id: int | None
    strategy_version: int
    symbol: str
    api_key_id: int | None
    region: str
    provider: str
    lifecycle: str
    desired_state: str
    close_positions: bool
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    removed_at: datetime | None


async def owned_bot(db: Executor, bot_id: int, user_id: int) -> dict[str, Any]:
    """The bot `bot_id` if `user_id` owns it; 404 otherwise (another user's bot is not found)."""
    row = await db.fetchrow(
        f"SELECT {BOT_COLUMNS} FROM bots WHERE id = $1 AND user_id = $2", bot_id, user_id
    )
    if row is None:
        raise NotFound(f"no bot {bot_id}", field="bot_id")
    return row


async def bot_for_system(ctx: Ctx, bot_id: int) -> dict[str, Any]:
    """The bot for an internal mutation: any bot for the system (anonymous) caller, only its
    own for a user; bot tokens are refused."""
    if ctx.auth.kind == "bot":
        raise Forbidden("bots cannot call this function")
    if ctx.auth.kind == "user":
        return await owned_bot(ctx.db, bot_id, ctx.auth.require_user())
    row = await ctx.db.fetchrow(f"SELECT {BOT_COLUMNS} FROM bots WHERE id = $1", bot_id)
    if row is None:
        raise NotFound(f"no bot {bot_id}", field="bot_id")
    return row


async def add_event(
    db: Executor, bot: dict[str, Any], kind: str, message: str, level: str = "info",
    data: dict[str, Any] | None = None,
) -> None:
    """Append a backend-written event to the bot's log."""
    await db.execute(
        "INSERT INTO bot_events (bot_id, user_id, kind, level, message, data, at) "
        "VALUES ($1, $2, $3, $4, $5, $6, now())",
        bot["id"], bot["user_id"], kind, level, message, data,
    )


async def set_lifecycle(
    db: Executor, bot: dict[str, Any], target: str, reason: str = "",
    error_message: str | None = None,
) -> dict[str, Any]:
    """Move the bot to `target` if the state machine allows it (else 409, nothing written),
    and log the change. Returns the updated bot."""
    try:
        lifecycle.check(bot["lifecycle"], target)
    except lifecycle.IllegalTransition as exc:
        raise Conflict(f"bot {bot['name']!r}: {exc}", field="lifecycle") from None
    row = await db.fetchrow(
        f"UPDATE bots SET lifecycle = $2, error_message = $3, updated_at = now() "
        f"WHERE id = $1 RETURNING {BOT_COLUMNS}",
        bot["id"], target, error_message if target == "error" else None,
    )
    message = f"{bot['lifecycle']} → {target}" + (f": {reason}" if reason else "")
    level = "error" if target == "error" else "info"
    data = {"from": bot["lifecycle"], "to": target}
    await add_event(db, bot, "lifecycle", message, level, data)
    if target in ("stopped", "error"):
        await db.execute(
            "UPDATE bot_connections SET status = 'offline', connected_since = NULL "
            "WHERE bot_id = $1", bot["id"],
        )
    return dict(row or {})


async def open_deployment(db: Executor, bot_id: int) -> dict[str, Any] | None:
    """The bot's deployment that has not ended, if any."""
    return await db.fetchrow(
        "SELECT id, region, provider, instance_id, started_at FROM deployments "
        "WHERE bot_id = $1 AND ended_at IS NULL ORDER BY id DESC LIMIT 1",
        bot_id,
    )
