"""Login throttling that slows an attacker without locking the owner out, kept in the
database so that several backend processes share it.

Failures are counted over the window (PLUTARC_LOGIN_WINDOW_S) three ways:
- per account and address: after `max_failures`, each further attempt from that address
  must wait 2, 4, 8 … seconds (capped at the window) since its last failure — an exponential
  delay for whoever is guessing there, and no one else;
- per account from any address, and per address for any account (`PER_CLIENT_FACTOR` times
  `max_failures`): refused, but only for addresses the account has never logged in from.
  The owner's known addresses (`login_addresses`, written at each successful login) keep
  working, so a distributed guesser cannot lock the owner out, and one noisy address behind
  a NAT does not lock out every account behind it that has logged in there before.
Unknown emails are counted exactly like known ones (the answer says nothing about whether
an account exists). Old failures are deleted by `prune`.
"""

from __future__ import annotations

import math

from backend.runtime.errors import TooManyRequests
from backend.runtime.executor import Executor

PER_CLIENT_FACTOR = 4
KNOWN_ADDRESS_DAYS = 90


async def check_login_allowed(
    db: Executor, email: str, client: str, user_id: int | None, max_failures: int,
    window_s: int,
) -> None:
    """Raise 429 when this attempt must wait (see the module docstring)."""
    row = await db.fetchrow(
        "SELECT count(*) FILTER (WHERE email = $1 AND client = $2) AS pair, "
        "extract(epoch FROM now() - max(at) FILTER (WHERE email = $1 AND client = $2)) AS since, "
        "count(*) FILTER (WHERE email = $1) AS by_account, "
        "count(*) FILTER (WHERE client = $2) AS by_client "
        "FROM login_failures WHERE at > now() - make_interval(secs => $3)",
        email, client, float(window_s),
    )
    assert row is not None
    if row["pair"] >= max_failures:
        delay = min(window_s, 2 ** min(row["pair"] - max_failures + 1, 30))
        wait = delay - float(row["since"])
        if wait > 0:
            raise TooManyRequests(
                f"too many failed logins from this address: try again in {math.ceil(wait)} s")
    if user_id is not None and await db.fetchval(
            "SELECT 1 FROM login_addresses WHERE user_id = $1 AND client = $2", user_id, client):
        return
    limit = max_failures * PER_CLIENT_FACTOR
    if row["by_account"] >= limit or row["by_client"] >= limit:
        raise TooManyRequests(
            f"too many failed logins: try again in up to {window_s // 60} minutes, "
            "or log in from an address you have used before")


async def record_failure(db: Executor, email: str, client: str) -> None:
    await db.execute(
        "INSERT INTO login_failures (email, client, at) VALUES ($1, $2, now())", email, client
    )


async def record_success(db: Executor, user_id: int, client: str) -> None:
    """`client` is now a known address of the user."""
    await db.execute(
        "INSERT INTO login_addresses (user_id, client, last_at) VALUES ($1, $2, now()) "
        "ON CONFLICT (user_id, client) DO UPDATE SET last_at = now()", user_id, client)


def _count(tag: str) -> int:
    return int(tag.rsplit(" ", 1)[-1])


async def prune(db: Executor, window_s: int) -> dict[str, int]:
    """Delete failures older than the window, sessions ended a day ago or more, and known
    addresses unused for KNOWN_ADDRESS_DAYS; rows deleted per table."""
    return {
        "login_failures": _count(await db.execute(
            "DELETE FROM login_failures WHERE at < now() - make_interval(secs => $1)",
            float(window_s))),
        "sessions": _count(await db.execute(
            "DELETE FROM sessions WHERE coalesce(revoked_at, expires_at) "
            "< now() - interval '1 day'")),
        "login_addresses": _count(await db.execute(
            "DELETE FROM login_addresses "
            f"WHERE last_at < now() - interval '{KNOWN_ADDRESS_DAYS} days'")),
    }
