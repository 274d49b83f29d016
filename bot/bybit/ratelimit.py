"""Client-side rate limiting for Bybit V5: per-endpoint rolling windows plus the server's view.

Two sources decide when a request may leave:
- Bybit's published per-UID limits (requests per rolling second per endpoint), overridden by
  the ``X-Bapi-Limit`` header once the exchange has told us the limit that applies to us;
- ``X-Bapi-Limit-Status`` / ``X-Bapi-Limit-Reset-Timestamp``: when the exchange says no
  requests remain, the endpoint is closed until the reset time it gave.
Public (market) endpoints have no per-UID limit; every request also counts against the
per-IP budget of 600 requests per 5 seconds.

Bots sharing one exchange account share its per-UID limits: the backend gives each its
``share`` of them (``bot:config``'s ``rate_share``, 1/n for n bots on one key), so together
they stay inside the account's budget instead of learning it from 10006 answers.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from itertools import islice

# Bybit V5 per-UID limits (classic account, linear), requests per second.
ENDPOINT_LIMITS: dict[str, int] = {
    "/v5/order/create": 10,
    "/v5/order/amend": 10,
    "/v5/order/cancel": 10,
    "/v5/order/cancel-all": 1,
    "/v5/order/realtime": 50,
    "/v5/order/history": 50,
    "/v5/execution/list": 50,
    "/v5/position/list": 50,
    "/v5/position/set-leverage": 10,
    "/v5/position/trading-stop": 10,
    "/v5/account/wallet-balance": 50,
    "/v5/account/fee-rate": 10,
}
IP_LIMIT = (600, 5.0)
# A reset timestamp further away than this is treated as clock skew, not as a real wait.
MAX_HEADER_WAIT_S = 5.0


class RateLimiter:
    """Decides how long a request on an endpoint must wait; one instance per UID.

    Invariant: a per-UID slot is either in ``_inflight[path]`` (monotonic send time, until
    answered) or in ``_sent[path]`` (answer time, for one window); expired stamps are
    dropped before counting; a request is recorded in the same synchronous step that found
    it allowed, so concurrent coroutines can never both take the last slot.
    """

    def __init__(
        self,
        limits: Mapping[str, int] = ENDPOINT_LIMITS,
        *,
        window_s: float = 1.0,
        ip_limit: tuple[int, float] = IP_LIMIT,
        now: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        inflight_s: float | None = None,
    ) -> None:
        self._limits = dict(limits)
        self._window = window_s
        self._ip_limit, self._ip_window = ip_limit
        self._now = now
        self._wall_ms = wall_ms
        self._sleep = sleep
        self._sent: dict[str, deque[float]] = {}  # answered requests, by answer time
        # requests sent and not answered yet, by send time: each holds its slot until its
        # answer (then it moves to `_sent` at the answer's time, as the exchange counted it on
        # arrival, no later) or until `inflight_s` (the HTTP timeout; default one window)
        self._inflight: dict[str, deque[float]] = {}
        self._inflight_s = window_s if inflight_s is None else inflight_s
        self._ip_sent: deque[float] = deque()
        self._blocked_until: dict[str, float] = {}
        self.share = 1.0  # of the account's per-UID limits this client may use (0 < share <= 1)
        # the exchange's latest (remaining, limit) per endpoint: the account's headroom
        self.seen: dict[str, tuple[int, int]] = {}

    def set_share(self, share: float) -> None:
        """Use ``share`` of each per-UID limit from now on (the account's other users take
        the rest); every endpoint keeps at least one request per window."""
        if not 0 < share <= 1:
            raise ValueError(f"rate share must be in (0, 1], got {share}")
        self.share = share

    def limit(self, path: str) -> int | None:
        """Requests per window currently allowed for ``path`` (None: no per-UID limit)."""
        limit = self._limits.get(path)
        return None if limit is None else max(1, int(limit * self.share))

    def delay(self, path: str) -> float:
        """Seconds before a request on ``path`` may be sent (0 when it may go now)."""
        now = self._now()
        waits = [self._blocked_until.get(path, 0.0) - now]
        waits.append(_window_wait(self._ip_sent, self._ip_limit, self._ip_window, now))
        limit = self.limit(path)
        if limit is not None:
            sent = self._sent.setdefault(path, deque())
            inflight = self._inflight.setdefault(path, deque())
            _expire(sent, now - self._window)
            _expire(inflight, now - self._inflight_s)
            over = len(sent) + len(inflight) - limit
            if over >= 0:  # wait until over + 1 slots have expired
                ends = heapq.merge((t + self._window for t in sent),
                                   (t + self._inflight_s for t in inflight))
                waits.append(next(islice(ends, over, None)) - now)
        return max(0.0, *waits)

    def try_acquire(self, path: str) -> float:
        """Take a slot if one is free (returns 0), else return the wait without taking one."""
        wait = self.delay(path)
        if wait <= 0:
            now = self._now()
            self._ip_sent.append(now)
            if path in self._limits:
                self._inflight.setdefault(path, deque()).append(now)
        return wait

    async def acquire(self, path: str) -> None:
        """Wait until a request on ``path`` is allowed, then count it as sent."""
        while (wait := self.try_acquire(path)) > 0:
            await self._sleep(wait)

    def observe(self, path: str, headers: Mapping[str, str]) -> None:
        """Follow the exchange's ``X-Bapi-Limit*`` answer headers for ``path``; the answered
        request's slot moves to now (the exchange counted it on arrival, which is no later:
        a burst queued on the way is not counted a second window early)."""
        self.answered(path)
        limit = _int_header(headers, "x-bapi-limit")
        if limit is not None and limit > 0:
            self._limits[path] = limit
        status = _int_header(headers, "x-bapi-limit-status")
        if status is not None and limit:
            self.seen[path] = (status, limit)
        if status is None or status > 0:
            return
        reset_ms = _int_header(headers, "x-bapi-limit-reset-timestamp")
        wait = self._window if reset_ms is None else (reset_ms - self._wall_ms()) / 1000
        wait = min(max(wait, 0.0), MAX_HEADER_WAIT_S)
        until = self._now() + wait
        self._blocked_until[path] = max(self._blocked_until.get(path, 0.0), until)

    def answered(self, path: str) -> None:
        """A request on ``path`` got its answer (or failed for good) now: its slot counts
        from now for one window. The oldest in-flight slot moves, whichever request it was:
        the count stays and no slot starts before its request was sent."""
        inflight = self._inflight.get(path)
        if inflight:
            inflight.popleft()
            self._sent.setdefault(path, deque()).append(self._now())

    def penalize(self, path: str) -> None:
        """After a 10006 without usable headers: keep ``path`` closed for one full window."""
        until = self._now() + self._window
        self._blocked_until[path] = max(self._blocked_until.get(path, 0.0), until)


def _expire(stamps: deque[float], before: float) -> None:
    while stamps and stamps[0] <= before:
        stamps.popleft()


def _window_wait(sent: deque[float], limit: int, window: float, now: float) -> float:
    while sent and sent[0] <= now - window:
        sent.popleft()
    if len(sent) < limit:
        return 0.0
    return sent[len(sent) - limit] + window - now


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
