"""Accounts and sessions (`auth:*`): sign-up, login with an optional TOTP second factor,
logout, password change, the caller's profile.

Password hashing runs off the event loop (backend/auth/passwords.py) and outside any
transaction, which is why sign-up, login and password change are actions calling internal
mutations. Sign-up answers the same whether or not the email already has an account, and
login spends the same work and gives the same answer for an unknown email as for a wrong
password: neither tells an outsider which emails exist. Throttling is in
backend/auth/ratelimit.py; `auth:prune` (hourly cron) deletes what it no longer needs.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, NotRequired, TypedDict

from pydantic import AfterValidator, Field, StringConstraints

from backend.auth import twofactor
from backend.auth.passwords import (
    hash_async,
    password_problem,
    verify_async,
    verify_unknown_async,
)
from backend.auth.ratelimit import check_login_allowed, record_failure, record_success
from backend.auth.ratelimit import prune as prune_auth
from backend.auth.tokens import create_session
from backend.auth.totp import provisioning_uri
from backend.config import get_settings
from backend.runtime import (
    BadRequest,
    Conflict,
    Ctx,
    Ok,
    Unauthorized,
    action,
    cron,
    mutation,
    query,
)
from backend.runtime.args import PlainText

SIGNUP_ANSWER = "if this email had no account, it has one now: log in with it"


def _normalise_email(value: str) -> str:
    """One spelling per address: NFKC (full-width letters become ASCII), lower case; then
    ASCII only (internationalised domains as punycode), so lookalike letters from other
    scripts and invisible characters cannot make a second account for the same address."""
    value = unicodedata.normalize("NFKC", value).strip().lower()
    if not value.isascii() or not value.isprintable():
        raise ValueError("an email address must be ASCII (a domain as punycode: xn--…)")
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or " " in value or "@" in domain:
        raise ValueError("not an email address")
    return value


Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_normalise_email),
                  Field(json_schema_extra={"format": "email"})]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
TotpCode = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100),
                        PlainText]


class Profile(TypedDict):
    id: int
    email: str
    display_name: str
    created_at: datetime


class Session(TypedDict):
    token: str


class SignupAnswer(TypedDict):
    """The same for a new and a taken email."""

    email: str
    message: str


class LoginAccount(TypedDict):
    """Internal: who the email belongs to (None: nobody) and the hash to check."""

    user_id: int | None
    password_hash: str | None


class LoginOutcome(TypedDict):
    """Internal: a session token, or None and why."""

    token: str | None
    reason: NotRequired[str]


class PasswordChanged(TypedDict):
    ok: bool
    sessions_revoked: int


class TotpSecret(TypedDict):
    secret: str
    uri: str


class TotpState(TypedDict):
    enabled: bool


def _check_new_password(password: str, field: str) -> None:
    if problem := password_problem(password):
        raise BadRequest(problem.replace("password", field, 1), field=field)


@action
async def signup(ctx: Ctx, email: Email, password: Password) -> SignupAnswer:
    """Create an account (then log in to get a token). The answer is the same whether or not
    the email already had one."""
    _check_new_password(password, "password")
    assert ctx.mutation is not None
    await ctx.mutation("auth:createAccount",
                       {"email": email, "password_hash": await hash_async(password)})
    return {"email": email, "message": SIGNUP_ANSWER}


@mutation(internal=True)
async def createAccount(ctx: Ctx, email: Email, password_hash: str) -> None:
    """Insert the account unless the email has one."""
    await ctx.db.execute(
        "INSERT INTO users (email, password_hash, display_name, created_at) "
        "VALUES ($1, $2, '', now()) ON CONFLICT (email) DO NOTHING", email, password_hash)


@mutation(internal=True)
async def beginLogin(ctx: Ctx, email: Email) -> LoginAccount:
    """Throttle check; the account's id and password hash (None for an unknown email)."""
    settings = get_settings()
    user = await ctx.db.fetchrow("SELECT id, password_hash FROM users WHERE email = $1", email)
    user_id = user["id"] if user else None
    await check_login_allowed(ctx.db, email, ctx.client, user_id,
                              settings.login_max_failures, settings.login_window_s)
    return {"user_id": user_id, "password_hash": user["password_hash"] if user else None}


@mutation(internal=True)
async def finishLogin(
    ctx: Ctx, email: Email, user_id: int | None, password_ok: bool, totp: TotpCode | None = None,
) -> LoginOutcome:
    """After the password check: record a failure, ask for the second factor, or open a
    session and remember the address."""
    if not password_ok or user_id is None:
        await record_failure(ctx.db, email, ctx.client)
        return {"token": None, "reason": "wrong email or password"}
    if await twofactor.is_enabled(ctx.db, user_id):
        if not totp:
            return {"token": None, "reason": "two-factor code required (totp)"}
        if not await twofactor.accept(ctx.db, user_id, totp):
            await record_failure(ctx.db, email, ctx.client)
            return {"token": None, "reason": "wrong two-factor code"}
    await record_success(ctx.db, user_id, ctx.client)
    return {"token": await create_session(ctx.db, user_id, get_settings().session_ttl_s)}


async def _check_password(ctx: Ctx, email: str, password: str) -> tuple[int | None, bool]:
    """Throttle, then verify off the loop; (user id, whether the password is right)."""
    assert ctx.mutation is not None
    account = await ctx.mutation("auth:beginLogin", {"email": email})
    if account["password_hash"] is None:
        return None, await verify_unknown_async(password)
    return account["user_id"], await verify_async(password, account["password_hash"])


async def _confirm_password(ctx: Ctx, password: str, field: str) -> None:
    """The signed-in caller proves it knows the account's password (throttled and counted as
    a failed login when wrong, so a stolen session cannot guess it freely)."""
    ctx.auth.require_user()
    assert ctx.query is not None and ctx.mutation is not None
    email = (await ctx.query("auth:me"))["email"]
    user_id, ok = await _check_password(ctx, email, password)
    if not ok:
        await ctx.mutation("auth:finishLogin",
                           {"email": email, "user_id": user_id, "password_ok": False})
        raise BadRequest("the current password is wrong", field=field)


@action
async def login(ctx: Ctx, email: Email, password: Password,
                totp: TotpCode | None = None) -> Session:
    """Exchange email + password (+ the current TOTP code, when two-factor is on) for a
    session token (`Authorization: Bearer <token>`)."""
    assert ctx.mutation is not None
    user_id, ok = await _check_password(ctx, email, password)
    result = await ctx.mutation("auth:finishLogin", {
        "email": email, "user_id": user_id, "password_ok": ok, "totp": totp})
    if result["token"] is None:
        raise Unauthorized(result["reason"], field="totp" if "two-factor" in result["reason"]
                           else None)
    return {"token": result["token"]}


@action
async def changePassword(ctx: Ctx, old_password: Password,
                         new_password: Password) -> PasswordChanged:
    """Replace the caller's password; every other session of the account is signed out."""
    _check_new_password(new_password, "new_password")
    await _confirm_password(ctx, old_password, "old_password")
    assert ctx.mutation is not None
    revoked = await ctx.mutation("auth:setPassword",
                                 {"password_hash": await hash_async(new_password)})
    return {"ok": True, "sessions_revoked": revoked}


@mutation(internal=True)
async def setPassword(ctx: Ctx, password_hash: str) -> int:
    """Store the caller's new hash; revoke their other sessions; how many were revoked."""
    user_id = ctx.auth.require_user()
    await ctx.db.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id,
                         password_hash)
    tag = await ctx.db.execute(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND id <> $2 "
        "AND revoked_at IS NULL", user_id, ctx.auth.session_id)
    return int(tag.rsplit(" ", 1)[-1])


@mutation
async def totpSetup(ctx: Ctx) -> TotpSecret:
    """Start two-factor login: a new secret (shown once) and its `otpauth://` URI for an
    authenticator app. It takes effect after `auth:totpEnable` with a code from the app."""
    user_id = ctx.auth.require_user()
    if await twofactor.is_enabled(ctx.db, user_id):
        raise Conflict("two-factor login is already on; turn it off first", field=None)
    email = await ctx.db.fetchval("SELECT email FROM users WHERE id = $1", user_id)
    secret = await twofactor.start(ctx.db, user_id)
    return {"secret": secret, "uri": provisioning_uri(secret, email)}


@mutation
async def totpEnable(ctx: Ctx, code: TotpCode) -> TotpState:
    """Turn two-factor login on with a current code for the secret from `auth:totpSetup`."""
    user_id = ctx.auth.require_user()
    if not await twofactor.accept(ctx.db, user_id, code, enable=True):
        raise BadRequest("code: not valid for the pending two-factor secret (run "
                         "auth:totpSetup first, and check the device's clock)", field="code")
    return {"enabled": True}


@action
async def totpDisable(ctx: Ctx, password: Password, code: TotpCode) -> TotpState:
    """Turn two-factor login off; needs the password and a current code."""
    await _confirm_password(ctx, password, "password")
    assert ctx.mutation is not None
    if not await ctx.mutation("auth:totpRemove", {"code": code}):
        raise BadRequest("code: not a current two-factor code", field="code")
    return {"enabled": False}


@mutation(internal=True)
async def totpRemove(ctx: Ctx, code: TotpCode) -> bool:
    """Delete the caller's enabled second factor if `code` is current."""
    user_id = ctx.auth.require_user()
    if not await twofactor.accept(ctx.db, user_id, code):
        return False
    await twofactor.remove(ctx.db, user_id)
    return True


@cron("17 * * * *")
@mutation(internal=True)
async def prune(ctx: Ctx) -> dict[str, int]:
    """Delete old login failures, ended sessions and unused login addresses."""
    return await prune_auth(ctx.db, get_settings().login_window_s)


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
    return row  # type: ignore[return-value]


@mutation
async def updateProfile(ctx: Ctx, display_name: DisplayName) -> Profile:
    """Change the caller's display name."""
    user_id = ctx.auth.require_user()
    row = await ctx.db.fetchrow(
        "UPDATE users SET display_name = $2 WHERE id = $1 "
        "RETURNING id, email, display_name, created_at",
        user_id, display_name,
    )
    assert row is not None
    return row  # type: ignore[return-value]
