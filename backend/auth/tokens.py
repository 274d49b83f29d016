"""Opaque bearer tokens: user sessions (`pls_...`) and bot tokens (`plb_...`).

Only the SHA-256 of a token is stored; tokens carry 256 random bits, so a fast hash is enough.
Sessions expire and are revoked by logout; a bot token is revoked when its bot is redeployed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import asyncpg

from backend.runtime.context import ANONYMOUS, Auth
from backend.runtime.errors import Unauthorized
from backend.runtime.executor import Executor

SESSION_PREFIX = "pls_"
BOT_PREFIX = "plb_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


async def create_session(db: Executor, user_id: int, ttl_s: int) -> str:
    """Insert a session for `user_id`; return the token (shown once, never stored)."""
    token = new_token(SESSION_PREFIX)
    expires = datetime.now(UTC) + timedelta(seconds=ttl_s)
    await db.execute(
        "INSERT INTO sessions (user_id, token_hash, created_at, expires_at) "
        "VALUES ($1, $2, now(), $3)",
        user_id, token_hash(token), expires,
    )
    return token


async def issue_bot_token(db: Executor, bot_id: int) -> str:
    """Revoke the bot's previous tokens and return a fresh one."""
    await db.execute(
        "UPDATE bot_tokens SET revoked_at = now() WHERE bot_id = $1 AND revoked_at IS NULL",
        bot_id,
    )
    token = new_token(BOT_PREFIX)
    await db.execute(
        "INSERT INTO bot_tokens (bot_id, token_hash, created_at) VALUES ($1, $2, now())",
        bot_id, token_hash(token),
    )
    return token


async def resolve(pool: asyncpg.Pool, token: str | None) -> Auth:
    """Who a bearer token belongs to. No token → anonymous; a bad or expired one → 401."""
    if not token:
        return ANONYMOUS
    digest = token_hash(token)
    if token.startswith(SESSION_PREFIX):
        row = await pool.fetchrow(
            "SELECT id, user_id FROM sessions WHERE token_hash = $1 "
            "AND revoked_at IS NULL AND expires_at > now()",
            digest,
        )
        if row:
            return Auth("user", user_id=row["user_id"], session_id=row["id"])
        raise Unauthorized("session expired or signed out: log in again")
    if token.startswith(BOT_PREFIX):
        row = await pool.fetchrow(
            "SELECT id, bot_id FROM bot_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
            digest,
        )
        if row:
            return Auth("bot", bot_id=row["bot_id"], session_id=row["id"])
        raise Unauthorized("bot token revoked or unknown")
    raise Unauthorized("malformed token")


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return value.strip()


async def still_valid(pool: asyncpg.Pool, auths: list[Auth]) -> set[tuple[str, int]]:
    """Which of these credentials are still valid now, as (kind, session_id) pairs."""
    ids = {kind: [a.session_id for a in auths if a.kind == kind and a.session_id is not None]
           for kind in ("user", "bot")}
    valid: set[tuple[str, int]] = set()
    if ids["user"]:
        rows = await pool.fetch(
            "SELECT id FROM sessions WHERE id = ANY($1::bigint[]) AND revoked_at IS NULL "
            "AND expires_at > now()", ids["user"])
        valid |= {("user", r["id"]) for r in rows}
    if ids["bot"]:
        rows = await pool.fetch(
            "SELECT id FROM bot_tokens WHERE id = ANY($1::bigint[]) AND revoked_at IS NULL",
            ids["bot"])
        valid |= {("bot", r["id"]) for r in rows}
    return valid
