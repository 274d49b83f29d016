"""The WebSocket sync protocol at `/api/sync` (docs/protocol.md is the reference).

Client → server: connect (token; on reconnect the version reached), subscribe / unsubscribe, query / mutation / action calls
with a request id, wait (for a version), ping. Server → client: connected, transition
(versioned; one message moves all the client's changed subscriptions), result, error, pong.

Every frame is parsed by backend.reactive.frames; a bad one is answered with an `error` and
the socket goes on. The limits of backend.limits apply: `connect` within the connect
timeout, subscriptions per socket and per user, calls running at once and per second,
pending waits.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from backend.auth.tokens import resolve
from backend.limits import Bucket, Limits, get_limits
from backend.reactive import frames
from backend.reactive.bounds import check_issued, check_subscription_room
from backend.reactive.engine import Engine
from backend.reactive.session import ClientSession
from backend.reactive.version import Snapshot, current_xid
from backend.runtime.errors import ApiError, BadRequest, TooManyRequests
from backend.runtime.jsonvalue import dumps
from backend.runtime.runner import CallMeta, Runtime

log = logging.getLogger("plutarc.sync")


class SyncConnection:
    """One client's socket: reads requests, runs calls, and lets its session write."""

    def __init__(self, websocket: WebSocket, engine: Engine, runtime: Runtime,
                 limits: Limits) -> None:
        self.ws = websocket
        self.engine = engine
        self.runtime = runtime
        self.limits = limits
        self.lock = asyncio.Lock()
        self.session: ClientSession | None = None
        # running calls; invariant: len(calls) <= limits.calls_per_socket
        self.calls: set[asyncio.Task[None]] = set()
        self.call_budget = Bucket(limits.call_rate_per_socket, limits.call_burst)
        # deadlines of pending waits, by xid, and the errors they send when they pass
        self.timers: dict[int, asyncio.TimerHandle] = {}
        self.notices: set[asyncio.Task[None]] = set()
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
                    message = await self._receive()
                    try:
                        frame = frames.parse_frame(message, self.limits.json_depth)
                    except frames.FrameError as exc:
                        if exc.kind == "subscribe":  # it still counts as a subscribe message
                            self.subscribes += 1
                            exc.echo["epoch"] = self.subscribes
                        await self.error(exc, **exc.echo)
                    except BadRequest as exc:
                        await self.error(exc)
                    else:
                        await self._handle(frame)
                    # frames already buffered are read without suspending: yield, so one
                    # client's burst does not hold the loop (3,000 frames stalled others 0.2 s)
                    await asyncio.sleep(0)
            finally:
                writer.cancel()
                for task in self.calls | self.notices:
                    task.cancel()
                for timer in self.timers.values():
                    timer.cancel()
                self.engine.detach(self.session)
        except WebSocketDisconnect:
            pass

    async def _write(self) -> None:
        """The session's writer; when it ends (credential revoked), close the socket."""
        assert self.session is not None
        await self.session.write_forever()
        await self.ws.close(code=4401)

    async def _receive(self) -> dict[str, Any]:
        """The next client message (text or bytes); WebSocketDisconnect when it is gone."""
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        return message

    async def _refuse(self, exc: ApiError, code: int) -> bool:
        await self.error(exc)
        await self.ws.close(code=code)
        return False

    async def _connect(self) -> bool:
        timeout = self.limits.connect_timeout_s
        try:
            message = await asyncio.wait_for(self._receive(), timeout)
        except TimeoutError:
            return await self._refuse(BadRequest(
                f"no 'connect' within {timeout:g} s (PLUTARC_LIMIT_CONNECT_TIMEOUT_S)", "type"),
                4408)
        try:
            frame = frames.parse_frame(message, self.limits.json_depth)
        except BadRequest as exc:
            return await self._refuse(exc, 4400)
        if not isinstance(frame, frames.Connect):
            return await self._refuse(
                BadRequest("the first message must be {'type': 'connect'}", "type"), 4400)
        try:
            auth = await resolve(self.runtime.pool, frame.token)
        except ApiError as exc:
            return await self._refuse(exc, 4401)
        self.session = ClientSession(self.send_text, auth,
                                     transition_bytes=self.limits.transition_bytes)
        self.engine.attach(self.session)
        if frame.version is not None:
            await self._hold_until(Snapshot.parse(frame.version))
        await self.send({"type": "connected", "session": self.session.id,
                         "auth": auth.kind, "version": str(self.engine.version or "") or None})
        return True

    async def _hold_until(self, reached: Snapshot) -> None:
        """A resuming client reached `reached` (maybe on another process): send it nothing
        older. Unless this process's version already covers it, wait for a transaction
        started now - a snapshot including it was taken after `reached`, so covers it."""
        assert self.session is not None
        if self.engine.version is not None and self.engine.version.covers(reached):
            return
        async with self.runtime.pool.acquire() as conn:
            xid = await current_xid(conn)  # its own transaction, committed at once
        self.session.resume_xid = xid
        self.engine.wait_for(self.session, xid)

    async def _handle(self, frame: frames.Frame) -> None:
        assert self.session is not None
        match frame:
            case frames.Subscribe():
                self.subscribes += 1  # every subscribe counts, even one answered an error
                try:
                    check_subscription_room(self.engine, self.session, frame.id, self.limits)
                    self.engine.subscribe(self.session, frame.id, frame.path, frame.args,
                                          frame.hash, epoch=self.subscribes)
                except ApiError as exc:
                    await self.error(exc, id=frame.id, epoch=self.subscribes)
            case frames.Unsubscribe():
                self.engine.unsubscribe(self.session, frame.id)
            case frames.Call():
                if len(self.calls) >= self.limits.calls_per_socket:
                    await self.error(TooManyRequests(
                        f"at most {self.limits.calls_per_socket} calls at once per connection "
                        "(PLUTARC_LIMIT_CALLS_PER_SOCKET): wait for results", "request_id"),
                        request_id=frame.request_id)
                    return
                if not self.call_budget.take():
                    await self.error(TooManyRequests(
                        f"at most {self.limits.call_rate_per_socket:g} calls per second per "
                        "connection (PLUTARC_LIMIT_CALL_RATE_PER_SOCKET, bursts of "
                        "PLUTARC_LIMIT_CALL_BURST)", "request_id"), request_id=frame.request_id)
                    return
                task = asyncio.create_task(self._call(frame))
                self.calls.add(task)
                task.add_done_callback(self.calls.discard)
            case frames.Wait():
                await self._wait(frame.version)
            case frames.Ack():
                if frame.seq > self.session.seq:
                    await self.error(BadRequest(
                        f"ack for seq {frame.seq}, but the last transition sent is "
                        f"{self.session.seq}", "seq"))
                else:
                    self.session.ack(frame.seq)
            case frames.Ping():
                await self.send({"type": "pong"})
            case frames.Connect():
                await self.error(BadRequest("already connected", "type"))

    async def _wait(self, xid: int) -> None:
        assert self.session is not None
        if len(self.session.waiting) >= self.limits.waits_per_socket:
            await self.error(TooManyRequests(
                f"at most {self.limits.waits_per_socket} pending waits per connection "
                "(PLUTARC_LIMIT_WAITS_PER_SOCKET)", "version"))
            return
        try:
            await check_issued(self.runtime.pool, self.engine, xid)
        except ApiError as exc:
            await self.error(exc)
            return
        self.engine.wait_for(self.session, xid)
        if xid in self.session.waiting and xid not in self.timers:
            loop = asyncio.get_running_loop()
            self.timers[xid] = loop.call_later(self.limits.wait_timeout_s, self._wait_expired, xid)

    def _wait_expired(self, xid: int) -> None:
        assert self.session is not None
        del self.timers[xid]
        if xid in self.session.waiting:
            self.session.waiting.discard(xid)
            task = asyncio.create_task(self.error(BadRequest(
                f"version {xid} not reached within {self.limits.wait_timeout_s:g} s "
                "(PLUTARC_LIMIT_WAIT_TIMEOUT_S)", "version"), version=xid))
            self.notices.add(task)
            task.add_done_callback(self.notices.discard)

    async def _call(self, frame: frames.Call) -> None:
        assert self.session is not None
        request_id = frame.request_id
        meta = CallMeta(uuid.uuid4().hex[:16], self.ws.client.host if self.ws.client else "")
        try:
            outcome = await self.runtime.call(
                frame.type, frame.path, frame.args, self.session.auth, meta)
        except ApiError as exc:
            await self.error(exc, request_id=request_id)
            return
        except Exception:
            log.exception("sync call %s failed (request %s)", frame.path, meta.request_id)
            await self.send({"type": "error", "request_id": request_id, "error": {
                "code": "internal", "message": f"internal error (request id {meta.request_id})",
                "field": None}})
            return
        reply: dict[str, Any] = {"type": "result", "request_id": request_id, "value": outcome.value}
        if frame.type != "action":  # a query's snapshot, a mutation's transaction id
            reply["version"] = outcome.version
        try:
            await self.send(reply)
        except (TypeError, ValueError):
            log.exception("result of %s is not JSON", frame.path)


async def sync_endpoint(websocket: WebSocket) -> None:
    state = websocket.app.state
    await SyncConnection(websocket, state.engine, state.runtime, get_limits()).run()
