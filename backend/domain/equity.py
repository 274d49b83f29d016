"""The equity curve of a bot or of all a user's bots for a time range, downsampled in SQL to
at most `max_points` points: the range is cut into `max_points` equal buckets and each
bucket keeps its last snapshot (the bucket's close, as a candle would).

For a user, each bucket sums every bot's close, carrying a bot's last close forward through
buckets where it reported nothing (a bot counts from its first snapshot on).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal, TypedDict

from backend.runtime.executor import Executor

MAX_POINTS = 1000
Scope = Literal["bot_id", "user_id"]
_RANGE = (
    "at BETWEEN coalesce($2::timestamptz, '-infinity'::timestamptz) "
    "AND coalesce($3::timestamptz, 'infinity'::timestamptz)"
)
_BOUNDS = (
    "SELECT min(at) AS first, max(at) AS last, count(*) AS n FROM equity_snapshots "
    f"WHERE {{col}} = $1 AND {_RANGE}"
)
_ALL = (
    "SELECT at, trim_scale(equity) AS equity FROM equity_snapshots "
    f"WHERE bot_id = $1 AND {_RANGE} ORDER BY at"
)
_CLOSES = f"""
SELECT DISTINCT ON (bot_id, bucket) bot_id, bucket, at, equity FROM (
    SELECT bot_id, at, equity,
           least(floor(extract(epoch FROM at - $4::timestamptz) / $5::float8)::int, $6 - 1)
               AS bucket
    FROM equity_snapshots WHERE {{col}} = $1 AND {_RANGE}
) s ORDER BY bot_id, bucket, at DESC
"""
_BOT_CURVE = f"""
SELECT at, trim_scale(equity) AS equity FROM ({_CLOSES}) c ORDER BY bucket
"""
_USER_CURVE = f"""
WITH closes AS ({_CLOSES}),
grid AS (
    SELECT b.bucket, o.bot_id, b.at FROM
        (SELECT bucket, max(at) AS at FROM closes GROUP BY bucket) b
        CROSS JOIN (SELECT DISTINCT bot_id FROM closes) o
)
SELECT g.at, trim_scale(sum((
    SELECT c.equity FROM closes c WHERE c.bot_id = g.bot_id AND c.bucket <= g.bucket
    ORDER BY c.bucket DESC LIMIT 1))) AS equity
FROM grid g GROUP BY g.bucket, g.at ORDER BY g.bucket
"""


class EquityPoint(TypedDict):
    """One point of an equity curve."""

    at: datetime
    equity: Decimal


async def equity_curve(
    db: Executor, scope: Scope, owner_id: int, start: datetime | None, end: datetime | None,
    max_points: int = MAX_POINTS,
) -> list[EquityPoint]:
    """Points `{at, equity}` in [start, end], oldest first, at most `max_points` of them."""
    if scope not in ("bot_id", "user_id"):
        raise ValueError(f"unknown equity scope {scope!r}")
    bounds = await db.fetchrow(_BOUNDS.format(col=scope), owner_id, start, end)
    if not bounds or not bounds["n"]:
        return []
    if scope == "bot_id" and bounds["n"] <= max_points:
        return await db.fetch(_ALL, owner_id, start, end)
    span = (bounds["last"] - bounds["first"]).total_seconds()
    width = span / max_points or 1.0
    sql = _BOT_CURVE if scope == "bot_id" else _USER_CURVE
    return await db.fetch(sql.format(col=scope), owner_id, start, end, bounds["first"], width,
                          max_points)
