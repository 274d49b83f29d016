"""One rate budget per exchange account: the share of the account's per-UID limits each bot
on an API key may use (1/n for n running bots on the key, handed out in `bot:config`), and
the account's headroom as its bots report it with their heartbeats (the exchange's
`X-Bapi-Limit-Status` per endpoint), read by `rateBudget:headroom`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from backend.runtime.executor import Executor

MAX_ENDPOINTS = 50


class EndpointHeadroom(TypedDict):
    path: str
    remaining: int
    window_limit: int
    at: datetime


class KeyHeadroom(TypedDict):
    """One API key's account: its running bots (each uses 1/`bots_sharing` of every limit)
    and what its endpoints had left when last seen."""

    api_key_id: int
    label: str
    bots_sharing: int
    endpoints: list[EndpointHeadroom]


async def rate_share(db: Executor, api_key_id: int | None) -> float:
    """The share of its account's rate limits a bot on `api_key_id` may use."""
    sharing = await db.fetchval(
        "SELECT count(*) FROM bots WHERE api_key_id = $1 AND desired_state <> 'stop'",
        api_key_id,
    )
    return 1 / max(1, sharing)


async def record_headroom(db: Executor, bot: dict[str, Any], at: datetime,
                          seen: list[dict[str, Any]]) -> None:
    """Keep the latest (remaining, limit) per endpoint of the bot's key; older reports than
    the stored one change nothing."""
    await db.executemany(
        "INSERT INTO rate_headroom (api_key_id, user_id, bot_id, path, remaining, window_limit, "
        "at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (api_key_id, path) DO UPDATE SET "
        "remaining = $5, window_limit = $6, at = $7, bot_id = $3 WHERE rate_headroom.at < $7",
        [(bot["api_key_id"], bot["user_id"], bot["id"], s["path"], s["remaining"], s["limit"],
          at) for s in seen],
    )


async def headroom(db: Executor, user_id: int) -> list[KeyHeadroom]:
    """The user's keys with their sharing bots and last-seen headroom per endpoint."""
    keys = await db.fetch(
        "SELECT k.id AS api_key_id, k.label, (SELECT count(*) FROM bots b WHERE "
        "b.api_key_id = k.id AND b.desired_state <> 'stop') AS bots_sharing "
        "FROM api_keys k WHERE k.user_id = $1 ORDER BY k.id", user_id)
    rows = await db.fetch(
        "SELECT api_key_id, path, remaining, window_limit, at FROM rate_headroom "
        "WHERE user_id = $1 ORDER BY path", user_id)
    for key in keys:
        key["endpoints"] = [{k: r[k] for k in ("path", "remaining", "window_limit", "at")}
                            for r in rows if r["api_key_id"] == key["api_key_id"]]
    return keys
