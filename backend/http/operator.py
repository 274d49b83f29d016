"""Operator-only endpoints: `/api/stats` tells how many bots are live and what every query
costs, which is no business of traders or anonymous callers.

An operator is a caller on loopback (the machine's own shell; the address after
backend.http.proxies, so a browser behind the dashboard is not one) or one presenting
`Authorization: Bearer <PLUTARC_OPERATOR_TOKEN>` when that variable is set.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from backend.http.calls import error_response
from backend.runtime.errors import Forbidden


def operator_by(request: Request) -> str | None:
    """How the caller is an operator: "loopback", "token", or None (it is not one)."""
    host = request.client.host if request.client else ""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return "loopback"
    except ValueError:
        pass
    token = os.environ.get("PLUTARC_OPERATOR_TOKEN")
    offered = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if token and hmac.compare_digest(offered.encode(), token.encode()):
        return "token"
    return None


async def stats(request: Request) -> Response:
    """The reactive engine's counters, for operators; `operator` says how the caller was
    recognised (the dashboard checks that a remote browser got in by its token, not by the
    dashboard's own loopback address)."""
    how = operator_by(request)
    if how is None:
        return error_response(Forbidden(
            "/api/stats is for operators: call it from this machine or with the operator token"))
    return JSONResponse(request.app.state.engine.stats.to_json() | {"operator": how})
