"""The dashboard is the API's trusted proxy: a call it makes for a browser carries the
browser's address and the proxy secret (`X-Plutarc-Proxy`), and the API's per-address records
(failed logins) hold that address. Another local process sending `X-Forwarded-For` without
the secret is counted at its own (loopback) address: every local process shares loopback."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from frontend import api

SECRET = "dashboard-proxy-secret"


async def _failures(dsn: str, email: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return [r["client"] for r in await conn.fetch(
            "SELECT client FROM login_failures WHERE email = $1", email)]
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def proxied_api_url(db_dsn: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """The API as `plutarc up` runs it: loopback trusted, with a proxy secret."""
    from backend.app import create_app
    from tests.support.servers import ServerThread, app_and_module_functions

    env = {"PLUTARC_TRUSTED_PROXIES": "127.0.0.1,::1", "PLUTARC_PROXY_SECRET": SECRET}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        app = create_app(db_dsn, functions=app_and_module_functions(request.module))
        with ServerThread(app) as url:
            # the middleware reads them when the app first serves; the dashboard side's own
            # PLUTARC_PROXY_SECRET is set per test below
            httpx.get(f"{url}/api/health", timeout=30)
            _restore(saved)
            yield url
    finally:
        _restore(saved)


def _restore(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _fail_login(email: str, client_ip: str) -> None:
    with pytest.raises(api.DashboardError) as failed:
        asyncio.run(api.call("action", "auth:login", {"email": email, "password": "wrong one"},
                             None, client_ip))
    assert failed.value.message == "wrong email or password" and not failed.value.expired


def test_a_failed_login_through_the_dashboard_counts_against_the_browser_address(
        proxied_api_url: str, db_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(api.API_URL_ENV, proxied_api_url)
    monkeypatch.setenv(api.PROXY_SECRET_ENV, SECRET)
    email = "proxied@example.com"
    asyncio.run(api.call("action", "auth:signup",
                         {"email": email, "password": "right password"}, None, "10.9.8.7"))
    _fail_login(email, "10.9.8.7")
    assert asyncio.run(_failures(db_dsn, email)) == ["10.9.8.7"]


def test_a_forwarded_address_without_the_secret_is_not_believed(
        proxied_api_url: str, db_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(api.API_URL_ENV, proxied_api_url)
    email = "unproxied@example.com"
    for secret in (None, "a guess"):
        if secret is None:
            monkeypatch.delenv(api.PROXY_SECRET_ENV, raising=False)
        else:
            monkeypatch.setenv(api.PROXY_SECRET_ENV, secret)
        _fail_login(email, "10.9.8.6")
    assert asyncio.run(_failures(db_dsn, email)) == ["127.0.0.1", "127.0.0.1"]
