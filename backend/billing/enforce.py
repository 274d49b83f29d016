"""Make a user's running bots fit their plan: pause the bots the plan does not cover, and
resume the bots paused for the plan once it covers them again.

Paused, never stopped: a pause goes through the bot lifecycle (`bots:setDesiredState`,
called in the caller's transaction as the bot's owner), so the bot keeps managing its exits
and no position is abandoned. Each bot paused here is remembered in `billing_paused_bots`;
only those are resumed, and not if their owner has since set another desired state.
"""

from __future__ import annotations

from typing import Any

from backend.billing.limits import over_limit, refusal, runs
from backend.billing.plans import Plan
from backend.domain.botstate import add_event
from backend.functions import bots as bot_functions
from backend.runtime.context import Auth, Ctx
from backend.runtime.errors import Conflict
from backend.runtime.executor import Executor

BOTS = (
    "SELECT b.id, b.user_id, b.name, b.region, b.desired_state, b.lifecycle, k.exchange, "
    "k.testnet FROM bots b LEFT JOIN api_keys k ON k.id = b.api_key_id WHERE b.user_id = $1 "
    "ORDER BY b.id"
)


async def billing_event(db: Executor, user_id: int, kind: str, message: str,
                        level: str = "info", data: dict[str, Any] | None = None) -> None:
    """Append an event to the user's billing feed (`billing:events`)."""
    await db.execute(
        "INSERT INTO billing_events (user_id, kind, level, message, data, at) "
        "VALUES ($1, $2, $3, $4, $5, now())", user_id, kind, level, message, data,
    )


async def _desire(db: Executor, bot: dict[str, Any], state: str) -> bool:
    """Set the bot's desired state as its owner would; False when its lifecycle refuses now
    (the refusal comes before any write, so the transaction goes on)."""
    ctx = Ctx(Auth(kind="user", user_id=bot["user_id"]), db)
    try:
        await bot_functions.setDesiredState(ctx, bot["id"], state)
    except Conflict:
        return False
    return True


async def reconcile(db: Executor, user_id: int, p: Plan) -> dict[str, list[int]]:
    """Pause what plan `p` does not cover, resume what it covers again; returns the ids."""
    bots = await db.fetch(BOTS, user_id)
    running = [b for b in bots if runs(b)]
    pause, paused = over_limit(running, p), []
    for bot in pause:
        why = refusal(p, bot) or f"the {p.name} plan allows {p.max_bots} running bot(s)"
        if not await _desire(db, bot, "pause"):
            continue  # its lifecycle refuses a pause now; the next reconcile tries again
        paused.append(bot["id"])
        await db.execute(
            "INSERT INTO billing_paused_bots (bot_id, user_id, reason, paused_at) "
            "VALUES ($1, $2, $3, now()) ON CONFLICT (bot_id) DO NOTHING", bot["id"], user_id, why,
        )
        await add_event(db, bot, "billing", f"paused for billing: {why}; open positions are "
                        "still managed by their exits", "warning", {"plan": p.key})
        await billing_event(db, user_id, "bot_paused", f"bot {bot['name']!r} paused: {why}",
                            "warning", {"bot_id": bot["id"]})
    room = p.max_bots - (len(running) - len(pause))
    paused_here = await db.fetch(
        "SELECT bot_id FROM billing_paused_bots WHERE user_id = $1 ORDER BY bot_id", user_id)
    resumed: list[int] = []
    by_id, just_paused = {b["id"]: b for b in bots}, {b["id"] for b in pause}
    for row in paused_here:
        bot = by_id.get(row["bot_id"])
        if bot is None or bot["id"] in just_paused:
            continue
        if bot["desired_state"] != "pause" or bot["lifecycle"] in ("stopped", "error"):
            await db.execute("DELETE FROM billing_paused_bots WHERE bot_id = $1", bot["id"])
            continue  # its owner decided since: leave it as they set it
        if room <= 0 or refusal(p, bot) or not await _desire(db, bot, "run"):
            continue
        await db.execute("DELETE FROM billing_paused_bots WHERE bot_id = $1", bot["id"])
        await add_event(db, bot, "billing", f"resumed: the {p.name} plan covers it again",
                        data={"plan": p.key})
        await billing_event(db, user_id, "bot_resumed", f"bot {bot['name']!r} resumed",
                            data={"bot_id": bot["id"]})
        resumed.append(bot["id"])
        room -= 1
    return {"paused": paused, "resumed": resumed}
