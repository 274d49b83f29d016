"""The WebSocket sync protocol at `/api/sync` (docs/protocol.md is the reference).

Client → server: connect (token), subscribe / unsubscribe, query / mutation / action calls
with a request id, wait (for a version), ping. Server → client: connected, transition
(versioned; one message moves all the client's changed subscriptions), result, error, pong.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from backend.auth.tokens import resolve
from backend.reactive.engine import Engine
from backend.reactive.session import ClientSession
from backend.runtime.errors import ApiError, BadRequest
from backend.runtime.jsonvalue import dumps
from backend.runtime.runner import CallMeta, Runtime

log = logging.getLogger("plutarc.sync")
CALL_KINDS = ("query", "mutation", "action")


def subscription_id(raw: Any) -> str:
    """A subscription id as the server names it: a string as is, an integer as its decimal
    text (so 7 and "7" are one subscription); anything else is no id ("")."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    return ""


class SyncConnection:
    """One client's socket: reads requests, runs calls, and lets its session write."""

    def __init__(self, websocket: WebSocket, engine: Engine, runtime: Runtime) -> None:
        self.ws = websocket
        self.engine = engine
        self.runtime = runtime
        self.lock = asyncio.Lock()
        self.session: ClientSession | None = None
        self.calls: set[asyncio.Task[None]] = set()
        self.subscribes = 0  # subscribe messages received: the epoch of the latest

    async def send_text(self, text: str) -> None:
        async with self.lock:
            await self.ws.send_text(text)

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_text(dumps(message))

    async def error(self, exc: ApiError, **ids: Any) -> None:
        await self.send({"type": "error", **ids, "error": exc.to_json()})

    async def run(self) -> None:
        await self.ws.accept()
        try:
            if not await self._connect():
                return
            assert self.session is not None
            writer = asyncio.create_task(self._write())
            try:
                while True:
                    await self._handle(await self._receive())
            finally:
                writer.cancel()
                for task in self.calls:
                    task.cancel()
                self.engine.detach(self.session)
        except WebSocketDisconnect:
            pass

    async def _write(self) -> None:
        """The session's writer; when it ends (credential revoked), close the socket."""
        assert self.session is not None
        await self.session.write_forever()
        await self.ws.close(code=4401)

    async def _receive(self) -> dict[str, Any]:
        while True:
            text = await self.ws.receive_text()
            try:
                message = json.loads(text)
                if not isinstance(message, dict) or not isinstance(message.get("type"), str):
                    raise ValueError
                return message
            except ValueError:
                await self.error(BadRequest("each message must be a JSON object with a 'type'"))

    async def _connect(self) -> bool:
        message = await self._receive()
        if message["type"] != "connect":
            await self.error(BadRequest("the first message must be {'type': 'connect'}", "type"))
            await self.ws.close(code=4400)
            return False
        try:
            auth = await resolve(self.runtime.pool, message.get("token"))
        except ApiError as exc:
            await self.error(exc)
            await self.ws.close(code=4401)
            return False
        self.session = ClientSession(self.send_text, auth)
        self.engine.attach(self.session)
        await self.send({"type": "connected", "session": self.session.id,
                         "auth": auth.kind, "version": str(self.engine.version or "") or None})
        return True

    async def _handle(self, message: dict[str, Any]) -> None:
        assert self.session is not None
        kind = message["type"]
        if kind == "subscribe":
            self.subscribes += 1  # every subscribe message counts, even one answered an error
            sub_id = subscription_id(message.get("id"))
            try:
                if not sub_id:
                    raise BadRequest("subscribe needs an 'id': a non-empty string or an integer", "id")
                self.engine.subscribe(self.session, sub_id, message.get("path", ""),
                                      message.get("args", {}), message.get("hash"),
                                      epoch=self.subscribes)
            except ApiError as exc:
                await self.error(exc, id=sub_id, epoch=self.subscribes)
        elif kind == "unsubscribe":
            self.engine.unsubscribe(self.session, subscription_id(message.get("id")))
        elif kind in CALL_KINDS:
            task = asyncio.create_task(self._call(kind, message))
            self.calls.add(task)
            task.add_done_callback(self.calls.discard)
        elif kind == "wait":
            try:
                self.engine.wait_for(self.session, int(message["version"]))
            except (KeyError, TypeError, ValueError):
                await self.error(BadRequest("wait needs a numeric 'version' (an xid)", "version"))
        elif kind == "ack":
            try:
                self.session.ack(int(message["seq"]))
            except (KeyError, TypeError, ValueError):
                await self.error(BadRequest("ack needs a numeric 'seq'", "seq"))
        elif kind == "ping":
            await self.send({"type": "pong"})
        else:
            await self.error(BadRequest(f"unknown message type {kind!r}", "type"))

    async def _call(self, kind: str, message: dict[str, Any]) -> None:
        assert self.session is not None
        request_id = message.get("request_id")
        meta = CallMeta(uuid.uuid4().hex[:16], self.ws.client.host if self.ws.client else "")
        try:
            outcome = await self.runtime.call(
                kind, message.get("path", ""), message.get("args", {}), self.session.auth, meta  # type: ignore[arg-type]
            )
        except ApiError as exc:
            await self.error(exc, request_id=request_id)
            return
        except Exception:
            log.exception("sync call %s failed (request %s)", message.get("path"), meta.request_id)
            await self.send({"type": "error", "request_id": request_id, "error": {
                "code": "internal", "message": f"internal error (request id {meta.request_id})",
                "field": None}})
            return
        reply: dict[str, Any] = {"type": "result", "request_id": request_id, "value": outcome.value}
        if kind != "action":  # a query's snapshot, a mutation's transaction id
            reply["version"] = outcome.version
        try:
            await self.send(reply)
        except (TypeError, ValueError):
            log.exception("result of %s is not JSON", message.get("path"))


async def sync_endpoint(websocket: WebSocket) -> None:
    state = websocket.app.state
    await SyncConnection(websocket, state.engine, state.runtime).run()
