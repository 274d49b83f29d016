"""Collecting capture notices in tests: a LISTEN connection and a fence to settle on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from backend.reactive.capture import CHANNEL

FENCE = "fence"


class Notices:
    """Collects capture notices on a LISTEN connection; `settle()` waits for all sent so far."""

    def __init__(self, conn: asyncpg.Connection, writer: asyncpg.Connection) -> None:
        self.conn = conn
        self.writer = writer
        self.raw: list[str] = []
        self._fenced = asyncio.Event()

    def on_notice(self, _c: object, _pid: int, _channel: str, payload: str) -> None:
        if payload == FENCE:
            self._fenced.set()
        else:
            self.raw.append(payload)

    async def settle(self) -> list[dict]:
        """Notices delivered so far (a later fence notice proves earlier ones arrived)."""
        self._fenced.clear()
        await self.writer.execute(f"SELECT pg_notify('{CHANNEL}', '{FENCE}')")
        await asyncio.wait_for(self._fenced.wait(), 5)
        got, self.raw = self.raw, []
        return [json.loads(p) for p in got]


@pytest_asyncio.fixture
async def notices(dsn: str, conn: asyncpg.Connection) -> AsyncIterator[Notices]:
    listen = await asyncpg.connect(dsn)
    collector = Notices(listen, conn)
    await listen.add_listener(CHANNEL, collector.on_notice)
    try:
        yield collector
    finally:
        await listen.close()


