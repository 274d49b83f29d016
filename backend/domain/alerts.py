"""Alert rules and webhook signing.

Which bot events become a user's notification (`alert_kind`): an error (any event at level
`error`, e.g. the lifecycle entering `error` or an exchange error on a candle), a
reconciliation difference (`reconciling`), a lost connection (the backend saw no heartbeat
for `bots:markStale`'s 60 s: `connection`), and an entry refused by a guard (`guard`, from the
decision journal). `reconciling` and `guard` are raised once per bot until read, so a
long disagreement or a day-long block is one notification, not one per candle.

A notification raised while the user has a webhook is `pending`; `alerts:dispatch` queues
its delivery (an action the scheduler retries). Each POST is signed like Stripe's webhooks:
header `X-Plutarc-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`;
`verify_signature` is the receiver's check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from backend.runtime.executor import Executor

SIGNATURE_HEADER = "X-Plutarc-Signature"
TOLERANCE_S = 300
ONCE_UNTIL_READ = ("reconciling", "guard")


def alert_kind(kind: str, level: str) -> str | None:
    """The notification kind a bot event raises, or None."""
    if level == "error":
        return "error"
    if kind == "reconciliation":
        return "reconciling"
    if kind == "connection" and level == "warning":
        return "connection"
    return None


async def notify(db: Executor, bot: dict[str, Any], kind: str, level: str,
                 message: str) -> None:
    """Raise a notification for the bot's owner (see the module docstring)."""
    if kind in ONCE_UNTIL_READ and await db.fetchval(
        "SELECT 1 FROM notifications WHERE bot_id = $1 AND kind = $2 AND read_at IS NULL",
        bot["id"], kind,
    ):
        return
    await db.execute(
        "INSERT INTO notifications (user_id, bot_id, kind, level, message, created_at, "
        "webhook_state) SELECT $1, $2, $3, $4, $5, now(), "
        "CASE WHEN EXISTS (SELECT 1 FROM alert_settings WHERE user_id = $1 "
        "AND webhook_url IS NOT NULL) THEN 'pending' END",
        bot["user_id"], bot["id"], kind, level, message[:2000],
    )


async def on_event(db: Executor, bot: dict[str, Any], kind: str, level: str,
                   message: str) -> None:
    """Raise the notification a bot event calls for, if any."""
    if (alert := alert_kind(kind, level)) is not None:
        await notify(db, bot, alert, level, message)


def webhook_body(row: dict[str, Any]) -> str:
    """The POSTed JSON of a notification (stable key order: the signature covers it)."""
    return json.dumps({
        "id": row["id"], "bot_id": row["bot_id"], "kind": row["kind"], "level": row["level"],
        "message": row["message"], "created_at": row["created_at"].isoformat(),
    }, sort_keys=True, separators=(",", ":"))


def sign(secret: str, at_s: int, body: str) -> str:
    """The signature header's value for `body` sent at `at_s`."""
    mac = hmac.new(secret.encode(), f"{at_s}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={at_s},v1={mac}"


def verify_signature(secret: str, header: str, body: str, now_s: int) -> bool:
    """A receiver's check: the header's MAC matches and its time is within TOLERANCE_S."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        at_s = int(parts["t"])
    except (KeyError, ValueError):
        return False
    return abs(now_s - at_s) <= TOLERANCE_S and hmac.compare_digest(
        sign(secret, at_s, body), header)
