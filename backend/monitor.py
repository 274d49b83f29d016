"""The bot monitor: an asyncio task in each backend process that marks bots stale when their
heartbeats stop (by a mutation, so live queries see it) and periodically applies the
retention policy to equity snapshots and signal states.

Queries are deterministic and cannot look at the clock; staleness therefore has to be
written. Every process may run one: the mutations are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from backend.runtime.context import ANONYMOUS
from backend.runtime.runner import Runtime

log = logging.getLogger("plutarc.monitor")


class BotMonitor:
    """`start()` it after the runtime exists; `await stop()` before closing the pool."""

    def __init__(
        self, runtime: Runtime, stale_after_s: int = 60, interval_s: float = 10.0,
        retention_every_s: float = 3600.0,
    ) -> None:
        self.runtime = runtime
        self.stale_after_s = stale_after_s
        self.interval_s = interval_s
        self.retention_every_s = retention_every_s
        self._task: asyncio.Task[None] | None = None
        self._last_retention = 0.0

    async def check_once(self) -> list[int]:
        """Mark stale bots now; returns their ids."""
        outcome = await self.runtime.call(
            "mutation", "bots:markStale", {"stale_after_s": self.stale_after_s}, ANONYMOUS,
            internal_ok=True,
        )
        return outcome.value

    async def retention_once(self) -> None:
        """Apply the retention policy to every bot, one transaction per bot; prune old
        login failures, ended sessions and unused login addresses."""
        for bot_id in await self.runtime.pool.fetch("SELECT id FROM bots ORDER BY id"):
            await self.runtime.call("mutation", "bots:applyRetention", {"bot_id": bot_id["id"]},
                                    ANONYMOUS, internal_ok=True)
        await self.runtime.call("mutation", "auth:prune", {}, ANONYMOUS, internal_ok=True)

    async def _run(self) -> None:
        while True:
            try:
                stale = await self.check_once()
                if stale:
                    log.info("bots marked stale: %s", stale)
                if time.monotonic() - self._last_retention >= self.retention_every_s:
                    self._last_retention = time.monotonic()
                    await self.retention_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bot monitor pass failed; retrying in %.0fs", self.interval_s)
            await asyncio.sleep(self.interval_s)

    def start(self) -> BotMonitor:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="plutarc-bot-monitor")
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def bot_monitor_service(
    stale_after_s: int = 60, interval_s: float = 10.0, retention_every_s: float = 3600.0
) -> Callable[[Any], AbstractAsyncContextManager[BotMonitor]]:
    """A service for `create_app(dsn, services=[bot_monitor_service()])`: the monitor runs
    on the app's runtime for the lifetime of the app."""

    @contextlib.asynccontextmanager
    async def service(state: Any) -> AsyncIterator[BotMonitor]:
        monitor = BotMonitor(state.runtime, stale_after_s, interval_s, retention_every_s).start()
        try:
            yield monitor
        finally:
            await monitor.stop()

    return service
