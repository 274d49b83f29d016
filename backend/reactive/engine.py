"""The subscription engine: shared query executions, batched consistent re-runs, dispatch.

One cycle:
1. open a READ ONLY, REPEATABLE READ transaction and read its snapshot S;
2. send a fence notice and wait until the listener delivers it: notices arrive in commit
   order, so by then every notice of every commit visible in S has arrived;
3. take the pending changes visible in S (the rest wait for a later cycle), find the queries
   they can touch (the invalidation index, on old and new values), add new subscriptions;
4. re-run those queries inside S; then, without yielding, install every new value and read
   set and mark each client's changed subscriptions — so a client's writer only ever sees
   values that are all current at S. S (as text) is the version of the transition.

Invariants: after a cycle at S, every live query's value equals its result at S (queries not
re-run were not touched by any commit visible in S since their last run). A query is shared
by every subscription with the same (path, args, auth scope).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from backend.auth.tokens import still_valid
from backend.limits import get_limits
from backend.reactive.catalog import load_catalog
from backend.reactive.invalidation import InvalidationIndex
from backend.reactive.listener import Change, Listener
from backend.reactive.readset import ReadSet, ReadSets
from backend.reactive.session import ClientSession
from backend.reactive.stats import Stats
from backend.reactive.version import Snapshot
from backend.runtime.context import Auth
from backend.runtime.errors import ApiError, TooLarge
from backend.runtime.executor import Executor
from backend.runtime.jsonvalue import to_jsonable
from backend.runtime.registry import FunctionDef
from backend.runtime.runner import Runtime

log = logging.getLogger(__name__)

FENCE_TIMEOUT_S = 2.0
# a change to these tables may revoke a connected client's credential; expiry needs a sweep
CREDENTIAL_TABLES = frozenset({"sessions", "bot_tokens"})
CREDENTIAL_SWEEP_S = 15.0
HISTORY = 4  # earlier values kept per query, so a resuming client can get a diff
# while a client waits for an xid that is still running, re-check at most this often (a wait
# alone used to re-run the cycle back to back: ~1,600 cycles/s for one waiting socket)
WAIT_RECHECK_S = 0.05


def value_hash(value: Any) -> tuple[str, int]:
    """The value's hash and its size in bytes as JSON."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.blake2b(text, digest_size=12).hexdigest(), len(text)


@dataclass(eq=False)
class SharedQuery:
    """One execution shared by all subscriptions with the same path, args and auth scope."""

    key: tuple[str, str, str]
    fdef: FunctionDef
    args: dict[str, Any]
    auth: Auth
    computed: bool = False
    value: Any = None
    hash: str = ""
    size: int = 0  # bytes of `value` as JSON; never above the value_bytes limit
    error: dict[str, Any] | None = None
    readset: ReadSet | None = None
    subscribers: set[tuple[ClientSession, str]] = field(default_factory=set)
    history: OrderedDict[str, Any] = field(default_factory=OrderedDict)


@dataclass
class RunResult:
    value: Any = None
    hash: str = ""
    size: int = 0
    error: dict[str, Any] | None = None
    readset: ReadSet = field(default_factory=ReadSet)


class Engine:
    """Owns the listener, the shared queries, the invalidation index and the cycle loop.

    `targeted=False` re-runs every query reading a changed table (the benchmark's baseline).
    """

    def __init__(self, runtime: Runtime, dsn: str, targeted: bool = True) -> None:
        self.runtime = runtime
        self.targeted = targeted
        self.listener = Listener(dsn, self._on_changes, self._on_reset)
        self.index = InvalidationIndex()
        self.readsets = ReadSets()
        self.queries: dict[tuple[str, str, str], SharedQuery] = {}
        self.sessions: set[ClientSession] = set()
        # live subscriptions per auth scope (the per-user limit); == sum of len(session.subs)
        self.scope_subscriptions: Counter[str] = Counter()
        self.stats = Stats()
        self.version: Snapshot | None = None
        self._pending: list[Change] = []
        self._new: set[SharedQuery] = set()
        self._rerun_all = False
        self._wake = asyncio.Event()
        self._credentials_changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

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

    # listener callbacks (never block: the listener waits for them) -----------------------

    async def _on_changes(self, changes: list[Change]) -> None:
        self._pending.extend(changes)
        self._wake.set()
        if any(c.table in CREDENTIAL_TABLES for c in changes):
            self._credentials_changed.set()

    async def _on_reset(self) -> None:
        self._pending.clear()
        self._rerun_all = True
        self._wake.set()

    # sessions and subscriptions --------------------------------------------------------

    def attach(self, session: ClientSession) -> None:
        self.sessions.add(session)

    def detach(self, session: ClientSession) -> None:
        for sub_id in list(session.subs):
            self.unsubscribe(session, sub_id)
        self.sessions.discard(session)

    def subscribe(
        self, session: ClientSession, sub_id: str, path: str, raw_args: Any,
        known_hash: str | None = None, internal_ok: bool = False,
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
            self._new.add(query)
            self._wake.set()
        query.subscribers.add((session, sub_id))
        session.subs[sub_id] = query
        session.hold(sub_id, known_hash, query.history | ({query.hash: query.value} if query.computed else {}))
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
        if not query.subscribers:
            self.queries.pop(query.key, None)
            self.index.remove(query)
            self._new.discard(query)

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

    async def _fence(self) -> bool:
        """Wait until every notice committed before now has been delivered."""
        try:
            async with self.runtime.pool.acquire() as conn:
                await self.listener.fence(conn, FENCE_TIMEOUT_S)
            return True
        except (TimeoutError, OSError, asyncpg.PostgresError):
            log.warning("fence not delivered in %.1fs; re-running every query", FENCE_TIMEOUT_S)
            return False

    def _select(self, snapshot: Snapshot, rerun_all: bool) -> set[SharedQuery]:
        visible = [c for c in self._pending if snapshot.includes(c.xid)]
        self._pending = [c for c in self._pending if not snapshot.includes(c.xid)]
        if rerun_all:
            return set(self.queries.values())
        if self.targeted:
            touched = self.index.affected(visible)
        else:
            touched = self._reading_tables({c.table for c in visible})
        for query in touched:
            self.stats.path(query.fdef.path).invalidations += 1
        return touched | self._new

    def _reading_tables(self, tables: set[str]) -> set[SharedQuery]:
        """Untargeted invalidation (the benchmark's baseline): every query reading a table."""
        return {
            q for q in self.queries.values()
            if q.readset is not None and (
                q.readset.everything or tables & (q.readset.tables | {k[0] for k in q.readset.keys}))
        }

    async def _cycle(self) -> None:
        started = time.perf_counter()
        async with self.runtime.pool.acquire() as conn:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                snapshot = Snapshot.parse(await conn.fetchval("SELECT pg_current_snapshot()::text"))
                fence_started = time.perf_counter()
                fenced = await self._fence()
                self.stats.fence_seconds += time.perf_counter() - fence_started
                rerun_all, self._rerun_all = self._rerun_all or not fenced, False
                to_run = self._select(snapshot, rerun_all)
                results: dict[SharedQuery, RunResult] = {}
                for query in to_run:
                    results[query] = await self._run(conn, query)
        self._install(snapshot, results)
        self.stats.cycle_seconds += time.perf_counter() - started

    async def _run(self, conn: Any, query: SharedQuery) -> RunResult:
        started = time.perf_counter()
        executor = Executor(conn)
        try:
            value = to_jsonable(await self.runtime.run_query_on(
                executor, query.fdef, query.args, query.auth))
            digest, size = value_hash(value)
            result = RunResult(value, digest, size)
            if size > (limit := get_limits().value_bytes):
                result = RunResult(error=TooLarge(
                    f"the value of {query.fdef.path} is {size} bytes, above {limit} "
                    "(PLUTARC_LIMIT_VALUE_BYTES): ask for less (a smaller limit or page)",
                ).to_json())
        except ApiError as exc:
            result = RunResult(error=exc.to_json())
        except Exception:
            log.exception("subscribed query %s failed", query.fdef.path)
            result = RunResult(error={"code": "internal", "message": "query failed", "field": None})
        stats = self.stats.path(query.fdef.path)
        stats.reruns += 1
        stats.rerun_seconds += time.perf_counter() - started
        # what it read before failing counts too: a row appearing may cure the error
        result.readset = self.readsets.readset((s.sql, s.params) for s in executor.statements)
        return result

    def _install(self, snapshot: Snapshot, results: dict[SharedQuery, RunResult]) -> None:
        """Apply a cycle's results and notify clients; no awaits, so writers see it whole."""
        version = str(snapshot)
        self.version = snapshot
        self.stats.cycles += 1
        touched: dict[ClientSession, set[str]] = {}
        for query, result in results.items():
            self._new.discard(query)
            if query.key not in self.queries:
                continue  # unsubscribed meanwhile
            self.index.remove(query)
            self.index.add(query, result.readset)
            query.readset = result.readset
            changed = not query.computed or result.error != query.error
            if result.error is None and result.hash != query.hash:
                if query.computed:
                    query.history[query.hash] = query.value
                    while len(query.history) > HISTORY:
                        query.history.popitem(last=False)
                query.value, query.hash, changed = result.value, result.hash, True
                query.size = result.size
            query.error, query.computed = result.error, True
            if changed:
                for session, sub_id in query.subscribers:
                    touched.setdefault(session, set()).add(sub_id)
        for session in self.sessions:
            reached = {x for x in session.waiting if snapshot.includes(x)}
            session.waiting -= reached
            if session in touched or reached:
                session.mark(touched.get(session, set()), version, bump=bool(reached))
            elif session.subs:
                session.version = version
        if self._new or self._pending:
            self._wake.set()
        elif any(s.waiting for s in self.sessions):
            asyncio.get_running_loop().call_later(WAIT_RECHECK_S, self._wake.set)
