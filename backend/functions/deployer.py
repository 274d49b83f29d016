"""What deployment supervisors (infra/supervisor) read and write (`deployer:*`), all internal:
callable in-process as the system only, never by clients.

- `deployer:work`, a live query: every bot a supervisor may have to act on (active lifecycle,
  or an instance still open), with its open deployment;
- `deployer:claim` / `deployer:renew` / `deployer:release`: the lease that makes one
  supervisor, and only one, act on a bot (table `bot_claims`, one row per bot);
- `deployer:event`: the supervisor's notes in the bot's activity feed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from pydantic import Field, StringConstraints

from backend.domain.botstate import add_event
from backend.runtime import Ctx, Forbidden, Id, NotFound, mutation, query

BotId = Id["bots"]
SupervisorId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
LeaseS = Annotated[float, Field(gt=0, le=3600)]


class Work(TypedDict):
    """A bot a supervisor may have to act on, with its open deployment (if any)."""

    bot_id: int
    provider: str
    region: str
    lifecycle: str
    desired_state: str
    close_positions: bool
    deployment_id: int | None
    instance_id: str | None


def _system(ctx: Ctx) -> None:
    if ctx.auth.kind != "anonymous":
        raise Forbidden("only a deployment supervisor calls deployer functions")


@query(internal=True)
async def work(ctx: Ctx) -> list[Work]:
    """Bots whose lifecycle is active or whose instance is still open, oldest first."""
    _system(ctx)
    return await ctx.db.fetch(
        "SELECT b.id AS bot_id, b.provider, b.region, b.lifecycle, b.desired_state, "
        "b.close_positions, d.id AS deployment_id, d.instance_id "
        "FROM bots b LEFT JOIN deployments d ON d.bot_id = b.id AND d.ended_at IS NULL "
        "WHERE b.lifecycle IN ('provisioning', 'deploying', 'online', 'paused', 'stopping') "
        "OR d.id IS NOT NULL ORDER BY b.id"
    )


@mutation(internal=True)
async def claim(ctx: Ctx, bot_id: BotId, supervisor: SupervisorId, lease_s: LeaseS) -> bool:
    """Take (or keep) the lease on a bot; False when another supervisor holds a live one."""
    _system(ctx)
    held = await ctx.db.fetchval(
        "INSERT INTO bot_claims (bot_id, supervisor, until) "
        "VALUES ($1, $2, now() + make_interval(secs => $3)) "
        "ON CONFLICT (bot_id) DO UPDATE SET supervisor = EXCLUDED.supervisor, "
        "until = EXCLUDED.until WHERE bot_claims.until < now() "
        "OR bot_claims.supervisor = EXCLUDED.supervisor RETURNING bot_id",
        bot_id, supervisor, lease_s,
    )
    return held is not None


@mutation(internal=True)
async def renew(ctx: Ctx, supervisor: SupervisorId, lease_s: LeaseS) -> list[int]:
    """Extend every lease the supervisor holds; returns the bots it still holds."""
    _system(ctx)
    rows = await ctx.db.fetch(
        "UPDATE bot_claims SET until = now() + make_interval(secs => $2) "
        "WHERE supervisor = $1 RETURNING bot_id",
        supervisor, lease_s,
    )
    return sorted(r["bot_id"] for r in rows)


@mutation(internal=True)
async def release(ctx: Ctx, bot_id: BotId, supervisor: SupervisorId) -> bool:
    """Give up the lease on a bot (its instance is gone)."""
    _system(ctx)
    gone = await ctx.db.fetchval(
        "DELETE FROM bot_claims WHERE bot_id = $1 AND supervisor = $2 RETURNING bot_id",
        bot_id, supervisor,
    )
    return gone is not None


@mutation(internal=True)
async def event(
    ctx: Ctx, bot_id: BotId, kind: Annotated[str, StringConstraints(min_length=1, max_length=32)],
    message: Annotated[str, StringConstraints(max_length=4000)],
    level: Literal["info", "warning", "error"] = "info", data: dict[str, Any] | None = None,
) -> None:
    """A supervisor's note in the bot's activity feed (a crash, a restart, kept reports)."""
    _system(ctx)
    bot = await ctx.db.fetchrow("SELECT id, user_id FROM bots WHERE id = $1", bot_id)
    if bot is None:
        raise NotFound(f"no bot {bot_id}", field="bot_id")
    await add_event(ctx.db, bot, kind, message, level, data)
