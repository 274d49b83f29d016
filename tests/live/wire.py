"""A raw sync-protocol client for tests, written from docs/protocol.md: it counts subscribe
messages to know each subscription's epoch, ignores changes of other epochs, applies values
and diffs, acks every transition, and fails loudly on a diff with no base."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import websockets

from backend.reactive.diff import apply_diff


class Wire:
    """One WebSocket connection; `values[id]` is what the client holds for each subscription."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.subscribes = 0
        self.epochs: dict[str, int] = {}
        self.values: dict[str, Any] = {}
        self.hashes: dict[str, str] = {}
        self.errors: dict[str, dict[str, Any]] = {}
        self.kinds: dict[str, str] = {}  # how the last change came: value, diff or unchanged
        self.ignored = 0
        self.changed = asyncio.Condition()
        self.transitions: list[dict[str, Any]] = []
        self.connected: dict[str, Any] | None = None  # the server's `connected` message
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str) -> Wire:
        """A connected, anonymous connection."""
        wire = await cls.socket(url)
        await wire.connect()
        await wire.until(lambda w: w.connected is not None)
        return wire

    @classmethod
    async def socket(cls, url: str) -> Wire:
        """An open WebSocket that has not sent `connect` yet."""
        ws = await websockets.connect(url.replace("http", "ws", 1) + "/api/sync", max_size=None)
        wire = cls(ws)
        wire._reader = asyncio.create_task(wire._read())
        return wire

    async def connect(self, version: str | None = None) -> None:
        """Send `connect` (anonymous); `version`: what a resuming client had reached."""
        await self.ws.send(json.dumps({"type": "connect", "token": None, "version": version}))

    async def close(self) -> None:
        if self._reader:
            self._reader.cancel()
        await self.ws.close()

    async def subscribe(self, sub_id: str, path: str, args: dict[str, Any],
                        held: tuple[Any, str] | None = None) -> None:
        """Subscribe; `held` is the (value, hash) a resuming client holds."""
        self.subscribes += 1
        self.epochs[sub_id] = self.subscribes
        self.values.pop(sub_id, None)
        self.errors.pop(sub_id, None)
        self.kinds.pop(sub_id, None)
        message = {"type": "subscribe", "id": sub_id, "path": path, "args": args}
        if held is not None:
            self.values[sub_id], self.hashes[sub_id] = held
            message["hash"] = held[1]
        await self.ws.send(json.dumps(message))

    async def unsubscribe(self, sub_id: str) -> None:
        self.epochs.pop(sub_id, None)
        self.values.pop(sub_id, None)
        await self.ws.send(json.dumps({"type": "unsubscribe", "id": sub_id}))

    async def _read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if message["type"] == "connected":
                self.connected = message
            elif message["type"] == "transition":
                self.transitions.append(message)
                for change in message["changes"]:
                    self._apply(change)
                await self.ws.send(json.dumps({"type": "ack", "seq": message["seq"]}))
            elif message["type"] == "error" and self._current(message):
                self.errors[message["id"]] = message["error"]
            async with self.changed:
                self.changed.notify_all()

    def _current(self, message: dict[str, Any]) -> bool:
        return "id" in message and self.epochs.get(message["id"]) == message.get("epoch")

    def _apply(self, change: dict[str, Any]) -> None:
        sub_id = change["id"]
        if self.epochs.get(sub_id) != change["epoch"]:
            self.ignored += 1  # a change of a subscription this id no longer names
            return
        if "error" in change:
            self.errors[sub_id] = change["error"]
            self.values.pop(sub_id, None)
            return
        self.errors.pop(sub_id, None)
        self.kinds[sub_id] = next(k for k in ("value", "diff", "unchanged") if k in change)
        if "value" in change:
            self.values[sub_id] = change["value"]
        elif "diff" in change:
            assert sub_id in self.values, f"a diff with no base for {sub_id}: {change}"
            self.values[sub_id] = apply_diff(self.values[sub_id], change["diff"])
        else:
            assert self.hashes.get(sub_id) == change["hash"], "unchanged, but not what we hold"
        self.hashes[sub_id] = change["hash"]

    async def until(self, predicate: Any, timeout: float = 10) -> None:
        """Wait until `predicate(self)` holds."""
        async with asyncio.timeout(timeout):
            async with self.changed:
                await self.changed.wait_for(lambda: predicate(self))


@contextlib.asynccontextmanager
async def wires(url: str, count: int = 1) -> AsyncIterator[list[Wire]]:
    """`count` open connections, closed when the block ends."""
    opened = [await Wire.open(url) for _ in range(count)]
    try:
        yield opened
    finally:
        for wire in opened:
            await wire.close()
