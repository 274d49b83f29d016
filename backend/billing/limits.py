"""Plan limits, checked inside the mutations that would exceed them (bots:create,
bots:setDesiredState(run), apiKeys:add): each refusal names the plan, the limit and the way up.

A bot *runs* (takes one of the plan's bot slots) when its desired state is `run` and it is
neither stopped nor in error; a paused bot takes no slot (it makes no new entries). A key is
*live* when it trades real money: a Bybit key that is not a testnet key.

No limit applies when billing is off (no `billing_settings` row, or not enabled).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backend.billing.plans import Plan, plan, way_up
from backend.runtime.errors import ApiError
from backend.runtime.executor import Executor


class PlanLimit(ApiError):
    """What the caller asked for needs a bigger plan."""

    status, code = 403, "plan_limit"


def is_live_key(exchange: str | None, testnet: bool | None) -> bool:
    return exchange == "bybit" and not testnet


def runs(bot: dict[str, Any]) -> bool:
    """Whether the bot takes a bot slot of its owner's plan."""
    return bot["desired_state"] == "run" and bot["lifecycle"] not in ("stopped", "error")


def refusal(p: Plan, bot: dict[str, Any]) -> str | None:
    """Why plan `p` cannot run this bot whatever the count (its key or region), or None.
    `bot` has `exchange`, `testnet` (of its key) and `region`."""
    if not p.live_keys and is_live_key(bot.get("exchange"), bot.get("testnet")):
        return f"the {p.name} plan allows local-exchange and testnet keys only"
    if not p.allows_region(bot["region"]):
        allowed = ", ".join(sorted(p.regions or ()))
        return f"the {p.name} plan allows the region(s) {allowed} only, not {bot['region']!r}"
    return None


def over_limit(running: Sequence[dict[str, Any]], p: Plan) -> list[dict[str, Any]]:
    """The running bots plan `p` does not cover: first those it refuses outright (live key,
    region), then the newest beyond `p.max_bots` (the oldest keep running). Pure."""
    refused = [b for b in running if refusal(p, b)]
    kept = [b for b in sorted(running, key=lambda b: b["id"]) if b not in refused]
    return refused + kept[p.max_bots:]


async def plan_for(db: Executor, user_id: int) -> Plan | None:
    """The plan whose limits apply to the user now; None when billing is off."""
    row = await db.fetchrow(
        "SELECT s.enabled, a.effective_plan FROM billing_settings s "
        "LEFT JOIN billing_accounts a ON a.user_id = $1 WHERE s.id = 1", user_id,
    )
    if row is None or not row["enabled"]:
        return None
    return plan(row["effective_plan"] or "free")


def _raise(p: Plan, why: str, allows: Any, field: str) -> None:
    up = way_up(p, allows)
    how = (f"upgrade to {up.name} on the billing page (billing:changePlan)" if up
           else "no plan allows more")
    raise PlanLimit(f"{why}: {how}", field=field)


async def check_key(db: Executor, user_id: int, exchange: str, testnet: bool) -> None:
    """apiKeys:add — a live key needs a plan with live keys."""
    p = await plan_for(db, user_id)
    if p is not None and not p.live_keys and is_live_key(exchange, testnet):
        _raise(p, f"the {p.name} plan allows local-exchange and testnet keys only",
               lambda q: q.live_keys, "testnet")


async def check_bot(db: Executor, user_id: int, region: str, api_key_id: int | None,
                    running: bool, bot_id: int | None = None) -> None:
    """bots:create and bots:setDesiredState(run): the plan must allow the bot's key and
    region, and (when it will run) a free bot slot. `bot_id`: the bot itself, not counted."""
    p = await plan_for(db, user_id)
    if p is None:
        return
    key = await db.fetchrow("SELECT exchange, testnet FROM api_keys WHERE id = $1 AND "
                            "user_id = $2", api_key_id, user_id) if api_key_id else None
    bot = {"region": region, **(dict(key) if key else {})}
    if why := refusal(p, bot):
        field = "region" if "region" in why else "api_key_id"
        _raise(p, why, lambda q: refusal(q, bot) is None, field)
    if not running:
        return
    n = await db.fetchval(
        "SELECT count(*) FROM bots WHERE user_id = $1 AND desired_state = 'run' "
        "AND lifecycle NOT IN ('stopped', 'error') AND id <> $2", user_id, bot_id or 0,
    )
    if n >= p.max_bots:
        _raise(p, f"the {p.name} plan allows {p.max_bots} running bot"
               f"{'s' if p.max_bots != 1 else ''} and {n} already run{'s' if n == 1 else ''}",
               lambda q: q.max_bots > n, "state" if bot_id else "start")
