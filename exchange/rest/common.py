"""The Bybit envelope, the wrappers that turn plain handlers into Starlette endpoints (public,
or signed: faults, signature, receive window, rate limit), and small parameter helpers.

Every answer is HTTP 200 with {"retCode","retMsg","result","retExtInfo","time"}, except the
injected 503/504 faults, as Bybit answers gateway trouble, and unknown routes (HTTP 404 with the
same JSON envelope, so a client reads a refusal, never an outage page). `time` is market time:
one clock for everything a client sees (the signature window alone uses the wall clock).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response

from exchange.accounts import Account
from exchange.auth import verify_rest
from exchange.clock import wall_ms
from exchange.engine import Exchange
from exchange.errors import ApiError, params_error
from exchange.faults import RestFault
from exchange.market.symbol import SymbolMarket
from exchange.numbers import fmt

LOG = logging.getLogger(__name__)
PublicHandler = Callable[[Exchange, dict], dict]
SignedHandler = Callable[[Exchange, Account, dict], dict]


def _default(value: object) -> str:
    if isinstance(value, Decimal):
        return fmt(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")


def envelope(
    now_ms: int,
    result: dict | None = None,
    code: int = 0,
    msg: str = "OK",
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """Bybit's answer envelope; `now_ms` is the market clock's time."""
    body = {
        "retCode": code,
        "retMsg": msg,
        "result": result if result is not None else {},
        "retExtInfo": {},
        "time": now_ms,
    }
    return Response(
        json.dumps(body, default=_default, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


async def not_found(request: Request, exc: Exception) -> Response:
    """Unknown route or method: Bybit's JSON error (HTTP 404), never a plain-text page."""
    exchange: Exchange = request.app.state.exchange
    return envelope(
        exchange.now(), code=10001, msg=f"route not found: {request.url.path}", status=404
    )


def public(handler: PublicHandler):
    """Endpoint for an unsigned market-data route."""

    async def endpoint(request: Request) -> Response:
        exchange: Exchange = request.app.state.exchange
        exchange.catch_up()
        try:
            result = handler(exchange, dict(request.query_params))
            return envelope(exchange.now(), result)
        except ApiError as err:
            return envelope(exchange.now(), code=err.code, msg=err.message)

    return endpoint


async def _fault_answer(fault: RestFault, exchange: Exchange) -> Response:
    if fault is RestFault.ERROR:
        return Response(
            "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
            status_code=503,
            media_type="text/html",
        )
    await asyncio.sleep(exchange.faults.settings.timeout_seconds)
    return Response(
        "<html><body><h1>504 Gateway Time-out</h1></body></html>",
        status_code=504,
        media_type="text/html",
    )


def signed(path: str, handler: SignedHandler):
    """Endpoint for a private route: faults, Bybit signature, rate limit, then the handler."""

    async def endpoint(request: Request) -> Response:
        exchange: Exchange = request.app.state.exchange
        raw = (await request.body()).decode() if request.method == "POST" else request.url.query
        settings = exchange.faults.settings
        if settings.rest_delay_ms:
            await asyncio.sleep(settings.rest_delay_ms / 1000)
        fault = exchange.faults.decide_rest(path)
        if fault in (RestFault.ERROR, RestFault.TIMEOUT):
            return await _fault_answer(fault, exchange)
        headers: dict[str, str] = {}
        try:
            api_key = verify_rest(
                request.headers, raw, exchange.accounts, wall_ms(), exchange.now()
            )
            account = exchange.accounts.by_key(api_key)
            verdict = exchange.limiter.hit(account.uid, path, wall_ms())
            headers = verdict.headers()
            if not verdict.allowed:
                raise ApiError(10006, "Too many visits. Exceeded the API Rate Limit.")
            params = _params(request, raw)
            exchange.catch_up()
            result = handler(exchange, account, params)
        except ApiError as err:
            return envelope(exchange.now(), code=err.code, msg=err.message, headers=headers)
        except Exception:
            LOG.exception("%s failed", path)
            return envelope(exchange.now(), code=10016, msg="Server error.", headers=headers)
        if fault is RestFault.TIMEOUT_AFTER:
            return await _fault_answer(fault, exchange)
        return envelope(exchange.now(), result, headers=headers)

    return endpoint


def _params(request: Request, raw: str) -> dict:
    if request.method != "POST":
        return dict(request.query_params)
    try:
        body = json.loads(raw or "{}")
    except ValueError:
        raise params_error("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise params_error("request body must be a JSON object")
    return body


CATEGORIES = ("linear", "inverse", "spot", "option")


def require_linear(params: dict, default: str | None = None) -> str:
    """For calls that act (create, amend, leverage...): only linear is simulated."""
    category = params.get("category") or default
    if category is None:
        raise params_error("category is required")
    if category != "linear":
        raise ApiError(10001, "Illegal category")
    return category


def listed_category(params: dict) -> str:
    """For list queries: Bybit answers another valid category with an empty list (there are
    no inverse, spot or option instruments here), an invalid one with 10001."""
    category = params.get("category")
    if category is None:
        raise params_error("category is required")
    if category not in CATEGORIES:
        raise ApiError(10001, "Illegal category")
    return category


def empty_list(category: str) -> dict:
    return {"category": category, "list": [], "nextPageCursor": ""}


def linear_list(handler: Callable[..., dict]) -> Callable[..., dict]:
    """Wrap a list route's handler (public or signed; params come last): another valid
    category answers an empty list before the handler runs (see `listed_category`)."""

    def wrapped(exchange: Exchange, *args: object) -> dict:
        category = listed_category(args[-1])
        if category != "linear":
            return empty_list(category)
        return handler(exchange, *args)

    return wrapped


def market_for(exchange: Exchange, params: dict) -> SymbolMarket:
    symbol = params.get("symbol")
    if not symbol:
        raise params_error("symbol is required")
    market = exchange.markets.get(str(symbol))
    if market is None:
        raise ApiError(10001, "params error: symbol invalid")
    return market


def int_param(params: dict, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise params_error(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise params_error(f"{name} must be between {low} and {high}")
    return value


def paginate(items: list, params: dict, default_limit: int, max_limit: int) -> tuple[list, str]:
    """A page of `items` from the opaque cursor, and the next cursor ("" at the end)."""
    limit = int_param(params, "limit", default_limit, 1, max_limit)
    cursor = str(params.get("cursor") or "0")
    offset = int(cursor) if cursor.isdigit() else 0
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, str(offset + limit) if more else ""
