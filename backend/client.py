"""The Python client of plutarc's backend (used by the bot and the dashboard).

    async with Client("http://127.0.0.1:8000", token) as client:
        bots = await client.query("bots:list", {})
        await client.mutation("bots:setDesiredState", {...})
        await client.wait_for_version(client.last_version)   # read your own write
        async for config in client.subscribe("bot:config", {}):
            ...                                                # whole values; diffs applied underneath

Calls go over HTTP; subscriptions share one WebSocket (`/api/sync`) that reconnects with
capped, jittered backoff and resumes every subscription (sending the hash of the value it
holds, so the server answers "unchanged" or the difference, and the version it had reached,
so a server process that is behind answers nothing older). With `cache_dir`, the last
value of each subscription is kept on disk and served while the backend is unreachable;
`Subscription.live` tells whether the latest value came from the server or the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import random
import ssl
from pathlib import Path
from typing import Any

import httpx
import websockets

from backend.reactive import frames
from backend.reactive.diff import apply_diff
from backend.reactive.version import Snapshot

log = logging.getLogger("plutarc.client")


class ClientError(Exception):
    """An error answered by the backend: `status`, `code`, `message`, `field`."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.status = status
        self.code = error.get("code")
        self.message = error.get("message")
        self.field = error.get("field")


class Subscription:
    """An async iterator of whole values of one live query."""

    def __init__(self, client: Client, sub_id: str, path: str, args: dict[str, Any]) -> None:
        self.client, self.id, self.path, self.args = client, sub_id, path, args
        self.value: Any = None
        self.hash: str | None = None
        self.version: str | None = None
        self.live = False
        self.error: ClientError | None = None
        self.epoch = 0  # of its latest subscribe message on the current connection
        self._fresh = asyncio.Event()
        self._has_value = False

    def _set(self, value: Any, value_hash: str | None, live: bool) -> None:
        self.value, self.hash, self.live, self._has_value = value, value_hash, live, True
        self._fresh.set()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Any:
        await self._fresh.wait()
        self._fresh.clear()
        if self.error is not None:
            raise self.error
        return self.value

    async def close(self) -> None:
        await self.client._unsubscribe(self)


class Client:
    """See the module docstring. Use as an async context manager (or call `close()`)."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        cache_dir: Path | None = None,
        backoff: tuple[float, float] = (0.1, 5.0),
        ssl_context: ssl.SSLContext | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.cache_dir = cache_dir
        self.backoff = backoff
        # extra headers go on every call and the sync WebSocket (the dashboard, a trusted
        # proxy, sends X-Forwarded-For with the browser's address and X-Plutarc-Proxy)
        self.headers = dict(headers or {})
        headers = {**self.headers, **({"Authorization": f"Bearer {token}"} if token else {})}
        self.http = httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30,
                                      verify=ssl_context or True)
        self.ssl_context = ssl_context
        self.last_version: str | None = None
        self.version: Snapshot | None = None
        self.connected = asyncio.Event()
        self._subs: dict[str, Subscription] = {}
        self._next_id = 0
        self._subscribes = 0  # subscribe messages sent on the current connection (epochs)
        self._ws: Any = None
        self._task: asyncio.Task[None] | None = None
        self._version_changed = asyncio.Event()
        self._closed = False
        self._background: set[asyncio.Task[None]] = set()  # referenced until done

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.http.aclose()

    # one-shot calls ----------------------------------------------------------------------

    async def _call(self, kind: str, path: str, args: dict[str, Any] | None) -> dict[str, Any]:
        response = await self.http.post(f"/api/{kind}", json={"path": path, "args": args or {}})
        body = response.json()
        if response.status_code != 200:
            raise ClientError(response.status_code, body.get("error", {}))
        return body

    async def query(self, path: str, args: dict[str, Any] | None = None) -> Any:
        return (await self._call("query", path, args))["value"]

    async def mutation(self, path: str, args: dict[str, Any] | None = None) -> Any:
        """Run a mutation; its commit's version is kept in `last_version`."""
        body = await self._call("mutation", path, args)
        self.last_version = body.get("version")
        return body["value"]

    async def action(self, path: str, args: dict[str, Any] | None = None) -> Any:
        return (await self._call("action", path, args))["value"]

    # live queries ------------------------------------------------------------------------

    def subscribe(self, path: str, args: dict[str, Any] | None = None) -> Subscription:
        """Start a live query; iterate the returned Subscription for its values."""
        self._next_id += 1
        sub = Subscription(self, f"s{self._next_id}", path, args or {})
        self._subs[sub.id] = sub
        cached = self._cache_read(sub)
        if cached is not None:
            sub.value, sub.hash = cached["value"], cached["hash"]
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="plutarc-client-sync")
        elif self._ws is not None:
            self._spawn(self._send_subscribe(sub))
        return sub

    async def _unsubscribe(self, sub: Subscription) -> None:
        self._subs.pop(sub.id, None)
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.send(frames.encode(frames.Unsubscribe(type="unsubscribe", id=sub.id)))

    async def wait_for_version(self, version: str | int | None, timeout: float = 30) -> None:
        """Wait until the live queries include the commit `version` (a mutation's version)."""
        if version is None:
            return
        xid = int(version)
        async with asyncio.timeout(timeout):
            while self.version is None or not self.version.includes(xid):
                await self.connected.wait()
                self._version_changed.clear()
                with contextlib.suppress(Exception):
                    await self._ws.send(frames.encode(frames.Wait(type="wait", version=xid)))
                await self._version_changed.wait()

    # the connection ------------------------------------------------------------------------

    def _ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/api/sync"

    async def _run(self) -> None:
        delay, cap = self.backoff
        while not self._closed:
            try:
                async with websockets.connect(self._ws_url(), ssl=self.ssl_context,
                                              max_size=None,
                                              additional_headers=self.headers) as ws:
                    # the version reached: another process answers nothing older (4.7)
                    version = str(self.version) if self.version else None
                    await ws.send(frames.encode(frames.Connect(type="connect", token=self.token,
                                                               version=version)))
                    reply = json.loads(await ws.recv())
                    if reply.get("type") == "error":
                        raise ClientError(401, reply["error"])
                    self._ws, self._subscribes = ws, 0
                    for sub in list(self._subs.values()):
                        await self._send_subscribe(sub)
                    self.connected.set()
                    delay = self.backoff[0]
                    async for raw in ws:
                        self._receive(json.loads(raw))
            except asyncio.CancelledError:
                raise
            except ClientError as exc:
                for sub in self._subs.values():
                    sub.error = exc
                    sub._fresh.set()
                return
            except (OSError, websockets.WebSocketException, TimeoutError) as exc:
                log.info("sync connection lost (%s); reconnecting in %.2fs", type(exc).__name__, delay)
            finally:
                self._ws = None
                self.connected.clear()
            self._serve_cache()
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(cap, delay * 2)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _ack(self, seq: int) -> None:
        with contextlib.suppress(Exception):
            await self._ws.send(frames.encode(frames.Ack(type="ack", seq=seq)))

    async def _send_subscribe(self, sub: Subscription) -> None:
        self._subscribes += 1
        sub.epoch = self._subscribes
        await self._ws.send(frames.encode(frames.Subscribe(
            type="subscribe", id=sub.id, path=sub.path, args=sub.args, hash=sub.hash)))

    def _receive(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "transition":
            for change in message["changes"]:
                self._apply(change, message.get("version"))
            if message.get("version") and not message.get("more"):  # more: same version follows
                self.version = Snapshot.parse(message["version"])
                self._version_changed.set()
            if "seq" in message and self._ws is not None:
                self._spawn(self._ack(message["seq"]))
        elif kind == "error" and self._current(message) is not None:
            sub = self._subs[message["id"]]
            sub.error = ClientError(0, message["error"])
            sub._fresh.set()

    def _current(self, message: dict[str, Any]) -> Subscription | None:
        """The subscription a change or error is for; None for one the id no longer names."""
        sub = self._subs.get(message.get("id"))  # type: ignore[arg-type]
        return sub if sub is not None and message.get("epoch") == sub.epoch else None

    def _apply(self, change: dict[str, Any], version: str | None) -> None:
        sub = self._current(change)
        if sub is None:
            return
        sub.version = version
        if "error" in change:
            sub.error = ClientError(0, change["error"])
            sub._fresh.set()
            return
        sub.error = None
        if sub._has_value and change.get("hash") == sub.hash:
            sub.live = True  # resumed and confirmed: the caller already has this value
            return
        if "value" in change:
            value = change["value"]
        elif "diff" in change:
            value = apply_diff(sub.value, change["diff"])
        else:  # unchanged: what we hold is current
            value = sub.value
        sub._set(value, change.get("hash"), live=True)
        self._cache_write(sub)

    # the on-disk cache ---------------------------------------------------------------------

    def _cache_path(self, sub: Subscription) -> Path | None:
        if self.cache_dir is None:
            return None
        key = json.dumps([self.url, sub.path, sub.args], sort_keys=True)
        return self.cache_dir / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")

    def _cache_read(self, sub: Subscription) -> dict[str, Any] | None:
        path = self._cache_path(sub)
        if path is None or not path.exists():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def _cache_write(self, sub: Subscription) -> None:
        path = self._cache_path(sub)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", opener=lambda p, f: os.open(p, f, 0o600)) as fh:
            json.dump({"value": sub.value, "hash": sub.hash, "version": sub.version}, fh)
        os.replace(tmp, path)

    def _serve_cache(self) -> None:
        """While disconnected: give subscriptions that have nothing yet their cached value."""
        for sub in self._subs.values():
            if not sub._has_value and sub.hash is not None:
                sub._set(sub.value, sub.hash, live=False)
            elif sub.live:
                sub.live = False
