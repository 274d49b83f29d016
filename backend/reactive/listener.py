"""The one LISTEN connection of a server process: notices in, batches of `Change`s out.

Every extra LISTEN connection slows every notifying commit (docs: DEPENDENCIES.md), so a
process holds exactly one `Listener` and fans out inside. Notices that arrive together are
delivered as one batch: after the first one, the listener keeps draining while more keep
coming, for at most `window` seconds, then hands the batch to `on_changes`. Batches are
delivered one at a time, in commit order (PostgreSQL delivers notices in commit order).

A lost connection (the termination listener fires, or the periodic health check fails) means
notices were lost: the listener reconnects with capped, jittered exponential backoff, LISTENs
again, and only then calls `on_reset` - so nothing committed after the re-run's snapshot can
be missed. A batch `on_changes` raised on is treated the same way (`on_reset` follows), and a
failing `on_reset` is retried. `on_changes` and `on_reset` never run concurrently.

Fences make batches consistent with a snapshot. A notice can still be in flight when a
re-run takes its snapshot S, although S already includes the notice's commit. So the
subscription manager takes S, then `await listener.fence(conn)`: a NOTIFY committed after S
was taken, which PostgreSQL delivers after every notice of a commit S includes. When `fence`
returns, `on_changes` has been called for all of them; the changes to handle at S are those
received so far with `S.includes(change.xid)` - keep the others for the next batch. After a
reset, pending fences return too (the caller's reset handling re-runs everything).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from backend.reactive.capture import CHANNEL

log = logging.getLogger(__name__)

APPLICATION_NAME = "plutarc-listener"


@dataclass(frozen=True, slots=True)
class Change:
    """One changed row (or a whole table, when `whole_table`) from one committed statement.

    `old`/`new` hold routing-column values; None when that side is absent (insert, delete,
    or an update whose routing values did not change - then only `new` is given).
    """

    table: str
    op: str
    xid: int
    pk: Any = None
    old: Mapping[str, Any] | None = None
    new: Mapping[str, Any] | None = None
    whole_table: bool = False


def _fence_token(payload: str) -> str | None:
    if payload.startswith('{"fence":'):
        return json.loads(payload)["fence"]
    return None


def parse_notice(payload: str) -> list[Change]:
    """The changes one capture notice describes (see capture.py for the payload format)."""
    notice = json.loads(payload)
    table, op, xid = notice["t"], notice["op"], int(notice["x"])
    if notice.get("all"):
        return [Change(table=table, op=op, xid=xid, whole_table=True)]
    return [
        Change(
            table=table, op=op, xid=xid, pk=row.get("pk"), old=row.get("old"), new=row.get("new")
        )
        for row in notice["rows"]
    ]


OnChanges = Callable[[list[Change]], Awaitable[None]]
OnReset = Callable[[], Awaitable[None]]


class Listener:
    """LISTENs on the capture channel; see the module docstring for the guarantees."""

    def __init__(
        self,
        dsn: str,
        on_changes: OnChanges,
        on_reset: OnReset,
        *,
        channel: str = CHANNEL,
        window: float = 0.002,
        health_interval: float = 2.0,
        health_timeout: float = 2.0,
        backoff: tuple[float, float] = (0.05, 2.0),
    ) -> None:
        self._dsn = dsn
        self._on_changes = on_changes
        self._on_reset = on_reset
        self._channel = channel
        self._window = window
        self._health_interval = health_interval
        self._health_timeout = health_timeout
        self._backoff = backoff
        self._conn: asyncpg.Connection | None = None
        # notices received but not yet delivered; cleared on reset (the re-run covers them)
        self._buffer: list[str] = []
        self._reset_pending = False
        self._wake = asyncio.Event()
        self._lost = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._fences: dict[str, asyncio.Future[None]] = {}
        self.resets = 0

    @property
    def backend_pid(self) -> int | None:
        """PID of the LISTEN connection's server process (None while disconnected)."""
        conn = self._conn
        return conn.get_server_pid() if conn is not None and not conn.is_closed() else None

    async def start(self) -> None:
        """Connect and LISTEN (retrying with backoff), then start delivering."""
        await self._connect_with_backoff()
        self._tasks = [
            asyncio.create_task(self._supervise(), name="plutarc-listener-supervise"),
            asyncio.create_task(self._deliver(), name="plutarc-listener-deliver"),
        ]

    async def stop(self) -> None:
        """Stop delivering and close the connection."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._drop_connection()

    async def fence(self, conn: asyncpg.Connection, timeout: float = 5.0) -> None:
        """Return once `on_changes` has seen every notice of every commit that finished before
        this call. `conn` must not be in a read-only transaction (use an autocommit one)."""
        token = uuid.uuid4().hex
        done = asyncio.get_running_loop().create_future()
        self._fences[token] = done
        try:
            await conn.execute(
                "SELECT pg_notify($1, $2)", self._channel, json.dumps({"fence": token})
            )
            await asyncio.wait_for(asyncio.shield(done), timeout)
        finally:
            self._fences.pop(token, None)

    def _release_fences(self, token: str | None = None) -> None:
        tokens = list(self._fences) if token is None else [token]
        for t in tokens:
            done = self._fences.pop(t, None)
            if done is not None and not done.done():
                done.set_result(None)

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()

    def _on_notice(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._buffer.append(payload)
        self._wake.set()

    def _on_terminated(self, conn: object) -> None:
        if conn is self._conn:  # not a connection we already replaced or closed
            self._lost.set()

    async def _connect(self) -> None:
        conn = await asyncpg.connect(
            self._dsn, server_settings={"application_name": APPLICATION_NAME}
        )
        self._conn = conn
        conn.add_termination_listener(self._on_terminated)
        try:
            await conn.add_listener(self._channel, self._on_notice)
        except BaseException:
            self._drop_connection()
            raise

    async def _connect_with_backoff(self) -> None:
        delay, cap = self._backoff
        while True:
            try:
                await self._connect()
                return
            except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
                log.warning("LISTEN connection failed (%s); retrying in %.2fs", exc, delay)
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(cap, delay * 2)

    async def _healthy(self) -> bool:
        conn = self._conn
        if conn is None or conn.is_closed():
            return False
        try:
            await asyncio.wait_for(conn.fetchval("SELECT 1"), self._health_timeout)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return True

    async def _supervise(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._lost.wait(), self._health_interval)
            except TimeoutError:
                if await self._healthy():
                    continue
            log.warning("LISTEN connection lost; reconnecting, then re-running every subscription")
            self._drop_connection()
            await self._connect_with_backoff()
            self._lost.clear()
            self.resets += 1
            self._buffer.clear()
            self._request_reset()

    async def _collect(self) -> list[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._window
        seen = -1
        while len(self._buffer) != seen and loop.time() < deadline:
            seen = len(self._buffer)
            await asyncio.sleep(0)
        batch, self._buffer = self._buffer, []
        return batch

    def _request_reset(self) -> None:
        self._reset_pending = True
        self._wake.set()

    async def _deliver(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._reset_pending:
                self._reset_pending = False
                self._buffer.clear()
                if await self._call(self._on_reset):
                    self._release_fences()
                else:  # until a reset succeeds nothing downstream can be trusted: retry
                    await asyncio.sleep(self._backoff[1])
                    self._request_reset()
                continue
            changes: list[Change] = []
            for payload in await self._collect():
                try:
                    token = _fence_token(payload)
                    if token is None:
                        changes.extend(parse_notice(payload))
                        continue
                except (ValueError, KeyError, TypeError):
                    log.error("ignoring a malformed notice on %s: %.200r", self._channel, payload)
                    continue
                if token in self._fences:  # ours (other processes fence on the channel too)
                    if changes and not await self._call(self._on_changes, changes):
                        break
                    changes = []
                    self._release_fences(token)
            else:
                if not changes or await self._call(self._on_changes, changes):
                    continue
            # a batch the callback failed on is lost to it: treat it as lost notices
            self._request_reset()

    async def _call(self, callback: Callable[..., Awaitable[None]], *args: Any) -> bool:
        try:
            await callback(*args)
        except Exception:
            log.exception("reactive callback %r failed", callback)
            return False
        return True
