"""Bots (`bots:*`): create and update bots, their desired state and lifecycle, their
deployments (internal mutations for the deployment supervisor), and the per-bot reads of
the dashboard: KPIs, equity curve, positions, trades and the activity feed (the decision
journal, trade analytics and the reconciling condition: `insights:*`).

Lifecycle rules live in backend/domain/lifecycle.py; every change writes an event.
`bots:trades` and `bots:events` are cursor-paginated (backend/runtime/pagination.py). Two
crons keep bots honest: `markStale` every 10 s, `retentionSweep` hourly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypedDict

from pydantic import AwareDatetime, Field, StringConstraints

from backend.billing import limits
from backend.domain import deployments, history, lifecycle, regions
from backend.domain.botstate import (
    BOT_COLUMNS,
    BotRow,
    add_event,
    bot_for_system,
    open_deployment,
    owned_bot,
    set_lifecycle,
)
from backend.domain.deployments import DeploymentStart
from backend.domain.equity import MAX_POINTS, EquityPoint, equity_curve
from backend.domain.history import Event, Position, TradePage
from backend.domain.kpis import Kpis, compute_kpis, ensure_totals
from backend.domain.retention import Retention, apply_retention
from backend.runtime import (
    BadRequest,
    Conflict,
    Ctx,
    Forbidden,
    Id,
    NotFound,
    Page,
    cron,
    mutation,
    query,
)
from backend.runtime.args import PlainText

BotId = Id["bots"]
StrategyId = Id["strategies"]
ApiKeyId = Id["api_keys"]
DeploymentId = Id["deployments"]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), PlainText]
Region = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Provider = Literal["local", "gcp"]
Limit = Annotated[int, Field(ge=1, le=200)]
CONNECTION = "bot_id, status, connected_since, last_seen_at, exchange_latency_ms"
Cursor = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class Connection(TypedDict):
    """A bot's connection as its heartbeats tell it."""

    status: str
    connected_since: datetime | None
    last_seen_at: datetime | None
    uptime_s: int
    exchange_latency_ms: int | None


class ListedBot(BotRow):
    connection: Connection


class DeploymentRow(TypedDict):
    id: int
    region: str
    provider: str
    instance_id: str | None
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    detail: str | None


class SignalState(TypedDict):
    candle_at: datetime
    state: dict[str, Any]


class BotDetail(ListedBot):
    """A bot with its connection, deployments (newest first) and latest signal state."""

    deployments: list[DeploymentRow]
    latest_signal_state: SignalState | None


def _connection(bot: dict[str, Any], conn: dict[str, Any] | None) -> Connection:
    """Connection status and uptime, derived from heartbeats only (deterministic: uptime is
    measured up to the last heartbeat, not to the clock)."""
    status = (conn or {}).get("status") or "never"
    if bot["lifecycle"] == "stopped":
        status = "offline"
    since, seen = (conn or {}).get("connected_since"), (conn or {}).get("last_seen_at")
    uptime = int((seen - since).total_seconds()) if status == "online" and since and seen else 0
    return {"status": status, "connected_since": since, "last_seen_at": seen, "uptime_s": uptime,
            "exchange_latency_ms": (conn or {}).get("exchange_latency_ms")}


async def _strategy_version(ctx: Ctx, user_id: int, strategy_id: int, version: int | None
                            ) -> dict[str, Any]:
    strategy = await ctx.db.fetchrow(
        "SELECT id, version FROM strategies WHERE id = $1 AND user_id = $2 "
        "AND archived_at IS NULL", strategy_id, user_id,
    )
    if strategy is None:
        raise NotFound(f"no strategy {strategy_id}", field="strategy_id")
    row = await ctx.db.fetchrow(
        "SELECT version, template->>'symbol' AS symbol FROM strategy_versions "
        "WHERE strategy_id = $1 AND version = $2", strategy_id, version or strategy["version"],
    )
    if row is None:
        raise NotFound(f"strategy {strategy_id} has no version {version}", field="strategy_version")
    return row


def _check_region(provider: str, region: str) -> None:
    if problem := regions.check_region(provider, region):
        raise BadRequest(problem, field="region")


async def _check_key(ctx: Ctx, user_id: int, api_key_id: int) -> None:
    if not await ctx.db.fetchval(
        "SELECT 1 FROM api_keys WHERE id = $1 AND user_id = $2", api_key_id, user_id
    ):
        raise NotFound(f"no API key {api_key_id}", field="api_key_id")


@query
async def list_(ctx: Ctx) -> list[ListedBot]:
    """The caller's bots with lifecycle, desired state, connection status and uptime."""
    user_id = ctx.auth.require_user()
    bots = await ctx.db.fetch(f"SELECT {BOT_COLUMNS} FROM bots WHERE user_id = $1 "
                              "AND removed_at IS NULL ORDER BY id", user_id)
    conns = await ctx.db.fetch(f"SELECT {CONNECTION} FROM bot_connections WHERE user_id = $1",
                               user_id)
    by_bot = {c["bot_id"]: c for c in conns}
    return [{**b, "connection": _connection(b, by_bot.get(b["id"]))} for b in bots]


@query
async def get(ctx: Ctx, bot_id: BotId) -> BotDetail:
    """One bot with its connection, deployment history (newest first) and latest signals."""
    user_id = ctx.auth.require_user()
    bot = await owned_bot(ctx.db, bot_id, user_id)
    conn = await ctx.db.fetchrow(f"SELECT {CONNECTION} FROM bot_connections WHERE bot_id = $1",
                                 bot_id)
    deps = await ctx.db.fetch(
        "SELECT id, region, provider, instance_id, started_at, ended_at, outcome, detail "
        "FROM deployments WHERE bot_id = $1 ORDER BY id DESC LIMIT 50", bot_id,
    )
    signal = await ctx.db.fetchrow(
        "SELECT candle_at, state FROM signal_states WHERE bot_id = $1 "
        "ORDER BY candle_at DESC LIMIT 1", bot_id,
    )
    return {**bot, "connection": _connection(bot, conn), "deployments": deps,
            "latest_signal_state": signal}


@mutation
async def create(
    ctx: Ctx, name: Name, strategy_id: StrategyId, api_key_id: ApiKeyId,
    region: Region = "local", provider: Provider = "local", strategy_version: int | None = None,
    start: bool = True,
) -> BotRow:
    """Create a bot from a strategy (its newest version unless `strategy_version`) and an API
    key. With `start` (default) it is provisioning with desired state run; else stopped."""
    user_id = ctx.auth.require_user()
    _check_region(provider, region)
    version = await _strategy_version(ctx, user_id, strategy_id, strategy_version)
    await _check_key(ctx, user_id, api_key_id)
    await limits.check_bot(ctx.db, user_id, region, api_key_id, running=start)
    state, desired = ("provisioning", "run") if start else ("stopped", "stop")
    bot = await ctx.db.fetchrow(
        "INSERT INTO bots (user_id, name, strategy_id, strategy_version, symbol, api_key_id, "
        "region, provider, lifecycle, desired_state, close_positions, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, true, now(), now()) "
        f"RETURNING {BOT_COLUMNS}",
        user_id, name, strategy_id, version["version"], version["symbol"], api_key_id,
        region, provider, state, desired,
    )
    assert bot is not None
    if start:
        await deployments.one_runner_per_position(ctx.db, bot)
    await ctx.db.execute(
        "INSERT INTO bot_connections (bot_id, user_id, status) VALUES ($1, $2, 'never')",
        bot["id"], user_id,
    )
    await ensure_totals(ctx.db, user_id, bot["id"])
    await add_event(ctx.db, bot, "created", f"bot created ({state}, strategy {strategy_id} "
                    f"v{version['version']}, {provider}/{region})")
    return bot


@mutation
async def update(
    ctx: Ctx, bot_id: BotId, name: Name | None = None,
    strategy_id: StrategyId | None = None, strategy_version: int | None = None,
    api_key_id: ApiKeyId | None = None, region: Region | None = None,
    provider: Provider | None = None,
) -> BotRow:
    """Change a bot. The strategy version may change live (the bot follows its config; the
    symbol only while stopped); API key, region and provider only while stopped or in error."""
    user_id = ctx.auth.require_user()
    bot = await owned_bot(ctx.db, bot_id, user_id)
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if strategy_id is not None or strategy_version is not None:
        version = await _strategy_version(
            ctx, user_id, strategy_id or bot["strategy_id"], strategy_version)
        if version["symbol"] != bot["symbol"] and bot["lifecycle"] in lifecycle.ACTIVE:
            raise Conflict(f"stop the bot to change its symbol ({bot['symbol']} → "
                           f"{version['symbol']})", field="strategy_id")
        changes.update(strategy_id=strategy_id or bot["strategy_id"],
                       strategy_version=version["version"], symbol=version["symbol"])
    redeploy = {"api_key_id": api_key_id, "region": region, "provider": provider}
    redeploy = {k: v for k, v in redeploy.items() if v is not None}
    if redeploy and bot["lifecycle"] in lifecycle.ACTIVE:
        raise Conflict(f"stop the bot before changing its {', '.join(redeploy)} "
                       f"(it is {bot['lifecycle']})", field=next(iter(redeploy)))
    if "api_key_id" in redeploy:
        await _check_key(ctx, user_id, redeploy["api_key_id"])
    if "region" in redeploy or "provider" in redeploy:
        _check_region(redeploy.get("provider", bot["provider"]),
                      redeploy.get("region", bot["region"]))
    if region is not None:
        await limits.check_bot(ctx.db, user_id, region, None, running=False)
    changes.update(redeploy)
    if not changes:
        return bot
    sets = ", ".join(f"{col} = ${i}" for i, col in enumerate(changes, start=3))
    row = await ctx.db.fetchrow(
        f"UPDATE bots SET {sets}, updated_at = now() WHERE id = $1 AND user_id = $2 "
        f"RETURNING {BOT_COLUMNS}", bot_id, user_id, *changes.values(),
    )
    await add_event(ctx.db, bot, "updated", "changed " + ", ".join(changes),
                    data={k: v for k, v in changes.items() if k != "name"})
    return dict(row or {})


@mutation
async def setDesiredState(
    ctx: Ctx, bot_id: BotId, state: Literal["run", "pause", "stop"],
    close_positions: bool = True,
) -> BotRow:
    """What the bot should do: run, pause (no new entries, exits still managed) or stop
    (closing its positions unless `close_positions` is false). A stopped bot set to run is
    provisioned again. A move the lifecycle forbids is a 409 and changes nothing."""
    user_id = ctx.auth.require_user()
    bot = await owned_bot(ctx.db, bot_id, user_id)
    if bot["removed_at"] is not None:
        raise Conflict(f"bot {bot['name']!r} was removed", field="bot_id")
    if state == "run" and (bot["api_key_id"] is None or bot["strategy_id"] is None):
        raise Conflict("give the bot an API key and a strategy before running it", field="state")
    if state == "run":
        await limits.check_bot(ctx.db, user_id, bot["region"], bot["api_key_id"], True, bot_id)
        await deployments.one_runner_per_position(ctx.db, bot)
    deployed = await open_deployment(ctx.db, bot_id) is not None
    try:
        target = lifecycle.for_desired(bot["lifecycle"], state, deployed)
    except lifecycle.IllegalTransition as exc:
        raise Conflict(f"bot {bot['name']!r}: {exc}", field="state") from None
    bot = dict(await ctx.db.fetchrow(
        "UPDATE bots SET desired_state = $3, close_positions = $4, updated_at = now() "
        f"WHERE id = $1 AND user_id = $2 RETURNING {BOT_COLUMNS}",
        bot_id, user_id, state, close_positions,
    ) or {})
    detail = f" (close positions: {'yes' if close_positions else 'no'})" if state == "stop" else ""
    await add_event(ctx.db, bot, "desired_state", f"desired state set to {state}{detail}",
                    data={"state": state, "close_positions": close_positions})
    if target is not None:
        bot = await set_lifecycle(ctx.db, bot, target, f"desired state {state}")
    return bot


@query
async def deployments_(ctx: Ctx, bot_id: BotId) -> list[DeploymentRow]:
    """The bot's deployment history, newest first: region, provider, instance, started,
    ended and outcome (`stopped`, `failed`, `replaced`; null while it runs) with its detail."""
    await owned_bot(ctx.db, bot_id, ctx.auth.require_user())
    return await ctx.db.fetch(
        "SELECT id, region, provider, instance_id, started_at, ended_at, outcome, detail "
        "FROM deployments WHERE bot_id = $1 ORDER BY id DESC LIMIT 200", bot_id,
    )


@mutation
async def remove(ctx: Ctx, bot_id: BotId) -> BotRow:
    """Remove a stopped (or errored) bot: it leaves `bots:list` and can no longer run, its
    configuration (strategy, key, region) is cleared; its trades, KPIs, equity, events and
    deployments stay readable by its id. Refused (409) while it has an instance."""
    user_id = ctx.auth.require_user()
    bot = await owned_bot(ctx.db, bot_id, user_id)
    if bot["removed_at"] is not None:
        return bot
    if bot["lifecycle"] not in ("stopped", "error") or await open_deployment(ctx.db, bot_id):
        raise Conflict(f"bot {bot['name']!r} is {bot['lifecycle']}: stop it before removing "
                       "it", field="bot_id")
    row = await ctx.db.fetchrow(
        "UPDATE bots SET removed_at = now(), api_key_id = NULL, strategy_id = NULL, "
        f"desired_state = 'stop', updated_at = now() WHERE id = $1 RETURNING {BOT_COLUMNS}",
        bot_id,
    )
    await ctx.db.execute("DELETE FROM positions WHERE bot_id = $1", bot_id)
    await add_event(ctx.db, bot, "removed", "bot removed; its trades and KPIs stay readable")
    return dict(row or {})


@query
async def kpis(ctx: Ctx, bot_id: BotId) -> Kpis:
    """The bot's KPIs (definitions in backend/domain/kpis.py and docs/domain.md)."""
    await owned_bot(ctx.db, bot_id, ctx.auth.require_user())
    return await compute_kpis(ctx.db, "bot_id", bot_id)


@query
async def equity(
    ctx: Ctx, bot_id: BotId | None = None, start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
    max_points: Annotated[int, Field(ge=2, le=MAX_POINTS)] = MAX_POINTS,
) -> list[EquityPoint]:
    """The equity curve of one bot, or of all the caller's bots summed, in [start, end],
    downsampled to at most `max_points` points."""
    user_id = ctx.auth.require_user()
    if bot_id is None:
        return await equity_curve(ctx.db, "user_id", user_id, start, end, max_points)
    await owned_bot(ctx.db, bot_id, user_id)
    return await equity_curve(ctx.db, "bot_id", bot_id, start, end, max_points)


@query
async def positions(ctx: Ctx, bot_id: BotId | None = None) -> list[Position]:
    """Open positions of one bot, or of all the caller's bots."""
    user_id = ctx.auth.require_user()
    if bot_id is not None:
        await owned_bot(ctx.db, bot_id, user_id)
    return await history.positions(ctx.db, user_id, bot_id)


@query
async def trades(
    ctx: Ctx, bot_id: BotId | None = None, symbol: str | None = None,
    side: Literal["long", "short"] | None = None, start: AwareDatetime | None = None,
    end: AwareDatetime | None = None, sort: history.TradeSort = "exit_at",
    order: Literal["asc", "desc"] = "desc", limit: Limit = 50,
    cursor: Cursor | None = None, end_cursor: Cursor | None = None,
) -> TradePage:
    """Closed trades of one bot or all the caller's bots: filter by symbol, side and exit
    time [start, end); sort by a column; a page of `limit` after `cursor` (pass the last
    page's `continue_cursor`), or up to `end_cursor` (`total` counts every page)."""
    user_id = ctx.auth.require_user()
    if bot_id is not None:
        await owned_bot(ctx.db, bot_id, user_id)
    return await history.trades(ctx.db, user_id, bot_id, symbol, side, start, end, sort,
                                order == "desc", limit, cursor, end_cursor)


@query
async def events(
    ctx: Ctx, bot_id: BotId | None = None, limit: Limit = 50, cursor: Cursor | None = None,
    end_cursor: Cursor | None = None,
) -> Page[Event]:
    """The activity feed (bot events), newest first, a page at a time (as `bots:trades`)."""
    user_id = ctx.auth.require_user()
    if bot_id is not None:
        await owned_bot(ctx.db, bot_id, user_id)
    return await history.events(ctx.db, user_id, bot_id, limit, cursor, end_cursor)


# Internal mutations: the deployment provider calls these through
# `runtime.call(..., internal_ok=True)` (anonymous auth = the system) or from actions; the
# scheduler runs the crons (as the system too).

@mutation(internal=True)
async def beginDeployment(ctx: Ctx, bot_id: BotId, restart: bool = False) -> DeploymentStart:
    """Open a deployment: a fresh bot token and the API key's data key, for the provider
    (`restart`: again for a running bot whose instance died, see deployments.begin)."""
    return await deployments.begin(ctx.db, await bot_for_system(ctx, bot_id), restart)


@mutation(internal=True)
async def markLifecycle(
    ctx: Ctx, bot_id: BotId, lifecycle: Literal[lifecycle.STATES],  # type: ignore[valid-type]
    message: str | None = None, instance_id: str | None = None,
) -> BotRow:
    """The provider reports a lifecycle change (checked) and/or the instance id."""
    bot = await bot_for_system(ctx, bot_id)
    return await deployments.mark(ctx.db, bot, lifecycle, message, instance_id)


@mutation(internal=True)
async def endDeployment(
    ctx: Ctx, bot_id: BotId, deployment_id: DeploymentId,
    outcome: Literal["stopped", "failed", "replaced"], detail: str | None = None,
) -> BotRow:
    """The provider reports that the bot's instance is gone; the token is revoked."""
    bot = await bot_for_system(ctx, bot_id)
    return await deployments.end(ctx.db, bot, deployment_id, outcome, detail)


@cron(every_s=10)
@mutation(internal=True)
async def markStale(ctx: Ctx, stale_after_s: Annotated[int, Field(ge=1)] = 60) -> list[int]:
    """Mark online bots whose last heartbeat is older than `stale_after_s` as stale."""
    if ctx.auth.kind != "anonymous":
        raise Forbidden("only the system marks bots stale")
    stale = await ctx.db.fetch(
        "UPDATE bot_connections SET status = 'stale' WHERE status = 'online' "
        "AND last_seen_at < now() - make_interval(secs => $1) RETURNING bot_id, user_id",
        stale_after_s,
    )
    for row in stale:
        await add_event(ctx.db, {"id": row["bot_id"], "user_id": row["user_id"]}, "connection",
                        f"no heartbeat for {stale_after_s}s: connection stale", "warning")
    return [row["bot_id"] for row in stale]


@cron("17 * * * *")
@mutation(internal=True)
async def retentionSweep(ctx: Ctx) -> int:
    """Queue `applyRetention` for every bot, one job (one transaction) per bot."""
    if ctx.auth.kind != "anonymous":
        raise Forbidden("only the system applies retention")
    bots = await ctx.db.fetch("SELECT id FROM bots ORDER BY id")
    for bot in bots:
        await ctx.scheduler.run_after(0, "bots:applyRetention", {"bot_id": bot["id"]})
    return len(bots)


@mutation(internal=True)
async def applyRetention(ctx: Ctx, bot_id: BotId) -> Retention:
    """Thin the bot's equity snapshots and drop old signal states (retention.py)."""
    if ctx.auth.kind != "anonymous":
        raise Forbidden("only the system applies retention")
    return await apply_retention(ctx.db, bot_id, datetime.now(UTC))
