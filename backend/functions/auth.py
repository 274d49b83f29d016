"""Sign-up, login, logout, password change and the caller's profile (`auth:*`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypedDict

from pydantic import AfterValidator, Field, StringConstraints

from backend.auth.passwords import MIN_LENGTH, hash_password, verify_password
from backend.auth.ratelimit import check_login_allowed, record_failure
from backend.auth.tokens import create_session
from backend.config import get_settings
from backend.runtime import BadRequest, Conflict, Ctx, Ok, Unauthorized, action, mutation, query


def _normalise_email(value: str) -> str:
    value = value.strip().lower()
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or " " in value:
        raise ValueError("not an email address")
    return value


Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_normalise_email)]
Password = Annotated[str, Field(min_length=1, max_length=1024)]


class Account(TypedDict):
    id: int
    email: str


class Profile(Account):
    display_name: str
    created_at: datetime


class Credentials(TypedDict):
    """A session token, or None when the email or password was wrong."""

    token: str | None


class Session(TypedDict):
    token: str


@mutation
async def signup(ctx: Ctx, email: Email, password: Password) -> Account:
    """Create an account; returns its id and email (log in to get a token)."""
    if len(password) < MIN_LENGTH:
        raise BadRequest(f"password: at least {MIN_LENGTH} characters", field="password")
    exists = await ctx.db.fetchval("SELECT 1 FROM users WHERE email = $1", email)
    if exists:
        raise Conflict("an account with this email already exists", field="email")
    row = await ctx.db.fetchrow(
        "INSERT INTO users (email, password_hash, display_name, created_at) "
        "VALUES ($1, $2, '', now()) RETURNING id, email",
        email, hash_password(password),
    )
    assert row is not None
    return row  # type: ignore[return-value]


@mutation(internal=True)
async def checkCredentials(ctx: Ctx, email: Email, password: Password) -> Credentials:
    """Rate-limit check, then password check: a session token, or the failure recorded."""
    settings = get_settings()
    await check_login_allowed(
        ctx.db, email, ctx.client, settings.login_max_failures, settings.login_window_s
    )
    user = await ctx.db.fetchrow("SELECT id, password_hash FROM users WHERE email = $1", email)
    if user is None or not verify_password(password, user["password_hash"]):
        await record_failure(ctx.db, email, ctx.client)
        return {"token": None}
    token = await create_session(ctx.db, user["id"], settings.session_ttl_s)
    return {"token": token}


@action
async def login(ctx: Ctx, email: Email, password: Password) -> Session:
    """Exchange email + password for a session token (`Authorization: Bearer <token>`)."""
    assert ctx.mutation is not None
    result = await ctx.mutation("auth:checkCredentials", {"email": email, "password": password})
    if result["token"] is None:
        raise Unauthorized("wrong email or password")
    return {"token": result["token"]}


@mutation
async def logout(ctx: Ctx) -> Ok:
    """Revoke the session this call was made with."""
    ctx.auth.require_user()
    await ctx.db.execute(
        "UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        ctx.auth.session_id,
    )
    return {"ok": True}


@query
async def me(ctx: Ctx) -> Profile:
    """The caller's profile."""
    user_id = ctx.auth.require_user()
    row = await ctx.db.fetchrow(
        "SELECT id, email, display_name, created_at FROM users WHERE id = $1", user_id
    )
    if row is None:
        raise Unauthorized("this account no longer exists")
    return row


@mutation
async def updateProfile(
    ctx: Ctx, display_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
) -> Profile:
    """Change the caller's display name."""
    user_id = ctx.auth.require_user()
    row = await ctx.db.fetchrow(
        "UPDATE users SET display_name = $2 WHERE id = $1 "
        "RETURNING id, email, display_name, created_at",
        user_id, display_name,
    )
    return dict(row or {})


class PasswordChanged(TypedDict):
    ok: bool
    other_sessions_ended: int


@mutation
async def changePassword(ctx: Ctx, old_password: Password, new_password: Password
                         ) -> PasswordChanged:
    """Replace the caller's password (the current one is required). Every other session of
    the account is revoked; the one making this call stays signed in."""
    user_id = ctx.auth.require_user()
    if len(new_password) < MIN_LENGTH:
        raise BadRequest(f"new_password: at least {MIN_LENGTH} characters", field="new_password")
    current = await ctx.db.fetchval("SELECT password_hash FROM users WHERE id = $1", user_id)
    if current is None or not verify_password(old_password, current):
        raise BadRequest("the current password is wrong", field="old_password")
    await ctx.db.execute("UPDATE users SET password_hash = $2 WHERE id = $1",
                         user_id, hash_password(new_password))
    revoked = await ctx.db.fetch(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND id <> $2 "
        "AND revoked_at IS NULL RETURNING id", user_id, ctx.auth.session_id,
    )
    return {"ok": True, "other_sessions_ended": len(revoked)}
