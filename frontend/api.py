"""The one place the dashboard talks to the backend: one-shot calls and per-tab clients of
the Python client (`backend/client.py`), with the trader's own token and the browser's
address in `X-Forwarded-For` (the dashboard server is a trusted proxy of the API; it proves
it with the secret `plutarc up` gives it, PLUTARC_PROXY_SECRET, in `X-Plutarc-Proxy`).

Every failure becomes a `DashboardError` whose message a trader can read; `expired` says the
session is no longer valid (the page then returns to the login page).
"""

from __future__ import annotations

import os
from typing import Any, Literal

import httpx

from backend.client import Client, ClientError

API_URL_ENV = "PLUTARC_API_URL"
PROXY_SECRET_ENV = "PLUTARC_PROXY_SECRET"
DEFAULT_API_URL = "http://127.0.0.1:8000"
Kind = Literal["query", "mutation", "action"]


class DashboardError(Exception):
    """A readable reason something failed; `expired` when the session must be renewed."""

    def __init__(self, message: str, expired: bool = False, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expired = expired
        self.field = field  # the argument the backend named, if any


def api_url() -> str:
    return os.environ.get(API_URL_ENV, DEFAULT_API_URL).rstrip("/")


def client(token: str | None, client_ip: str) -> Client:
    """A backend client for one browser tab (close it when the tab's page changes)."""
    return Client(api_url(), token or None, headers=proxy_headers(client_ip), backoff=(0.2, 3.0))


def proxy_headers(client_ip: str) -> dict[str, str]:
    """The browser's address for the API, with the secret that makes the API believe it."""
    if not client_ip:
        return {}
    headers = {"X-Forwarded-For": client_ip}
    if secret := os.environ.get(PROXY_SECRET_ENV):
        headers["X-Plutarc-Proxy"] = secret
    return headers


def readable(exc: BaseException, anonymous: bool = False) -> DashboardError:
    """The message to show for an exception from a call or a subscription."""
    if isinstance(exc, DashboardError):
        return exc
    if isinstance(exc, ClientError):
        expired = exc.status == 401 and not anonymous
        if expired:
            return DashboardError("Your session has ended. Please log in again.", expired=True)
        return DashboardError(str(exc.message or exc.code or "the request failed"),
                              field=exc.field)
    if isinstance(exc, httpx.HTTPError | OSError):
        return DashboardError(f"The plutarc API at {api_url()} is unreachable; retry in a moment.")
    return DashboardError("Something went wrong; the details are in the dashboard's log.")


async def call(kind: Kind, path: str, args: dict[str, Any] | None, token: str | None,
               client_ip: str) -> Any:
    """Run one function; raises DashboardError with a readable message."""
    try:
        async with client(token, client_ip) as c:
            if kind == "query":
                return await c.query(path, args)
            if kind == "mutation":
                return await c.mutation(path, args)
            return await c.action(path, args)
    except Exception as exc:
        raise readable(exc, anonymous=not token) from None
