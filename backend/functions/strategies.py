"""Strategy templates (`strategies:*`): saved, validated by the strategy engine, versioned.

Every save is a new immutable version; a bot records the version it runs. Removing a
strategy archives it (its versions stay, so bots that ran it keep their history).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from backend.domain.templates import validated
from backend.runtime import Conflict, Ctx, Id, NotFound, Ok, mutation, query
from strategy.components.catalogue import CATALOGUE
from strategy.template import TEMPLATE_SCHEMA, TIMEFRAMES

StrategyId = Id["strategies"]

COLUMNS = "id, name, symbol, timeframe, version, created_at, updated_at"


class Catalogue(TypedDict):
    """What a template may contain: components, the JSON schema, the timeframes."""

    components: dict[str, Any]
    schema: dict[str, Any]
    timeframes: list[str]


class StrategyRow(TypedDict):
    """A strategy; `version` is its newest version number."""

    id: int
    name: str
    symbol: str
    timeframe: str
    version: int
    created_at: datetime
    updated_at: datetime


class Saved(StrategyRow):
    """A strategy and the template just saved (its newest version)."""

    template: dict[str, Any]


class VersionInfo(TypedDict):
    version: int
    created_at: datetime


class StrategyDetail(Saved):
    """A strategy with the template of `template_version` and the list of its versions."""

    template_version: int
    versions: list[VersionInfo]


async def _owned(ctx: Ctx, strategy_id: int, user_id: int) -> dict[str, Any]:
    row = await ctx.db.fetchrow(
        f"SELECT {COLUMNS} FROM strategies "
        "WHERE id = $1 AND user_id = $2 AND archived_at IS NULL",
        strategy_id, user_id,
    )
    if row is None:
        raise NotFound(f"no strategy {strategy_id}", field="strategy_id")
    return row


async def _save_version(ctx: Ctx, strategy_id: int, user_id: int, version: int,
                        template: dict[str, Any]) -> None:
    await ctx.db.execute(
        "INSERT INTO strategy_versions (strategy_id, user_id, version, template, created_at) "
        "VALUES ($1, $2, $3, $4, now())",
        strategy_id, user_id, version, template,
    )


@query
async def catalogue(ctx: Ctx) -> Catalogue:
    """The component catalogue, the template's JSON schema and the timeframes."""
    return {"components": CATALOGUE, "schema": TEMPLATE_SCHEMA, "timeframes": list(TIMEFRAMES)}


@query
async def list_(ctx: Ctx) -> list[StrategyRow]:
    """The caller's strategies (newest version number of each), oldest first."""
    user_id = ctx.auth.require_user()
    return await ctx.db.fetch(
        f"SELECT {COLUMNS} FROM strategies WHERE user_id = $1 AND archived_at IS NULL "
        "ORDER BY id",
        user_id,
    )


@query
async def get(ctx: Ctx, strategy_id: StrategyId, version: int | None = None
              ) -> StrategyDetail:
    """One strategy with its template (the newest version, or `version`) and its versions."""
    user_id = ctx.auth.require_user()
    strategy = await _owned(ctx, strategy_id, user_id)
    versions = await ctx.db.fetch(
        "SELECT version, template, created_at FROM strategy_versions "
        "WHERE strategy_id = $1 AND user_id = $2 ORDER BY version",
        strategy_id, user_id,
    )
    wanted = version or strategy["version"]
    chosen = next((v for v in versions if v["version"] == wanted), None)
    if chosen is None:
        raise NotFound(f"strategy {strategy_id} has no version {wanted}", field="version")
    return {
        **strategy,
        "template_version": wanted,
        "template": chosen["template"],
        "versions": [{"version": v["version"], "created_at": v["created_at"]} for v in versions],
    }


@mutation
async def create(ctx: Ctx, template: dict[str, Any]) -> Saved:
    """Validate `template` through the strategy engine and save it as version 1."""
    user_id = ctx.auth.require_user()
    data = validated(template)
    row = await ctx.db.fetchrow(
        "INSERT INTO strategies (user_id, name, symbol, timeframe, version, created_at, "
        f"updated_at) VALUES ($1, $2, $3, $4, 1, now(), now()) RETURNING {COLUMNS}",
        user_id, data["name"], data["symbol"], data["timeframe"],
    )
    assert row is not None
    await _save_version(ctx, row["id"], user_id, 1, data)
    return {**row, "template": data}


@mutation
async def update(ctx: Ctx, strategy_id: StrategyId, template: dict[str, Any]
                 ) -> Saved:
    """Validate `template` and save it as the strategy's next version. Bots keep running the
    version they recorded until they are updated to the new one (`bots:update`)."""
    user_id = ctx.auth.require_user()
    current = await _owned(ctx, strategy_id, user_id)
    data = validated(template)
    version = current["version"] + 1
    row = await ctx.db.fetchrow(
        "UPDATE strategies SET name = $3, symbol = $4, timeframe = $5, version = $6, "
        f"updated_at = now() WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}",
        strategy_id, user_id, data["name"], data["symbol"], data["timeframe"], version,
    )
    await _save_version(ctx, strategy_id, user_id, version, data)
    return {**(row or {}), "template": data}


@mutation
async def remove(ctx: Ctx, strategy_id: StrategyId) -> Ok:
    """Archive a strategy; refused while a bot that is not stopped runs it."""
    user_id = ctx.auth.require_user()
    strategy = await _owned(ctx, strategy_id, user_id)
    busy = await ctx.db.fetchrow(
        "SELECT name, lifecycle FROM bots WHERE strategy_id = $1 AND user_id = $2 "
        "AND lifecycle <> 'stopped' LIMIT 1",
        strategy_id, user_id,
    )
    if busy:
        raise Conflict(
            f"strategy {strategy['name']!r} is used by bot {busy['name']!r} "
            f"({busy['lifecycle']}): stop the bot before removing the strategy",
            field="strategy_id",
        )
    await ctx.db.execute(
        "UPDATE strategies SET archived_at = now() WHERE id = $1 AND user_id = $2",
        strategy_id, user_id,
    )
    return {"ok": True}
