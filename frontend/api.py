"""The one place the dashboard talks to the backend: one-shot calls and per-tab clients of
the Python client (`backend/client.py`), with the trader's own token and the browser's
address in `X-Forwarded-For` (the dashboard server is a trusted proxy of the API; it proves
it with the secret `plutarc up` gives it, PLUTARC_PROXY_SECRET, in `X-Plutarc-Proxy`).

Every failure becomes a `DashboardError` whose message a trader can read; `expired` says the
session is no longer valid (the page then returns to the login page).

The operator's `/api/stats` (`operator_stats`): the dashboard holds no operator power of its
own. It asks only for a browser on this machine (loopback) or one whose user typed the
operator token, forwards that browser's address and token, and lets the API decide
(backend/http/operator.py); a remote browser's answer must say it got in by its token.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any, Literal

import httpx

from backend.client import Client, ClientError

API_URL_ENV = "PLUTARC_API_URL"
PROXY_SECRET_ENV = "PLUTARC_PROXY_SECRET"
OPERATOR_TOKEN_ENV = "PLUTARC_OPERATOR_TOKEN"  # the API's; never in the dashboard's environment
DEFAULT_API_URL = "http://127.0.0.1:8000"
Kind = Literal["query", "mutation", "action"]


class DashboardError(Exception):
    """A readable reason something failed; `expired` when the session must be renewed."""

    def __init__(self, message: str, expired: bool = False, field: str | None = None,
                 forbidden: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.expired = expired
        self.field = field  # the argument the backend named, if any
        self.forbidden = forbidden  # the caller may not see this (not an operator)


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


NOT_OPERATOR = ("This page is for operators: open it in a browser on the machine running "
                "plutarc, or enter the operator token (PLUTARC_OPERATOR_TOKEN).")


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


async def operator_stats(client_ip: str, operator_token: str | None) -> dict[str, Any]:
    """The API's `/api/stats` for the browser at `client_ip`, with the operator token its
    user typed (None: none); DashboardError(forbidden=True) when it is not an operator."""
    local = _loopback(client_ip)
    if not client_ip or not (local or operator_token):
        raise DashboardError(NOT_OPERATOR, forbidden=True)
    headers = proxy_headers(client_ip)
    if operator_token:
        headers["Authorization"] = f"Bearer {operator_token}"
    try:
        async with httpx.AsyncClient(base_url=api_url(), timeout=10) as http:
            reply = await http.get("/api/stats", headers=headers)
    except httpx.HTTPError as exc:
        raise readable(exc) from None
    if reply.status_code == 403:
        raise DashboardError("The operator token was not accepted." if operator_token
                             else NOT_OPERATOR, forbidden=True)
    if reply.status_code != 200:
        raise DashboardError(f"/api/stats answered {reply.status_code}; retrying.")
    stats = reply.json()
    if not local and stats.get("operator") != "token":
        # the API took the dashboard's own address for the caller: it does not believe this
        # dashboard's X-Forwarded-For, so a wrong token would have passed too
        raise DashboardError("The API does not trust this dashboard as its proxy (set "
                             "PLUTARC_TRUSTED_PROXIES and PLUTARC_PROXY_SECRET, "
                             "docs/security.md); only a browser on this machine may look.",
                             forbidden=True)
    return stats
