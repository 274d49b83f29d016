"""The dashboard is the API's trusted proxy: a call it makes for a browser carries the
browser's address, and the API's per-address records (failed logins) hold that address."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from frontend import api


async def _failures(dsn: str, email: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return [r["client"] for r in await conn.fetch(
            "SELECT client FROM login_failures WHERE email = $1", email)]
    finally:
        await conn.close()


def test_a_failed_login_through_the_dashboard_counts_against_the_browser_address(
        api_url: str, db_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(api.API_URL_ENV, api_url)
    email = "proxied@example.com"
    asyncio.run(api.call("mutation", "auth:signup",
                         {"email": email, "password": "right password"}, None, "10.9.8.7"))
    with pytest.raises(api.DashboardError) as failed:
        asyncio.run(api.call("action", "auth:login", {"email": email, "password": "wrong one"},
                             None, "10.9.8.7"))
    assert failed.value.message == "wrong email or password" and not failed.value.expired
    assert asyncio.run(_failures(db_dsn, email)) == ["10.9.8.7"]
