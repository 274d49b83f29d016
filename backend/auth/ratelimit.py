"""Login rate limiting per account and per client address, kept in the database so that
several backend processes share it."""

from __future__ import annotations

from backend.runtime.errors import TooManyRequests
from backend.runtime.executor import Executor

PER_CLIENT_FACTOR = 4


async def check_login_allowed(
    db: Executor, email: str, client: str, max_failures: int, window_s: int
) -> None:
    """Raise 429 when the account or the client has failed too often within the window."""
    row = await db.fetchrow(
        "SELECT count(*) FILTER (WHERE email = $1) AS by_account, "
        "count(*) FILTER (WHERE client = $2) AS by_client "
        "FROM login_failures WHERE at > now() - make_interval(secs => $3)",
        email, client, float(window_s),
    )
    assert row is not None
    if row["by_account"] >= max_failures or row["by_client"] >= max_failures * PER_CLIENT_FACTOR:
        raise TooManyRequests(
            f"too many failed logins; try again in up to {window_s // 60} minutes"
        )


async def record_failure(db: Executor, email: str, client: str) -> None:
    await db.execute(
        "INSERT INTO login_failures (email, client, at) VALUES ($1, $2, now())", email, client
    )
