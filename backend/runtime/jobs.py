"""Scheduled jobs: the runtime's own tables and `ctx.scheduler`, which queues a function
to run later (Convex's `runAfter` / `runAt`).

    @mutation
    async def remind(ctx: Ctx, note_id: NoteId) -> None:
        await ctx.scheduler.run_after(60, "notes:send", {"note_id": note_id})

Inside a mutation the job is written in the mutation's own transaction: it exists only if
the mutation commits. The scheduler (backend/runtime/scheduler.py) runs it as the system.

Tables (created by `plutarc db migrate`, next to the change-capture triggers):
- `scheduled_jobs`: one row per job. state: pending → done, or → failed after
  `max_attempts` failures (`last_error` says why); `running` only for actions, whose
  `lease_until` lets another process take the job over if the runner died.
- `cron_ticks`: per cron function, its schedule and the next tick not yet queued.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from backend.runtime.errors import BadRequest
from backend.runtime.jsonvalue import to_jsonable

if TYPE_CHECKING:
    from backend.runtime.executor import Executor
    from backend.runtime.runner import Runtime

MAX_ATTEMPTS = 5

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS scheduled_jobs (
    id bigserial PRIMARY KEY,
    path text NOT NULL,
    args jsonb NOT NULL DEFAULT '{}',
    run_at timestamptz NOT NULL,
    state varchar(16) NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts int NOT NULL DEFAULT 0,
    max_attempts int NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    lease_until timestamptz,
    last_error text,
    cron varchar(200),
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS scheduled_jobs_due ON scheduled_jobs (run_at, id)
    WHERE state IN ('pending', 'running');
CREATE TABLE IF NOT EXISTS cron_ticks (
    path text PRIMARY KEY,
    schedule varchar(200) NOT NULL,
    next_at timestamptz NOT NULL
);
"""


async def install_jobs_schema(conn: Any) -> None:
    """Create the scheduler's tables if missing (idempotent)."""
    await conn.execute(SCHEMA_SQL)


async def enqueue(
    db: Executor, runtime: Runtime, path: str, args: dict[str, Any] | None, run_at: datetime,
    cron: str | None = None, max_attempts: int = MAX_ATTEMPTS,
) -> int:
    """Queue `path(args)` at `run_at` on `db`'s transaction; returns the job id.

    The path and arguments are checked now, so a mistake fails the scheduling call.
    """
    fdef = runtime.lookup_any(path)
    if fdef.kind == "query":
        raise BadRequest(f"{path} is a query: schedule mutations or actions", field="path")
    fdef.args.validate(args or {})
    return await db.fetchval(
        "INSERT INTO scheduled_jobs (path, args, run_at, max_attempts, cron) "
        "VALUES ($1, $2::jsonb, $3, $4, $5) RETURNING id",
        path, to_jsonable(args or {}), run_at, max_attempts, cron,
    )


class JobQueue:
    """`ctx.scheduler`: queue functions on the caller's transaction (see module docstring)."""

    def __init__(self, db: Executor, runtime: Runtime) -> None:
        self._db = db
        self._runtime = runtime

    async def run_after(
        self, seconds: float, path: str, args: dict[str, Any] | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> int:
        """Run `path(args)` `seconds` from now (by the scheduler's clock); the job id."""
        if seconds < 0:
            raise BadRequest("seconds must be >= 0", field="seconds")
        when = self._runtime.clock.now() + timedelta(seconds=seconds)
        return await enqueue(self._db, self._runtime, path, args, when, None, max_attempts)

    async def run_at(
        self, when: datetime, path: str, args: dict[str, Any] | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> int:
        """Run `path(args)` at `when` (an aware datetime); the job id."""
        if when.tzinfo is None:
            raise BadRequest("when must carry a time zone", field="when")
        return await enqueue(self._db, self._runtime, path, args, when, None, max_attempts)
