"""Async Bybit V5 REST client: signing, TLS trust, rate limits, typed errors, time sync.

Returns the ``result`` object of Bybit's envelope and raises `bot.bybit.errors` types
carrying retCode/retMsg. The exact query string or JSON body that is signed is the one sent.
Nothing here logs headers, secrets or signatures: only method, path, retCode and duration.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Any, Self
from urllib.parse import urlencode

import httpx

from bot.bybit import errors
from bot.bybit.errors import ApiError, HttpStatusError, TransportError
from bot.bybit.ratelimit import RateLimiter
from bot.bybit.retry import RetryPolicy, with_retry
from bot.bybit.signing import DEFAULT_RECV_WINDOW_MS, Credentials, rest_headers
from bot.bybit.tls import CaSource, ssl_context

log = logging.getLogger(__name__)

BASE_URLS = {"mainnet": "https://api.bybit.com", "testnet": "https://api-testnet.bybit.com"}
# Failures before the request left this machine: resending can never double anything.
MAX_CLOCK_SKEW_MS = 120_000
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def base_url(network: str) -> str:
    """REST base URL for ``mainnet``/``testnet``; anything else is taken as a URL (local)."""
    return BASE_URLS.get(network, network).rstrip("/")


class BybitRest:
    """One UID's REST session. Use ``async with`` or call `aclose`."""

    def __init__(
        self,
        url: str,
        credentials: Credentials | None = None,
        *,
        ca: CaSource = None,
        timeout_s: float = 10.0,
        recv_window_ms: int = DEFAULT_RECV_WINDOW_MS,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = base_url(url)
        self._creds = credentials
        self._recv_window = recv_window_ms
        self._offset_ms = 0
        self.limiter = limiter or RateLimiter(wall_ms=self.now_ms, inflight_s=timeout_s)
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=self.url,
            verify=ssl_context(ca),
            timeout=timeout_s,
            trust_env=False,
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def now_ms(self) -> int:
        """The exchange's clock as best known (local clock + measured offset)."""
        return int(time.time() * 1000) + self._offset_ms

    async def server_time_ms(self) -> int:
        """The exchange's own clock from market/time (on the local exchange: market time)."""
        result = await self.get("/v5/market/time")
        if "timeNano" in result:
            return int(result["timeNano"]) // 1_000_000
        return int(result["timeSecond"]) * 1000

    async def latency_ms(self) -> float:
        """Round trip of one market/time call, in milliseconds (for heartbeats)."""
        started = time.perf_counter()
        await self._send("GET", "/v5/market/time", None, signed=False)
        return (time.perf_counter() - started) * 1000

    async def sync_time(self) -> int:
        """Measure the signing clock's offset to the exchange; returns the offset in ms.

        An offset beyond `MAX_CLOCK_SKEW_MS` is not a clock error but a simulated market clock
        (the local exchange checks the receive window against the real clock): it is ignored.
        """
        before = time.time() * 1000
        server_ms = await self.server_time_ms()
        offset = int(server_ms - (before + time.time() * 1000) / 2)
        if abs(offset) > MAX_CLOCK_SKEW_MS:
            log.warning("exchange clock %d ms away from ours: not a skew, ignored", offset)
            offset = 0
        self._offset_ms = offset
        return offset

    async def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, signed: bool = False
    ) -> dict[str, Any]:
        """GET with retries (reads are always safe to repeat)."""
        return await with_retry(
            lambda: self._send("GET", path, params, signed=signed), self.retry, what=path
        )

    async def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Signed POST with retries: only for calls whose repetition is harmless."""
        return await with_retry(
            lambda: self._send("POST", path, body, signed=True), self.retry, what=path
        )

    async def post_once(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Exactly one signed POST attempt (only a clock resync may resend it)."""
        return await self._send("POST", path, body, signed=True)

    async def pages(
        self, path: str, params: Mapping[str, Any], *, signed: bool = True, max_pages: int = 50
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield every item of a cursor-paginated ``result.list``."""
        query = dict(params)
        for _ in range(max_pages):
            result = await self.get(path, query, signed=signed)
            for item in result.get("list", []):
                yield item
            cursor = result.get("nextPageCursor")
            if not cursor:
                return
            query["cursor"] = cursor

    async def _send(
        self, method: str, path: str, params: Mapping[str, Any] | None, *, signed: bool
    ) -> dict[str, Any]:
        try:
            return await self._send_now(method, path, params, signed=signed)
        except ApiError as exc:
            if exc.ret_code != errors.TIMESTAMP_OUT_OF_WINDOW or not signed:
                raise
            # Rejected before execution: resync the clock and send it again, once.
            await self.sync_time()
            return await self._send_now(method, path, params, signed=signed)

    async def _send_now(
        self, method: str, path: str, params: Mapping[str, Any] | None, *, signed: bool
    ) -> dict[str, Any]:
        if method == "GET":
            payload = urlencode([(k, _query_value(v)) for k, v in (params or {}).items()])
            target, content = (f"{path}?{payload}" if payload else path), None
        else:
            payload = json.dumps(dict(params or {}), separators=(",", ":"), default=_decimal)
            target, content = path, payload.encode()
        headers = {"Content-Type": "application/json"} if content is not None else {}
        if signed and self._creds is None:
            raise ValueError(f"{path} needs API credentials")
        await self.limiter.acquire(path)
        if signed:  # timestamp taken after any rate-limit wait, so it is fresh when sent
            headers |= rest_headers(self._creds, payload, self.now_ms(), self._recv_window)
        started = time.perf_counter()
        try:
            resp = await self._http.request(method, target, content=content, headers=headers)
        except httpx.TransportError as exc:
            self.limiter.answered(path)  # it may have arrived: its slot counts from now
            log.info("%s %s failed: %s", method, path, type(exc).__name__)
            raise TransportError(path, exc, ambiguous=not isinstance(exc, _NOT_SENT)) from None
        self.limiter.observe(path, resp.headers)
        return self._unwrap(method, path, resp, time.perf_counter() - started)

    def _unwrap(self, method: str, path: str, resp: httpx.Response, took: float) -> dict[str, Any]:
        try:
            body = resp.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "retCode" not in body:
            log.info("%s %s -> HTTP %d in %.1f ms", method, path, resp.status_code, took * 1e3)
            raise HttpStatusError(path, resp.status_code)
        code = int(body["retCode"])
        log.debug("%s %s -> retCode %d in %.1f ms", method, path, code, took * 1e3)
        if resp.status_code >= 500:
            raise HttpStatusError(path, resp.status_code)
        if code != 0:
            if code == errors.TOO_MANY_VISITS:
                self.limiter.penalize(path)
            raise ApiError(path, code, str(body.get("retMsg", "")))
        result = body.get("result")
        return result if isinstance(result, dict) else {}


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _decimal(value) if isinstance(value, Decimal) else str(value)


def _decimal(value: Any) -> str:
    """Bybit takes prices and quantities as strings; a Decimal must never pass through float."""
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"cannot send {type(value).__name__} to Bybit")
