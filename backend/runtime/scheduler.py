"""The scheduler: runs due jobs of `scheduled_jobs` and queues cron ticks, in every backend
process, as the system (anonymous auth, internal functions allowed).

Exactly once for mutations: the job row is claimed (`SELECT ... FOR UPDATE SKIP LOCKED`)
inside the mutation's own SERIALIZABLE transaction, and marked done in it. The claim, the
function's writes and `done` commit together or not at all: a process killed mid-run rolls
all three back (PostgreSQL drops the dead session's locks), and the next pass of any process
runs the job again. Two processes never both commit it: the second skips the locked row, or
(had it read the row before the first committed) fails serialization and sees it done.

Actions cannot share a transaction with their bookkeeping: they are claimed with a lease
(`state = 'running'`, `lease_until`) and run at least once — a job whose lease ran out is
taken over by any process. Write actions to be idempotent, or schedule mutations.

Failures: a job that raises is retried with backoff (`RETRY_BASE_S · 2^attempt`), and after
`max_attempts` it stays as `state = 'failed'` with `last_error`, and the failure is logged.

Bounded growth: done jobs are deleted `KEEP_DONE` after they finished, failed ones after
`KEEP_FAILED` (checked at most once per `PRUNE_EVERY_S` by each running scheduler).

Crons (backend/runtime/crons.py): `cron_ticks` holds each cron function's next tick; the
process that locks the row when the tick is due queues one job for it and moves the tick on
(missed ticks collapse into one run, as after a downtime).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any

from backend.runtime.context import ANONYMOUS
from backend.runtime.errors import ApiError
from backend.runtime.executor import Executor
from backend.runtime.jobs import enqueue
from backend.runtime.registry import FunctionDef
from backend.runtime.runner import Runtime

log = logging.getLogger("plutarc.scheduler")

RETRY_BASE_S = 1.0
LEASE_S = 300.0
BATCH = 20
KEEP_DONE = timedelta(days=7)
KEEP_FAILED = timedelta(days=30)
PRUNE_EVERY_S = 3600.0


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return f"{exc.code}: {exc.message}"[:2000]
    return f"{type(exc).__name__}: {exc}"[:2000]


class Scheduler:
    """Runs due jobs and crons of `runtime`'s functions. `run_due()` is one full pass; the
    service (`start`/`stop`) repeats it every `poll_s` seconds."""

    def __init__(self, runtime: Runtime, poll_s: float = 1.0, worker: str | None = None,
                 crons: set[str] | None = None) -> None:
        self.runtime = runtime
        self.poll_s = poll_s
        self.crons = crons  # None: every cron of the runtime's functions
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self._task: asyncio.Task[None] | None = None
        self._pruned_at: datetime | None = None

    @property
    def now(self) -> datetime:
        return self.runtime.clock.now()

    async def run_due(self) -> list[str]:
        """Queue due cron ticks, then run every due job until none is left; the paths of
        the jobs this call ran (succeeded or failed), in order."""
        await self.queue_crons()
        ran: list[str] = []
        while batch := await self._due():
            done = [job["path"] for job in batch if await self._run(job)]
            ran += done
            if not done:
                break  # every due job is held by another process
        return ran

    async def prune(self) -> int:
        """Delete finished jobs past their keeping time; how many."""
        now = self.now
        tag = await self.runtime.pool.execute(
            "DELETE FROM scheduled_jobs WHERE (state = 'done' AND finished_at < $1) "
            "OR (state = 'failed' AND finished_at < $2)", now - KEEP_DONE, now - KEEP_FAILED)
        self._pruned_at = now
        return int(tag.split()[-1])

    async def _due(self) -> list[dict[str, Any]]:
        now = self.now
        async with self.runtime.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT id, path, args, attempts, max_attempts FROM scheduled_jobs "
                "WHERE run_at <= $1 AND (state = 'pending' OR (state = 'running' "
                "AND lease_until < $1)) ORDER BY run_at, id LIMIT $2", now, BATCH)
        return [dict(r) for r in rows]

    async def _run(self, job: dict[str, Any]) -> bool:
        """Run one job if this process can claim it; whether it did (success or failure)."""
        fdef = self.runtime.functions.get(job["path"])
        try:
            if fdef is None:
                raise LookupError(f"no function {job['path']!r} in this app")
            args = fdef.args.validate(job["args"])
            if fdef.kind == "mutation":
                return await self._run_mutation(job, fdef, args)
            return await self._run_action(job, fdef, args)
        except Exception as exc:
            await self._failed(job, exc)
            return True

    async def _run_mutation(self, job: dict[str, Any], fdef: FunctionDef,
                            args: dict[str, Any]) -> bool:
        async def claim(db: Executor) -> bool:
            row = await db.conn.fetchrow(
                "SELECT id FROM scheduled_jobs WHERE id = $1 AND state = 'pending' "
                "FOR UPDATE SKIP LOCKED", job["id"])
            if row is None:
                return False
            await db.conn.execute(
                "UPDATE scheduled_jobs SET state = 'done', attempts = attempts + 1, "
                "finished_at = $2, last_error = NULL WHERE id = $1", job["id"], self.now)
            return True

        outcome = await self.runtime.run_mutation(fdef, args, ANONYMOUS, claim=claim)
        return not outcome.skipped

    async def _run_action(self, job: dict[str, Any], fdef: FunctionDef,
                          args: dict[str, Any]) -> bool:
        now = self.now
        claimed = await self.runtime.pool.fetchval(
            "UPDATE scheduled_jobs SET state = 'running', lease_until = $2, "
            "attempts = attempts + 1 WHERE id = $1 AND (state = 'pending' OR (state = 'running' "
            "AND lease_until < $3)) RETURNING id",
            job["id"], now + timedelta(seconds=LEASE_S), now)
        if claimed is None:
            return False
        await self.runtime.run_action(fdef, args, ANONYMOUS)
        await self.runtime.pool.execute(
            "UPDATE scheduled_jobs SET state = 'done', finished_at = $2, lease_until = NULL "
            "WHERE id = $1 AND state = 'running'", job["id"], self.now)
        return True

    async def _failed(self, job: dict[str, Any], exc: Exception) -> None:
        """Record a failed attempt: retry later, or give up as 'failed' (logged).

        `job` is as read before the attempt: a failed mutation rolled its count back, and an
        action's claim counted this attempt already, so either way it is one more.
        """
        attempts = job["attempts"] + 1
        final = attempts >= job["max_attempts"]
        retry_at = self.now + timedelta(seconds=RETRY_BASE_S * 2 ** attempts)
        await self.runtime.pool.execute(
            "UPDATE scheduled_jobs SET attempts = $2, last_error = $3, lease_until = NULL, "
            "state = CASE WHEN $4 THEN 'failed' ELSE 'pending' END, "
            "run_at = CASE WHEN $4 THEN run_at ELSE $5 END, "
            "finished_at = CASE WHEN $4 THEN $5 END "
            "WHERE id = $1 AND state NOT IN ('done', 'failed')",
            job["id"], attempts, _describe(exc), final, self.now if final else retry_at)
        if final:
            log.error("scheduled job %s (%s) failed after %d attempts: %s", job["id"],
                      job["path"], attempts, _describe(exc))
        else:
            log.warning("scheduled job %s (%s) failed (attempt %d of %d), retrying: %s",
                        job["id"], job["path"], attempts, job["max_attempts"], _describe(exc))

    async def queue_crons(self) -> int:
        """Queue one job for every cron whose tick is due; how many were queued."""
        queued = 0
        now = self.now
        for fdef in self.runtime.functions.values():
            if fdef.cron is not None and (self.crons is None or fdef.path in self.crons):
                queued += await self._queue_cron(fdef, now)
        return queued

    async def _queue_cron(self, fdef: FunctionDef, now: datetime) -> int:
        spec = fdef.cron
        assert spec is not None
        async with self.runtime.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO cron_ticks (path, schedule, next_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (path) DO NOTHING", fdef.path, spec.text, spec.next_after(now))
            tick = await conn.fetchrow(
                "SELECT schedule, next_at FROM cron_ticks WHERE path = $1 "
                "FOR UPDATE SKIP LOCKED", fdef.path)
            if tick is None:
                return 0  # another process is queueing it
            if tick["schedule"] != spec.text:  # the schedule changed: restart its ticks
                await conn.execute("UPDATE cron_ticks SET schedule = $2, next_at = $3 "
                                   "WHERE path = $1", fdef.path, spec.text, spec.next_after(now))
                return 0
            if tick["next_at"] > now:
                return 0
            await enqueue(Executor(conn), self.runtime, fdef.path, spec.args, tick["next_at"],
                          cron=spec.text)
            await conn.execute("UPDATE cron_ticks SET next_at = $2 WHERE path = $1",
                               fdef.path, spec.next_after(now))
            return 1

    # the background service ----------------------------------------------------------

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_due()
                if self._pruned_at is None or (
                        self.now - self._pruned_at).total_seconds() >= PRUNE_EVERY_S:
                    await self.prune()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler pass failed; retrying in %.1fs", self.poll_s)
            await asyncio.sleep(self.poll_s)

    def start(self) -> Scheduler:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="plutarc-scheduler")
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def scheduler_service(poll_s: float = 1.0) -> Callable[[Any], AbstractAsyncContextManager[Any]]:
    """A service for `create_app(dsn, services=[scheduler_service()])`: this process runs
    due jobs and crons for the lifetime of the app."""

    @contextlib.asynccontextmanager
    async def service(state: Any) -> AsyncIterator[Scheduler]:
        scheduler = state.scheduler = Scheduler(state.runtime, poll_s).start()
        try:
            yield scheduler
        finally:
            await scheduler.stop()

    return service
