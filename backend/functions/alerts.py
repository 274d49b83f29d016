"""Alerts (`alerts:*`): a user's in-app notifications (live list and unread count), marking
them read, and an optional webhook that receives each one signed and retried
(rules and signing: backend/domain/alerts.py).

Delivery: `alerts:dispatch` (every 2 s) queues `alerts:deliver` for each pending
notification; the action POSTs it and raises on anything but 2xx, so the scheduler retries
it after 2, 4, 8, 16 s (5 attempts; then the job stays `failed` in `scheduled_jobs`).
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from typing import Annotated, Any, TypedDict

import httpx
from pydantic import AnyHttpUrl, Field

from backend.domain.alerts import SIGNATURE_HEADER, sign, webhook_body
from backend.runtime import Ctx, Id, action, cron, mutation, query

NotificationId = Id["notifications"]
COLUMNS = "id, bot_id, kind, level, message, created_at, read_at"


class Notification(TypedDict):
    """One alert: what (`error`, `reconciling`, `connection`, `guard`), about which bot."""

    id: int
    bot_id: int | None
    kind: str
    level: str
    message: str
    created_at: datetime
    read_at: datetime | None


class Unread(TypedDict):
    count: int


class Updated(TypedDict):
    updated: int


class WebhookSet(TypedDict):
    """The webhook now in force; `secret` signs its POSTs and is shown only in this answer."""

    webhook_url: str | None
    secret: str | None


class WebhookSettings(TypedDict):
    webhook_url: str | None


class Delivery(TypedDict):
    url: str
    body: str
    signature: str


class Delivered(TypedDict):
    delivered: bool


async def _callers(ctx: Ctx, sql: str) -> Any:
    """One value of the calling user's alerts (`$1` in `sql` is the user's id)."""
    return await ctx.db.fetchval(sql, ctx.auth.require_user())


def _rows(tag: str) -> int:
    """How many rows an UPDATE changed, from its command tag (`UPDATE 3`)."""
    return int(tag.split()[-1])


@query
async def list_(ctx: Ctx, limit: Annotated[int, Field(ge=1, le=200)] = 50) -> list[Notification]:
    """The caller's notifications, newest first."""
    user_id = ctx.auth.require_user()
    return await ctx.db.fetch(
        f"SELECT {COLUMNS} FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
        user_id, limit)


@query
async def unread(ctx: Ctx) -> Unread:
    """How many of the caller's notifications are unread."""
    return {"count": await _callers(
        ctx, "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")}


@mutation
async def markRead(
    ctx: Ctx, ids: Annotated[list[NotificationId], Field(max_length=500)] | None = None
) -> Updated:
    """Mark the given notifications read (all unread ones without `ids`)."""
    user_id = ctx.auth.require_user()
    tag = await ctx.db.execute(
        "UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL "
        "AND ($2::bigint[] IS NULL OR id = ANY($2))", user_id, ids)
    return {"updated": _rows(tag)}


@query
async def settings(ctx: Ctx) -> WebhookSettings:
    """The caller's webhook URL (its secret is never shown again)."""
    return {"webhook_url": await _callers(
        ctx, "SELECT webhook_url FROM alert_settings WHERE user_id = $1")}


@mutation
async def setWebhook(ctx: Ctx, url: AnyHttpUrl | None = None) -> WebhookSet:
    """Set (or with no `url`, remove) the webhook; a new signing secret each time, answered
    once here."""
    user_id = ctx.auth.require_user()
    secret = secrets.token_hex(32) if url is not None else None
    text = str(url) if url is not None else None
    await ctx.db.execute(
        "INSERT INTO alert_settings (user_id, webhook_url, webhook_secret) VALUES ($1, $2, $3) "
        "ON CONFLICT (user_id) DO UPDATE SET webhook_url = $2, webhook_secret = $3",
        user_id, text, secret)
    return {"webhook_url": text, "secret": secret}


@cron(every_s=2)
@mutation(internal=True)
async def dispatch(ctx: Ctx) -> int:
    """Queue the delivery of every pending notification."""
    rows = await ctx.db.fetch(
        "UPDATE notifications SET webhook_state = 'queued' WHERE webhook_state = 'pending' "
        "RETURNING id")
    for row in rows:
        await ctx.scheduler.run_after(0, "alerts:deliver", {"notification_id": row["id"]})
    return len(rows)


@mutation(internal=True)  # internal: only mutations can be (it writes nothing)
async def webhookDelivery(ctx: Ctx, notification_id: NotificationId,
                          at_s: Annotated[int, Field(ge=0)]) -> Delivery | None:
    """What to POST for a notification at `at_s`, signed; None without a webhook now."""
    row = await ctx.db.fetchrow(
        "SELECT n.id, n.bot_id, n.kind, n.level, n.message, n.created_at, s.webhook_url, "
        "s.webhook_secret FROM notifications n JOIN alert_settings s ON s.user_id = n.user_id "
        "WHERE n.id = $1 AND s.webhook_url IS NOT NULL", notification_id)
    if row is None:
        return None
    body = webhook_body(row)
    return {"url": row["webhook_url"], "body": body,
            "signature": sign(row["webhook_secret"], at_s, body)}


@action(internal=True)
async def deliver(ctx: Ctx, notification_id: NotificationId) -> Delivered:
    """POST one notification to its user's webhook; raises (so the scheduler retries) on a
    network error or an answer other than 2xx."""
    d = await ctx.mutation("alerts:webhookDelivery",
                        {"notification_id": notification_id, "at_s": int(time.time())})
    if d is None:
        return {"delivered": False}
    async with httpx.AsyncClient(timeout=10, follow_redirects=False) as http:
        answer = await http.post(d["url"], content=d["body"], headers={
            "Content-Type": "application/json", SIGNATURE_HEADER: d["signature"]})
    if not 200 <= answer.status_code < 300:
        raise RuntimeError(f"webhook answered {answer.status_code}")
    await ctx.mutation("alerts:markDelivered", {"notification_id": notification_id})
    return {"delivered": True}


@mutation(internal=True)
async def markDelivered(ctx: Ctx, notification_id: NotificationId) -> Updated:
    """The webhook took the notification (2xx)."""
    tag = await ctx.db.execute(
        "UPDATE notifications SET webhook_state = 'delivered' WHERE id = $1", notification_id)
    return {"updated": _rows(tag)}
