"""Retries with capped, jittered exponential backoff — and the one retry that must not double.

Retryable: 5xx, timeouts and connection failures, retCode 10006 (rate limited) and 10016
(server error). A plain retry is only used for calls whose repetition is harmless (reads,
cancels, trading-stop). Order creation goes through `create_once`: its request carries a
deterministic orderLinkId, an ambiguous failure is followed by a lookup of that id before
anything is resent, and a 110072 "duplicate orderLinkId" answer means the order exists.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.bybit.errors import (
    DUPLICATE_ORDER_LINK_ID,
    SERVER_ERROR,
    TOO_MANY_VISITS,
    ApiError,
    BybitError,
    HttpStatusError,
    TransportError,
)

log = logging.getLogger(__name__)
RETRYABLE_RET_CODES = frozenset({TOO_MANY_VISITS, SERVER_ERROR})
Sleep = Callable[[float], Awaitable[object]]


@dataclass
class RetryPolicy:
    """Capped exponential backoff with "equal jitter": each delay is in [d/2, d], d ≤ cap."""

    attempts: int = 6
    base_s: float = 0.1
    cap_s: float = 3.0
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Delay after failed attempt number ``attempt`` (0-based)."""
        ceiling = min(self.cap_s, self.base_s * (2**attempt))
        return self.rng.uniform(ceiling / 2, ceiling)


def is_retryable(exc: BaseException) -> bool:
    """True for failures that a later identical request may not hit."""
    if isinstance(exc, TransportError):
        return True
    if isinstance(exc, HttpStatusError):
        return exc.status >= 500 or exc.status == 429
    return isinstance(exc, ApiError) and exc.ret_code in RETRYABLE_RET_CODES


def is_ambiguous(exc: BaseException) -> bool:
    """True when the failed request may nevertheless have been executed by the exchange."""
    return isinstance(exc, BybitError) and exc.ambiguous


async def with_retry[T](
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Sleep = asyncio.sleep,
    what: str = "call",
) -> T:
    """Run ``call`` until it succeeds, a non-retryable error occurs or attempts run out."""
    for attempt in range(policy.attempts):
        try:
            return await call()
        except BybitError as exc:
            if not is_retryable(exc) or attempt == policy.attempts - 1:
                raise
            delay = policy.backoff(attempt)
            log.info("%s failed (%s); retry %d in %.2fs", what, exc, attempt + 1, delay)
            await sleep(delay)
    raise AssertionError("unreachable")


async def create_once[T](
    create: Callable[[], Awaitable[T]],
    lookup: Callable[[], Awaitable[T | None]],
    policy: RetryPolicy,
    *,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """Create something identified by a client id at most once, returning the exchange's view.

    ``create`` must send the same client id every time; ``lookup`` finds the object by that
    id (None when the exchange has no such object). After an ambiguous failure the lookup
    decides: found → done; not found → the create is resent (a duplicate would be refused).
    """
    for attempt in range(policy.attempts):
        try:
            return await create()
        except BybitError as exc:
            if isinstance(exc, ApiError) and exc.ret_code == DUPLICATE_ORDER_LINK_ID:
                return await _must_find(lookup, policy, sleep)
            if exc.ambiguous and (found := await lookup()) is not None:
                log.info("create failed ambiguously (%s) but the exchange has it", exc)
                return found
            if not is_retryable(exc) or attempt == policy.attempts - 1:
                raise
        await sleep(policy.backoff(attempt))
    raise AssertionError("unreachable")


async def _must_find[T](
    lookup: Callable[[], Awaitable[T | None]], policy: RetryPolicy, sleep: Sleep
) -> T:
    """The exchange said the id exists; its query endpoints may lag a moment behind."""
    for attempt in range(policy.attempts):
        if (found := await lookup()) is not None:
            return found
        await sleep(policy.backoff(attempt))
    raise LookupError("exchange reports a duplicate client id but cannot find the object")
