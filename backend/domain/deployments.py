"""Deployments: what the supervisor calls (through the internal `bots:*` mutations) when it
starts and ends a bot instance, and the one-runner-per-position rule.

A deployment issues a fresh bot token (revoking the previous one) and unwraps the API key's
data key; both are returned to the provider only. Ending a deployment revokes the token.
"""

from __future__ import annotations

import base64
from typing import Any, TypedDict

from backend.auth.tokens import issue_bot_token
from backend.domain.botstate import add_event, open_deployment, set_lifecycle
from backend.domain.keys import unwrap_data_key
from backend.runtime import Conflict
from backend.runtime.executor import Executor

RUNNING = ("deploying", "online", "paused")


class DeploymentStart(TypedDict):
    """What the provider needs to start an instance: the token and data key (secrets that
    go to the provider only)."""

    deployment_id: int
    bot_id: int
    region: str
    provider: str
    token: str
    data_key: str


async def begin(db: Executor, bot: dict[str, Any], restart: bool = False) -> DeploymentStart:
    """Open a deployment for a provisioning bot: token + data key for the provider.
    `restart`: a running bot's instance is started again on a fresh deployment (its open one,
    whose credentials the provider no longer holds, ends as replaced)."""
    if restart and bot["lifecycle"] not in RUNNING:
        raise Conflict(f"bot {bot['name']!r} is {bot['lifecycle']}: only a running bot "
                       "is restarted", field="bot_id")
    if not restart and bot["lifecycle"] != "provisioning":
        raise Conflict(
            f"bot {bot['name']!r} is {bot['lifecycle']}: only a provisioning bot can be "
            "deployed (set its desired state to run first)", field="bot_id",
        )
    if bot["api_key_id"] is None:
        raise Conflict(f"bot {bot['name']!r} has no API key", field="api_key_id")
    await db.execute(
        "UPDATE deployments SET ended_at = now(), outcome = 'replaced' "
        "WHERE bot_id = $1 AND ended_at IS NULL", bot["id"],
    )
    deployment_id = await db.fetchval(
        "INSERT INTO deployments (bot_id, user_id, region, provider, started_at) "
        "VALUES ($1, $2, $3, $4, now()) RETURNING id",
        bot["id"], bot["user_id"], bot["region"], bot["provider"],
    )
    token = await issue_bot_token(db, bot["id"])
    data_key = await unwrap_data_key(db, bot["api_key_id"])
    await add_event(db, bot, "deployment", f"deployment {deployment_id} started on "
                    f"{bot['provider']} in {bot['region']}", data={"deployment_id": deployment_id})
    return {
        "deployment_id": deployment_id, "bot_id": bot["id"], "region": bot["region"],
        "provider": bot["provider"], "token": token,
        "data_key": base64.b64encode(data_key).decode(),
    }


async def one_runner_per_position(db: Executor, bot: dict[str, Any]) -> None:
    """409 unless `bot` would be the only active bot trading its symbol on its exchange
    account: a one-way position is per account and symbol, two bots would trade one."""
    other = await db.fetchrow(
        "SELECT o.id, o.name, o.user_id FROM bots o JOIN api_keys ko ON ko.id = o.api_key_id "
        "JOIN api_keys k ON k.id = $2 AND k.exchange = ko.exchange AND k.testnet = ko.testnet "
        "AND k.api_key = ko.api_key WHERE o.id <> $1 AND o.symbol = $3 AND o.removed_at IS NULL "
        "AND o.lifecycle IN ('provisioning', 'deploying', 'online', 'paused', 'stopping') "
        "LIMIT 1",
        bot["id"], bot["api_key_id"], bot["symbol"],
    )
    if other is None:
        return
    which = f"your bot {other['name']!r}" if other["user_id"] == bot["user_id"] else "another bot"
    raise Conflict(
        f"{which} already trades {bot['symbol']} with this API key's account: one running bot "
        "per account and symbol (a one-way position is shared); stop it or use another key",
        field="api_key_id",
    )


async def end(
    db: Executor, bot: dict[str, Any], deployment_id: int, outcome: str, detail: str | None
) -> dict[str, Any]:
    """Close a deployment, revoke the bot's token, and settle the lifecycle: a stopping bot
    becomes stopped; any other running bot whose instance ended went wrong → error."""
    row = await db.fetchrow(
        "UPDATE deployments SET ended_at = now(), outcome = $3, detail = $4 "
        "WHERE id = $1 AND bot_id = $2 AND ended_at IS NULL RETURNING id",
        deployment_id, bot["id"], outcome, detail,
    )
    if row is None:
        raise Conflict(f"deployment {deployment_id} of bot {bot['id']} is not open",
                       field="deployment_id")
    await db.execute(
        "UPDATE bot_tokens SET revoked_at = now() WHERE bot_id = $1 AND revoked_at IS NULL",
        bot["id"],
    )
    await add_event(db, bot, "deployment", f"deployment {deployment_id} ended: {outcome}"
                    + (f" ({detail})" if detail else ""),
                    "error" if outcome == "failed" else "info",
                    {"deployment_id": deployment_id, "outcome": outcome})
    if outcome == "stopped" and bot["lifecycle"] == "stopping":
        return await set_lifecycle(db, bot, "stopped", "deployment ended")
    if bot["lifecycle"] not in ("stopped", "error"):
        reason = detail or f"the instance ended ({outcome}) while the bot was {bot['lifecycle']}"
        return await set_lifecycle(db, bot, "error", reason, error_message=reason)
    return bot


async def mark(
    db: Executor, bot: dict[str, Any], target: str, message: str | None,
    instance_id: str | None,
) -> dict[str, Any]:
    """The provider reports progress: a lifecycle change (checked) and the instance id."""
    if instance_id is not None:
        current = await open_deployment(db, bot["id"])
        if current is None:
            raise Conflict(f"bot {bot['id']} has no open deployment", field="instance_id")
        await db.execute("UPDATE deployments SET instance_id = $2 WHERE id = $1",
                         current["id"], instance_id)
    if target == bot["lifecycle"]:
        return bot
    return await set_lifecycle(db, bot, target, message or "", error_message=message)


