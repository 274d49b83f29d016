"""Bybit V5 private WebSocket client: auth, order/execution/position/wallet, ping, reconnect.

cryptofeed has no V5 private channels, so this is our own client on `websockets`. It sends
Bybit's application-level ``{"op": "ping"}`` every 20 s, treats a silent socket as dead,
reconnects with capped jittered backoff, re-authenticates and re-subscribes, and then calls
``on_reconnect`` so the caller reconciles over REST whatever the stream may have missed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from bot.bybit.errors import BybitError
from bot.bybit.retry import RetryPolicy
from bot.bybit.signing import Credentials, ws_auth_args
from bot.bybit.tls import CaSource, ssl_context

log = logging.getLogger(__name__)

PRIVATE_URLS = {
    "mainnet": "wss://stream.bybit.com/v5/private",
    "testnet": "wss://stream-testnet.bybit.com/v5/private",
}
TOPICS = ("order", "execution", "position", "wallet")
AUTH_EXPIRY_MS = 10_000
STABLE_AFTER_S = 30.0

OnMessage = Callable[[dict[str, Any]], Awaitable[None]]
OnReconnect = Callable[[], Awaitable[None]]


class StreamRejected(Exception):
    """The exchange refused our auth or subscription."""


class PrivateStream:
    """One authenticated private connection kept alive until `stop`.

    ``on_message`` receives every topic message (``{"topic", "data", ...}``) in arrival order.
    ``on_reconnect`` runs after every re-subscription that follows a lost connection; the
    caller must also reconcile once after the first `ready`, as messages may predate it.
    """

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        on_message: OnMessage,
        *,
        on_reconnect: OnReconnect | None = None,
        ca: CaSource = None,
        topics: tuple[str, ...] = TOPICS,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        ping_interval_s: float = 20.0,
        backoff: RetryPolicy | None = None,
        resync_clock: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.url = PRIVATE_URLS.get(url, url)
        self._creds = credentials
        self._on_message = on_message
        self._on_reconnect = on_reconnect
        self._ssl = ssl_context(ca) if self.url.startswith("wss://") else None
        self._topics = topics
        self._now_ms = now_ms
        self._ping_interval = ping_interval_s
        self._backoff = backoff or RetryPolicy(base_s=0.2, cap_s=10.0)
        self._resync_clock = resync_clock
        self._stopping = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.ready = asyncio.Event()
        self.connections = 0
        self.last_message_at = 0.0

    async def run(self) -> None:
        """Connect and keep connected until `stop` is called."""
        failures = 0
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                await self._session()
            except StreamRejected as exc:
                # Most often an auth `expires` behind the exchange clock: measure it again.
                log.warning("private stream: %s", exc)
                if self._resync_clock is not None:
                    await _quietly(self._resync_clock)
            except (OSError, TimeoutError, ValueError, WebSocketException) as exc:
                log.warning("private stream lost: %s: %s", type(exc).__name__, exc)
            finally:
                self.ready.clear()
                self._ws = None
            if self._stopping.is_set():
                return
            # A connection that lived a while resets the backoff; a flapping one does not.
            failures = 0 if time.monotonic() - started > STABLE_AFTER_S else failures + 1
            delay = self._backoff.backoff(min(failures, 10))
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        self._stopping.set()
        if self._ws is not None:
            await self._ws.close()

    async def _session(self) -> None:
        async with connect(
            self.url,
            ssl=self._ssl,
            ping_interval=None,
            open_timeout=10,
            close_timeout=2,
            max_size=2**24,
        ) as ws:
            self._ws = ws
            self.last_message_at = time.monotonic()
            await self._request(
                ws, "auth", ws_auth_args(self._creds, self._now_ms() + AUTH_EXPIRY_MS)
            )
            await self._request(ws, "subscribe", list(self._topics))
            self.connections += 1
            self.ready.set()
            log.info("private stream subscribed (connection %d)", self.connections)
            if self.connections > 1 and self._on_reconnect is not None:
                task = asyncio.get_running_loop().create_task(self._on_reconnect())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            pinger = asyncio.get_running_loop().create_task(self._ping(ws))
            try:
                async for raw in ws:
                    self.last_message_at = time.monotonic()
                    msg = json.loads(raw)
                    if "topic" in msg:
                        await self._deliver(msg)
            finally:
                pinger.cancel()

    async def _request(self, ws: ClientConnection, op: str, args: list[Any]) -> None:
        await ws.send(json.dumps({"req_id": op, "op": op, "args": args}))
        async with asyncio.timeout(10):
            while True:
                msg = json.loads(await ws.recv())
                if msg.get("op") == op:
                    if not msg.get("success", False):
                        raise StreamRejected(f"{op} refused: {msg.get('ret_msg', '')}")
                    return
                if "topic" in msg:
                    await self._deliver(msg)

    async def _deliver(self, msg: dict[str, Any]) -> None:
        """A failing handler must not cost the connection; reconciliation repairs its state."""
        try:
            await self._on_message(msg)
        except Exception:
            log.exception("private stream handler failed on %s", msg.get("topic"))

    async def _ping(self, ws: ClientConnection) -> None:
        """Keep the connection alive; close it when nothing (not even a pong) comes back."""
        try:
            while True:
                await asyncio.sleep(self._ping_interval)
                if time.monotonic() - self.last_message_at > 2 * self._ping_interval + 5:
                    log.warning("private stream silent; reconnecting")
                    await ws.close()
                    return
                await ws.send(json.dumps({"req_id": "ping", "op": "ping"}))
        except WebSocketException:
            return  # the connection is gone; the reader notices and reconnects


async def _quietly(call: Callable[[], Awaitable[object]]) -> None:
    try:
        await call()
    except (BybitError, OSError) as exc:  # a failed resync must not end the reconnect loop
        log.warning("clock resync failed: %s", exc)
