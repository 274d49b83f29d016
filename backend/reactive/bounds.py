"""The live-query limits one client meets (backend.limits has the numbers): room for one more
subscription on its socket and for its user, and `wait` only for versions the database has
issued. Shared by the WebSocket and SSE transports."""

from __future__ import annotations

import asyncpg

from backend.limits import Limits
from backend.reactive.engine import Engine
from backend.reactive.session import ClientSession
from backend.runtime.errors import BadRequest, TooManyRequests


def check_subscription_room(engine: Engine, session: ClientSession, sub_id: str,
                            limits: Limits) -> None:
    """429 when a new subscription `sub_id` would pass the socket's or the user's limit
    (re-subscribing an id the socket holds replaces it, so it always has room)."""
    if sub_id in session.subs:
        return
    if len(session.subs) >= limits.subscriptions_per_socket:
        raise TooManyRequests(
            f"at most {limits.subscriptions_per_socket} subscriptions per connection "
            "(PLUTARC_LIMIT_SUBSCRIPTIONS_PER_SOCKET): unsubscribe first", "id")
    scope = session.auth.scope
    if session.auth.kind != "anonymous" and (
            engine.scope_subscriptions[scope] >= limits.subscriptions_per_user):
        raise TooManyRequests(
            f"at most {limits.subscriptions_per_user} subscriptions per user or bot across "
            "all connections (PLUTARC_LIMIT_SUBSCRIPTIONS_PER_USER)", "id")


async def check_issued(pool: asyncpg.Pool, engine: Engine, xid: int) -> None:
    """400 unless transaction `xid` has been started by the database (a `wait` for a later
    one could never end, and would keep the engine re-checking)."""
    if engine.version is not None and xid < engine.version.xmax:
        return
    try:  # PostgreSQL refuses the status of an xid it has not assigned yet
        await pool.fetchval("SELECT pg_xact_status($1::text::xid8)", str(xid))
    except asyncpg.InvalidParameterValueError:
        raise BadRequest(f"version {xid} has not been issued: wait only for versions "
                         "returned by mutations", "version") from None
