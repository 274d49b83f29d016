"""The dashboard's overview (`dashboard:overview`): the caller's KPIs across all bots, bot
counts by lifecycle and connection, and open-position totals."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from backend.domain.kpis import Kpis, compute_kpis
from backend.runtime import Ctx, query


class BotCounts(TypedDict):
    total: int
    by_lifecycle: dict[str, int]
    by_connection: dict[str, int]


class OpenPositions(TypedDict):
    count: int
    unrealised_pnl: Decimal


class Overview(TypedDict):
    """The caller's KPIs, bot counts and open-position totals."""

    kpis: Kpis
    bots: BotCounts
    open_positions: OpenPositions


@query
async def overview(ctx: Ctx) -> Overview:
    """KPIs over all the caller's bots (same definitions as `bots:kpis`) and bot counts."""
    user_id = ctx.auth.require_user()
    lifecycles = await ctx.db.fetch(
        "SELECT lifecycle, count(*) AS n FROM bots WHERE user_id = $1 GROUP BY lifecycle",
        user_id,
    )
    connections = await ctx.db.fetch(
        "SELECT status, count(*) AS n FROM bot_connections WHERE user_id = $1 GROUP BY status",
        user_id,
    )
    open_positions = await ctx.db.fetchrow(
        "SELECT count(*) AS count, trim_scale(coalesce(sum(unrealised_pnl), 0)) "
        "AS unrealised_pnl FROM positions WHERE user_id = $1",
        user_id,
    )
    return {
        "kpis": await compute_kpis(ctx.db, "user_id", user_id),
        "bots": {
            "total": sum(r["n"] for r in lifecycles),
            "by_lifecycle": {r["lifecycle"]: r["n"] for r in lifecycles},
            "by_connection": {r["status"]: r["n"] for r in connections},
        },
        "open_positions": open_positions,
    }
