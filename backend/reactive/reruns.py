"""The engine's own database connections ("lanes"), and a cycle's re-runs in parallel on one
snapshot.

A cycle opens a READ ONLY, REPEATABLE READ transaction on one lane (the leader) and reads its
snapshot S. When it has many queries to run (PARALLEL_FROM), the leader exports S (`pg_export_snapshot()`)
and up to `lanes - 1` more lanes import it (`SET TRANSACTION SNAPSHOT`): every query still
reads S, and PostgreSQL works on several of them at once. The lanes are the engine's own
connections, not the pool's: no acquire/reset round trips, no competing with mutations.

Each re-run
- runs without a savepoint unless its query once hit a SQL error (`savepoint(job)` says): a
  SQL error aborts its lane's transaction, so that lane takes no more jobs this cycle (the
  results it already has stand, they were read in S) and the job is marked for a savepoint;
- has a time limit, `timeout`: past it the lane's connection is terminated (PostgreSQL drops
  the statement) and the job's result is a `timeout` error (the limit interrupts a query
  waiting on the database, which is where a query's time goes; Python code that never
  awaits the database is not interrupted);
- is waited for at most `budget` seconds by its cycle once other work waits (changes, new
  subscriptions): jobs still running then finish in the background and are handed to
  `on_late` with S; jobs not started by then are returned unrun. So one slow query never
  holds up other work for longer than `budget`.

Invariant: a lane in `_idle` has no open transaction; a lane is in at most one of `_idle`,
a running cycle, or a late job.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg

from backend.db.pool import init_connection
from backend.reactive.version import Snapshot
from backend.runtime.executor import Executor

log = logging.getLogger(__name__)

APPLICATION_NAME = "plutarc-reruns"
BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
MAX_LATE = 8  # lanes that may be busy with late jobs at once (beyond `lanes`)
PARALLEL_FROM = 32  # re-runs in a cycle from which it runs them on several lanes (default)

type RunJob[J, R] = Callable[[Executor, J], Awaitable[R]]
type TimedOut[J, R] = Callable[[Executor, J], R]
type OnLate[J, R] = Callable[[J, R | None, Snapshot], None]  # None: not run (lane lost)


@dataclass(eq=False)
class Lane:
    """One connection of the engine; `failed` once a SQL error aborted its transaction."""

    conn: asyncpg.Connection
    failed: bool = False
    dead: bool = False


@dataclass
class Outcome[J: Hashable, R]:
    """What a cycle's `run` got: results read in S, jobs not started, jobs gone late."""

    done: dict[J, R] = field(default_factory=dict)
    unstarted: list[J] = field(default_factory=list)
    late: list[J] = field(default_factory=list)


class Lanes:
    """The engine's connections; see the module docstring."""

    def __init__(
        self, dsn: str, lanes: int = 3, timeout: float = 5.0, budget: float = 0.1,
        parallel_from: int = PARALLEL_FROM,
    ) -> None:
        if lanes < 1 or timeout <= 0 or budget <= 0 or parallel_from < 2:
            raise ValueError("lanes must be >= 1, timeout and budget > 0, parallel_from >= 2")
        self.dsn = dsn
        self.size = lanes
        self.parallel_from = parallel_from
        self.timeout = timeout
        self.budget = budget
        self._idle: list[Lane] = []
        self._busy = 0  # lanes out of _idle (in a cycle or running a late job)
        self._freed = asyncio.Event()
        self._fence: asyncpg.Connection | None = None
        self._closed = False

    async def _open(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(
            self.dsn, server_settings={"application_name": APPLICATION_NAME, "timezone": "UTC"})
        await init_connection(conn)
        return conn

    async def fence_connection(self) -> asyncpg.Connection:
        """A connection outside any transaction, for fences (reopened when lost)."""
        if self._fence is None or self._fence.is_closed():
            self._fence = await self._open()
        return self._fence

    def drop_fence_connection(self) -> None:
        conn, self._fence = self._fence, None
        if conn is not None:
            conn.terminate()

    def close(self) -> None:
        """Close the idle lanes and the fence connection (late lanes close as they finish)."""
        self._closed = True
        for lane in self._idle:
            lane.conn.terminate()
        self._idle.clear()
        self.drop_fence_connection()

    async def _take(self) -> Lane:
        while not self._idle and self._busy >= self.size + MAX_LATE:
            self._freed.clear()
            await self._freed.wait()
        self._busy += 1
        if self._idle:
            return self._idle.pop()
        try:
            return Lane(await self._open())
        except BaseException:
            self._busy -= 1
            raise

    async def _give_back(self, lane: Lane) -> None:
        """End the lane's transaction and make it idle (or drop it if its connection is gone)."""
        try:
            if self._closed:
                lane.conn.terminate()
            elif not lane.dead:
                await lane.conn.execute("ROLLBACK" if lane.failed else "COMMIT")
                lane.failed = False
                self._idle.append(lane)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            lane.conn.terminate()
        finally:
            self._busy -= 1
            self._freed.set()

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Cycle]:
        """Open a cycle: a transaction on the leader lane, and its snapshot S."""
        leader = await self._take()
        try:
            await leader.conn.execute(BEGIN)
            snapshot = Snapshot.parse(await leader.conn.fetchval("SELECT pg_current_snapshot()::text"))
        except BaseException:
            _kill(leader)
            await self._give_back(leader)
            raise
        cycle = Cycle(self, leader, snapshot)
        try:
            yield cycle
        finally:
            await cycle.finish()


def _kill(lane: Lane) -> None:
    lane.dead = True
    lane.conn.terminate()


LINK_ERRORS = (OSError, asyncpg.InterfaceError, asyncpg.exceptions.ConnectionDoesNotExistError)


class Cycle:
    """One cycle's transaction(s), all reading `snapshot`."""

    def __init__(self, lanes: Lanes, leader: Lane, snapshot: Snapshot) -> None:
        self.lanes = lanes
        self.snapshot = snapshot
        self._mine: list[Lane] = [leader]  # lanes this cycle gives back when it ends

    async def _import(self, snapshot_id: str) -> Lane | None:
        lane = await self.lanes._take()
        try:
            await lane.conn.execute(f"{BEGIN}; SET TRANSACTION SNAPSHOT '{snapshot_id}'")
        except (*LINK_ERRORS, asyncpg.PostgresError):
            _kill(lane)
            await self.lanes._give_back(lane)
            return None
        return lane

    async def _lanes_for(self, jobs: int) -> list[Lane]:
        # an export and its imports cost round trips and PostgreSQL CPU; on a busy host they
        # only pay for a big batch (a wave, a burst), not for a cycle of a few re-runs
        extra = self.lanes.size - 1 if jobs >= self.lanes.parallel_from else 0
        if not extra:
            return list(self._mine)
        snapshot_id = await self._mine[0].conn.fetchval("SELECT pg_export_snapshot()")
        imported = await asyncio.gather(*(self._import(snapshot_id) for _ in range(extra)))
        self._mine.extend(lane for lane in imported if lane is not None)
        return list(self._mine)

    async def run[J: Hashable, R](
        self, jobs: list[J], run: RunJob[J, R], timed_out: TimedOut[J, R],
        savepoint: Callable[[J], bool], on_late: OnLate[J, R],
        unwaited: Callable[[], bool] = lambda: False,
    ) -> Outcome[J, R]:
        """Run `jobs` (taken in order by parallel lanes) in this cycle's snapshot; see the module
        docstring for what happens past the budget and the time limit. While jobs are left to
        start and `unwaited()` says nothing else waits for a cycle, the cycle runs on past the
        budget, a budget at a time (a stampede with no other work goes in fewer, longer
        cycles); jobs still running when none is left to start go late."""
        outcome: Outcome[J, R] = Outcome()
        if not jobs:
            return outcome
        queue = deque(jobs)
        current: dict[Lane, J] = {}
        closed = False

        async def work(lane: Lane) -> None:
            while queue and not closed and not lane.failed and not lane.dead:
                job = current[lane] = queue.popleft()
                result = await self._one(lane, job, run, timed_out, savepoint(job))
                del current[lane]
                if closed:  # the cycle went on without this job: hand it over late
                    on_late(job, result, self.snapshot)
                    await self.lanes._give_back(lane)
                    return
                if result is None:
                    queue.appendleft(job)  # its lane's connection was lost: another lane runs it
                else:
                    outcome.done[job] = result

        tasks = {asyncio.create_task(work(lane)): lane for lane in await self._lanes_for(len(jobs))}
        pending: set[asyncio.Task[None]] = set(tasks)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=self.lanes.budget)
            if not queue or not unwaited():  # only running ones left: slow, let them go late
                break
        closed = True
        for task in pending:
            lane = tasks[task]
            self._mine.remove(lane)  # its worker gives it back when its job ends
            outcome.late.append(current[lane])
        outcome.unstarted.extend(queue)
        return outcome

    async def _one[J: Hashable, R](
        self, lane: Lane, job: J, run: RunJob[J, R], timed_out: TimedOut[J, R],
        savepoint: bool,
    ) -> R | None:
        """One job on `lane`: its result, or None when the lane's connection was lost."""
        executor = Executor(lane.conn)
        expired = False

        def expire() -> None:  # past the limit: PostgreSQL drops the statement with the link
            nonlocal expired
            expired = True
            _kill(lane)

        watchdog = asyncio.get_running_loop().call_later(self.lanes.timeout, expire)
        try:
            if savepoint:
                await lane.conn.execute("SAVEPOINT plutarc_rerun")
            result = await run(executor, job)
            if expired:  # it caught the lost connection's error itself
                raise asyncpg.exceptions.ConnectionDoesNotExistError("re-run over its time limit")
            if executor.failed:
                if not savepoint:
                    lane.failed = True  # its transaction is aborted: no more jobs on it
                else:
                    await lane.conn.execute("ROLLBACK TO SAVEPOINT plutarc_rerun")
            elif savepoint:
                await lane.conn.execute("RELEASE SAVEPOINT plutarc_rerun")
            return result
        except LINK_ERRORS:
            if expired:
                return timed_out(executor, job)
            log.warning("a re-run connection was lost; its job runs on another", exc_info=True)
            _kill(lane)
            return None
        finally:
            watchdog.cancel()

    async def finish(self) -> None:
        """End the cycle's transactions (lanes with a late job end theirs when it finishes)."""
        await asyncio.gather(*(self.lanes._give_back(lane) for lane in self._mine))
        self._mine.clear()
