"""The subscription engine: shared query executions, batched consistent re-runs, dispatch.

One cycle:
1. open a READ ONLY, REPEATABLE READ transaction on the engine's own connection and read its
   snapshot S (reruns.py);
2. unless the listener already delivered a notice of a commit S does not include (notices
   arrive in commit order, so every commit S includes was delivered before it), send a fence
   notice and wait until the listener delivers it: then every notice of every commit visible
   in S has arrived;
3. take the pending changes visible in S (the rest wait for a later cycle), find the queries
   they can touch (the invalidation index, on old and new values), add new subscriptions
   and a wave of stale ones (backlog.py: a stampede is spread over cycles);
4. re-run those queries in S, on parallel connections that import S, each with a time
   limit, the cycle waiting at most a budget for them (reruns.py); then, without yielding,
   install every new value and read set and mark each client's changed subscriptions - so a
   client's writer only ever sees values that are all current at S. S (as text) is the
   version of the transition. Queries the cycle could not finish are stale: the sessions
   holding them wait, no one else does.

Invariants: after a cycle at S, every live query that is not stale has the value of its
result at S (queries not re-run were not touched by any commit visible in S since their last
run). A query is shared by every subscription with the same (path, args, auth scope).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import logging
import time
from collections import Counter
from typing import Any

import asyncpg

from backend.auth.tokens import still_valid
from backend.limits import get_limits
from backend.reactive.backlog import Backlog
from backend.reactive.catalog import load_catalog
from backend.reactive.invalidation import InvalidationIndex
from backend.reactive.listener import Change, Listener
from backend.reactive.readset import ReadSets
from backend.reactive.reruns import LINK_ERRORS, PARALLEL_FROM, Lanes
from backend.reactive.retained import Retained
from backend.reactive.session import ClientSession
from backend.reactive.shared import RunResult, SharedQuery, fingerprint
from backend.reactive.stats import Stats
from backend.reactive.version import Snapshot
from backend.runtime.errors import ApiError, TooLarge
from backend.runtime.executor import Executor
from backend.runtime.jsonvalue import to_jsonable
from backend.runtime.runner import Runtime

log = logging.getLogger(__name__)

FENCE_TIMEOUT_S = 2.0
FENCE_GRACE_S = 0.002  # how long a cycle waits for a later commit's notice instead of a fence
FLOWING_S = 0.01  # changes came this recently: writes are flowing, a later notice is due
# a change to these tables may revoke a connected client's credential; expiry needs a sweep
CREDENTIAL_TABLES = frozenset({"sessions", "bot_tokens"})
CREDENTIAL_SWEEP_S = 15.0
# while a client waits for an xid that is still running, re-check at most this often
WAIT_RECHECK_S = 0.05
FREEZE_AFTER = 1_000  # new queries since the last gc.freeze() that trigger another


class Engine:
    """Owns the listener, the shared queries, the invalidation index and the cycle loop.

    `targeted=False` re-runs every query reading a changed table (the benchmark's baseline).
    `lanes`, `rerun_timeout`, `budget` and `parallel_from` are the re-run connections, the
    time limit of one re-run, how long a cycle waits for its re-runs and from how many re-runs
    a cycle uses several connections (reruns.py); `wave` caps the re-runs of one cycle
    (backlog.py). `always_savepoint`, `fence_skip` and `gc_freeze` turn single optimisations
    off, so bench/reactive_scale.py measures each one's gain in the same run.
    """

    def __init__(
        self, runtime: Runtime, dsn: str, targeted: bool = True, *, lanes: int = 3,
        rerun_timeout: float = 5.0, budget: float = 0.1, wave: int = 500,
        parallel_from: int = PARALLEL_FROM, always_savepoint: bool = False,
        fence_skip: bool = True, gc_freeze: bool = True,
    ) -> None:
        self.runtime = runtime
        self.always_savepoint, self.fence_skip, self.gc_freeze = always_savepoint, fence_skip, gc_freeze
        self.targeted = targeted
        self.listener = Listener(dsn, self._on_changes, self._on_reset)
        self.lanes = Lanes(dsn, lanes, rerun_timeout, budget, parallel_from)
        self.index = InvalidationIndex()
        self.readsets = ReadSets()
        self.queries: dict[tuple[str, str, str], SharedQuery] = {}
        self.sessions: set[ClientSession] = set()
        # live subscriptions per auth scope (the per-user limit); == sum of len(session.subs)
        self.scope_subscriptions: Counter[str] = Counter()
        self.backlog = Backlog(wave)
        self.retained = Retained()
        self.stats = Stats()
        self.version: Snapshot | None = None
        self._pending: list[Change] = []
        self._new: set[SharedQuery] = set()
        self._rerun_all = False
        self._wake = asyncio.Event()
        self._credentials_changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._frozen_at = 0  # len(self.queries) at the last gc.freeze()
        self._arrived = asyncio.Event()  # set by every batch of changes
        self._last_changes = 0.0  # time.monotonic() of the last batch

    def _writes_flowing(self) -> bool:
        return time.monotonic() - self._last_changes < FLOWING_S

    # lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        async with self.runtime.pool.acquire() as conn:
            self.readsets = ReadSets(await load_catalog(conn))
        await self.listener.start()
        self._tasks = [
            asyncio.create_task(self._loop(), name="plutarc-reactive-cycle"),
            asyncio.create_task(self._watch_credentials(), name="plutarc-credentials"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.listener.stop()
        self.lanes.close()

    # listener callbacks (never block: the listener waits for them) -----------------------

    async def _on_changes(self, changes: list[Change]) -> None:
        self._pending.extend(changes)
        self._last_changes = time.monotonic()
        self._arrived.set()
        self._wake.set()
        if any(c.table in CREDENTIAL_TABLES for c in changes):
            self._credentials_changed.set()

    async def _on_reset(self) -> None:
        self._pending.clear()
        self._rerun_all = True
        self._wake.set()

    # sessions and subscriptions --------------------------------------------------------

    def attach(self, session: ClientSession) -> None:
        session.stale_anywhere = lambda: bool(self.backlog)
        self.sessions.add(session)

    def detach(self, session: ClientSession) -> None:
        for sub_id in list(session.subs):
            self.unsubscribe(session, sub_id)
        self.sessions.discard(session)

    def subscribe(
        self, session: ClientSession, sub_id: str, path: str, raw_args: Any,
        known_hash: str | None = None, internal_ok: bool = False, epoch: int = 1,
    ) -> None:
        """Add a subscription; raises ApiError for an unknown path or bad arguments.
        `internal_ok`: an in-process subscriber (never a client) may follow internal queries."""
        if sub_id in session.subs:
            self.unsubscribe(session, sub_id)
        fdef = self.runtime.lookup("query", path, internal_ok)
        args = fdef.args.validate(raw_args)
        key = (path, json.dumps(to_jsonable(args), sort_keys=True), session.auth.scope)
        query = self.queries.get(key)
        if query is None:
            query = self.queries[key] = SharedQuery(key, fdef, args, session.auth)
            query.history.update(self.retained.take(key))
            self._new.add(query)
            self._wake.set()
        query.subscribers.add((session, sub_id))
        session.subs[sub_id] = query
        session.epochs[sub_id] = epoch
        session.hold(sub_id, known_hash, query)
        self.stats.path(path).subscribers += 1
        self.scope_subscriptions[session.auth.scope] += 1
        if query.computed:
            session.mark({sub_id}, str(self.version) if self.version else None)

    def unsubscribe(self, session: ClientSession, sub_id: str) -> None:
        query = session.subs.get(sub_id)
        session.forget(sub_id)
        if query is None:
            return
        query.subscribers.discard((session, sub_id))
        self.stats.path(query.fdef.path).subscribers -= 1
        self.scope_subscriptions[session.auth.scope] -= 1
        if not self.scope_subscriptions[session.auth.scope]:
            del self.scope_subscriptions[session.auth.scope]
        if not query.subscribers and self.queries.get(query.key) is query:
            del self.queries[query.key]
            self.index.remove(query)
            self._new.discard(query)
            self.backlog.done(query)
            self.retained.keep(query.key, query.known_values())

    def reload(self, paths: set[str]) -> int:
        """The functions at `paths` were redefined (`plutarc dev`): their live queries switch
        to the new definitions and re-run in the next cycle; how many will re-run. A query
        whose function is gone or no longer accepts its arguments gets that error."""
        count = 0
        for query in [q for q in self.queries.values() if q.fdef.path in paths]:
            try:
                fdef = self.runtime.lookup("query", query.fdef.path)
                query.fdef, query.args = fdef, fdef.args.validate(json.loads(query.key[1]))
            except ApiError as exc:
                query.error, query.computed = exc.to_json(), True
                for session, sub_id in query.subscribers:
                    session.mark({sub_id}, str(self.version) if self.version else None)
                continue
            self._new.add(query)
            count += 1
        self._wake.set()
        return count

    def refresh(self) -> None:
        """Run a cycle soon even if no notice arrives (for tools that wait for a version)."""
        self._wake.set()

    def wait_for(self, session: ClientSession, xid: int) -> None:
        """Answer the session with a transition once the version includes `xid`."""
        if self.version is not None and self.version.includes(xid):
            session.mark(set(), str(self.version), bump=True)
        else:
            session.waiting.add(xid)
            self._wake.set()

    async def _watch_credentials(self) -> None:
        """End live sessions whose credential was revoked (logout, redeploy) or expired."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._credentials_changed.wait(), CREDENTIAL_SWEEP_S)
            self._credentials_changed.clear()
            sessions = [s for s in self.sessions if s.auth.kind != "anonymous" and not s.revoked]
            if not sessions:
                continue
            try:
                valid = await still_valid(self.runtime.pool, [s.auth for s in sessions])
            except (OSError, asyncpg.PostgresError):
                log.warning("could not check credentials of live sessions; retrying later")
                continue
            for session in sessions:
                if (session.auth.kind, session.auth.session_id) not in valid:
                    session.revoke()

    # the cycle -------------------------------------------------------------------------

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._cycle()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reactive cycle failed; re-running everything next cycle")
                self._rerun_all = True
                await asyncio.sleep(0.1)
                self._wake.set()

    def _later_commit_seen(self, snapshot: Snapshot) -> bool:
        return any(not snapshot.includes(c.xid) for c in self._pending)

    async def _fence(self, snapshot: Snapshot) -> bool:
        """Wait until every notice of a commit `snapshot` includes has been delivered.

        No fence is needed once a notice of a commit `snapshot` does not include has come
        (notices are queued in commit order, so every commit it includes was queued before).
        While writes flow, one such notice is due within moments: wait FENCE_GRACE_S for it
        before paying for a fence (a NOTIFY takes PostgreSQL's global notify lock)."""
        if self.fence_skip and not self._later_commit_seen(snapshot) and self._writes_flowing():
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), FENCE_GRACE_S)
            while self._arrived.is_set() and not self._later_commit_seen(snapshot):
                self._arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), FENCE_GRACE_S)
        if self.fence_skip and self._later_commit_seen(snapshot):
            self.stats.fences_skipped += 1
            return True
        started = time.perf_counter()
        try:
            await self.listener.fence(await self.lanes.fence_connection(), FENCE_TIMEOUT_S)
            return True
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            log.warning("fence not delivered in %.1fs; re-running every query", FENCE_TIMEOUT_S)
            self.lanes.drop_fence_connection()
            return False
        finally:
            self.stats.fences += 1
            self.stats.fence_seconds += time.perf_counter() - started

    def _select(self, snapshot: Snapshot, rerun_all: bool) -> list[SharedQuery]:
        """The queries to re-run in `snapshot`: new ones, touched ones, then a stale wave."""
        visible = [c for c in self._pending if snapshot.includes(c.xid)]
        self._pending = [c for c in self._pending if not snapshot.includes(c.xid)]
        self.backlog.record(visible)
        if rerun_all:
            self.backlog.wait([q for q in self.queries.values() if not self.backlog.late(q)])
            touched: set[SharedQuery] = set()
        elif self.targeted:
            touched = self.index.affected(visible, self.stats.hit)
        else:
            touched = self._reading_tables({c.table for c in visible})
        self.stats.invalidated(touched)
        touched = {q for q in touched if not self.backlog.late(q)}
        if len(touched) > self.backlog.wave_size:  # a stampede: spread it over cycles
            self.backlog.wait(touched)
            touched = set()
        new = list(itertools.islice(self._new, self.backlog.wave_size))  # the rest: next cycles
        self._new.difference_update(new)
        run = [q for q in new if not self.backlog.late(q)] + list(touched - set(new))
        return run + self.backlog.wave(self.backlog.wave_size - len(run), set(run))

    def _reading_tables(self, tables: set[str]) -> set[SharedQuery]:
        """Untargeted invalidation (the benchmark's baseline): every query reading a table."""
        return {
            q for q in self.queries.values()
            if q.readset is not None and (
                q.readset.everything or tables & (q.readset.tables | {k[0] for k in q.readset.keys}))
        }

    async def _cycle(self) -> None:
        started = time.perf_counter()
        async with self.lanes.snapshot() as cycle:
            snapshot = cycle.snapshot
            fenced = await self._fence(snapshot)
            rerun_all, self._rerun_all = self._rerun_all or not fenced, False
            to_run = self._select(snapshot, rerun_all)
            results = self.backlog.settle()
            batch = await cycle.run(to_run, self._run, self._timed_out,
                                    lambda q: self.always_savepoint or q.savepoint, self._on_late, self._unwaited)
            for query in batch.late:
                self.backlog.start_late(query)
        self.backlog.wait(batch.unstarted)
        self.stats.late += len(batch.late)
        results.update(batch.done)
        self._install(snapshot, results)
        self.stats.cycle_seconds += time.perf_counter() - started

    def _unwaited(self) -> bool:
        """Nothing waits for the next cycle: no change, no new subscription, no `wait`."""
        return not (self._pending or self._new or self._rerun_all
                    or any(s.waiting for s in self.sessions))

    def _on_late(self, query: SharedQuery, result: RunResult | None, _snapshot: Snapshot) -> None:
        self.backlog.end_late(query, result)
        self._wake.set()

    async def _run(self, executor: Executor, query: SharedQuery) -> RunResult:
        started = time.perf_counter()
        try:
            value = await self.runtime.run_query_on(executor, query.fdef, query.args, query.auth)
            result = RunResult(value=to_jsonable(value))
        except ApiError as exc:
            result = RunResult(error=exc.to_json())
        except LINK_ERRORS:
            raise  # the lane is lost, not the query: it runs again on another
        except Exception:
            log.exception("subscribed query %s failed", query.fdef.path)
            result = RunResult(error={"code": "internal", "message": "query failed", "field": None})
        if executor.failed:
            query.savepoint = True
        self.stats.rerun(query.fdef.path, time.perf_counter() - started, result.value,
                         result.error is not None)
        # what it read before failing counts too: a row appearing may cure the error
        statements = [(s.sql, s.params) for s in executor.statements]
        memo = query.readset_memo
        if memo is not None and memo[0] == statements:
            result.readset = memo[1]  # the same statements, no joined rows: the same read set
        else:
            result.readset = await self.readsets.readset_in(executor, statements)
            joins = any(self.readsets.shape(sql).lookups for sql, _ in statements)
            query.readset_memo = None if joins else (statements, result.readset)
        return result

    def _timed_out(self, executor: Executor, query: SharedQuery) -> RunResult:
        self.stats.path(query.fdef.path).timeouts += 1
        limit = self.lanes.timeout
        return RunResult(
            error={"code": "timeout", "message": f"query took longer than {limit:g} s", "field": None},
            readset=self.readsets.readset((s.sql, s.params) for s in executor.statements))

    def _install(self, snapshot: Snapshot, results: dict[SharedQuery, RunResult]) -> None:
        """Apply a cycle's results and notify clients; no awaits, so writers see it whole."""
        version = str(snapshot)
        self.version = snapshot
        self.stats.cycles += 1
        touched: dict[ClientSession, set[str]] = {}
        for query, result in results.items():
            if self.queries.get(query.key) is not query:
                continue  # unsubscribed meanwhile
            released = query.stale and query.computed
            self.backlog.done(query)
            self.index.add(query, result.readset)
            query.readset = result.readset
            if result.error is None:
                new_hash, size = fingerprint(result.value)
                self.stats.result(query.fdef.path, size)
                if size > (limit := get_limits().value_bytes):
                    result = RunResult(error=TooLarge(
                        f"the value of {query.fdef.path} is {size} bytes, above {limit} "
                        "(PLUTARC_LIMIT_VALUE_BYTES): ask for less (a smaller limit or page)",
                    ).to_json(), readset=result.readset)
            changed = not query.computed or result.error != query.error
            if result.error is None and new_hash != query.hash:
                query.remember()
                query.value, query.hash, changed = result.value, new_hash, True
                query.size = size
            query.error, query.computed = result.error, True
            if changed or released:
                for session, sub_id in query.subscribers:
                    subs = touched.setdefault(session, set())
                    if changed:
                        subs.add(sub_id)
        for session in self.sessions:
            reached = {x for x in session.waiting if snapshot.includes(x)}
            session.waiting -= reached
            if session in touched or reached:
                session.mark(touched.get(session, set()), version, bump=bool(reached))
            elif session.subs:
                session.version = version
        self._freeze_long_lived()
        self.stats.backlog = len(self.backlog)
        if self._new or self._pending or self.backlog.waiting:
            self._wake.set()
        elif any(s.waiting for s in self.sessions):
            # a wait alone re-checks at a bounded rate (back to back it was ~1,600 cycles/s)
            asyncio.get_running_loop().call_later(WAIT_RECHECK_S, self._wake.set)

    def _freeze_long_lived(self) -> None:
        """After a burst of subscriptions, move the long-lived objects out of the collected
        generations: a full collection over 10,000 queries took ~75 ms (bench/README.md)."""
        self._frozen_at = min(self._frozen_at, len(self.queries))
        if self.gc_freeze and len(self.queries) - self._frozen_at >= FREEZE_AFTER:
            gc.freeze()
            self._frozen_at = len(self.queries)
            self.stats.gc_freezes += 1
