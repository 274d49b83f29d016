"""The bot's heartbeat: every few seconds, `bot:heartbeat` with the latency to the exchange.

Heartbeats are not queued in the outbox: a heartbeat says "alive now", and a late one says
nothing (the backend ignores heartbeats older than the last one anyway). The latency is the
round trip of one unsigned REST call (market/time) measured just before, sent as
``exchange_latency_ms`` (left out when the exchange could not be reached). Each heartbeat
carries the bot's version; a backend that does not run this version answers `refused`, and
the bot stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx

from backend.client import ClientError
from bot.bybit.errors import BybitError

log = logging.getLogger(__name__)

LATENCY_FIELD = "exchange_latency_ms"


def bot_version() -> str:
    """The plutarc distribution this bot runs from."""
    try:
        return version("plutarc")
    except PackageNotFoundError:
        return "0.0.0"


class Heartbeat:
    """Sends heartbeats until stopped; `last_latency_ms` and `sent` are kept for inspection."""

    def __init__(
        self,
        send: Callable[[str, dict[str, Any]], Awaitable[object]],
        latency_ms: Callable[[], Awaitable[float]],
        run_tag: str,
        interval_s: float = 5.0,
    ) -> None:
        self._send, self._latency_ms = send, latency_ms
        self._run_tag, self.interval_s = run_tag, interval_s
        self.sent = 0
        self.last_latency_ms: float | None = None
        self.refused: str | None = None

    async def beat(self) -> bool:
        """One heartbeat; False when the backend could not be reached."""
        try:
            self.last_latency_ms = round(await self._latency_ms(), 3)
        except (BybitError, httpx.HTTPError, OSError) as exc:
            log.info("exchange latency not measured: %s", exc)
            self.last_latency_ms = None
        args: dict[str, Any] = {
            "report_id": f"hb:{self._run_tag}:{self.sent + 1}",
            "at": datetime.now(UTC).isoformat(),
            "version": bot_version(),
        }
        if self.last_latency_ms is not None:
            args[LATENCY_FIELD] = self.last_latency_ms
        try:
            answer = await self._send("bot:heartbeat", args)
        except ClientError as exc:
            log.warning("heartbeat refused: %s", exc)
            return False
        except (httpx.HTTPError, OSError) as exc:
            log.info("heartbeat not delivered: %s", exc)
            return False
        if isinstance(answer, dict) and answer.get("refused"):
            self.refused = answer["refused"]
            log.error("the backend refuses this bot: %s", self.refused)
            return False
        self.sent += 1
        return True

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.beat()
            if self.refused:
                stop.set()
                return
            try:
                await asyncio.wait_for(stop.wait(), self.interval_s)
            except TimeoutError:
                pass
